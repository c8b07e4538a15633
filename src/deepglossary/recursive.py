"""Recursive neural networks: one network applied at every node of a tree, from the leaves up.

    trees = expressions(500, depth=3, rng=0)            # parse trees of "(3 max (7 min 2))"
    batch = TreeBatch.from_trees(trees)                  # every node numbered, level by level
    model = RecursiveNet(len(VOCAB), 32, 10)             # embedding, composition, classifier
    logits = model(batch)                                # (N, 10): one row per tree's root
    loss = CrossEntropy()(logits, batch.root_labels)
    model.backward(...)                                  # backpropagation through structure
    fit_trees(model, batch, epochs=10)                   # minibatches by TreeBatch.select

A node's vector is ``h = tanh(W [h_left; h_right] + b)`` (Pollack 1990; Goller & Kuechler
1996; Socher et al. 2011); a leaf's is its token's embedding. ``TreeRNN`` computes every node
of a whole batch of trees with one matrix product per *level* (all nodes of one height, across
the batch), and its backward pass goes down the same levels.
"""

from __future__ import annotations

import random
import time

import numpy as np

from deepglossary import nn, optim
from deepglossary.losses import CrossEntropy
from deepglossary.nn.core import Layer, Parameter, as_input
from deepglossary.random import default_rng

OPS = {"max": max, "min": min, "+": lambda a, b: (a + b) % 10, "*": lambda a, b: (a * b) % 10}
VOCAB = [str(d) for d in range(10)] + list(OPS)          # digits 0-9, then the operators
TOKEN_ID = {token: i for i, token in enumerate(VOCAB)}


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

    def height(self) -> int:
        """0 for a leaf, else 1 + the larger child's height."""
        return 0 if self.is_leaf else 1 + max(self.left.height(), self.right.height())

    def leaves(self) -> list:
        """The leaf tokens, left to right."""
        return [self.token] if self.is_leaf else self.left.leaves() + self.right.leaves()

    def text(self) -> str:
        """The expression in brackets, one pair per labelled node with children."""
        if self.is_leaf:
            return str(self.token)
        inner = f"{self.left.text()} {self.right.text()}"
        return f"({inner})" if self.label is not None else inner

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

    def grow(d):
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
    if tree.is_leaf:
        return [tree.token]
    op = tree.right.left.token
    return [op] + prefix(tree.left) + prefix(tree.right.right)


class TreeBatch:
    """Trees with every node numbered, leaves first, then inner nodes by height (level 1, 2,
    ...) across all trees: the order in which a level-by-level forward pass computes them.

    Arrays (L leaves, M inner nodes, N trees, nodes numbered 0 .. L + M - 1):
        tokens:   (L,) token id of each leaf (nodes 0 .. L - 1)
        children: (M, 2) the left and right child of inner node L + k, each < L + k
        roots:    (N,) the node of each tree's root;  depth: (N,) a number per tree (or -1)
        node_labels: (L + M,) each node's label, -1 where it has none
        tree_of:  (L + M,) the tree each node belongs to
        inorder:  (L,) the leaves tree by tree, each tree's left to right (the order a
            recursive function visits them); tree i's are inorder[starts[i]:starts[i + 1]]
    ``trees``: the :class:`Tree` objects, when the batch was made from them; ``nodes``: for a
    batch made by :meth:`from_trees`, the :class:`Tree` node behind each node number.
    """

    def __init__(self, tokens, children, roots, node_labels, tree_of, inorder, starts, depth,
                 trees=None):
        self.tokens, self.children, self.roots = tokens, children, roots
        self.node_labels, self.tree_of = node_labels, tree_of
        self.inorder, self.starts, self.depth = inorder, starts, depth
        self._trees = trees                    # a list, or (the parent's list, indices)
        self._groups = None                                         # nodes grouped by tree
        self.nodes = None

    @property
    def trees(self):
        """The :class:`Tree` objects (None when the batch was not made from trees)."""
        if isinstance(self._trees, tuple):
            parent, index = self._trees
            self._trees = None if parent is None else [parent[i] for i in index]
        return self._trees

    def __len__(self) -> int:
        return len(self.roots)

    @property
    def n_nodes(self) -> int:
        return len(self.tokens) + len(self.children)

    @property
    def labelled(self) -> np.ndarray:
        """The nodes that have a label, ascending."""
        return np.flatnonzero(self.node_labels >= 0)

    @property
    def labels(self) -> np.ndarray:
        """The labels of :attr:`labelled`."""
        return self.node_labels[self.node_labels >= 0]

    @property
    def root_labels(self) -> np.ndarray:
        """The label of each tree's root, (N,) (-1 where a root has none)."""
        return self.node_labels[self.roots]

    def heights(self) -> np.ndarray:
        """Each node's height, (L + M,): 0 for a leaf, 1 + the larger child's otherwise."""
        n_leaves = len(self.tokens)
        heights = np.zeros(self.n_nodes, dtype=np.int64)
        for start, stop in levels(self.children, n_leaves):         # one step per level
            heights[n_leaves + start:n_leaves + stop] = \
                heights[self.children[start:stop]].max(axis=1) + 1
        return heights

    @classmethod
    def from_trees(cls, trees, depth=None, vocab=None) -> TreeBatch:
        """Number the nodes of ``trees`` (a list of :class:`Tree`). ``vocab``: token -> id
        (default: :data:`TOKEN_ID`); ``depth``: a number per tree to keep (e.g. its depth)."""
        vocab = TOKEN_ID if vocab is None else vocab
        trees = list(trees)
        if not trees:
            raise ValueError("TreeBatch needs at least one tree")
        height, tree_of, token, kids, label, inorder, starts = [], [], [], [], [], [], [0]
        root_tmp, nodes = [], []
        for t, tree in enumerate(trees):
            if not isinstance(tree, Tree):
                raise TypeError(f"TreeBatch expects Tree objects, got {type(tree).__name__}")
            stack, ids = [(tree, False)], {}                        # post-order, no recursion
            while stack:
                node, done = stack.pop()
                if not (node.is_leaf or done):
                    stack += [(node, True), (node.right, False), (node.left, False)]
                    continue
                i = ids[id(node)] = len(height)
                nodes.append(node)
                tree_of.append(t)
                label.append(-1 if node.label is None else int(node.label))
                if node.is_leaf:
                    if node.token not in vocab:
                        raise ValueError(f"token {node.token!r} is not in the vocabulary")
                    height.append(0)
                    token.append(vocab[node.token])
                    kids.append((-1, -1))
                    inorder.append(i)
                else:
                    left, right = ids[id(node.left)], ids[id(node.right)]
                    height.append(1 + max(height[left], height[right]))
                    token.append(-1)
                    kids.append((left, right))
            root_tmp.append(len(height) - 1)
            starts.append(len(inorder))
        height = np.array(height)
        perm = np.lexsort((np.arange(len(height)), height))        # by height, stable
        new_id = np.empty_like(perm)
        new_id[perm] = np.arange(len(perm))
        n_leaves = int((height == 0).sum())
        kids = np.array(kids, dtype=np.int64)[perm[n_leaves:]]
        batch = cls(tokens=np.array(token, dtype=np.int64)[perm[:n_leaves]],
                    children=new_id[kids], roots=new_id[np.array(root_tmp)],
                    node_labels=np.array(label, dtype=np.int64)[perm],
                    tree_of=np.array(tree_of, dtype=np.int64)[perm],
                    inorder=new_id[np.array(inorder, dtype=np.int64)],
                    starts=np.array(starts, dtype=np.int64),
                    depth=(np.full(len(trees), -1, dtype=np.int64) if depth is None
                           else np.asarray(depth, dtype=np.int64)), trees=trees)
        batch.nodes = [nodes[i] for i in perm]
        return batch

    def select(self, index) -> TreeBatch:
        """The sub-batch of trees ``index`` (in that order), renumbered, without Python loops
        over nodes and in time proportional to its size: what a training loop calls for every
        minibatch."""
        index = np.asarray(index, dtype=np.int64)
        if index.ndim != 1 or (len(index) and (index.min() < 0 or index.max() >= len(self))):
            raise ValueError(f"select expects a 1-D array of tree indices in [0, {len(self)})")
        if np.bincount(index, minlength=len(self)).max(initial=0) > 1:
            raise ValueError("select expects distinct tree indices")
        if self._groups is None:                                    # once: nodes by tree
            sizes = np.bincount(self.tree_of, minlength=len(self))
            self._groups = (np.argsort(self.tree_of, kind="stable"), np.r_[0, np.cumsum(sizes)])
        by_tree, group_start = self._groups
        keep = np.sort(by_tree[_ranges(group_start, index)])       # height order, as here
        n_leaves = int(np.searchsorted(keep, len(self.tokens)))
        inner = keep[n_leaves:] - len(self.tokens)
        rank = np.empty(len(self), dtype=np.int64)
        rank[index] = np.arange(len(index))
        counts = self.starts[index + 1] - self.starts[index]
        return TreeBatch(tokens=self.tokens[keep[:n_leaves]],
                         children=np.searchsorted(keep, self.children[inner]),
                         roots=np.searchsorted(keep, self.roots[index]),
                         node_labels=self.node_labels[keep], tree_of=rank[self.tree_of[keep]],
                         inorder=np.searchsorted(keep, self.inorder[_ranges(self.starts, index)]),
                         starts=np.r_[0, np.cumsum(counts)], depth=self.depth[index],
                         trees=(self.trees, index))


def _ranges(starts, index) -> np.ndarray:
    """The concatenation of ``arange(starts[i], starts[i + 1])`` for each i in ``index``."""
    counts = starts[index + 1] - starts[index]
    return np.arange(counts.sum()) + np.repeat(starts[index] - np.cumsum(counts) + counts,
                                               counts)


def levels(children, n_leaves: int) -> list:
    """The inner nodes cut into runs that can be computed together, as ``(start, stop)``
    ranges of rows of ``children``: a run ends before the first node that needs a node of the
    run itself. For nodes sorted by height (as :class:`TreeBatch` numbers them) the runs are
    exactly the heights 1, 2, ...; for any order with children before parents they are still
    correct, only more numerous."""
    children = np.asarray(children)
    top = children.max(axis=1) if len(children) else children
    runs, start = [], 0
    while start < len(children):
        waits = top[start:] >= n_leaves + start                    # needs this run's output
        stop = start + (int(np.argmax(waits)) if waits.any() else len(children) - start)
        runs.append((start, stop))
        start = stop
    return runs


def check_children(children, n_leaves: int, layer: str = "TreeRNN") -> np.ndarray:
    """``children`` as an (M, 2) int64 array, refused (ValueError) unless every inner node's
    children come before it and no node has two parents (the structure is a forest)."""
    children = np.asarray(children)
    if not np.issubdtype(children.dtype, np.integer) or children.ndim != 2 \
            or children.shape[1] != 2:
        raise ValueError(f"{layer} expects children as an integer array of shape (M, 2), "
                         f"got dtype {children.dtype} and shape {children.shape}")
    children = children.astype(np.int64, copy=False)
    own = n_leaves + np.arange(len(children))[:, None]
    if len(children) and (children.min() < 0 or (children >= own).any()):
        k = int(np.argmax(((children < 0) | (children >= own)).any(axis=1)))
        raise ValueError(f"{layer}: inner node {n_leaves + k} has children {children[k]}; "
                         f"each must be a node numbered before it (0 .. {n_leaves + k - 1})")
    if children.size and np.bincount(children.reshape(-1)).max() > 1:
        raise ValueError(f"{layer}: a node is the child of two parents; the structure must be "
                         "a forest (a tree per example)")
    return children


class TreeRNN(Layer):
    """The recursive composition over a forest: ``h = tanh(W [h_left; h_right] + b)`` at
    every inner node, computed level by level (one matrix product for all nodes of a level).

    PyTorch twin: none in torch; :func:`torch_tree_rnn` builds one, a recursive function over
    the same structure with ``torch.autograd``.

    Shape (L leaves, M inner nodes, H hidden units):
        x:        (L, H) the leaves' vectors (nodes 0 .. L - 1)
        children: (M, 2) int, the children of node L + k, numbered before it
        output:   (L + M, H) every node's vector, the leaves' first (a copy of x)
        weight:   (H, 2H), columns 0 .. H - 1 read the left child, H .. 2H - 1 the right
        bias:     (H,)
    ``backward(grad_output)`` takes the gradient of every node's vector (L + M, H) and returns
    ``(dx, None)``. Initialisation: torch's Linear, U(+-1/sqrt(2H)).
    """

    def __init__(self, hidden_size: int, dtype=np.float64, rng=None):
        if isinstance(hidden_size, bool) or not isinstance(hidden_size, int | np.integer) \
                or hidden_size <= 0:
            raise ValueError(f"TreeRNN: hidden_size must be a positive integer, "
                             f"got {hidden_size!r}")
        rng, self.hidden_size = default_rng(rng), int(hidden_size)
        bound = 1 / np.sqrt(2 * hidden_size)
        self.weight = Parameter(rng.uniform(-bound, bound, (hidden_size, 2 * hidden_size))
                                .astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, hidden_size).astype(dtype))

    def forward(self, x, children):
        x = as_input(x, "TreeRNN", last_dim=self.hidden_size, min_ndim=2)
        if x.ndim != 2:
            raise ValueError(f"TreeRNN expects leaf vectors of shape (L, {self.hidden_size}), "
                             f"got shape {x.shape}")
        n_leaves, hid = x.shape
        children = check_children(children, n_leaves)
        w = self.weight.data.astype(x.dtype, copy=False)           # (H, 2H)
        b = self.bias.data.astype(x.dtype, copy=False)             # (H,)
        h = np.empty((n_leaves + len(children), hid), dtype=x.dtype)   # (L + M, H)
        h[:n_leaves] = x
        runs = levels(children, n_leaves)
        for start, stop in runs:                                   # level by level, upwards
            pair = h[children[start:stop]].reshape(stop - start, 2 * hid)   # (m, 2H)
            h[n_leaves + start:n_leaves + stop] = np.tanh(pair @ w.T + b)  # (m, H)
        self._cache = (h, children, runs)
        return h.copy()

    def backward(self, grad_output):
        h, children, runs = self._saved()
        n_leaves, hid = len(h) - len(children), h.shape[1]
        dh = self._check_grad(grad_output, h.shape, "TreeRNN").astype(h.dtype, copy=True)
        w = self.weight.data.astype(h.dtype, copy=False)           # (H, 2H)
        dw = np.zeros((hid, 2 * hid), dtype=h.dtype)
        db = np.zeros(hid, dtype=h.dtype)
        for start, stop in reversed(runs):                         # level by level, down
            rows = slice(n_leaves + start, n_leaves + stop)
            dz = dh[rows] * (1 - h[rows] ** 2)                     # (m, H) through the tanh
            kids = children[start:stop]                            # (m, 2)
            pair = h[kids].reshape(stop - start, 2 * hid)          # (m, 2H) [h_left; h_right]
            dw += dz.T @ pair                                      # sum over nodes of dz pair^T
            db += dz.sum(axis=0)                                   # (H,)
            dh[kids] += (dz @ w).reshape(stop - start, 2, hid)     # W^T dz: left, right halves
        self.weight.accumulate(dw)
        self.bias.accumulate(db)
        return dh[:n_leaves], None                                 # (L, H): the leaves' share

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}"


class Embedding(Layer):
    """A table of learned vectors, one row per token: ``forward(ids)`` looks rows up.
    PyTorch twin: ``torch.nn.Embedding``.

    Shape: ids (*,) int; weight (V, H); output (*, H). Initialisation: N(0, 1), torch's.
    ``backward`` adds each output row's gradient into its token's row (a token used twice
    gets both) and returns None (ids have no gradient).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=np.float64, rng=None):
        rng = default_rng(rng)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim))
                                .astype(dtype))

    def forward(self, ids):
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer) or (ids.size and (
                ids.min() < 0 or ids.max() >= self.num_embeddings)):
            raise ValueError(f"Embedding expects integer ids in [0, {self.num_embeddings}), "
                             f"got dtype {ids.dtype}")
        self._cache = ids
        return self.weight.data[ids]                               # (*, H)

    def backward(self, grad_output):
        ids = self._saved()
        g = self._check_grad(grad_output, ids.shape + (self.embedding_dim,), "Embedding")
        flat = ids.reshape(-1)
        order = np.argsort(flat, kind="stable")                    # rows grouped by token
        first = np.flatnonzero(np.r_[True, np.diff(flat[order]) != 0])
        table = np.zeros(self.weight.shape, dtype=g.dtype)         # (V, H)
        if flat.size:                                              # sum each token's rows
            table[flat[order[first]]] = np.add.reduceat(
                g.reshape(-1, self.embedding_dim)[order], first, axis=0)
        self.weight.accumulate(table)
        return None

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class RecursiveNet(Layer):
    """Token embeddings at the leaves, :class:`TreeRNN` up the tree, an affine classifier on
    the nodes asked for (by default each tree's root). PyTorch twin: :meth:`torch_twin`,
    a recursive function over the :class:`Tree` objects, with the same parameter names.

    Shape (V tokens, H hidden units, K classes; a batch of N trees, L leaves, M inner nodes):
        forward(batch, nodes=None) -> logits (len(nodes), K), default nodes = batch.roots
        embedding.weight: (V, H);  compose.weight: (H, 2H), compose.bias: (H,)
        classifier.weight: (K, H), classifier.bias: (K,)
    ``backward(grad_logits)`` accumulates every parameter's gradient and returns the gradient
    that reached each leaf's vector, (L, H), before the embedding sums it by token.
    """

    def __init__(self, vocab_size: int, hidden_size: int, classes: int, dtype=np.float32,
                 rng=None):
        rng = default_rng(rng)
        self.embedding = Embedding(vocab_size, hidden_size, dtype=dtype, rng=rng)
        self.compose = TreeRNN(hidden_size, dtype=dtype, rng=rng)
        self.classifier = nn.Affine(hidden_size, classes, dtype=dtype, rng=rng)

    def forward(self, batch: TreeBatch, nodes=None):
        if not isinstance(batch, TreeBatch):
            raise TypeError(f"RecursiveNet expects a TreeBatch, got {type(batch).__name__}")
        nodes = batch.roots if nodes is None else np.asarray(nodes)
        x = self.embedding(batch.tokens)                           # (L, H)
        h = self.compose(x, batch.children)                        # (L + M, H)
        self._cache = (h.shape, nodes)
        return self.classifier(h[nodes])                           # (len(nodes), K)

    def backward(self, grad_output):
        shape, nodes = self._saved()
        dh = np.zeros(shape, dtype=np.asarray(grad_output).dtype)  # (L + M, H)
        g_nodes = self.classifier.backward(grad_output)            # (len(nodes), H)
        if np.bincount(nodes, minlength=len(dh)).max(initial=0) <= 1:
            dh[nodes] = g_nodes
        else:                                                      # a node asked twice
            np.add.at(dh, nodes, g_nodes)
        dx, _ = self.compose.backward(dh)                          # (L, H)
        self.embedding.backward(dx)
        return dx

    def node_vectors(self, batch: TreeBatch) -> np.ndarray:
        """Every node's vector, (L + M, H), without storing anything for backward."""
        with nn.no_grad():
            return self.compose(self.embedding(batch.tokens), batch.children)

    def predict(self, batch: TreeBatch, nodes=None) -> np.ndarray:
        """The predicted class of each node asked for (default: each root)."""
        with nn.no_grad():
            return self(batch, nodes).argmax(axis=1)

    def torch_twin(self):
        """The same network in torch, recursive over the trees; parameters not copied (use
        ``verify.copy_parameters``). ``twin(trees)`` returns the roots' logits and the list of
        leaf vectors it looked up (leaves tree by tree, left to right), which keep their
        gradients."""
        from deepglossary.verify import torch_module

        torch = torch_module()
        vocab, hid = self.embedding.num_embeddings, self.compose.hidden_size
        classes = self.classifier.out_features

        class TorchRecursiveNet(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = torch.nn.Embedding(vocab, hid)
                self.compose = torch.nn.Linear(2 * hid, hid)
                self.classifier = torch.nn.Linear(hid, classes)

            def encode(self, tree, leaves):
                if tree.is_leaf:
                    leaf = self.embedding(torch.tensor(TOKEN_ID[tree.token],
                                                       device=self.compose.weight.device))
                    leaf.retain_grad()
                    leaves.append(leaf)
                    return leaf
                pair = torch.cat([self.encode(tree.left, leaves),
                                  self.encode(tree.right, leaves)])
                return torch.tanh(self.compose(pair))

            def forward(self, trees):
                leaves = []
                roots = torch.stack([self.encode(tree, leaves) for tree in trees])
                return self.classifier(roots), leaves

        return TorchRecursiveNet()


def torch_tree_rnn(hidden_size: int):
    """:class:`TreeRNN`'s twin in torch: parameters ``weight`` (H, 2H) and ``bias`` (H,), and a
    forward ``(x, children)`` that computes each tree by a recursive function from its root,
    one node at a time, as PyTorch code over trees is usually written."""
    from deepglossary.verify import torch_module

    torch = torch_module()

    class TorchTreeRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.empty(hidden_size, 2 * hidden_size))
            self.bias = torch.nn.Parameter(torch.empty(hidden_size))

        def forward(self, x, children):
            kids = children.tolist()
            n_leaves, done = len(x), {}

            def node(i):
                if i < n_leaves:
                    return x[i]
                if i not in done:
                    left, right = kids[i - n_leaves]
                    done[i] = torch.tanh(self.weight @ torch.cat([node(left), node(right)])
                                         + self.bias)
                return done[i]

            is_child = set(children.reshape(-1).tolist())
            for root in range(n_leaves + len(kids)):                # recurse from each root
                if root not in is_child:
                    node(root)
            return torch.stack([node(i) for i in range(n_leaves + len(kids))])

    return TorchTreeRNN()


def model_against_torch(model: RecursiveNet, batch: TreeBatch, *, seed: int = 0,
                        title: str | None = None):
    """``model`` on ``batch`` against :meth:`RecursiveNet.torch_twin` recursing over
    ``batch.trees``, with our parameters copied in, under one random upstream gradient: the
    roots' logits, every parameter's gradient, and the gradient that reached each leaf, on
    every device torch sees, in the model's dtype. Returns a ``verify.Report``; raises
    ``VerificationError`` on a mismatch."""
    from deepglossary import verify

    torch = verify.torch_module()
    if batch.trees is None:
        raise ValueError("model_against_torch needs a batch made by TreeBatch.from_trees")
    dtype = model.compose.weight.data.dtype
    report = verify.Report(title or f"RecursiveNet ({np.dtype(dtype).name}) vs torch")
    g = np.random.default_rng([seed, 0x5EED]).standard_normal(
        (len(batch), model.classifier.out_features)).astype(dtype)
    model.zero_grad()
    logits = model(batch)
    leaf_grad = model.backward(g)[batch.inorder]                   # leaves in visiting order
    for device in verify.devices():
        twin = model.torch_twin().to(device=device, dtype=verify._torch_dtype(dtype))
        verify.copy_parameters(model, twin, device)
        t_logits, t_leaves = twin(batch.trees)
        t_logits.backward(torch.as_tensor(g, device=device))
        t_leaf_grad = torch.stack([leaf.grad for leaf in t_leaves]).cpu().numpy()
        report.add(device, dtype, "logits", logits, t_logits.detach().cpu().numpy(),
                   expected_dtype=dtype)
        report.add(device, dtype, "grad leaf vectors", leaf_grad, t_leaf_grad,
                   expected_dtype=dtype)
        theirs = dict(twin.named_parameters())
        for name, p in model.named_parameters():
            report.add(device, dtype, f"grad {name}", p.grad,
                       theirs[name].grad.cpu().numpy(), expected_dtype=p.dtype)
    return report.raise_if_mismatch()


def gradcheck_model(model: RecursiveNet, batch: TreeBatch, nodes=None, *, eps: float = 1e-6,
                    seed: int = 0, tolerance: float = 1e-6):
    """The model's backward pass against central differences, in float64 (on a copy of the
    model): with a random upstream gradient ``g`` on the logits of ``nodes`` (default the
    roots), ``(L(+eps) - L(-eps)) / 2 eps`` of ``L = sum(g * logits)`` for every entry of every
    parameter. Returns a ``verify.Report``; raises ``VerificationError`` on a mismatch."""
    import copy

    from deepglossary import verify

    model = copy.deepcopy(model)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    nodes = batch.roots if nodes is None else np.asarray(nodes)
    g = np.random.default_rng([seed, 0x5EED]).standard_normal(
        (len(nodes), model.classifier.out_features))
    model.zero_grad()
    model(batch, nodes)
    model.backward(g)

    def loss() -> float:
        with nn.no_grad():
            return float(np.sum(g * model(batch, nodes)))

    report = verify.Report(title="RecursiveNet vs central differences")
    for name, p in model.named_parameters():
        numeric, flat = np.zeros_like(p.data), p.data.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            up = loss()
            flat[i] = keep - eps
            numeric.reshape(-1)[i] = (up - loss()) / (2 * eps)
            flat[i] = keep
        report.add("cpu", np.float64, f"grad {name}", p.grad, numeric, tolerance=tolerance)
    return report.raise_if_mismatch()


def fit_trees(model: RecursiveNet, data: TreeBatch, *, epochs: int, batch_size: int = 64,
        lr: float = 1e-2, clip: float = 5.0, every_node: bool = True, rng=None) -> dict:
    """Train ``model`` on ``data`` with Adam and gradient-norm clipping: each epoch shuffles
    the trees and cuts them into minibatches (:meth:`TreeBatch.select`). ``every_node``: the
    loss is the mean cross-entropy over every labelled node (each sub-expression, as the
    Sentiment Treebank labels every phrase); otherwise over the roots only. Returns
    ``{"loss": mean loss per epoch, "seconds": training time}``."""
    rng = default_rng(rng)
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), CrossEntropy()
    history, start = [], time.perf_counter()
    for _ in range(epochs):
        total, count = 0.0, 0
        order = rng.permutation(len(data))
        for i in range(0, len(order), batch_size):
            batch = data.select(order[i:i + batch_size])
            nodes, labels = ((batch.labelled, batch.labels) if every_node
                             else (batch.roots, batch.root_labels))
            model.zero_grad()
            loss = loss_fn(model(batch, nodes), labels)
            model.backward(loss_fn.backward())
            if clip:
                optim.clip_grad_norm(model.parameters(), clip)
            opt.step()
            total, count = total + float(loss) * len(batch), count + len(batch)
        history.append(total / count)
    return {"loss": history, "seconds": time.perf_counter() - start}


def accuracy_by_depth(predictions, labels, depth) -> dict:
    """``{depth: fraction of trees of that depth predicted right}``, depths ascending."""
    predictions, labels, depth = map(np.asarray, (predictions, labels, depth))
    return {int(d): float((predictions[depth == d] == labels[depth == d]).mean())
            for d in np.unique(depth)}


def leaf_counts(trees, vocab=None, dtype=np.float32) -> np.ndarray:
    """How often each token occurs among each tree's leaves, (N, |vocab|): the "bag of leaves"
    that a model ignoring the structure reads."""
    vocab = TOKEN_ID if vocab is None else vocab
    counts = np.zeros((len(trees), len(vocab)), dtype=dtype)
    for i, tree in enumerate(trees):
        for token in tree.leaves():
            counts[i, vocab[token]] += 1
    return counts


def prefix_one_hot(trees, vocab=None, dtype=np.float32) -> np.ndarray:
    """The trees' prefix notations (:func:`prefix`) as one-hot vectors, (N, T, |vocab|),
    T the longest; shorter ones are padded with zero vectors at the *front*, so that every
    sequence ends at the last step, where a sequence classifier reads its state."""
    vocab = TOKEN_ID if vocab is None else vocab
    ids = [[vocab[token] for token in prefix(tree)] for tree in trees]
    steps = max(map(len, ids))
    x = np.zeros((len(ids), steps, len(vocab)), dtype=dtype)
    for i, seq in enumerate(ids):
        x[i, np.arange(steps - len(seq), steps), seq] = 1
    return x


def fit_sequences(model, trees, labels, *, epochs: int, batch_size: int = 64,
                  lr: float = 3e-3, clip: float = 5.0, rng=None) -> dict:
    """Train a sequence classifier (``model(x)`` -> logits, x (N, T, |vocab|), e.g.
    ``memory_tasks.SequenceClassifier``) on the trees' prefix notations with Adam and
    gradient-norm clipping. Minibatches hold trees of similar length (sorted once, cut into
    batches, the batches' order shuffled every epoch), each padded only to its own longest.
    Returns ``{"loss": mean loss per epoch, "seconds": training time}``."""
    rng = default_rng(rng)
    labels = np.asarray(labels)
    lengths = np.array([len(prefix(tree)) for tree in trees])
    order = np.argsort(lengths, kind="stable")
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    data = [(prefix_one_hot([trees[i] for i in c]), labels[c]) for c in chunks]
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), CrossEntropy()
    history, start = [], time.perf_counter()
    for _ in range(epochs):
        total = 0.0
        for j in rng.permutation(len(data)):
            x, y = data[j]
            model.zero_grad()
            loss = loss_fn(model(x), y)
            model.backward(loss_fn.backward())
            if clip:
                optim.clip_grad_norm(model.parameters(), clip)
            opt.step()
            total += float(loss) * len(y)
        history.append(total / len(labels))
    return {"loss": history, "seconds": time.perf_counter() - start}


def predict_sequences(model, trees) -> np.ndarray:
    """A sequence classifier's predicted class for each tree's prefix notation, run in groups
    of equal length (no padding: a state that read many padding steps first would be unlike
    any the model was trained on)."""
    lengths = np.array([len(prefix(tree)) for tree in trees])
    out = np.empty(len(trees), dtype=np.int64)
    with nn.no_grad():
        for length in np.unique(lengths):
            group = np.flatnonzero(lengths == length)
            out[group] = model(prefix_one_hot([trees[i] for i in group])).argmax(axis=1)
    return out
