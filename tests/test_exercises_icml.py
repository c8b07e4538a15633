"""The ICML chapter's checker accepts right answers and rejects the usual slips."""

import numpy as np
import pytest
from scipy import stats

from deepglossary.exercises import icml as ex


def interval(a, b, *, quantile=None, ddof=1, scale="sqrt", df_shift=-1, q=0.975, flip=False,
             unpaired=False, in_place=False):
    """The right answer; each keyword switches on one slip."""
    d = b - a if flip else a - b
    n = len(d)
    if unpaired:
        se = np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    else:
        s = d.std(ddof=ddof)
        se = {"sqrt": s / np.sqrt(n), "none": s, "n": s / n}[scale]
    t = stats.t.ppf(q, n + df_shift) if quantile is None else quantile
    if in_place:
        a -= b
    return d.mean() - t * se, d.mean() + t * se


def test_checker_accepts_the_right_answer():
    ex.check_paired_interval(interval)


def test_checker_accepts_the_package_and_scipy():
    from deepglossary.reproduce import t_interval

    ex.check_paired_interval(lambda a, b: (t_interval(a - b).low, t_interval(a - b).high))
    ex.check_paired_interval(lambda a, b: tuple(stats.ttest_rel(a, b).confidence_interval()))


@pytest.mark.parametrize("slip", [
    dict(quantile=1.96),          # the normal quantile
    dict(ddof=0),                 # population standard deviation
    dict(scale="none"),           # forgets the 1/sqrt(n)
    dict(scale="n"),              # divides by n
    dict(df_shift=0),             # n degrees of freedom
    dict(q=0.95),                 # one-sided quantile
    dict(flip=True),              # b - a
    dict(unpaired=True),          # ignores the pairing
    dict(in_place=True),          # changes the caller's array
])
def test_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_paired_interval(lambda a, b: interval(a, b, **slip))


def test_checker_rejects_a_wrong_shape():
    with pytest.raises(AssertionError, match="low, high"):
        ex.check_paired_interval(lambda a, b: np.array([interval(a, b)]))
