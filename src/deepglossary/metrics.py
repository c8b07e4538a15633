"""Classification metrics: top-k accuracy and top-k error, the ILSVRC's measures.

An example counts as *correct at k* when its target class is among the ``k`` classes with the
largest scores. Scores may be logits or probabilities: any function that is strictly increasing
within a row (softmax is one, in exact arithmetic) gives the same ranking.

Ties are broken by class index, the lower index ranking first, so that the result never depends
on a sorting algorithm: the target's *rank* is

    rank_n = #{j : s_nj > s_ny} + #{j < y : s_nj = s_ny}        (y = targets[n], from 0)

and the example is correct at k exactly when ``rank_n < k``. ``torch.topk`` documents no
tie-breaking rule; with distinct scores the two always agree (the tests check it), and with ties
they pick the same *values*, though not always the same indices.
"""

from __future__ import annotations

import numpy as np

__all__ = ["target_rank", "topk", "topk_accuracy", "topk_correct", "topk_error"]


def _scores(scores, who: str) -> np.ndarray:
    s = np.asarray(scores)
    if s.ndim != 2:
        raise ValueError(f"{who}: scores must have shape (N, K), one row of K class scores per "
                         f"example; got shape {s.shape}")
    if not np.issubdtype(s.dtype, np.floating):
        raise ValueError(f"{who}: scores must be floating-point (logits or probabilities), got "
                         f"dtype {s.dtype}")
    n, classes = s.shape
    if n == 0 or classes == 0:
        raise ValueError(f"{who}: scores of shape {s.shape} hold no examples or no classes")
    if np.isnan(s).any():
        row, col = (int(i) for i in np.argwhere(np.isnan(s))[0])
        raise ValueError(f"{who}: scores[{row}, {col}] is NaN; a NaN has no rank")
    return s


def _k(k, classes: int, who: str) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ValueError(f"{who}: k must be an integer, got {k!r}")
    if not 1 <= k <= classes:
        raise ValueError(f"{who}: k must satisfy 1 <= k <= K = {classes} (the number of "
                         f"classes), got k = {k}")
    return int(k)


def _targets(targets, n: int, classes: int, who: str) -> np.ndarray:
    t = np.asarray(targets)
    if t.ndim != 1 or len(t) != n:
        raise ValueError(f"{who}: targets must have shape ({n},), one class index per row of "
                         f"scores; got shape {t.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"{who}: targets must be integer class indices, got dtype {t.dtype}")
    if t.min() < 0 or t.max() >= classes:
        bad = int(t[(t < 0) | (t >= classes)][0])
        raise ValueError(f"{who}: targets must lie in [0, {classes}) (K = {classes} classes), "
                         f"got {bad}")
    return t.astype(np.intp)


def topk(scores, k: int) -> np.ndarray:
    """The indices of the ``k`` largest scores of each row, largest first; shape (N, k).

    Like ``scores_tensor.topk(k, dim=1).indices``, with ties broken towards the lower class
    index. Vectorized with ``np.argpartition``: O(K) per row to find the k-th largest value,
    then a sort of the k chosen entries only.
    """
    s = _scores(scores, "topk")
    n, classes = s.shape
    k = _k(k, classes, "topk")
    # the k-th largest value of each row (argpartition of -s puts it at position k - 1)
    kth = np.take_along_axis(s, np.argpartition(-s, k - 1, axis=1)[:, k - 1:k], axis=1)  # (N, 1)
    above = s > kth                                                    # (N, K) surely in
    tied = s == kth                                                    # (N, K) in, if room
    room = k - above.sum(axis=1, keepdims=True)                        # (N, 1) >= 1
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= room))        # lower index first
    index = np.nonzero(chosen)[1].reshape(n, k)                        # (N, k), ascending index
    values = np.take_along_axis(s, index, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")                 # ties keep index order
    return np.take_along_axis(index, order, axis=1)


def target_rank(scores, targets) -> np.ndarray:
    """The rank of each target among its row's scores, from 0 (the largest); shape (N,).

    rank = (number of larger scores) + (number of equal scores at a lower class index).
    """
    s = _scores(scores, "target_rank")
    n, classes = s.shape
    t = _targets(targets, n, classes, "target_rank")
    own = s[np.arange(n), t][:, None]                                  # (N, 1) s_ny
    lower = np.arange(classes)[None, :] < t[:, None]                   # (N, K) j < y
    return ((s > own) | ((s == own) & lower)).sum(axis=1)


def topk_correct(scores, targets, k: int) -> np.ndarray:
    """Boolean (N,): is each example's target among its ``k`` top-scoring classes?"""
    s = _scores(scores, "topk_correct")
    k = _k(k, s.shape[1], "topk_correct")
    return target_rank(s, targets) < k


def topk_accuracy(scores, targets, k: int) -> float:
    """The fraction of examples whose target is among their ``k`` top-scoring classes."""
    return float(topk_correct(scores, targets, k).mean())


def topk_error(scores, targets, k: int) -> float:
    """The ILSVRC's top-k error: the fraction of examples whose target is *not* among their
    ``k`` top-scoring classes. ``k = 1`` is the ordinary error rate, ``k = 5`` the challenge's
    headline number; ``k = K`` gives 0.

    Shapes: scores (N, K) floating (logits or probabilities), targets (N,) integers in [0, K),
    1 <= k <= K; anything else raises ``ValueError`` naming what was expected and received.
    Ties are broken towards the lower class index (see the module's docstring).
    """
    return 1.0 - topk_accuracy(scores, targets, k)
