"""Checkers for the exercises of the Recurrent Neural Network chapter."""

import numpy as np

from deepglossary.exercises import compare, passed


def _call(fn, case, *args):
    """``fn(*args)``; an exception it raises becomes an AssertionError naming the case."""
    try:
        return fn(*args)
    except Exception as err:
        raise AssertionError(f"your function raised {type(err).__name__}: {err} ({case})") \
            from err


def _rnn_step_reference(x, h, w_ih, w_hh, b_ih, b_hh):
    return np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def check_rnn_step(rnn_step):
    """``rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh)`` returns the next hidden state
    of an Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), for a batch: x (N, D),
    h (N, H), weight_ih (H, D), weight_hh (H, H), biases (H,); the result (N, H) in x's dtype.

    Checked against that formula on: D != H (a transposed weight fails on shape), D == H (a
    transposed or swapped weight would fit the shapes: the values catch it), one example
    (N = 1), a zero state (the first step), both biases nonzero (dropping one is caught),
    pre-activations in the hundreds (tanh saturates to +-1; a hand-made tanh from exp
    overflows to NaN), and float32 (the result must stay float32)."""
    rng = np.random.default_rng(5)
    cases = [(4, 3, 5, 1.0, "D != H", np.float64), (3, 4, 4, 1.0, "D == H", np.float64),
             (1, 6, 2, 1.0, "one example", np.float64), (5, 2, 3, 0.0, "zero state", np.float64),
             (3, 5, 5, 300.0, "saturated (pre-activations in the hundreds)", np.float64),
             (2, 3, 4, 1.0, "float32", np.float32)]
    for n, d, hid, scale, name, dtype in cases:
        x = (rng.standard_normal((n, d)) * scale).astype(dtype)
        h = (rng.standard_normal((n, hid)) * (scale if scale else 0)).astype(dtype)
        w_ih = rng.standard_normal((hid, d)).astype(dtype)
        w_hh = rng.standard_normal((hid, hid)).astype(dtype)
        b_ih, b_hh = (rng.standard_normal(hid).astype(dtype) for _ in range(2))
        case = f"{name}: x {x.shape}, h {h.shape}, {np.dtype(dtype).name}"
        got = np.asarray(_call(rnn_step, case, x.copy(), h.copy(), w_ih.copy(), w_hh.copy(),
                               b_ih.copy(), b_hh.copy()))
        if got.dtype != dtype:
            raise AssertionError(f"the new state has dtype {got.dtype}, expected "
                                 f"{np.dtype(dtype)} ({case})")
        compare("h'", got, _rnn_step_reference(x, h, w_ih, w_hh, b_ih, b_hh), case=case,
                rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6)
    return passed("one RNN step", len(cases))


def _perplexity_reference(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(np.exp(-logp[np.arange(len(targets)), targets].mean()))


def check_perplexity(perplexity):
    """``perplexity(logits, targets)`` returns exp of the mean negative log-probability of the
    targets, logits (T, K) unnormalised scores for T steps, targets (T,) class indices; a float.

    Checked on: uniform logits (perplexity K exactly), near-certain right answers (close to 1),
    one step (T = 1), logits offset by 1000 (a softmax without the maximum subtracted
    overflows), float32 logits, and random cases in which the geometric mean of the target
    probabilities (the right definition) and their arithmetic mean differ, so that
    1 / mean(p) is caught, as is averaging over the classes instead of the steps."""
    rng = np.random.default_rng(6)
    cases = [(np.zeros((5, 7)), rng.integers(0, 7, 5), "uniform logits: K"),
             (np.eye(4)[[0, 2, 1, 3]] * 30, np.array([0, 2, 1, 3]), "nearly certain"),
             (rng.standard_normal((1, 6)), np.array([4]), "one step"),
             (rng.standard_normal((6, 5)) * 3 + 1000, rng.integers(0, 5, 6), "offset by 1000"),
             (rng.standard_normal((8, 5)).astype(np.float32) * 2, rng.integers(0, 5, 8),
              "float32")]
    cases += [(rng.standard_normal((t, k)) * 2, rng.integers(0, k, t), "random")
              for t, k in ((9, 3), (4, 11), (20, 6))]
    for logits, targets, name in cases:
        case = f"{name}: logits of shape {logits.shape}"
        got = _call(perplexity, case, logits.copy(), targets.copy())
        if np.ndim(got) != 0:
            raise AssertionError(f"perplexity should be one number, got shape {np.shape(got)} "
                                 f"({case})")
        expected = _perplexity_reference(logits, targets)
        if not np.isfinite(got) or not np.isclose(float(got), expected, rtol=1e-5):
            raise AssertionError(f"perplexity: expected {expected:.6g}, got {got} ({case})")
    return passed("perplexity", len(cases))
