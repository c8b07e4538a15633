"""Attention with a learned or fixed score: additive (Bahdanau) and multiplicative (Luong).

Both layers take a query (N, Tq, Dq), keys (N, Tk, Dk) and values (N, Tk, Dv) and return

    weights = softmax over the keys of score(query_i, key_j)     (N, Tq, Tk)
    context = weights @ values                                   (N, Tq, Dv)

They differ only in ``score``. Backward passes are written out by hand below.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary import init
from deepglossary.nn.affine import Affine
from deepglossary.nn.attention import kernels
from deepglossary.nn.core import Layer, Parameter
from deepglossary.nn.rnn.layers import positive_int
from deepglossary.random import default_rng


class ScoreAttention(Layer):
    """What the score layers share: checks, masked softmax, context, and their backward.

    Subclasses implement ``_scores(query, keys) -> (scores (N, Tq, Tk), cache)`` and
    ``_scores_backward(cache, d_scores) -> (d_query, d_keys)`` (adding their parameters'
    gradients).

    ``forward(query, keys, values=None, key_padding_mask=None) -> (context, weights)``
        query (N, Tq, Dq); keys (N, Tk, Dk); values (N, Tk, Dv), by default the keys;
        key_padding_mask (N, Tk) bool, True = padding (ignored), as torch's
        ``MultiheadAttention``; context (N, Tq, Dv); weights (N, Tq, Tk), each row a softmax
        over the unmasked keys (exactly 0 on the masked ones). A batch entry whose keys are
        all masked raises ValueError.
    ``backward(grad_context, grad_weights=None) -> (d_query, d_keys, d_values)``
        d_values is None when the values defaulted to the keys: d_keys then holds both paths.

    For a decoder that attends once per time step inside one forward pass, ``attend`` and
    ``attend_backward`` do the same work without storing anything in the layer: ``attend``
    returns ``(context, weights, cache)``, and ``attend_backward(cache, grad_context,
    grad_weights=None)`` returns the three gradients and adds the parameters' gradients.
    """

    query_size: int
    key_size: int

    def attend(self, query, keys, values=None, key_padding_mask=None):
        name = type(self).__name__
        query, keys, values = kernels.check_qkv(name, query, keys, values, self.query_size,
                                                self.key_size)
        n, tq, tk = query.shape[0], query.shape[1], keys.shape[1]
        mask = kernels.padding_mask(key_padding_mask, n, tk, name)          # (N, Tk) or None
        scores, score_cache = self._scores(query, keys)                     # (N, Tq, Tk)
        ignore = None if mask is None else mask[:, None, :]                 # (N, 1, Tk)
        weights = kernels.masked_softmax(scores, ignore, name)              # (N, Tq, Tk)
        v = keys if values is None else values                              # (N, Tk, Dv)
        context = weights @ v                                               # (N, Tq, Dv)
        cache = (weights, v, values is None, score_cache, (n, tq, tk))
        return context, weights, cache

    def attend_backward(self, cache, grad_context, grad_weights=None):
        weights, v, values_are_keys, score_cache, (n, tq, tk) = cache
        gc, gw = kernels.check_grads(type(self).__name__, grad_context, grad_weights,
                                     (n, tq, v.shape[-1]), (n, tq, tk))
        gc = gc.astype(v.dtype, copy=False)
        d_values = np.swapaxes(weights, 1, 2) @ gc                 # w^T g      (N, Tk, Dv)
        d_weights = gc @ np.swapaxes(v, 1, 2)                      # g V^T      (N, Tq, Tk)
        if gw is not None:
            d_weights = d_weights + gw.astype(v.dtype, copy=False)
        d_scores = kernels.softmax_backward(weights, d_weights)    # (N, Tq, Tk)
        d_query, d_keys = self._scores_backward(score_cache, d_scores)
        if values_are_keys:                                        # keys used twice: add
            return d_query, d_keys + d_values, None
        return d_query, d_keys, d_values

    def __call__(self, query, keys, values=None, key_padding_mask=None):
        """The mask may be given by keyword (``Layer.__call__`` takes none)."""
        return super().__call__(query, keys, values, key_padding_mask)

    def forward(self, query, keys, values=None, key_padding_mask=None):
        context, weights, self._cache = self.attend(query, keys, values, key_padding_mask)
        return context, weights

    def backward(self, grad_context, grad_weights=None):
        return self.attend_backward(self._saved(), grad_context, grad_weights)


class AdditiveAttention(ScoreAttention):
    """Additive (Bahdanau, "concat") attention: score(q, k) = v^T tanh(W_q q + W_k k).

    Parameters (no biases, as in Bahdanau et al.'s alignment model):
        query_proj.weight: (hidden_size, query_size)   W_q
        key_proj.weight:   (hidden_size, key_size)     W_k
        v.weight:          (1, hidden_size)            v^T
    Initialised as torch's ``Linear`` layers are, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Shapes and calls: see :class:`ScoreAttention`.

    PyTorch has no such layer; the torch twin (``deepglossary.twins.attention``) builds it
    from ``torch.nn.Linear``, ``torch.tanh`` and ``torch.softmax``.

    Backward, with a = tanh(W_q q_i + W_k k_j) (N, Tq, Tk, H) and ds = dL/dscores:
        dL/dv = sum_{n,i,j} ds_{nij} a_{nij};   dpre = ds v * (1 - a^2);
        dL/dq_i = (sum_j dpre_ij) W_q;   dL/dk_j = (sum_i dpre_ij) W_k.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int, *,
                 dtype=np.float64, rng=None):
        name = type(self).__name__
        self.query_size = positive_int(query_size, "query_size", name)
        self.key_size = positive_int(key_size, "key_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        rng = default_rng(rng)
        self.query_proj = Affine(self.query_size, self.hidden_size, bias=False, dtype=dtype,
                                 rng=rng)
        self.key_proj = Affine(self.key_size, self.hidden_size, bias=False, dtype=dtype, rng=rng)
        self.v = Affine(self.hidden_size, 1, bias=False, dtype=dtype, rng=rng)

    def _scores(self, query, keys):
        dt = query.dtype
        wq = self.query_proj.weight.data.astype(dt, copy=False)   # (H, Dq)
        wk = self.key_proj.weight.data.astype(dt, copy=False)     # (H, Dk)
        v = self.v.weight.data.astype(dt, copy=False)[0]          # (H,)
        qp = query @ wq.T                                         # (N, Tq, H)
        kp = keys @ wk.T                                          # (N, Tk, H)
        a = np.tanh(qp[:, :, None, :] + kp[:, None, :, :])        # (N, Tq, Tk, H)
        scores = a @ v                                            # (N, Tq, Tk)
        return scores, (query, keys, a)

    def _scores_backward(self, cache, d_scores):
        query, keys, a = cache
        dt = query.dtype
        wq = self.query_proj.weight.data.astype(dt, copy=False)   # (H, Dq)
        wk = self.key_proj.weight.data.astype(dt, copy=False)     # (H, Dk)
        v = self.v.weight.data.astype(dt, copy=False)[0]          # (H,)
        h = self.hidden_size
        ds2 = d_scores.reshape(-1)                                # (N Tq Tk,)
        a2 = a.reshape(-1, h)                                     # (N Tq Tk, H)
        self.v.weight.accumulate((ds2 @ a2)[None, :])             # dv = sum ds a     (1, H)
        d_pre = d_scores[..., None] * v * (1 - a * a)             # (N, Tq, Tk, H)
        d_qp = d_pre.sum(axis=2)                                  # (N, Tq, H)
        d_kp = d_pre.sum(axis=1)                                  # (N, Tk, H)
        self.query_proj.weight.accumulate(                        # dW_q = dqp^T q    (H, Dq)
            d_qp.reshape(-1, h).T @ query.reshape(-1, self.query_size))
        self.key_proj.weight.accumulate(                          # dW_k = dkp^T k    (H, Dk)
            d_kp.reshape(-1, h).T @ keys.reshape(-1, self.key_size))
        return d_qp @ wq, d_kp @ wk                               # (N, Tq, Dq), (N, Tk, Dk)

    def extra_repr(self) -> str:
        return (f"query_size={self.query_size}, key_size={self.key_size}, "
                f"hidden_size={self.hidden_size}")


class MultiplicativeAttention(ScoreAttention):
    """Multiplicative (Luong) attention: score(q, k) = q^T k ("dot") or q^T W k ("general"),
    divided by sqrt(key_size) when ``scale=True`` (the Transformer's scaling).

    Parameters: none for "dot" (which needs query_size == key_size); ``weight``
    (query_size, key_size) for "general", initialised U(-1/sqrt(key_size), 1/sqrt(key_size))
    like a torch ``Linear(key_size, query_size)``. Shapes and calls: see
    :class:`ScoreAttention`. PyTorch has no such layer; the torch twin
    (``deepglossary.twins.attention``) computes it with ``torch.matmul`` and ``torch.softmax``.

    Backward, with K' = K W^T (N, Tk, Dq) (K' = K for "dot") and ds = dL/dscores (scaled):
        dL/dQ = ds K';   dL/dK' = ds^T Q;   dL/dK = dL/dK' W;   dL/dW = sum_n (dL/dK')^T K.
    """

    def __init__(self, query_size: int, key_size: int, *, score: str = "dot",
                 scale: bool = False, dtype=np.float64, rng=None):
        name = type(self).__name__
        self.query_size = positive_int(query_size, "query_size", name)
        self.key_size = positive_int(key_size, "key_size", name)
        if score not in ("dot", "general"):
            raise ValueError(f"{name}: score must be 'dot' or 'general', got {score!r}")
        if score == "dot" and self.query_size != self.key_size:
            raise ValueError(f"{name}: score='dot' needs query_size == key_size, got "
                             f"{query_size} and {key_size}; use score='general'")
        self.score, self.scale = score, bool(scale)
        self.weight = None
        if score == "general":
            bound = 1 / math.sqrt(self.key_size)
            self.weight = init.uniform_(Parameter(np.empty((self.query_size, self.key_size),
                                                           dtype=dtype)),
                                        -bound, bound, default_rng(rng))

    def _factor(self) -> float:
        return 1 / math.sqrt(self.key_size) if self.scale else 1.0

    def _scores(self, query, keys):
        kp = keys                                                  # (N, Tk, Dk = Dq)
        if self.weight is not None:
            kp = keys @ self.weight.data.astype(query.dtype, copy=False).T   # (N, Tk, Dq)
        scores = query @ np.swapaxes(kp, 1, 2)                     # (N, Tq, Tk)
        if self.scale:
            scores *= self._factor()
        return scores, (query, keys, kp)

    def _scores_backward(self, cache, d_scores):
        query, keys, kp = cache
        if self.scale:
            d_scores = d_scores * self._factor()                   # (N, Tq, Tk)
        d_query = d_scores @ kp                                    # ds K'      (N, Tq, Dq)
        d_kp = np.swapaxes(d_scores, 1, 2) @ query                 # ds^T Q     (N, Tk, Dq)
        if self.weight is None:
            return d_query, d_kp
        w = self.weight.data.astype(query.dtype, copy=False)       # (Dq, Dk)
        self.weight.accumulate(                                    # dK'^T K    (Dq, Dk)
            d_kp.reshape(-1, self.query_size).T @ keys.reshape(-1, self.key_size))
        return d_query, d_kp @ w                                   # (N, Tk, Dk)

    def extra_repr(self) -> str:
        return (f"query_size={self.query_size}, key_size={self.key_size}, "
                f"score={self.score!r}, scale={self.scale}")
