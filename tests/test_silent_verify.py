"""Issue 19, verification: the blind spots of against_torch and training_against_torch.

Each planted bug below passed the old check (dtypes never compared; arrays whose entries are
all far below 1 compared absolutely; training curves only printed). Correct layers, including
correct formulas that round differently from torch's, must still pass.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.models import MLP
from deepglossary.verify import (
    Report,
    VerificationError,
    against_torch,
    torch_twin,
    training_against_torch,
)


class UpcastTanh(nn.Tanh):
    """Right values, wrong precision: a float32 layer whose output is float64."""

    def forward(self, x):
        return super().forward(x).astype(np.float64)


class UpcastGradTanh(nn.Tanh):
    def backward(self, grad_output):
        return super().backward(grad_output).astype(np.float64)


class DoubledWeightGrad(nn.Affine):
    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.weight.grad *= 2
        return grad_input


class SaturatedSigmoidOff(nn.Sigmoid):
    """A sigmoid whose derivative is 1.5 times too large where it saturates (|x| > 20)."""

    def df(self, x, y):
        return np.where(np.abs(x) > 20, 1.5, 1.0).astype(x.dtype) * y * (1 - y)


class ExactSigmoid(nn.Sigmoid):
    """Correct, but rounds differently from torch's y (1 - y): e^-|x| / (1 + e^-|x|)^2 has no
    cancellation, torch's 1 - sigmoid(30) loses three digits. Both must pass."""

    def df(self, x, y):
        e = np.exp(-np.abs(x))
        return e / (1 + e) ** 2


class CoshTanh(nn.Tanh):
    """Correct, but 1 / cosh^2 where torch computes 1 - tanh^2 (cancellation near saturation)."""

    def df(self, x, y):
        with np.errstate(over="ignore"):                   # cosh(40)^2 overflows float32
            return (1 / np.cosh(x) ** 2).astype(x.dtype)


class ELU(nn.Elementwise):
    """Correct, but its derivative e^x is computed as expm1(x) + 1 = y + 1: a cancellation in
    *our* formula (torch computes exp(x)), whose every digit is lost near x = -37."""

    def f(self, x):
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))

    def df(self, x, y):
        return np.where(x > 0, 1, y + 1).astype(x.dtype)


def test_cancellation_in_our_formula_is_not_a_mismatch(dtype):
    x = np.array([[-1000.0, -37.0, -30.0, -12.0, -2.5, 2.5, 30.0]]).astype(dtype)
    assert against_torch(ELU(), torch.nn.ELU(), x).ok


def test_a_float32_layer_computing_in_float64_is_caught():
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert against_torch(nn.Tanh(), torch.nn.Tanh(), x).ok
    with pytest.raises(VerificationError, match="output .*dtype float64, expected float32"):
        against_torch(UpcastTanh(), torch.nn.Tanh(), x)
    with pytest.raises(VerificationError, match="grad input .*dtype float64, expected float32"):
        against_torch(UpcastGradTanh(), torch.nn.Tanh(), x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_doubled_weight_gradient_on_tiny_inputs_is_caught(dtype):
    x = (np.random.default_rng(0).standard_normal((5, 4)) * 1e-12).astype(dtype)
    assert against_torch(nn.Affine(4, 3, dtype=dtype), torch.nn.Linear(4, 3), x).ok
    with pytest.raises(VerificationError, match=r"grad weight .*✗"):
        against_torch(DoubledWeightGrad(4, 3, dtype=dtype), torch.nn.Linear(4, 3), x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_wrong_factor_on_a_saturated_sigmoid_is_caught(dtype):
    signs = np.sign(np.random.default_rng(0).standard_normal((6, 5)))
    x = (30 * signs).astype(dtype)                   # sigmoid'(x) is about 9e-14 everywhere
    assert against_torch(nn.Sigmoid(), torch.nn.Sigmoid(), x).ok
    assert against_torch(ExactSigmoid(), torch.nn.Sigmoid(), x).ok
    with pytest.raises(VerificationError, match=r"grad input .*✗"):
        against_torch(SaturatedSigmoidOff(), torch.nn.Sigmoid(), x)


@given(scale=st.sampled_from([1e-12, 1e-3, 1.0, 5.0, 9.0, 20.0, 40.0]),
       dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 2**31))
def test_correct_formulas_that_round_differently_still_pass(scale, dtype, seed):
    """Cancellation in torch's formula (1 - tanh^2, y (1 - y)) is not a mismatch."""
    x = (np.random.default_rng(seed).standard_normal((4, 6)) * scale).astype(dtype)
    assert against_torch(CoshTanh(), torch.nn.Tanh(), x).ok
    assert against_torch(ExactSigmoid(), torch.nn.Sigmoid(), x).ok
    assert against_torch(nn.Softplus(), torch.nn.Softplus(), x).ok


def test_report_by_hand_keeps_the_norm_wise_rule():
    report = Report("by hand")
    assert report.add("cpu", np.float64, "tiny", np.array([2e-13]), np.array([1e-13])).ok
    assert not report.add("cpu", np.float64, "dtype", np.float32([1]), np.ones(1),
                          expected_dtype=np.float64).ok
    assert "✗ dtype float32, expected float64" in str(report)


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((192, 5)), rng.integers(0, 3, 192)


def test_training_against_torch_raises_when_the_curves_differ():
    x, y = small_problem()
    good = MLP([5, 8, 3], rng=np.random.default_rng(0))
    comparison = training_against_torch(good, torch_twin(good), x, y, lr=0.5, batch_size=32,
                                        epochs=2)
    assert comparison.ok and comparison.relative_difference < 1e-10
    bad = nn.Sequential(DoubledWeightGrad(5, 8, rng=np.random.default_rng(0)), nn.ReLU(),
                        nn.Affine(8, 3, rng=np.random.default_rng(1)))
    with pytest.raises(VerificationError, match="differs from torch.*MISMATCH"):
        training_against_torch(bad, torch_twin(bad), x, y, lr=0.5, batch_size=32)
    bad = nn.Sequential(DoubledWeightGrad(5, 8, rng=np.random.default_rng(0)), nn.ReLU(),
                        nn.Affine(8, 3, rng=np.random.default_rng(1)))
    loose = training_against_torch(bad, torch_twin(bad), x, y, lr=0.5, batch_size=32,
                                   tolerance=1.0)
    assert not np.array_equal(loose.ours, loose.torch) and loose.ok


def test_training_against_torch_float32_default_tolerance():
    x, y = small_problem(1)
    model = MLP([5, 8, 3], dtype=np.float32, rng=np.random.default_rng(0))
    comparison = training_against_torch(model, torch_twin(model), x.astype(np.float32), y,
                                        lr=0.5, batch_size=32)
    assert comparison.tolerance == 1e-5 and comparison.ok
    with pytest.raises(TypeError, match="float32 or float64"):
        training_against_torch(model, torch_twin(model), x.astype(np.float16), y, lr=0.5,
                               batch_size=32)
    with pytest.raises(ValueError, match="integer class labels"):
        training_against_torch(model, torch_twin(model), x.astype(np.float32),
                               y.astype(np.float32), lr=0.5, batch_size=32)
