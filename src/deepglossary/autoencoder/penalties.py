"""Penalties on the code: L1 and the sparse autoencoder's KL divergence, backward by hand."""

from __future__ import annotations

import numpy as np

from deepglossary.nn.activations import finite_number, upstream_grad
from deepglossary.nn.core import Layer, as_input


class L1Sparsity(Layer):
    """R(h) = weight * (1/N) sum_n sum_j |h_nj|, an L1 penalty on the code.

    Shape: h (N, D_c) -> a scalar. Backward: dR/dh = weight * sign(h) / N (0 at h = 0, as
    torch's ``abs``). PyTorch: ``weight * h.abs().sum(1).mean()``.
    """

    def __init__(self, weight: float = 1e-3):
        self.weight = finite_number(weight, "L1Sparsity", "weight")
        if self.weight < 0:
            raise ValueError(f"L1Sparsity: weight must be >= 0, got {weight}")

    def forward(self, h):
        h = as_input(h, "L1Sparsity", min_ndim=2)
        self._cache = h
        return np.asarray(self.weight * np.abs(h).sum() / len(h), dtype=h.dtype)

    def backward(self, grad_output=1.0):
        h = self._saved()
        g = upstream_grad(self, np.asarray(grad_output), (), h.dtype, "L1Sparsity")
        return g * h.dtype.type(self.weight) * np.sign(h) / h.dtype.type(len(h))   # (N, D_c)

    def extra_repr(self) -> str:
        return f"weight={self.weight}"


class KLSparsity(Layer):
    """The sparse autoencoder's penalty: each code unit's mean activation mu_j should be
    the small target mu_target (the argument ``rho``), with weight lambda (the argument ``beta``).

        mu_j        = (1/N) sum_n h_nj,
        lambda R(h) = lambda * sum_j [ mu_target log(mu_target / mu_j)
                                       + (1 - mu_target) log((1 - mu_target) / (1 - mu_j)) ],

    the Kullback-Leibler divergence between Bernoulli(mu_target) and Bernoulli(mu_j). Shape:
    h (N, D_c) with entries in [0, 1] (a sigmoid code) -> a scalar. Backward, by the chain rule
    through the mean:

        d(lambda R)/dh_nj = (lambda / N) * ( -mu_target / mu_j + (1 - mu_target) / (1 - mu_j) ).

    PyTorch: no built-in; written as ``beta * (rho * log(rho / m) + (1 - rho) * log((1 - rho) /
    (1 - m))).sum()`` with ``m = h.mean(0)`` (verified in the Autoencoder chapter).
    """

    def __init__(self, rho: float = 0.05, beta: float = 1.0):
        self.rho = finite_number(rho, "KLSparsity", "rho")
        self.beta = finite_number(beta, "KLSparsity", "beta")
        if not 0 < self.rho < 1:
            raise ValueError(f"KLSparsity: rho must lie strictly between 0 and 1, got {rho}")
        if self.beta < 0:
            raise ValueError(f"KLSparsity: beta must be >= 0, got {beta}")

    def forward(self, h):
        h = as_input(h, "KLSparsity", min_ndim=2)
        if h.min() < 0 or h.max() > 1:
            raise ValueError(f"KLSparsity expects a code in [0, 1] (a sigmoid's output), got "
                             f"values in [{h.min():g}, {h.max():g}]")
        m = h.mean(axis=0)                                          # mu_j, (D_c,)
        if m.min() <= 0 or m.max() >= 1:
            raise ValueError("KLSparsity: a code unit's mean activation is exactly 0 or 1 "
                             "(saturated), where the divergence is infinite")
        self._cache = (h, m)
        r = h.dtype.type(self.rho)
        kl = r * np.log(r / m) + (1 - r) * np.log((1 - r) / (1 - m))   # (D_c,)
        return np.asarray(h.dtype.type(self.beta) * kl.sum(), dtype=h.dtype)

    def backward(self, grad_output=1.0):
        h, m = self._saved()
        g = upstream_grad(self, np.asarray(grad_output), (), h.dtype, "KLSparsity")
        r, n = h.dtype.type(self.rho), h.dtype.type(len(h))
        d_mean = h.dtype.type(self.beta) * (-r / m + (1 - r) / (1 - m))   # d(lambda R)/dmu_j (D_c,)
        return np.broadcast_to(g * d_mean / n, h.shape).copy()           # d(lambda R)/dh (N, D_c)

    def extra_repr(self) -> str:
        return f"rho={self.rho}, beta={self.beta}"
