"""Random expressions for testing: one tree, built both as our graph and in torch.

A tree is a nested tuple: a leaf is a variable's name (``"x"``), a node is ``(op, *children)``.
``random_tree(choose, kind, depth)`` grows one, asking ``choose(options)`` at every step (a
hypothesis draw in the tests, a seeded NumPy choice in the chapter), and keeps away from the
places where two correct implementations may differ: ``log``, a denominator and the base of a
power only ever receive something positive by construction (``exp``, ``sigmoid``, ``softmax``,
or ``e * e + 1``). ``build(tree, variables, backend)`` turns it into an expression of the
backend's ``"theano"`` (this package) or ``"torch"`` operations.
"""

from __future__ import annotations

import numpy as np

# the variables and their kinds: M a (3, 4) matrix, Q a (4, 4) one, V a (4,) vector, S a scalar
VARIABLES = {"x": "M", "y": "M", "q": "Q", "v": "V", "s": "S"}
SHAPES = {"M": (3, 4), "Q": (4, 4), "V": (4,), "S": ()}
UNARY = ("exp_tanh", "tanh", "sigmoid", "neg", "softplus")
BINARY = ("add", "sub", "mul", "maximum")
# what an elementwise operation may combine a kind with (broadcasting: trailing axes)
PARTNERS = {"M": ("M", "V", "S"), "Q": ("Q", "V", "S"), "V": ("V", "S"), "S": ("S",)}


def random_tree(choose, kind: str = "S", depth: int = 3):
    """A random expression tree of the ``kind`` (its shape: ``SHAPES[kind]``)."""
    leaves = [name for name, k in VARIABLES.items() if k == kind]
    if depth <= 0:
        return choose(leaves)
    rule = choose(["leaf", "unary", "binary", "log", "div", "pow", "special"])
    sub = depth - 1
    if rule == "leaf":
        return choose(leaves)
    if rule == "unary":
        return (choose(list(UNARY)), random_tree(choose, kind, sub))
    if rule == "binary":
        other = choose(list(PARTNERS[kind]))
        pair = [random_tree(choose, kind, sub), random_tree(choose, other, sub)]
        if choose([False, True]):
            pair.reverse()                          # the broadcast operand on either side
        return (choose(list(BINARY)), *pair)
    if rule == "log":
        return ("log", positive(choose, kind, sub))
    if rule == "div":
        return ("div", random_tree(choose, kind, sub),
                positive(choose, choose(list(PARTNERS[kind])), sub))
    if rule == "pow":
        exponent = choose([2.0, 0.5, -1.0, "s"])
        return ("pow", positive(choose, kind, sub), exponent)
    # structural operations, per kind
    if kind == "M":
        return choose([("softmax", random_tree(choose, "M", sub)),
                       ("dot", random_tree(choose, "M", sub), random_tree(choose, "Q", sub))])
    if kind == "Q":
        return ("dot", ("transpose", random_tree(choose, "M", sub)), random_tree(choose, "M", sub))
    if kind == "V":
        return choose([("softmax", random_tree(choose, "V", sub)),
                       ("sum0", random_tree(choose, "M", sub)),
                       ("mean0", random_tree(choose, "M", sub)),
                       ("dot", random_tree(choose, "V", sub), random_tree(choose, "Q", sub))])
    return choose([("sum", random_tree(choose, choose(["M", "V"]), sub)),
                   ("mean", random_tree(choose, choose(["M", "Q", "V"]), sub)),
                   ("dot", random_tree(choose, "V", sub), random_tree(choose, "V", sub))])


def positive(choose, kind, depth):
    """A tree whose every entry is positive."""
    wrap = choose(["exp_tanh", "sigmoid", "sq1"] + (["softmax"] if kind != "S" else []))
    return (wrap, random_tree(choose, kind, depth))


def numpy_chooser(rng):
    """``choose`` drawing with a NumPy generator."""
    return lambda options: options[int(rng.integers(len(options)))]


def _operations(backend):
    if backend == "theano":
        from deepglossary.frameworks import theano as th
        return dict(exp=th.exp, tanh=th.tanh, sigmoid=th.sigmoid, neg=th.neg,
                    softplus=th.softplus, log=th.log, add=th.add, sub=th.sub, mul=th.mul,
                    div=th.div, pow=th.pow, maximum=th.maximum, softmax=th.softmax,
                    dot=th.dot, transpose=th.transpose, sum=th.sum, mean=th.mean,
                    sum0=lambda a: th.sum(a, 0), mean0=lambda a: th.mean(a, 0))
    if backend == "torch":
        import torch
        return dict(exp=torch.exp, tanh=torch.tanh, sigmoid=torch.sigmoid, neg=torch.neg,
                    softplus=torch.nn.functional.softplus, log=torch.log, add=torch.add,
                    sub=torch.sub, mul=torch.mul, div=torch.div, pow=torch.pow,
                    maximum=torch.maximum, softmax=lambda a: torch.softmax(a, -1),
                    dot=torch.matmul, transpose=lambda a: a.T, sum=torch.sum, mean=torch.mean,
                    sum0=lambda a: a.sum(0), mean0=lambda a: a.mean(0))
    raise ValueError(f"backend must be 'theano' or 'torch', got {backend!r}")


def build(tree, variables: dict, backend: str = "theano"):
    """The expression of ``tree`` over ``variables`` (name -> variable or tensor)."""
    o = _operations(backend)

    def go(t):
        if isinstance(t, str):
            return variables[t]
        if isinstance(t, float):
            return t
        head, *args = t
        args = [go(a) for a in args]
        if head == "exp_tanh":                       # exp of a bounded argument: no overflow
            return o["exp"](o["tanh"](args[0]))
        if head == "sq1":
            return o["add"](o["mul"](args[0], args[0]), _one(backend, args[0]))
        if head == "pow" and not hasattr(args[1], "shape") and backend == "torch":
            return args[0] ** args[1]
        return o[head](*args)
    return go(tree)


def _one(backend, like):
    if backend == "torch":
        import torch
        return torch.ones((), dtype=like.dtype)
    return 1.0


def pretty(tree) -> str:
    """The tree as a formula, for messages."""
    if isinstance(tree, str | float):
        return str(tree)
    head, *args = tree
    return f"{head}({', '.join(pretty(a) for a in args)})"


def random_inputs(rng, dtype=np.float64) -> dict:
    """One array per variable, standard normal, in ``dtype``."""
    return {name: rng.standard_normal(SHAPES[kind]).astype(dtype)
            for name, kind in VARIABLES.items()}


def variables_of(tree) -> list[str]:
    """The names of the variables a tree uses, in ``VARIABLES``' order (the exponent ``"s"``
    of a ``pow`` included)."""
    found = set()

    def go(t):
        if isinstance(t, str):
            found.add(t)
        elif isinstance(t, tuple):
            for a in t[1:]:
                go(a)
    go(tree)
    return [n for n in VARIABLES if n in found]
