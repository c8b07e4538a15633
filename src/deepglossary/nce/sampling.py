"""Drawing noise words: three vectorised samplers of a discrete distribution over K words.

* ``"choice"``: ``rng.choice(K, size, p=P_n)``, NumPy's own; it checks ``p`` and builds the
  cumulative sums again at every call, O(K) per call before the O(log K) per draw.
* ``"searchsorted"``: inverse-CDF sampling with the cumulative sums built once: a uniform u
  in [0, total) lands in the interval of word y, cdf[y-1] <= u < cdf[y]; O(log K) per draw.
* ``"alias"``: Walker's alias method (Vose's construction): K columns of height 1/K, column y
  holds word y with probability prob[y] and its alias otherwise; O(1) per draw (one integer,
  one uniform), O(K) to build.

All three draw from the same distribution (the chapter tests it); their speeds differ.
"""

from __future__ import annotations

import numpy as np

from deepglossary.random import default_rng

METHODS = ("choice", "searchsorted", "alias")


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """P_n(y) proportional to count(y)^power: (K,) counts -> (K,) float64 probabilities.

    ``power=1`` is the unigram distribution, ``0.75`` Mikolov et al.'s, ``0`` the uniform one
    (over every word, counted or not)."""
    c = np.asarray(counts)
    if c.ndim != 1 or c.size == 0 or not (np.issubdtype(c.dtype, np.integer)
                                          or np.issubdtype(c.dtype, np.floating)):
        raise ValueError(f"noise_distribution expects counts of shape (K,), got dtype {c.dtype} "
                         f"and shape {c.shape}")
    if not np.isfinite(c).all() or c.min() < 0 or c.sum() <= 0:
        raise ValueError("noise_distribution expects finite non-negative counts with a "
                         "positive sum")
    if not np.isfinite(power) or power < 0:
        raise ValueError(f"noise_distribution: power must be finite and >= 0, got {power}")
    c = c.astype(np.float64)
    weights = np.ones_like(c) if power == 0 else c**power                     # (K,)
    return weights / weights.sum()


def alias_table(probs) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table of a (K,) distribution: ``prob`` (K,) float64, ``alias`` (K,) int64.

    Column y, of height 1/K, gives word y with probability prob[y], else word alias[y]. The
    construction pairs one column below 1/K with one above, K - 1 times: a loop over the
    vocabulary, once per distribution (the draws, which happen at every step, are
    vectorised)."""
    p = np.asarray(probs, dtype=np.float64)
    size = len(p)
    scaled = p * size / p.sum()                                 # mean 1
    prob, alias = np.ones(size), np.arange(size)
    small = [int(i) for i in np.flatnonzero(scaled < 1)]
    large = [int(i) for i in np.flatnonzero(scaled >= 1)]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g                       # column s: s, topped up by g
        scaled[g] -= 1 - scaled[s]                             # what g gave away
        (small if scaled[g] < 1 else large).append(g)
    for i in small + large:                                    # rounding leftovers: full,
        prob[i] = 1.0 if p[i] > 0 else 0.0                     # a weight-0 word never drawn
        alias[i] = i if p[i] > 0 else int(np.argmax(p))
    return prob, alias


class NoiseSampler:
    """Draws word ids from a fixed distribution over K words, vectorised.

    Args:
        probs: (K,) non-negative weights (normalised here).
        method: ``"choice"``, ``"searchsorted"`` or ``"alias"`` (see the module's docstring).

    ``sample(shape, rng)`` returns int64 ids of ``shape``, each in [0, K), never a word of
    weight 0. PyTorch counterpart: ``torch.multinomial(probs, n, replacement=True)``.
    """

    def __init__(self, probs, method: str = "alias"):
        p = np.asarray(probs)
        if p.ndim != 1 or p.size == 0 or not np.issubdtype(p.dtype, np.floating) \
                or not np.isfinite(p).all() or p.min() < 0 or p.sum() <= 0:
            raise ValueError(f"NoiseSampler expects (K,) finite non-negative float weights with "
                             f"a positive sum, got dtype {p.dtype} and shape {p.shape}")
        if method not in METHODS:
            raise ValueError(f"NoiseSampler: method must be one of {METHODS}, got {method!r}")
        self.method = method
        self.probs = p.astype(np.float64) / p.astype(np.float64).sum()          # (K,)
        if method == "searchsorted":
            self.cdf = np.cumsum(self.probs)                                    # (K,)
            self.last = int(np.flatnonzero(self.probs)[-1])     # the last word of weight > 0
        elif method == "alias":
            self.prob, self.alias = alias_table(self.probs)

    def sample(self, shape, rng=None) -> np.ndarray:
        rng = default_rng(rng)
        size = len(self.probs)
        if self.method == "choice":
            return rng.choice(size, size=shape, p=self.probs).astype(np.int64)
        if self.method == "searchsorted":
            u = rng.random(shape) * self.cdf[-1]                                # [0, total)
            ids = np.searchsorted(self.cdf, u, side="right")    # cdf[y-1] <= u < cdf[y]
            return np.minimum(ids, self.last).astype(np.int64)  # u rounded up to cdf[-1]: rare
        column = rng.integers(size, size=shape)                                 # uniform column
        keep = rng.random(shape) < self.prob[column]                            # its own word?
        return np.where(keep, column, self.alias[column]).astype(np.int64)

    def __repr__(self) -> str:
        return f"NoiseSampler(K={len(self.probs)}, method={self.method!r})"
