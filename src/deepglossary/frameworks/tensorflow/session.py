"""Variables, assignments and the ``Session`` that runs a part of a graph.

A variable's value lives in a session, not in the graph: the graph holds a ``VariableV2`` node
(reading it) and an ``Assign`` node (its initializer). ``Session.run(fetches, feed_dict)``
finds the operations the fetches depend on, stopping at fed tensors, and runs only those, in
an order that puts each after its inputs. Within one run every read of a variable sees its
value from the start of the run; assignments take effect at the end of their node.

PyTorch counterpart: none; a torch program *is* the run (``torch.nn.Parameter`` holds a value).
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.tensorflow import ops
from deepglossary.frameworks.tensorflow.graph import (
    FLOATS,
    FailedPreconditionError,
    InvalidArgumentError,
    Operation,
    Tensor,
    ancestors,
    format_shape,
    get_default_graph,
)


class Variable(Tensor):
    """A tensor whose value persists across ``Session.run`` calls: the output of a
    ``VariableV2`` node. ``initial_value``: an array (float32 or float64). ``.initializer`` is
    the op that sets it; ``assign``, ``assign_add``, ``assign_sub`` add update ops.
    ``tf.Variable`` (TF 1.x); PyTorch counterpart: ``torch.nn.Parameter``."""

    def __init__(self, initial_value, name=None, dtype=None, trainable=True):
        if ops.EAGER[0]:
            raise RuntimeError("in eager mode use eager.Variable")
        value = np.array(initial_value, dtype=dtype)
        if value.dtype not in FLOATS:
            value = value.astype(np.float64)
        graph = get_default_graph()
        op = graph.add_op("VariableV2", [], {}, value.shape, value.dtype, name or "Variable")
        super().__init__(op, value.shape, value.dtype)
        op.outputs[0] = self
        op.attrs["variable"] = self
        self.trainable, self.initial_value = trainable, value
        with_name = op.name + "/initial_value"
        init_value = graph.add_op("Const", [], {"value": value}, value.shape, value.dtype,
                                  with_name).outputs[0]
        self.initializer = assign(self, init_value, name=op.name + "/Assign").op
        graph.variables.append(self)

    def assign(self, value, name=None):
        return assign(self, value, name)

    def assign_add(self, delta, name=None):
        return apply_update("AssignAdd", self, delta, name)

    def assign_sub(self, delta, name=None):
        return apply_update("AssignSub", self, delta, name)

    def __repr__(self) -> str:
        return f"<Variable '{self.op.name}' shape={format_shape(self.shape)} dtype={self.dtype}>"


def _update_shape(inputs, attrs):
    var, value = inputs
    if None in value.shape and len(value.shape) == len(var.shape):
        return var.shape, var.dtype
    if tuple(value.shape) != tuple(var.shape):
        raise ValueError(f"cannot assign a value of shape {format_shape(value.shape)} to the "
                         f"variable '{var.name}' of shape {format_shape(var.shape)}")
    return var.shape, var.dtype


for _type in ("Assign", "AssignAdd", "AssignSub"):
    ops.register(_type, None, _update_shape)
ops.register("VariableV2", None, None)
ops.register("NoOp", None, None)


def apply_update(type, var, value, name=None):
    if not isinstance(var, Variable):
        raise TypeError(f"{type} needs a Variable, got {var!r}")
    value = ops.convert(value, var.dtype)
    return ops.apply(type, [var, value], {}, name)


def assign(var, value, name=None):
    """An op that sets ``var`` to ``value`` when run; fetching it gives the new value.
    ``tf.assign``; PyTorch: ``with torch.no_grad(): p.copy_(value)``."""
    return apply_update("Assign", var, value, name)


def assign_sub(var, delta, name=None):
    return apply_update("AssignSub", var, delta, name)


def group(*inputs, name=None):
    """An op with no output that runs all ``inputs`` (ops or tensors). ``tf.group``."""
    graph = get_default_graph()
    control = [t.op if isinstance(t, Tensor) else t for t in inputs]
    return graph.add_op("NoOp", [], {}, None, None, name or "group_deps", control_inputs=control)


def global_variables_initializer(graph=None):
    """One op that runs every variable's initializer. ``tf.global_variables_initializer``."""
    graph = graph or get_default_graph()
    with graph.as_default():
        return group(*[v.initializer for v in graph.variables], name="init")


def trainable_variables(graph=None):
    return [v for v in (graph or get_default_graph()).variables if v.trainable]


class Session:
    """Runs parts of one graph and keeps the values of its variables.
    ``tf.Session`` (TF 1.x). ``executed`` lists the ops the last ``run`` executed."""

    def __init__(self, graph=None):
        self.graph = graph or get_default_graph()
        self.values: dict[int, np.ndarray] = {}        # id(variable) -> its value
        self.executed: list[Operation] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.values.clear()

    def run(self, fetches, feed_dict=None):
        """Evaluate ``fetches`` (a Tensor, Operation, or a list, tuple or dict of them);
        ``feed_dict`` maps tensors (placeholders, or any tensor) to arrays that replace them.
        Returns arrays in the structure of ``fetches`` (None for an op without output)."""
        flat = []
        _flatten(fetches, flat)
        feeds = {}
        for t, value in (feed_dict or {}).items():
            if not isinstance(t, Tensor):
                raise TypeError(f"feed_dict keys must be tensors, got {t!r}")
            if t.graph is not self.graph:
                raise ValueError(f"cannot feed {t.name}: it belongs to another graph")
            feeds[t] = self._check_feed(t, value)
        for f in flat:
            if f.graph is not self.graph:
                raise ValueError(f"cannot fetch {f.name}: it belongs to another graph")
        order = ancestors(flat, stop=list(feeds))
        start = dict(self.values)                       # reads see the run's starting values
        results: dict[int, np.ndarray] = {}
        self.executed = []
        for op in order:
            out = op.outputs[0]
            if out in feeds:
                results[id(out)] = feeds[out]
                continue
            results[id(out)] = self._execute(op, results, start)
            self.executed.append(op)
        for f in flat:
            tensor = f if isinstance(f, Tensor) else f.outputs[0]
            if results[id(tensor)] is _UNINITIALIZED:
                raise FailedPreconditionError(f"Attempting to use uninitialized value "
                                              f"{tensor.op.name}")
        return _rebuild(fetches, results)

    def _check_feed(self, t, value):
        value = np.asarray(value)
        if value.dtype != t.dtype:
            if not np.can_cast(value.dtype, t.dtype, "same_kind") or value.dtype in FLOATS:
                raise InvalidArgumentError(
                    f"Cannot feed a value of dtype {value.dtype} for Tensor '{t.name}', which "
                    f"has dtype {t.dtype}")
            value = value.astype(t.dtype)
        if t.shape is not None and (value.ndim != len(t.shape) or any(
                d is not None and d != s for d, s in zip(t.shape, value.shape))):
            raise InvalidArgumentError(
                f"Cannot feed value of shape {value.shape} for Tensor '{t.name}', which has "
                f"shape {format_shape(t.shape)}")
        return value

    def _execute(self, op, results, start):
        t = op.type
        if t == "Placeholder":
            raise InvalidArgumentError(
                f"You must feed a value for placeholder tensor '{op.name}' with dtype "
                f"{op.attrs['dtype']} and shape {format_shape(op.attrs['shape'])}")
        if t == "NoOp":
            return None
        if t == "VariableV2":
            return start.get(id(op.outputs[0]), _UNINITIALIZED)
        if t == "Captured":                              # an eager variable read in a function
            return op.attrs["variable"].value
        values = [results[id(i)] for i in op.inputs]
        for i, v in zip(op.inputs, values):
            if v is _UNINITIALIZED and not (t == "Assign" and i is op.inputs[0]):
                raise FailedPreconditionError(
                    f"Attempting to use uninitialized value {i.op.name}: run its initializer "
                    f"or global_variables_initializer() first")
        if t in ("Assign", "AssignAdd", "AssignSub"):
            var = op.inputs[0]
            old = self.values.get(id(var))
            new = {"Assign": lambda: values[1],
                   "AssignAdd": lambda: old + values[1],
                   "AssignSub": lambda: old - values[1]}[t]()
            new = np.array(new, dtype=var.dtype)            # a fresh array: reads keep theirs
            self.values[id(var)] = new
            return new
        return ops.OPS[t]["kernel"](values, op.attrs)


_UNINITIALIZED = object()          # what reading a variable without a value gives, never fetched


def _flatten(fetches, out):
    if isinstance(fetches, list | tuple):
        for f in fetches:
            _flatten(f, out)
    elif isinstance(fetches, dict):
        for f in fetches.values():
            _flatten(f, out)
    elif isinstance(fetches, Tensor | Operation):
        out.append(fetches)
    else:
        raise TypeError(f"Fetch argument {fetches!r} has invalid type {type(fetches).__name__}: "
                        f"fetch Tensors or Operations")


def _rebuild(fetches, results):
    if isinstance(fetches, list | tuple):
        return type(fetches)(_rebuild(f, results) for f in fetches)
    if isinstance(fetches, dict):
        return {k: _rebuild(f, results) for k, f in fetches.items()}
    tensor = fetches if isinstance(fetches, Tensor) else fetches.outputs[0]
    return results[id(tensor)]
