"""The verification itself must be able to fail, and must say why."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.verify import VerificationError, against_torch, devices, gradcheck


class TransposedAffine(nn.Affine):
    """A plausible bug: the weight gradient of a square layer comes out transposed."""

    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.weight.grad = self.weight.grad.T.copy()
        return grad_input


class ForgetsBias(nn.Affine):
    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.bias.grad = np.zeros_like(self.bias.grad)
        return grad_input


@pytest.mark.parametrize("broken", [TransposedAffine, ForgetsBias])
def test_against_torch_catches_wrong_parameter_gradient(broken):
    x = np.random.default_rng(0).standard_normal((5, 4))
    with pytest.raises(VerificationError, match="MISMATCH"):
        against_torch(broken(4, 4), torch.nn.Linear(4, 4), x)


def test_all_ones_upstream_gradient_would_hide_the_transpose():
    """Why against_torch draws a random upstream gradient instead of using .sum()."""
    x = np.ones((4, 4))
    ones = np.ones((4, 4))
    report = against_torch(TransposedAffine(4, 4), torch.nn.Linear(4, 4), x, grad_output=ones)
    assert report.ok      # the bug slips through with g = 1 and a symmetric input...
    with pytest.raises(VerificationError):
        against_torch(TransposedAffine(4, 4), torch.nn.Linear(4, 4), x)   # ...not with random g


def test_gradcheck_catches_a_wrong_derivative():
    class WrongTanh(nn.Tanh):
        def df(self, x, y):
            return 1 - y   # should be 1 - y**2

    with pytest.raises(VerificationError):
        gradcheck(WrongTanh(), np.linspace(-2, 2, 7))


def test_parameter_names_must_match():
    class Renamed(nn.Affine):
        def __init__(self):
            super().__init__(3, 2)
            self.w = self.weight
            del self.weight

    with pytest.raises(ValueError, match="parameter names differ"):
        against_torch(Renamed(), torch.nn.Linear(3, 2), np.ones((1, 3)))


def test_report_renders_for_notebooks_and_terminals():
    report = against_torch(nn.Affine(3, 2), torch.nn.Linear(3, 2), np.ones((2, 3)))
    html = report._repr_html_()
    assert "<table>" in html and "grad weight" in html and "all match" in html
    assert "grad bias" in str(report)
    assert report.max_error < 1e-12
    assert set(r.device for r in report.rows) == set(devices())


def test_report_fails_on_shape_mismatch_and_nan():
    from deepglossary.verify import Report

    report = Report("by hand")
    assert not report.add("cpu", np.float64, "output", np.zeros(3), np.zeros(4)).ok
    assert not report.add("cpu", np.float64, "grad", np.array([np.nan]), np.zeros(1)).ok
    assert report.add("cpu", np.float32, "close", np.float32([1 + 1e-7]), np.float32([1])).ok
    with pytest.raises(VerificationError, match="MISMATCH"):
        report.raise_if_mismatch()


def test_torch_twin_builds_matching_modules():
    from deepglossary.models import MLP
    from deepglossary.verify import torch_twin

    model = nn.Sequential(nn.Affine(4, 3), nn.LeakyReLU(0.2), nn.Affine(3, 3, bias=False),
                          nn.Softplus(2.0), nn.Affine(3, 2), nn.Tanh())
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert against_torch(model, torch_twin(model), x).ok
    assert against_torch(MLP([4, 6, 2]), torch_twin(MLP([4, 6, 2])), x).ok
    with pytest.raises(TypeError, match="no torch twin"):
        torch_twin(nn.BatchNorm(3))


def test_full_float32_turns_tf32_off_and_restores_it():
    """On a GPU, TF32 would make torch's float32 reference wrong by ~1e-3: it is off while
    torch computes one, and the user's settings come back afterwards."""
    import torch

    from deepglossary.verify import full_float32

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        with full_float32():
            assert not torch.backends.cuda.matmul.allow_tf32
            assert not torch.backends.cudnn.allow_tf32
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
