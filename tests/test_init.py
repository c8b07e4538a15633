"""Initialisation: the same formulas as torch.nn.init, and the same distributions."""

import math

import numpy as np
import pytest
import torch

from deepglossary import init, nn


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None), ("conv2d", None)])
def test_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


@pytest.mark.parametrize("shape", [(3, 5), (7, 2, 3), (4, 6, 3, 3)])
def test_fans_match_torch(shape):
    assert init.calculate_fan_in_and_fan_out(np.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


SAMPLERS = {
    "xavier_uniform_": dict(gain=1.5),
    "xavier_normal_": dict(gain=0.8),
    "kaiming_uniform_": dict(a=math.sqrt(5)),
    "kaiming_normal_": dict(mode="fan_out", nonlinearity="relu"),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_distribution_matches_torch(name):
    """Same shape of distribution: std and range agree with torch's samples to ~1 %."""
    shape = (400, 300, 2)
    ours = getattr(init, name)(np.empty(shape), **SAMPLERS[name], rng=np.random.default_rng(0))
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64),
                                          **SAMPLERS[name]).numpy()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.01)
    assert abs(ours.mean()) < 0.01 * theirs.std()
    if "uniform" in name:   # the support: the same bound on both sides
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=1e-3)


def test_affine_init_matches_linear_bounds():
    layer = nn.Affine(50, 400, rng=np.random.default_rng(0))
    bound = 1 / math.sqrt(50)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(layer.bias.data).max() <= bound


def test_seeding_makes_layers_repeat():
    import deepglossary as dg

    dg.seed(3)
    a = nn.Affine(4, 4).weight.data.copy()
    dg.seed(3)
    np.testing.assert_array_equal(a, nn.Affine(4, 4).weight.data)


def test_bad_arguments():
    with pytest.raises(ValueError, match="2 dimensions"):
        init.xavier_uniform_(np.empty(3))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(np.empty((2, 2)), mode="fan")
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")
