"""The loss, the data and the training loop of the first chapters."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import data, nn
from deepglossary.losses import MSE, BCEWithLogits
from deepglossary.train import gradient_descent
from deepglossary.verify import against_torch


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       scale=st.sampled_from([0.1, 1.0, 30.0]), seed=st.integers(0, 2**31))
def test_bce_with_logits_matches_torch(dtype, shape, scale, seed):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * scale).astype(dtype)
    t = rng.uniform(0, 1, shape).astype(dtype)
    report = against_torch(BCEWithLogits(), torch.nn.BCEWithLogitsLoss(), z, t)
    assert [r.quantity for r in report.rows_on("cpu")] == ["output", "grad input[0]"]


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2**31))
def test_mse_matches_torch(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    p, t = rng.standard_normal((2, *shape)).astype(dtype)
    report = against_torch(MSE(), torch.nn.MSELoss(), p, t)
    assert [r.quantity for r in report.rows_on("cpu")] == ["output", "grad input[0]"]
    with pytest.raises(ValueError, match="shape"):
        MSE()(p, t[..., None])


def test_bce_is_finite_for_huge_logits():
    loss = BCEWithLogits()
    value = loss(np.array([1e4, -1e4]), np.array([0.0, 1.0]))
    assert value == pytest.approx(1e4)
    np.testing.assert_allclose(loss.backward(), [0.5, -0.5])


def test_two_moons_is_balanced_and_repeatable():
    x, y = data.two_moons(101, noise=0.0, rng=np.random.default_rng(0))
    assert x.shape == (101, 2) and y.shape == (101,)
    assert set(np.unique(y)) == {0.0, 1.0} and abs(y.sum() - 50.5) <= 1
    x2, _ = data.two_moons(101, noise=0.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(x, x2)
    top = x[y == 0]   # noiseless upper moon lies on the unit circle
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)
    with pytest.raises(ValueError):
        data.two_moons(1)


def test_gradient_descent_learns_xor():
    x, y = data.xor()
    model = nn.Sequential(nn.Affine(2, 8, rng=np.random.default_rng(0)), nn.Tanh(),
                          nn.Affine(8, 1, rng=np.random.default_rng(1)))
    history = gradient_descent(model, BCEWithLogits(), x, y[:, None], lr=1.0, steps=2000)
    assert history[-1] < 0.05 < history[0]
    assert ((model(x)[:, 0] > 0) == (y == 1)).all()


def test_gradient_descent_stops_when_it_diverges():
    x, y = data.two_moons(50, rng=np.random.default_rng(0))
    model = nn.Sequential(nn.Affine(2, 64), nn.Affine(64, 64), nn.Affine(64, 1))
    history = gradient_descent(model, BCEWithLogits(), x, y[:, None], lr=100.0, steps=50)
    assert np.isfinite(history[0]) and history[3] > 1e10 and np.isnan(history[-1])
    with pytest.raises(ValueError, match="positive"):
        gradient_descent(model, BCEWithLogits(), x, y[:, None], lr=-1, steps=1)
