"""The checkers of the chapter ILSVRC accept right answers and reject wrong ones."""

import numpy as np
import pytest
import torch

from deepglossary.exercises import ilsvrc


def right(scores, targets, k):
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return 1.0 - (order == targets[:, None]).any(axis=1).mean()


def by_rank(scores, targets, k):
    own = scores[np.arange(len(scores)), targets][:, None]
    lower = np.arange(scores.shape[1]) < targets[:, None]
    return float(np.mean(((scores > own) | ((scores == own) & lower)).sum(1) >= k))


def test_topk_error_checker_accepts_right_answers():
    ilsvrc.check_topk_error(right)
    ilsvrc.check_topk_error(by_rank)


def reversed_sort(scores, targets, k):           # ties go to the higher class index
    order = np.argsort(scores, axis=1, kind="stable")[:, ::-1][:, :k]
    return 1.0 - (order == targets[:, None]).any(axis=1).mean()


def strict_rank(scores, targets, k):             # counts only larger scores: ties forgiven
    own = scores[np.arange(len(scores)), targets][:, None]
    return float(np.mean((scores > own).sum(1) >= k))


def wrong_axis(scores, targets, k):
    order = np.argsort(-scores, axis=0, kind="stable")[:k].T
    return 1.0 - (order == targets[:, None]).any(axis=1).mean()


def partition(scores, targets, k):               # argpartition with kth = k fails at k = K
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return 1.0 - (top == targets[:, None]).any(axis=1).mean()


def unstable_sort(scores, targets, k):           # NumPy's default argsort is not stable
    order = np.argsort(-scores, axis=1)[:, :k]
    return 1.0 - (order == targets[:, None]).any(axis=1).mean()


def partition_k1(scores, targets, k):            # right at k = K, but ties in any order
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return 1.0 - (top == targets[:, None]).any(axis=1).mean()


def ascending_last(scores, targets, k):          # stable ascending sort: ties to the higher index
    order = np.argsort(scores, axis=1, kind="stable")[:, -k:]
    return 1.0 - (order == targets[:, None]).any(axis=1).mean()


def softmax_first(scores, targets, k):           # probabilities in the input's dtype overflow
    p = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    return right(np.nan_to_num(p), targets, k)


@pytest.mark.parametrize("wrong", [
    reversed_sort, strict_rank, wrong_axis, partition, softmax_first, unstable_sort,
    partition_k1, ascending_last,
    lambda s, t, k: 1.0 - right(s, t, k),                             # the accuracy
    lambda s, t, k: right(s, t, k - 1) if k > 1 else right(s, t, k),  # off by one
    lambda s, t, k: np.full(len(t), right(s, t, k)),                  # not one number
])
def test_topk_error_checker_rejects_wrong_answers(wrong):
    with pytest.raises((AssertionError, ValueError)):
        ilsvrc.check_topk_error(wrong)


def test_topk_error_checker_names_the_accuracy():
    with pytest.raises(AssertionError, match="accuracy"):
        ilsvrc.check_topk_error(lambda s, t, k: 1.0 - right(s, t, k))


@pytest.mark.parametrize("wrong", [unstable_sort, partition_k1, ascending_last, reversed_sort])
def test_topk_error_checker_names_the_tie_rule(wrong):
    with pytest.raises(AssertionError, match="stable"):
        ilsvrc.check_topk_error(wrong)


def test_torch_checker_names_dim_0_itself():
    with pytest.raises(AssertionError, match="dim=1"):
        ilsvrc.check_topk_correct_torch(
            lambda z, y, k: (z.topk(k, dim=0).indices.T == y[:, None]).any(dim=1))


def test_torch_checker():
    ilsvrc.check_topk_correct_torch(lambda z, y, k: (z.topk(k, dim=1).indices == y[:, None])
                                    .any(dim=1))
    ilsvrc.check_topk_correct_torch(lambda z, y, k: (z.topk(k, dim=1, sorted=False).indices
                                                     == y[:, None]).any(dim=1))
    for wrong in [lambda z, y, k: (z.topk(k, dim=0).indices.T == y[:, None]).any(dim=1),
                  lambda z, y, k: z.topk(k, dim=1).indices == y[:, None],
                  lambda z, y, k: z.topk(k, dim=1).indices[:, 0] == y,
                  lambda z, y, k: (z.topk(k, dim=1).indices == y[:, None]).float().sum(1)]:
        with pytest.raises((AssertionError, RuntimeError, IndexError)):
            ilsvrc.check_topk_correct_torch(wrong)
    assert torch is not None
