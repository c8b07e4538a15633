"""A table of learned vectors, one row per token: the lookup, its gradient, and bags of rows.

``Embedding`` looks rows up; ``EmbeddingBag`` adds up (or averages) the rows of each bag of
tokens without building the looked-up rows for the caller. Both backward passes are one
scatter-add, :func:`scatter_add_rows`: the gradient of each looked-up row goes into its
token's row of the table, and a token looked up twice gets both.
"""

import numpy as np

from deepglossary.nn.core import Layer, Parameter, check_float_dtype
from deepglossary.random import default_rng


def scatter_add_rows(index, rows, num_rows: int) -> np.ndarray:
    """``table[i] = sum of rows[k] over every k with index[k] == i``, zeros for the others.

    Shape: index (n,) integers in [0, num_rows); rows (n, H); table (num_rows, H), in rows'
    dtype. PyTorch twin: ``torch.zeros(num_rows, H).index_add_(0, index, rows)``.

    One ``np.bincount`` over the n H entries, the entry (k, j) counted into bin
    ``index[k] H + j`` with weight ``rows[k, j]`` (bincount sums in float64). When the table
    has more rows than there are lookups, the bins run over the rows actually used (``np.unique``)
    and are put in place afterwards, so that no (num_rows, H) float64 array is built. When this
    was written it was measured on one core against ``np.add.at`` and a stable sort followed by
    ``np.add.reduceat``, over tables of 30 to 50,000 rows and 2 to 300 columns, in float32 and
    float64; the three are often within a shared machine's noise of one another, and which
    one wins can change from run to run (the Embedding chapter re-measures three sizes).
    """
    index = np.asarray(index).reshape(-1).astype(np.intp, copy=False)   # (n,) no uint8 wrap
    n, width = rows.shape                                           # (n, H)
    if index.shape != (n,):
        raise ValueError(f"scatter_add_rows: {index.size} indices for {n} rows")
    if num_rows <= n:                                               # bins: every row
        used, slot, bins = None, index, num_rows
    else:                                                           # bins: the rows used
        used, slot = np.unique(index, return_inverse=True)          # (u,), (n,)
        bins = len(used)
    flat = (slot[:, None] * width + np.arange(width)).reshape(-1)   # (n H,) bin of (k, j)
    sums = np.bincount(flat, weights=rows.reshape(-1).astype(np.float64, copy=False),
                       minlength=bins * width).reshape(bins, width)  # (bins, H)
    if used is None:
        return sums.astype(rows.dtype, copy=False)                  # (num_rows, H)
    table = np.zeros((num_rows, width), dtype=rows.dtype)           # (num_rows, H)
    table[used] = sums
    return table


def _positive(name: str, value, who: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _padding(padding_idx, num: int, who: str):
    """torch's rule: None, or an index in [-num, num); a negative one counts from the end."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int | np.integer):
        raise TypeError(f"{who}: padding_idx must be an integer or None, got {padding_idx!r}")
    if not -num <= padding_idx < num:
        raise ValueError(f"{who}: padding_idx must be in [-{num}, {num}) (the table has {num} "
                         f"rows), got {padding_idx}")
    return int(padding_idx) % num


def _ids(ids, num: int, who: str) -> np.ndarray:
    """The token ids as an integer array, every one in [0, num)."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{who} expects integer ids, got dtype {ids.dtype}; "
                        "convert them first, e.g. ids.astype(np.int64)")
    outside = (ids < 0) | (ids >= num)
    if outside.any():
        where = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(f"{who} expects ids in [0, {num}), got {int(ids[where])} at "
                         f"position {where}")
    return ids


class _Table(Layer):
    """What Embedding and EmbeddingBag share: the table, padding_idx, from_pretrained."""

    def _make_table(self, num_embeddings, embedding_dim, padding_idx, dtype, rng):
        who = type(self).__name__
        self.num_embeddings = _positive("num_embeddings", num_embeddings, who)
        self.embedding_dim = _positive("embedding_dim", embedding_dim, who)
        if isinstance(dtype, int | np.integer) and not isinstance(dtype, bool):
            raise TypeError(f"{who}: the third positional argument is dtype; pass padding_idx "
                            f"by keyword, {who}({num_embeddings}, {embedding_dim}, "
                            f"padding_idx={dtype})")
        check_float_dtype(dtype, who, "a weight")
        self.padding_idx = _padding(padding_idx, self.num_embeddings, who)
        weight = default_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0                       # torch's init: a zero row
        self.weight = Parameter(weight.astype(dtype))          # (V, H), N(0, 1) as torch's

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, **kwargs):
        """A layer whose table is a copy of ``embeddings`` (V, H), float32 or float64.

        ``freeze=True`` (torch's default) sets ``weight.requires_grad = False``: backward then
        leaves ``weight.grad`` None, as torch does (see ``deepglossary.finetune.freeze``). The
        ``padding_idx`` row is kept as given (torch does not zero it) and gets no gradient.
        ``kwargs``: the other keywords of the constructor (e.g. ``mode`` for a bag).
        PyTorch twin: ``torch.nn.Embedding.from_pretrained``; unlike torch, the table is
        copied, so training the layer leaves ``embeddings`` unchanged.
        """
        table = np.asarray(embeddings)
        if table.ndim != 2:
            raise ValueError(f"{cls.__name__}.from_pretrained expects embeddings of shape "
                             f"(num_embeddings, embedding_dim), got shape {table.shape}")
        check_float_dtype(table.dtype, f"{cls.__name__}.from_pretrained", "embeddings")
        layer = cls(*table.shape, padding_idx=padding_idx, dtype=table.dtype, **kwargs)
        layer.weight.data = table.copy()
        layer.weight.requires_grad = not freeze
        return layer

    def _accumulate(self, ids, rows) -> None:
        """Scatter ``rows`` (n, H) into the table's gradient by ``ids`` (n,); the padding row
        gets nothing, and a frozen table (requires_grad False) no gradient at all."""
        if not getattr(self.weight, "requires_grad", True):
            return
        table = scatter_add_rows(ids, rows, self.num_embeddings)   # (V, H)
        if self.padding_idx is not None:
            table[self.padding_idx] = 0                            # padding: no gradient
        self.weight.accumulate(table)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None
                       else "")


class Embedding(_Table):
    """A table of learned vectors, one row per token: ``forward(ids)`` looks rows up.
    PyTorch twin: ``torch.nn.Embedding(num_embeddings, embedding_dim, padding_idx=None)``.

    Shape (V tokens, H numbers per vector):
        ids:    (*,) integers in [0, V), any number of dimensions (0 too)
        weight: (V, H), initialised N(0, 1) as torch's (the padding_idx row zero)
        output: (*, H), row ``ids[...]`` of the table, in the weight's dtype
    ``backward(grad_output)`` adds each output row's gradient into its token's row (a token
    used twice gets both, a token not used gets zero, the padding_idx row always zero) and
    returns None: ids have no gradient.

    ``padding_idx``: the row of a padding token, zero at initialisation and never updated by a
    gradient (torch's rule; a negative index counts from the end). Keyword-only here, since the
    third positional argument is ``dtype``. ``Embedding.from_pretrained(table, freeze=True)``
    wraps a given table.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=np.float64, rng=None,
                 *, padding_idx=None):
        self._make_table(num_embeddings, embedding_dim, padding_idx, dtype, rng)

    def forward(self, ids):
        ids = _ids(ids, self.num_embeddings, "Embedding")
        self._cache = ids
        return self.weight.data[ids]                               # (*, H)

    def backward(self, grad_output):
        ids = self._saved()
        g = self._check_grad(grad_output, ids.shape + (self.embedding_dim,), "Embedding")
        self._accumulate(ids.reshape(-1),                          # (n,)
                         g.reshape(-1, self.embedding_dim))        # (n, H): dL/dW[ids[k]]
        return None


class EmbeddingBag(_Table):
    """Bags of tokens, each summed or averaged into one vector, without building the looked-up
    rows for the caller. PyTorch twin: ``torch.nn.EmbeddingBag(num_embeddings, embedding_dim,
    mode="mean", include_last_offset=False, padding_idx=None)``.

    Shape (V tokens, H numbers per vector, B bags, n ids in all):
        forward(ids, offsets=None, per_sample_weights=None):
          ids (B, N): B bags of N tokens each (offsets None); or ids (n,) with offsets (B,):
          bag b is ``ids[offsets[b]:offsets[b+1]]``, the last one running to the end
          (``include_last_offset=True``: offsets (B + 1,), the last entry the number of ids);
          offsets start at 0 and never decrease, so a bag may be empty.
        per_sample_weights: ids' shape, the weight's dtype, ``mode="sum"`` only: bag b is
          ``sum_k w_k W[ids_k]``.
        weight: (V, H); output: (B, H), a sum or a mean of each bag's rows, zeros for an empty
          bag. Tokens equal to ``padding_idx`` are left out of the bag (and of the count of a
          mean) and their row gets no gradient, as in torch.
    ``backward(g)`` (g of shape (B, H)) adds ``w_k g[bag of k]`` into row ``ids_k`` and returns
    None, or ``(None, None, dL/dw)`` with ``dL/dw_k = <g[bag of k], W[ids_k]>`` when
    per_sample_weights were given.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, mode: str = "mean",
                 padding_idx=None, include_last_offset: bool = False, dtype=np.float64,
                 rng=None):
        if mode not in ("sum", "mean"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum' or 'mean', got {mode!r} "
                             "(torch's 'max' is not built here)")
        self.mode, self.include_last_offset = mode, bool(include_last_offset)
        self._make_table(num_embeddings, embedding_dim, padding_idx, dtype, rng)

    def _bags(self, ids, offsets):
        """The flat ids (n,) and the bag of each (n,), and the number of bags B."""
        if ids.ndim == 2:
            if offsets is not None:
                raise ValueError("EmbeddingBag: offsets must be None for a 2-D input (B, N), "
                                 "whose rows are the bags")
            bags, length = ids.shape
            return ids.reshape(-1), np.repeat(np.arange(bags), length), bags
        if ids.ndim != 1:
            raise ValueError(f"EmbeddingBag expects ids of shape (n,) with offsets, or (B, N), "
                             f"got shape {ids.shape}")
        if offsets is None:
            raise ValueError("EmbeddingBag: a 1-D input needs offsets (B,), where bag b starts;"
                             " e.g. offsets=np.array([0]) for one bag")
        offsets = np.asarray(offsets)
        least = 2 if self.include_last_offset else 1
        if (not np.issubdtype(offsets.dtype, np.integer) or offsets.ndim != 1
                or len(offsets) < least):
            raise ValueError(f"EmbeddingBag expects offsets as a 1-D integer array of at least "
                             f"{least} entr{'ies' if least > 1 else 'y'}, got dtype "
                             f"{offsets.dtype} and shape {offsets.shape}")
        if offsets[0] != 0:
            raise ValueError(f"EmbeddingBag: offsets must start at 0 (the first bag starts at "
                             f"the first id), got {int(offsets[0])}")
        if (np.diff(offsets) < 0).any():
            at = int(np.flatnonzero(np.diff(offsets) < 0)[0]) + 1
            raise ValueError(f"EmbeddingBag: offsets must never decrease, got "
                             f"{int(offsets[at])} after {int(offsets[at - 1])} at position {at}")
        if offsets[-1] > len(ids):
            raise ValueError(f"EmbeddingBag: offsets may not exceed the number of ids "
                             f"{len(ids)}, got {int(offsets[-1])}")
        if self.include_last_offset and offsets[-1] != len(ids):
            raise ValueError(f"EmbeddingBag(include_last_offset=True): the last offset must "
                             f"be the number of ids, {len(ids)} (offsets as in the CSR "
                             f"format), got {int(offsets[-1])}")
        starts = offsets[:-1] if self.include_last_offset else offsets   # (B,)
        lengths = np.diff(np.r_[starts, len(ids)])                 # (B,) ids per bag
        return ids, np.repeat(np.arange(len(starts)), lengths), len(starts)

    def forward(self, ids, offsets=None, per_sample_weights=None):
        ids = _ids(ids, self.num_embeddings, "EmbeddingBag")
        flat, bag, bags = self._bags(ids, offsets)                 # (n,), (n,), B
        keep = (np.ones(len(flat), bool) if self.padding_idx is None
                else flat != self.padding_idx)                     # (n,) not padding
        if per_sample_weights is not None:
            if self.mode != "sum":
                raise ValueError("EmbeddingBag: per_sample_weights need mode='sum', as in torch")
            w_in = np.asarray(per_sample_weights)
            if w_in.dtype != self.weight.dtype or w_in.shape != ids.shape:
                raise ValueError(f"EmbeddingBag expects per_sample_weights of the ids' shape "
                                 f"{ids.shape} and the weight's dtype {self.weight.dtype}, got "
                                 f"shape {w_in.shape} and dtype {w_in.dtype}")
            w = w_in.reshape(-1) * keep                            # (n,)
        elif self.mode == "mean":
            count = np.bincount(bag[keep], minlength=bags)         # (B,) ids kept per bag
            w = keep / np.maximum(count, 1)[bag]                   # (n,) 1 / |bag|, 0: padding
        else:
            w = keep.astype(np.float64)                            # (n,)
        rows = self.weight.data[flat]                              # (n, H)
        out = scatter_add_rows(bag, rows * w.astype(rows.dtype)[:, None], bags)   # (B, H)
        self._cache = (flat, bag, bags, w.astype(rows.dtype), keep,
                       None if per_sample_weights is None else (ids.shape, rows))
        return out

    def backward(self, grad_output):
        flat, bag, bags, w, keep, weighted = self._saved()
        g = self._check_grad(grad_output, (bags, self.embedding_dim), "EmbeddingBag")
        g_each = g[bag]                                            # (n, H) its bag's gradient
        self._accumulate(flat, g_each * w[:, None])                # dL/dW[ids_k] += w_k g_bag
        if weighted is None:
            return None
        shape, rows = weighted
        grad_w = (g_each * rows).sum(axis=1) * keep                # (n,) padding: zero
        return None, None, grad_w.reshape(shape)                   # dL/dw_k = <g_bag, W[id_k]>

    def extra_repr(self) -> str:
        return super().extra_repr() + f", mode={self.mode!r}"
