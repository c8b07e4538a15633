"""``function``: a graph compiled into a Python callable over NumPy.

Compiling does what Theano's ``theano.function`` did before it generated C: it rewrites the
graph of every output and update together (so they share their common parts), puts the nodes
in topological order, and turns them into a flat list of steps, each an operation with the
slots it reads and the slot it writes. Calling the function fills the input slots, runs the
steps, and, when there are ``updates``, writes the new values of the shared variables, all
computed from the old ones, after the outputs. PyTorch counterpart: ``torch.compile`` (which
captures the graph from Python instead of asking the user to build it).
"""

from __future__ import annotations

from deepglossary.frameworks.theano.graph import (
    Constant,
    SharedVariable,
    Variable,
    ancestors,
    inputs_of,
)
from deepglossary.frameworks.theano.rewrites import GROUPS, rewrite


class MissingInputError(ValueError):
    """An output depends on a symbolic input that is not among the function's inputs."""


class Function:
    """A compiled graph. Call it with one array per input; it returns the outputs (one array,
    or a list). ``steps`` lists what it runs; ``before`` and ``after`` count the operations
    before and after the rewrites, ``applied`` counts each rewrite that fired."""

    def __init__(self, inputs, outputs, updates=None, rewrites=GROUPS,
                 allow_input_downcast: bool = False):
        self.single = isinstance(outputs, Variable)
        outputs = [outputs] if self.single else list(outputs)
        self.inputs = list(inputs)
        for v in self.inputs:
            if not isinstance(v, Variable) or v.owner is not None or isinstance(
                    v, Constant | SharedVariable):
                raise TypeError(f"function inputs must be symbolic input variables (scalar, "
                                f"vector, matrix), got {v!r}")
        if len({id(v) for v in self.inputs}) != len(self.inputs):
            raise ValueError("an input variable is listed twice")
        updates = list(updates.items() if isinstance(updates, dict) else (updates or []))
        for target, expr in updates:
            if not isinstance(target, SharedVariable):
                raise TypeError(f"updates must change shared variables, got {target!r}")
            if expr.type != target.type:
                raise TypeError(f"the update of {target.name or 'a shared variable'} has type "
                                f"{expr.type}, but the variable has {target.type}: cast the "
                                "expression, or keep every constant in the variable's dtype")
        self.allow_input_downcast = allow_input_downcast
        result = rewrite(outputs + [e for _, e in updates], include=rewrites)
        self.before, self.after, self.applied = result.before, result.after, result.applied
        self.outputs = result.outputs[:len(outputs)]
        self.updates = list(zip((t for t, _ in updates), result.outputs[len(outputs):]))
        graph = result.outputs
        given = {id(v) for v in self.inputs}
        missing = [v for v in inputs_of(graph) if v.owner is None and id(v) not in given
                   and not isinstance(v, Constant | SharedVariable)]
        if missing:
            raise MissingInputError(f"the outputs need {missing!r}, which is not among the "
                                    "inputs")
        # the flat program: slot numbers for every variable, and one step a node
        self.slot: dict[int, int] = {}
        self.constants: list[tuple[int, object]] = []
        self.shared: list[tuple[int, SharedVariable]] = []
        for v in self.inputs:
            self._slot(v)
        for v in inputs_of(graph):
            if isinstance(v, Constant):
                self.constants.append((self._slot(v), v.value))
            elif isinstance(v, SharedVariable):
                self.shared.append((self._slot(v), v))
        self.nodes = ancestors(graph)
        self.steps = [(node, [self._slot(i) for i in node.inputs], self._slot(node.output))
                      for node in self.nodes]

    def _slot(self, v):
        return self.slot.setdefault(id(v), len(self.slot))

    def __call__(self, *args):
        if len(args) != len(self.inputs):
            raise TypeError(f"the function takes {len(self.inputs)} inputs "
                            f"({', '.join(str(v.name) for v in self.inputs)}), got {len(args)}")
        memory = [None] * len(self.slot)
        for v, a in zip(self.inputs, args):
            memory[self.slot[id(v)]] = v.type.filter(a, self.allow_input_downcast)
        for k, value in self.constants:
            memory[k] = value
        for k, v in self.shared:
            memory[k] = v._value
        for node, reads, write in self.steps:                    # the whole run: a flat loop
            memory[write] = node.op.run(node, [memory[k] for k in reads])
        results = [self._read(memory, v) for v in self.outputs]
        new_values = [self._read(memory, e) for _, e in self.updates]
        for (target, _), value in zip(self.updates, new_values):
            target._value = value.copy()                         # after every read of the old
        return results[0] if self.single else results

    def _read(self, memory, v):
        return memory[self.slot[id(v)]].copy()

    def __repr__(self):
        lines = [f"Function: {self.before} nodes written, {self.after} after rewrites "
                 f"({dict(self.applied) or 'none fired'})"]
        for node, reads, write in self.steps:
            lines.append(f"  [{write}] = {node.op}({', '.join(f'[{k}]' for k in reads)})")
        return "\n".join(lines)


def function(inputs, outputs, updates=None, rewrites=GROUPS, allow_input_downcast=False):
    """Compile ``outputs`` (a variable or a list) as a function of ``inputs`` (a list of
    symbolic inputs), with optional ``updates``: pairs (shared variable, new value expression)
    applied after each call. ``rewrites``: the rewrite groups to run (see ``rewrite``); ``()``
    compiles the graph as written. Theano's ``theano.function``."""
    return Function(inputs, outputs, updates, rewrites, allow_input_downcast)
