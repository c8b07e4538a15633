"""The GloVe chapter's checker accepts right answers and rejects the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import glove as ex


def counts(ids, vocab, window, *, inverse=True, both_sides=True, cross=False, fancy=False):
    """A loop over distances; the keywords switch on one slip each."""
    ids = np.asarray(ids)
    X = np.zeros((vocab, vocab))
    verse = np.cumsum(ids < 0)
    for d in range(1, window + 1):
        a, b = ids[:-d], ids[d:]
        keep = (a >= 0) & (b >= 0) & (cross | (verse[:-d] == verse[d:]))
        a, b = a[keep], b[keep]
        w = 1 / d if inverse else d
        if fancy:
            X[a, b] += w
            if both_sides:
                X[b, a] += w
        else:
            np.add.at(X, (a, b), w)
            if both_sides:
                np.add.at(X, (b, a), w)
    return X


def test_checker_accepts_the_loop_over_distances():
    ex.check_cooccurrence(counts)


def test_checker_accepts_a_float32_answer():
    ex.check_cooccurrence(lambda ids, v, w: counts(ids, v, w).astype(np.float32))


def test_checker_rejects_a_float32_answer_with_a_slip():
    with pytest.raises(AssertionError):
        ex.check_cooccurrence(lambda ids, v, w: counts(ids, v, w, fancy=True).astype(np.float32))


@pytest.mark.parametrize("slip", [
    dict(inverse=False),       # weight d instead of 1/d
    dict(both_sides=False),    # the words after i only
    dict(cross=True),          # windows run across verse boundaries
    dict(fancy=True),          # X[a, b] += w drops repeated pairs
])
def test_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_cooccurrence(lambda ids, v, w: counts(ids, v, w, **slip))


def test_checker_rejects_an_answer_that_changes_its_input():
    def clobber(ids, v, w):
        X = counts(ids, v, w)
        ids[:] = 0
        return X

    with pytest.raises(AssertionError):
        ex.check_cooccurrence(clobber)
