"""The checkers of the part "Convolutional networks" accept right answers and reject wrong ones."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from deepglossary.exercises import convolutional


def right(x, weight, bias, stride=1, padding=0, dilation=1, *, flip=False, ceil=False,
          ignore_padding=False, ignore_dilation=False, ignore_bias=False, upcast=False,
          in_place=False, swap_hw=False):
    """A correct conv2d, or one with exactly one of the usual mistakes switched on."""
    if flip:
        weight = weight[:, :, ::-1, ::-1]
    if ignore_padding:
        padding = 0
    if ignore_dilation:
        dilation = 1
    _, _, fh, fw = weight.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    if ceil:                                   # pads the bottom so the last partial window fits
        extra = stride - 1
        xp = np.pad(xp, ((0, 0), (0, 0), (0, extra), (0, extra)))
    extent = (dilation * (fh - 1) + 1, dilation * (fw - 1) + 1)
    win = sliding_window_view(xp, extent, axis=(2, 3))[:, :, ::stride, ::stride, ::dilation,
                                                       ::dilation]
    y = np.einsum("ncijuv,ocuv->noij", win, weight)
    if bias is not None and not ignore_bias:
        y = y + bias[:, None, None]
    if upcast:
        y = y.astype(np.float64)
    if in_place:
        x[...] = 0
    if swap_hw:                                # H' and W' confused: right for square outputs only
        y = y.swapaxes(2, 3)
    return y


def test_conv2d_checker_accepts_a_right_answer():
    convolutional.check_conv2d(right)


@pytest.mark.parametrize("mistake", ["flip", "ceil", "ignore_padding", "ignore_dilation",
                                     "ignore_bias", "upcast", "in_place", "swap_hw"])
def test_conv2d_checker_rejects_wrong_answers(mistake):
    def wrong(*args):
        return right(*args, **{mistake: True})

    with pytest.raises((AssertionError, ValueError)):
        convolutional.check_conv2d(wrong)


def count_right(cin, cout, kernel, groups=1, bias=True):
    fh, fw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    return cout * (cin // groups) * fh * fw + (cout if bias else 0)


def test_parameter_count_checker_accepts_a_right_answer():
    convolutional.check_conv_parameter_count(count_right)


@pytest.mark.parametrize("wrong", [
    # ignores groups
    lambda cin, cout, k, g, b: count_right(cin, cout, k, 1, b),
    # one bias per input channel instead of per output channel
    lambda cin, cout, k, g, b: count_right(cin, cout, k, g, False) + (cin if b else 0),
    # always counts a bias
    lambda cin, cout, k, g, b: count_right(cin, cout, k, g, True),
    # square kernels only: (F_h, F_w) read as F_h x F_h
    lambda cin, cout, k, g, b: count_right(cin, cout, k if isinstance(k, int) else k[0], g, b),
])
def test_parameter_count_checker_rejects_wrong_answers(wrong):
    with pytest.raises(AssertionError):
        convolutional.check_conv_parameter_count(wrong)
