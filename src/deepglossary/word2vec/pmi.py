"""The PMI view of skip-gram with negative sampling (Levy and Goldberg 2014).

If every dot product could be set freely, the SGNS loss summed over the corpus would be
smallest at

    w_i . c_j = log( #(i, j) / (#(i) P_n(j)) ) - log k

with #(i, j) the number of (centre i, context j) pairs training sees, #(i) = sum_j #(i, j),
P_n the noise distribution and k the number of negatives: the pointwise mutual information of
the pair, with the context's probability replaced by P_n (for P_n the unigram distribution
this is exactly PMI), shifted down by log k. A trained model with d << V cannot reach this
everywhere; the chapter measures how close it gets on frequent words.
"""

from __future__ import annotations

import numpy as np

from deepglossary.word2vec.sampling import noise_distribution, skipgram_pairs, subsample


def pair_counts(ids, counts, top: int, *, window: int = 5, sample: float = 1e-3,
                epochs: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The (centre, context) pairs that training draws (subsampling and dynamic window as in
    :func:`~deepglossary.word2vec.train.train`, ``epochs`` fresh draws added up), counted for
    the ``top`` most frequent words (rows 0..top-1 of the vocabulary).

    Returns ``pairs`` (top, top) int64, #(i, j) for centre i and context j, and ``centre``
    (top,) int64, #(i): every pair with centre i, whatever its context word."""
    rng = np.random.default_rng(seed)
    pairs, centre = np.zeros(top * top, np.int64), np.zeros(top, np.int64)
    for _ in range(epochs):
        c, o = skipgram_pairs(subsample(ids, counts, sample, rng), window, rng)
        centre += np.bincount(c[c < top], minlength=top)
        both = (c < top) & (o < top)
        pairs += np.bincount(c[both] * top + o[both], minlength=top * top)
    return pairs.reshape(top, top), centre


def shifted_pmi(pairs, centre, counts, k: int) -> np.ndarray:
    """log(#(i, j) / (#(i) P_n(j))) - log k for the (top, top) ``pairs``, with P_n the
    unigram^0.75 distribution of the whole vocabulary (``counts`` (V,)); -inf where a pair was
    never seen. Shape (top, top) float64."""
    top = pairs.shape[0]
    p_noise = noise_distribution(counts)[:top]                          # (top,)
    with np.errstate(divide="ignore"):
        return (np.log(pairs) - np.log(centre)[:, None] - np.log(p_noise)[None, :]
                - np.log(k))
