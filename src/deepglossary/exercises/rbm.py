"""Checkers for the exercises of the Restricted Boltzmann Machine chapter.

``check_free_energy`` compares the student's free energy F(x) with ``rbm.RBM.free_energy``
(derived in the chapter, verified against torch) on cases that catch the usual slips: the
visible bias term forgotten (zero biases hide it), the softplus written ``log(1 + exp(z))``
(it overflows to inf once a pre-activation passes about 710 in float64, 89 in float32: the float64
and the float32 case with large positive weights catch it), a sign slip, and a float32 input
returned as float64. ``check_log_partition`` compares log Z, summed over the 2^H hidden states,
with ``rbm.log_partition``, on RBMs with large weights, where summing exp(-F) directly overflows,
and on an RBM of 784 visible and 12 hidden units, where summing over the 2^784 images is
impossible. ``check_variational_bound`` (Deep Belief Network chapter)
compares the student's bound on log p(x) of a two-layer DBN with ``dbn.variational_bound``,
including an RBM with large weights, whose posterior has probabilities that are exactly 0 in
floating point (where q log q must count as 0, not NaN), and checks that it is a lower bound.
"""

import numpy as np

from deepglossary.dbn import two_layer_log_likelihood, variational_bound
from deepglossary.exercises import compare, passed
from deepglossary.rbm import RBM, all_states, log_partition

# (N rows, D visible, H hidden, weight scale, with biases, dtype); a negative scale means
# weights |scale| * |N(0, 1)|, all positive, so that x = all ones gives pre-activations of
# thousands (the naive softplus overflows in float64 too)
_CASES = [(5, 6, 4, 1.0, True, np.float64), (1, 3, 7, 0.5, True, np.float64),
          (4, 4, 4, 2.0, True, np.float64), (6, 5, 3, 1.0, False, np.float64),
          (3, 8, 2, 400.0, True, np.float64), (3, 8, 2, -400.0, True, np.float64),
          (5, 6, 4, 1.0, True, np.float32), (3, 8, 2, 60.0, True, np.float32),
          (3, 8, 2, -60.0, True, np.float32)]


def _rbm(d, h, scale, biases, dtype, rng):
    m = RBM(d, h, dtype=dtype, rng=rng, std=abs(scale))
    if scale < 0:
        m.weight.data[:] = np.abs(m.weight.data)
    if biases:
        m.visible_bias.data[:] = rng.standard_normal(d)
        m.hidden_bias.data[:] = rng.standard_normal(h)
    return m


def check_free_energy(free_energy):
    """``free_energy(x, W, b_vis, b)`` returns F(x) = -b_vis.x - sum_j softplus((W x + b)_j)
    for each row of x.

    Shape: x (N, D) with 0/1 entries, W (H, D), b_vis (D,), b (H,) -> (N,), in x's dtype."""
    rng = np.random.default_rng(11)
    for n, d, h, scale, biases, dtype in _CASES:
        m = _rbm(d, h, scale, biases, dtype, rng)
        x = (rng.random((n, d)) < 0.5).astype(dtype)
        x[0] = 1                                   # all on: the largest pre-activations
        expected = m.free_energy(x)
        weights = f"|N(0,1)| x{-scale}" if scale < 0 else f"x{scale}"
        case = f"N={n}, D={d}, H={h}, weights {weights}, biases={biases}, {np.dtype(dtype).name}"
        with np.errstate(over="ignore", invalid="ignore"):
            got = np.asarray(free_energy(x.copy(), m.weight.data.copy(),
                                         m.visible_bias.data.copy(), m.hidden_bias.data.copy()))
        if got.shape == expected.shape and not np.isfinite(got).all():
            raise AssertionError(f"F(x) has inf or NaN entries ({case}): does log(1 + exp(z)) "
                                 "overflow for a large z?")
        if got.dtype != np.dtype(dtype):
            raise AssertionError(f"F(x) has dtype {got.dtype}, expected {np.dtype(dtype)} "
                                 f"({case})")
        tol = dict(rtol=1e-5, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
        compare("F(x)", got, expected, case=case, **tol)
    return passed("free energy", len(_CASES))


def check_log_partition(log_z):
    """``log_z(W, b_vis, b)`` returns log Z of the RBM, summed over its 2^H hidden states
    (H <= 12 here), as a float. One case has D = 784 visible units: a sum over the 2^784
    images cannot be computed, only the sum over the 2^12 hidden states.

    Shape: W (H, D), b_vis (D,), b (H,) -> a scalar."""
    rng = np.random.default_rng(12)
    cases = [(6, 4, 1.0), (3, 5, 0.3), (10, 2, 1.0), (4, 8, 3.0), (6, 3, 3000.0), (1, 1, 1.0),
             (784, 12, 1.0)]
    for d, h, scale in cases:
        m = _rbm(d, h, scale, True, np.float64, rng)
        expected = log_partition(m)
        case = f"D={d}, H={h}, weights x{scale}"
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                got = log_z(m.weight.data.copy(), m.visible_bias.data.copy(),
                            m.hidden_bias.data.copy())
            except (MemoryError, ValueError, OverflowError) as err:
                raise AssertionError(f"log Z failed ({case}): {type(err).__name__}: {err}. "
                                     f"Sum over the 2^{h} hidden states, not the 2^{d} "
                                     "visible ones") from err
        if np.ndim(got) != 0:
            raise AssertionError(f"log Z must be one number, got shape {np.shape(got)} ({case})")
        if not np.isfinite(got):
            raise AssertionError(f"log Z is {got} ({case}): does exp(-F) overflow? Subtract "
                                 "the largest -F before exponentiating (log-sum-exp)")
        compare("log Z", float(got), expected, case=case, rtol=1e-10, atol=1e-10)
    return passed("log partition function", len(cases))


def check_variational_bound(bound):
    """``bound(x, rbm1, rbm2)`` returns, for each row of x, the lower bound
    sum_h1 q(h1|x) [log p(x|h1) + log p2(h1) - log q(h1|x)] on log p(x) of the DBN whose top
    RBM ``rbm2`` models h1 and whose lower RBM ``rbm1`` gives p(x | h1) and q(h1 | x).

    Shape: x (N, D) with 0/1 entries -> (N,)."""
    rng = np.random.default_rng(13)
    cases = [(6, 4, 3, 1.0), (5, 3, 2, 0.5), (4, 5, 4, 2.0), (6, 4, 3, 60.0)]
    for d, h1, h2, scale in cases:
        rbm1, rbm2 = (_rbm(d, h1, scale, True, np.float64, rng),
                      _rbm(h1, h2, 1.0, True, np.float64, rng))
        x = all_states(d)[rng.permutation(2 ** d)[:6]]
        expected = variational_bound(x, rbm1, rbm2)
        case = f"D={d}, H1={h1}, H2={h2}, lower weights x{scale}"
        with np.errstate(all="ignore"):
            got = np.asarray(bound(x.copy(), rbm1, rbm2))
        if got.shape == expected.shape and not np.isfinite(got).all():
            raise AssertionError(f"the bound has NaN or inf entries ({case}): where q(h1|x) is "
                                 "0, q log q must be 0 (and log p(x|h1) computed without log 0)")
        compare("bound", got, expected, case=case, rtol=1e-8, atol=1e-8)
        if (got > two_layer_log_likelihood(x, rbm1, rbm2) + 1e-9).any():
            raise AssertionError(f"the bound exceeds log p(x) ({case})")
    return passed("variational bound", len(cases))
