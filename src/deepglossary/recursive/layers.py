"""The recursive network's layers: :class:`TreeRNN`, the composition ``h = tanh(W [h_left;
h_right] + b)`` over a whole forest, one matrix product per level; :class:`RecursiveNet`,
token embeddings at the leaves, the composition up the trees, an affine classifier on the
nodes asked for.
"""

from __future__ import annotations

import numpy as np

from deepglossary import nn
from deepglossary.nn.core import Layer, Parameter, as_input
from deepglossary.random import default_rng
from deepglossary.recursive.batch import TreeBatch, check_children, levels


class TreeRNN(Layer):
    """The recursive composition over a forest: ``h = tanh(W [h_left; h_right] + b)`` at
    every inner node, computed level by level (one matrix product for all nodes of a level).

    PyTorch twin: none in torch; :func:`deepglossary.twins.recursive.tree_rnn` builds one, a
    recursive function over the same structure with ``torch.autograd``.

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
        pairs = np.empty((len(children), 2 * hid), dtype=x.dtype)  # (M, 2H) [h_left; h_right]
        runs = levels(children, n_leaves)
        for start, stop in runs:                                   # level by level, upwards
            pair = pairs[start:stop]                               # (m, 2H), this level's rows
            pair[...] = h[children[start:stop]].reshape(stop - start, 2 * hid)  # gather kids
            h[n_leaves + start:n_leaves + stop] = np.tanh(pair @ w.T + b)     # (m, H)
        self._cache = (h, pairs, children, runs)
        return h.copy()

    def backward(self, grad_output):
        h, pairs, children, runs = self._saved()
        n_leaves, hid = len(h) - len(children), h.shape[1]
        dh = self._check_grad(grad_output, h.shape, "TreeRNN").astype(h.dtype, copy=True)
        w = self.weight.data.astype(h.dtype, copy=False)           # (H, 2H)
        dz_all = np.empty((len(children), hid), dtype=h.dtype)     # (M, H)
        for start, stop in reversed(runs):                         # level by level, down
            rows = slice(n_leaves + start, n_leaves + stop)
            dz = dz_all[start:stop]                                # (m, H), this level's rows
            np.multiply(dh[rows], 1 - h[rows] ** 2, out=dz)        # through the tanh
            dh[children[start:stop]] += (dz @ w).reshape(stop - start, 2, hid)  # W^T dz halves
        self.weight.accumulate(dz_all.T @ pairs)                   # (H, 2H): sum of dz pair^T
        self.bias.accumulate(dz_all.sum(axis=0))                   # (H,): sum of dz
        return dh[:n_leaves], None                                 # (L, H): the leaves' share

    def extra_repr(self) -> str:
        return f"hidden_size={self.hidden_size}"


class RecursiveNet(Layer):
    """Token embeddings at the leaves, :class:`TreeRNN` up the tree, an affine classifier on
    the nodes asked for (by default each tree's root). PyTorch twin: :meth:`torch_twin`
    (:func:`deepglossary.twins.recursive.recursive_net`), a recursive function over the
    :class:`Tree` objects, with the same parameter names.

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
        self.embedding = nn.Embedding(vocab_size, hidden_size, dtype=dtype, rng=rng)
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
        """The same network in torch, recursive over the trees
        (:func:`deepglossary.twins.recursive.recursive_net`); parameters not copied (use
        ``verify.copy_parameters``)."""
        from deepglossary.twins.recursive import recursive_net

        return recursive_net(self.embedding.num_embeddings, self.compose.hidden_size,
                             self.classifier.out_features)
