"""word2vec's negative-sampling loss for skip-gram and CBOW, forward and backward by hand.

For one example with input vector v (skip-gram: the centre word's row of ``W_in``; CBOW: the
mean of the context words' rows), the observed word o and K noise words n_1..n_K:

    s_o = u_o . v,   s_k = u_{n_k} . v                      (u: rows of ``W_out``)
    L   = -log sigma(s_o) - sum_k log sigma(-s_k) = softplus(-s_o) + sum_k softplus(s_k)
    dL/ds_o = sigma(s_o) - 1,  dL/ds_k = sigma(s_k)
    dL/dv = (sigma(s_o) - 1) u_o + sum_k sigma(s_k) u_{n_k}
    dL/du_o = (sigma(s_o) - 1) v,  dL/du_{n_k} = sigma(s_k) v

The functions return the gradients row by row (one per looked-up row, before they are added
into the tables), which is what sparse SGD needs; the :class:`SkipGram` and :class:`CBOW`
layers add them into dense ``.grad`` tables for the comparison with torch.
PyTorch counterpart: ``-F.logsigmoid(s_o) - F.logsigmoid(-s_k).sum(-1)`` on
``torch.nn.Embedding`` lookups (``deepglossary.twins.word2vec``).
"""

from __future__ import annotations

import numpy as np

from deepglossary import nn
from deepglossary.nn.embedding import scatter_add_rows
from deepglossary.random import default_rng


def sigmoid(x):
    """1 / (1 + e^-x), without overflow for large |x| (same dtype as x)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def softplus(x):
    """log(1 + e^x) = -log sigma(-x), computed stably (same dtype as x)."""
    return np.logaddexp(np.zeros((), x.dtype), x)


def _ids(x, name: str, ndim: int, num_words: int, batch: int | None = None) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer) or x.ndim != ndim \
            or (batch is not None and x.shape[0] != batch):
        want = "(B,)" if ndim == 1 else "(B, K)" if name == "negatives" else "(B, C)"
        raise ValueError(f"{name} must be an integer array of shape {want}"
                         f"{f' with B = {batch}' if batch is not None else ''}, got dtype "
                         f"{x.dtype} and shape {x.shape}")
    if x.size and (x.min() < 0 or x.max() >= num_words):
        raise ValueError(f"{name} must be word ids in [0, {num_words}), got values from "
                         f"{x.min()} to {x.max()}")
    return x


def negative_sampling(v, u_pos, u_neg, grad_output=None):
    """The loss of each example and the gradients of its vectors.

    Args:
        v: (B, d) input vectors; u_pos: (B, d) output vectors of the observed words;
        u_neg: (B, K, d) output vectors of the noise words; grad_output: (B,) dL/dloss of each
        example (default ones: the gradients of the sum of the losses).
    Returns:
        loss (B,), and dL/dv (B, d), dL/du_pos (B, d), dL/du_neg (B, K, d).
    """
    s_pos = np.einsum("bd,bd->b", v, u_pos)                    # (B,)   s_o
    s_neg = np.einsum("bkd,bd->bk", u_neg, v)                  # (B, K) s_k
    loss = softplus(-s_pos) + softplus(s_neg).sum(axis=1)      # (B,)
    g = np.ones_like(s_pos) if grad_output is None else grad_output
    d_pos = -sigmoid(-s_pos) * g                               # (B,)   dL/ds_o = sigma(s_o) - 1
    d_neg = sigmoid(s_neg) * g[:, None]                        # (B, K) dL/ds_k = sigma(s_k)
    g_v = d_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", d_neg, u_neg)   # (B, d)
    g_pos = d_pos[:, None] * v                                 # (B, d)   dL/du_o
    g_neg = d_neg[:, :, None] * v[:, None, :]                  # (B, K, d) dL/du_{n_k}
    return loss, g_v, g_pos, g_neg


def cbow_input(W_in, contexts, mask):
    """CBOW's input vector: the mean of the context words' rows, h = sum_j m_j W_in[c_j] / n.
    Shapes: W_in (V, d), contexts (B, C) ints, mask (B, C) bool with n = mask.sum(1) >= 1.
    Returns h (B, d) and the weights m_j / n (B, C) that its backward needs:
    dL/dW_in[c_j] += (m_j / n) dL/dh."""
    weights = mask / mask.sum(axis=1, keepdims=True)           # (B, C)
    h = np.einsum("bc,bcd->bd", weights.astype(W_in.dtype), W_in[contexts])  # (B, d)
    return h, weights.astype(W_in.dtype)


class _Word2Vec(nn.Layer):
    """Shared by :class:`SkipGram` and :class:`CBOW`: the two tables and their initialisation."""

    def __init__(self, num_words: int, dim: int, dtype=np.float64, rng=None, *,
                 init: str = "word2vec"):
        if init not in ("word2vec", "normal"):
            raise ValueError(f"init must be 'word2vec' or 'normal', got {init!r}")
        rng = default_rng(rng)
        self.in_embed = nn.Embedding(num_words, dim, dtype=dtype, rng=rng)
        self.out_embed = nn.Embedding(num_words, dim, dtype=dtype, rng=rng)
        if init == "word2vec":        # word2vec.c: inputs U(-0.5/d, 0.5/d), outputs zero
            self.in_embed.weight.data = ((rng.random((num_words, dim)) - 0.5) / dim
                                         ).astype(dtype)
            self.out_embed.weight.data = np.zeros((num_words, dim), dtype=dtype)
        self.num_words, self.dim = num_words, dim

    def _scatter(self, rows_in, g_in, rows_out, g_out):
        V = self.num_words
        self.in_embed.weight.accumulate(scatter_add_rows(rows_in, g_in, V).astype(
            self.in_embed.weight.dtype))                       # (V, d)
        self.out_embed.weight.accumulate(scatter_add_rows(rows_out, g_out, V).astype(
            self.out_embed.weight.dtype))                      # (V, d)

    def extra_repr(self) -> str:
        return f"{self.num_words}, {self.dim}"


class SkipGram(_Word2Vec):
    """Skip-gram with negative sampling (SGNS; Mikolov et al. 2013b): the centre word's input
    vector predicts each context word against K noise words. PyTorch twin:
    ``deepglossary.twins.word2vec.SkipGram`` (two ``torch.nn.Embedding`` tables).

    Shape (V words, d numbers per vector, B examples, K noise words):
        centres (B,), contexts (B,), negatives (B, K): word ids in [0, V)
        in_embed.weight, out_embed.weight: (V, d) (``init="word2vec"``: inputs uniform in
          +-0.5/d and outputs zero, as word2vec.c; ``"normal"``: both N(0, 1), for tests)
        output: (B,) the loss of each example (see ``deepglossary.word2vec.loss``)
    ``backward(grad_output (B,))`` adds the gradients into both tables' ``.grad`` and returns
    None: ids have no gradient.
    """

    def forward(self, centres, contexts, negatives):
        V = self.num_words
        centres = _ids(centres, "centres", 1, V)
        contexts = _ids(contexts, "contexts", 1, V, len(centres))
        negatives = _ids(negatives, "negatives", 2, V, len(centres))
        W_in, W_out = self.in_embed.weight.data, self.out_embed.weight.data
        self._cache = (centres, contexts, negatives, W_in[centres], W_out[contexts],
                       W_out[negatives])
        return negative_sampling(*self._cache[3:])[0]          # (B,)

    def backward(self, grad_output):
        centres, contexts, negatives, v, u_pos, u_neg = self._cache
        g = np.asarray(grad_output)
        if g.shape != centres.shape:
            raise ValueError(f"grad_output must have shape {centres.shape}, got {g.shape}")
        _, g_v, g_pos, g_neg = negative_sampling(v, u_pos, u_neg, g)
        d = self.dim
        self._scatter(centres, g_v,                            # dL/dW_in[c]  (B, d)
                      np.concatenate([contexts, negatives.reshape(-1)]),
                      np.concatenate([g_pos, g_neg.reshape(-1, d)]))   # (B + B K, d)
        return None


class CBOW(_Word2Vec):
    """Continuous bag of words with negative sampling (Mikolov et al. 2013a): the mean of the
    context words' input vectors predicts the centre word against K noise words. PyTorch twin:
    ``deepglossary.twins.word2vec.CBOW``.

    Shape (C context slots, the others as in :class:`SkipGram`):
        contexts (B, C) ids, mask (B, C) bool (which slots are in the window; >= 1 per row),
        targets (B,) ids, negatives (B, K) ids; output (B,) the loss of each example.
    ``backward(grad_output (B,))`` adds dL/dh / n into the row of each of the n context words
    (a word twice in one window gets it twice) and the output-vector gradients; returns None.
    """

    def forward(self, contexts, mask, targets, negatives):
        V = self.num_words
        contexts = _ids(contexts, "contexts", 2, V)
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != contexts.shape or not mask.any(axis=1).all():
            raise ValueError(f"mask must be a bool array of the contexts' shape {contexts.shape}"
                             f" with at least one True per row, got dtype {mask.dtype} and "
                             f"shape {mask.shape}")
        targets = _ids(targets, "targets", 1, V, len(contexts))
        negatives = _ids(negatives, "negatives", 2, V, len(contexts))
        W_out = self.out_embed.weight.data
        h, weights = cbow_input(self.in_embed.weight.data, contexts, mask)
        self._cache = (contexts, weights, targets, negatives, h, W_out[targets],
                       W_out[negatives])
        return negative_sampling(*self._cache[4:])[0]          # (B,)

    def backward(self, grad_output):
        contexts, weights, targets, negatives, h, u_pos, u_neg = self._cache
        g = np.asarray(grad_output)
        if g.shape != targets.shape:
            raise ValueError(f"grad_output must have shape {targets.shape}, got {g.shape}")
        _, g_h, g_pos, g_neg = negative_sampling(h, u_pos, u_neg, g)
        d = self.dim
        g_ctx = weights[:, :, None] * g_h[:, None, :]          # (B, C, d) dL/dW_in[c_j]
        self._scatter(contexts.reshape(-1), g_ctx.reshape(-1, d),
                      np.concatenate([targets, negatives.reshape(-1)]),
                      np.concatenate([g_pos, g_neg.reshape(-1, d)]))
        return None
