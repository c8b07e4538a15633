"""The Recurrent Neural Network chapter's checkers accept right answers and reject naive ones."""

import numpy as np
import pytest

from deepglossary import nn
from deepglossary.exercises import rnn


def step_right(x, h, w_ih, w_hh, b_ih, b_hh):
    return np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def step_by_the_package(x, h, w_ih, w_hh, b_ih, b_hh):
    cell = nn.RNNCell(x.shape[1], h.shape[1], dtype=x.dtype)
    for name, value in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih),
                        ("bias_hh", b_hh)):
        getattr(cell, name).data[...] = value
    return cell(x, h)


def step_untransposed(x, h, w_ih, w_hh, b_ih, b_hh):     # fits when D == H
    return np.tanh(x @ w_ih + b_ih + h @ w_hh + b_hh)


def step_swapped(x, h, w_ih, w_hh, b_ih, b_hh):          # W_hh on x, W_ih on h
    return np.tanh(x @ w_hh.T + b_ih + h @ w_ih.T + b_hh)


def step_one_bias(x, h, w_ih, w_hh, b_ih, b_hh):
    return np.tanh(x @ w_ih.T + h @ w_hh.T + b_hh)


def step_hand_tanh(x, h, w_ih, w_hh, b_ih, b_hh):        # overflows when saturated
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    with np.errstate(over="ignore", invalid="ignore"):
        return (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1)


def step_float64(x, h, w_ih, w_hh, b_ih, b_hh):
    return step_right(*(a.astype(np.float64) for a in (x, h, w_ih, w_hh, b_ih, b_hh)))


def step_sigmoid(x, h, w_ih, w_hh, b_ih, b_hh):
    return 1 / (1 + np.exp(-(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)))


def test_rnn_step_checker():
    rnn.check_rnn_step(step_right)
    rnn.check_rnn_step(step_by_the_package)
    for wrong in (step_untransposed, step_swapped, step_one_bias, step_hand_tanh, step_float64,
                  step_sigmoid):
        with pytest.raises(AssertionError):
            rnn.check_rnn_step(wrong)


def ppl_right(logits, targets):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(np.exp(-logp[np.arange(len(targets)), targets].mean()))


def ppl_bits(logits, targets):                           # base 2 throughout: the same number
    z = logits - logits.max(axis=1, keepdims=True)
    log2p = (z - np.log(np.exp(z).sum(axis=1, keepdims=True))) / np.log(2)
    return float(2 ** (-log2p[np.arange(len(targets)), targets].mean()))


def ppl_naive_softmax(logits, targets):                  # overflows for large logits
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return float(np.exp(-np.log(p[np.arange(len(targets)), targets]).mean()))


def ppl_arithmetic(logits, targets):                     # 1 / mean(p), not the geometric mean
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return float(1 / p[np.arange(len(targets)), targets].mean())


def ppl_over_classes(logits, targets):                   # mean over every entry, not the targets
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(np.exp(-logp.mean()))


def ppl_no_exp(logits, targets):                         # the cross-entropy itself
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(targets)), targets].mean())


def test_perplexity_checker():
    rnn.check_perplexity(ppl_right)
    rnn.check_perplexity(ppl_bits)
    for wrong in (ppl_naive_softmax, ppl_arithmetic, ppl_over_classes, ppl_no_exp):
        with pytest.raises(AssertionError):
            rnn.check_perplexity(wrong)
