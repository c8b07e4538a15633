"""Checkers for the exercises of the pooling chapters (Pooling, Max-Pooling, Average-Pooling)."""

import numpy as np

from deepglossary.exercises import compare, passed


def check_receptive_field(receptive_field):
    """``receptive_field(layers)`` takes a list of ``(kernel, stride, dilation)`` triples, one
    per layer (square windows), and returns the receptive field of one output of the last layer
    in input pixels (an int). Checked against r_l = r_{l-1} + d_l (k_l - 1) j_{l-1},
    j_l = j_{l-1} s_l on: no layers (r = 1), 1x1 kernels, a stride before a large kernel (a
    naive answer multiplies by the layer's own stride), dilation, and long random stacks."""
    def reference(layers):
        r, j = 1, 1
        for k, s, d in layers:
            r, j = r + d * (k - 1) * j, j * s
        return r

    rng = np.random.default_rng(7)
    cases = [[], [(1, 1, 1)], [(3, 1, 1)], [(2, 2, 1)], [(2, 2, 1), (5, 1, 1)],
             [(5, 1, 1), (2, 2, 1)], [(3, 1, 2), (3, 1, 4)], [(1, 2, 1), (1, 2, 1), (3, 1, 1)],
             [(3, 1, 1), (3, 1, 1), (2, 2, 1)] * 4]
    cases += [[tuple(int(v) for v in (rng.integers(1, 6), rng.integers(1, 4), rng.integers(1, 3)))
               for _ in range(rng.integers(1, 8))] for _ in range(6)]
    for layers in cases:
        got = receptive_field(list(layers))
        if int(got) != got or int(got) != reference(layers):
            raise AssertionError(f"receptive field of layers (kernel, stride, dilation) = "
                                 f"{layers}: expected {reference(layers)}, got {got}")
    return passed("receptive field", len(cases))


def _windows(h, w, k, s):
    return [(i, j) for i in range(0, h - k + 1, s) for j in range(0, w - k + 1, s)]


def _max_reference(x, g, k, s):
    dx = np.zeros_like(x)
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for j in range(wo):
                    window = x[a, b, i * s:i * s + k, j * s:j * s + k]
                    r, q = np.unravel_index(np.argmax(window), window.shape)   # first maximum
                    dx[a, b, i * s + r, j * s + q] += g[a, b, i, j]
    return dx


def check_max_pool_backward(max_pool_backward):
    """``max_pool_backward(x, grad_output, kernel, stride)`` returns dL/dx for max pooling
    without padding: x (N, C, H, W), grad_output (N, C, Ho, Wo), square ``kernel`` and
    ``stride``. Checked against a loop, on: windows with tied maxima (the gradient goes to the
    first maximum in row-major order, as torch's CPU kernel does, not to every tie), overlapping
    windows (stride < kernel: one input can win several windows and must collect every
    gradient), rows and columns left over when the stride does not divide the size, a 1x1
    kernel (the identity) and float32 (the result keeps the dtype)."""
    rng = np.random.default_rng(11)
    settings = [((1, 1, 4, 4), 2, 2, "distinct"), ((2, 3, 4, 4), 2, 2, "ties"),
                ((1, 2, 5, 5), 3, 1, "distinct"), ((1, 1, 5, 5), 3, 1, "ties"),
                ((2, 1, 7, 6), 3, 2, "distinct"), ((1, 2, 3, 3), 1, 1, "distinct"),
                ((2, 2, 6, 6), 2, 2, "float32")]
    for shape, k, s, kind in settings:
        if kind == "ties":
            x = rng.integers(0, 2, size=shape).astype(float)        # many equal maxima
        else:
            x = rng.permutation(np.prod(shape)).reshape(shape).astype(float)
        if kind == "float32":
            x = x.astype(np.float32)
        ho, wo = (shape[2] - k) // s + 1, (shape[3] - k) // s + 1
        g = rng.standard_normal((shape[0], shape[1], ho, wo)).astype(x.dtype)
        case = f"x of shape {shape} ({kind}), kernel {k}, stride {s}"
        got = np.asarray(max_pool_backward(x.copy(), g.copy(), k, s))
        if got.dtype != x.dtype:
            raise AssertionError(f"dx has dtype {got.dtype}, expected {x.dtype} ({case})")
        compare("dx", got, _max_reference(x, g, k, s), case=case,
                rtol=1e-5 if x.dtype == np.float32 else 1e-10, atol=1e-6)
    return passed("max-pooling backward", len(settings))


def _avg_reference(shape, g, k, s, p, count_include_pad):
    n, c, h, w = shape
    padded = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=g.dtype)
    real = np.zeros((h + 2 * p, w + 2 * p))
    real[p:p + h, p:p + w] = 1
    ho, wo = g.shape[2:]
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * s, i * s + k), slice(j * s, j * s + k)
            m = k * k if count_include_pad else real[rows, cols].sum()
            padded[:, :, rows, cols] += g[:, :, i:i + 1, j:j + 1] / m
    return padded[:, :, p:p + h, p:p + w]


def check_avg_pool_backward(avg_pool_backward):
    """``avg_pool_backward(x_shape, grad_output, kernel, stride, padding, count_include_pad)``
    returns dL/dx (shape ``x_shape``) for average pooling with a square ``kernel``, ``stride``
    and zero ``padding`` on every side. Checked against a loop, on: padding with
    ``count_include_pad=False`` (windows at the border divide by the number of real entries,
    not by kernel**2), padding with True (by kernel**2, and the padding's share is dropped),
    overlapping windows (stride < kernel: contributions add), sizes the stride does not divide,
    and float32."""
    rng = np.random.default_rng(12)
    settings = [((1, 1, 4, 4), 2, 2, 0, True, np.float64),
                ((2, 1, 5, 5), 3, 1, 1, False, np.float64),
                ((1, 2, 5, 5), 3, 2, 1, True, np.float64),
                ((1, 1, 6, 7), 3, 2, 1, False, np.float64),
                ((2, 2, 7, 5), 2, 1, 0, False, np.float64),
                ((1, 1, 4, 4), 4, 1, 2, False, np.float32),
                ((2, 3, 6, 6), 2, 2, 1, True, np.float32)]
    for shape, k, s, p, include, dtype in settings:
        ho, wo = (shape[2] + 2 * p - k) // s + 1, (shape[3] + 2 * p - k) // s + 1
        g = rng.standard_normal((shape[0], shape[1], ho, wo)).astype(dtype)
        case = (f"x of shape {shape}, kernel {k}, stride {s}, padding {p}, "
                f"count_include_pad={include}, {np.dtype(dtype).name}")
        got = np.asarray(avg_pool_backward(shape, g.copy(), k, s, p, include))
        if got.dtype != dtype:
            raise AssertionError(f"dx has dtype {got.dtype}, expected {np.dtype(dtype)} ({case})")
        compare("dx", got, _avg_reference(shape, g, k, s, p, include), case=case,
                rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    return passed("average-pooling backward", len(settings))
