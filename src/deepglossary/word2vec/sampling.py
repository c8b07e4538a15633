"""What word2vec trains on: the noise distribution, the subsampling of frequent words, the
dynamic window, and the (centre, context) pairs or (context window, centre) examples it makes.

Everything is vectorised over the whole token stream; a seeded generator makes every draw
repeat. Counterpart: the C word2vec (``word2vec.c``) and gensim's ``Word2Vec`` do the same
sampling token by token in compiled loops.
"""

from __future__ import annotations

import numpy as np

from deepglossary.random import default_rng


def _check_counts(counts) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 1 or len(counts) == 0 or not np.issubdtype(counts.dtype, np.integer) \
            or counts.min() < 0 or counts.sum() == 0:
        raise ValueError(f"counts must be a non-empty 1-D array (V,) of non-negative ints with "
                         f"a positive sum, got dtype {counts.dtype} and shape {counts.shape}")
    return counts


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """P_n(w) = count(w)^power / sum_v count(v)^power, the distribution negatives are drawn
    from (Mikolov et al. 2013b use power 3/4). Shape: (V,) ints -> (V,) float64, sums to 1."""
    counts = _check_counts(counts)
    weights = counts.astype(np.float64) ** power               # (V,)
    return weights / weights.sum()


def draw_negatives(noise, shape, rng=None) -> np.ndarray:
    """Word ids drawn independently from ``noise`` ((V,) probabilities), as an int64 array of
    ``shape`` (e.g. (B, K)): inverse-CDF sampling, one ``searchsorted`` for all draws. A draw
    may equal the positive word; the C word2vec skips such a draw, here it is kept (a bias of
    order P_n(w), small for all but the most frequent words)."""
    rng = default_rng(rng)
    cdf = np.cumsum(noise)                                     # (V,)
    u = rng.random(shape) * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int64)


def keep_probability(counts, sample: float = 1e-3) -> np.ndarray:
    """The probability that subsampling keeps one occurrence of each word.

    The variant of the released C code (and of gensim): with f the word's share of the tokens,
    ``p_keep = (sqrt(f / t) + 1) t / f``, capped at 1, t = ``sample``. The paper (Mikolov et al.
    2013b, eq. 5) writes the discard probability ``1 - sqrt(t / f)`` instead; both thin a word of
    share f >> t to about sqrt(t / f) of its occurrences, but near t they differ: the paper
    thins every word with f > t, this formula keeps every occurrence up to f = (1 + sqrt 5)^2 / 4
    t ~ 2.62 t (at f = 2t: the paper keeps 71%, this 100%).
    ``sample=0`` keeps everything. Shape: (V,) ints -> (V,) float64 in (0, 1].
    """
    counts = _check_counts(counts)
    if not sample >= 0:
        raise ValueError(f"sample must be >= 0, got {sample!r}")
    if sample == 0:
        return np.ones(len(counts))
    f = counts / counts.sum()                                  # (V,)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(f / sample) + 1.0) * sample / f
    return np.where(counts > 0, np.minimum(keep, 1.0), 1.0)


def subsample(ids, counts, sample: float = 1e-3, rng=None) -> np.ndarray:
    """The token stream ``ids`` (n,) with each occurrence kept with its word's
    :func:`keep_probability`, order kept. Returns (m,) int64, m <= n."""
    ids = np.asarray(ids, dtype=np.int64)
    keep = keep_probability(counts, sample)[ids]               # (n,)
    return ids[default_rng(rng).random(len(ids)) < keep]


def skipgram_pairs(ids, window: int = 5, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) pairs of the stream ``ids`` (n,) with a dynamic window: each
    centre position draws its own reach b uniformly from 1..``window`` and pairs with the
    words up to b positions before and after it (so a neighbour at distance r is used with
    probability (window - r + 1) / window, which weights near words more, as in word2vec.c).

    Returns ``centres``, ``contexts``: (P,) int64 each, ordered by offset then position.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"window must be an int >= 1, got {window!r}")
    n = len(ids)
    reach = default_rng(rng).integers(1, window + 1, size=n)  # (n,) b per centre
    centres, contexts = [], []
    for offset in range(1, window + 1):                        # a loop over offsets, not pairs
        near = reach[: n - offset] >= offset                   # centre i, context i + offset
        centres.append(ids[: n - offset][near])
        contexts.append(ids[offset:][near])
        near = reach[offset:] >= offset                        # centre i, context i - offset
        centres.append(ids[offset:][near])
        contexts.append(ids[: n - offset][near])
    return np.concatenate(centres), np.concatenate(contexts)


def cbow_windows(ids, window: int = 5, rng=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CBOW's examples: for each position, the words within its dynamic reach b (drawn as in
    :func:`skipgram_pairs`) predict the word there.

    Returns ``contexts`` (n, 2 window) int64 (the words at offsets -window..-1, 1..window, 0
    where unused), ``mask`` (n, 2 window) bool (which of them are in the window and inside the
    stream) and ``targets`` (n,) int64. Positions with an empty window (a one-word stream) are
    dropped.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"window must be an int >= 1, got {window!r}")
    n = len(ids)
    reach = default_rng(rng).integers(1, window + 1, size=n)  # (n,)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])   # (2W,)
    where = np.arange(n)[:, None] + offsets[None, :]           # (n, 2W) positions
    mask = (np.abs(offsets)[None, :] <= reach[:, None]) & (where >= 0) & (where < n)
    contexts = np.where(mask, ids[np.clip(where, 0, max(n - 1, 0))], 0)   # (n, 2W)
    used = mask.any(axis=1)
    return contexts[used], mask[used], ids[used]
