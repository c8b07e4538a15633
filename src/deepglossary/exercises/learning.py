"""Checkers for the exercises of the part "Losses and learning"."""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, passed
from deepglossary.losses import NLL, CrossEntropy


def check_cross_entropy_grad(cross_entropy_grad, cases: int = 4):
    """``cross_entropy_grad(logits, targets)``: dL/dlogits of the mean cross-entropy, with
    class-index targets, in the logits' dtype.

    Beside random cases it tries what catches a naive answer: logits of +-1000 (an unshifted
    ``exp`` overflows), a batch of one, a single class, and float32 logits. Overflow and
    invalid-value warnings count as failures."""
    rng = np.random.default_rng(10)
    trials = []
    for k in range(cases):
        trials.append((rng.standard_normal((k + 2, 5)) * 3, rng.integers(0, 5, k + 2)))
    trials.append((np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1001.0, -999.0]]),
                   np.array([1, 2])))
    trials.append((rng.standard_normal((1, 7)), np.array([6])))
    trials.append((rng.standard_normal((3, 1)), np.array([0, 0, 0])))
    trials.append(((rng.standard_normal((4, 6)) * 30).astype(np.float32), rng.integers(0, 6, 4)))
    for z, t in trials:
        loss = CrossEntropy()
        loss(z, t)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            try:
                got = cross_entropy_grad(z.copy(), t.copy())
            except FloatingPointError as err:
                raise AssertionError(f"dL/dlogits: {err} at logits {z.tolist()}: subtract "
                                     "each row's maximum before exp") from None
        tolerance = {"rtol": 1e-5, "atol": 1e-7} if z.dtype == np.float32 else {}
        compare("dL/dlogits", got, loss.backward(), case=f"logits ({z.dtype}) =\n{z},\n"
                f"targets {t}", **tolerance)
        if np.asarray(got).dtype != z.dtype:
            raise AssertionError(f"dL/dlogits: the logits are {z.dtype}, the result is "
                                 f"{np.asarray(got).dtype}; keep the input's dtype")
    return passed("cross_entropy_grad", len(trials))

def check_nll(nll, cases: int = 4):
    """``nll(log_probs, targets)``: the mean negative log likelihood of the targets.

    Beside random cases: a batch of one, more rows than classes and more classes than rows
    (``log_probs[:, targets]`` picks an (N, N) block, not N entries), very negative
    log-probabilities, and float32 (the result keeps the dtype)."""
    rng = np.random.default_rng(11)
    trials = []
    for k in range(cases):
        trials.append((nn.LogSoftmax()(rng.standard_normal((k + 2, 4))), rng.integers(0, 4, k + 2)))
    trials.append((nn.LogSoftmax()(rng.standard_normal((1, 6))), np.array([5])))
    trials.append((nn.LogSoftmax()(rng.standard_normal((7, 2)) * 50), rng.integers(0, 2, 7)))
    trials.append((nn.LogSoftmax()(rng.standard_normal((2, 9)) * 1000), np.array([8, 0])))
    trials.append((nn.LogSoftmax()(rng.standard_normal((5, 3)).astype(np.float32)),
                   rng.integers(0, 3, 5)))
    for lp, t in trials:
        got = nll(lp.copy(), t.copy())
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if lp.dtype == np.float32 else {}
        compare("nll", got, NLL()(lp, t), case=f"log_probs ({lp.dtype}) of shape {lp.shape}, "
                f"targets {t}", **tolerance)
        if np.asarray(got).dtype != lp.dtype:
            raise AssertionError(f"nll: log_probs are {lp.dtype}, the result is "
                                 f"{np.asarray(got).dtype}; keep the input's dtype")
    return passed("nll", len(trials))

def check_numerical_gradient(numerical_gradient, cases: int = 3):
    """``numerical_gradient(f, x, eps)``: central differences of a scalar function f.

    Beside the derivatives of three functions at ``eps = 1e-6`` it catches what a naive answer
    gets wrong: at ``eps = 1e-3``, on ``sum(x**3)`` (third derivative 6), the answer must equal
    the exact central difference for that eps, ``3x^2 + eps^2``, where a forward difference
    is off by ``3 x eps``; and after every call the caller's ``x`` must be unchanged (each
    ``x[i]`` restored)."""
    rng = np.random.default_rng(12)
    functions = [lambda x: float(np.sum(np.sin(x) * x)), lambda x: float(np.log(np.sum(
        np.exp(x)))), lambda x: float(np.sum(x**3) - x.ravel()[0] * x.ravel()[-1])]
    derivatives = [lambda x: np.cos(x) * x + np.sin(x), lambda x: np.exp(x) / np.exp(x).sum(),
                   lambda x: 3 * x**2 - _corner(x)]
    trials = [(f, df(x), x, 1e-6, "its derivative", {"rtol": 1e-5, "atol": 1e-7})
              for (f, df), x in zip(list(zip(functions, derivatives))[:cases],
                                    rng.standard_normal((cases, 2, 3)))]
    x = rng.standard_normal((3, 2)) * 3
    trials.append((lambda x: float(np.sum(x**3)), 3 * x**2 + 1e-3**2, x, 1e-3,
                   "the central difference 3x^2 + eps^2 (a forward difference gives "
                   "3x^2 + 3x eps + eps^2)", {"rtol": 1e-7, "atol": 1e-9}))
    for f, expected, x, eps, what, tolerance in trials:
        given = x.copy()
        got = numerical_gradient(f, given, eps)
        if not np.array_equal(given, x):
            raise AssertionError(f"numerical gradient: x was changed by the call, from\n{x}\n"
                                 f"to\n{given}\nrestore each x[i] after perturbing it")
        compare("numerical gradient", got, expected, case=f"eps = {eps}, x =\n{x}, "
                f"compared with {what}", **tolerance)
    return passed("numerical_gradient", len(trials))


def _corner(x):
    g = np.zeros_like(x)
    g.ravel()[0], g.ravel()[-1] = x.ravel()[-1], x.ravel()[0]
    return g


def check_sigmoid_primitive(sigmoid, cases: int = 3):
    """``sigmoid(t)`` maps an autograd ``Tensor`` to a Tensor whose backward is correct.

    Checked under a random upstream gradient on two expressions whose derivatives are known in
    closed form, with s = sigmoid(2x): f(x) = sigmoid(2x) * x, derivative s + 2x s (1 - s), and
    f(x) = sigmoid(u) * u + sigmoid(u) with u = 2x, derivative 2s + (4x + 2) s (1 - s). In the
    second, u feeds three operations, so a backward that sets ``t.grad = ...`` instead of
    adding into it (``t._accumulate``) loses the other contributions. Inputs: random, x = +-1000
    and float32 inputs of +-50 (sigmoid(2x) then needs exp(100), past float32's range):
    overflow and invalid-value warnings count as failures. Far in the left tail, x = -720 and
    -740 (float64) and -95 (float32), the value e^x is tiny but representable, and must come
    out to within a relative 1e-3, not 0 (``1 / (1 + np.exp(-x))`` overflows there to 1/inf = 0,
    even with the warnings switched off). The result keeps the input's dtype."""
    from deepglossary.autograd import Tensor
    from deepglossary.nn.activations import sigmoid as reference

    rng = np.random.default_rng(13)
    trials = [rng.standard_normal((k + 1, 3)) * 3 for k in range(cases)]
    trials.append(np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]]))
    trials.append(np.array([[-50.0, -3.0, 0.5, 50.0], [20.0, -20.0, 1.0, -1.0]], dtype=np.float32))
    expressions = [
        ("sigmoid(2x) * x", lambda t: sigmoid(t * 2.0) * t,
         lambda a, s: s * a, lambda a, s: s + 2 * a * s * (1 - s)),
        ("sigmoid(u) * u + sigmoid(u), u = 2x", lambda t: (lambda u: sigmoid(u) * u + sigmoid(u))(
            t * 2.0), lambda a, s: 2 * a * s + s, lambda a, s: 2 * s + (4 * a + 2) * s * (1 - s))]
    for a in trials:
        s = reference(2 * a)
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if a.dtype == np.float32 else {}
        for name, expression, value, derivative in expressions:
            g = rng.standard_normal(a.shape).astype(a.dtype)
            t = Tensor(a.copy())
            case = f"f(x) = {name} at x = {a} ({a.dtype})"
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                try:
                    out = expression(t)
                    out.backward(g)
                except FloatingPointError as err:
                    raise AssertionError(f"sigmoid overflowed ({err}) at x = {a} ({a.dtype}): "
                                         "never take exp of a large positive number") from None
            compare("forward", out.data, value(a, s), case=case, **tolerance)
            compare("gradient", t.grad, g * derivative(a, s), case=case + " (the sigmoid's "
                    "input is used more than once: add into its .grad with t._accumulate, never "
                    "set it)", **tolerance)
            if out.data.dtype != a.dtype:
                raise AssertionError(f"sigmoid: the input is {a.dtype}, the output "
                                     f"{out.data.dtype}; keep the input's dtype")
    for tail in (np.array([-720.0, -740.0]), np.array([-95.0], dtype=np.float32)):
        with np.errstate(under="ignore"):
            got = sigmoid(Tensor(tail.copy())).data
        compare("left tail", got, np.exp(tail.astype(np.float64)).astype(tail.dtype),
                case=f"x = {tail} ({tail.dtype}): sigmoid(x) = e^x / (1 + e^x) is about e^x, "
                "representable; 1 / (1 + exp(-x)) rounds it to 0", rtol=1e-3, atol=0)
    return passed("sigmoid primitive", len(trials) * len(expressions) + 2)

def check_nearest_mean(predict, cases: int = 3):
    """``predict(x_train, y_train, x)``: the label of the nearest class mean for each row.

    Beside balanced classes labelled 0..3 it tries what catches a naive answer: labels that
    are not 0, 1, ... (the answer must be a label, not a position), classes of unequal sizes
    (the mean, not the sum), a single row, and classes whose means differ in length (the
    ``-|mu|^2 / 2`` term matters)."""
    rng = np.random.default_rng(14)
    trials = []
    for _ in range(cases):
        centres = rng.standard_normal((4, 6)) * 3
        y_train = np.repeat(np.arange(4), 10)
        trials.append((centres[y_train] + rng.standard_normal((40, 6)), y_train,
                       rng.standard_normal((15, 6)) * 3))
    labels = np.array([7, 2, 9])                          # not 0, 1, 2; unequal class sizes
    y_train = rng.permutation(np.repeat(labels, [5, 20, 9]))
    centres = {7: np.full(6, 4.0), 2: np.zeros(6), 9: np.full(6, -1.0)}
    x_train = np.stack([centres[y] for y in y_train]) + 0.5 * rng.standard_normal((34, 6))
    trials.append((x_train, y_train, rng.standard_normal((12, 6)) * 3))
    trials.append((x_train, y_train, np.full((1, 6), 1.5)))          # one row
    for k, (x_train, y_train, x) in enumerate(trials):
        classes = np.unique(y_train)
        means = np.stack([x_train[y_train == c].mean(0) for c in classes])
        expected = classes[((x[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)]
        got = np.asarray(predict(x_train, y_train, x))
        if got.shape != expected.shape or (got != expected).any():
            raise AssertionError(f"case {k}: classes {classes}, expected labels {expected}, "
                                 f"got {got}")
    return passed("nearest class mean", len(trials))
