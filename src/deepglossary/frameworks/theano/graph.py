"""Symbolic expressions, Theano's way: typed variables, operations, and the graph they make.

A :class:`Variable` stands for an array that does not exist yet. It has a :class:`TensorType`
(a dtype and, per axis, a ``broadcastable`` flag, whose length is ``ndim``; the shape is only
known when the function runs) and, unless it is an input, an ``owner``: the :class:`Apply`
node of the operation that computes it from its ``inputs``. Calling an operation on variables
computes nothing: it adds a node to the graph. ``x * y + exp(x)`` is three nodes, and the two
uses of ``x`` are the same object, so the graph shares sub-expressions instead of copying them.

Broadcasting follows NumPy's rules (trailing axes aligned, size-1 axes stretched), restricted
as in Theano by the type's ``broadcastable`` pattern: an axis may stretch only where the type
says it has length 1 (a missing leading axis always may), and elementwise operations check
this when they run. So the type tells, before anything runs, along which axes an input is
stretched, and the gradient of a broadcast sums back over exactly those axes with
:class:`~deepglossary.frameworks.theano.structural.SumTo`; the gradient of a sum copies the
adjoint back to the input's run-time shape with
:class:`~deepglossary.frameworks.theano.structural.BroadcastLike`.

Every operation (an :class:`Op`) has ``perform`` (NumPy arrays in, one array out) and
``grad(inputs, output, g)``, which returns each input's gradient *as new symbolic
expressions*: the gradient of a graph is another graph. PyTorch counterpart: none; torch
records operations while it computes them (eager autograd), ``torch.fx`` captures a graph.
"""

from __future__ import annotations

import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class TensorType:
    """What a variable holds: ``dtype`` (float32 or float64) and, per axis, whether the axis
    is known to have length 1 and so may stretch in a broadcast (``broadcastable``, as in
    Theano); ``ndim`` (0, 1 or 2) is its length. A ``matrix`` has ``(False, False)``: its axes
    never stretch, and feeding it a (1, n) array where it meets an (m, n) one raises."""

    def __init__(self, dtype, broadcastable):
        self.dtype = np.dtype(dtype)
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        if self.dtype not in FLOATS:
            raise TypeError(f"a tensor type holds float32 or float64, not {self.dtype}")
        if self.ndim not in (0, 1, 2):
            raise TypeError(f"ndim must be 0 (scalar), 1 (vector) or 2 (matrix), got {self.ndim}")

    ndim = property(lambda self: len(self.broadcastable))

    def __eq__(self, other):
        return isinstance(other, TensorType) and (self.dtype, self.broadcastable) == (
            other.dtype, other.broadcastable)

    def __hash__(self):
        return hash((self.dtype, self.broadcastable))

    def __repr__(self):
        kind = ("scalar", "vector", "matrix")[self.ndim]
        extra = f", broadcastable={self.broadcastable}" if any(self.broadcastable) else ""
        return f"TensorType({self.dtype}, {kind}{extra})"

    def filter(self, value, allow_downcast: bool = False) -> np.ndarray:
        """``value`` as an array of this type; refuses a wrong ndim, and a lossy cast (float64
        data for a float32 variable) unless ``allow_downcast``, as Theano's functions did."""
        array = np.asarray(value)
        if array.ndim != self.ndim:
            raise TypeError(f"expected a {self.ndim}-d array for {self}, got shape {array.shape}")
        for axis, (b, n) in enumerate(zip(self.broadcastable, array.shape)):
            if b and n != 1:
                raise TypeError(f"axis {axis} of {self} has length 1, got shape {array.shape}")
        if array.dtype != self.dtype:
            if not allow_downcast and not np.can_cast(array.dtype, self.dtype, "safe"):
                raise TypeError(f"{array.dtype} data for a {self.dtype} variable would lose "
                                "precision: cast it, or compile with allow_input_downcast=True")
            array = array.astype(self.dtype)
        return array


class Variable:
    """A symbolic array: ``type``, ``owner`` (the :class:`Apply` computing it, or None for an
    input), ``name``. Arithmetic on variables builds new nodes."""

    def __init__(self, type_: TensorType, owner: Apply | None = None, name: str | None = None):
        self.type, self.owner, self.name = type_, owner, name

    __array_ufunc__ = None     # np.float64(0.1) * x: NumPy defers to x.__rmul__

    dtype = property(lambda self: self.type.dtype)
    ndim = property(lambda self: self.type.ndim)

    def __repr__(self):
        from deepglossary.frameworks.theano.printing import pp
        return pp(self)

    def __add__(self, other): return add(self, other)
    def __radd__(self, other): return add(other, self)
    def __sub__(self, other): return sub(self, other)
    def __rsub__(self, other): return sub(other, self)
    def __mul__(self, other): return mul(self, other)
    def __rmul__(self, other): return mul(other, self)
    def __truediv__(self, other): return div(self, other)
    def __rtruediv__(self, other): return div(other, self)
    def __pow__(self, other): return pow(self, other)
    def __rpow__(self, other): return pow(other, self)
    def __neg__(self): return neg(self)
    def __matmul__(self, other): return dot(self, other)
    T = property(lambda self: transpose(self))
    def sum(self, axis=None): return sum(self, axis)     # noqa: A003
    def mean(self, axis=None): return mean(self, axis)
    def dot(self, other): return dot(self, other)


class Constant(Variable):
    """A variable whose value is known when the graph is built (what constant folding makes)."""

    def __init__(self, value, dtype=None, name=None):
        value = np.asarray(value, dtype=dtype)
        if value.dtype not in FLOATS:
            value = value.astype(np.float64)
        super().__init__(TensorType(value.dtype, [n == 1 for n in value.shape]), None, name)
        self.value = value
        self.value.setflags(write=False)

    def signature(self):
        """What two constants must share to be merged: dtype, shape and bytes."""
        return ("constant", self.value.dtype.str, self.value.shape, self.value.tobytes())


class SharedVariable(Variable):
    """A variable with a value that lives between calls (a model's weights): the compiled
    functions read it, and their ``updates`` write it. Theano's ``theano.shared``."""

    def __init__(self, value, name=None):
        value = np.array(value)
        if value.dtype not in FLOATS:
            value = value.astype(np.float64)
        super().__init__(TensorType(value.dtype, [False] * value.ndim), None, name)
        self._value = value

    def get_value(self) -> np.ndarray:
        return self._value.copy()

    def set_value(self, value) -> None:
        self._value = self.type.filter(value).copy()


class Apply:
    """One node of the graph: ``op`` applied to ``inputs`` (variables), giving ``output``."""

    def __init__(self, op: Op, inputs: list[Variable], out_type: TensorType):
        self.op, self.inputs = op, list(inputs)
        self.output = Variable(out_type, self)

    @property
    def outputs(self):
        return [self.output]


class Op:
    """An operation. Subclasses define ``perform(*arrays) -> array`` and ``grad(inputs, out,
    g) -> list`` of symbolic gradients (None where an input gets no gradient)."""

    nin = 1
    differentiable = True

    def __call__(self, *inputs):
        inputs = _as_variables(inputs)
        if len(inputs) != self.nin:
            raise TypeError(f"{self} takes {self.nin} inputs, got {len(inputs)}")
        return Apply(self, inputs, self.out_type(*inputs)).output

    def out_type(self, *inputs) -> TensorType:                  # elementwise by default
        return elementwise_type(inputs)

    def key(self):
        """Equal keys mean equal operations (the merge rewrite compares them)."""
        return (type(self).__name__,)

    def __eq__(self, other):
        return isinstance(other, Op) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return getattr(self, "name", None) or type(self).__name__.lower()

    def run(self, node, arrays):
        """What a compiled function calls: ``perform`` (an op may check ``node``'s types)."""
        return self.perform(*arrays)

    def grad(self, inputs, out, g):
        raise NotImplementedError(f"{self} has no gradient")


def _as_variables(values) -> list[Variable]:
    """Python numbers become constants of the dtype of the other operands (so that
    ``w - 0.1 * g`` stays float32 when ``w`` is); arrays keep their own dtype."""
    typed = [v for v in values if isinstance(v, Variable)]
    if not typed:
        raise TypeError("an operation needs at least one symbolic variable")
    like = np.result_type(*(v.dtype for v in typed))
    out = []
    for v in values:
        if isinstance(v, Variable):
            out.append(v)
        elif isinstance(v, np.ndarray | np.generic):           # NumPy values keep their dtype
            out.append(Constant(v))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out.append(Constant(v, dtype=like))
        else:
            raise TypeError(f"cannot use {type(v).__name__} {v!r} in a symbolic expression")
    return out


def elementwise_type(inputs) -> TensorType:
    """NumPy's broadcasting on types: trailing axes aligned, an axis broadcastable in the
    result only where it is (or is missing) in every input."""
    ndim = max(v.ndim for v in inputs)
    pattern = [all(v.type.broadcastable[axis - ndim + v.ndim] if axis >= ndim - v.ndim else True
                   for v in inputs) for axis in range(ndim)]
    return TensorType(np.result_type(*(v.dtype for v in inputs)), pattern)


def scalar(name=None, dtype="float64") -> Variable:
    """A symbolic 0-d array (``theano.tensor.scalar``)."""
    return Variable(TensorType(dtype, ()), name=name)


def vector(name=None, dtype="float64") -> Variable:
    """A symbolic 1-d array (``theano.tensor.vector``)."""
    return Variable(TensorType(dtype, (False,)), name=name)


def matrix(name=None, dtype="float64") -> Variable:
    """A symbolic 2-d array (``theano.tensor.matrix``)."""
    return Variable(TensorType(dtype, (False, False)), name=name)


def constant(value, dtype=None, name=None) -> Constant:
    return Constant(value, dtype, name)


def shared(value, name=None) -> SharedVariable:
    return SharedVariable(value, name)


def ancestors(outputs) -> list[Apply]:
    """The nodes computing ``outputs``, each once, inputs before the nodes that use them."""
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    order, seen = [], set()
    stack = [(v, False) for v in reversed(outputs)]
    while stack:                                  # iterative depth-first post-order
        var, expanded = stack.pop()
        node = var.owner
        if node is None or (id(node) in seen and not expanded):
            continue
        if expanded:
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
            continue
        stack.append((var, True))
        stack.extend((i, False) for i in reversed(node.inputs) if i.owner is not None
                     and id(i.owner) not in seen)
    return order


def inputs_of(outputs) -> list[Variable]:
    """The leaves (inputs, shared variables, constants) the outputs depend on, each once."""
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    leaves, seen = [], set()
    for v in [o for o in outputs if o.owner is None] + [i for n in ancestors(outputs)
                                                          for i in n.inputs]:
        if v.owner is None and id(v) not in seen:
            seen.add(id(v))
            leaves.append(v)
    return leaves


def count_nodes(outputs) -> int:
    """How many operations the graph of ``outputs`` holds."""
    return len(ancestors(outputs))


from deepglossary.frameworks.theano.ops import (  # noqa: E402, I001  (ops use the classes above)
    add, div, dot, mean, mul, neg, pow, sub, sum, transpose)
