"""Draw a graph with matplotlib (no graphviz): one column per depth, inputs on the left.

``draw_graph(ops, ax, highlight=names)`` draws the operations ``ops`` (a graph's operations,
or the ancestors of some fetches), each box labelled with its name and type, an arrow per
input; the ops named in ``highlight`` are filled (those a run executed), the others pale.
"""

from __future__ import annotations

from deepglossary.frameworks.tensorflow.graph import Tensor

COLOURS = {"Placeholder": "#9ecae1", "VariableV2": "#a1d99b", "Const": "#dddddd"}


SHORT = {"SoftmaxCrossEntropyWithLogits": "SoftmaxXent", "BroadcastTo": "Broadcast"}


def _parents(op, ids):
    return [p for p in (t.op if isinstance(t, Tensor) else t for t in op.inputs + op.control_inputs)
            if id(p) in ids]


def _spread(wanted):
    """Rows for (op, wanted row) pairs: sorted by the wish, at least one row apart."""
    rows, last = {}, -1.0
    for op, want in sorted(wanted, key=lambda pair: pair[1]):
        last = max(want, last + 1.0)
        rows[op.name] = last
    return rows


def layout(operations):
    """{op name: (column, row)}: an op's column is the longest path to it from a source; a
    source (no inputs) sits one column before its first consumer; within a column, each op
    wants the mean row of its parents (sources: of their consumers), spread one row apart."""
    ids = {id(op) for op in operations}
    column, consumers = {}, {id(op): [] for op in operations}
    for op in operations:                               # operations come inputs first
        parents = _parents(op, ids)
        for p in parents:
            consumers[id(p)].append(op)
        inner = [p for p in parents if p.inputs or p.control_inputs]
        column[id(op)] = 1 + max((column[id(p)] for p in inner), default=0)
    for op in operations:
        if not (op.inputs or op.control_inputs) and consumers[id(op)]:
            column[id(op)] = min(column[id(c)] for c in consumers[id(op)]) - 1
    where = {}
    for col in sorted(set(column.values())):
        members = [op for op in operations if column[id(op)] == col]
        wanted = []
        for op in members:
            placed = [where[p.name][1] for p in _parents(op, ids) if p.name in where]
            wanted.append((op, sum(placed) / len(placed) if placed else 0.0))
        for name, row in _spread(wanted).items():
            where[name] = (col, row)
    return where


def draw_graph(operations, ax, highlight=None, title=None, fontsize=7):
    """Draw ``operations`` (in an order with inputs first) on the matplotlib axes ``ax``."""
    where = layout(operations)
    tallest = max(r for _, r in where.values()) + 1
    lowest = min(c for c, _ in where.values())
    names = {op.name for op in operations}
    for op in operations:
        x1, y1 = where[op.name]
        for parent in op.inputs + op.control_inputs:
            p = parent.op if isinstance(parent, Tensor) else parent
            if p.name not in names:
                continue
            x0, y0 = where[p.name]
            on = highlight is None or (op.name in highlight and p.name in highlight)
            ax.annotate("", xy=(x1 - 0.32, -y1), xytext=(x0 + 0.32, -y0),
                        arrowprops=dict(arrowstyle="->", lw=1.0, alpha=1.0 if on else 0.25,
                                        ls="-" if parent in op.inputs else ":",
                                        color="black" if on else "gray"))
    for op in operations:
        x, y = where[op.name]
        on = highlight is None or op.name in highlight
        face = COLOURS.get(op.type, "#fdd0a2" if on else "#f7f7f7")
        kind = SHORT.get(op.type, op.type)
        label = (SHORT.get(op.name, op.name) if op.name.startswith(op.type)
                 else f"{op.name}\n{kind}")
        ax.text(x, -y, label,
                ha="center", va="center", fontsize=fontsize, alpha=1.0 if on else 0.35,
                bbox=dict(boxstyle="round,pad=0.3", fc=face, ec="tab:red" if on and highlight
                          is not None else "gray", lw=1.5 if on and highlight is not None
                          else 0.8, alpha=1.0 if on else 0.35))
    columns = max(c for c, _ in where.values()) + 1
    ax.set(xlim=(lowest - 0.6, columns - 0.4), ylim=(-tallest + 0.4, 0.6))
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return where
