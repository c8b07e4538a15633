"""A batch of trees as arrays: every node numbered, leaves first, then the inner nodes by
height across all trees, so that one matrix product computes a whole level (:func:`levels`).
"""

from __future__ import annotations

import numpy as np

from deepglossary.recursive.trees import TOKEN_ID, Tree


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
    same = children[:, 0] == children[:, 1] if len(children) else np.zeros(0, dtype=bool)
    if same.any():
        k = int(np.argmax(same))
        raise ValueError(f"{layer}: inner node {n_leaves + k} has the same child twice "
                         f"({children[k]}); each child of a binary tree is a node of its own")
    if children.size:
        counts = np.bincount(children.reshape(-1))
        if counts.max() > 1:
            node = int(np.argmax(counts))
            parents = n_leaves + np.flatnonzero((children == node).any(axis=1))
            raise ValueError(f"{layer}: node {node} is the child of two parents (inner nodes "
                             f"{parents[0]} and {parents[1]}); the structure must be a forest "
                             "(a tree per example)")
    return children
