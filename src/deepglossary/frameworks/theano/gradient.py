"""Symbolic differentiation: reverse mode over the graph, returning new graphs.

``grad(cost, wrt)`` walks the nodes between ``wrt`` and the scalar ``cost`` from the cost
back, as backpropagation does, but instead of numbers it builds expressions: each node's
``op.grad`` writes its inputs' gradients as new operations on the gradient of its output,
and the gradients reaching one variable along several paths are added, symbolically. The
result is an ordinary graph, which can be printed, rewritten, compiled, or differentiated again.
PyTorch counterpart: ``torch.autograd.grad`` (which computes numbers, on a graph recorded while
the forward pass ran).
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.theano.graph import Constant, Variable, ancestors
from deepglossary.frameworks.theano.ops import Cast, add


class DisconnectedInputError(ValueError):
    """``grad`` was asked for a variable the cost does not depend on (as in Theano, which
    raised rather than return a silent zero)."""


def grad(cost: Variable, wrt, disconnected: str = "raise"):
    """The symbolic gradient of the scalar ``cost`` with respect to each of ``wrt``.

    Args:
        cost: a 0-d variable.
        wrt: a variable or a list of them (inputs, shared variables, or any variable of the
            graph); each gradient has its variable's type (same ndim and dtype).
        disconnected: ``"raise"`` (default) or ``"zero"`` for a variable the cost does not
            depend on.
    Returns: one variable, or a list in ``wrt``'s order.
    """
    if not isinstance(cost, Variable) or cost.ndim != 0:
        raise TypeError(f"grad needs a scalar (0-d) cost, got {cost!r}; for a non-scalar "
                        "output use Lop(output, wrt, upstream)")
    one = Constant(np.ones((), dtype=cost.dtype))
    return _backprop({cost: one}, wrt, disconnected)


def Lop(output: Variable, wrt, upstream: Variable, disconnected: str = "raise"):  # noqa: N802
    """The vector-Jacobian product ``upstream^T (d output / d wrt)``, as graphs: what
    backpropagation sends to ``wrt`` when ``output`` receives ``upstream`` (same type as
    ``output``). Theano's ``Lop``; PyTorch: ``torch.autograd.grad(output, wrt, upstream)``."""
    if upstream.type.ndim != output.ndim:
        raise TypeError(f"upstream must have the output's ndim {output.ndim}, got "
                        f"{upstream.ndim}")
    return _backprop({output: upstream}, wrt, disconnected)


def _backprop(seeds: dict, wrt, disconnected):
    single = isinstance(wrt, Variable)
    wrt = [wrt] if single else list(wrt)
    if disconnected not in ("raise", "zero"):
        raise ValueError(f"disconnected must be 'raise' or 'zero', got {disconnected!r}")
    nodes = ancestors(list(seeds))
    # the variables that depend on a wrt: only their nodes pass gradients back
    depends = {id(v) for v in wrt}
    for node in nodes:
        if any(id(i) in depends for i in node.inputs):
            depends.add(id(node.output))
    pending: dict[int, list[Variable]] = {id(v): [g] for v, g in seeds.items()}
    total: dict[int, Variable] = {}

    def gradient_of(v):
        if id(v) not in total:
            parts = pending.get(id(v), [])
            g = parts[0]
            for p in parts[1:]:
                g = add(g, p)                                    # paths add up
            total[id(v)] = g
        return total[id(v)]

    for node in reversed(nodes):                                 # outputs before inputs
        if id(node.output) not in pending or id(node.output) not in depends:
            continue
        g_out = gradient_of(node.output)
        wanted = [id(i) in depends for i in node.inputs]
        if not any(wanted):
            continue
        if not node.op.differentiable:
            continue
        grads = node.op.grad(node.inputs, node.output, g_out)
        for inp, g_in, want in zip(node.inputs, grads, wanted):
            if want and g_in is not None:
                if g_in.ndim != inp.ndim:
                    raise TypeError(f"{node.op}.grad gave {g_in.type} for an input of type "
                                    f"{inp.type}")
                if g_in.dtype != inp.dtype:                      # mixed precisions: the
                    g_in = Cast(inp.dtype)(g_in)                 # input's own dtype
                pending.setdefault(id(inp), []).append(g_in)
    out = []
    for v in wrt:
        if id(v) in pending:
            out.append(gradient_of(v))
        elif disconnected == "zero":
            from deepglossary.frameworks.theano.ops import zeros_like
            out.append(zeros_like(v))
        else:
            raise DisconnectedInputError(
                f"the cost does not depend on {v!r}; pass disconnected='zero' for a zero "
                "gradient")
    return out[0] if single else out
