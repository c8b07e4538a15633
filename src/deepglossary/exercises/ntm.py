"""Checkers for the exercises of the Neural Turing Machine chapter.

The references are the autograd primitives of :mod:`deepglossary.autograd.ops` (gradient-
checked and compared with torch in the tests). The cases are chosen to catch the usual slips:
a shift in the wrong direction (convolution and correlation confused), a shift that falls off
the end instead of wrapping round, a shift distribution over other than three offsets, and,
for the sharpening's backward, a forgotten normalisation term, a forgotten gamma gradient,
zero weights (where log w is -inf) and float32.
"""

import numpy as np

from deepglossary.autograd import Tensor, circular_convolution, sharpen
from deepglossary.exercises import compare, passed


def _weighting(rng, n, s, dtype, zeros=False):
    w = rng.uniform(0.0, 1.0, (n, s))
    if zeros:
        w[:, ::3] = 0.0
    return (w / w.sum(-1, keepdims=True)).astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)


def check_shift(shift):
    """``shift(w, s)`` returns the shifted weighting of Graves et al.'s equation (8),
    out[n, i] = sum_j w[n, j] s[n, i - j], indices modulo S, where s[n, k] is the weight of the
    offset k - K // 2 (K odd: for K = 3 the offsets -1, 0, +1).

    Shape: w (N, S), s (N, K) -> (N, S), the dtype of w. Compared with the engine's
    ``circular_convolution`` on one-hot shifts (a move in the wrong direction fails), a focus on
    the last and first slots (a shift that does not wrap fails), K = 5, one slot, and float32."""
    rng = np.random.default_rng(31)
    cases = 0
    for n, s, k, dtype, kind in [(2, 6, 3, np.float64, "one-hot +1"),
                                 (2, 6, 3, np.float64, "one-hot -1"),
                                 (3, 5, 3, np.float64, "focus on the last slot, +1"),
                                 (3, 5, 3, np.float64, "focus on the first slot, -1"),
                                 (4, 7, 3, np.float64, "random"),
                                 (2, 8, 5, np.float64, "random, K = 5"),
                                 (2, 1, 3, np.float64, "one slot"),
                                 (3, 6, 3, np.float32, "random, float32")]:
        w = _weighting(rng, n, s, dtype)
        sh = _weighting(rng, n, k, dtype)
        if kind.startswith("one-hot") or kind.startswith("focus"):
            sh = np.zeros((n, k), dtype)
            sh[:, k // 2 + (1 if kind.endswith("+1") else -1)] = 1
        if kind.startswith("focus"):
            w = np.zeros((n, s), dtype)
            w[:, -1 if "last" in kind else 0] = 1
        expected = circular_convolution(Tensor(w), Tensor(sh)).data
        case = f"{kind}: w {w.shape}, s {sh.shape}, {np.dtype(dtype)}"
        got = shift(w.copy(), sh.copy())
        if np.asarray(got).dtype != dtype:
            raise AssertionError(f"shift: dtype {np.asarray(got).dtype}, expected "
                                 f"{np.dtype(dtype)} ({case})")
        compare("shift", got, expected, case=case, **_tol(dtype))
        cases += 1
    passed("shift", cases)


def check_sharpen_backward(sharpen_backward):
    """``sharpen_backward(w, gamma, grad)`` returns ``(dw, dgamma)``, the gradients of
    y = w^gamma / sum_j w_j^gamma (each row; Graves et al.'s equation 9) given the upstream
    gradient ``grad`` = dL/dy.

    Shape: w, grad (N, S) with w >= 0; gamma (N, 1) >= 1 -> dw (N, S), dgamma (N, 1), in w's
    dtype. Compared with the engine's ``sharpen`` backward on: gamma = 1 (the identity on a
    normalised w, whose gradient is still not grad), large gamma, zero entries of w (0 log 0
    counts as 0; at gamma = 1 the derivative there is not 0), one slot, and float32."""
    rng = np.random.default_rng(32)
    cases = 0
    for n, s, gmin, gmax, zeros, dtype in [(3, 5, 1.0, 1.0, False, np.float64),
                                           (4, 6, 1.0, 4.0, False, np.float64),
                                           (2, 7, 8.0, 20.0, False, np.float64),
                                           (3, 6, 1.5, 3.0, True, np.float64),
                                           (3, 6, 1.0, 1.0, True, np.float64),
                                           (2, 1, 1.0, 3.0, False, np.float64),
                                           (3, 5, 1.0, 4.0, False, np.float32)]:
        w = _weighting(rng, n, s, dtype, zeros)
        gamma = rng.uniform(gmin, gmax, (n, 1)).astype(dtype)
        grad = rng.standard_normal((n, s)).astype(dtype)
        tw, tg = Tensor(w), Tensor(gamma)
        sharpen(tw, tg).backward(grad)
        case = (f"w {w.shape}, gamma in [{gmin}, {gmax}]" + (", zeros in w" if zeros else "")
                + f", {np.dtype(dtype)}")
        got = sharpen_backward(w.copy(), gamma.copy(), grad.copy())
        if not isinstance(got, tuple) or len(got) != 2:
            raise AssertionError(f"sharpen_backward must return (dw, dgamma), got "
                                 f"{type(got).__name__} ({case})")
        for name, value, expected in [("dw", got[0], tw.grad), ("dgamma", got[1], tg.grad)]:
            if np.asarray(value).dtype != dtype:
                raise AssertionError(f"{name}: dtype {np.asarray(value).dtype}, expected "
                                     f"{np.dtype(dtype)} ({case})")
            if not np.isfinite(value).all():
                raise AssertionError(f"{name} holds NaN or inf ({case}): where w = 0, "
                                     "w^gamma log w is 0 in the limit")
            compare(name, value, expected, case=case, **_tol(dtype))
        cases += 1
    passed("sharpen_backward", cases)
