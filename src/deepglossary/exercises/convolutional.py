"""Checkers for the exercises of the part "Convolutional networks"."""

import numpy as np

from deepglossary.exercises import compare, passed


def _reference_conv(x, weight, bias, stride, padding, dilation, groups=1):
    from deepglossary import nn

    out_channels, cg, fh, fw = weight.shape
    layer = nn.Conv2d(cg * groups, out_channels, (fh, fw), stride=stride, padding=padding,
                      dilation=dilation, groups=groups, bias=bias is not None, dtype=x.dtype)
    layer.weight.data[...] = weight
    if bias is not None:
        layer.bias.data[...] = bias
    return layer(x)


def _cases(rng):
    # (x shape, weight shape, bias, stride, padding, dilation, dtype, what a naive answer misses)
    return [
        ((2, 1, 5, 5), (1, 1, 3, 3), True, 1, 0, 1, np.float64, "an asymmetric kernel: "
         "frameworks do not flip it (cross-correlation)"),
        ((1, 3, 6, 9), (4, 3, 2, 3), True, 1, 1, 1, np.float64, "three input channels, a "
         "rectangular image and kernel, padding 1: a 7x9 output (H' and W' differ)"),
        ((2, 2, 7, 12), (3, 2, 3, 3), True, 2, 0, 1, np.float64, "stride 2 that does not divide "
         "the image: the output size rounds down, to 3x5"),
        ((1, 2, 9, 9), (2, 2, 3, 3), True, 1, 2, 2, np.float64, "dilation 2 with padding 2"),
        ((1, 1, 4, 4), (2, 1, 6, 6), True, 1, 1, 1, np.float64, "a kernel exactly as large as "
         "the padded input: one output position"),
        ((3, 4, 5, 5), (2, 4, 1, 1), False, 1, 0, 1, np.float64, "a 1x1 kernel, no bias "
         "(bias=None)"),
        ((2, 3, 8, 12), (5, 3, 3, 2), True, 3, 2, 2, np.float32, "stride 3, padding 2, "
         "dilation 2 in float32: the output stays float32"),
    ]


def check_conv2d(conv2d, cases: int = 7):
    """``conv2d(x, weight, bias, stride, padding, dilation)`` returns the convolution
    (cross-correlation, as in every framework) of ``x`` (N, C_in, H, W) with ``weight``
    (C_out, C_in, F_h, F_w), plus ``bias`` (C_out,) or nothing if ``bias`` is None, with integer
    ``stride``, zero ``padding`` and ``dilation``; shape (N, C_out, H', W'). Checked against
    ``nn.Conv2d`` on: an asymmetric kernel (a flipped kernel fails), several channels and a
    rectangular kernel and rectangular outputs (swapping H' and W' fails), a stride that does
    not divide the image (the size rounds down),
    dilation, a kernel as large as the padded input, a 1x1 kernel without bias, and float32
    (the output keeps the input's dtype); the input must not be changed."""
    rng = np.random.default_rng(40)
    all_cases = _cases(rng)
    for xs, ws, with_bias, stride, padding, dilation, dtype, what in all_cases[:cases]:
        x = rng.standard_normal(xs).astype(dtype)
        weight = rng.standard_normal(ws).astype(dtype)
        bias = rng.standard_normal(ws[0]).astype(dtype) if with_bias else None
        case = (f"x {xs}, weight {ws}, bias {'yes' if with_bias else 'None'}, stride {stride}, "
                f"padding {padding}, dilation {dilation}, {np.dtype(dtype).name}: {what}")
        original = x.copy()
        got = conv2d(x, weight, bias, stride, padding, dilation)
        if not np.array_equal(x, original):
            raise AssertionError(f"the input x was changed ({case})")
        expected = _reference_conv(x, weight, bias, stride, padding, dilation)
        got = np.asarray(got)
        if got.dtype != expected.dtype:
            raise AssertionError(f"output dtype {got.dtype}, expected {expected.dtype} ({case})")
        tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10,
                                                                            atol=1e-10)
        compare("output", got, expected, case=case, **tol)
    return passed("conv2d", min(cases, len(all_cases)))


def check_conv_parameter_count(count, cases: int = 8):
    """``count(in_channels, out_channels, kernel_size, groups, bias)`` returns the number of
    learnable numbers of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups,
    bias=bias)``; ``kernel_size`` is an int or a pair (F_h, F_w). Checked against the layer on
    plain, rectangular, grouped, depthwise (groups = in_channels), bias-free and 1x1 cases:
    forgetting that each output channel sees only in_channels / groups inputs, or counting the
    bias per input channel, fails."""
    from deepglossary import nn

    settings = [(3, 8, 3, 1, True), (16, 32, (3, 5), 1, True), (16, 32, 3, 4, True),
                (32, 32, 3, 32, True), (32, 64, 1, 1, False), (6, 12, (1, 7), 3, False),
                (8, 16, 3, 8, True), (64, 64, 5, 2, False)]
    for cin, cout, kernel, groups, bias in settings[:cases]:
        layer = nn.Conv2d(cin, cout, kernel, groups=groups, bias=bias)
        expected = sum(p.data.size for p in layer.parameters())
        got = count(cin, cout, kernel, groups, bias)
        if got != expected:
            raise AssertionError(f"Conv2d({cin}, {cout}, kernel_size={kernel}, groups={groups}, "
                                 f"bias={bias}) has {expected} parameters, got {got}")
    return passed("parameter count", min(cases, len(settings)))
