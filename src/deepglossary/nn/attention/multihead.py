"""Multi-head attention, torch's ``nn.MultiheadAttention`` rebuilt with a hand-written
backward pass.

With h heads of size d = E / h, for each head k:

    Q_k = (query W_q^T + b_q)[:, :, k d:(k+1) d]    (N, L, d)   likewise K_k, V_k (N, S, d)
    A_k = softmax(Q_k K_k^T / sqrt(d) + M)          (N, L, S)
    O   = [A_1 V_1, ..., A_h V_h]                   (N, L, E)   heads side by side
    out = O W_o^T + b_o                             (N, L, E)

computed for all heads at once as batched matrix products on (N, h, T, d) arrays.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary import init
from deepglossary.nn.affine import Affine
from deepglossary.nn.attention import kernels
from deepglossary.nn.attention.sdpa import attention_mask
from deepglossary.nn.core import Layer, Parameter, as_input
from deepglossary.nn.rnn.layers import positive_int
from deepglossary.random import default_rng


class MultiheadAttention(Layer):
    """Multi-head attention. PyTorch twin: ``torch.nn.MultiheadAttention`` (dropout 0, no
    ``add_bias_kv``, no ``add_zero_attn``).

    ``MultiheadAttention(embed_dim, num_heads, bias=True, batch_first=False, kdim=None,
    vdim=None, *, dtype=np.float64, rng=None)``

    Parameters, named and shaped as torch's:
        in_proj_weight: (3E, E), the rows of W_q, W_k, W_v stacked, when kdim = vdim = E;
        q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim) otherwise;
        in_proj_bias: (3E,) (absent with bias=False);
        out_proj.weight (E, E), out_proj.bias (E,).
    Initialisation as torch's: xavier_uniform on the input projections, zero biases, and
    out_proj.weight as a torch ``Linear`` (U(-1/sqrt(E), 1/sqrt(E))).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True) -> (attn_output, attn_weights)``
        query (L, N, E), key (S, N, kdim), value (S, N, vdim); (N, L, E) etc. with
        batch_first=True. attn_output has the query's shape.
        key_padding_mask (N, S): bool, True = ignore that key; or float, added to the scores.
        attn_mask (L, S) or (N num_heads, L, S): bool, True = NOT allowed to attend (torch's
        MultiheadAttention convention, the opposite of scaled_dot_product_attention's); or
        float, added to the scores.
        attn_weights: (N, L, S) averaged over the heads, (N, num_heads, L, S) with
        average_attn_weights=False, None with need_weights=False.
    A query that may attend to no key raises ValueError (torch returns NaN or 0 there,
    depending on the code path).
    ``backward(grad_output, grad_weights=None) -> (d_query, d_key, d_value)``, each of its
    argument's shape: the gradient with respect to each argument, as torch gives it for
    three tensors. For self-attention (one array x passed three times) dL/dx is their sum.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True,
                 batch_first: bool = False, kdim: int | None = None, vdim: int | None = None,
                 *, dtype=np.float64, rng=None):
        name = type(self).__name__
        self.embed_dim = e = positive_int(embed_dim, "embed_dim", name)
        self.num_heads = positive_int(num_heads, "num_heads", name)
        if e % self.num_heads:
            raise ValueError(f"{name}: embed_dim ({e}) must be divisible by num_heads "
                             f"({self.num_heads})")
        self.head_dim = e // self.num_heads
        self.kdim = e if kdim is None else positive_int(kdim, "kdim", name)
        self.vdim = e if vdim is None else positive_int(vdim, "vdim", name)
        self.batch_first, self.bias = bool(batch_first), bool(bias)
        self.packed = self.kdim == e and self.vdim == e
        rng = default_rng(rng)
        if self.packed:
            self.in_proj_weight = init.xavier_uniform_(
                Parameter(np.empty((3 * e, e), dtype=dtype)), rng=rng)
        else:
            self.q_proj_weight = init.xavier_uniform_(
                Parameter(np.empty((e, e), dtype=dtype)), rng=rng)
            self.k_proj_weight = init.xavier_uniform_(
                Parameter(np.empty((e, self.kdim), dtype=dtype)), rng=rng)
            self.v_proj_weight = init.xavier_uniform_(
                Parameter(np.empty((e, self.vdim), dtype=dtype)), rng=rng)
        self.in_proj_bias = Parameter(np.zeros(3 * e, dtype=dtype)) if self.bias else None
        self.out_proj = Affine(e, e, bias=self.bias, dtype=dtype, rng=rng)
        if self.bias:
            self.out_proj.bias.data[...] = 0

    # -- projections ---------------------------------------------------------------------
    def _weights(self, dt):
        """W_q (E, E), W_k (E, kdim), W_v (E, vdim) and b_q, b_k, b_v (E,) (or None), in dt."""
        e = self.embed_dim
        if self.packed:
            w = self.in_proj_weight.data.astype(dt, copy=False)
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = tuple(p.data.astype(dt, copy=False) for p in
                       (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight))
        if self.in_proj_bias is None:
            return ws, (None, None, None)
        b = self.in_proj_bias.data.astype(dt, copy=False)
        return ws, (b[:e], b[e:2 * e], b[2 * e:])

    def _split(self, x):
        """(N, T, E) -> (N, h, T, d): the heads as a batch dimension."""
        n, t, _ = x.shape
        return x.reshape(n, t, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge(x):
        """(N, h, T, d) -> (N, T, h d): the heads side by side again."""
        n, h, t, d = x.shape
        return x.transpose(0, 2, 1, 3).reshape(n, t, h * d)

    # -- checks --------------------------------------------------------------------------
    def _inputs(self, query, key, value):
        name = type(self).__name__
        order = "(N, T, D)" if self.batch_first else "(T, N, D)"
        out = []
        for what, x, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            x = as_input(x, name)
            if x.ndim != 3 or x.shape[-1] != size:
                hint = " (add a batch dimension: unbatched inputs are not supported)" \
                    if x.ndim == 2 else ""
                raise ValueError(f"{name} expects {what} of shape {order} with D = {size}, "
                                 f"got shape {x.shape}{hint}")
            out.append(x if self.batch_first else x.transpose(1, 0, 2))   # (N, T, D)
        q, k, v = out
        for what, x in (("key", k), ("value", v)):
            if x.dtype != q.dtype:
                raise TypeError(f"{name}: {what} has dtype {x.dtype} but query has {q.dtype}")
            if x.shape[0] != q.shape[0]:
                raise ValueError(f"{name}: query holds {q.shape[0]} batch entries, {what} "
                                 f"{x.shape[0]} (shapes {query.shape}, {np.shape(x)})")
        if k.shape[1] != v.shape[1]:
            raise ValueError(f"{name}: key and value must have the same length S, got "
                             f"{k.shape[1]} and {v.shape[1]} (shapes {np.shape(key)}, "
                             f"{np.shape(value)})")
        return q, k, v

    def _masks(self, key_padding_mask, attn_mask, n, lq, s, dt):
        """Both masks as one ``ignore`` boolean and one float ``add``, each broadcastable to
        the scores (N, h, L, S), or None."""
        name, h = type(self).__name__, self.num_heads
        ignore = add = None
        if attn_mask is not None:
            m = np.asarray(attn_mask)
            if m.shape == (lq, s):
                pass                                                        # (L, S)
            elif m.shape == (n * h, lq, s):
                m = m.reshape(n, h, lq, s)                                  # (N, h, L, S)
            else:
                raise ValueError(f"{name}: attn_mask must have shape (L, S) = ({lq}, {s}) or "
                                 f"(N num_heads, L, S) = ({n * h}, {lq}, {s}), got {m.shape}")
            ignore, add = attention_mask(m, (n, h, lq, s), dt, name, true_means="ignore")
        if key_padding_mask is not None:
            m = np.asarray(key_padding_mask)
            if m.shape != (n, s):
                raise ValueError(f"{name}: key_padding_mask must have shape (N, S) = ({n}, "
                                 f"{s}), got {m.shape}")
            i2, a2 = attention_mask(m[:, None, None, :], (n, h, lq, s), dt, name,
                                    true_means="ignore")
            ignore = i2 if ignore is None else (ignore | i2 if i2 is not None else ignore)
            add = a2 if add is None else (add + a2 if a2 is not None else add)
        return ignore, add

    # -- forward and backward ------------------------------------------------------------
    def __call__(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                 attn_mask=None, average_attn_weights: bool = True):
        """As torch's, the flags may be given by keyword (``Layer.__call__`` takes none)."""
        return super().__call__(query, key, value, key_padding_mask, need_weights, attn_mask,
                                average_attn_weights)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True):
        same = query is key and key is value                  # self-attention: one matmul
        q, k, v = self._inputs(query, key, value)             # (N, L, E), (N, S, kdim), ...
        n, lq, s, dt = q.shape[0], q.shape[1], k.shape[1], q.dtype
        ignore, add = self._masks(key_padding_mask, attn_mask, n, lq, s, dt)
        (wq, wk, wv), (bq, bk, bv) = self._weights(dt)
        if same and self.packed:
            qkv = q @ self.in_proj_weight.data.astype(dt, copy=False).T     # (N, L, 3E)
            if self.in_proj_bias is not None:
                qkv += self.in_proj_bias.data.astype(dt, copy=False)
            e = self.embed_dim
            qp, kp, vp = qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]  # (N, L, E) each
        else:
            qp, kp, vp = q @ wq.T, k @ wk.T, v @ wv.T         # (N, L, E), (N, S, E), (N, S, E)
            if bq is not None:
                qp += bq
                kp += bk
                vp += bv
        qh, kh, vh = self._split(qp), self._split(kp), self._split(vp)      # (N, h, T, d)
        factor = 1 / math.sqrt(self.head_dim)
        scores = qh @ kh.transpose(0, 1, 3, 2)                # (N, h, L, S)
        scores *= factor
        if add is not None:
            scores += add
        weights = kernels.masked_softmax(scores, ignore, type(self).__name__,
                                         has_inf=add is not None and np.isneginf(add).any())
        heads = weights @ vh                                  # (N, h, L, d)
        merged = self._merge(heads)                           # (N, L, E)
        wo = self.out_proj.weight.data.astype(dt, copy=False)
        out = merged @ wo.T                                   # (N, L, E)
        if self.out_proj.bias is not None:
            out += self.out_proj.bias.data.astype(dt, copy=False)
        self._cache = (q, k, v, qh, kh, vh, weights, merged, factor, same,
                       bool(need_weights), bool(average_attn_weights))
        if not self.batch_first:
            out = out.transpose(1, 0, 2)                      # (L, N, E)
        if not need_weights:
            return out, None
        return out, (weights.mean(axis=1) if average_attn_weights else weights)

    def backward(self, grad_output, grad_weights=None):
        (q, k, v, qh, kh, vh, weights, merged, factor, same, need_weights,
         average) = self._saved()
        n, h, lq, s = weights.shape
        e, dt = self.embed_dim, q.dtype
        out_shape = (n, lq, e) if self.batch_first else (lq, n, e)
        g = self._check_grad(grad_output, out_shape, "MultiheadAttention").astype(dt, copy=False)
        if not self.batch_first:
            g = g.transpose(1, 0, 2)                          # (N, L, E)
        if grad_weights is not None:
            if not need_weights:
                raise ValueError("MultiheadAttention.backward: grad_weights given, but the "
                                 "forward ran with need_weights=False")
            shape = (n, lq, s) if average else (n, h, lq, s)
            grad_weights = np.asarray(grad_weights)
            if grad_weights.shape != shape:
                raise ValueError(f"MultiheadAttention.backward expects grad_weights of shape "
                                 f"{shape}, got {grad_weights.shape}")
        (wq, wk, wv), _ = self._weights(dt)
        wo = self.out_proj.weight.data.astype(dt, copy=False)
        g2 = g.reshape(-1, e)                                 # (N L, E)
        self.out_proj.weight.accumulate(g2.T @ merged.reshape(-1, e))   # g^T O       (E, E)
        if self.out_proj.bias is not None:
            self.out_proj.bias.accumulate(g2.sum(axis=0))     # sum g                 (E,)
        d_heads = self._split(g @ wo)                         # dO = g W_o      (N, h, L, d)
        d_weights = d_heads @ vh.transpose(0, 1, 3, 2)        # dO V^T          (N, h, L, S)
        if grad_weights is not None:
            gw = grad_weights.astype(dt, copy=False)
            d_weights += gw[:, None] / h if average else gw   # the mean over heads: 1/h each
        d_vh = weights.transpose(0, 1, 3, 2) @ d_heads        # A^T dO          (N, h, S, d)
        d_scores = kernels.softmax_backward(weights, d_weights)          # (N, h, L, S)
        d_scores *= factor
        d_qh = d_scores @ kh                                  # dS K            (N, h, L, d)
        d_kh = d_scores.transpose(0, 1, 3, 2) @ qh            # dS^T Q          (N, h, S, d)
        d_qp, d_kp, d_vp = self._merge(d_qh), self._merge(d_kh), self._merge(d_vh)  # (N,T,E)
        if self.in_proj_bias is not None:                     # sum over N and T  (3E,)
            self.in_proj_bias.accumulate(np.concatenate(
                [d_qp.sum(axis=(0, 1)), d_kp.sum(axis=(0, 1)), d_vp.sum(axis=(0, 1))]))
        if same and self.packed:                              # one input: one (3E, E) matmul
            d_qkv = np.concatenate([d_qp, d_kp, d_vp], axis=-1)          # (N, L, 3E)
            self.in_proj_weight.accumulate(d_qkv.reshape(-1, 3 * e).T @ q.reshape(-1, e))
        else:
            dwq = d_qp.reshape(-1, e).T @ q.reshape(-1, e)              # dQ^T q  (E, E)
            dwk = d_kp.reshape(-1, e).T @ k.reshape(-1, self.kdim)      # dK^T k  (E, kdim)
            dwv = d_vp.reshape(-1, e).T @ v.reshape(-1, self.vdim)      # dV^T v  (E, vdim)
            if self.packed:
                self.in_proj_weight.accumulate(np.concatenate([dwq, dwk, dwv]))
            else:
                self.q_proj_weight.accumulate(dwq)
                self.k_proj_weight.accumulate(dwk)
                self.v_proj_weight.accumulate(dwv)
        d_q, d_k, d_v = d_qp @ wq, d_kp @ wk, d_vp @ wv       # (N, L, E), (N, S, kdim), ...
        if not self.batch_first:
            d_q, d_k, d_v = (x.transpose(1, 0, 2) for x in (d_q, d_k, d_v))
        return d_q, d_k, d_v

    def extra_repr(self) -> str:
        extra = "" if self.packed else f", kdim={self.kdim}, vdim={self.vdim}"
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, bias={self.bias}, "
                f"batch_first={self.batch_first}{extra}")
