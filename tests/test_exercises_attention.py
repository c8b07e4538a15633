"""The Attention Mechanism chapter's checkers accept a right answer and reject the naive
wrong ones."""

import math

import numpy as np
import pytest

from deepglossary.exercises.attention import check_attention_backward, check_split_heads


def _forward(q, k, v):
    e = q.shape[-1]
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(e)
    w = np.exp(s - s.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def right_backward(q, k, v, g):
    w = _forward(q, k, v)
    dw = g @ np.swapaxes(v, -1, -2)
    ds = w * (dw - (dw * w).sum(-1, keepdims=True)) / math.sqrt(q.shape[-1])
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, np.swapaxes(w, -1, -2) @ g


def elementwise_softmax_backward(q, k, v, g):        # w (1 - w): the diagonal only
    w = _forward(q, k, v)
    ds = w * (1 - w) * (g @ np.swapaxes(v, -1, -2)) / math.sqrt(q.shape[-1])
    return ds @ k, np.swapaxes(ds, -1, -2) @ q, np.swapaxes(w, -1, -2) @ g


def forgotten_scale(q, k, v, g):
    dq, dk, dv = right_backward(q, k, v, g)
    return dq * math.sqrt(q.shape[-1]), dk * math.sqrt(q.shape[-1]), dv


def float64_always(q, k, v, g):
    return tuple(a.astype(np.float64) for a in right_backward(q, k, v, g))


def scale_on_dq_only(q, k, v, g):
    dq, dk, dv = right_backward(q, k, v, g)
    return dq, dk * math.sqrt(q.shape[-1]), dv


def numpy_sqrt_scale(q, k, v, g):                       # right values, float64 in float32
    dq, dk, dv = right_backward(q, k, v, g)
    return dq * (np.sqrt(4) / 2), dk, dv


def test_right_backward_passes(capsys):
    check_attention_backward(right_backward)
    assert "5 test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [elementwise_softmax_backward, forgotten_scale,
                                   float64_always, scale_on_dq_only,
                                   numpy_sqrt_scale])
def test_wrong_backward_fails(wrong):
    with pytest.raises(AssertionError):
        check_attention_backward(wrong)


def right_split(x, h):
    n, t, e = x.shape
    return x.reshape(n, t, h, e // h).transpose(0, 2, 1, 3)


def reshape_only(x, h):                                  # the classic bug
    n, t, e = x.shape
    return x.reshape(n, h, t, e // h)


def strided_heads(x, h):                                 # head k takes columns k, k + h, ...
    n, t, e = x.shape
    return x.reshape(n, t, e // h, h).transpose(0, 3, 1, 2)


def test_right_split_passes(capsys):
    check_split_heads(right_split)
    assert "5 test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [reshape_only, strided_heads])
def test_wrong_split_fails(wrong):
    with pytest.raises(AssertionError):
        check_split_heads(wrong)
