"""The TensorFlow 2 turn: eager execution, and ``function``, which traces Python into a graph.

``with eager_mode():`` makes every op constructor compute at once and return an
:class:`~deepglossary.frameworks.tensorflow.ops.EagerTensor` (TF 2's default, as PyTorch's).
``@function`` wraps a Python function: on a call whose *input signature* (each argument's
shape and dtype) it has not seen, it *traces* the function, running its Python body once in
graph mode on placeholders, and keeps the graph; later calls with that signature only run the
stored graph in a session. A call with a new shape traces again (a "retrace"). An
``input_signature`` with None sizes gives one graph for every size.

PyTorch counterparts: eager is torch's only mode; ``torch.fx.symbolic_trace`` and
``torch.compile`` capture graphs from Python code.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from deepglossary.frameworks.tensorflow import ops
from deepglossary.frameworks.tensorflow.graph import FLOATS, Graph, Tensor, format_shape
from deepglossary.frameworks.tensorflow.session import Session


@contextlib.contextmanager
def eager_mode():
    """Within the block, ops run at once (``tf.compat.v1.enable_eager_execution``)."""
    before = ops.EAGER[0]
    ops.EAGER[0] = True
    try:
        yield
    finally:
        ops.EAGER[0] = before


def executing_eagerly() -> bool:
    return ops.EAGER[0]


class Variable(ops.EagerTensor):
    """An eager variable: a value that ``assign``/``assign_sub`` change in place. Read inside a
    traced ``function`` it becomes a ``Captured`` node reading its value at run time.
    ``tf.Variable`` (TF 2); ``torch.nn.Parameter``."""

    def __init__(self, initial_value, name="Variable"):
        value = np.array(initial_value)
        super().__init__(value if value.dtype in FLOATS else value.astype(np.float64))
        self.name = name

    def assign(self, value):
        self.value = np.array(getattr(value, "value", value), dtype=self.value.dtype)
        return self

    def assign_sub(self, delta):
        if not ops.EAGER[0]:
            raise NotImplementedError("assigning to an eager Variable inside a traced function "
                                      "is not built here: return the new value instead")
        return self.assign(self.value - getattr(delta, "value", delta))

    def _as_graph_tensor(self):
        from deepglossary.frameworks.tensorflow.graph import get_default_graph
        graph = get_default_graph()
        cached = graph.__dict__.setdefault("_captures", {})
        if id(self) not in cached:
            cached[id(self)] = graph.add_op("Captured", [], {"variable": self}, self.shape,
                                            self.dtype, self.name + "/read").outputs[0]
        return cached[id(self)]


ops.register("Captured", None, None)


@dataclass(frozen=True)
class TensorSpec:
    """The shape (None: any size) and dtype a traced argument accepts. ``tf.TensorSpec``."""

    shape: tuple
    dtype: type = np.float64

    def accepts(self, x) -> bool:
        return (np.dtype(x.dtype) == np.dtype(self.dtype) and x.ndim == len(self.shape)
                and all(d is None or d == s for d, s in zip(self.shape, x.shape)))


@dataclass
class ConcreteFunction:
    """One trace: its graph, its placeholders and output tensors, and a session to run it."""

    graph: Graph
    inputs: list
    outputs: object
    session: Session

    def __call__(self, *arrays):
        return self.session.run(self.outputs, dict(zip(self.inputs, arrays)))


class Function:
    """What ``@function`` returns. ``trace_count``: how many times the Python body was traced;
    ``concrete``: the traces by signature. ``tf.function``; ``torch.compile`` is torch's."""

    def __init__(self, fn, input_signature=None):
        self.fn, self.input_signature = fn, input_signature
        self.concrete: dict[tuple, ConcreteFunction] = {}
        self.trace_count = 0

    def _key(self, arrays):
        if self.input_signature is None:
            return tuple((a.shape, a.dtype.str) for a in arrays)
        if len(arrays) != len(self.input_signature) or not all(
                spec.accepts(a) for spec, a in zip(self.input_signature, arrays)):
            got = ", ".join(f"{format_shape(a.shape)} {a.dtype}" for a in arrays)
            want = ", ".join(f"{format_shape(s.shape)} {np.dtype(s.dtype)}"
                             for s in self.input_signature)
            raise ValueError(f"{self.fn.__name__} was given ({got}); its input_signature "
                             f"accepts ({want})")
        return ("signature",)

    def get_concrete_function(self, *args) -> ConcreteFunction:
        arrays = [np.asarray(getattr(a, "value", a)) for a in args]
        for a in arrays:
            if a.dtype not in FLOATS:
                raise TypeError(f"{self.fn.__name__}: arguments must be float32 or float64 "
                                f"arrays, got {a.dtype}")
        key = self._key(arrays)
        if key not in self.concrete:
            self.concrete[key] = self._trace(arrays)
        return self.concrete[key]

    def _trace(self, arrays):
        graph = Graph()
        before = ops.EAGER[0]
        ops.EAGER[0] = False                        # the body builds nodes, computes nothing
        try:
            with graph.as_default():
                shapes = ([a.shape for a in arrays] if self.input_signature is None
                          else [s.shape for s in self.input_signature])
                inputs = [ops.placeholder(a.dtype, shape, name=f"arg{k}")
                          for k, (a, shape) in enumerate(zip(arrays, shapes))]
                outputs = self.fn(*inputs)
        finally:
            ops.EAGER[0] = before
        if not isinstance(outputs, Tensor | list | tuple):
            raise TypeError(f"{self.fn.__name__} must return tensors, got {type(outputs)}")
        self.trace_count += 1
        return ConcreteFunction(graph, inputs, outputs, Session(graph))

    def __call__(self, *args):
        concrete = self.get_concrete_function(*args)
        result = concrete(*[np.asarray(getattr(a, "value", a)) for a in args])
        if isinstance(result, list | tuple):
            return type(result)(ops.EagerTensor(r) for r in result)
        return ops.EagerTensor(result)


def function(fn=None, *, input_signature=None):
    """Decorator: trace ``fn`` into a graph once per input signature, then run the graph.
    ``tf.function``; compare ``torch.compile`` and ``torch.fx.symbolic_trace``."""
    if fn is None:
        return lambda f: Function(f, input_signature)
    return Function(fn, input_signature)
