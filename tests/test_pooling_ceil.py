"""Pooling with ``ceil_mode=True`` against torch: output sizes over a grid of geometries
(including the sizes where torch drops the last window, or refuses), and values and gradients
over geometries drawn by hypothesis, for max and average pooling."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.nn.pooling import pooled_size
from deepglossary.verify import against_torch


def torch_length(size, k, s, p, d, ceil_mode):
    """torch's output length along one axis, or None when torch refuses the input."""
    x = torch.zeros(1, 1, 1, size)
    try:
        return torch.nn.functional.max_pool2d(x, (1, k), (1, s), (0, p), (1, d),
                                              ceil_mode=ceil_mode).shape[-1]
    except RuntimeError:
        return None


def test_output_length_is_torchs_on_a_grid():
    checked = dropped = refused = 0
    for k, s, d, size in itertools.product(range(1, 5), range(1, 5), (1, 2), range(1, 12)):
        for p, ceil_mode in itertools.product(range(k // 2 + 1), (False, True)):
            ours = pooled_size(size, k, s, p, d, ceil_mode)
            theirs = torch_length(size, k, s, p, d, ceil_mode)
            if theirs is None:
                assert ours < 1, (size, k, s, p, d, ceil_mode)
                refused += 1
                continue
            assert ours == theirs, (size, k, s, p, d, ceil_mode)
            checked += 1
            raw = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
            dropped += ceil_mode and raw == ours + 1
    assert checked > 500 and dropped > 10 and refused > 10   # every branch of the rule is met


@pytest.mark.parametrize("size,k,s,p,expected", [
    (112, 3, 2, 0, 56), (56, 3, 2, 0, 28), (28, 3, 2, 0, 14),   # GoogLeNet's maxpool1..3
    (14, 2, 2, 0, 7), (14, 3, 1, 1, 14),                          # maxpool4, branch4's pool
    (14, 3, 2, 0, 7), (7, 3, 2, 0, 3), (3, 2, 2, 0, 2),           # the scaled-down digits net
    (5, 2, 2, 1, 3),                                              # the last window dropped
])
def test_googlenet_cases(dtype, size, k, s, p, expected):
    rng = np.random.default_rng(size + k)
    x = rng.permutation(2 * 3 * size * (size + 1)).reshape(2, 3, size, size + 1).astype(dtype)
    ours = nn.MaxPool2d(k, s, p, ceil_mode=True)
    assert ours(x).shape[2] == expected
    against_torch(ours, torch.nn.MaxPool2d(k, s, p, ceil_mode=True), x)
    floor = nn.MaxPool2d(k, s, p)(x).shape[2]
    assert floor == (size + 2 * p - k) // s + 1 <= expected


@st.composite
def ceil_geometries(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    h = draw(st.integers(max(1, k[0] - 2 * padding[0]), 10))
    w = draw(st.integers(max(1, k[1] - 2 * padding[1]), 10))
    return dict(k=k, stride=stride, padding=padding, shape=(draw(st.integers(1, 2)), 2, h, w))


@given(g=ceil_geometries(), dilation=st.integers(1, 2), seed=st.integers(0, 2**31))
def test_max_pool_ceil_matches_torch(dtype, g, dilation, seed):
    extent = [dilation * (k - 1) + 1 for k in g["k"]]
    shape = g["shape"]
    if any(g["padding"]) or any(n < e for n, e in zip(shape[2:], extent)):
        dilation = 1          # a dilated window can skip the input and see only padding
    rng = np.random.default_rng(seed)
    x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(dtype)   # distinct values
    ours = nn.MaxPool2d(g["k"], g["stride"], g["padding"], dilation, ceil_mode=True)
    theirs = torch.nn.MaxPool2d(g["k"], g["stride"], g["padding"], dilation, ceil_mode=True)
    against_torch(ours, theirs, x)


@given(g=ceil_geometries(), include=st.booleans(), seed=st.integers(0, 2**31))
def test_avg_pool_ceil_matches_torch(dtype, g, include, seed):
    x = np.random.default_rng(seed).standard_normal(g["shape"]).astype(dtype)
    ours = nn.AvgPool2d(g["k"], g["stride"], g["padding"], ceil_mode=True,
                        count_include_pad=include)
    theirs = torch.nn.AvgPool2d(g["k"], g["stride"], g["padding"], ceil_mode=True,
                                count_include_pad=include)
    against_torch(ours, theirs, x)


@pytest.mark.parametrize("include", [True, False])
def test_avg_pool_ceil_divisor_of_the_partial_window(include):
    """A 6-wide input, kernel 3, stride 2, padding 1: windows start at columns -1, 1, 3, 5; the
    last covers the input's column 5, the padding column 6 and one column past the padded
    input. torch divides it by 2 (input and padding) or 1 (input only), never by 3."""
    x = np.arange(6, dtype=np.float64).reshape(1, 1, 1, 6)
    y = nn.AvgPool2d((1, 3), (1, 2), (0, 1), ceil_mode=True, count_include_pad=include)(x)
    assert y.shape[-1] == 4
    assert y[0, 0, 0, -1] == (5 / 2 if include else 5.0)
    assert y[0, 0, 0, 0] == ((0 + 1) / 3 if include else (0 + 1) / 2)
    floor = nn.AvgPool2d((1, 3), (1, 2), (0, 1), count_include_pad=include)(x)
    assert floor.shape[-1] == 3 and np.array_equal(floor[..., :3], y[..., :3])


def test_ceil_mode_shows_in_the_repr_and_refuses_what_torch_refuses():
    assert "ceil_mode=True" in repr(nn.MaxPool2d(3, 2, ceil_mode=True))
    assert "ceil_mode" not in repr(nn.MaxPool2d(3, 2))
    # ceil mode lets a kernel larger than the input make one window (torch: a 1x1 output) ...
    assert nn.MaxPool2d(3, ceil_mode=True)(np.ones((1, 1, 2, 2))).shape == (1, 1, 1, 1)
    assert torch_length(2, 3, 3, 0, 1, True) == 1
    with pytest.raises(ValueError, match="larger than the padded input"):   # ... not always
        nn.MaxPool2d(3, stride=1, ceil_mode=True)(np.zeros((1, 1, 1, 1)))
    assert torch_length(1, 3, 1, 0, 1, True) is None
    pool = nn.MaxPool2d(3, 2, ceil_mode=True)
    pool(np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"\(1, 1, 4, 4\)"):     # ceil: 4, floor would be 3
        pool.backward(np.zeros((1, 1, 3, 3)))
