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
