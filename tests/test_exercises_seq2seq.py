"""The Seq2Seq chapter's checkers accept right answers and reject the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import seq2seq


def last_state(outputs, lengths):
    return outputs[np.arange(len(outputs)), lengths - 1]


def test_last_state_checker_accepts_the_gather():
    seq2seq.check_last_state(last_state)


@pytest.mark.parametrize("wrong", [
    lambda o, n: o[:, -1],                                   # the last column, after the pads
    lambda o, n: o[np.arange(len(o)), np.minimum(n, o.shape[1] - 1)],   # off by one
    lambda o, n: o[:, n - 1],                                # (N, N, H): every row's index
    lambda o, n: last_state(o, n).astype(np.float64),        # float32 upcast
])
def test_last_state_checker_rejects_slips(wrong):
    with pytest.raises((AssertionError, IndexError)):
        seq2seq.check_last_state(wrong)


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def masked_loss(logits, targets, pad, *, count="tokens", zero_pad_grad=True, pad_id=None):
    pad = pad if pad_id is None else pad_id
    logp = log_softmax(logits)
    real = targets != pad                                                  # (N, T)
    picked = np.take_along_axis(logp, targets[..., None], -1)[..., 0]      # (N, T)
    one_hot = np.eye(logits.shape[-1], dtype=logits.dtype)[targets]
    grad = np.exp(logp) - one_hot
    if count == "tokens":
        weight = real / real.sum()
    elif count == "all":                                     # PAD positions in the mean
        weight = np.ones_like(picked) / picked.size
    else:                                                    # mean per sequence, then batch
        weight = real / real.sum(1, keepdims=True) / len(real)
    if zero_pad_grad:
        weight = weight * real
    loss = -(picked * weight).sum()
    return loss, (grad * weight[..., None]).astype(logits.dtype)


def test_masked_loss_checker_accepts_the_token_mean():
    seq2seq.check_masked_loss(masked_loss)


@pytest.mark.parametrize("slip", [
    dict(count="all", zero_pad_grad=False),   # averages over the PAD positions as well
    dict(count="sequence"),                   # each sequence weighs the same
    dict(pad_id=0),                           # PAD hard-coded as 0
])
def test_masked_loss_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        seq2seq.check_masked_loss(lambda z, t, p: masked_loss(z, t, p, **slip))


def test_masked_loss_checker_rejects_a_gradient_left_at_pad():
    def leaky(z, t, p):
        loss, _ = masked_loss(z, t, p)
        one_hot = np.eye(z.shape[-1], dtype=z.dtype)[t]
        return loss, (np.exp(log_softmax(z)) - one_hot) / (t != p).sum()   # PAD rows too
    with pytest.raises(AssertionError):
        seq2seq.check_masked_loss(leaky)


def test_masked_loss_checker_rejects_a_log_softmax_without_the_max():
    def naive(z, t, p):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            logp = z - np.log(np.exp(z).sum(-1, keepdims=True))           # overflows near 1000
            real = t != p
            picked = np.take_along_axis(logp, t[..., None], -1)[..., 0]
            one_hot = np.eye(z.shape[-1], dtype=z.dtype)[t]
            grad = (np.exp(logp) - one_hot) * (real / real.sum())[..., None]
            return -(picked * real).sum() / real.sum(), grad.astype(z.dtype)
    naive(np.zeros((1, 2, 3)), np.ones((1, 2), int), 0)
    with pytest.raises(AssertionError):
        seq2seq.check_masked_loss(naive)
