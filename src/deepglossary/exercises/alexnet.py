"""Checkers for the exercises of the AlexNet chapter: a convolution's bookkeeping (output size,
parameters, multiply-accumulates) and local response normalization."""

import numpy as np

from deepglossary.exercises import compare, passed


def _conv_reference(size, in_channels, out_channels, kernel, stride, padding, groups):
    out = (size + 2 * padding - kernel) // stride + 1
    params = out_channels * (in_channels // groups) * kernel * kernel + out_channels
    macs = out_channels * out * out * (in_channels // groups) * kernel * kernel
    return out, params, macs


# (size, in_channels, out_channels, kernel, stride, padding, groups, what the case catches)
CONV_CASES = [
    (224, 3, 64, 11, 4, 2, 1, "torchvision's first layer"),
    (227, 3, 96, 11, 4, 0, 1, "the paper's first layer"),
    (27, 96, 256, 5, 1, 2, 2, "the paper's second layer: two groups, one per GPU"),
    (13, 384, 384, 3, 1, 1, 2, "the paper's fourth layer, two groups"),
    (13, 192, 384, 3, 1, 1, 1, "torchvision's third layer"),
    (28, 1, 4, 5, 1, 2, 1, "the digits' first layer"),
    (10, 4, 6, 3, 2, 0, 1, "a stride that does not divide the size: floor"),
    (9, 8, 8, 3, 2, 1, 8, "depthwise: as many groups as channels"),
    (7, 6, 12, 7, 1, 0, 3, "a kernel as large as the input: one output"),
    (5, 5, 7, 1, 1, 0, 1, "a 1x1 kernel"),
]


def check_conv_stats(conv_stats):
    """``conv_stats(size, in_channels, out_channels, kernel, stride, padding, groups)`` returns
    ``(out_size, params, macs)`` for a square ``size`` x ``size`` input: the output's height
    (= width), the number of parameters (weights and biases) and the multiply-accumulates of
    one example. Checked on AlexNet's layers and on edge cases: groups (each kernel sees
    in_channels / groups channels, in the weights and in the MACs), a stride that does not divide
    the size (the floor), depthwise, a kernel as large as the input, 1x1. A common slip is
    counting the biases as MACs, or the MACs as params times positions."""
    for size, c_in, c_out, k, s, p, g, what in CONV_CASES:
        expected = _conv_reference(size, c_in, c_out, k, s, p, g)
        got = conv_stats(size, c_in, c_out, k, s, p, g)
        try:
            got = tuple(got)
        except TypeError:
            raise AssertionError(f"conv_stats must return (out_size, params, macs), got "
                                 f"{got!r}") from None
        case = (f"size {size}, in {c_in}, out {c_out}, kernel {k}, stride {s}, padding {p}, "
                f"groups {g}: {what}")
        if len(got) != 3:
            raise AssertionError(f"conv_stats must return three numbers (out_size, params, "
                                 f"macs), got {got!r} ({case})")
        for name, value, right in zip(("out_size", "params", "macs"), got, expected):
            if not float(value).is_integer() or int(value) != right:
                raise AssertionError(f"{name}: expected {right}, got {value!r} ({case})")
    return passed("convolution output size, parameters and MACs", len(CONV_CASES))


def _lrn_reference(x, size, alpha, beta, k):
    y = np.empty_like(x)
    channels = x.shape[1]
    for c in range(channels):
        lo, hi = max(c - size // 2, 0), min(c + (size - 1) // 2, channels - 1)
        energy = (x[:, lo:hi + 1] ** 2).sum(axis=1)
        y[:, c] = x[:, c] / (k + alpha / size * energy) ** beta
    return y


def check_lrn(lrn):
    """``lrn(x, size, alpha, beta, k)`` returns torch's ``local_response_norm`` of ``x``
    (N, C, *): ``x_c / (k + alpha / size * sum of x_c'^2)^beta`` over the channels
    c - size // 2 ... c + (size - 1) // 2, those beyond the edges counting as zeros. Checked on:
    odd and even windows (an even window reaches one channel further back than forward), a
    window wider than the channels, size 1, the paper's constants, 3-D and 5-D inputs, and
    float32 (the result keeps the dtype). Catches alpha not divided by size (the paper's
    convention, not torch's), a window centred the other way for even sizes, and channels that
    wrap around (np.roll) instead of seeing zeros."""
    rng = np.random.default_rng(13)
    settings = [((2, 7, 3, 3), 5, 1e-4 * 5, 0.75, 2.0, np.float64),
                ((2, 7, 3, 3), 3, 0.8, 0.75, 1.0, np.float64),
                ((1, 6, 2, 2), 4, 0.9, 0.6, 1.2, np.float64),
                ((1, 6, 4), 2, 1.5, 1.0, 0.5, np.float64),
                ((2, 3, 2, 2), 7, 0.7, 0.75, 1.0, np.float64),
                ((1, 5, 3), 1, 2.0, 0.5, 1.0, np.float64),
                ((1, 4, 2, 2, 2), 3, 0.5, 0.75, 1.0, np.float64),
                ((2, 6, 3, 3), 4, 0.9, 0.75, 1.0, np.float32)]
    for shape, size, alpha, beta, k, dtype in settings:
        x = (3 * rng.standard_normal(shape)).astype(dtype)
        case = (f"x of shape {shape}, size {size}, alpha {alpha}, beta {beta}, k {k}, "
                f"{np.dtype(dtype).name}")
        got = np.asarray(lrn(x.copy(), size, alpha, beta, k))
        if got.dtype != dtype:
            raise AssertionError(f"the result has dtype {got.dtype}, expected "
                                 f"{np.dtype(dtype).name} ({case})")
        compare("lrn(x)", got, _lrn_reference(x, size, alpha, beta, k), case=case,
                rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    return passed("local response normalization", len(settings))
