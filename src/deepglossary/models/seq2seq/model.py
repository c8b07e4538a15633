"""The encoder-decoder (Sutskever et al., 2014; Cho et al., 2014), with optional global
attention (Luong et al., 2015): the training forward pass with teacher forcing, and its
backward pass written out by hand."""

from __future__ import annotations

import numpy as np

from deepglossary import nn
from deepglossary.models.seq2seq import decoding, encoder
from deepglossary.nn.core import Layer, check_float_dtype
from deepglossary.nn.softmax import log_softmax
from deepglossary.random import default_rng

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}
ATTENTION = (None, "dot", "general", "additive")


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"Seq2Seq: {name} must be a positive integer, got {value!r}")
    return int(value)


def tokens(ids, vocab: int, pad: int, what: str, *, nonempty: bool):
    """Check a batch of token ids (N, T), padded at the end; returns it and the lengths."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"Seq2Seq expects {what} token ids as integers, got dtype {ids.dtype}; "
                        "convert them first, e.g. ids.astype(np.int64)")
    if ids.ndim != 2 or ids.size == 0:
        raise ValueError(f"Seq2Seq expects {what} of shape (N, T) with N, T >= 1, got shape "
                         f"{ids.shape}" + ("; for one sequence use ids[None]"
                                           if ids.ndim == 1 else ""))
    if ids.min() < 0 or ids.max() >= vocab:
        raise ValueError(f"Seq2Seq expects {what} ids in [0, {vocab}), got values in "
                         f"[{ids.min()}, {ids.max()}]")
    real = ids != pad                                                   # (N, T)
    lengths = real.sum(axis=1)                                          # (N,)
    prefix = np.arange(ids.shape[1])[None, :] < lengths[:, None]
    if (real != prefix).any():
        row = int(np.flatnonzero((real != prefix).any(axis=1))[0])
        raise ValueError(f"Seq2Seq expects {what} padded at the end only (PAD = {pad}), but "
                         f"row {row} has a PAD before a real token: {ids[row].tolist()}")
    if nonempty and (lengths == 0).any():
        raise ValueError(f"Seq2Seq expects every {what} sequence to hold at least one token; "
                         f"rows {np.flatnonzero(lengths == 0).tolist()} are all PAD")
    return ids, lengths


class Seq2Seq(Layer):
    """An encoder-decoder on token sequences, with optional Luong-style global attention.

    PyTorch twin: :class:`deepglossary.twins.seq2seq.TorchSeq2Seq` (``torch.nn.Embedding``,
    ``torch.nn.GRU``/``LSTM`` over ``pack_padded_sequence``, ``torch.nn.Linear``; same names).

    Shape (N pairs, S source steps, T target steps, E = embed_size, H = hidden_size,
    L = num_layers, V_s, V_t the vocabularies):
        src: (N, S) int ids, padded at the end with ``pad``; every row at least one token
        tgt: (N, T) int ids, the target *with* its EOS, padded at the end with ``pad``
        logits: (N, T, V_t); ``logits[:, t]`` predicts ``tgt[:, t]`` having read
            BOS, tgt[:, :t] (teacher forcing: the decoder reads the true previous token)
        hx: the encoder's initial state, None (zeros), h0 (L, N, H), or (h0, c0) for an LSTM

    Parameters (torch's names): ``src_embed.weight`` (V_s, E), ``tgt_embed.weight`` (V_t, E),
    ``encoder.*`` and ``decoder.*`` (``weight_ih_l0`` ... as ``nn.GRU(E, H, L)``),
    ``out.weight`` (V_t, H), ``out.bias`` (V_t,); with attention also ``attention.*`` (the
    score layer) and ``combine.weight`` (H, 2H), no bias.

    The computation:
        encoder: the masked run of :mod:`.encoder`: every layer's state at each source's own
            last token, s_L (L, N, H) (and c for the LSTM), and the top layer's outputs
            e_1..e_S (N, S, H)
        decoder: ``decoder(tgt_embed([BOS, y_1, ..., y_{T-1}]), s_L)`` gives h_1..h_T (N, T, H)
        no attention: logits_t = W_o h_t + b_o
        attention: a_t = softmax over the real source positions of score(h_t, e_s);
            c_t = sum_s a_ts e_s;  h~_t = tanh(W_c [c_t; h_t]);  logits_t = W_o h~_t + b_o
            (Luong's global attention without input feeding)

    ``forward(src, tgt, hx=None) -> logits``; ``backward(grad_logits) -> dh0`` (or
    ``(dh0, dc0)``): every parameter's gradient accumulated, and the gradient of the
    encoder's initial state returned (the ids have none). The loss that ignores PAD targets
    is :meth:`loss`. Decoding: :meth:`greedy`, :meth:`beam_search`, :meth:`score`.
    The model computes in ``hx``'s dtype when given, else in the parameters' ``dtype``.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_size: int, hidden_size: int, *,
                 cell: str = "gru", num_layers: int = 1, attention: str | None = None,
                 pad: int = 0, bos: int = 1, eos: int = 2, dtype=np.float64, rng=None):
        if cell not in CELLS:
            raise ValueError(f"Seq2Seq: cell must be one of {sorted(CELLS)}, got {cell!r}")
        if attention not in ATTENTION:
            raise ValueError(f"Seq2Seq: attention must be one of {ATTENTION}, got {attention!r}")
        check_float_dtype(dtype, "Seq2Seq", "parameters")
        self.src_vocab, self.tgt_vocab = _positive(src_vocab, "src_vocab"), _positive(
            tgt_vocab, "tgt_vocab")
        embed_size, hidden_size = _positive(embed_size, "embed_size"), _positive(
            hidden_size, "hidden_size")
        self.hidden_size, self.embed_size = hidden_size, embed_size
        self.num_layers = _positive(num_layers, "num_layers")
        specials = {"pad": pad, "bos": bos, "eos": eos}
        for name, value in specials.items():
            if not isinstance(value, int | np.integer) or not 0 <= value < min(src_vocab,
                                                                                tgt_vocab):
                raise ValueError(f"Seq2Seq: {name} must be a token id in both vocabularies, "
                                 f"got {value!r}")
        if len(set(specials.values())) != 3:
            raise ValueError(f"Seq2Seq: pad, bos and eos must differ, got {specials}")
        self.pad, self.bos, self.eos = int(pad), int(bos), int(eos)
        self.cell, self.attention_kind, self.dtype = cell, attention, np.dtype(dtype)
        rng = default_rng(rng)
        rnn = CELLS[cell]
        self.src_embed = nn.Embedding(src_vocab, embed_size, dtype=dtype, rng=rng)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_size, dtype=dtype, rng=rng)
        self.encoder = rnn(embed_size, hidden_size, num_layers, batch_first=True, dtype=dtype,
                           rng=rng)
        self.decoder = rnn(embed_size, hidden_size, num_layers, batch_first=True, dtype=dtype,
                           rng=rng)
        if attention is not None:
            self.attention = _score_layer(attention, hidden_size, dtype, rng)
            self.combine = nn.Affine(2 * hidden_size, hidden_size, bias=False, dtype=dtype,
                                     rng=rng)
        self.out = nn.Affine(hidden_size, tgt_vocab, dtype=dtype, rng=rng)
        self.attention_weights = None

    # -- training: teacher forcing ---------------------------------------------------------
    def decoder_input(self, tgt) -> np.ndarray:
        """What the decoder reads under teacher forcing: BOS, then tgt without its last column.
        Shape: tgt (N, T) -> (N, T)."""
        tgt = np.asarray(tgt)
        return np.concatenate([np.full((len(tgt), 1), self.bos, tgt.dtype), tgt[:, :-1]], 1)

    def _initial_state(self, hx, n: int):
        """The encoder's initial state checked; returns (hx, the compute dtype)."""
        if hx is None:
            return None, self.dtype
        shape = (self.num_layers, n, self.hidden_size)
        parts = hx if self.cell == "lstm" else (hx,)
        if self.cell == "lstm" and (not isinstance(hx, tuple) or len(hx) != 2):
            raise ValueError("Seq2Seq (LSTM) expects the initial state as a pair (h0, c0)")
        parts = tuple(nn.as_input(p, "Seq2Seq initial state") for p in parts)
        for p in parts:
            if p.shape != shape:
                raise ValueError(f"Seq2Seq expects an initial state of shape {shape}, got "
                                 f"shape {p.shape}")
        dtype = parts[0].dtype
        parts = tuple(p.astype(dtype, copy=False) for p in parts)
        return (parts if self.cell == "lstm" else parts[0]), dtype

    def encode(self, src, hx=None):
        """The encoder alone, without storing anything for backward (as under ``no_grad``).
        Returns enc_out (N, S, H), the final state (h_n (L, N, H), or (h_n, c_n) for an LSTM:
        each source's state at its own last token) and the key padding mask (N, S), True at
        PAD."""
        with nn.no_grad():
            enc_out, state, padding, _ = self._encode(src, hx)
        return enc_out, state, padding

    def _encode(self, src, hx=None):
        """The encoder, as ``encode``, and the cache for ``encoder.run_backward``."""
        src, lengths = tokens(src, self.src_vocab, self.pad, "src", nonempty=True)
        hx, dtype = self._initial_state(hx, len(src))
        x = self.src_embed(src).astype(dtype, copy=False)                   # (N, S, E)
        enc_out, h_n, c_n, cache = encoder.run(self.encoder, x, lengths, hx)
        state = h_n if c_n is None else (h_n, c_n)
        padding = np.arange(src.shape[1])[None, :] >= lengths[:, None]      # (N, S)
        return enc_out, state, padding, cache

    def forward(self, src, tgt, hx=None):
        tgt, _ = tokens(tgt, self.tgt_vocab, self.pad, "tgt", nonempty=False)
        if len(tgt) != len(np.asarray(src)):
            raise ValueError(f"Seq2Seq expects as many targets as sources, got "
                             f"{len(tgt)} and {len(np.asarray(src))}")
        enc_out, state, padding, enc_cache = self._encode(src, hx)
        dtype = enc_out.dtype
        y = self.tgt_embed(self.decoder_input(tgt)).astype(dtype, copy=False)   # (N, T, E)
        dec_out, _ = self.decoder(y, state)                                 # (N, T, H)
        top, extra = self._head(dec_out, enc_out, padding, record=True)
        logits = self.out(top)                                              # (N, T, V_t)
        if nn.is_grad_enabled():                # under no_grad, keep what backward needs
            self._cache = (enc_cache, extra, enc_out.shape)
        return logits

    def _head(self, dec_out, enc_out, padding, record: bool = False):
        """What ``out`` reads: h_t, or with attention h~_t = tanh(W_c [c_t; h_t]).
        ``record``: keep the weights in ``attention_weights`` (a teacher-forced pass)."""
        if self.attention_kind is None:
            return dec_out, None
        context, weights = self.attention(dec_out, enc_out, None, padding)  # (N, T, H)
        if record:
            self.attention_weights = weights                                # (N, T, S)
        mixed = np.tanh(self.combine(np.concatenate([context, dec_out], axis=-1)))
        return mixed, mixed                                                 # (N, T, H)

    def backward(self, grad_logits):
        enc_cache, mixed, enc_shape = self._saved()
        g = self.out.backward(grad_logits)                                  # dL/dtop (N, T, H)
        hid = self.hidden_size
        g_enc = None
        if mixed is not None:
            g = g * (1 - mixed**2)                      # through tanh: dL/d(W_c [c; h])
            g_cat = self.combine.backward(g)                                # (N, T, 2H)
            g_ctx, g = g_cat[..., :hid], g_cat[..., hid:]                   # dL/dc_t, dL/dh_t
            d_query, d_keys, d_values = self.attention.backward(g_ctx)
            g = g + d_query                             # h_t is also the query
            g_enc = d_keys if d_values is None else d_keys + d_values       # (N, S, H)
        if self.cell == "lstm":
            dy, dh_n, dc_n = self.decoder.backward(g)   # dL/d(y, h_n, c_n) via s_L
        else:
            (dy, dh_n), dc_n = self.decoder.backward(g), None
        self.tgt_embed.backward(dy)                                         # (N, T, E)
        dx, dh0, dc0 = encoder.run_backward(self.encoder, enc_cache, g_enc, dh_n, dc_n)
        self.src_embed.backward(dx)                                         # (N, S, E)
        return (dh0, dc0) if self.cell == "lstm" else dh0

    def loss(self, logits, tgt):
        """The mean cross-entropy over the real target tokens (PAD targets ignored), as
        ``torch.nn.CrossEntropyLoss(ignore_index=pad)`` on (N T, V_t). Returns
        ``(loss, grad_logits)``, the gradient shaped like ``logits``."""
        from deepglossary.losses import CrossEntropy

        logits = np.asarray(logits)
        loss_fn = CrossEntropy(ignore_index=self.pad)
        value = loss_fn(logits.reshape(-1, logits.shape[-1]), np.asarray(tgt).reshape(-1))
        return value, loss_fn.backward().reshape(logits.shape)

    # -- decoding ---------------------------------------------------------------------------
    def greedy(self, src, max_len: int | None = None) -> decoding.Decoded:
        """The most likely next token at each step, until EOS or ``max_len`` tokens
        (default 2 S + 2). See :func:`decoding.greedy`."""
        return decoding.greedy(self, src, max_len)

    def beam_search(self, src, width: int = 4, max_len: int | None = None,
                    alpha: float = 0.0) -> decoding.Decoded:
        """Beam search of ``width`` with GNMT's length normalisation ``alpha``. See
        :func:`decoding.beam_search`."""
        return decoding.beam_search(self, src, width, max_len, alpha)

    def score(self, src, tgt) -> np.ndarray:
        """log p(tgt | src) of each pair, summed over the real target tokens (N,), computed
        under teacher forcing without storing anything for backward."""
        tgt = np.asarray(tgt)
        with nn.no_grad():
            logits = self.forward(src, tgt)
        logp = log_softmax(logits.astype(np.float64))            # (N, T, V_t)
        picked = np.take_along_axis(logp, tgt[..., None], axis=-1)[..., 0]  # (N, T)
        return (picked * (tgt != self.pad)).sum(axis=1)

    def attention_map(self, src, tgt) -> np.ndarray:
        """The attention weights (N, T, S) of a teacher-forced pass over ``tgt`` (e.g. a
        decoded output): row t is where the decoder looked to emit tgt[:, t]."""
        if self.attention_kind is None:
            raise ValueError("Seq2Seq: this model has no attention (attention=None)")
        with nn.no_grad():
            self.forward(src, tgt)
        return self.attention_weights

    def extra_repr(self) -> str:
        return (f"src_vocab={self.src_vocab}, tgt_vocab={self.tgt_vocab}, cell={self.cell!r}, "
                f"num_layers={self.num_layers}, attention={self.attention_kind!r}")


def _score_layer(kind: str, hidden: int, dtype, rng):
    """The attention score layer (from the package's attention layers)."""
    if kind == "additive":
        return nn.AdditiveAttention(hidden, hidden, hidden, dtype=dtype, rng=rng)
    return nn.MultiplicativeAttention(hidden, hidden, score=kind, dtype=dtype, rng=rng)


class FromInitialState(Layer):
    """The model as a function of its encoder's initial state, the token batches fixed:
    what :func:`deepglossary.verify.against_torch` needs, whose first input must be a
    floating-point array. ``forward(hx) -> logits (N, T, V_t)``; ``backward(g) -> dhx``.
    The gradient of the initial state proves that backpropagation reaches the first step of
    the encoder. Parameter names: ``model.*``."""

    def __init__(self, model: Seq2Seq, src, tgt):
        self.model, self.src, self.tgt = model, np.asarray(src), np.asarray(tgt)

    def forward(self, hx):
        return self.model.forward(self.src, self.tgt, hx)

    def backward(self, grad_logits):
        self._backward_begins()
        return self.model.backward(grad_logits)
