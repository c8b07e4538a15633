"""Reading a graph: ``pp`` (an expression, as Theano's ``theano.printing.pp`` printed it),
``debugprint`` (one line a node, shared nodes printed once) and ``draw_graph`` (matplotlib)."""

from __future__ import annotations

from deepglossary.frameworks.theano import ops
from deepglossary.frameworks.theano.graph import Constant, SharedVariable, Variable, ancestors

_INFIX = {ops.Add: "+", ops.Sub: "-", ops.Mul: "*", ops.TrueDiv: "/", ops.Pow: "**"}
_COMMUTATIVE = (ops.Add, ops.Mul, ops.Maximum)   # the others get their edges numbered


def _leaf(v: Variable) -> str:
    if isinstance(v, Constant):
        value = v.value
        return f"{value.item():g}" if value.size == 1 else f"TensorConstant{value.shape}"
    return v.name or ("<shared>" if isinstance(v, SharedVariable) else "<?>")


def pp(v: Variable) -> str:
    """The expression computing ``v``, fully parenthesised: ``((x * y) + exp(x))``. A shared
    sub-expression is printed at each of its uses (``debugprint`` shows it once)."""
    node = v.owner
    if node is None:
        return _leaf(v)
    args = [pp(i) for i in node.inputs]
    op = type(node.op)
    if op in _INFIX:
        return f"({args[0]} {_INFIX[op]} {args[1]})"
    if op is ops.Neg:
        return f"(-{args[0]})"
    if op is ops.Transpose:
        return f"{args[0]}.T"
    return f"{node.op!r}({', '.join(args)})"


def debugprint(outputs) -> str:
    """One line a node in topological order, naming each result ``#k``: a node used twice is
    computed once, and both users read the same ``#k``."""
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    names: dict[int, str] = {}
    lines = []

    def name(v):
        return names.get(id(v)) or _leaf(v)

    for k, node in enumerate(ancestors(outputs)):
        names[id(node.output)] = f"#{k}"
        lines.append(f"#{k} = {node.op!r}({', '.join(name(i) for i in node.inputs)})"
                     f"  {node.output.type}")
    lines.append("outputs: " + ", ".join(name(o) for o in outputs))
    return "\n".join(lines)


def layout(outputs):
    """Positions for drawing: every leaf and node gets (column, row). A node's column is one
    more than its deepest input's (leaves in column 0); within a column, nodes are sorted by
    the mean row of their inputs, which uncrosses most edges."""
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    nodes = ancestors(outputs)
    depth: dict[int, int] = {}
    items: list[Variable] = []
    for node in nodes:
        for i in node.inputs:
            if i.owner is None and id(i) not in depth:
                depth[id(i)] = 0
                items.append(i)
        depth[id(node.output)] = 1 + max((depth[id(i)] for i in node.inputs), default=0)
        items.append(node.output)
    for o in outputs:
        if o.owner is None and id(o) not in depth:
            depth[id(o)] = 0
            items.append(o)
    columns: dict[int, list[Variable]] = {}
    for v in items:
        columns.setdefault(depth[id(v)], []).append(v)
    row = {}
    for d in sorted(columns):
        if d > 0:
            columns[d].sort(key=lambda v: sum(row[id(i)] for i in v.owner.inputs)
                            / len(v.owner.inputs))
        n = len(columns[d])
        for k, v in enumerate(columns[d]):
            row[id(v)] = k - (n - 1) / 2
    return items, {id(v): (depth[id(v)], row[id(v)]) for v in items}


def _label(v: Variable) -> str:
    if v.owner is None:
        return _leaf(v)
    text = repr(v.owner.op).split("{")[0]                  # the name, without parameters
    return text.replace("_", "_\n") if len(text) > 8 else text   # long names on two lines


def draw_graph(outputs, ax=None, title: str | None = None):
    """Draw the graph of ``outputs`` with matplotlib: leaves (inputs, shared variables,
    constants) as rounded boxes on the left, operations as boxes, arrows from each input to
    its user, numbered 0, 1, ... where the order of the operands matters (``a - b``: 0 is
    ``a``); an output is outlined in red. Returns the axes."""
    import matplotlib.pyplot as plt

    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    items, where = layout(outputs)
    where = {k: (2.0 * c, r) for k, (c, r) in where.items()}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    out_ids = {id(o) for o in outputs}
    colours = {"input": "#cfe2f3", "shared": "#d9ead3", "constant": "#eeeeee", "op": "#fce5cd"}
    for v in items:
        if v.owner is not None:
            x1, y1 = where[id(v)]
            inputs = v.owner.inputs
            ordered = len(inputs) > 1 and type(v.owner.op) not in _COMMUTATIVE
            for k, i in enumerate(inputs):
                x0, y0 = where[id(i)]
                repeat = sum(j is i for j in inputs[:k])        # the same input used twice:
                bend = 0.3 * repeat * (-1) ** repeat            # bend the second arrow apart
                ax.annotate("", xy=(x1 - 0.55, y1), xytext=(x0 + 0.55, y0),
                            arrowprops=dict(arrowstyle="->", color="0.4", lw=0.9,
                                            connectionstyle=f"arc3,rad={bend}"))
                if ordered:                                     # operand order: 0 - 1, 0 / 1
                    tx, ty = x0 + 0.55 + 0.8 * (x1 - x0 - 1.1), y0 + 0.8 * (y1 - y0)
                    ax.text(tx, ty + 0.12 - 0.3 * bend, str(k), fontsize=6.5, color="0.2",
                            ha="center", va="center")
    for v in items:
        x, y = where[id(v)]
        label = _label(v)
        if v.owner is not None:
            kind = "op"
        else:
            kind = ("constant" if isinstance(v, Constant) else
                    "shared" if isinstance(v, SharedVariable) else "input")
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5,
                bbox=dict(boxstyle="round,pad=0.3" if v.owner is None else "square,pad=0.3",
                          fc=colours[kind], ec="red" if id(v) in out_ids else "0.3",
                          lw=1.8 if id(v) in out_ids else 0.8))
    xs = [p[0] for p in where.values()] or [0]
    ys = [p[1] for p in where.values()] or [0]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax

