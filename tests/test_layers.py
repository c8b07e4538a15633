"""Every layer against its PyTorch twin, over shapes and values drawn by hypothesis."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.verify import against_torch, gradcheck

# layer name -> (ours, theirs, whether the function has a kink at 0 to keep inputs away from)
LAYERS = {
    "Sigmoid": (nn.Sigmoid, torch.nn.Sigmoid, False),
    "Tanh": (nn.Tanh, torch.nn.Tanh, False),
    "ReLU": (nn.ReLU, torch.nn.ReLU, True),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1), True),
    "Softplus": (lambda: nn.Softplus(2.0, 10.0), lambda: torch.nn.Softplus(2.0, 10.0), False),
    "PReLU": (nn.PReLU, torch.nn.PReLU, True),
}

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)
scales = st.sampled_from([1e-3, 1.0, 5.0, 40.0])


def draw_input(shape, scale, seed, dtype, away_from_zero):
    """Standard normal values times ``scale``; kinked functions get |x| >= 1e-3 * scale."""
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    if away_from_zero:
        x = np.sign(x + (x == 0)) * np.maximum(np.abs(x), 1e-3 * scale)
    return x.astype(dtype)


@pytest.mark.parametrize("name", LAYERS)
@given(shape=shapes, scale=scales, seed=st.integers(0, 2**31))
def test_activation_matches_torch(name, dtype, shape, scale, seed):
    ours, theirs, kink = LAYERS[name]
    x = draw_input(shape, scale, seed, dtype, kink)
    if name == "Softplus":   # keep beta * x off the threshold where the formula switches
        x[np.abs(2 * x - 10) < 1e-2] = 1.0
    report = against_torch(ours(), theirs(), x)
    assert report.ok and len(report.rows) >= 2


@given(channels=st.integers(1, 4), batch=st.integers(1, 4), spatial=st.lists(
    st.integers(1, 3), max_size=2), seed=st.integers(0, 2**31))
def test_prelu_per_channel_matches_torch(dtype, channels, batch, spatial, seed):
    x = draw_input((batch, channels, *spatial), 1.0, seed, dtype, True)
    ours = nn.PReLU(channels, init=0.1, dtype=dtype)
    ours.weight.data[:] = np.linspace(-0.5, 0.5, channels)
    report = against_torch(ours, torch.nn.PReLU(channels), x)
    assert [r.quantity for r in report.rows_on("cpu")] == ["output", "grad input", "grad weight"]


@given(batch=st.lists(st.integers(1, 4), max_size=2).map(tuple), n_in=st.integers(1, 7),
       n_out=st.integers(1, 7), bias=st.booleans(), seed=st.integers(0, 2**31))
def test_affine_matches_torch(dtype, batch, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    ours = nn.Affine(n_in, n_out, bias=bias, dtype=dtype, rng=rng)
    x = rng.standard_normal(batch + (n_in,)).astype(dtype)
    report = against_torch(ours, torch.nn.Linear(n_in, n_out, bias=bias), x)
    compared = {r.quantity for r in report.rows}
    assert {"output", "grad input", "grad weight"} <= compared
    assert ("grad bias" in compared) == bias


def test_mlp_matches_torch(dtype):
    rng = np.random.default_rng(1)
    ours = nn.Sequential(nn.Affine(5, 8, dtype=dtype, rng=rng), nn.Tanh(),
                         nn.Affine(8, 8, dtype=dtype, rng=rng), nn.ReLU(),
                         nn.Affine(8, 3, dtype=dtype, rng=rng), nn.Sigmoid())
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                                 torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.Sigmoid())
    assert [n for n, _ in ours.named_parameters()] == list(theirs.state_dict())
    report = against_torch(ours, theirs, rng.standard_normal((6, 5)).astype(dtype))
    assert len(report.rows_on("cpu")) == 2 + 6


GRADCHECK = {
    "Affine": (lambda: nn.Affine(4, 3), (5, 4)),
    "Sigmoid": (nn.Sigmoid, (5, 4)),
    "Tanh": (nn.Tanh, (5, 4)),
    "ReLU": (nn.ReLU, (5, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (5, 4)),
    "PReLU": (lambda: nn.PReLU(3, init=0.3), (5, 3, 2)),
    "Softplus": (nn.Softplus, (5, 4)),
    "Sequential": (lambda: nn.Sequential(nn.Affine(4, 3), nn.Softplus(), nn.Affine(3, 3)),
                   (5, 4)),
}


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck(name):
    layer, shape = GRADCHECK[name]
    report = gradcheck(layer(), draw_input(shape, 1.0, 3, np.float64, True))
    assert report.max_error < 1e-6 and len(report.rows) >= 1


def test_float32_layer_computes_in_float32():
    layer = nn.Affine(3, 2)   # float64 parameters
    y = layer(np.ones((4, 3), dtype=np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones((4, 2), dtype=np.float32)).dtype == np.float32
    assert layer.weight.grad.dtype == np.float64


def test_gradients_accumulate_like_torch():
    layer = nn.Affine(3, 2)
    x = np.ones((4, 3))
    layer(x)
    layer.backward(np.ones((4, 2)))
    once = layer.weight.grad.copy()
    layer(x)
    layer.backward(np.ones((4, 2)))
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert layer.weight.grad is None
