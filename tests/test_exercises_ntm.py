"""The NTM chapter's checkers accept right answers and reject the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import ntm


def shift(w, s, *, sign=1, wrap=True):
    """out[i] = sum_k s[k] w[i - o_k]; ``sign=-1`` shifts the wrong way, ``wrap=False`` lets
    the weight fall off the end."""
    half = s.shape[1] // 2
    out = np.zeros_like(w)
    for k in range(s.shape[1]):
        o = sign * (k - half)
        moved = np.roll(w, o, axis=1)
        if not wrap and o > 0:
            moved[:, :o] = 0
        if not wrap and o < 0:
            moved[:, o:] = 0
        out += s[:, k:k + 1] * moved
    return out


def three_only(w, s):
    return s[:, 0:1] * np.roll(w, -1, 1) + s[:, 1:2] * w + s[:, 2:3] * np.roll(w, 1, 1)


def test_shift_checker_accepts_the_formula():
    ntm.check_shift(shift)


@pytest.mark.parametrize("wrong", [
    lambda w, s: shift(w, s, sign=-1),                  # correlation, not convolution
    lambda w, s: shift(w, s, wrap=False),               # no wrap-around
    three_only,                                          # offsets -1, 0, 1 hard-coded
    lambda w, s: shift(w, s).astype(np.float64),         # float32 lost
])
def test_shift_checker_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        ntm.check_shift(wrong)


def sharpen_backward(w, gamma, grad, *, normalise=True, with_gamma=True):
    u = w ** gamma
    z = u.sum(-1, keepdims=True)
    y = u / z
    du = (grad - (grad * y).sum(-1, keepdims=True)) / z if normalise else grad / z
    with np.errstate(divide="ignore", invalid="ignore"):
        logw = np.where(w > 0, np.log(np.where(w > 0, w, 1)), 0.0)
        dw = du * gamma * np.where(w > 0, np.where(w > 0, w, 1) ** (gamma - 1),
                                   (gamma == 1).astype(w.dtype))
    dgamma = (du * u * logw).sum(-1, keepdims=True) if with_gamma else np.zeros_like(gamma)
    return dw.astype(w.dtype), dgamma.astype(w.dtype)


def naive_log(w, gamma, grad):
    u = w ** gamma
    z = u.sum(-1, keepdims=True)
    du = (grad - (grad * u / z).sum(-1, keepdims=True)) / z
    with np.errstate(divide="ignore", invalid="ignore"):
        return du * gamma * w ** (gamma - 1), (du * u * np.log(w)).sum(-1, keepdims=True)


def zero_where_zero(w, gamma, grad):
    """Sets dw = 0 wherever w = 0: right for gamma > 1, wrong at gamma = 1 (w^0 = 1)."""
    dw, dgamma = sharpen_backward(w, gamma, grad)
    return np.where(w > 0, dw, 0).astype(w.dtype), dgamma


def test_sharpen_checker_accepts_the_derivation():
    ntm.check_sharpen_backward(sharpen_backward)


@pytest.mark.parametrize("wrong", [
    lambda w, g, d: sharpen_backward(w, g, d, normalise=False),   # the sum's term forgotten
    lambda w, g, d: sharpen_backward(w, g, d, with_gamma=False),  # gamma gets no gradient
    naive_log,                                                    # 0 * log 0 = NaN
    zero_where_zero,                                              # dw = 0 at w = 0, gamma = 1
    lambda w, g, d: sharpen_backward(w, g, d)[0],                 # only one result
])
def test_sharpen_checker_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        ntm.check_sharpen_backward(wrong)
