"""The Keras chapter's checkers accept right answers and reject typical wrong ones."""

import math

import numpy as np
import pytest

from deepglossary.exercises.keras import check_stopping_epoch, check_validation_split


def right_split(n, fraction):
    split_at = math.floor(n * (1 - fraction))
    return np.arange(split_at), np.arange(split_at, n)


def right_stop(values, patience, min_delta=0.0):
    best, wait = np.inf, 0
    for epoch, value in enumerate(values):
        wait += 1
        if value < best - min_delta:
            best, wait = value, 0
        elif wait >= patience and epoch > 0:
            return epoch
    return None


def right_stop_difference(values, patience, min_delta=0.0):
    # the prose's wording, "an improvement larger than min_delta", written literally
    best, wait = np.inf, 0
    for epoch, value in enumerate(values):
        wait += 1
        if best - value > min_delta:
            best, wait = value, 0
        elif wait >= patience and epoch > 0:
            return epoch
    return None


def test_right_answers_pass(capsys):
    check_validation_split(right_split)
    check_stopping_epoch(right_stop)
    check_stopping_epoch(right_stop_difference)
    assert capsys.readouterr().out.count("✓") == 3


def test_patience_zero_acts_as_one():
    # Keras's rule: wait is raised before the test, so patience 0 and 1 both stop after the
    # first epoch without an improvement
    from deepglossary.exercises.keras import reference_stopping_epoch
    curve = [1.0, 0.9, 0.95, 0.8, 0.85, 0.7]
    assert reference_stopping_epoch(curve, 0) == reference_stopping_epoch(curve, 1) == 2


@pytest.mark.parametrize("wrong", [
    lambda n, f: (np.arange(n - math.floor(n * (1 - f)), n),
                  np.arange(n - math.floor(n * (1 - f)))),                   # the first rows
    lambda n, f: (np.arange(round(n * (1 - f))), np.arange(round(n * (1 - f)), n)),  # round
    lambda n, f: (np.arange(math.ceil(n * (1 - f))), np.arange(math.ceil(n * (1 - f)), n)),
    lambda n, f: tuple(np.split(np.random.default_rng(0).permutation(n),
                                [math.floor(n * (1 - f))])),                # shuffled first
])
def test_wrong_splits_fail(wrong):
    with pytest.raises(AssertionError):
        check_validation_split(wrong)


def ties_improve(values, patience, min_delta=0.0):
    best, wait = np.inf, 0
    for epoch, value in enumerate(values):
        wait += 1
        if value <= best - min_delta:
            best, wait = value, 0
        elif wait >= patience and epoch > 0:
            return epoch
    return None


def off_by_one(values, patience, min_delta=0.0):
    best, wait = np.inf, 0
    for epoch, value in enumerate(values):
        if value < best - min_delta:
            best, wait = value, 0
        else:
            wait += 1
            if wait > patience:
                return epoch
    return None


def no_min_delta(values, patience, min_delta=0.0):
    return right_stop(values, patience, 0.0)


@pytest.mark.parametrize("wrong", [ties_improve, off_by_one, no_min_delta])
def test_wrong_stopping_rules_fail(wrong):
    with pytest.raises(AssertionError):
        check_stopping_epoch(wrong)
