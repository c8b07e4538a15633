"""Scaled dot-product attention, the Transformer's core, with its backward pass by hand:

    scores  = scale Q K^T + M          (*, L, S)   M: the mask, 0 or -inf (or any float)
    weights = softmax over the keys    (*, L, S)
    output  = weights V                (*, L, Ev)

PyTorch twin: ``torch.nn.functional.scaled_dot_product_attention`` (without dropout).
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary.nn.attention import kernels
from deepglossary.nn.core import Layer, as_input


def attention_mask(attn_mask, shape: tuple, dtype, layer: str, *, true_means: str):
    """``attn_mask`` checked and turned into ``(ignore, add)``: a boolean array of entries to
    drop (or None) and a float array to add to the scores (or None), both broadcastable to
    ``shape`` = (*, L, S).

    A boolean mask means "take part" (``true_means="keep"``, as in torch's
    ``scaled_dot_product_attention``) or "masked out" (``true_means="ignore"``, as in torch's
    ``MultiheadAttention``); a float mask is added to the scores (-inf drops an entry; NaN and
    +inf are refused)."""
    if attn_mask is None:
        return None, None
    mask = np.asarray(attn_mask)
    try:
        np.broadcast_shapes(mask.shape, shape)
        fits = mask.ndim <= len(shape) and np.broadcast_shapes(mask.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{layer}: the attention mask must broadcast to the scores' shape "
                         f"(*, L, S) = {shape}, got shape {mask.shape}")
    if mask.dtype == np.bool_:
        return (~mask if true_means == "keep" else mask), None
    if not np.issubdtype(mask.dtype, np.floating):
        raise TypeError(f"{layer}: the attention mask must be boolean or floating point, got "
                        f"dtype {mask.dtype}")
    if np.isnan(mask).any() or np.isposinf(mask).any():
        raise ValueError(f"{layer}: a float attention mask may hold -inf but not NaN or +inf")
    return None, mask.astype(dtype, copy=False)


def sdpa_forward(query, key, value, attn_mask=None, is_causal: bool = False,
                 scale: float | None = None, *, layer: str = "scaled_dot_product_attention"):
    """Forward of scaled dot-product attention; stores nothing.

    Args:
        query: (*, L, E); key: (*, S, E); value: (*, S, Ev); the leading dimensions ``*``
            (at least one) are the same for the three (torch also broadcasts them; we do not).
        attn_mask: None, a boolean array broadcastable to (*, L, S), True = take part (as
            torch), or a float array added to the scores.
        is_causal: mask out key j > query i (torch's top-left aligned ``tril``); then
            ``attn_mask`` must be None, as torch requires.
        scale: the factor of Q K^T; default 1/sqrt(E).
    Returns ``(output (*, L, Ev), weights (*, L, S), cache)``; ``cache`` goes to
    :func:`sdpa_backward`. A row of the weights with every key masked raises ValueError
    (torch's function returns zeros there, its ``MultiheadAttention`` NaN).
    """
    query = as_input(query, layer, min_ndim=3)
    key = as_input(key, layer, min_ndim=3)
    value = as_input(value, layer, min_ndim=3)
    for name, a in (("key", key), ("value", value)):
        if a.dtype != query.dtype:
            raise TypeError(f"{layer}: {name} has dtype {a.dtype} but query has {query.dtype}")
        if a.shape[:-2] != query.shape[:-2]:
            raise ValueError(f"{layer}: query, key and value need the same leading (batch) "
                             f"dimensions, got shapes {query.shape} and {name} {a.shape}")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{layer}: query and key need the same size E, got query "
                         f"{query.shape} and key {key.shape}")
    if value.shape[-2] != key.shape[-2]:
        raise ValueError(f"{layer}: key and value need the same length S, got key "
                         f"{key.shape} and value {value.shape}")
    lq, s = query.shape[-2], key.shape[-2]
    shape = query.shape[:-1] + (s,)                                      # (*, L, S)
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{layer}: give either attn_mask or is_causal=True, not both "
                             "(torch refuses the pair too)")
        attn_mask = np.tril(np.ones((lq, s), dtype=bool))                # (L, S) keep
    ignore, add = attention_mask(attn_mask, shape, query.dtype, layer, true_means="keep")
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = query @ np.swapaxes(key, -1, -2)                            # (*, L, S)
    scores *= factor
    if add is not None:
        scores += add
    weights = kernels.masked_softmax(scores, ignore, layer,              # (*, L, S)
                                     has_inf=add is not None and np.isneginf(add).any())
    output = weights @ value                                             # (*, L, Ev)
    return output, weights, (query, key, value, weights, factor)


def sdpa_backward(cache, grad_output, grad_weights=None):
    """Backward of :func:`sdpa_forward`: ``(d_query, d_key, d_value)`` from dL/doutput
    (*, L, Ev) and, optionally, dL/dweights (*, L, S). The float mask gets no gradient."""
    query, key, value, weights, factor = cache
    g, gw = kernels.check_grads("scaled_dot_product_attention", grad_output, grad_weights,
                                weights.shape[:-1] + value.shape[-1:], weights.shape)
    g = g.astype(value.dtype, copy=False)
    d_value = np.swapaxes(weights, -1, -2) @ g                   # W^T G          (*, S, Ev)
    d_weights = g @ np.swapaxes(value, -1, -2)                   # G V^T          (*, L, S)
    if gw is not None:
        d_weights += gw.astype(value.dtype, copy=False)
    d_scores = kernels.softmax_backward(weights, d_weights)      # (*, L, S)
    d_scores *= factor                                           # through scale Q K^T
    d_query = d_scores @ key                                     # dS K           (*, L, E)
    d_key = np.swapaxes(d_scores, -1, -2) @ query                # dS^T Q         (*, S, E)
    return d_query, d_key, d_value


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal: bool = False,
                                 scale: float | None = None) -> np.ndarray:
    """softmax(scale Q K^T + mask) V, forward only (see :func:`sdpa_forward` for the
    arguments, and :class:`ScaledDotProductAttention` for a layer with backward).
    PyTorch twin: ``torch.nn.functional.scaled_dot_product_attention`` (dropout_p=0)."""
    return sdpa_forward(query, key, value, attn_mask, is_causal, scale)[0]


class ScaledDotProductAttention(Layer):
    """Scaled dot-product attention as a layer, without parameters.

    ``forward(query, key, value, attn_mask=None) -> output``: query (*, L, E), key (*, S, E),
    value (*, S, Ev), output (*, L, Ev); ``attn_mask`` boolean (True = take part) or float
    (added), broadcastable to (*, L, S). The weights (*, L, S) of the latest call are kept in
    ``.weights``. ``backward(grad_output, grad_weights=None) -> (d_query, d_key, d_value)``.

    PyTorch twin: ``torch.nn.functional.scaled_dot_product_attention(query, key, value,
    attn_mask, is_causal=is_causal, scale=scale)``.
    """

    def __init__(self, *, is_causal: bool = False, scale: float | None = None):
        if scale is not None and not (isinstance(scale, int | float) and scale > 0):
            raise ValueError(f"ScaledDotProductAttention: scale must be a positive number or "
                             f"None, got {scale!r}")
        self.is_causal, self.scale = bool(is_causal), scale
        self.weights = None

    def __call__(self, query, key, value, attn_mask=None):
        """The mask may be given by keyword (``Layer.__call__`` takes none)."""
        return super().__call__(query, key, value, attn_mask)

    def forward(self, query, key, value, attn_mask=None):
        output, self.weights, self._cache = sdpa_forward(
            query, key, value, attn_mask, self.is_causal, self.scale,
            layer="ScaledDotProductAttention")
        return output

    def backward(self, grad_output, grad_weights=None):
        return sdpa_backward(self._saved(), grad_output, grad_weights)

    def extra_repr(self) -> str:
        return f"is_causal={self.is_causal}, scale={self.scale}"
