"""The torch twin of :class:`deepglossary.models.Seq2Seq`, written the way PyTorch code
usually writes an encoder-decoder: ``torch.nn.Embedding``, ``torch.nn.GRU``/``LSTM`` over a
``pack_padded_sequence`` (so each source's final state is taken at its own last token),
teacher forcing, and Luong's global attention with ``masked_fill(-inf)`` before the softmax.
Parameter names equal ours, so ``verify.copy_parameters`` loads one into the other.

torch is imported when a function is called (``verify.torch_module``), never at import time.
"""

from __future__ import annotations

from deepglossary.verify import torch_module


def _score_module(torch, ours):
    """The twin of our attention score layer, with its parameter names (biases mirrored)."""
    names = {name: tuple(p.shape) for name, p in ours.named_parameters()}

    class Score(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.kind = ("additive" if "v.weight" in names else
                         "general" if "weight" in names else "dot")
            self.scale = bool(getattr(ours, "scale", False))
            if self.kind == "general":
                self.weight = torch.nn.Parameter(torch.empty(names["weight"]))
            if self.kind == "additive":
                for part in ("query_proj", "key_proj", "v"):
                    out_f, in_f = names[f"{part}.weight"]
                    setattr(self, part, torch.nn.Linear(in_f, out_f,
                                                        bias=f"{part}.bias" in names))

        def forward(self, q, k):                        # (N, T, Dq), (N, S, Dk) -> (N, T, S)
            if self.kind == "additive":
                mixed = torch.tanh(self.query_proj(q)[:, :, None] + self.key_proj(k)[:, None])
                return self.v(mixed)[..., 0]
            if self.kind == "general":
                k = k @ self.weight.T                   # q^T W k = q . (W k)
            scores = q @ k.transpose(1, 2)
            if self.scale:
                scores = scores / q.shape[-1] ** 0.5
            return scores

    return Score()


def seq2seq(model):
    """A fresh torch module computing what our ``model`` computes, same parameter names
    (values not copied: ``verify.copy_parameters``). ``forward(src, tgt, hx=None) -> logits``
    with src, tgt int64 tensors (N, S), (N, T) padded at the end, as ours."""
    torch = torch_module()
    rnn = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[model.cell]
    pack = torch.nn.utils.rnn

    class TorchSeq2Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            e, h, layers = model.embed_size, model.hidden_size, model.num_layers
            self.src_embed = torch.nn.Embedding(model.src_vocab, e)
            self.tgt_embed = torch.nn.Embedding(model.tgt_vocab, e)
            self.encoder = rnn(e, h, layers, batch_first=True)
            self.decoder = rnn(e, h, layers, batch_first=True)
            if model.attention_kind is not None:
                self.attention = _score_module(torch, model.attention)
                self.combine = torch.nn.Linear(2 * h, h, bias=False)
            self.out = torch.nn.Linear(h, model.tgt_vocab)

        def forward(self, src, tgt, hx=None):
            lengths = (src != model.pad).sum(dim=1)
            packed = pack.pack_padded_sequence(self.src_embed(src), lengths.cpu(),
                                               batch_first=True, enforce_sorted=False)
            enc, state = self.encoder(packed, hx)       # state at each source's last token
            enc, _ = pack.pad_packed_sequence(enc, batch_first=True,
                                              total_length=src.shape[1])
            bos = torch.full((len(tgt), 1), model.bos, dtype=tgt.dtype, device=tgt.device)
            dec_in = torch.cat([bos, tgt[:, :-1]], dim=1)           # teacher forcing
            top, _ = self.decoder(self.tgt_embed(dec_in), state)
            if model.attention_kind is not None:
                scores = self.attention(top, enc)                   # (N, T, S)
                padding = (torch.arange(src.shape[1], device=src.device)[None]
                           >= lengths[:, None])
                weights = torch.softmax(scores.masked_fill(padding[:, None], float("-inf")), -1)
                top = torch.tanh(self.combine(torch.cat([weights @ enc, top], dim=-1)))
            return self.out(top)

    return TorchSeq2Seq()


def from_initial_state(model, src, tgt):
    """The twin of :class:`deepglossary.models.seq2seq.FromInitialState`: the torch model as a
    function of the encoder's initial state, the token batches fixed; parameters
    ``model.*``."""
    torch = torch_module()
    inner = seq2seq(model)
    src_t, tgt_t = torch.as_tensor(src), torch.as_tensor(tgt)

    class TorchFromInitialState(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = inner

        def forward(self, hx):
            device = hx[0].device if isinstance(hx, tuple) else hx.device
            return self.model(src_t.to(device), tgt_t.to(device), hx)

    return TorchFromInitialState()
