"""The depthwise fast path of Conv2d (groups == in_channels == out_channels, shifted slices)
against the general im2col path and against torch, over geometries drawn by hypothesis."""

import contextlib

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.nn import conv
from deepglossary.verify import against_torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@contextlib.contextmanager
def depthwise_fast(on: bool, block_bytes: int | None = None):
    """Turn the fast path on or off for a block (and optionally set the size of its batch
    blocks), and restore both settings afterwards."""
    before = conv.DEPTHWISE_FAST, conv.DEPTHWISE_BLOCK_BYTES
    conv.DEPTHWISE_FAST = on
    if block_bytes is not None:
        conv.DEPTHWISE_BLOCK_BYTES = block_bytes
    try:
        yield
    finally:
        conv.DEPTHWISE_FAST, conv.DEPTHWISE_BLOCK_BYTES = before


@st.composite
def depthwise_geometries(draw):
    """A depthwise Conv2d configuration and an input size with at least one output position."""
    c = draw(st.integers(1, 4))
    k = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    extent = [d * (kk - 1) + 1 for kk, d in zip(k, dilation)]
    h = draw(st.integers(max(1, extent[0] - 2 * padding[0]), 11))
    w = draw(st.integers(max(1, extent[1] - 2 * padding[1]), 11))
    n = draw(st.integers(1, 4))
    return dict(c=c, k=k, stride=stride, dilation=dilation, padding=padding,
                bias=draw(st.booleans()), shape=(n, c, h, w))


def _layer(g, dtype, seed):
    return nn.Conv2d(g["c"], g["c"], g["k"], stride=g["stride"], padding=g["padding"],
                     dilation=g["dilation"], groups=g["c"], bias=g["bias"], dtype=dtype,
                     rng=np.random.default_rng(seed))


def _run(layer, x, grad):
    """y, dx and the parameter gradients of one forward and backward pass, and the path taken."""
    layer.zero_grad()
    y = layer(x)
    depthwise = layer._cache[1] is None          # the fast path saves no kernel matrix
    dx = layer.backward(grad)
    grads = [p.grad for p in layer.parameters()]
    return [y, dx, *grads], depthwise


def _close(ours, reference, dtype):
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for a, b in zip(ours, reference, strict=True):
        assert a.dtype == b.dtype == dtype
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()))


@given(g=depthwise_geometries(), seed=st.integers(0, 2**31),
       block_bytes=st.sampled_from([1, 1000, 2**19]))
def test_fast_path_matches_im2col_path(dtype, g, seed, block_bytes):
    """block_bytes 1 works through the batch one item at a time, 1000 in uneven blocks."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(g["shape"]).astype(dtype)
    layer = _layer(g, dtype, seed)
    ho, wo = layer.window.output_size(*g["shape"][2:])
    grad = rng.standard_normal((g["shape"][0], g["c"], ho, wo)).astype(dtype)
    with depthwise_fast(True, block_bytes):
        fast, took_fast = _run(layer, x, grad)
    with depthwise_fast(False):
        general, took_fast_when_off = _run(layer, x, grad)
    assert took_fast and not took_fast_when_off
    _close(fast, general, dtype)


@given(g=depthwise_geometries(), seed=st.integers(0, 2**31),
       block_bytes=st.sampled_from([1, 2**19]))
def test_fast_path_matches_torch(dtype, g, seed, block_bytes):
    rng = np.random.default_rng(seed)
    ours = _layer(g, dtype, seed)
    theirs = torch.nn.Conv2d(g["c"], g["c"], g["k"], stride=g["stride"], padding=g["padding"],
                             dilation=g["dilation"], groups=g["c"], bias=g["bias"])
    x = rng.standard_normal(g["shape"]).astype(dtype)
    with depthwise_fast(True, block_bytes):
        report = against_torch(ours, theirs, x)
        assert ours._cache[1] is None                # the fast path ran
    assert len(report.rows_on("cpu")) == (4 if g["bias"] else 3)


@pytest.mark.parametrize("kernel,dilation", [(1, 1), (3, 1), (4, 1), ((2, 5), (2, 1))])
def test_fast_path_same_padding_matches_torch(dtype, kernel, dilation):
    """padding='same' pads asymmetrically for an even extent: the fast path must follow."""
    rng = np.random.default_rng(0)
    ours = nn.Conv2d(3, 3, kernel, padding="same", dilation=dilation, groups=3, dtype=dtype,
                     rng=rng)
    theirs = torch.nn.Conv2d(3, 3, kernel, padding="same", dilation=dilation, groups=3)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    with depthwise_fast(True):
        assert ours(x).shape == (2, 3, 9, 8)
        against_torch(ours, theirs, x)


def test_conv1d_depthwise_matches_torch(dtype):
    rng = np.random.default_rng(2)
    ours = nn.Conv1d(4, 4, 3, stride=2, padding=1, dilation=2, groups=4, dtype=dtype, rng=rng)
    x = rng.standard_normal((3, 4, 13)).astype(dtype)
    with depthwise_fast(True):
        against_torch(ours, torch.nn.Conv1d(4, 4, 3, stride=2, padding=1, dilation=2, groups=4),
                      x)
        assert ours._cache[1] is None


def test_batch_blocks_cover_the_batch():
    """The blocks of the fast path tile the batch exactly, the last one possibly shorter."""
    xp = np.zeros((7, 2, 5, 5), dtype=np.float32)                  # 200 bytes per item
    with depthwise_fast(True, 450):
        starts, size = conv._batch_blocks(xp)
    assert size == 2 and list(starts) == [0, 2, 4, 6]


def test_float32_stays_float32():
    rng = np.random.default_rng(3)
    layer = nn.Conv2d(5, 5, 3, padding=1, groups=5, dtype=np.float32, rng=rng)
    x = rng.standard_normal((2, 5, 6, 6)).astype(np.float32)
    with depthwise_fast(True):
        y = layer(x)
        dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


def test_only_one_filter_per_channel_takes_the_fast_path():
    """groups == in_channels with a channel multiplier (out = 2 in) and ordinary grouped
    convolutions keep the im2col path."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 6, 6))
    with depthwise_fast(True):
        for layer in (nn.Conv2d(4, 8, 3, groups=4, rng=rng), nn.Conv2d(4, 4, 3, groups=2, rng=rng),
                      nn.Conv2d(4, 4, 3, rng=rng)):
            layer(x)
            assert layer._cache[1] is not None, layer
        layer = nn.Conv2d(4, 4, 3, groups=4, rng=rng)
        layer(x)
        assert layer._cache[1] is None


def test_switch_between_forward_and_backward_keeps_the_forward_path():
    """The backward pass follows the path its forward pass took, whatever the switch says now."""
    rng = np.random.default_rng(5)
    layer = nn.Conv2d(3, 3, 3, stride=2, padding=1, groups=3, rng=rng)
    x = rng.standard_normal((2, 3, 7, 7))
    with depthwise_fast(False):
        y = layer(x)
        reference = layer.backward(np.ones_like(y))
    layer.zero_grad()
    with depthwise_fast(True):
        layer(x)
    with depthwise_fast(False):
        dx = layer.backward(np.ones_like(y))
    np.testing.assert_allclose(dx, reference, rtol=1e-12, atol=1e-12)
