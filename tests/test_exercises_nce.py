"""The Noise-Contrastive Estimation chapter's checkers accept a right answer and reject the
naive wrong ones."""

import numpy as np
import pytest

from deepglossary.exercises.nce import check_nce_grad, check_sampler


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))


def right_grad(scores, log_kq):
    delta = scores - log_kq                                       # (N, k + 1)
    target = np.zeros_like(delta)
    target[:, 0] = 1
    return (_sigmoid(delta) - target) / len(delta)


def no_one_over_n(scores, log_kq):
    return right_grad(scores, log_kq) * len(scores)


def mean_over_columns(scores, log_kq):
    return right_grad(scores, log_kq) / scores.shape[1]


def no_target(scores, log_kq):
    return _sigmoid(scores - log_kq) / len(scores)


def noise_sign_flipped(scores, log_kq):
    g = right_grad(scores, log_kq)
    g[:, 1:] *= -1
    return g


def negative_sampling_instead(scores, log_kq):
    return right_grad(scores, np.zeros_like(log_kq))


def float64_always(scores, log_kq):
    return right_grad(scores.astype(np.float64), log_kq.astype(np.float64))


def test_right_grad_passes(capsys):
    check_nce_grad(right_grad)
    assert "6 test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [no_one_over_n, mean_over_columns, no_target,
                                   noise_sign_flipped, negative_sampling_instead,
                                   float64_always])
def test_wrong_grad_fails(wrong):
    with pytest.raises(AssertionError):
        check_nce_grad(wrong)


def right_sampler(weights, shape, rng):
    cdf = np.cumsum(weights, dtype=np.float64)
    u = rng.random(shape) * cdf[-1]
    last = np.flatnonzero(weights)[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), last)


def alias_sampler(weights, shape, rng):
    from deepglossary.nce import NoiseSampler

    return NoiseSampler(weights.astype(np.float64), "alias").sample(shape, rng)


def unscaled_cdf(weights, shape, rng):                   # forgets that weights need not sum to 1
    return np.searchsorted(np.cumsum(weights), rng.random(shape), side="right")


def choice_unnormalised(weights, shape, rng):            # numpy refuses p that do not sum to 1
    return rng.choice(len(weights), size=shape, p=weights)


def uniform_ids(weights, shape, rng):
    return rng.integers(len(weights), size=shape)


def off_by_one(weights, shape, rng):
    return np.minimum(right_sampler(weights, shape, rng) + 1, len(weights) - 1)


def int32_ids(weights, shape, rng):                      # right draws, but not int64 as asked
    return right_sampler(weights, shape, rng).astype(np.int32)


def test_right_samplers_pass(capsys):
    check_sampler(right_sampler)
    check_sampler(alias_sampler)
    assert "5 test cases" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [unscaled_cdf, choice_unnormalised, uniform_ids, off_by_one,
                                   int32_ids])
def test_wrong_sampler_fails(wrong):
    with pytest.raises(AssertionError):
        check_sampler(wrong)
