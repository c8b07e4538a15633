"""A table of learned vectors, one row per token: the lookup and its gradient."""

import numpy as np

from deepglossary.nn.core import Layer, Parameter
from deepglossary.random import default_rng


class Embedding(Layer):
    """A table of learned vectors, one row per token: ``forward(ids)`` looks rows up.
    PyTorch twin: ``torch.nn.Embedding(num_embeddings, embedding_dim)``.

    Shape (V tokens, H numbers per vector):
        ids:    (*,) integers in [0, V)
        weight: (V, H), initialised N(0, 1) as torch's
        output: (*, H), row ``ids[...]`` of the table
    ``backward(grad_output)`` adds each output row's gradient into its token's row (a token
    used twice gets both, a token not used gets zero) and returns None: ids have no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=np.float64, rng=None):
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
        rng = default_rng(rng)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim))
                                .astype(dtype))

    def forward(self, ids):
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Embedding expects integer ids, got dtype {ids.dtype}; "
                            "convert them first, e.g. ids.astype(np.int64)")
        outside = (ids < 0) | (ids >= self.num_embeddings)
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            raise ValueError(f"Embedding expects ids in [0, {self.num_embeddings}), got "
                             f"{int(ids[where])} at position {where}")
        self._cache = ids
        return self.weight.data[ids]                               # (*, H)

    def backward(self, grad_output):
        ids = self._saved()
        g = self._check_grad(grad_output, ids.shape + (self.embedding_dim,), "Embedding")
        flat = ids.reshape(-1)                                     # (n,)
        order = np.argsort(flat, kind="stable")                    # rows grouped by token
        first = np.flatnonzero(np.r_[True, np.diff(flat[order]) != 0])   # each group's start
        table = np.zeros(self.weight.shape, dtype=g.dtype)         # (V, H)
        if flat.size:                                              # sum each token's rows
            table[flat[order[first]]] = np.add.reduceat(
                g.reshape(-1, self.embedding_dim)[order], first, axis=0)
        self.weight.accumulate(table)
        return None

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
