"""Checkers for the exercises of the Noise-Contrastive Estimation chapter.

``check_nce_grad`` compares a student's gradient of the NCE loss with ``losses.NCE.backward``
(derived in the chapter, verified against torch) on cases chosen to catch the usual slips:
the 1/N of the mean forgotten (one example hides it), a mean over the k + 1 columns instead
of a sum, the target of the true word left out (sigma(Delta) everywhere), the signs of the
noise columns flipped, log(k P_n(y)) dropped (that is negative sampling; zero offsets hide
it, so most cases have others), and float32 (the result keeps the input's dtype).

``check_sampler`` draws from a student's sampler and compares the frequencies with the
distribution: unnormalised weights (counts), weights of 0 at the start, in the middle and at
the end (never to be drawn), one word with all the weight, float32 weights, and int64 ids
of the requested shape.
"""

import numpy as np

from deepglossary.exercises import compare, dtype_ok, passed
from deepglossary.nce.loss import NCE

# (N, k, scale of the scores, offsets all zero? (then k = K = 20), dtype)
_GRAD_CASES = [(6, 4, 1.0, False, np.float64), (1, 3, 2.0, False, np.float64),
               (5, 1, 1.0, False, np.float64), (4, 6, 30.0, False, np.float64),
               (3, 2, 1.0, True, np.float64), (8, 5, 1.5, False, np.float32)]


def check_nce_grad(nce_grad):
    """``nce_grad(scores, log_kq)`` returns dL/dscores (N, k + 1) for the NCE loss
    L = (1/N) sum_n [softplus(-Delta_n0) + sum_{j>=1} softplus(Delta_nj)] with
    Delta = scores - log_kq (the normaliser fixed, c_Z = 0).

    Shapes: scores (N, k + 1), column 0 the true word's score, columns 1..k the noise words';
    log_kq (N, k + 1), log(k P_n(y)) of each scored word. The result keeps scores' dtype."""
    rng = np.random.default_rng(14)
    for n, k, scale, zero, dtype in _GRAD_CASES:
        vocab = 20
        if zero:                                  # uniform P_n and k = K: log(k P_n) = 0
            q, k_used = np.full(vocab, 1.0 / vocab), vocab
        else:
            q, k_used = rng.random(vocab) + 0.05, k
            q /= q.sum()
        words = rng.integers(0, vocab, (n, k_used + 1))
        scores = (scale * rng.standard_normal((n, k_used + 1))).astype(dtype)
        loss = NCE(q, k_used)
        loss(scores, words)
        expected = loss.backward()
        log_kq = (np.log(k_used) + np.log(q)[words]).astype(dtype)
        case = (f"N={n}, k={k_used}, scores of size about {scale}, "
                f"{'log(k P_n) = 0 everywhere' if zero else 'log(k P_n) != 0'}, "
                f"{np.dtype(dtype).name}")
        got = np.asarray(nce_grad(scores.copy(), log_kq.copy()))
        tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
        compare("dL/dscores", got, expected, case=case, **tol)
        dtype_ok("dL/dscores", got, dtype, case)
    passed("NCE gradient", len(_GRAD_CASES))


_SAMPLER_CASES = [
    ("word counts, not normalised", np.array([120.0, 30.0, 50.0, 800.0, 0.0, 0.0])),
    ("weight 0 at the start, middle and end", np.array([0.0, 0.3, 0.0, 0.0, 0.6, 0.1, 0.0])),
    ("one word has all the weight", np.array([0.0, 0.0, 2.5, 0.0])),
    ("float32 probabilities", np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)),
    ("a flat distribution over 50 words", np.ones(50)),
]


def check_sampler(sample):
    """``sample(weights, shape, rng)`` returns int64 word ids of ``shape``, drawn
    independently with P(y) = weights[y] / sum(weights).

    Shapes: weights (K,) non-negative floats, not necessarily normalised; rng a NumPy
    Generator. Checked with 200,000 draws per case: every id in [0, K), no word of weight 0
    ever drawn, and each frequency within 5 standard errors of its probability."""
    draws = 200_000
    for name, weights in _SAMPLER_CASES:
        p = weights.astype(np.float64) / weights.astype(np.float64).sum()
        try:
            ids = np.asarray(sample(weights.copy(), (draws // 100, 100),
                                    np.random.default_rng(3)))
        except Exception as err:                       # noqa: BLE001 (report, do not crash)
            raise AssertionError(f"sample raised {type(err).__name__}: {err} ({name})") from err
        if ids.shape != (draws // 100, 100):
            raise AssertionError(f"expected ids of shape {(draws // 100, 100)}, got {ids.shape} "
                                 f"({name})")
        dtype_ok("word ids", ids, np.int64, name)
        if ids.min() < 0 or ids.max() >= len(p):
            raise AssertionError(f"ids must lie in [0, {len(p)}), got [{ids.min()}, {ids.max()}] "
                                 f"({name})")
        freq = np.bincount(ids.ravel(), minlength=len(p)) / draws
        if (freq[p == 0] > 0).any():
            drawn = np.flatnonzero((p == 0) & (freq > 0))
            raise AssertionError(f"words of weight 0 were drawn: {drawn} ({name})")
        allowed = 5 * np.sqrt(p * (1 - p) / draws) + 1e-12
        worst = int(np.argmax(np.abs(freq - p) - allowed))
        if abs(freq[worst] - p[worst]) > allowed[worst]:
            raise AssertionError(f"word {worst} drawn with frequency {freq[worst]:.4f}, its "
                                 f"probability is {p[worst]:.4f} ({name})")
    passed("noise sampler", len(_SAMPLER_CASES))
