"""Checkers for the exercises of the Autoencoder chapter.

``check_kl_sparsity_grad`` compares the student's gradient of the KL sparsity penalty with
``autoencoder.KLSparsity.backward`` (derived in the chapter, verified against torch) on cases
that catch the usual slips: the 1/N of the mean forgotten (one example hides it), lambda
left out (lambda = 1 hides it), a sign slip, one entry per unit (D_c,) instead of per example
(N, D_c), mu_target = 0.5 (where the two log terms balance), float32 (the result keeps the
input's dtype), and an input changed in place. ``check_principal_angles`` compares with
``autoencoder.principal_angles`` on bases that are not orthonormal, of different sizes, and
spanning the same subspace (where the arccosine of a cosine near 1 loses half the digits),
and two lines 1e-9 short of orthogonal (where the arcsine of a sine near 1 does).
"""

import numpy as np

from deepglossary.autoencoder import KLSparsity, principal_angles
from deepglossary.exercises import compare, passed

# (N examples, D_c code units, mu_target, lambda, dtype)
_KL_CASES = [(6, 4, 0.05, 1.0, np.float64), (1, 3, 0.1, 2.0, np.float64),
             (5, 1, 0.5, 1.0, np.float64), (8, 3, 0.2, 3.0, np.float64),
             (4, 5, 0.9, 0.5, np.float64), (7, 2, 0.05, 0.0, np.float64),
             (6, 3, 0.1, 1.5, np.float32)]


def _code(n, k, dtype, rng):
    """A sigmoid code (N, D_c): every entry in (0, 1), the units' means spread out."""
    z = rng.standard_normal((n, k)) * 2 + rng.uniform(-2, 2, size=k)
    return (1 / (1 + np.exp(-z))).astype(dtype)


def check_kl_sparsity_grad(kl_sparsity_grad):
    """``kl_sparsity_grad(h, rho, beta)`` returns d(lambda R)/dh, shape (N, D_c), for
    lambda R(h) = lambda * sum_j KL(mu_target || mu_j) with mu_j = mean over n of h_nj,
    where ``rho`` = mu_target and ``beta`` = lambda.

    Shape: h (N, D_c) with entries in (0, 1); mu_target in (0, 1); lambda >= 0. The result must keep
    h's dtype and leave h unchanged."""
    rng = np.random.default_rng(5)
    cases = 0
    for n, k, rho, beta, dtype in _KL_CASES:
        h = _code(n, k, dtype, rng)
        penalty = KLSparsity(rho, beta)
        penalty(h)
        expected = penalty.backward(1.0)
        given = h.copy()
        got = kl_sparsity_grad(given, rho, beta)
        case = f"N={n}, D_c={k}, mu_target={rho}, lambda={beta}, {np.dtype(dtype).name}"
        if not np.array_equal(given, h):
            raise AssertionError(f"kl_sparsity_grad changed its input h in place ({case})")
        got = np.asarray(got)
        if got.dtype != np.dtype(dtype):
            raise AssertionError(f"the gradient has dtype {got.dtype}, expected "
                                 f"{np.dtype(dtype)} ({case})")
        tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
        compare("d(lambda R)/dh", got, expected, case=case, **tol)
        cases += 1
    return passed("KL sparsity gradient", cases)


def check_principal_angles(angles):
    """``angles(a, b)`` returns the principal angles, in radians and ascending, between the
    column spaces of ``a`` (D, k) and ``b`` (D, l): min(k, l) of them.

    Compared to 1e-10 radians, on bases that are not orthonormal, k != l, 1-D spaces,
    orthogonal spaces (angles pi/2), one subspace given by two different bases (angles 0:
    an arccosine alone is off by about 1e-8 there), and two lines at pi/2 - 1e-9, compared to
    1e-12 radians (an arcsine alone returns pi/2 there, 1e-9 off)."""
    rng = np.random.default_rng(8)
    cases = []
    a = rng.standard_normal((7, 3))
    cases.append(("random 3-D and 3-D, not orthonormal", a, rng.standard_normal((7, 3))))
    cases.append(("3-D and 2-D", a, rng.standard_normal((7, 2))))
    cases.append(("2-D and 4-D", rng.standard_normal((9, 2)), rng.standard_normal((9, 4))))
    cases.append(("two lines", rng.standard_normal((5, 1)), rng.standard_normal((5, 1))))
    scaled = a * np.array([1e3, 1.0, 1e-3])
    cases.append(("columns of very different lengths", scaled, rng.standard_normal((7, 3))))
    cases.append(("the same subspace, another basis", a, a @ rng.standard_normal((3, 3))))
    e = np.eye(6)
    cases.append(("orthogonal subspaces", e[:, :2], e[:, 2:5]))
    for name, x, y in cases:
        expected = principal_angles(x, y)
        got = np.asarray(angles(x.copy(), y.copy()), dtype=np.float64)
        compare("angles", got, expected, case=name, rtol=1e-8, atol=1e-10)
    # nearly orthogonal lines: the sine is 1 - 5e-19, which rounds to 1, so arcsin gives pi/2
    eps = 1e-9
    line_a, line_b = e[:, :1], np.cos(eps) * e[:, 1:2] + np.sin(eps) * e[:, :1]   # angle pi/2 - eps
    expected = principal_angles(line_a, line_b)
    got = np.asarray(angles(line_a.copy(), line_b.copy()), dtype=np.float64)
    compare("angles", got, expected, case="two lines at pi/2 - 1e-9", rtol=0, atol=1e-12)
    return passed("principal angles", len(cases) + 1)
