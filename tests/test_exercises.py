"""The exercise checkers accept right answers and reject wrong ones."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.exercises import blocks


def test_parameter_count_checker():
    blocks.check_parameter_count(lambda s: sum(a * b + b for a, b in zip(s, s[1:])))
    with pytest.raises(AssertionError, match="expected"):
        blocks.check_parameter_count(lambda s: sum(a * b for a, b in zip(s, s[1:])))


def test_affine_backward_checker():
    def right(x, w, g):
        return g @ w, g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1]), \
            g.reshape(-1, g.shape[-1]).sum(0)

    def transposed(x, w, g):
        dx, dw, db = right(x, w, g)
        return dx, dw.T, db

    def float64(x, w, g):                  # right values, but float32 in, float64 out
        return tuple(a.astype(np.float64) for a in right(x, w, g))

    def transposed_if_square(x, w, g):     # passes every shape check
        dx, dw, db = right(x, w, g)
        return dx, dw.T if w.shape[0] == w.shape[1] else dw, db

    blocks.check_affine_backward(right)
    with pytest.raises(AssertionError):
        blocks.check_affine_backward(transposed)
    with pytest.raises(AssertionError, match="dtype"):
        blocks.check_affine_backward(float64)
    with pytest.raises(AssertionError):
        blocks.check_affine_backward(transposed_if_square)


def test_collapse_checker():
    def right(layers):
        w, b = np.eye(layers[0].in_features), np.zeros(layers[0].in_features)
        for layer in layers:
            w, b = layer.weight.data @ w, layer.weight.data @ b + layer.bias.data
        return w, b

    blocks.check_collapse(right)
    with pytest.raises(AssertionError):
        blocks.check_collapse(lambda layers: (right(layers)[0], 0.0))


def test_activation_checker():
    class SiLU(nn.Elementwise):
        def f(self, x):
            return x * nn.Sigmoid().f(x)

        def df(self, x, y):
            s = nn.Sigmoid().f(x)
            return s * (1 + x * (1 - s))

    class WrongSiLU(SiLU):
        def df(self, x, y):
            return nn.Sigmoid().f(x)

    class NaiveSiLU(SiLU):                   # right values, but exp(1000) overflows on the way
        def f(self, x):
            return x / (1 + np.exp(-x))

    blocks.check_activation(SiLU, torch.nn.SiLU)
    with pytest.raises(AssertionError):
        blocks.check_activation(WrongSiLU, torch.nn.SiLU)
    with pytest.raises(AssertionError, match="overflow"):
        blocks.check_activation(NaiveSiLU, torch.nn.SiLU)


def test_tanh_via_sigmoid_checker():
    blocks.check_tanh_via_sigmoid(lambda x: 2 * nn.Sigmoid()(2 * x) - 1)
    with pytest.raises(AssertionError):
        blocks.check_tanh_via_sigmoid(lambda x: 2 * nn.Sigmoid()(x) - 1)           # wrong identity
    with pytest.raises(AssertionError, match="overflow"):
        blocks.check_tanh_via_sigmoid(lambda x: 2 / (1 + np.exp(-2 * x)) - 1)      # exp(2000)
    with pytest.raises(AssertionError, match="dtype"):
        blocks.check_tanh_via_sigmoid(lambda x: 2 * nn.Sigmoid()(2 * x.astype(np.float64)) - 1)


def test_activation_checker_elu():
    class ELU(nn.Elementwise):               # the ReLU chapter's solution
        def f(self, x):
            return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))

        def df(self, x, y):
            return np.where(x > 0, 1, np.exp(np.minimum(x, 0)))

    class NaiveELU(ELU):                     # np.where computes exp(1000) = inf, then drops it
        def f(self, x):
            return np.where(x > 0, x, np.exp(x) - 1)

    class ForgotPlusOne(ELU):
        def df(self, x, y):
            return np.where(x > 0, 1, y)

    blocks.check_activation(ELU, torch.nn.ELU)
    with pytest.raises(AssertionError, match="overflow"):
        blocks.check_activation(NaiveELU, torch.nn.ELU)
    with pytest.raises(AssertionError):
        blocks.check_activation(ForgotPlusOne, torch.nn.ELU)


def test_softmax_checkers():
    def stable(z):
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    blocks.check_stable_softmax(stable)
    with pytest.raises((AssertionError, FloatingPointError)):
        with np.errstate(all="ignore"):
            blocks.check_stable_softmax(lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True))
    with pytest.raises(AssertionError):     # the batch's maximum instead of each row's
        with np.errstate(all="ignore"):
            blocks.check_stable_softmax(
                lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(-1, keepdims=True))
    with pytest.raises(AssertionError, match="dtype"):
        blocks.check_stable_softmax(lambda z: stable(z.astype(np.float64)))
    blocks.check_softmax_jacobian(lambda y: np.diag(y) - np.outer(y, y))
    with pytest.raises(AssertionError):
        blocks.check_softmax_jacobian(lambda y: np.diag(y))


def test_mlp_backward_checker():
    def right(x, w1, b1, w2, b2, g):
        a = x @ w1.T + b1
        h = np.maximum(a, 0)
        dh = g @ w2
        da = dh * (a > 0)
        return da.T @ x, da.sum(0), g.T @ h, g.sum(0)

    def transposed_if_square(x, w1, b1, w2, b2, g):   # dW1 transposed where shapes allow it
        dw1, db1, dw2, db2 = right(x, w1, b1, w2, b2, g)
        return (dw1.T if w1.shape[0] == w1.shape[1] else dw1), db1, dw2, db2

    def float64(x, w1, b1, w2, b2, g):                # right values, float32 in, float64 out
        return tuple(a.astype(np.float64) for a in right(x, w1, b1, w2, b2, g))

    blocks.check_mlp_backward(right)
    with pytest.raises(AssertionError):   # forgets the ReLU mask
        blocks.check_mlp_backward(lambda x, w1, b1, w2, b2, g: (
            (g @ w2).T @ x, (g @ w2).sum(0), *right(x, w1, b1, w2, b2, g)[2:]))
    with pytest.raises(AssertionError, match="dW1"):
        blocks.check_mlp_backward(transposed_if_square)
    with pytest.raises(AssertionError, match="dtype"):
        blocks.check_mlp_backward(float64)


def test_learning_checkers():
    from deepglossary.autograd import Tensor
    from deepglossary.exercises import learning
    from deepglossary.nn.softmax import softmax

    def ce_grad(z, t):
        q = np.eye(z.shape[1], dtype=z.dtype)[t]
        return (softmax(z) - q) / len(z)

    def ce_grad_naive(z, t):                  # unshifted exp: overflows at logits of 1000
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True) - np.eye(z.shape[1], dtype=z.dtype)[t]) / len(z)

    learning.check_cross_entropy_grad(ce_grad)
    for wrong in (lambda z, t: ce_grad(z, t) * len(z), ce_grad_naive,
                  lambda z, t: ce_grad(z.astype(np.float64), t)):
        with pytest.raises(AssertionError):
            learning.check_cross_entropy_grad(wrong)
    learning.check_nll(lambda lp, t: -lp[np.arange(len(t)), t].mean())
    for wrong in (lambda lp, t: -lp[np.arange(len(t)), t].sum(), lambda lp, t: -lp[:, t].mean()):
        with pytest.raises(AssertionError):
            learning.check_nll(wrong)

    def numerical(f, x, eps):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            keep = x[i]
            x[i] = keep + eps
            up = f(x)
            x[i] = keep - eps
            g[i] = (up - f(x)) / (2 * eps)
            x[i] = keep
        return g

    def forward_difference(f, x, eps):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            keep = x[i]
            down = f(x)
            x[i] = keep + eps
            g[i] = (f(x) - down) / eps
            x[i] = keep
        return g

    def never_restores(f, x, eps):            # leaves x[i] at keep - eps
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            keep = x[i]
            x[i] = keep + eps
            up = f(x)
            x[i] = keep - eps
            g[i] = (up - f(x)) / (2 * eps)
        return g

    def shifted_copy(f, x, eps):              # right values, but returns x's perturbation too
        g = numerical(f, x, eps)
        x += 0.0 * g + eps
        return g

    learning.check_numerical_gradient(numerical)
    learning.check_numerical_gradient(lambda f, x, eps: numerical(f, x.copy(), eps))
    for wrong in (lambda f, x, eps: np.zeros_like(x), forward_difference, never_restores,
                  shifted_copy):
        with pytest.raises(AssertionError):
            learning.check_numerical_gradient(wrong)

    def primitive(value):
        def sigmoid(t):
            out = Tensor(value(t.data), (t,), "sigmoid")

            def backward():
                t._accumulate(out.grad * out.data * (1 - out.data))
            out._backward = backward
            return out
        return sigmoid

    def stable(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1, e) / (1 + e)

    def silenced(x):                         # the textbook formula, warnings switched off
        with np.errstate(all="ignore"):
            return 1 / (1 + np.exp(-x))

    def sets_grad(t):                        # t.grad = ... instead of accumulating
        out = Tensor(stable(t.data), (t,), "sigmoid")

        def backward():
            t.grad = out.grad * out.data * (1 - out.data)
        out._backward = backward
        return out

    learning.check_sigmoid_primitive(primitive(stable))
    with pytest.raises(AssertionError):      # overflows in exp(-x) at x = -1000
        learning.check_sigmoid_primitive(primitive(lambda x: 1 / (1 + np.exp(-x))))
    with pytest.raises(AssertionError, match="left tail"):   # 0 instead of e^-720
        learning.check_sigmoid_primitive(primitive(silenced))
    with pytest.raises(AssertionError, match="gradient"):
        learning.check_sigmoid_primitive(sets_grad)
    with pytest.raises(AssertionError):
        learning.check_sigmoid_primitive(lambda t: Tensor(stable(t.data)) + t * 0.0)

    def nearest(x_train, y_train, x):
        classes = np.unique(y_train)
        means = np.stack([x_train[y_train == c].mean(0) for c in classes])
        return classes[((x[:, None] - means[None]) ** 2).sum(-1).argmin(1)]

    learning.check_nearest_mean(nearest)
    with pytest.raises(AssertionError):     # positions instead of labels
        learning.check_nearest_mean(lambda *a: np.searchsorted(np.unique(a[1]), nearest(*a)))
    with pytest.raises(AssertionError):
        learning.check_nearest_mean(lambda x_train, y_train, x: np.zeros(len(x), int))


def test_update_rule_checker():
    from deepglossary import optim
    from deepglossary.exercises.optimization import check_update_rule

    def momentum(p, g, state, lr=0.1, mu=0.9):
        state["b"] = g if "b" not in state else mu * state["b"] + g
        return p - lr * state["b"]

    check_update_rule(momentum, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))
    with pytest.raises(AssertionError, match="step"):
        check_update_rule(lambda p, g, state, lr=0.1: p - lr * g,
                          lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))


def test_update_rule_checker_varies_hyperparameters():
    """Answers right only at the exercise's own values fail: the checker reruns lr = 0.5, and
    dampening = 0.5 where the answer takes it; a missing lr keyword and an in-place update
    that returns None get a message saying what to do."""
    from deepglossary import optim
    from deepglossary.exercises.optimization import check_update_rule

    def adadelta(p, g, state, lr=1.0, rho=0.9, eps=1e-6):
        state["g2"] = rho * state.get("g2", 0.0) + (1 - rho) * g * g
        delta = np.sqrt(state.get("d2", 0.0) + eps) / np.sqrt(state["g2"] + eps) * g
        state["d2"] = rho * state.get("d2", 0.0) + (1 - rho) * delta * delta
        return p - lr * delta

    def adadelta_lr_in_average(p, g, state, lr=1.0, rho=0.9, eps=1e-6):
        state["g2"] = rho * state.get("g2", 0.0) + (1 - rho) * g * g
        step = lr * np.sqrt(state.get("d2", 0.0) + eps) / np.sqrt(state["g2"] + eps) * g
        state["d2"] = rho * state.get("d2", 0.0) + (1 - rho) * step * step   # lr * delta stored
        return p - step

    check_update_rule(adadelta, lambda ps: optim.Adadelta(ps))
    with pytest.raises(AssertionError, match="lr = 0.5"):
        check_update_rule(adadelta_lr_in_average, lambda ps: optim.Adadelta(ps))

    def momentum(p, g, state, lr=0.05, dampening=0.0, beta=0.9):
        state["m"] = g if "m" not in state else beta * state["m"] + (1 - dampening) * g
        return p - lr * state["m"]

    def momentum_ignoring_dampening(p, g, state, lr=0.05, dampening=0.0, beta=0.9):
        state["m"] = g if "m" not in state else beta * state["m"] + g
        return p - lr * state["m"]

    check_update_rule(momentum, lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9))
    with pytest.raises(AssertionError, match="dampening = 0.5"):
        check_update_rule(momentum_ignoring_dampening,
                          lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9))
    with pytest.raises(AssertionError, match="lr = 0.5"):        # lr fixed inside the body
        check_update_rule(lambda p, g, state, lr=0.1: p - 0.1 * g, lambda ps: optim.SGD(ps, lr=0.1))
    with pytest.raises(AssertionError, match="keyword argument"):   # no lr keyword at all
        check_update_rule(lambda p, g, state: p - 0.1 * g, lambda ps: optim.SGD(ps, lr=0.1))

    def in_place(p, g, state, lr=0.1):
        p -= lr * g                                              # and returns None

    with pytest.raises(AssertionError, match="return the new parameter"):
        check_update_rule(in_place, lambda ps: optim.SGD(ps, lr=0.1))


def test_clip_by_norm_checker():
    from deepglossary.exercises.optimization import check_clip_by_norm

    def clip(grads, max_norm):
        total = np.sqrt(sum((g**2).sum() for g in grads))
        scale = min(1.0, max_norm / (total + 1e-6))
        return [g * scale for g in grads], total

    check_clip_by_norm(clip)
    with pytest.raises(AssertionError):   # clips each gradient on its own
        check_clip_by_norm(lambda grads, m: ([g * min(1, m / np.linalg.norm(g)) for g in grads],
                                             np.sqrt(sum((g**2).sum() for g in grads))))
