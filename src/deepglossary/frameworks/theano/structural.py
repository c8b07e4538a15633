"""Operations that are not elementwise: reductions, shape changes, products, softmax. Same
contract as ``elemwise``: ``perform`` computes with NumPy, ``grad`` writes each input's
gradient as a new symbolic expression of that input's shape."""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.theano.elemwise import _unbroadcast, div, exp, mul, sub
from deepglossary.frameworks.theano.graph import Op, TensorType, _as_variables


# --- reductions, shapes, products -------------------------------------------------------------
class Sum(Op):
    """Sum over ``axis`` (None: all; ``torch.sum``)."""

    def __init__(self, axis=None):
        self.axis = axis

    def key(self):
        return ("Sum", self.axis)

    def __repr__(self):
        return "sum" if self.axis is None else f"sum{{axis={self.axis}}}"

    def out_type(self, x):
        if self.axis is None:
            return TensorType(x.dtype, ())
        return TensorType(x.dtype, [b for a, b in enumerate(x.type.broadcastable)
                                    if a != self.axis])

    def perform(self, x):
        return np.asarray(x.sum(axis=self.axis))

    def grad(self, inputs, out, g):
        x = inputs[0]
        if self.axis is not None:
            g = expand_dims(g, self.axis)                           # the summed axis back
        return [BroadcastLike()(g, x)]                               # each entry gets g


class Mean(Sum):
    """Mean over ``axis`` (None: all; ``torch.mean``)."""

    def key(self):
        return ("Mean", self.axis)

    def __repr__(self):
        return "mean" if self.axis is None else f"mean{{axis={self.axis}}}"

    def perform(self, x):
        return np.asarray(x.mean(axis=self.axis))

    def grad(self, inputs, out, g):
        (gx,) = super().grad(inputs, out, g)
        return [div(gx, Count(self.axis)(inputs[0]))]                # g / (entries averaged)


class Count(Op):
    """How many entries ``mean`` averages (read from the shape at run time; no gradient)."""
    differentiable = False

    def __init__(self, axis=None):
        self.axis = axis

    def key(self):
        return ("Count", self.axis)

    def __repr__(self):
        return "count" if self.axis is None else f"count{{axis={self.axis}}}"

    def out_type(self, x):
        return TensorType(x.dtype, ())

    def perform(self, x):
        n = x.size if self.axis is None else x.shape[self.axis]
        return np.asarray(n, dtype=x.dtype)

    def grad(self, inputs, out, g):
        return [None]


class ExpandDims(Op):
    """Insert an axis of length 1 at ``axis`` (``torch.unsqueeze``)."""

    def __init__(self, axis):
        self.axis = axis

    def key(self):
        return ("ExpandDims", self.axis)

    def __repr__(self):
        return f"expand_dims{{axis={self.axis}}}"

    def out_type(self, x):
        pattern = list(x.type.broadcastable)
        pattern.insert(self.axis, True)
        return TensorType(x.dtype, pattern)

    def perform(self, x):
        return np.expand_dims(x, self.axis)

    def grad(self, inputs, out, g):
        return [sum(g, self.axis)]


class BroadcastLike(Op):
    """``a`` stretched to the shape of ``b`` at run time (``Tensor.expand_as``)."""
    name = "broadcast_like"
    nin = 2

    def out_type(self, a, b):
        return TensorType(a.dtype, b.type.broadcastable)

    def perform(self, a, b):
        return np.broadcast_to(a, b.shape).copy()

    def grad(self, inputs, out, g):
        return [_unbroadcast(g, inputs[0]), None]


class SumTo(Op):
    """Sum the first ``lead`` axes away, then the axes ``keep`` keeping them with length 1:
    the gradient of a broadcast."""

    def __init__(self, lead: int, keep: tuple):
        self.lead, self.keep = lead, tuple(keep)

    def key(self):
        return ("SumTo", self.lead, self.keep)

    def __repr__(self):
        return f"sum_to{{lead={self.lead}, keep={self.keep}}}"

    def out_type(self, g):
        pattern = [b or a in self.keep for a, b in enumerate(g.type.broadcastable[self.lead:])]
        return TensorType(g.dtype, pattern)

    def perform(self, g):
        g = g.sum(axis=tuple(range(self.lead))) if self.lead else g
        return np.asarray(g.sum(axis=self.keep, keepdims=True) if self.keep else g)


class Transpose(Op):
    """x.T for a matrix, the identity on a vector or scalar (``torch.Tensor.T``)."""

    def out_type(self, x):
        return TensorType(x.dtype, x.type.broadcastable[::-1])

    def perform(self, x):
        return x.T

    def grad(self, inputs, out, g):
        return [transpose(g)]


class Dot(Op):
    """Matrix and vector products (``torch.matmul``): (m,k)(k,n), (m,k)(k,), (k,)(k,n),
    (k,)(k,)."""
    nin = 2

    def out_type(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise TypeError("dot needs vectors or matrices; use * for a scalar")
        pattern = x.type.broadcastable[:-1] + y.type.broadcastable[1:]
        return TensorType(np.result_type(x.dtype, y.dtype), pattern)

    def perform(self, x, y):
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {y.shape} do not chain "
                             f"({x.shape[-1]} != {y.shape[0]})")
        return np.asarray(x @ y)

    def grad(self, inputs, out, g):
        x, y = inputs
        if x.ndim == 2 and y.ndim == 2:
            return [dot(g, y.T), dot(x.T, g)]                        # G Y^T, X^T G
        if x.ndim == 2:                                              # (m,k)(k,) -> (m,)
            return [outer(g, y), dot(x.T, g)]                        # g y^T, X^T g
        if y.ndim == 2:                                              # (k,)(k,n) -> (n,)
            return [dot(y, g), outer(x, g)]                          # Y g, x g^T
        return [mul(g, y), mul(g, x)]                                # (k,)(k,) -> ()


class Outer(Op):
    """The outer product of two vectors, (m,) and (n,) -> (m, n) (``torch.outer``)."""
    nin = 2

    def out_type(self, x, y):
        if x.ndim != 1 or y.ndim != 1:
            raise TypeError("outer needs two vectors")
        return TensorType(np.result_type(x.dtype, y.dtype), (False, False))

    def perform(self, x, y):
        return np.outer(x, y)

    def grad(self, inputs, out, g):
        x, y = inputs
        return [dot(g, y), dot(x, g)]                                # G y, G^T x


class Softmax(Op):
    """Softmax over the last axis (``torch.softmax(x, -1)``), the maximum subtracted first."""

    def out_type(self, x):
        if x.ndim == 0:
            raise TypeError("softmax needs a vector or a matrix")
        return TensorType(x.dtype, x.type.broadcastable)

    def perform(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def grad(self, inputs, out, g):
        return [SoftmaxGrad()(g, out)]


class SoftmaxGrad(Op):
    """The gradient of a softmax: ``s * (g - sum(g * s, -1))`` for upstream ``g`` and softmax
    output ``s`` (one node, as in Theano, so that a rewrite can recognise it)."""
    nin, name = 2, "softmax_grad"

    def out_type(self, g, s):
        return TensorType(np.result_type(g.dtype, s.dtype), s.type.broadcastable)

    def perform(self, g, s):
        with np.errstate(invalid="ignore"):
            return s * (g - (g * s).sum(axis=-1, keepdims=True))

    def grad(self, inputs, out, gz):
        g, s = inputs                                                # out_i = s_i (g_i - g.s)
        gz_s = expand_dims(sum(mul(gz, s), -1), -1)                  # sum_i gz_i s_i
        g_s = expand_dims(sum(mul(g, s), -1), -1)                    # sum_j g_j s_j
        return [SoftmaxGrad()(gz, s),                                # d/dg: a softmax gradient
                sub(mul(gz, sub(g, g_s)), mul(g, gz_s))]             # d/ds_k


class LogSoftmax(Softmax):
    """log(softmax(x)) over the last axis computed as x - max - log(sum(exp(x - max)))
    (``torch.log_softmax(x, -1)``): finite wherever x is."""
    name = "log_softmax"

    def perform(self, x):
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    def grad(self, inputs, out, g):                                  # g - exp(out) sum(g)
        return [sub(g, mul(exp(out), expand_dims(sum(g, -1), -1)))]


class ZerosLike(Op):
    """Zeros of ``x``'s shape and type (what the rewrite x * 0 -> 0 leaves)."""
    name = "zeros_like"

    def perform(self, x):
        return np.zeros_like(x)

    def grad(self, inputs, out, g):
        return [None]


class Cast(Op):
    """``x`` in another float dtype (``Tensor.to(dtype)``)."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def key(self):
        return ("Cast", self.dtype.str)

    def __repr__(self):
        return f"cast{{{self.dtype}}}"

    def out_type(self, x):
        return TensorType(self.dtype, x.type.broadcastable)

    def perform(self, x):
        return x.astype(self.dtype)

    def grad(self, inputs, out, g):
        return [Cast(inputs[0].dtype)(g)]


def expand_dims(x, axis):
    """``x`` with a new axis of length 1 at ``axis`` (negative counts from the end)."""
    return ExpandDims(axis % (x.ndim + 1))(x)


softmax, log_softmax, transpose = Softmax(), LogSoftmax(), Transpose()
zeros_like, _dot = ZerosLike(), Dot()


def dot(x, y):
    """Symbolic matrix or vector product (``theano.tensor.dot``)."""
    return _dot(*_as_variables([x, y]))


def outer(x, y):
    """Symbolic outer product of two vectors."""
    return Outer()(*_as_variables([x, y]))


def sum(x, axis=None):  # noqa: A001
    """Symbolic sum over ``axis`` (None: every entry)."""
    return Sum(_axis(x, axis))(x)


def mean(x, axis=None):
    """Symbolic mean over ``axis`` (None: every entry)."""
    return Mean(_axis(x, axis))(x)


def _axis(x, axis):
    if axis is None:
        return None
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for a {x.ndim}-d variable")
    return axis % x.ndim
