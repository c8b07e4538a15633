"""The RBM chapter's checkers accept right answers and reject the usual slips."""

import itertools

import numpy as np
import pytest

from deepglossary.exercises import rbm as ex


def softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def free_energy(x, W, b_vis, b, *, naive=False, no_visible=False, sign=1.0, axis=1,
                upcast=False):
    z = x @ W.T + b                                              # (N, H)
    sp = np.log(1 + np.exp(z)) if naive else softplus(z)
    out = sign * (-(0 if no_visible else x @ b_vis) - sp.sum(axis=axis))
    return out.astype(np.float64) if upcast else out


def test_free_energy_checker_accepts_the_derivation():
    ex.check_free_energy(free_energy)


@pytest.mark.parametrize("slip", [
    dict(naive=True),           # log(1 + exp(z)) overflows
    dict(no_visible=True),      # forgets -b_vis . x
    dict(sign=-1.0),            # a sign slip
    dict(upcast=True),          # float32 in, float64 out
])
def test_free_energy_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_free_energy(lambda x, W, bv, b: free_energy(x, W, bv, b, **slip))


def log_z(W, b_vis, b, *, naive=False, drop_visible_bias=False):
    hs = np.array(list(itertools.product([0.0, 1.0], repeat=len(b))))   # (2^H, H)
    minus_f = hs @ b + softplus(hs @ W + (0 if drop_visible_bias else b_vis)).sum(axis=1)
    if naive:
        return float(np.log(np.exp(minus_f).sum()))
    top = minus_f.max()
    return float(top + np.log(np.exp(minus_f - top).sum()))


def test_log_partition_checker_accepts_the_derivation():
    ex.check_log_partition(log_z)


@pytest.mark.parametrize("slip", [dict(naive=True), dict(drop_visible_bias=True)])
def test_log_partition_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_log_partition(lambda W, bv, b: log_z(W, bv, b, **slip))


def test_log_partition_checker_rejects_a_vector():
    with pytest.raises(AssertionError, match="one number"):
        ex.check_log_partition(lambda W, bv, b: np.zeros(2))
