"""Co-occurrence counts: the sparse matrix GloVe is fitted to, counted in a vectorised pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Cooccurrence:
    """A sparse V x V co-occurrence matrix in coordinate form, sorted by (row, column).

    ``rows``, ``cols``: int64 arrays (nnz,); ``values``: float64 (nnz,), every entry > 0;
    ``vocab_size``: V. PyTorch counterpart: ``torch.sparse_coo_tensor(indices, values)``.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    vocab_size: int

    @property
    def nnz(self) -> int:
        return len(self.values)

    def totals(self) -> np.ndarray:
        """X_i = sum_k X_ik for every word i, shape (V,)."""
        return np.bincount(self.rows, weights=self.values, minlength=self.vocab_size)

    def row(self, i: int) -> np.ndarray:
        """Row i of X as a dense array, shape (V,)."""
        lo, hi = np.searchsorted(self.rows, [i, i + 1])
        out = np.zeros(self.vocab_size)
        out[self.cols[lo:hi]] = self.values[lo:hi]
        return out

    def dense(self) -> np.ndarray:
        """The whole matrix, shape (V, V): for small vocabularies only."""
        if self.vocab_size > 5000:
            raise ValueError(f"dense() makes a (V, V) array; V = {self.vocab_size} is too large")
        out = np.zeros((self.vocab_size, self.vocab_size))
        out[self.rows, self.cols] = self.values
        return out

    def __repr__(self) -> str:
        return f"Cooccurrence(V={self.vocab_size:,}, nonzero={self.nnz:,})"


def cooccurrence(ids, vocab_size: int, window: int = 10, *, distance_weighting: bool = True,
                 symmetric: bool = True) -> Cooccurrence:
    """Count how often word j appears within ``window`` positions of word i.

    Args:
        ids: int array (T,) of word ids in [0, vocab_size), the corpus in reading order; an
            id of -1 marks a boundary (the end of a verse) that no window crosses.
        vocab_size: V.
        window: the largest distance d counted (>= 1); the corpus needs more than ``window``
            words.
        distance_weighting: a pair d words apart adds 1/d (GloVe's choice), else 1.
        symmetric: count the context on both sides (X is then symmetric); else only the
            words after i.

    Returns a :class:`Cooccurrence`. Vectorised: one array of pair codes i V + j and weights
    per distance, then ``np.unique`` over the codes and ``np.bincount`` of the weights.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"cooccurrence expects a 1-D integer array of word ids, got dtype "
                        f"{ids.dtype} and shape {ids.shape}")
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    if not isinstance(vocab_size, int | np.integer) or vocab_size < 1:
        raise ValueError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    if ids.size and (ids.min() < -1 or ids.max() >= vocab_size):
        raise ValueError(f"word ids must lie in [0, {vocab_size}) (or be -1, a boundary); got "
                         f"values from {ids.min()} to {ids.max()}")
    words = int(np.count_nonzero(ids >= 0))
    if words <= window:
        raise ValueError(f"the corpus has {words} words, fewer than window + 1 = {window + 1}")
    ids = ids.astype(np.int64)
    segment = np.cumsum(ids < 0)                        # (T,) which verse each position is in
    codes, weights = [], []
    for d in range(1, window + 1):
        left, right = ids[:-d], ids[d:]                 # (T - d,) pairs d apart
        keep = (left >= 0) & (right >= 0) & (segment[:-d] == segment[d:])
        left, right = left[keep], right[keep]
        pairs = [left * vocab_size + right]
        if symmetric:
            pairs.append(right * vocab_size + left)
        for p in pairs:
            codes.append(p)
            weights.append(np.full(len(p), 1.0 / d if distance_weighting else 1.0))
    codes, weights = np.concatenate(codes), np.concatenate(weights)
    unique, inverse = np.unique(codes, return_inverse=True)   # sorted by (row, column)
    values = np.bincount(inverse, weights=weights, minlength=len(unique))
    return Cooccurrence(unique // vocab_size, unique % vocab_size, values, int(vocab_size))


def context_counts(ids, word: int, vocab_size: int, window: int = 10, *,
                   distance_weighting: bool = True) -> np.ndarray:
    """Row ``word`` of the symmetric co-occurrence matrix, X_word,k for every k, shape (V,),
    without building the matrix: the context of each occurrence of ``word``, 1/d weighted
    (the same numbers as ``cooccurrence(ids, vocab_size, window).row(word)``, at a fraction of
    the cost). ``ids`` as in :func:`cooccurrence` (-1 marks a boundary)."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"context_counts expects a 1-D integer array of word ids, got dtype "
                        f"{ids.dtype} and shape {ids.shape}")
    if not 0 <= word < vocab_size:
        raise ValueError(f"word must lie in [0, {vocab_size}), got {word}")
    segment = np.cumsum(ids < 0)                        # (T,) which verse each position is in
    where = np.flatnonzero(ids == word)                 # (n_word,) positions of the word
    out = np.zeros(vocab_size)
    for d in range(1, window + 1):
        for other in (where - d, where + d):            # d before and d after
            inside = (other >= 0) & (other < len(ids))
            p, q = where[inside], other[inside]
            q = q[(ids[q] >= 0) & (segment[q] == segment[p])]
            out += np.bincount(ids[q], minlength=vocab_size) * (1.0 / d if distance_weighting
                                                                else 1.0)
    return out
