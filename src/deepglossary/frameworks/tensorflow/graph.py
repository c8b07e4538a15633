"""The graph of TensorFlow 1.x: operations (nodes) whose outputs are tensors (edges).

Building a model adds nodes to a :class:`Graph` and computes nothing; a ``Session`` runs a part
of the graph later. Every node has an op type (``MatMul``, ``Relu``, ...), its input tensors,
attributes (an axis, a transpose flag), a unique name, and one output :class:`Tensor` whose
static shape may hold ``None`` (a size known only when data arrive, such as the batch size).

PyTorch counterpart: none at run time (PyTorch executes each op at once); ``torch.fx.Graph``
is the closest data structure.
"""

from __future__ import annotations

import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class InvalidArgumentError(ValueError):
    """A bad feed or an unfed placeholder (TensorFlow's ``InvalidArgumentError``)."""


class FailedPreconditionError(RuntimeError):
    """A variable read before it was initialised (TensorFlow's ``FailedPreconditionError``)."""


def format_shape(shape) -> str:
    """``(None, 4)`` -> ``'(?, 4)'``, TensorFlow's way of printing an unknown size."""
    if shape is None:
        return "<unknown>"
    inner = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


class Operation:
    """One node: ``type`` (str), ``inputs`` (list of Tensor), ``attrs`` (dict), ``name``,
    ``outputs`` (a list of one Tensor; a ``NoOp`` such as a ``group`` has an output of shape
    None that fetches as None), and ``control_inputs`` (ops that must run first)."""

    def __init__(self, graph: Graph, type: str, inputs, attrs, name: str, shape, dtype,
                 control_inputs=()):
        self.graph, self.type, self.inputs = graph, type, list(inputs)
        self.attrs, self.name = dict(attrs), name
        self.control_inputs = list(control_inputs)
        self.outputs = [Tensor(self, shape, dtype)]

    def __repr__(self) -> str:
        return f"<Operation '{self.name}' type={self.type}>"


class Tensor:
    """The output of an operation: a symbolic value with a static ``shape`` (tuple, ``None``
    for an unknown size) and a ``dtype``. Arithmetic operators add nodes to the graph.
    PyTorch counterpart: a ``torch.fx.Node`` (a torch.Tensor holds data; this does not)."""

    def __init__(self, op: Operation, shape, dtype):
        self.op, self.shape = op, None if shape is None else tuple(shape)
        self.dtype = None if dtype is None else np.dtype(dtype)

    graph = property(lambda self: self.op.graph)
    name = property(lambda self: f"{self.op.name}:0")
    ndim = property(lambda self: len(self.shape))

    def __repr__(self) -> str:
        dtype = "" if self.dtype is None else f" dtype={self.dtype}"
        return f"<Tensor '{self.name}' shape={format_shape(self.shape)}{dtype}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):           # identity, as TF 1.x: tensors are keys of feed_dict
        return self is other

    # operators: defined in ops.py (they need the op constructors)


class Graph:
    """A container of operations, in the order they were added. ``with g.as_default():`` makes
    it the graph that op constructors add to. PyTorch counterpart: ``torch.fx.Graph``."""

    def __init__(self):
        self.operations: list[Operation] = []
        self._names: dict[str, int] = {}
        self.variables: list = []          # Variable objects created in this graph

    def unique_name(self, base: str) -> str:
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def add_op(self, type, inputs, attrs, shape, dtype, name=None, control_inputs=()):
        for t in inputs:
            if t.graph is not self:
                raise ValueError(f"Tensor {t.name} must be from the same graph as the op "
                                 f"{type} being added: tensors of another graph cannot mix")
        op = Operation(self, type, inputs, attrs, self.unique_name(name or type), shape, dtype,
                       control_inputs)
        self.operations.append(op)
        return op

    def get_operation_by_name(self, name: str) -> Operation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(f"no operation named {name!r} in the graph")

    def get_tensor_by_name(self, name: str) -> Tensor:
        return self.get_operation_by_name(name.removesuffix(":0")).outputs[0]

    def as_default(self):
        return _DefaultGraph(self)

    def __len__(self) -> int:
        return len(self.operations)


class _DefaultGraph:
    def __init__(self, graph):
        self.graph = graph

    def __enter__(self):
        _STACK.append(self.graph)
        return self.graph

    def __exit__(self, *exc):
        _STACK.pop()


_GLOBAL = [Graph()]                   # the process-wide default graph
_STACK: list[Graph] = []


def get_default_graph() -> Graph:
    """The innermost ``with graph.as_default()`` graph, else the global one."""
    return _STACK[-1] if _STACK else _GLOBAL[0]


def reset_default_graph() -> Graph:
    """Replace the global default graph by an empty one (``tf.reset_default_graph``)."""
    if _STACK:
        raise RuntimeError("reset_default_graph inside a `with graph.as_default()` block")
    _GLOBAL[0] = Graph()
    return _GLOBAL[0]


def ancestors(fetches, stop=()) -> list[Operation]:
    """The operations the ``fetches`` (ops or tensors) depend on, through inputs and control
    inputs, in an order that puts every op after its inputs; the ops of tensors in ``stop``
    (fed tensors) are included but not looked through."""
    stop = {id(t.op) for t in stop}
    order, seen = [], set()
    pending = [(t.op if isinstance(t, Tensor) else t, False) for t in reversed(list(fetches))]
    while pending:                                   # iterative post-order depth-first search
        op, expanded = pending.pop()
        if expanded:
            order.append(op)
            continue
        if id(op) in seen:
            continue
        seen.add(id(op))
        pending.append((op, True))
        if id(op) not in stop:
            for parent in reversed(op.inputs + op.control_inputs):
                p = parent.op if isinstance(parent, Tensor) else parent
                if id(p) not in seen:
                    pending.append((p, False))
    return order
