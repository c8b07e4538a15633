"""The checkers of the part "Training deep networks" accept right answers and reject wrong ones."""

import numpy as np
import pytest

from deepglossary.exercises import training


def right(x, p, rng):
    keep = rng.random(x.shape) >= p
    scale = np.zeros((), x.dtype) if p == 1 else np.asarray(1 / (1 - p), x.dtype)
    return x * keep * scale, keep


def test_dropout_checker_accepts_a_right_answer():
    training.check_dropout(right)


@pytest.mark.parametrize("wrong", [
    # naive: 1/(1-p) with p = 1 gives inf * 0 = NaN
    lambda x, p, rng: (lambda keep: (x * keep / (1 - p) if p < 1 else x * keep * np.inf, keep))(
        rng.random(x.shape) >= p),
    # no inverted scaling
    lambda x, p, rng: (lambda keep: (x * keep, keep))(rng.random(x.shape) >= p),
    # float32 upcast to float64
    lambda x, p, rng: (lambda y, keep: (y.astype(np.float64), keep))(*right(x, p, rng)),
    # one mask per row, shared by all units (not independent across units)
    lambda x, p, rng: (lambda keep: (np.where(keep, x / np.asarray(1 - p if p < 1 else 1, x.dtype),
                                              0).astype(x.dtype) * (p < 1), keep))(
        np.broadcast_to(rng.random(x.shape[:1] + (1,) * (x.ndim - 1)) >= p, x.shape).copy()),
    # keeps with probability p instead of 1 - p
    lambda x, p, rng: (lambda keep: (np.where(keep, x / np.asarray(1 - p if p < 1 else 1, x.dtype),
                                              0).astype(x.dtype) * (p < 1), keep))(
        rng.random(x.shape) < p),
    # right values, but computed in place: the caller's x is overwritten
    lambda x, p, rng: (lambda y, keep: (np.copyto(x, y), x, keep)[1:])(*right(x, p, rng)),
])
def test_dropout_checker_rejects_wrong_answers(wrong):
    with pytest.raises(AssertionError):
        with np.errstate(invalid="ignore", divide="ignore"):
            training.check_dropout(wrong)


def test_dropout_checker_names_an_in_place_update():
    def inplace(x, p, rng):                 # x *= mask * scale: right values, caller's x lost
        y, keep = right(x, p, rng)
        x[...] = y
        return x, keep

    with pytest.raises(AssertionError, match="input x was changed"):
        training.check_dropout(inplace)
