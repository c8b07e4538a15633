"""Checkers for the exercises of the Attention Mechanism chapter.

``check_attention_backward`` compares a student's backward pass of scaled dot-product
attention with the package's (``nn.attention.sdpa_backward``, verified against PyTorch in the
chapter) on cases chosen to catch the usual slips: the softmax Jacobian taken entry by entry
(w (1 - w) instead of w (g - sum g w)), a forgotten scale, a transposed product (T_q != T_k
and d_k != d_v, so a wrong transpose cannot even have the right shape), one query, one key,
saturated scores, and float32 (the results keep the input's dtype).

``check_split_heads`` checks the reshape that turns (N, T, d_model) into heads
(N, n_h, T, d_head), by shape, against the layout ``nn.MultiheadAttention`` (and torch)
uses, and through a whole multi-head forward pass compared with ``nn.MultiheadAttention``.
"""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, passed
from deepglossary.nn.attention import sdpa_backward, sdpa_forward

# (N, T_q queries, T_k keys, d_k, d_v, scale of the inputs, dtype)
_SDPA_CASES = [(2, 3, 5, 4, 2, 1.0, np.float64), (1, 1, 4, 3, 5, 1.0, np.float64),
               (3, 4, 1, 2, 3, 1.0, np.float64), (2, 5, 6, 8, 3, 3.0, np.float64),
               (2, 3, 4, 6, 2, 1.0, np.float32)]


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)


def check_attention_backward(attention_backward):
    """``attention_backward(q, k, v, grad_out)`` returns ``(dq, dk, dv)``, the gradients of
    ``out = softmax(q k^T / sqrt(d_k)) v`` (softmax over the keys) given ``grad_out`` = dL/dout.

    Shapes: q (N, T_q, d_k), k (N, T_k, d_k), v (N, T_k, d_v), grad_out (N, T_q, d_v);
    dq, dk, dv like q, k, v, in the inputs' dtype. Compared with the package's hand-written
    backward on: T_q != T_k and d_k != d_v, one query, one key, inputs scaled by 3 (nearly
    one-hot weights), float32."""
    rng = np.random.default_rng(31)
    for n, lq, s, e, ev, scale, dtype in _SDPA_CASES:
        q = (scale * rng.standard_normal((n, lq, e))).astype(dtype)
        k = (scale * rng.standard_normal((n, s, e))).astype(dtype)
        v = rng.standard_normal((n, s, ev)).astype(dtype)
        g = rng.standard_normal((n, lq, ev)).astype(dtype)
        _, _, cache = sdpa_forward(q, k, v)
        expected = sdpa_backward(cache, g)
        case = (f"N={n}, T_q={lq}, T_k={s}, d_k={e}, d_v={ev}, inputs scaled by {scale}, "
                f"{np.dtype(dtype)}")
        got = attention_backward(q.copy(), k.copy(), v.copy(), g.copy())
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise AssertionError(f"attention_backward must return (dq, dk, dv), got "
                                 f"{type(got).__name__} ({case})")
        for name, a, b in zip(("dq", "dk", "dv"), got, expected):
            compare(name, a, b, case=case, **_tol(dtype))
            if np.asarray(a).dtype != dtype:
                raise AssertionError(f"{name} has dtype {np.asarray(a).dtype}, expected "
                                     f"{np.dtype(dtype)} ({case}); note that np.sqrt(d_k) of "
                                     "an integer is a float64 scalar, which turns float32 "
                                     "arrays into float64 under NumPy 2: use math.sqrt(d_k)")
    passed("attention_backward", len(_SDPA_CASES))


# (N, T, d_model, heads)
_SPLIT_CASES = [(2, 3, 8, 2), (1, 5, 12, 3), (3, 4, 6, 6), (2, 1, 4, 2), (2, 6, 8, 4)]


def check_split_heads(split_heads):
    """``split_heads(x, num_heads)`` turns x (N, T, d_model) into (N, num_heads, T, d_head),
    head k holding the columns k d_head to (k + 1) d_head of every position
    (d_head = d_model / num_heads), as
    ``torch.nn.MultiheadAttention`` splits its projections. Checked by shape and value, and
    by a whole multi-head attention forward pass built on it, compared with
    ``nn.MultiheadAttention`` (verified against torch in the chapter)."""
    rng = np.random.default_rng(32)
    for n, t, e, h in _SPLIT_CASES:
        d = e // h
        case = f"N={n}, T={t}, d_model={e}, num_heads={h}"
        x = rng.standard_normal((n, t, e))
        got = np.asarray(split_heads(x.copy(), h))
        expected = np.stack([x[:, :, k * d:(k + 1) * d] for k in range(h)], axis=1)
        compare("split_heads(x)", got, expected, case=case)
        layer = nn.MultiheadAttention(e, h, batch_first=True, rng=int(rng.integers(1 << 30)))
        kv = rng.standard_normal((n, t + 1, e))
        with nn.no_grad():
            reference, _ = layer(x, kv, kv)
        w, b = layer.in_proj_weight.data, layer.in_proj_bias.data
        qh, kh, vh = (np.asarray(split_heads(a @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e],
                                             h)) for i, a in enumerate((x, kv, kv)))
        scores = qh @ np.swapaxes(kh, -1, -2) / np.sqrt(d)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        heads = (weights @ vh).transpose(0, 2, 1, 3).reshape(n, t, e)    # the known merge
        out = heads @ layer.out_proj.weight.data.T + layer.out_proj.bias.data
        compare("multi-head attention built on split_heads", out, reference, case=case)
    passed("split_heads", len(_SPLIT_CASES))
