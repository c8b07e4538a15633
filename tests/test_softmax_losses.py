"""Softmax, log-softmax, cross-entropy and NLL against PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.losses import NLL, CrossEntropy
from deepglossary.verify import against_torch, gradcheck

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)


@given(shape=shapes, scale=st.sampled_from([0.1, 1.0, 30.0, 1e4]), seed=st.integers(0, 2**31),
       which=st.sampled_from(["Softmax", "LogSoftmax"]), data=st.data())
def test_softmax_layers_match_torch(dtype, shape, scale, seed, which, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    ours = getattr(nn, which)(dim)
    report = against_torch(ours, getattr(torch.nn, which)(dim=dim), x)
    assert report.ok


def test_softmax_survives_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    p = nn.Softmax()(x)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(nn.LogSoftmax()(x)[0], [0, -2e4, -1e4])


def test_softmax_jacobian_by_central_differences():
    x = np.random.default_rng(0).standard_normal((3, 5))
    assert gradcheck(nn.Softmax(), x).ok and gradcheck(nn.LogSoftmax(0), x).ok


@given(n=st.integers(1, 8), classes=st.integers(2, 7), seed=st.integers(0, 2**31),
       smoothing=st.sampled_from([0.0, 0.1, 0.5]), probabilities=st.booleans())
def test_cross_entropy_matches_torch(dtype, n, classes, seed, smoothing, probabilities):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((n, classes)) * 3).astype(dtype)
    t = rng.dirichlet(np.ones(classes), n).astype(dtype) if probabilities else \
        rng.integers(0, classes, n)
    report = against_torch(CrossEntropy(smoothing),
                           torch.nn.CrossEntropyLoss(label_smoothing=smoothing), z, t)
    assert [r.quantity for r in report.rows_on("cpu")] == ["output", "grad input[0]"]


@given(n=st.integers(1, 8), classes=st.integers(2, 7), seed=st.integers(0, 2**31))
def test_nll_matches_torch(dtype, n, classes, seed):
    rng = np.random.default_rng(seed)
    logp = nn.LogSoftmax()(rng.standard_normal((n, classes))).astype(dtype)
    t = rng.integers(0, classes, n)
    assert against_torch(NLL(), torch.nn.NLLLoss(), logp, t).ok


def test_cross_entropy_is_nll_of_log_softmax():
    rng = np.random.default_rng(1)
    z, t = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    assert CrossEntropy()(z, t) == pytest.approx(NLL()(nn.LogSoftmax()(z), t), rel=1e-14)


@pytest.mark.parametrize("loss", [CrossEntropy(), NLL()])
def test_bad_targets_are_refused(loss):
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        loss(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        loss(z, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        loss(z, np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        loss(np.zeros(4), np.array([1]))


def test_probability_targets_must_be_distributions():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="sum to 1"):
        CrossEntropy()(z, np.array([[0.5, 0.5, 0.5], [1.0, 0, 0]]))
    with pytest.raises(ValueError, match="non-negative"):
        CrossEntropy()(z, np.array([[1.5, -0.5, 0.0], [1.0, 0, 0]]))
    with pytest.raises(TypeError, match="integers"):
        NLL()(z, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropy(1.5)
