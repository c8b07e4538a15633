"""Elementwise operations: how each computes (``perform``, NumPy) and its gradient, written as
a new symbolic expression (``grad``). ``inputs`` are the node's input variables, ``out`` its
output variable and ``g`` the symbolic gradient of the cost with respect to ``out``; ``grad``
returns one symbolic gradient per input, each of that input's shape (summed over the axes along
which the input was broadcast)."""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.theano.graph import Constant, Op, Variable, _as_variables


# --- elementwise ------------------------------------------------------------------------------
class Elemwise(Op):
    """An elementwise operation, broadcasting as NumPy does within the inputs' types."""

    def perform(self, *arrays):
        with np.errstate(all="ignore"):                 # inf and nan propagate, as in NumPy
            return np.asarray(self.impl(*arrays))

    def run(self, node, arrays):
        """``perform``, after checking that only axes whose type allows it were stretched."""
        if len(arrays) > 1 and len({a.shape for a in arrays}) > 1:
            try:
                shape = np.broadcast_shapes(*(a.shape for a in arrays))
            except ValueError:
                raise ValueError(f"{self}: shapes {[a.shape for a in arrays]} do not "
                                 "broadcast") from None
            for a, v in zip(arrays, node.inputs):
                for axis, n in enumerate(a.shape):
                    if n == 1 and shape[axis + len(shape) - a.ndim] != 1 \
                            and not v.type.broadcastable[axis]:
                        raise ValueError(f"{self}: an input of shape {a.shape} would stretch "
                                         f"along axis {axis}, which its type {v.type} does not "
                                         f"allow (result shape {shape})")
        return self.perform(*arrays)


def _unbroadcast(g: Variable, x: Variable) -> Variable:
    """``g`` (the output's shape) summed over the axes along which ``x`` was stretched: the
    leading axes ``x`` lacks, and the axes where ``x`` has length 1 and the output need not."""
    lead = g.ndim - x.ndim
    keep = tuple(a for a in range(x.ndim) if x.type.broadcastable[a]
                 and not g.type.broadcastable[a + lead])
    if lead == 0 and not keep:
        return g
    from deepglossary.frameworks.theano.structural import SumTo
    return SumTo(lead, keep)(g)


def _binary(op_class):
    instance = op_class()

    def make(x, y):
        return instance(*_as_variables([x, y]))
    make.__name__ = op_class.__name__.lower()
    make.__doc__ = f"Symbolic {op_class.__doc__}"
    return make


class Add(Elemwise):
    """x + y (``torch.add``)."""
    nin, symbol = 2, "+"
    impl = staticmethod(np.add)

    def grad(self, inputs, out, g):
        x, y = inputs
        return [_unbroadcast(g, x), _unbroadcast(g, y)]               # d(x+y)/dx = 1, /dy = 1


class Sub(Elemwise):
    """x - y (``torch.sub``)."""
    nin, symbol = 2, "-"
    impl = staticmethod(np.subtract)

    def grad(self, inputs, out, g):
        x, y = inputs
        return [_unbroadcast(g, x), _unbroadcast(neg(g), y)]


class Mul(Elemwise):
    """x * y (``torch.mul``)."""
    nin, symbol = 2, "*"
    impl = staticmethod(np.multiply)

    def grad(self, inputs, out, g):
        x, y = inputs
        return [_unbroadcast(mul(g, y), x), _unbroadcast(mul(g, x), y)]


class TrueDiv(Elemwise):
    """x / y (``torch.div``)."""
    name = "true_div"
    nin, symbol = 2, "/"
    impl = staticmethod(np.true_divide)

    def grad(self, inputs, out, g):
        x, y = inputs
        gx = div(g, y)                                               # d(x/y)/dx = 1/y
        return [_unbroadcast(gx, x), _unbroadcast(neg(mul(gx, out)), y)]   # -x/y^2 = -(1/y)(x/y)


class Pow(Elemwise):
    """x ** y (``torch.pow``); the gradient for y holds log x, so keep x positive there."""
    nin, symbol = 2, "**"
    impl = staticmethod(np.power)

    def grad(self, inputs, out, g):
        x, y = inputs
        gx = mul(mul(g, y), pow(x, sub(y, 1)))                        # y x^(y-1)
        gy = None if isinstance(y, Constant) else mul(mul(g, out), log(x))   # x^y log x
        return [_unbroadcast(gx, x), None if gy is None else _unbroadcast(gy, y)]


class Maximum(Elemwise):
    """maximum(x, y) elementwise (``torch.maximum``): at a tie each side gets half the
    gradient, as in torch."""
    nin = 2
    impl = staticmethod(np.maximum)

    def grad(self, inputs, out, g):
        x, y = inputs
        half = mul(0.5, eq(x, y))
        return [_unbroadcast(mul(g, add(gt(x, y), half)), x),
                _unbroadcast(mul(g, add(gt(y, x), half)), y)]


class Gt(Elemwise):
    """1 where x > y, else 0, in the inputs' float dtype (a mask; no gradient)."""
    nin, differentiable = 2, False

    def impl(self, x, y):
        return (x > y).astype(np.result_type(x, y))

    def grad(self, inputs, out, g):
        return [None, None]


class Eq(Gt):
    """1 where x == y, else 0 (a mask; no gradient)."""

    def impl(self, x, y):
        return (x == y).astype(np.result_type(x, y))


add, sub, mul, div = _binary(Add), _binary(Sub), _binary(Mul), _binary(TrueDiv)
pow, maximum, gt, eq = _binary(Pow), _binary(Maximum), _binary(Gt), _binary(Eq)  # noqa: A001


class Unary(Elemwise):
    def __call__(self, x):
        (x,) = _as_variables([x])
        return super().__call__(x)


class Neg(Unary):
    """-x (``torch.neg``)."""
    impl = staticmethod(np.negative)

    def grad(self, inputs, out, g):
        return [neg(g)]


class Exp(Unary):
    """exp(x) (``torch.exp``)."""
    impl = staticmethod(np.exp)

    def grad(self, inputs, out, g):
        return [mul(g, out)]                                         # d exp(x) = exp(x)


class Log(Unary):
    """log(x) (``torch.log``)."""
    impl = staticmethod(np.log)

    def grad(self, inputs, out, g):
        return [div(g, inputs[0])]                                   # 1/x


class Tanh(Unary):
    """tanh(x) (``torch.tanh``)."""
    impl = staticmethod(np.tanh)

    def grad(self, inputs, out, g):
        return [mul(g, sub(1, mul(out, out)))]                       # 1 - tanh^2


class Sigmoid(Unary):
    """1 / (1 + exp(-x)) (``torch.sigmoid``), computed without overflow."""

    def impl(self, x):
        e = np.exp(-np.abs(x))                                       # in (0, 1]
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def grad(self, inputs, out, g):
        return [SigmoidGrad()(g, out)]                               # g s (1 - s)


class SigmoidGrad(Elemwise):
    """The gradient of a sigmoid, ``g * s * (1 - s)`` for upstream ``g`` and sigmoid output
    ``s``: one node, so that a rewrite can recognise it (Theano's ``sigmoid_grad``)."""
    nin, name = 2, "sigmoid_grad"

    def impl(self, g, s):
        return g * s * (1 - s)

    def grad(self, inputs, out, gz):
        g, s = inputs                                                # d/dg = s(1-s), d/ds = g(1-2s)
        return [_unbroadcast(SigmoidGrad()(gz, s), g),
                _unbroadcast(mul(gz, mul(g, sub(1, mul(2, s)))), s)]


class Softplus(Unary):
    """log(1 + exp(x)) (``torch.nn.functional.softplus``), computed without overflow."""

    def impl(self, x):
        return np.logaddexp(0, x)

    def grad(self, inputs, out, g):
        return [mul(g, sigmoid(inputs[0]))]


neg, exp, log, tanh = Neg(), Exp(), Log(), Tanh()
sigmoid, softplus = Sigmoid(), Softplus()
