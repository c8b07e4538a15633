"""Noise-contrastive estimation: the loss and its gradients against torch and central
differences, negative sampling as its simplification, the noise samplers, the small problem."""

import numpy as np
import pytest

from deepglossary import losses
from deepglossary.nce import (
    NCE,
    NegativeSampling,
    NoiseSampler,
    alias_table,
    noise_distribution,
    toy,
)
from deepglossary.twins.nce import torch_twin
from deepglossary.verify import against_torch, gradcheck

K = 30


def _noise(seed=0):
    return noise_distribution(np.random.default_rng(seed).integers(1, 200, K), 0.75)


def _batch(dtype, n=7, k=4, scale=3.0, seed=1):
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal((n, k + 1))).astype(dtype), rng.integers(0, K, (n, k + 1))


def _losses(dtype):
    q = _noise()
    return [NCE(q, 4), NCE(q, 4, learn_normalizer=True, log_z=0.7, dtype=dtype),
            NegativeSampling(4), NegativeSampling(4, learn_normalizer=True, log_z=-0.2,
                                                  dtype=dtype)]


def test_alias_in_losses():
    assert losses.NCE is NCE and losses.NegativeSampling is NegativeSampling


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("which", range(4))
def test_against_torch(dtype, which):
    loss = _losses(dtype)[which]
    scores, words = _batch(dtype)
    report = against_torch(loss, torch_twin(loss), scores, words)
    assert report.ok
    if loss.learn_normalizer:
        assert any(r.quantity == "grad log_z" for r in report.rows)


@pytest.mark.parametrize("which", range(4))
def test_gradcheck(which):
    loss = _losses(np.float64)[which]
    scores, words = _batch(np.float64, scale=1.0)
    assert gradcheck(loss, scores, words).ok


def test_the_formula_by_hand():
    q = _noise()
    scores, words = _batch(np.float64, k=2)
    delta = scores - 0.5 - np.log(2 * q[words])
    sig = 1 / (1 + np.exp(-delta))
    expected = -(np.log(sig[:, 0]) + np.log(1 - sig[:, 1:]).sum(1)).mean()
    loss = NCE(q, 2, learn_normalizer=True, log_z=0.5)
    assert loss(scores, words) == pytest.approx(expected, rel=1e-12)
    grad = loss.backward()
    t = np.zeros_like(delta)
    t[:, 0] = 1
    np.testing.assert_allclose(grad, (sig - t) / len(delta), rtol=1e-12)
    assert loss.log_z.grad == pytest.approx(-grad.sum(), rel=1e-12)


def test_negative_sampling_is_nce_when_k_times_noise_is_one():
    """log(k P_n) = 0 for a uniform P_n over K words and k = K: the two losses coincide."""
    q = np.full(K, 1 / K)
    rng = np.random.default_rng(3)
    scores, words = rng.standard_normal((5, K + 1)), rng.integers(0, K, (5, K + 1))
    assert NCE(q, K)(scores, words) == pytest.approx(NegativeSampling(K)(scores, None),
                                                     rel=1e-13)
    other = NCE(q, 3)
    assert other(scores[:, :4], words[:, :4]) != pytest.approx(
        NegativeSampling(3)(scores[:, :4], None), rel=1e-3)


def test_large_scores_stay_finite():
    q = _noise()
    scores = np.array([[800.0, -800.0, 800.0], [-800.0, 800.0, -800.0]])
    words = np.zeros((2, 3), dtype=int)
    loss = NCE(q, 2)
    value = loss(scores, words)
    assert np.isfinite(value) and np.isfinite(loss.backward()).all()


def test_bad_input():
    q = _noise()
    with pytest.raises(ValueError, match="k"):
        NCE(q, 0)
    with pytest.raises(ValueError, match="noise distribution"):
        NCE(None, 3)
    with pytest.raises(ValueError, match="summing"):
        NCE(q * 2, 3)
    with pytest.raises(ValueError, match=r"\(N, k \+ 1\)"):
        NCE(q, 3)(np.zeros((4, 3)), np.zeros((4, 3), dtype=int))
    with pytest.raises(ValueError, match="ints"):
        NCE(q, 2)(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\[0, 30\)"):
        NCE(q, 2)(np.zeros((4, 3)), np.full((4, 3), K))
    zero = q.copy()
    zero[0], zero[1] = 0, zero[1] + zero[0]
    with pytest.raises(ValueError, match="probability"):
        NCE(zero, 2)(np.zeros((1, 3)), np.zeros((1, 3), dtype=int))
    with pytest.raises(TypeError):
        NCE(q, 2)(np.zeros((4, 3), dtype=int), np.zeros((4, 3), dtype=int))
    with pytest.raises(ValueError):
        noise_distribution(np.array([-1, 2]))
    with pytest.raises(ValueError):
        NoiseSampler(q, "magic")


@pytest.mark.parametrize("method", ["choice", "searchsorted", "alias"])
def test_samplers_draw_the_distribution(method):
    p = np.array([0.0, 0.5, 0.0, 0.2, 0.25, 0.05, 0.0])
    ids = NoiseSampler(p, method).sample((200_000,), np.random.default_rng(0))
    assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < len(p)
    freq = np.bincount(ids, minlength=len(p)) / ids.size
    assert np.all(freq[p == 0] == 0)
    assert np.abs(freq - p).max() < 4 * np.sqrt(0.25 / ids.size)


def test_alias_table_holds_the_distribution():
    p = _noise(5)
    prob, alias = alias_table(p)
    mass = prob / K
    np.add.at(mass, alias, (1 - prob) / K)                    # column y gives alias[y] the rest
    np.testing.assert_allclose(mass, p, atol=1e-12)


def test_count_form_equals_the_layer():
    """The toy's count-form loss and gradient are the layer's, summed by word."""
    t = toy.make_toy(contexts=1, words=12, features=3)
    rng = np.random.default_rng(0)
    x, y = t.sample(40, rng)
    q = noise_distribution(np.arange(1, 13), 1.0)
    k = 3
    noise = NoiseSampler(q).sample((40, k), rng)
    n, m = toy.counts(x, y, noise, 1, 12)
    theta, c = rng.standard_normal((1, 3)), np.array([0.4])
    value, grad, _ = toy.objective(theta, c, t.features, n, m, np.log(k * q))
    words = np.concatenate([y[:, None], noise], axis=1)                 # (40, k + 1)
    layer = NCE(q, k, learn_normalizer=True, log_z=0.4)
    scores = (theta @ t.features.T)[0][words]
    assert layer(scores, words) == pytest.approx(value, rel=1e-12)
    g_scores = layer.backward()
    g_theta = (g_scores[..., None] * t.features[words]).sum((0, 1))
    np.testing.assert_allclose(g_theta, grad[0, :3], rtol=1e-10)
    assert layer.log_z.grad == pytest.approx(grad[0, 3], rel=1e-10)


def test_nce_recovers_the_model_and_negative_sampling_does_not():
    t = toy.make_toy()
    runs = {k: [toy.experiment(t, 1000, k, "unigram", s) for s in range(4)] for k in (1, 25)}
    kl = {k: np.mean([r["kl_nce"] for r in rs]) for k, rs in runs.items()}
    kl_mle = np.mean([r["kl_mle"] for r in runs[25]])
    kl_ns = np.mean([r["kl_ns"] for r in runs[25]])
    assert kl[1] > kl[25] and kl[25] < 1.3 * kl_mle
    assert kl_ns > 10 * kl[25]


@pytest.mark.parametrize("first", ["deepglossary.nce", "deepglossary.losses",
                                   "deepglossary.twins.nce", "deepglossary.exercises.nce"])
def test_imports_in_any_order_without_torch(first):
    """losses.py imports the NCE module last, so either may be imported first (no cycle), and
    none of them imports torch."""
    import subprocess
    import sys

    code = (f"import {first}, deepglossary.nce, deepglossary.losses, sys; "
            "assert deepglossary.losses.NCE is deepglossary.nce.NCE; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_population_optimum_is_the_truth_for_every_k():
    """Fitted to expected counts (infinite data), NCE recovers p_d and its log-normaliser for
    every k when the family holds the truth; without that, it differs from maximum likelihood
    by less and less as k grows."""
    t = toy.make_toy()
    n = 1e6 * t.probs / len(t.probs)
    unigram = t.probs.mean(axis=0)
    for k in (1, 25):
        theta, c = toy.fit_nce(t.features, n, n.sum(1, keepdims=True) * k * unigram,
                               np.log(k * unigram))
        assert t.kl(theta) < 1e-12
        np.testing.assert_allclose(c, t.log_z, atol=1e-9)
    small = t.features[:, :2]
    mle = toy.fit_mle(small, n)
    gaps = []
    for k in (1, 25):
        theta, _ = toy.fit_nce(small, n, n.sum(1, keepdims=True) * k * unigram,
                               np.log(k * unigram))
        gaps.append(np.abs(theta - mle).max())
    assert gaps[0] > 5 * gaps[1] > 0


def test_fixed_normaliser_needs_a_constant_direction():
    """c_Z = 0 (Mnih & Teh): the optimum needs z_y = log p_d(y | x) exactly, so the family must
    hold the per-context shift log Z_m(x). Without a constant feature NCE lands far from the
    truth; with one it recovers the truth, self-normalised."""
    t = toy.make_toy()
    n = 1e6 * t.probs / len(t.probs)
    unigram = t.probs.mean(axis=0)
    m = n.sum(1, keepdims=True) * unigram
    theta, c = toy.fit_nce(t.features, n, m, np.log(unigram), learn_normalizer=False)
    assert np.all(c == 0) and t.kl(theta) > 1.0
    with_bias = np.hstack([t.features, np.ones((len(t.features), 1))])
    theta, _ = toy.fit_nce(with_bias, n, m, np.log(unigram), learn_normalizer=False)
    z = theta @ with_bias.T
    np.testing.assert_allclose(np.log(np.exp(z).sum(1)), 0, atol=1e-9)     # self-normalised
    np.testing.assert_allclose(np.exp(z), t.probs, atol=1e-9)


def test_forward_does_not_cache_the_callers_array():
    """Negative sampling with c_Z fixed: the logit is the scores themselves; changing the
    caller's array between forward and backward must not change the gradient."""
    scores = np.array([[-1.0, 0.5, -0.5]])
    loss = NegativeSampling(2)
    loss(scores, None)
    expected = (1 / (1 + np.exp(-scores)) - np.array([[1.0, 0, 0]])) / 1
    scores[:] = 50.0
    np.testing.assert_allclose(loss.backward(), expected, rtol=1e-12)
