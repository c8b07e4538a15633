"""Issue 19, the training loops: bad data, empty data, unused parameters and a last step that
overflows are reported, never trained on silently."""

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.losses import MSE, BCEWithLogits, CrossEntropy
from deepglossary.optim import SGD
from deepglossary.train import accuracy, fit, gradient_descent


def classifier(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Affine(4, 8, rng=rng), nn.Tanh(), nn.Affine(8, 3, rng=rng))


def digits(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)), rng.integers(0, 3, n)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_fit_refuses_non_finite_data_naming_array_and_index(bad):
    x, y = digits()
    x[7, 2] = bad
    model = classifier()
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"x has a non-finite entry .* at index \(7, 2\)"):
        fit(model, CrossEntropy(), SGD(model.parameters(), lr=0.1), x, y, progress=False)
    assert all((p.data == b).all() for p, b in zip(model.parameters(), before)), "trained"
    x, y = digits()
    x_test = x.copy()
    x_test[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"x_test has a non-finite entry .* \(3, 0\)"):
        fit(model, CrossEntropy(), SGD(model.parameters(), lr=0.1), x, y, x_test=x_test,
            y_test=y, progress=False)


def test_gradient_descent_refuses_non_finite_data():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((10, 2)), rng.uniform(0, 1, (10, 1))
    x[4, 1] = np.nan
    model = nn.Affine(2, 1, rng=rng)
    with pytest.raises(ValueError, match=r"x has a non-finite entry .* \(4, 1\)"):
        gradient_descent(model, BCEWithLogits(), x, t, lr=0.1, steps=5)
    x[4, 1] = 0.0
    t[9, 0] = np.inf
    with pytest.raises(ValueError, match=r"y has a non-finite entry \(inf\) at index \(9, 0\)"):
        gradient_descent(model, BCEWithLogits(), x, t, lr=0.1, steps=5)


def test_empty_data_is_refused_clearly():
    model = classifier()
    x, y = np.empty((0, 4)), np.empty(0, dtype=np.int64)
    with pytest.raises(ValueError, match="no training examples"):
        fit(model, CrossEntropy(), SGD(model.parameters(), lr=0.1), x, y, progress=False)
    with pytest.raises(ValueError, match="no training examples"):
        gradient_descent(model, CrossEntropy(), x, y, lr=0.1, steps=3)


def test_fit_flags_a_last_step_that_overflows_a_weight():
    """One step whose loss is finite (3.6e307) but whose update sends the weight to -inf."""
    model = nn.Affine(1, 1)
    model.weight.data[:] = 0.5
    model.bias.data[:] = 0.0
    x, y = np.array([[1.2e154]]), np.array([[0.0]])
    history = fit(model, MSE(), SGD(model.parameters(), lr=10.0), x, y, batch_size=1,
                  progress=False, evaluate=False)
    assert len(history.loss) == 1 and np.isfinite(history.loss[0])
    assert not np.isfinite(model.weight.data).all()
    assert history.diverged


def test_gradient_descent_leaves_an_unused_parameter_alone():
    class WithSpare(nn.Affine):
        def __init__(self):
            super().__init__(2, 1, rng=np.random.default_rng(0))
            self.spare = nn.Parameter(np.ones(3))      # never used by forward: grad stays None

    model = WithSpare()
    x, y = np.random.default_rng(1).standard_normal((8, 2)), np.zeros((8, 1))
    start = model.weight.data.copy()
    history = gradient_descent(model, MSE(), x, y, lr=0.1, steps=3)
    assert np.isfinite(history).all() and history[-1] < history[0]
    assert (model.spare.data == 1).all() and model.spare.grad is None
    assert not np.array_equal(model.weight.data, start)


@pytest.mark.parametrize("lr", [0.0, -1.0, np.nan, np.inf])
def test_gradient_descent_refuses_a_bad_learning_rate(lr):
    x, y = digits()
    with pytest.raises(ValueError, match="learning rate"):
        gradient_descent(classifier(), CrossEntropy(), x, y, lr=lr, steps=2)


def test_fit_refuses_bad_arguments_before_training():
    x, y = digits()
    model = classifier()
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, CrossEntropy(), opt, x, y, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, CrossEntropy(), opt, x, y, epochs=1.5, progress=False)
    with pytest.raises(ValueError, match="both x_test and y_test"):
        fit(model, CrossEntropy(), opt, x, y, x_test=x, progress=False)
    with pytest.raises(ValueError, match="integer class labels"):
        fit(model, MSE(), opt, x, y[:, None].astype(float), progress=False)
    model.parameters()[0].data[0, 0] = np.nan
    with pytest.raises(ValueError, match="'0.weight'.*NaN or inf.*before training"):
        fit(model, CrossEntropy(), opt, x, y, progress=False)


def test_accuracy_refuses_what_it_cannot_measure():
    model = classifier()
    x, y = digits()
    assert 0 <= accuracy(model, x, y) <= 1
    with pytest.raises(ValueError, match="empty"):
        accuracy(model, x[:0], y[:0])
    with pytest.raises(ValueError, match="rows"):
        accuracy(model, x, y[:-1])
    with pytest.raises(ValueError, match="integer class labels"):
        accuracy(model, x, y.astype(float))
