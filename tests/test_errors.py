"""Bad input gets a clear error, never a silently wrong answer."""

import subprocess
import sys

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.losses import BCEWithLogits


def test_wrong_shape_names_expected_and_received():
    with pytest.raises(ValueError) as err:
        nn.Affine(3, 4)(np.zeros((2, 5)))
    assert "(*, 3)" in str(err.value) and "(2, 5)" in str(err.value)


def test_scalar_input_to_affine_is_refused():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        nn.Affine(3, 4)(np.float64(1.0))


@pytest.mark.parametrize("layer", [lambda: nn.Affine(2, 2), nn.ReLU, nn.Sigmoid, nn.PReLU])
def test_integer_input_is_refused(layer):
    with pytest.raises(TypeError, match="floating-point"):
        layer()(np.ones((2, 2), dtype=np.int64))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_input_is_refused_unless_allowed(bad):
    x = np.array([[1.0, bad]])
    with pytest.raises(ValueError, match="NaN or inf"):
        nn.Affine(2, 2)(x)
    with nn.nonfinite_allowed():
        y = nn.Tanh()(x)
    assert np.isnan(y[0, 1]) == np.isnan(bad)
    with pytest.raises(ValueError):   # the check is back on after the block
        nn.Tanh()(x)


def test_backward_before_forward_and_wrong_gradient_shape():
    layer = nn.Affine(3, 2)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        layer.backward(np.ones((2, 4)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        nn.Affine(0, 3)
    with pytest.raises(ValueError, match="positive integer"):
        nn.Affine(2.5, 3)
    with pytest.raises(ValueError, match=r"\(N, 3, \*\)"):
        nn.PReLU(3)(np.ones((2, 4)))
    with pytest.raises(TypeError, match="Layer objects"):
        nn.Sequential(nn.ReLU(), "relu")


def test_loss_targets_checked():
    loss = BCEWithLogits()
    with pytest.raises(ValueError, match="shape"):
        loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        loss(np.zeros(3), np.array([0.0, 2.0, 1.0]))


def test_importing_the_package_does_not_import_torch():
    code = ("import sys, deepglossary, deepglossary.nn, deepglossary.init, deepglossary.verify, "
            "deepglossary.losses, deepglossary.data, deepglossary.train, deepglossary.plots, "
            "deepglossary.widgets, deepglossary.show, "
            "deepglossary.exercises.blocks, deepglossary.exercises.learning, "
            "deepglossary.exercises.optimization, deepglossary.playground, "
            "deepglossary.diagnostics, "
            "deepglossary.autograd, deepglossary.models, deepglossary.optim; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
