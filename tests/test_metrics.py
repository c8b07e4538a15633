"""Top-k accuracy and error (deepglossary.metrics) against torch.topk, and bad inputs refused."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from deepglossary.metrics import target_rank, topk, topk_accuracy, topk_correct, topk_error


@st.composite
def problems(draw, ties=False):
    n = draw(st.integers(1, 20))
    classes = draw(st.integers(1, 12))
    k = draw(st.integers(1, classes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    if ties:                                   # few distinct values: many ties
        scores = rng.integers(-2, 3, size=(n, classes)).astype(dtype)
    else:
        scores = rng.standard_normal((n, classes)).astype(dtype)
    targets = rng.integers(0, classes, size=n)
    return scores, targets, k


def torch_correct(scores, targets, k):
    top = torch.from_numpy(scores).topk(k, dim=1).indices
    return (top == torch.from_numpy(targets)[:, None]).any(dim=1).numpy()


@settings(max_examples=200, deadline=None)
@given(problems())
def test_distinct_scores_match_torch_topk(problem):
    scores, targets, k = problem
    np.testing.assert_array_equal(topk(scores, k),
                                  torch.from_numpy(scores).topk(k, dim=1).indices.numpy())
    expected = torch_correct(scores, targets, k)
    np.testing.assert_array_equal(topk_correct(scores, targets, k), expected)
    assert topk_error(scores, targets, k) == pytest.approx(1 - expected.mean(), abs=1e-15)
    assert topk_accuracy(scores, targets, k) == pytest.approx(expected.mean(), abs=1e-15)


@settings(max_examples=200, deadline=None)
@given(problems(ties=True))
def test_ties_same_values_as_torch_and_lower_index_first(problem):
    scores, targets, k = problem
    index = topk(scores, k)
    values = np.take_along_axis(scores, index, axis=1)
    np.testing.assert_array_equal(values, torch.from_numpy(scores).topk(k, dim=1).values.numpy())
    # the documented rule: order by score descending, then class index ascending
    reference = np.array([sorted(range(scores.shape[1]), key=lambda j: (-row[j], j))[:k]
                          for row in scores])
    np.testing.assert_array_equal(index, reference)
    # correct at k exactly when the target is among topk's indices
    np.testing.assert_array_equal(topk_correct(scores, targets, k),
                                  (index == targets[:, None]).any(axis=1))


@settings(max_examples=100, deadline=None)
@given(problems(ties=True))
def test_error_falls_with_k_and_vanishes_at_k_equals_classes(problem):
    scores, targets, _ = problem
    classes = scores.shape[1]
    errors = [topk_error(scores, targets, k) for k in range(1, classes + 1)]
    assert all(a >= b for a, b in zip(errors, errors[1:]))
    assert errors[-1] == 0.0
    ranks = target_rank(scores, targets)
    assert ranks.min() >= 0 and ranks.max() < classes


def test_softmax_and_logits_rank_alike():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((50, 10))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    targets = rng.integers(0, 10, 50)
    for k in (1, 3, 5):
        assert topk_error(logits, targets, k) == topk_error(probs, targets, k)


def test_infinities_are_ranked():
    scores = np.array([[-np.inf, 0.0, np.inf], [np.inf, np.inf, 1.0]])
    np.testing.assert_array_equal(topk(scores, 2), [[2, 1], [0, 1]])
    np.testing.assert_array_equal(target_rank(scores, np.array([0, 1])), [2, 1])


@pytest.mark.parametrize("scores, targets, k, match", [
    (np.zeros(5), np.zeros(5, int), 1, r"shape \(N, K\).*got shape \(5,\)"),
    (np.zeros((2, 3, 4)), np.zeros(2, int), 1, r"shape \(N, K\)"),
    (np.zeros((0, 3)), np.zeros(0, int), 1, "no examples"),
    (np.zeros((2, 3), int), np.zeros(2, int), 1, "floating-point"),
    (np.array([[0.0, np.nan]]), np.zeros(1, int), 1, r"scores\[0, 1\] is NaN"),
    (np.zeros((2, 3)), np.zeros(2, int), 0, r"1 <= k <= K = 3"),
    (np.zeros((2, 3)), np.zeros(2, int), 4, r"1 <= k <= K = 3.*k = 4"),
    (np.zeros((2, 3)), np.zeros(2, int), 1.0, "k must be an integer"),
    (np.zeros((2, 3)), np.zeros(2, int), True, "k must be an integer"),
    (np.zeros((2, 3)), np.zeros(3, int), 1, r"shape \(2,\).*got shape \(3,\)"),
    (np.zeros((2, 3)), np.zeros((2, 1), int), 1, r"shape \(2,\)"),
    (np.zeros((2, 3)), np.zeros(2), 1, "integer class indices"),
    (np.zeros((2, 3)), np.array([0, 3]), 1, r"\[0, 3\).*got 3"),
    (np.zeros((2, 3)), np.array([-1, 0]), 1, "got -1"),
])
def test_bad_inputs_are_refused_clearly(scores, targets, k, match):
    with pytest.raises(ValueError, match=match):
        topk_error(scores, targets, k)


def test_topk_refuses_bad_k():
    with pytest.raises(ValueError, match="1 <= k <= K"):
        topk(np.zeros((2, 3)), 5)


def test_metrics_and_checkers_do_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, deepglossary.metrics, deepglossary.exercises.ilsvrc; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
