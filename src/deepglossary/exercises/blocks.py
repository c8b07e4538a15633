"""Checkers for the exercises of the part "Building blocks"."""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, passed


def check_parameter_count(count_parameters, cases: int = 6):
    """``count_parameters(sizes)`` gives the number of parameters of an MLP with affine layers
    ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` (all with biases)."""
    rng = np.random.default_rng(1)
    trials = [[784, 100, 10], [2, 3], [5, 5, 5, 5]]
    trials += [list(rng.integers(1, 60, size=rng.integers(2, 6))) for _ in range(cases - 3)]
    for sizes in trials:
        model = nn.Sequential(*[nn.Affine(int(a), int(b)) for a, b in zip(sizes, sizes[1:])])
        expected = sum(p.size for p in model.parameters())
        got = count_parameters([int(s) for s in sizes])
        if got != expected:
            raise AssertionError(f"sizes {sizes}: expected {expected} parameters, got {got}")
    return passed("count_parameters", len(trials))


def check_affine_backward(affine_backward, cases: int = 5):
    """``affine_backward(x, weight, grad_output)`` returns ``(dx, dweight, dbias)`` for
    ``y = x @ weight.T + bias`` with x of shape (*, in) and grad_output of shape (*, out)."""
    rng = np.random.default_rng(2)
    for k in range(cases):
        batch = tuple(rng.integers(1, 4, size=k % 3 + 1))
        n_in, n_out = rng.integers(1, 6, size=2)
        layer = nn.Affine(int(n_in), int(n_out), rng=rng)
        x = rng.standard_normal(batch + (n_in,))
        g = rng.standard_normal(batch + (n_out,))
        layer(x)
        dx = layer.backward(g)
        got = affine_backward(x, layer.weight.data.copy(), g)
        case = f"x of shape {x.shape}, weight of shape {layer.weight.shape}"
        for name, mine, ref in zip(("dx", "dweight", "dbias"), got,
                                   (dx, layer.weight.grad, layer.bias.grad)):
            compare(name, mine, ref, case=case)
    return passed("affine_backward", cases)


def check_collapse(collapse, cases: int = 5):
    """``collapse(layers)`` turns a list of Affine layers into ``(weight, bias)`` of the single
    affine map they compose to."""
    rng = np.random.default_rng(3)
    for k in range(cases):
        sizes = [int(s) for s in rng.integers(1, 6, size=k + 2)]
        layers = [nn.Affine(a, b, rng=rng) for a, b in zip(sizes, sizes[1:])]
        weight, bias = collapse(layers)
        x = rng.standard_normal((4, sizes[0]))
        case = f"layer sizes {sizes}"
        compare("x @ weight.T + bias", x @ np.asarray(weight).T + bias,
                nn.Sequential(*layers)(x), case=case)
    return passed("collapse", cases)


def check_activation(layer_class, torch_twin, cases: int = 4):
    """A student's :class:`~deepglossary.nn.Elementwise` subclass against its torch twin
    (forward and backward, float64) and against central differences."""
    from deepglossary.verify import against_torch, gradcheck

    rng = np.random.default_rng(4)
    for k in range(cases):
        x = rng.standard_normal((3, k + 2)) * 3
        x[np.abs(x) < 1e-3] = 0.5   # away from a possible kink at 0
        against_torch(layer_class(), torch_twin(), x)
        gradcheck(layer_class(), x)
    return passed(layer_class.__name__, cases)


def check_tanh_via_sigmoid(tanh_via_sigmoid, cases: int = 4):
    """``tanh_via_sigmoid(x)`` computes tanh using only the logistic sigmoid."""
    rng = np.random.default_rng(5)
    for k in range(cases):
        x = rng.standard_normal(k + 3) * 10 ** (k - 1)
        compare("tanh_via_sigmoid(x)", tanh_via_sigmoid(x), np.tanh(x), case=f"x = {x}")
    return passed("tanh_via_sigmoid", cases)


def check_stable_softmax(softmax, cases: int = 5):
    """``softmax(z)`` along the last axis, finite even for logits of +-1e4."""
    rng = np.random.default_rng(6)
    for k in range(cases):
        z = rng.standard_normal((3, k + 2)) * 10 ** (k - 1)
        if k == cases - 1:
            z[0] = [1e4, -1e4] + [0.0] * k
        compare("softmax(z)", softmax(z), nn.Softmax()(z), case=f"z =\n{z}")
    return passed("softmax", cases)


def check_softmax_jacobian(jacobian, cases: int = 4):
    """``jacobian(y)`` gives the (C, C) matrix dy_i/dz_j for y = softmax(z), a vector."""
    rng = np.random.default_rng(7)
    for k in range(cases):
        z = rng.standard_normal(k + 2)
        layer = nn.Softmax()
        y = layer(z)
        expected = np.stack([layer.backward(e) for e in np.eye(len(z))])   # row i: dy_i/dz
        compare("jacobian(y)", jacobian(y), expected, case=f"z = {z}")
    return passed("softmax jacobian", cases)


def check_mlp_backward(mlp_backward, cases: int = 3):
    """``mlp_backward(x, W1, b1, W2, b2, grad_logits)`` for logits = relu(x W1^T + b1) W2^T + b2
    returns ``(dW1, db1, dW2, db2)``."""
    from deepglossary.models import MLP

    rng = np.random.default_rng(8)
    for k in range(cases):
        sizes = [int(s) for s in rng.integers(2, 7, size=3)]
        model = MLP(sizes, rng=rng)
        x = rng.standard_normal((k + 3, sizes[0]))
        g = rng.standard_normal((k + 3, sizes[2]))
        model(x)
        model.backward(g)
        w1, b1, w2, b2 = (p.data.copy() for p in model.parameters())
        got = mlp_backward(x, w1, b1, w2, b2, g)
        for name, mine, p in zip(("dW1", "db1", "dW2", "db2"), got, model.parameters()):
            compare(name, mine, p.grad, case=f"sizes {sizes}, batch {k + 3}")
    return passed("mlp_backward", cases)
