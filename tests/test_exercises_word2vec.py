"""The word2vec exercise checkers accept a correct answer and reject the naive wrong ones."""

import numpy as np
import pytest

from deepglossary.exercises.word2vec import check_analogy, check_centre_gradient
from deepglossary.word2vec.loss import sigmoid


def good_gradient(v, u_pos, u_neg, g):
    s_pos = np.einsum("bd,bd->b", v, u_pos)
    s_neg = np.einsum("bkd,bd->bk", u_neg, v)
    d_pos = (sigmoid(s_pos) - 1) * g
    d_neg = sigmoid(s_neg) * g[:, None]
    return d_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", d_neg, u_neg)


def wrong_sign(v, u_pos, u_neg, g):               # sigma(s_o) instead of sigma(s_o) - 1
    s_pos = np.einsum("bd,bd->b", v, u_pos)
    s_neg = np.einsum("bkd,bd->bk", u_neg, v)
    return ((sigmoid(s_pos) * g)[:, None] * u_pos
            + np.einsum("bk,bkd->bd", sigmoid(s_neg) * g[:, None], u_neg))


def naive_sigmoid(v, u_pos, u_neg, g):            # 1 / (1 + exp(-s)) overflows at s = -800
    s_pos = np.einsum("bd,bd->b", v, u_pos)
    s_neg = np.einsum("bkd,bd->bk", u_neg, v)
    sig = lambda x: 1 / (1 + np.exp(-x))          # noqa: E731
    d_pos = (sig(s_pos) - 1) * g
    return d_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", sig(s_neg) * g[:, None], u_neg)


def forgets_upstream(v, u_pos, u_neg, g):
    return good_gradient(v, u_pos, u_neg, np.ones_like(g))


def float64_result(v, u_pos, u_neg, g):
    return good_gradient(v.astype(np.float64), u_pos.astype(np.float64),
                         u_neg.astype(np.float64), g.astype(np.float64))


def test_centre_gradient_checker(capsys):
    check_centre_gradient(good_gradient)
    assert "correct on all 5" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="dL/dv: values differ"):
        check_centre_gradient(wrong_sign)
    with pytest.raises(AssertionError, match="dL/dv: values differ"):
        check_centre_gradient(forgets_upstream)
    with pytest.raises(AssertionError, match="dtype float64, expected float32"):
        check_centre_gradient(float64_result)


def test_a_plain_sigmoid_is_not_a_mistake():
    # np.exp(800) is inf and 1 / (1 + inf) = 0 is the right limit: this answer is correct
    check_centre_gradient(naive_sigmoid)


def good_solver(W, a, b, c):
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    scores = (unit[b] - unit[a] + unit[c]) @ unit.T
    rows = np.arange(len(a))
    for q in (a, b, c):
        scores[rows, q] = -np.inf
    return scores.argmax(1)


def no_exclusion(W, a, b, c):
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    return ((unit[b] - unit[a] + unit[c]) @ unit.T).argmax(1)


def no_normalisation(W, a, b, c):
    scores = (W[b] - W[a] + W[c]) @ W.T
    rows = np.arange(len(a))
    for q in (a, b, c):
        scores[rows, q] = -np.inf
    return scores.argmax(1)


def forgets_a(W, a, b, c):
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    scores = (unit[b] - unit[a] + unit[c]) @ unit.T
    rows = np.arange(len(a))
    for q in (b, c):
        scores[rows, q] = -np.inf
    return scores.argmax(1)


def test_analogy_checker(capsys):
    check_analogy(good_solver)
    assert "correct on all 4" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="one of its question's own words"):
        check_analogy(forgets_a)
    with pytest.raises(AssertionError, match="one of its question's own words"):
        check_analogy(no_exclusion)
    with pytest.raises(AssertionError, match="answers: values differ"):
        check_analogy(no_normalisation)
