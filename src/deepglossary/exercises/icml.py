"""Checkers for the exercises of the ICML chapter.

``check_paired_interval`` compares the student's 95% confidence interval for the mean of
paired differences (same seed in both arms) with ``reproduce.t_interval`` on cases that catch
the usual slips: the normal quantile 1.96 in place of Student's t (2 or 3 seeds show it), the
population standard deviation (ddof 0), the standard deviation not divided by sqrt(n) (or
divided by n), n degrees of freedom in place of n - 1, the one-sided quantile (0.95 in place of
0.975), the differences taken the wrong way round (b - a) or unpaired (difference of the means,
with a two-sample standard error), and an input changed in place.
"""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.reproduce import t_interval

# (n seeds, mean of the differences, spread of the differences, spread shared by both arms)
_CASES = [(2, 1.0, 0.5, 3.0), (3, -40.0, 25.0, 50.0), (5, 0.02, 0.01, 0.2), (10, 120.0, 80.0, 60.0),
          (4, 0.0, 1.0, 0.0), (30, 3.0, 2.0, 10.0)]


def check_paired_interval(paired_interval):
    """``paired_interval(a, b)`` returns ``(low, high)``, the two-sided 95% Student-t confidence
    interval for the mean of ``a - b``, where ``a[i]`` and ``b[i]`` are the results of the two
    arms with seed i (shape (n,) each, n >= 2). It must not change ``a`` or ``b``."""
    rng = np.random.default_rng(7)
    cases = 0
    for n, mean, spread, shared in _CASES:
        common = rng.normal(0.0, shared, size=n)                 # what a seed does to both arms
        b = 100.0 + common + rng.normal(0.0, 1.0, size=n)
        a = b + rng.normal(mean, spread, size=n)
        given_a, given_b = a.copy(), b.copy()
        got = paired_interval(given_a, given_b)
        case = f"n={n} seeds, a - b = {np.round(a - b, 3)}"
        if not (np.array_equal(given_a, a) and np.array_equal(given_b, b)):
            raise AssertionError(f"paired_interval changed its inputs in place ({case})")
        if np.shape(got) != (2,):
            raise AssertionError(f"paired_interval must return (low, high), got {got!r} ({case})")
        expected = t_interval(a - b, 0.95)
        compare("(low, high)", np.asarray(got, dtype=np.float64),
                np.array([expected.low, expected.high]), case=case, rtol=1e-6, atol=1e-9)
        cases += 1
    return passed("paired 95% t-interval", cases)
