"""A small language model whose exact softmax is cheap: fit it by maximum likelihood, by NCE
and by negative sampling, and compare each fit with the truth.

The truth: C contexts x, each with a distribution over K words,
p_d(y | x) = softmax(F theta*_x)_y, with F (K, D) fixed word features (the first one a
Zipf-like "frequency" feature, -log(1 + rank)) and theta*_x (C, D) one weight vector per
context. The model has the same form, z_xy = (F theta_x)_y, plus a learned log-normaliser
c_Z per context for NCE and negative sampling, so the truth is inside the model family and
each method's error is estimation error, not a wrong model.

The fits: every objective is convex in (theta_x, c_x) and separates over the contexts, so
Newton's method (with step halving) finds each optimum in a few steps. The data enter only
through counts: n[x, y] true pairs and m[x, y] noise words drawn for the pairs of context x,
which give exactly the NCE loss of the (N, k + 1) layout divided the same way (the chapter
checks it against ``losses.NCE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepglossary.nce.sampling import NoiseSampler
from deepglossary.nn.activations import sigmoid
from deepglossary.random import default_rng


def _log_softmax(z):
    top = z.max(axis=-1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))


@dataclass
class Toy:
    """The truth of the small problem: features F (K, D), theta (C, D), probs p_d (C, K)."""

    features: np.ndarray
    theta: np.ndarray

    @property
    def logits(self):
        return self.theta @ self.features.T                                     # (C, K)

    @property
    def log_z(self):
        """The true log-normaliser of each context, log sum_y exp z_xy: (C,)."""
        z = self.logits
        return np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)

    @property
    def probs(self):
        return np.exp(_log_softmax(self.logits))                                # (C, K)

    def sample(self, n: int, rng=None):
        """n (context, word) pairs, contexts uniform: two (n,) int64 arrays."""
        rng = default_rng(rng)
        contexts, words = len(self.theta), self.features.shape[0]
        x = rng.integers(contexts, size=n)                                      # (n,)
        cdf = np.cumsum(self.probs, axis=1)                                     # (C, K)
        u = rng.random(n) * cdf[x, -1]
        y = np.minimum((cdf[x] <= u[:, None]).sum(1), words - 1)                # inverse CDF
        return x.astype(np.int64), y.astype(np.int64)

    def kl(self, theta) -> float:
        """Mean over contexts of KL(p_d(. | x) || softmax(F theta_x)), in nats."""
        log_p = _log_softmax(self.logits)
        log_model = _log_softmax(theta @ self.features.T)
        return float((np.exp(log_p) * (log_p - log_model)).sum(1).mean())


def make_toy(contexts: int = 4, words: int = 50, features: int = 5, seed: int = 0) -> Toy:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((words, features))
    f[:, 0] = -np.log1p(np.arange(words))                                      # Zipf-like
    f[:, 0] -= f[:, 0].mean()
    theta = rng.standard_normal((contexts, features)) * 0.7
    theta[:, 0] = 1.0                                                           # frequent words
    return Toy(f, theta)


def counts(contexts, words, noise_words, n_contexts: int, n_words: int):
    """n[x, y], the true pairs, and m[x, y], the noise words drawn for context x's pairs."""
    n = np.bincount(contexts * n_words + words, minlength=n_contexts * n_words)
    k = noise_words.shape[1]
    m = np.bincount(np.repeat(contexts, k) * n_words + noise_words.ravel(),
                    minlength=n_contexts * n_words)
    return n.reshape(n_contexts, n_words), m.reshape(n_contexts, n_words)


def objective(theta, c, features, n, m, offset):
    """The NCE (or NS) loss in count form and its gradient and Hessian in (theta_x, c_x).

    Delta = F theta_x - c_x - offset, offset = log(k P_n) (NCE) or 0 (NS); N = n.sum().
    L = -(1/N) sum_xy [n log sigma(Delta) + m log sigma(-Delta)]. Returns L, the gradient
    (C, D + 1) and the Hessian (C, D + 1, D + 1), the last column being c_x."""
    total = n.sum()
    delta = theta @ features.T - c[:, None] - offset                            # (C, K)
    loss = (n * np.logaddexp(0, -delta) + m * np.logaddexp(0, delta)).sum() / total
    sig = sigmoid(delta)
    g_delta = ((n + m) * sig - n) / total                                       # dL/dDelta
    h_delta = (n + m) * sig * (1 - sig) / total                                 # d2L/dDelta2
    design = np.hstack([features, -np.ones((len(features), 1))])                # (K, D + 1)
    grad = g_delta @ design                                                     # (C, D + 1)
    hess = np.einsum("ck,ki,kj->cij", h_delta, design, design)
    return loss, grad, hess


def _newton(loss_grad_hess, params, iters):
    loss, grad, hess = loss_grad_hess(params)
    for _ in range(iters):
        eye = 1e-10 * np.eye(hess.shape[-1])
        step = np.linalg.solve(hess + eye, grad[..., None])[..., 0]
        t = 1.0
        while True:                                     # halve the step until the loss falls
            trial = params - t * step
            new = loss_grad_hess(trial)
            if new[0] <= loss + 1e-15 or t < 1e-6:
                break
            t /= 2
        params, (loss, grad, hess) = trial, new
        if np.abs(grad).max() < 1e-12:
            break
    return params


def fit_nce(features, n, m, log_kq, iters: int = 50, *, learn_normalizer: bool = True):
    """Minimise the count-form loss; ``log_kq`` (K,) is log(k P_n) for NCE, zeros for NS.
    Returns theta (C, D) and c (C,). With ``learn_normalizer=False`` c stays fixed at 0 (Mnih
    & Teh's setting) and only theta is fitted."""
    contexts, d = n.shape[0], features.shape[1]
    if not learn_normalizer:
        def lgh_theta(theta):
            loss, grad, hess = objective(theta, np.zeros(contexts), features, n, m, log_kq)
            return loss, grad[:, :d], hess[:, :d, :d]                          # c fixed at 0

        return _newton(lgh_theta, np.zeros((contexts, d)), iters), np.zeros(contexts)

    def lgh(params):
        return objective(params[:, :d], params[:, d], features, n, m, log_kq)

    params = _newton(lgh, np.zeros((contexts, d + 1)), iters)
    return params[:, :d], params[:, d]


def fit_mle(features, n, iters: int = 50):
    """Maximum likelihood with the exact softmax: theta (C, D)."""
    total = n.sum()

    def lgh(theta):
        log_p = _log_softmax(theta @ features.T)                                # (C, K)
        p, n_x = np.exp(log_p), n.sum(1, keepdims=True)
        loss = -(n * log_p).sum() / total
        grad = (n_x * p - n) @ features / total                                 # (C, D)
        fp = p @ features                                                       # (C, D)
        hess = (np.einsum("ck,ki,kj->cij", p, features, features)
                - np.einsum("ci,cj->cij", fp, fp)) * n_x[:, :, None] / total
        return loss, grad, hess

    return _newton(lgh, np.zeros((n.shape[0], features.shape[1])), iters)


NOISES = {"uniform": 0.0, "unigram": 1.0, "unigram^0.75": 0.75}


def experiment(toy: Toy, n_pairs: int, k: int, noise: str, seed: int):
    """One data set of ``n_pairs`` pairs and its fits: MLE, NCE and negative sampling with
    ``k`` noise words per pair from the named noise distribution (built from the data's word
    counts, plus 1/2 so that no word has probability 0). Returns a dict of results."""
    from deepglossary.nce.sampling import noise_distribution

    rng = np.random.default_rng(seed)
    contexts, words = toy.sample(n_pairs, rng)
    n_words = toy.features.shape[0]
    q = noise_distribution(np.bincount(words, minlength=n_words) + 0.5, NOISES[noise])
    noise_words = NoiseSampler(q, "alias").sample((n_pairs, k), rng)            # (N, k)
    n, m = counts(contexts, words, noise_words, len(toy.theta), n_words)
    theta_nce, c_nce = fit_nce(toy.features, n, m, np.log(k * q))
    theta_ns, c_ns = fit_nce(toy.features, n, m, np.zeros(n_words))
    theta_mle = fit_mle(toy.features, n)
    return dict(q=q, theta_nce=theta_nce, c_nce=c_nce, theta_ns=theta_ns, c_ns=c_ns,
                theta_mle=theta_mle, kl_nce=toy.kl(theta_nce), kl_ns=toy.kl(theta_ns),
                kl_mle=toy.kl(theta_mle))
