"""The Inception Module and GoogLeNet chapters' checkers accept right answers and reject the
naive ones their docstrings name."""

import numpy as np
import pytest

from deepglossary.exercises import inception

# --- backward through the concatenation ----------------------------------------------------


def grad_right(g, channels, backwards):
    ends = np.cumsum(channels)[:-1]
    return sum(b(part) for b, part in zip(backwards, np.split(g, ends, axis=1)))


def grad_equal_split(g, channels, backwards):      # four equal parts, whatever the widths
    return sum(b(part) for b, part in zip(backwards, np.array_split(g, len(channels), axis=1)))


def grad_last_only(g, channels, backwards):        # overwrites instead of adding
    ends = np.cumsum(channels)[:-1]
    dx = None
    for b, part in zip(backwards, np.split(g, ends, axis=1)):
        dx = b(part)
    return dx


def grad_mean(g, channels, backwards):             # averages the four paths
    return grad_right(g, channels, backwards) / len(channels)


def grad_float64(g, channels, backwards):          # loses the dtype
    return grad_right(g, channels, backwards).astype(np.float64)


def grad_batch_axis(g, channels, backwards):       # splits along the batch
    ends = np.cumsum(channels)[:-1]
    return sum(b(part) for b, part in zip(backwards, np.split(g, ends, axis=0)))


def test_input_grad_checker():
    inception.check_inception_input_grad(grad_right)
    for wrong in (grad_equal_split, grad_last_only, grad_mean, grad_float64, grad_batch_axis):
        with pytest.raises((AssertionError, ValueError)):
            inception.check_inception_input_grad(wrong)


# --- parameters of a module ----------------------------------------------------------------


def params_right(c, c1, r3, c3, r5, c5, pp, kernel5=3):
    convs = [(c, c1, 1), (c, r3, 1), (r3, c3, 3), (c, r5, 1), (r5, c5, kernel5), (c, pp, 1)]
    return sum(a * b * k * k + 2 * b for a, b, k in convs)


def params_no_bn(c, c1, r3, c3, r5, c5, pp, kernel5=3):
    convs = [(c, c1, 1), (c, r3, 1), (r3, c3, 3), (c, r5, 1), (r5, c5, kernel5), (c, pp, 1)]
    return sum(a * b * k * k for a, b, k in convs)


def params_with_bias(c, c1, r3, c3, r5, c5, pp, kernel5=3):
    return params_right(c, c1, r3, c3, r5, c5, pp, kernel5) + c1 + r3 + c3 + r5 + c5 + pp


def params_always_5(c, c1, r3, c3, r5, c5, pp, kernel5=3):
    return params_right(c, c1, r3, c3, r5, c5, pp, 5)


def params_naive_module(c, c1, r3, c3, r5, c5, pp, kernel5=3):   # no reductions
    convs = [(c, c1, 1), (c, c3, 3), (c, c5, kernel5), (c, pp, 1)]
    return sum(a * b * k * k + 2 * b for a, b, k in convs)


def params_no_projection(c, c1, r3, c3, r5, c5, pp, kernel5=3):
    return params_right(c, c1, r3, c3, r5, c5, pp, kernel5) - (c * pp + 2 * pp)


def test_parameters_checker():
    inception.check_inception_parameters(params_right)
    assert params_right(192, 64, 96, 128, 16, 32, 32) == 155_872
    for wrong in (params_no_bn, params_with_bias, params_always_5, params_naive_module,
                  params_no_projection):
        with pytest.raises(AssertionError):
            inception.check_inception_parameters(wrong)


# --- GoogLeNet's loss with auxiliary heads -------------------------------------------------


def _ce(z, y):
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    onehot = np.eye(z.shape[1], dtype=z.dtype)[y]
    return -logp[np.arange(len(y)), y].mean(), (p - onehot) / len(y)


def aux_right(logits, aux2, aux1, y, weight=0.3):
    (l0, g0), (l2, g2), (l1, g1) = _ce(logits, y), _ce(aux2, y), _ce(aux1, y)
    return l0 + weight * (l1 + l2), (g0, weight * g2, weight * g1)


def aux_unweighted_grads(logits, aux2, aux1, y, weight=0.3):
    loss, (g0, g2, g1) = aux_right(logits, aux2, aux1, y, weight)
    return loss, (g0, _ce(aux2, y)[1], _ce(aux1, y)[1])


def aux_summed(logits, aux2, aux1, y, weight=0.3):
    loss, grads = aux_right(logits, aux2, aux1, y, weight)
    return loss * len(y), tuple(g * len(y) for g in grads)


def aux_swapped(logits, aux2, aux1, y, weight=0.3):
    loss, (g0, g2, g1) = aux_right(logits, aux2, aux1, y, weight)
    return loss, (g0, g1, g2)


def aux_float64(logits, aux2, aux1, y, weight=0.3):   # right values, float64 gradients
    loss, grads = aux_right(logits, aux2, aux1, y, weight)
    return loss, tuple(g.astype(np.float64) for g in grads)


def test_auxiliary_loss_checker():
    inception.check_auxiliary_loss(aux_right)
    for wrong in (aux_unweighted_grads, aux_summed, aux_swapped, aux_float64):
        with pytest.raises(AssertionError):
            inception.check_auxiliary_loss(wrong)
