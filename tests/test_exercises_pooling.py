"""The pooling chapters' checkers accept right answers and reject naive ones; the invariance
helpers (shift, receptive field) do what they say."""

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.exercises import pooling
from deepglossary.invariance import measured_receptive_field, receptive_field, shift


def rf_right(layers):
    r, j = 1, 1
    for k, s, d in layers:
        r, j = r + d * (k - 1) * j, j * s
    return r


def rf_own_stride(layers):          # multiplies the jump before using it
    r, j = 1, 1
    for k, s, d in layers:
        j *= s
        r += d * (k - 1) * j
    return r


def rf_sum(layers):                 # adds the kernels
    return 1 + sum(k - 1 for k, _, _ in layers)


def rf_no_dilation(layers):
    return rf_right([(k, s, 1) for k, s, _ in layers])


def test_receptive_field_checker():
    pooling.check_receptive_field(rf_right)
    for wrong in (rf_own_stride, rf_sum, rf_no_dilation):
        with pytest.raises(AssertionError):
            pooling.check_receptive_field(wrong)


def max_right(x, g, k, s):
    layer = nn.MaxPool2d(k, s)
    layer(x)
    return layer.backward(g)


def max_every_tie(x, g, k, s):      # sends the gradient to every tied maximum
    dx = np.zeros_like(x)
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            w = x[:, :, i * s:i * s + k, j * s:j * s + k]
            mask = w == w.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * g[:, :, i:i + 1, j:j + 1]
    return dx


def max_overwrite(x, g, k, s):      # assigns instead of adding: overlapping windows lose some
    dx = np.zeros_like(x)
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            w = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(*x.shape[:2], -1)
            arg = w.argmax(axis=2)
            for a in range(x.shape[0]):
                for b in range(x.shape[1]):
                    r, q = divmod(arg[a, b], k)
                    dx[a, b, i * s + r, j * s + q] = g[a, b, i, j]
    return dx


def max_float64(x, g, k, s):
    return max_right(x.astype(np.float64), g.astype(np.float64), k, s)


def test_max_pool_backward_checker():
    pooling.check_max_pool_backward(max_right)
    for wrong in (max_every_tie, max_overwrite, max_float64):
        with pytest.raises(AssertionError):
            pooling.check_max_pool_backward(wrong)


def avg_right(shape, g, k, s, p, include):
    layer = nn.AvgPool2d(k, s, p, count_include_pad=include)
    layer(np.zeros(shape, dtype=g.dtype))
    return layer.backward(g)


def avg_always_k2(shape, g, k, s, p, include):
    return avg_right(shape, g, k, s, p, True)


def avg_never_pad(shape, g, k, s, p, include):
    return avg_right(shape, g, k, s, p, False)


def avg_upcast(shape, g, k, s, p, include):
    return avg_right(shape, g.astype(np.float64), k, s, p, include)


def test_avg_pool_backward_checker():
    pooling.check_avg_pool_backward(avg_right)
    for wrong in (avg_always_k2, avg_never_pad, avg_upcast):
        with pytest.raises(AssertionError):
            pooling.check_avg_pool_backward(wrong)


def test_shift_moves_and_fills_with_zeros():
    x = np.arange(12.0).reshape(1, 3, 4)
    right = shift(x, 0, 1)
    np.testing.assert_array_equal(right[0, :, 1:], x[0, :, :-1])
    assert (right[0, :, 0] == 0).all()
    up = shift(x, -1, 0)
    np.testing.assert_array_equal(up[0, :-1], x[0, 1:])
    assert (up[0, -1] == 0).all()
    np.testing.assert_array_equal(shift(shift(x, 1, 1), -1, -1)[0, :-1, :-1], x[0, :-1, :-1])
    with pytest.raises(ValueError):
        shift(x, 3, 0)
    with pytest.raises(ValueError):
        shift(np.zeros(3), 0, 1)


@pytest.mark.parametrize("spec", [[(3, 1), (2, 2), (3, 1), (2, 2)], [(5, 1), (3, 2), (3, 1)],
                                  [(2, 2), (2, 2), (2, 2)], [(1, 1), (3, 3)]])
def test_receptive_field_formula_matches_the_gradient(spec):
    layers = []
    for k, s in spec:
        if s == 1:
            conv = nn.Conv2d(1, 1, k, stride=s)
            conv.weight.data[:] = 1.0
            layers.append(conv)
        else:
            layers.append(nn.AvgPool2d(k, s))
    expected = receptive_field(layers)[-1]["r"]
    assert expected == rf_right([(k, s, 1) for k, s in spec])
    measured = measured_receptive_field(nn.Sequential(*layers), 40)
    assert measured.span == measured.count == expected          # no gaps without dilation


def test_measured_receptive_field_sees_the_gaps_of_dilation():
    layers = []
    for dilation in (2, 4):              # layer 1's taps are 2 apart: R_0 = 1 < dil_1 jump_0 = 2
        conv = nn.Conv2d(1, 1, 3, dilation=dilation, bias=False)
        conv.weight.data[:] = 1.0
        layers.append(conv)
    assert receptive_field(layers)[-1]["r"] == 13
    span, count = measured_receptive_field(nn.Sequential(*layers), 52)
    assert span == 13 and count == 7                               # rows 0, 2, ..., 12


def test_receptive_field_skips_layers_without_a_window():
    layers = [nn.Conv2d(1, 2, 3, dilation=2), nn.ReLU(), nn.MaxPool2d(2)]
    rows = receptive_field(layers)
    assert [row["r"] for row in rows] == [5, 6] and rows[-1]["j"] == 2
