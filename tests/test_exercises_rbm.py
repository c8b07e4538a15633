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


def bound(x, rbm1, rbm2, *, entropy=True, normalised=True, naive_log=False):
    from deepglossary.rbm import all_states, log_partition

    h1 = all_states(rbm1.n_hidden)
    px = rbm1.visible_probs(h1)                                              # (S, D)
    q_j = rbm1.hidden_probs(x)                                               # (N, H1)
    with np.errstate(divide="ignore"):
        log = np.log if naive_log else (lambda a: np.log(np.maximum(a, 1e-300)))
        log_px_h = x @ log(px).T + (1 - x) @ log(1 - px).T
        q = np.prod(np.where(h1[None] == 1, q_j[:, None], 1 - q_j[:, None]), axis=2)   # (N, S)
        log_q = np.log(q) if naive_log else None
    if not naive_log:
        from deepglossary.dbn import _log_sigmoid
        a = x @ rbm1.weight.data.T + rbm1.hidden_bias.data
        log_q = _log_sigmoid(a) @ h1.T + _log_sigmoid(-a) @ (1 - h1).T
        a_down = h1 @ rbm1.weight.data + rbm1.visible_bias.data
        log_px_h = x @ _log_sigmoid(a_down).T + (1 - x) @ _log_sigmoid(-a_down).T
        q = np.exp(log_q)
    log_p2 = -rbm2.free_energy(h1) - (log_partition(rbm2) if normalised else 0)
    return (q * (log_px_h + log_p2 - (log_q if entropy else 0))).sum(axis=1)


def test_bound_checker_accepts_the_derivation():
    ex.check_variational_bound(bound)


@pytest.mark.parametrize("slip", [dict(entropy=False), dict(normalised=False),
                                  dict(naive_log=True)])
def test_bound_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_variational_bound(lambda x, r1, r2: bound(x, r1, r2, **slip))


def test_free_energy_checker_rejects_naive_softplus_in_float64():
    # upcasting to float64 dodges the float32 case; the float64 case with large positive
    # weights (pre-activations of thousands) must still catch log(1 + exp(z))
    def upcast_naive(x, W, b_vis, b):
        z = (x @ W.T + b).astype(np.float64)
        return (-(x @ b_vis) - np.log(1 + np.exp(z)).sum(axis=1)).astype(x.dtype)

    with pytest.raises(AssertionError, match="float64"):
        ex.check_free_energy(upcast_naive)


def test_log_partition_checker_rejects_the_visible_sum():
    # summing exp(-F(x)) over the 2^D images is right for small D, impossible for D = 784
    from deepglossary.rbm import all_states

    def visible_sum(W, b_vis, b):
        xs = all_states(len(b_vis))                                     # (2^D, D)
        minus_f = xs @ b_vis + softplus(xs @ W.T + b).sum(axis=1)
        top = minus_f.max()
        return float(top + np.log(np.exp(minus_f - top).sum()))

    with pytest.raises(AssertionError, match="D=784"):
        ex.check_log_partition(visible_sum)
