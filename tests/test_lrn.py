"""Local response normalization against torch.nn.LocalResponseNorm, a loop over the formula,
and central differences."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.nn.lrn import channel_window_sum
from deepglossary.verify import against_torch, gradcheck


def lrn_by_loops(x, size, alpha, beta, k):
    """The formula, one channel at a time: window c - size//2 ... c + (size-1)//2, zeros
    beyond the edges, alpha divided by size."""
    y = np.empty_like(x)
    channels = x.shape[1]
    for c in range(channels):
        lo, hi = c - size // 2, c + (size - 1) // 2
        energy = sum(x[:, j] ** 2 for j in range(max(lo, 0), min(hi, channels - 1) + 1))
        y[:, c] = x[:, c] / (k + alpha / size * energy) ** beta
    return y


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 9])
@pytest.mark.parametrize("shape", [(2, 6, 3, 4), (3, 5, 7), (1, 4, 2, 3, 2)])
def test_matches_torch(dtype, size, shape):
    """Odd and even windows, a window wider than the channels (9 > 6), 3-D to 5-D inputs;
    large entries and a large alpha, so that the denominator is far from k and every channel
    near the edges sees a window cut by the zero padding."""
    rng = np.random.default_rng(size)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    kwargs = dict(alpha=0.4, beta=0.75, k=1.5)
    report = against_torch(nn.LocalResponseNorm(size, **kwargs),
                           torch.nn.LocalResponseNorm(size, **kwargs), x)
    assert report.ok and len(report.rows_on("cpu")) == 2


@pytest.mark.parametrize("kwargs", [dict(), dict(alpha=5e-4, beta=0.75, k=2.0),
                                    dict(alpha=2.0, beta=1.5, k=0.5), dict(alpha=0.0)])
def test_matches_torch_for_other_constants(kwargs):
    x = np.random.default_rng(0).standard_normal((2, 8, 5, 5)) * 10
    assert against_torch(nn.LocalResponseNorm(5, **kwargs),
                         torch.nn.LocalResponseNorm(5, **kwargs), x).ok


@pytest.mark.parametrize("size", [1, 2, 4, 5, 8])
def test_forward_is_the_formula_with_its_asymmetric_window(size):
    """An even window reaches size//2 channels back and size//2 - 1 forward, as torch's; a
    symmetric window (or alpha not divided by size) would differ at every channel."""
    x = np.random.default_rng(1).standard_normal((2, 7, 3, 3)) * 2
    ours = nn.LocalResponseNorm(size, alpha=0.9, beta=0.6, k=1.2)(x)
    np.testing.assert_allclose(ours, lrn_by_loops(x, size, 0.9, 0.6, 1.2), rtol=1e-13)
    if size % 2 == 0:
        mirrored = lrn_by_loops(x[:, ::-1], size, 0.9, 0.6, 1.2)[:, ::-1]
        assert np.abs(mirrored - ours).max() > 1e-3


def test_edge_channels_see_zeros_beyond_the_edge():
    """Channel 0 of a size-5 window: only channels 0, 1, 2 contribute."""
    x = np.zeros((1, 6, 1, 1))
    x[0, :, 0, 0] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    y = nn.LocalResponseNorm(5, alpha=1.0, beta=1.0, k=1.0)(x)[0, :, 0, 0]
    assert y[0] == pytest.approx(1 / (1 + (1 + 4 + 9) / 5))
    assert y[5] == pytest.approx(6 / (1 + (16 + 25 + 36) / 5))
    assert y[2] == pytest.approx(3 / (1 + (1 + 4 + 9 + 16 + 25) / 5))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_backward_against_central_differences(size):
    x = np.random.default_rng(size).standard_normal((2, 5, 3, 2)) * 2
    assert gradcheck(nn.LocalResponseNorm(size, alpha=0.7, beta=0.8, k=1.3), x).ok


@pytest.mark.parametrize("before,after", [(0, 0), (2, 2), (2, 1), (1, 2), (0, 3), (7, 0)])
def test_window_sum_and_its_mirror_are_adjoint(before, after):
    """<S_(b,f) a, c> = <a, S_(f,b) c>: the backward pass's mirrored window is the transpose."""
    rng = np.random.default_rng(before * 10 + after)
    a, c = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 3))
    left = np.vdot(channel_window_sum(a, before, after), c)
    right = np.vdot(a, channel_window_sum(c, after, before))
    assert left == pytest.approx(right, rel=1e-12)


def test_computes_in_the_input_dtype():
    layer = nn.LocalResponseNorm(3)
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y, dtype=np.float64)).dtype == np.float32


@pytest.mark.parametrize("kwargs,message", [
    (dict(size=0), "size must be a positive integer"),
    (dict(size=2.5), "size must be a positive integer"),
    (dict(size=True), "size must be a positive integer"),
    (dict(size=3, k=0.0), "k must be positive"),
    (dict(size=3, alpha=-1e-4), "alpha non-negative"),
])
def test_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.LocalResponseNorm(**kwargs)


def test_refuses_bad_inputs():
    layer = nn.LocalResponseNorm(3)
    with pytest.raises(ValueError, match=r"\(N, C, \*\).*\(4, 5\)"):
        layer(np.zeros((4, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.LocalResponseNorm(3).backward(np.zeros((1, 2, 3)))
    layer(np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match=r"\(1, 2, 3\)"):
        layer.backward(np.zeros((1, 2, 4)))
    assert "alpha=0.0001, beta=0.75, k=1.0" in repr(layer)
