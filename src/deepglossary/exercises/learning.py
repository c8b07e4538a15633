"""Checkers for the exercises of the part "Losses and learning"."""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, passed
from deepglossary.losses import NLL, CrossEntropy


def check_cross_entropy_grad(cross_entropy_grad, cases: int = 4):
    """``cross_entropy_grad(logits, targets)``: dL/dlogits of the mean cross-entropy, with
    class-index targets."""
    rng = np.random.default_rng(10)
    for k in range(cases):
        z = rng.standard_normal((k + 2, 5)) * 3
        t = rng.integers(0, 5, k + 2)
        loss = CrossEntropy()
        loss(z, t)
        compare("dL/dlogits", cross_entropy_grad(z, t), loss.backward(), case=f"targets {t}")
    return passed("cross_entropy_grad", cases)


def check_nll(nll, cases: int = 4):
    """``nll(log_probs, targets)``: the mean negative log likelihood of the targets."""
    rng = np.random.default_rng(11)
    for k in range(cases):
        lp = nn.LogSoftmax()(rng.standard_normal((k + 2, 4)))
        t = rng.integers(0, 4, k + 2)
        compare("nll", nll(lp, t), NLL()(lp, t), case=f"targets {t}")
    return passed("nll", cases)


def check_numerical_gradient(numerical_gradient, cases: int = 3):
    """``numerical_gradient(f, x, eps)``: central differences of a scalar function f."""
    rng = np.random.default_rng(12)
    functions = [lambda x: float(np.sum(np.sin(x) * x)), lambda x: float(np.log(np.sum(
        np.exp(x)))), lambda x: float(np.sum(x**3) - x.ravel()[0] * x.ravel()[-1])]
    derivatives = [lambda x: np.cos(x) * x + np.sin(x), lambda x: np.exp(x) / np.exp(x).sum(),
                   lambda x: 3 * x**2 - _corner(x)]
    for f, df in list(zip(functions, derivatives))[:cases]:
        x = rng.standard_normal((2, 3))
        compare("numerical gradient", numerical_gradient(f, x.copy(), 1e-6), df(x),
                case=f"x =\n{x}", rtol=1e-5, atol=1e-7)
    return passed("numerical_gradient", cases)


def _corner(x):
    g = np.zeros_like(x)
    g.ravel()[0], g.ravel()[-1] = x.ravel()[-1], x.ravel()[0]
    return g


def check_sigmoid_primitive(sigmoid, cases: int = 3):
    """``sigmoid(t)`` maps an autograd ``Tensor`` to a Tensor whose backward is correct.

    Checked on f(x) = sigmoid(2x) * x, whose derivative s + 2x s (1 - s), s = sigmoid(2x), is
    known in closed form, under a random upstream gradient."""
    from deepglossary.autograd import Tensor
    from deepglossary.nn.activations import sigmoid as reference

    rng = np.random.default_rng(13)
    for k in range(cases):
        a = rng.standard_normal((k + 1, 3)) * 3
        g = rng.standard_normal((k + 1, 3))
        t = Tensor(a)
        out = sigmoid(t * 2.0) * t
        out.backward(g)
        s = reference(2 * a)
        compare("forward", out.data, s * a, case=f"x = {a}")
        compare("gradient", t.grad, g * (s + 2 * a * s * (1 - s)), case=f"x = {a}")
    return passed("sigmoid primitive", cases)


def check_nearest_mean(predict, cases: int = 3):
    """``predict(x_train, y_train, x)``: the label of the nearest class mean for each row."""
    rng = np.random.default_rng(14)
    for k in range(cases):
        centres = rng.standard_normal((4, 6)) * 3
        y_train = np.repeat(np.arange(4), 10)
        x_train = centres[y_train] + rng.standard_normal((40, 6))
        x = rng.standard_normal((15, 6)) * 3
        means = np.stack([x_train[y_train == c].mean(0) for c in range(4)])
        expected = ((x[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
        got = np.asarray(predict(x_train, y_train, x))
        if got.shape != expected.shape or (got != expected).any():
            raise AssertionError(f"expected labels {expected}, got {got} (case {k})")
    return passed("nearest class mean", cases)
