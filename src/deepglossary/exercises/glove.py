"""Checkers for the exercises of the GloVe chapter.

``check_cooccurrence`` compares the student's dense co-occurrence matrix with
``glove.cooccurrence`` (vectorised, sparse) on corpora that catch the usual slips: a word
repeated inside a window (``X[i, j] += w`` with fancy indexing adds a repeated pair once, not
``np.add.at``'s every time), a word next to itself (i = j), weights d instead of 1/d, one side
of the window only, a window running across a verse boundary (-1), a window longer than the
corpus's verses, and a corpus of one verse.
"""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.glove import cooccurrence

# (ids as a list, vocabulary size, window)
_CASES = [
    ([0, 1, 2, 3, 4], 5, 2),                         # distinct words: only the weights show
    ([0, 1, 0, 1, 0, 1], 2, 3),                      # repeated pairs within one distance
    ([2, 2, 2, 1], 3, 2),                            # a word next to itself
    ([0, 1, 2, -1, 2, 1, 0], 3, 3),                  # a verse boundary, not crossed
    ([3, 0, -1, 1, 2, 3, -1, 0, 0, 1, 2], 4, 5),     # windows longer than the verses
]


def check_cooccurrence(cooccurrence_matrix):
    """``cooccurrence_matrix(ids, vocab_size, window)`` returns X as a dense (V, V) float
    array: X[i, j] adds 1/d for each time word j appears d <= window positions before or
    after word i inside one verse (verses separated by -1 in ``ids``, a 1-D int array); a word
    next to itself adds to X[i, i] from both sides. The answer should be float64; a float32 one
    is accepted within float32's rounding (rtol 1e-6)."""
    rng = np.random.default_rng(3)
    cases = list(_CASES) + [(list(rng.integers(0, 6, 60)), 6, 4)]
    for ids, vocab, window in cases:
        ids = np.array(ids)
        expected = cooccurrence(ids, vocab, window).dense()
        given = ids.copy()
        got = np.asarray(cooccurrence_matrix(given, vocab, window))
        tol = 1e-6 if got.dtype == np.float32 else 1e-12    # float32 accumulates rounding
        got = got.astype(float)
        case = f"ids={ids.tolist()}, V={vocab}, window={window}"
        if not np.array_equal(given, ids):
            raise AssertionError(f"cooccurrence_matrix changed its input ids ({case})")
        compare("X", got, expected, case=case, rtol=tol, atol=tol)
    return passed("co-occurrence counts", len(cases))
