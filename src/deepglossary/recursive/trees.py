"""Binary trees whose leaves hold tokens, the arithmetic expressions of the chapter, and other
trees over the same leaves (chains, balanced trees).

Every walk over a tree is a loop with an explicit stack, never a recursive function: a
left-branching chain of thousands of leaves is as tall as it is long, and Python stops a
recursion at ``sys.getrecursionlimit()`` frames (1,000 by default).
"""

from __future__ import annotations

import random

import numpy as np

from deepglossary.random import default_rng

OPS = {"max": max, "min": min, "+": lambda a, b: (a + b) % 10, "*": lambda a, b: (a * b) % 10}
VOCAB = [str(d) for d in range(10)] + list(OPS)          # digits 0-9, then the operators
TOKEN_ID = {token: i for i, token in enumerate(VOCAB)}
STRUCTURES = ("parse", "left chain", "right chain", "balanced")


class Tree:
    """A binary tree whose leaves hold tokens: a leaf ``Tree("7", label=7)`` or a node
    ``Tree(left=a, right=b, label=...)``. ``label`` (an int or None) is the class a node is
    trained to predict; None leaves the node unsupervised."""

    __slots__ = ("token", "left", "right", "label")

    def __init__(self, token=None, left=None, right=None, label=None):
        if (token is None) == (left is None or right is None):
            raise ValueError("a Tree is a leaf with a token, or a node with two children")
        self.token, self.left, self.right, self.label = token, left, right, label

    @property
    def is_leaf(self) -> bool:
        return self.token is not None

    def postorder(self) -> list:
        """Every node, children before their parent, left subtree before right (no recursion)."""
        out, stack = [], [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if node.is_leaf or expanded:
                out.append(node)
            else:
                stack += [(node, True), (node.right, False), (node.left, False)]
        return out

    def height(self) -> int:
        """0 for a leaf, else 1 + the larger child's height."""
        height = {}
        for node in self.postorder():
            height[id(node)] = 0 if node.is_leaf else \
                1 + max(height[id(node.left)], height[id(node.right)])
        return height[id(self)]

    def leaves(self) -> list:
        """The leaf tokens, left to right."""
        out, stack = [], [self]
        while stack:
            node = stack.pop()
            if node.token is not None:
                out.append(node.token)
            else:
                stack += (node.right, node.left)
        return out

    def text(self) -> str:
        """The expression in brackets, one pair per labelled node with children."""
        text = {}
        for node in self.postorder():
            if node.is_leaf:
                text[id(node)] = str(node.token)
                continue
            inner = f"{text.pop(id(node.left))} {text.pop(id(node.right))}"
            text[id(node)] = f"({inner})" if node.label is not None else inner
        return text[id(self)]

    def __repr__(self) -> str:
        return f"Tree({self.text()!r}, label={self.label})"


def expression(op: str, a: Tree, b: Tree) -> Tree:
    """The parse tree of ``a op b``: ``(a (op b))``, labelled with its value."""
    if op not in OPS:
        raise ValueError(f"unknown operator {op!r}; known: {sorted(OPS)}")
    return Tree(left=a, right=Tree(left=Tree(op), right=b), label=OPS[op](a.label, b.label))


def random_expression(depth: int, rng=None, ops=("max", "min")) -> Tree:
    """A random expression over the digits 0-9 whose brackets nest exactly ``depth`` deep:
    an operator from ``ops`` at every inner node, one child of depth ``depth - 1`` (on a random
    side), the other of a depth drawn uniformly from 0 to ``depth - 1``."""
    return expressions(1, depth, rng, ops)[0]


def expressions(n: int, depth: int, rng=None, ops=("max", "min")) -> list:
    """``n`` random expressions of depth ``depth`` (see :func:`random_expression`), drawn
    from ``rng`` (one draw seeds a fast scalar generator for all of them)."""
    if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0, got {depth!r}")
    for op in ops:
        if op not in OPS:
            raise ValueError(f"unknown operator {op!r}; known: {sorted(OPS)}")
    draw = random.Random(int(default_rng(rng).integers(2**63))).random
    ops = list(ops)

    def grow(d):                            # recursion as deep as the depth, a few levels
        if d == 0:
            digit = int(draw() * 10)
            return Tree(str(digit), label=digit)
        deep_left, other = draw() < 0.5, int(draw() * d)
        a = grow(d - 1 if deep_left else other)
        b = grow(other if deep_left else d - 1)
        return expression(ops[int(draw() * len(ops))], a, b)

    return [grow(int(depth)) for _ in range(n)]


def prefix(tree: Tree) -> list:
    """The expression in prefix (Polish) notation, ``max 3 min 7 2``: unambiguous without
    brackets, the token sequence a sequence model reads."""
    out, stack = [], [tree]
    while stack:                            # the operator, then the left and right operands
        node = stack.pop()
        if node.is_leaf:
            out.append(node.token)
        else:
            out.append(node.right.left.token)
            stack += [node.right.right, node.left]
    return out


def left_chain(tokens, label=None) -> Tree:
    """``(((t0 t1) t2) t3)``: the tree that always branches to the left, the shape in which a
    recurrent network reads ``tokens``. Only the root gets ``label``."""
    tokens = _tokens(tokens)
    tree = Tree(tokens[0])
    for token in tokens[1:]:
        tree = Tree(left=tree, right=Tree(token))
    tree.label = label
    return tree


def right_chain(tokens, label=None) -> Tree:
    """``(t0 (t1 (t2 t3)))``: the tree that always branches to the right."""
    tokens = _tokens(tokens)
    tree = Tree(tokens[-1])
    for token in reversed(tokens[:-1]):
        tree = Tree(left=Tree(token), right=tree)
    tree.label = label
    return tree


def balanced(tokens, label=None) -> Tree:
    """The most balanced tree over ``tokens``: each node splits its span at the middle (the
    left half gets the smaller share), so it is ceil(log2(len(tokens))) tall."""
    tokens = _tokens(tokens)
    level = [Tree(token) for token in tokens]      # bottom-up, pairing by span sizes
    spans = [(0, len(tokens))]
    order = []                                     # the spans, parents before children
    while spans:
        start, stop = spans.pop()
        order.append((start, stop))
        if stop - start > 1:
            middle = (start + stop) // 2
            spans += [(start, middle), (middle, stop)]
    made = {(i, i + 1): leaf for i, leaf in enumerate(level)}
    for start, stop in reversed(order):            # children before parents
        if stop - start > 1:
            middle = (start + stop) // 2
            made[start, stop] = Tree(left=made[start, middle], right=made[middle, stop])
    tree = made[0, len(tokens)]
    tree.label = label
    return tree


def restructure(tree: Tree, structure: str) -> Tree:
    """A tree over the same leaves (left to right) as ``tree``, with its root's label:
    ``"parse"`` returns ``tree`` itself; ``"left chain"``, ``"right chain"`` and
    ``"balanced"`` build that shape (only the root labelled)."""
    if structure == "parse":
        return tree
    builders = {"left chain": left_chain, "right chain": right_chain, "balanced": balanced}
    if structure not in builders:
        raise ValueError(f"unknown structure {structure!r}; known: {list(STRUCTURES)}")
    return builders[structure](tree.leaves(), label=tree.label)


def _tokens(tokens) -> list:
    tokens = list(tokens)
    if not tokens:
        raise ValueError("a tree needs at least one token")
    return tokens
