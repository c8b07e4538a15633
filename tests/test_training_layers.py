"""Dropout, batch normalization and the highway layer, against PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.diagnostics import layer_outputs, weight_gradient_norms
from deepglossary.losses import CrossEntropy
from deepglossary.models import MLP
from deepglossary.verify import against_torch, gradcheck


# -- dropout ------------------------------------------------------------------------------
@given(p=st.sampled_from([0.1, 0.5, 0.9]), seed=st.integers(0, 1000),
       shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple))
def test_dropout_matches_torch_with_its_own_mask(dtype, p, seed, shape):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    torch.manual_seed(seed)                       # torch draws its mask ...
    kept = torch.nn.functional.dropout(torch.ones(shape, dtype=torch.float64), p) != 0
    ours = nn.Dropout(p)
    ours.fixed_mask = kept.numpy()                # ... and ours is given the same one

    def theirs(t):
        torch.manual_seed(seed)
        return torch.nn.functional.dropout(t, p, training=True)

    # the CPU generator drew the mask: on a GPU torch would draw another
    assert against_torch(ours, theirs, x, devices=["cpu"]).ok


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_extremes_behave_as_torch(p):
    x = np.random.default_rng(0).standard_normal((4, 5))
    ours = nn.Dropout(p)
    y = ours(x)
    expected = torch.nn.functional.dropout(torch.tensor(x), p, training=True).numpy()
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(ours.backward(np.ones_like(x)), np.ones_like(x) * (p == 0))


def test_dropout_keeps_the_mean_and_is_identity_in_eval():
    layer = nn.Dropout(0.3, rng=np.random.default_rng(0))
    x = np.ones((2000, 500))
    assert layer(x).mean() == pytest.approx(1.0, abs=0.01)
    assert ((layer(x) == 0).mean()) == pytest.approx(0.3, abs=0.01)
    layer.eval()
    np.testing.assert_array_equal(layer(x), x)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# -- batch normalization ------------------------------------------------------------------
@given(n=st.integers(2, 6), c=st.integers(1, 4), spatial=st.sampled_from([(), (3,), (2, 3)]),
       seed=st.integers(0, 1000), training=st.booleans())
def test_batchnorm_matches_torch(dtype, n, c, spatial, seed, training):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, *spatial)) * 3 + 1).astype(dtype)
    ours = nn.BatchNorm(c, dtype=dtype)
    ours.weight.data[:] = rng.uniform(0.5, 2, c)
    ours.bias.data[:] = rng.standard_normal(c)
    ours.running_mean[:] = rng.standard_normal(c)
    ours.running_var[:] = rng.uniform(0.5, 2, c)
    ours.train(training)
    twin = torch.nn.BatchNorm2d(c) if len(spatial) == 2 else torch.nn.BatchNorm1d(c)
    report = against_torch(ours, twin, x)
    assert {"running_mean", "running_var"} <= {r.quantity for r in report.rows}


def test_batchnorm_running_statistics_after_several_steps():
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm(3), torch.nn.BatchNorm1d(3).double()
    for step in range(10):
        x = rng.standard_normal((8, 3)) * (step + 1) + step
        ours(x)
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)


def test_batchnorm_batch_of_one_is_refused_like_torch():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm(3)(np.ones((1, 3)))
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3)(torch.ones(1, 3))
    nn.BatchNorm(3).eval()(np.ones((1, 3)))          # fine in eval mode, as in torch


def test_batchnorm_constant_feature_behaves_like_torch():
    x = np.c_[np.full(5, 3.0), np.arange(5.0)]
    report = against_torch(nn.BatchNorm(2), torch.nn.BatchNorm1d(2), x)
    assert report.ok
    assert np.all(nn.BatchNorm(2)(x)[:, 0] == 0)   # (x - mean) = 0: the output is beta


def test_batchnorm_gradcheck_and_bad_shape():
    assert gradcheck(nn.BatchNorm(3), np.random.default_rng(1).standard_normal((4, 3, 2))).ok
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        nn.BatchNorm(3)(np.ones((4, 2)))


# -- highway ------------------------------------------------------------------------------
class TorchHighway(torch.nn.Module):
    """The same computation with torch modules, named like ours."""

    def __init__(self, size):
        super().__init__()
        self.transform = torch.nn.Linear(size, size)
        self.gate = torch.nn.Linear(size, size)

    def forward(self, x):
        t = torch.sigmoid(self.gate(x))
        return t * torch.relu(self.transform(x)) + (1 - t) * x


@given(size=st.integers(1, 6), batch=st.integers(1, 5), seed=st.integers(0, 1000))
def test_highway_matches_torch(dtype, size, batch, seed):
    rng = np.random.default_rng(seed)
    ours = nn.Highway(size, dtype=dtype, rng=rng)
    x = rng.standard_normal((batch, size)).astype(dtype)
    report = against_torch(ours, TorchHighway(size), x)
    assert {"grad gate.bias", "grad transform.weight"} <= {r.quantity for r in report.rows}


def test_highway_starts_near_the_identity():
    layer = nn.Highway(8, gate_bias=-3.0, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((10, 8))
    assert np.abs(layer(x) - x).max() < 0.5 * np.abs(x).max()
    assert gradcheck(layer, x[:3]).ok


# -- diagnostics ----------------------------------------------------------------------------
def test_diagnostics_measure_every_affine_layer():
    model = MLP([5, 4, 4, 3], activation=nn.Sigmoid, rng=np.random.default_rng(0))
    x, y = np.random.default_rng(1).standard_normal((6, 5)), np.array([0, 1, 2, 0, 1, 2])
    norms = weight_gradient_norms(model, CrossEntropy(), x, y)
    assert norms.shape == (3,) and np.all(norms > 0)
    assert [o.shape for o in layer_outputs(model, x)] == [(6, 4)] * 4 + [(6, 3)]


def test_input_gradient_norms_follow_the_chain():
    from deepglossary.diagnostics import input_gradient_norms

    model = MLP([5, 4, 3], rng=np.random.default_rng(0))
    x, y = np.random.default_rng(1).standard_normal((6, 5)), np.arange(6) % 3
    norms = input_gradient_norms(model, CrossEntropy(), x, y)
    loss = CrossEntropy()
    loss(model(x), y)
    np.testing.assert_allclose(norms[0], np.linalg.norm(model.backward(loss.backward())))
    assert norms.shape == (2,)
