"""Checkers for the exercises of the word2vec chapter.

``check_centre_gradient`` compares a student's gradient of the negative-sampling loss with
respect to the input (centre) vectors with the package's hand-derived one
(``word2vec.loss.negative_sampling``, verified against PyTorch in the chapter), on cases that
catch the usual slips: sigma(s_o) in place of sigma(s_o) - 1 (the sign of the positive term),
a noise term with sigma(-s_k), the sum over the K noise words forgotten or taken over the wrong
axis (B != K != d, so a wrong axis cannot even have the right shape), K = 1, one example, a
per-example upstream gradient, scores of +-800, and float32 (the result keeps the input's
dtype). The +-800 scores do not catch a plain 1 / (1 + exp(-s)): exp(800) = inf gives 1/inf = 0,
the right limit, so that answer passes (with an overflow warning). They catch the form
exp(s) / (1 + exp(s)), which gives inf/inf = nan.

``check_analogy`` checks a student's 3CosAdd solver against ``wordsim.solve_analogies`` on
vectors built so that the naive answers fail: each of the three question words must be
excluded (in the first cases b or c is the nearest row to the target; in the last, a, b and c
are near copies of one vector, so the target is close to all three and a solver that forgets
to exclude a answers a), the rows are normalised before the offset (raw vectors let a long
vector win), and the answer is the argmax of the cosine.
"""

import numpy as np

from deepglossary.exercises import compare, dtype_ok, passed
from deepglossary.word2vec.loss import negative_sampling
from deepglossary.wordsim import solve_analogies

# (B examples, K noise words, d, scale of the vectors, with an upstream gradient, dtype)
_GRAD_CASES = [(4, 3, 5, 1.0, False, np.float64), (1, 1, 2, 1.0, False, np.float64),
               (6, 2, 7, 1.0, True, np.float64), (3, 4, 2, 20.0, True, np.float64),
               (5, 3, 4, 1.0, True, np.float32)]


def check_centre_gradient(centre_gradient):
    """``centre_gradient(v, u_pos, u_neg, g)`` returns dL/dv (B, d) for
    ``L = sum_b g_b [-log sigma(u_pos_b . v_b) - sum_k log sigma(-u_neg_bk . v_b)]``.

    Shapes: v (B, d) input vectors, u_pos (B, d) output vectors of the observed words,
    u_neg (B, K, d) output vectors of the noise words, g (B,) upstream gradient; the result in
    v's dtype. Cases: B != K != d, K = 1, B = 1, a random g, scores of size several hundred,
    float32."""
    rng = np.random.default_rng(41)
    for B, K, d, scale, upstream, dtype in _GRAD_CASES:
        v = (scale * rng.standard_normal((B, d))).astype(dtype)
        u_pos = (scale * rng.standard_normal((B, d))).astype(dtype)
        u_neg = (scale * rng.standard_normal((B, K, d))).astype(dtype)
        g = (rng.standard_normal(B) if upstream else np.ones(B)).astype(dtype)
        expected = negative_sampling(v, u_pos, u_neg, g)[1]
        case = (f"B={B}, K={K}, d={d}, vectors scaled by {scale}, "
                f"{'random' if upstream else 'all-ones'} g, {np.dtype(dtype)}")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            got = centre_gradient(v.copy(), u_pos.copy(), u_neg.copy(), g.copy())
        if not np.all(np.isfinite(np.asarray(got, dtype=np.float64))):
            raise AssertionError(f"dL/dv has non-finite entries ({case}): compute the sigmoid "
                                 "without overflow for large |s|")
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
        compare("dL/dv", got, expected, case=case, **tol)
        dtype_ok("dL/dv", got, dtype, case)
    passed("centre_gradient", len(_GRAD_CASES))


def _analogy_cases(rng):
    """Vectors where b - a + c points at d, with traps: b is close to the target (so it wins
    unless excluded), and a long decoy vector wins the dot product without normalisation."""
    cases = []
    for V, dim in ((12, 6), (30, 10), (8, 4)):
        W = rng.standard_normal((V, dim))
        a, b, c, d = 0, 1, 2, 3
        W[d] = W[b] - W[a] + W[c] + 0.05 * rng.standard_normal(dim)
        W[4] = 40 * (W[b] - W[a] + W[c] + 0.9 * rng.standard_normal(dim))   # long decoy
        questions = np.array([[a, b, c], [b, a, d], [c, d, a]])
        cases.append((W, questions))
    W = rng.standard_normal((10, 6))                  # a, b, c near copies: b - a + c ~ a
    W[1:3] = W[0] + 0.05 * rng.standard_normal((2, 6))
    cases.append((W, np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1]])))
    return cases


def check_analogy(solve):
    """``solve(W, a, b, c)`` returns, for each question, the row d maximising
    cos(W[d], W_hat[b] - W_hat[a] + W_hat[c]) over all rows except a, b and c (W_hat: the rows
    of W divided by their norms). Shapes: W (V, dim); a, b, c (n,) ints; result (n,) ints."""
    rng = np.random.default_rng(42)
    cases = _analogy_cases(rng)
    for number, (W, q) in enumerate(cases):
        expected = solve_analogies(W, q[:, 0], q[:, 1], q[:, 2])
        got = np.asarray(solve(W.copy(), q[:, 0].copy(), q[:, 1].copy(), q[:, 2].copy()))
        case = f"case {number}: V={len(W)}, questions (a, b, c) = {q.tolist()}"
        if got.shape == expected.shape and any(got[i] in q[i] for i in range(len(q))):
            raise AssertionError(f"an answer is one of its question's own words ({case}): "
                                 "exclude a, b and c from the candidates")
        compare("answers", got, expected, case=case, rtol=0, atol=0)
    passed("3CosAdd analogy solver", len(cases))
