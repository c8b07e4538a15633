"""The torch twins of ``deepglossary.nn.attention``, built from ``torch.nn`` with our
parameter names, so that ``verify.against_torch`` copies our parameters into them.

PyTorch has no additive or Luong layer; these are the few lines of torch one writes for them.
Multi-head and scaled dot-product attention have real torch counterparts
(``torch.nn.MultiheadAttention``, ``torch.nn.functional.scaled_dot_product_attention``);
the functions here only wrap those so that they take and return what ours do.

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

from deepglossary.verify import torch_module


def _attend(torch, scores, keys, values, key_padding_mask):
    """Masked softmax over the keys and the weighted sum of the values, in torch."""
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)                          # (N, Tq, Tk)
    return weights @ (keys if values is None else values), weights


def additive_attention(layer):
    """Twin of :class:`~deepglossary.nn.AdditiveAttention`: ``query_proj``, ``key_proj`` and
    ``v`` are ``torch.nn.Linear`` layers without bias; forward ``(query, keys, values=None,
    key_padding_mask=None) -> (context, weights)``."""
    torch = torch_module()

    class TorchAdditiveAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.query_proj = torch.nn.Linear(layer.query_size, layer.hidden_size, bias=False)
            self.key_proj = torch.nn.Linear(layer.key_size, layer.hidden_size, bias=False)
            self.v = torch.nn.Linear(layer.hidden_size, 1, bias=False)

        def forward(self, query, keys, values=None, key_padding_mask=None):
            pre = self.query_proj(query)[:, :, None, :] + self.key_proj(keys)[:, None, :, :]
            scores = self.v(torch.tanh(pre)).squeeze(-1)               # (N, Tq, Tk)
            return _attend(torch, scores, keys, values, key_padding_mask)

    return TorchAdditiveAttention()


def multiplicative_attention(layer):
    """Twin of :class:`~deepglossary.nn.MultiplicativeAttention`: ``weight`` (query_size,
    key_size) for score="general", none for "dot"; same forward as
    :func:`additive_attention`'s."""
    torch = torch_module()
    general, factor = layer.score == "general", layer.key_size ** -0.5 if layer.scale else 1.0

    class TorchMultiplicativeAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if general:
                self.weight = torch.nn.Parameter(torch.empty(layer.query_size, layer.key_size))

        def forward(self, query, keys, values=None, key_padding_mask=None):
            kp = keys @ self.weight.T if general else keys
            scores = query @ kp.transpose(1, 2)
            if factor != 1.0:
                scores = scores * factor
            return _attend(torch, scores, keys, values, key_padding_mask)

    return TorchMultiplicativeAttention()


def multihead_attention(layer, *, need_weights: bool = True, average_attn_weights: bool = True):
    """Twin of :class:`~deepglossary.nn.MultiheadAttention`: ``torch.nn.MultiheadAttention``
    with the same sizes and flags (dropout 0), its forward bound to ``need_weights`` and
    ``average_attn_weights``: ``(query, key, value, key_padding_mask=None, attn_mask=None)
    -> (attn_output, attn_weights)``, or attn_output alone with need_weights=False (so that
    ``against_torch`` compares arrays only). Parameter names are torch's own, as ours."""
    torch = torch_module()

    class BoundMultiheadAttention(torch.nn.MultiheadAttention):
        def forward(self, query, key, value, key_padding_mask=None, attn_mask=None):
            out, weights = super().forward(query, key, value, key_padding_mask=key_padding_mask,
                                           need_weights=need_weights, attn_mask=attn_mask,
                                           average_attn_weights=average_attn_weights)
            return (out, weights) if need_weights else out

    return BoundMultiheadAttention(layer.embed_dim, layer.num_heads, bias=layer.bias,
                                   batch_first=layer.batch_first, kdim=layer.kdim,
                                   vdim=layer.vdim)


def scaled_dot_product_attention(*, is_causal: bool = False, scale=None):
    """``torch.nn.functional.scaled_dot_product_attention`` as a function of ``(query, key,
    value, attn_mask=None)``, the twin of :class:`~deepglossary.nn.ScaledDotProductAttention`."""
    torch = torch_module()

    def sdpa(query, key, value, attn_mask=None):
        return torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=attn_mask, is_causal=is_causal, scale=scale)

    return sdpa


def bind_multihead(layer, *, need_weights: bool = True, average_attn_weights: bool = True):
    """Our :class:`~deepglossary.nn.MultiheadAttention` with its forward flags fixed, so that
    ``against_torch`` (which passes its inputs positionally) can give the masks:
    ``layer(query, key, value, key_padding_mask=None, attn_mask=None)`` returns
    ``(attn_output, attn_weights)``, or attn_output alone with need_weights=False, like
    :func:`multihead_attention`'s twin. Changes ``layer``'s class in place and returns it;
    parameters, backward and everything else stay as they are."""
    from deepglossary.nn import Layer, MultiheadAttention

    if not isinstance(layer, MultiheadAttention):
        raise TypeError(f"bind_multihead takes a MultiheadAttention, got {type(layer).__name__}")
    base = next(c for c in type(layer).__mro__ if c.__dict__.get("_bound") is None)

    class BoundMultiheadAttention(base):
        _bound = True

        def __call__(self, *inputs):
            return Layer.__call__(self, *inputs)

        def forward(self, query, key, value, key_padding_mask=None, attn_mask=None):
            out, weights = super().forward(query, key, value, key_padding_mask, need_weights,
                                           attn_mask, average_attn_weights)
            return (out, weights) if need_weights else out

    layer.__class__ = BoundMultiheadAttention
    return layer
