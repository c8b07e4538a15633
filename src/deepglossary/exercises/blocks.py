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
    ``y = x @ weight.T + bias`` with x of shape (*, in) and grad_output of shape (*, out).

    Beside random shapes it tries a batch of one with a square weight (where a transposed
    ``dweight`` has the right shape), three leading dimensions, and float32."""
    rng = np.random.default_rng(2)
    shapes = [(tuple(int(b) for b in rng.integers(1, 4, size=k % 3 + 1)),
               *(int(n) for n in rng.integers(1, 6, size=2))) for k in range(cases)]
    shapes += [((1,), 4, 4), ((2, 1, 3), 3, 2)]
    for k, (batch, n_in, n_out) in enumerate(shapes + [((5,), 3, 2)]):
        dtype = np.float32 if k == len(shapes) else np.float64
        layer = nn.Affine(n_in, n_out, rng=rng, dtype=dtype)
        x = rng.standard_normal(batch + (n_in,)).astype(dtype)
        g = rng.standard_normal(batch + (n_out,)).astype(dtype)
        layer(x)
        dx = layer.backward(g)
        got = affine_backward(x, layer.weight.data.copy(), g)
        case = f"x of shape {x.shape} ({dtype.__name__}), weight of shape {layer.weight.shape}"
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {}
        for name, mine, ref in zip(("dx", "dweight", "dbias"), got,
                                   (dx, layer.weight.grad, layer.bias.grad)):
            compare(name, mine, ref, case=case, **tolerance)
            if np.asarray(mine).dtype != dtype:
                raise AssertionError(f"{name}: expected dtype {dtype.__name__} (the input's), "
                                     f"got {np.asarray(mine).dtype} ({case})")
    return passed("affine_backward", len(shapes) + 1)


def check_collapse(collapse, cases: int = 5):
    """``collapse(layers)`` turns a list of Affine layers into ``(weight, bias)`` of the single
    affine map they compose to, ``weight`` of shape (out, in) like PyTorch's.

    Beside random stacks it tries a single layer, a one-unit bottleneck and a batch of one."""
    rng = np.random.default_rng(3)
    stacks = [[int(s) for s in rng.integers(1, 6, size=k + 2)] for k in range(cases)]
    stacks += [[3, 2], [4, 1, 4], [2, 5, 3, 1]]
    for k, sizes in enumerate(stacks):
        layers = [nn.Affine(a, b, rng=rng) for a, b in zip(sizes, sizes[1:])]
        weight, bias = collapse(layers)
        case = f"layer sizes {sizes}"
        if np.shape(weight) != (sizes[-1], sizes[0]):
            raise AssertionError(f"weight: expected shape (out, in) = {(sizes[-1], sizes[0])}, "
                                 f"got {np.shape(weight)} ({case})")
        x = rng.standard_normal((1 if k == len(stacks) - 1 else 4, sizes[0]))
        compare("x @ weight.T + bias", x @ np.asarray(weight).T + bias,
                nn.Sequential(*layers)(x), case=case)
    return passed("collapse", len(stacks))


def check_activation(layer_class, torch_twin, cases: int = 4):
    """A student's :class:`~deepglossary.nn.Elementwise` subclass against its torch twin
    (forward and backward) and against central differences.

    Beside random inputs it tries what catches a naive answer: inputs of +-30 and +-1000, a
    batch of one, three dimensions, and float32 (the result must keep the input's dtype). The
    student's layer runs under ``np.errstate(over="raise", invalid="raise")``: an ``exp`` that
    overflows fails the check even where ``np.where`` would discard the ``inf`` it made."""
    from deepglossary.verify import against_torch, gradcheck

    rng = np.random.default_rng(4)
    trials = []
    for k in range(cases):
        x = rng.standard_normal((3, k + 2)) * 3
        x[np.abs(x) < 1e-3] = 0.5   # away from a possible kink at 0
        trials.append(x)
    trials += [np.array([[-1000.0, -30.0, -2.5, 2.5, 30.0, 1000.0]]),
               rng.standard_normal((2, 3, 4)) * 3 + 0.01,
               (rng.standard_normal((4, 5)) * 3 + 0.01).astype(np.float32)]
    for x in trials:
        try:
            with np.errstate(over="raise", invalid="raise"):   # an overflow is an error here
                against_torch(layer_class(), torch_twin(), x)
                if x.dtype == np.float64 and np.abs(x).max() < 100:
                    gradcheck(layer_class(), x)
        except FloatingPointError as err:
            raise AssertionError(f"{layer_class.__name__}: {err} at x ({x.dtype}) =\n{x}\n"
                                 "an exp overflowed (np.where computes both branches before "
                                 "it chooses): take exp only of what cannot overflow, "
                                 "e.g. np.minimum(x, 0)") from None
    return passed(layer_class.__name__, len(trials))


def check_tanh_via_sigmoid(tanh_via_sigmoid, cases: int = 4):
    """``tanh_via_sigmoid(x)`` computes tanh using only the logistic sigmoid, in ``x``'s dtype.

    Beside random inputs of growing size it tries +-1000 (where ``e^x / (1 + e^x)`` gives NaN),
    two dimensions, and a float32 batch of one. It runs the student's function under
    ``np.errstate(over="raise", invalid="raise")``, so a hand-written ``exp`` that overflows
    fails even where the value it ends with happens to be right."""
    rng = np.random.default_rng(5)
    trials = [rng.standard_normal(k + 3) * 10 ** (k - 1) for k in range(cases)]
    trials += [np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0]), rng.standard_normal((2, 3)),
               (rng.standard_normal((1, 4)) * 3).astype(np.float32)]
    for x in trials:
        try:
            with np.errstate(over="raise", invalid="raise"):   # an overflow is an error here
                got = tanh_via_sigmoid(x.copy())
        except FloatingPointError as err:
            raise AssertionError(f"tanh_via_sigmoid: {err} at x ({x.dtype}) = {x}: an exp "
                                 "overflowed; use nn.Sigmoid, which never exponentiates a "
                                 "positive number") from None
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if x.dtype == np.float32 else {}
        compare("tanh_via_sigmoid(x)", got, np.tanh(x), case=f"x ({x.dtype}) = {x}", **tolerance)
        if np.asarray(got).dtype != x.dtype:
            raise AssertionError(f"tanh_via_sigmoid(x): x is {x.dtype}, the result is "
                                 f"{np.asarray(got).dtype}; keep the input's dtype")
    return passed("tanh_via_sigmoid", len(trials))


def check_stable_softmax(softmax, cases: int = 5):
    """``softmax(z)`` along the last axis, finite even for logits of +-1e4, in ``z``'s dtype.

    Beside random rows it tries what catches a naive answer: rows that overflow (1000) and
    underflow (-1000) in one batch (so that the batch's overall maximum is not enough), a
    batch of one whose every ``exp`` underflows, and float32 logits."""
    rng = np.random.default_rng(6)
    trials = []
    for k in range(cases):
        z = rng.standard_normal((3, k + 2)) * 10 ** (k - 1)
        if k == cases - 1:
            z[0] = [1e4, -1e4] + [0.0] * k
        trials.append(z)
    trials.append(np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]]))
    trials.append(np.array([[-1e4, -1e4 + 1.0, -1e4 - 2.0]]))
    trials.append(np.array([[5.0, -3.0, 0.5, 1e4], [0.1, 0.2, 0.3, 0.4]], dtype=np.float32))
    for z in trials:
        with np.errstate(all="ignore"):
            got = softmax(z.copy())
        tolerance = {"rtol": 1e-5, "atol": 1e-7} if z.dtype == np.float32 else {}
        compare("softmax(z)", got, nn.Softmax()(z), case=f"z ({z.dtype}) =\n{z}", **tolerance)
        if np.asarray(got).dtype != z.dtype:
            raise AssertionError(f"softmax(z): z is {z.dtype}, the result is "
                                 f"{np.asarray(got).dtype}; keep the input's dtype")
    return passed("softmax", len(trials))


def check_softmax_jacobian(jacobian, cases: int = 4):
    """``jacobian(p)`` gives the (K, K) matrix dp_k/dz_j for p = softmax(z), a vector; tried
    also on a single class and on a saturated softmax."""
    rng = np.random.default_rng(7)
    trials = [rng.standard_normal(k + 2) for k in range(cases)]
    trials += [np.array([0.3]), np.array([30.0, 0.0, -30.0, 1.0])]
    for z in trials:
        layer = nn.Softmax()
        p = layer(z)
        expected = np.stack([layer.backward(e) for e in np.eye(len(z))])   # row k: dp_k/dz
        compare("jacobian(p)", jacobian(p), expected, case=f"z = {z}")
    return passed("softmax jacobian", len(trials))


def check_mlp_backward(mlp_backward, cases: int = 3):
    """``mlp_backward(x, W1, b1, W2, b2, grad_logits)`` for logits = relu(x W1^T + b1) W2^T + b2
    returns ``(dW1, db1, dW2, db2)``.

    Beside random sizes it tries a square ``W1`` with a batch of one (where a transposed
    ``dW1`` has the right shape) and float32 (the gradients must keep the input's dtype)."""
    from deepglossary.models import MLP

    rng = np.random.default_rng(8)
    trials = [([int(s) for s in rng.integers(2, 7, size=3)], k + 3, np.float64)
              for k in range(cases)]
    trials += [([4, 4, 3], 1, np.float64), ([5, 5, 2], 1, np.float32), ([6, 3, 4], 4, np.float32)]
    for sizes, batch, dtype in trials:
        model = MLP(sizes, rng=rng, dtype=dtype)
        x = rng.standard_normal((batch, sizes[0])).astype(dtype)
        g = rng.standard_normal((batch, sizes[2])).astype(dtype)
        model(x)
        model.backward(g)
        w1, b1, w2, b2 = (p.data.copy() for p in model.parameters())
        got = mlp_backward(x, w1, b1, w2, b2, g)
        case = f"sizes {sizes}, batch {batch} ({dtype.__name__})"
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {}
        for name, mine, p in zip(("dW1", "db1", "dW2", "db2"), got, model.parameters()):
            compare(name, mine, p.grad, case=case, **tolerance)
            if np.asarray(mine).dtype != dtype:
                raise AssertionError(f"{name}: expected dtype {dtype.__name__} (the input's), "
                                     f"got {np.asarray(mine).dtype} ({case})")
    return passed("mlp_backward", len(trials))
