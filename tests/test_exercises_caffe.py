"""The Caffe chapter's checkers accept a right answer and reject the naive wrong ones."""

import math

import numpy as np
import pytest

from deepglossary.exercises.caffe import check_caffe_sgd_step, check_pooled_size


def right_size(size, kernel, stride, pad):
    out = math.ceil((size + 2 * pad - kernel) / stride) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def floor_size(size, kernel, stride, pad):                 # torch's default, ceil_mode=False
    return (size + 2 * pad - kernel) // stride + 1


def ceil_without_clip(size, kernel, stride, pad):
    return math.ceil((size + 2 * pad - kernel) / stride) + 1


def torch_ceil_mode(size, kernel, stride, pad):          # torch's ceil_mode=True rule
    out = -(-(size + 2 * pad - kernel) // stride) + 1
    if (out - 1) * stride >= size + pad:                    # drops the last window, pad or not
        out -= 1
    return out


def float_size(size, kernel, stride, pad):
    return float(right_size(size, kernel, stride, pad))


def test_right_size_passes(capsys):
    check_pooled_size(right_size)
    assert "12 test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [floor_size, ceil_without_clip, torch_ceil_mode,
                                   float_size])
def test_wrong_size_fails(wrong):
    with pytest.raises(AssertionError):
        check_pooled_size(wrong)


def test_torch_ceil_mode_rule_is_torchs():
    """The wrong answer above is really PyTorch's rule, and it differs from Caffe's on 24."""
    torch = pytest.importorskip("torch")
    for size, kernel, stride, pad in [(24, 1, 2, 0), (4, 1, 2, 0), (5, 2, 2, 1), (7, 2, 2, 0)]:
        pool = torch.nn.MaxPool2d(kernel, stride, pad, ceil_mode=True)
        assert pool(torch.zeros(1, 1, 1, size)).shape[-1] == torch_ceil_mode(size, kernel,
                                                                             stride, pad)
    assert (right_size(24, 1, 2, 0), torch_ceil_mode(24, 1, 2, 0)) == (13, 12)


def right_step(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    v = momentum * v + rate * lr_mult * (g + weight_decay * decay_mult * w)
    return w - v, v


def torch_buffer(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    # torch.optim.SGD: the buffer holds gradients, the rate multiplies it at the step
    v = momentum * v + (g + weight_decay * decay_mult * w)
    return w - rate * lr_mult * v, v


def no_lr_mult(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    return right_step(w, g, v, rate, momentum, weight_decay, 1.0, decay_mult)


def no_decay_mult(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    return right_step(w, g, v, rate, momentum, weight_decay, lr_mult, 1.0)


def decay_outside_rate(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    v = momentum * v + rate * lr_mult * g
    return w - v - weight_decay * decay_mult * w, v


def float64_always(w, g, v, rate, momentum, weight_decay, lr_mult, decay_mult):
    return tuple(np.asarray(a, dtype=np.float64) for a in right_step(w, g, v, rate, momentum,
                                                                     weight_decay, lr_mult,
                                                                     decay_mult))


def test_right_step_passes(capsys):
    check_caffe_sgd_step(right_step)
    assert "5 test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [torch_buffer, no_lr_mult, no_decay_mult, decay_outside_rate,
                                   float64_always])
def test_wrong_step_fails(wrong):
    with pytest.raises(AssertionError):
        check_caffe_sgd_step(wrong)
