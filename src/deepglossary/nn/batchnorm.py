"""Batch normalization for (N, C) and (N, C, *) inputs."""

import numpy as np

from deepglossary.nn.activations import upstream_grad
from deepglossary.nn.core import Layer, Parameter, as_input


def _scale_exponents(magnitude, dtype) -> np.ndarray:
    """Per channel, the power of two e >= 0 that brings ``magnitude`` (the largest |x| of the
    channel) below 1, when it is so large that squares of differences could overflow ``dtype``
    (above 2^(max exponent / 2 - 8): 2^504 in float64, 2^56 in float32); else 0."""
    magnitude = np.asarray(magnitude, dtype=np.float64)
    limit = np.ldexp(1.0, np.finfo(dtype).maxexp // 2 - 8)
    return np.where(magnitude > limit, np.frexp(magnitude)[1], 0).astype(np.int64)


class BatchNorm(Layer):
    """Normalise each channel with the statistics of the batch, then scale and shift.

    PyTorch twins: ``torch.nn.BatchNorm1d`` for (N, C) or (N, C, L), ``torch.nn.BatchNorm2d``
    for (N, C, H, W). Parameters ``weight`` (gamma, ones) and ``bias`` (beta, zeros), shape (C,);
    buffers ``running_mean`` (zeros) and ``running_var`` (ones), shape (C,).

    Training: over the m = N * H * W values of each channel, mean mu and *biased* variance s^2;
    x_hat = (x - mu) / sqrt(s^2 + eps); y = gamma x_hat + beta. The running statistics move by
    ``momentum`` towards the batch's: running_mean += momentum (mu - running_mean), and the
    same for running_var with the *unbiased* variance s^2 m / (m - 1), as PyTorch does.
    Evaluation: the running statistics replace the batch's. ``momentum=None`` makes the running
    statistics a cumulative average over ``num_batches_tracked`` batches, as in PyTorch.

    The statistics are accumulated in float64 (a shifted two-pass algorithm) whatever the input's
    dtype, and the output has the input's dtype: float32 data with a large mean keeps its digits.

    Backward (training), per channel, with g = dL/dy and dx_hat = g gamma:
    dL/dx = (1 / sqrt(s^2 + eps)) (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)).
    """

    _buffers = ("running_mean", "running_var")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, dtype=np.float64):
        if not isinstance(num_features, int | np.integer) or num_features <= 0:
            raise ValueError(f"BatchNorm: num_features must be a positive integer, "
                             f"got {num_features!r}")
        if momentum is not None:
            if not isinstance(momentum, int | float | np.integer | np.floating):
                raise TypeError(f"BatchNorm: momentum must be a number in [0, 1] or None "
                                f"(cumulative average, as in PyTorch), got {momentum!r}")
            if not 0 <= momentum <= 1:
                raise ValueError(f"BatchNorm: momentum must lie in [0, 1] (or be None), "
                                 f"got {momentum}")
            momentum = float(momentum)
        if not isinstance(eps, int | float | np.integer | np.floating) or not eps > 0:
            raise ValueError(f"BatchNorm: eps must be a positive number, got {eps!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine = affine
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self.num_batches_tracked = 0

    def _axes_and_shape(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm({self.num_features}) expects an input of shape "
                             f"(N, {self.num_features}) or (N, {self.num_features}, *), "
                             f"got shape {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim))
        return axes, (1, -1) + (1,) * (x.ndim - 2)

    def forward(self, x):
        x = as_input(x, "BatchNorm")
        axes, shape = self._axes_and_shape(x)
        gamma = self.weight.data.astype(x.dtype).reshape(shape) if self.affine else 1
        beta = self.bias.data.astype(x.dtype).reshape(shape) if self.affine else 0
        if self.training:
            m = x.size // self.num_features
            if m <= 1:
                raise ValueError("BatchNorm: expected more than 1 value per channel when "
                                 f"training, got input of shape {x.shape}")
            e = _scale_exponents(np.abs(x).max(axis=axes), x.dtype)     # (C,), 0 unless huge
            mean_s, var_s = self._statistics(x, axes, shape, e)          # float64, / 2^e, / 4^e
            with np.errstate(over="ignore"):                             # var may overflow
                mean, var = np.ldexp(mean_s, e), np.ldexp(var_s, 2 * e)
            self.num_batches_tracked += 1
            factor = 1 / self.num_batches_tracked if self.momentum is None else self.momentum
            with np.errstate(over="ignore", invalid="ignore"):
                self.running_mean += factor * (mean - self.running_mean)
                self.running_var += factor * (var * m / (m - 1) - self.running_var)
            inv_std_s = 1 / np.sqrt(var_s + np.ldexp(self.eps, -2 * e))  # inv_std * 2^e
        else:
            mean, var = self.running_mean.astype(np.float64), self.running_var.astype(np.float64)
            if not (np.isfinite(mean).all() and np.isfinite(var).all()):
                raise ValueError(
                    "BatchNorm: running_mean or running_var is not finite (a training batch's "
                    f"variance overflowed {self.running_var.dtype}); evaluation would divide by "
                    "an infinite standard deviation. Rescale the inputs, or reset the running "
                    "statistics")
            e = _scale_exponents(np.maximum(np.abs(x).max(axis=axes), np.abs(mean)), x.dtype)
            mean_s = np.ldexp(mean, -e)
            inv_std_s = np.ldexp(1 / np.sqrt(var + self.eps), e)
        c = mean_s.astype(x.dtype)                                      # mean rounded to x's
        xs = np.ldexp(x, -e.reshape(shape)) if e.any() else x           # exact; 2^0: skip
        x_hat = xs - c.reshape(shape)                                   # (N, C, *)
        x_hat -= (mean_s - c).astype(x.dtype).reshape(shape)
        x_hat *= inv_std_s.astype(x.dtype).reshape(shape)
        inv_std = np.ldexp(inv_std_s, -e).astype(x.dtype)               # (C,)
        self._cache = (x_hat, inv_std, gamma, axes, shape, self.training)
        y = gamma * x_hat + beta
        if not np.isfinite(y).all():
            raise ValueError(f"BatchNorm: the output overflows {x.dtype} (weight, bias or "
                             "the running statistics are too large for this input)")
        return y

    @staticmethod
    def _statistics(x, axes, shape, e):
        """Mean and biased variance of each channel of x / 2^e, accumulated in float64 by a
        shifted two-pass algorithm: d = x - c with c the mean rounded to x's dtype (exact when
        x lies near c), then var = mean(d^2) - mean(d)^2. The naive float32 E[x^2] - E[x]^2
        loses every digit when the mean is large against the spread (mean 1e4, std 0.01).

        The scaling by a power of two, 2^-e per channel, is exact; e is 0 unless the entries
        are so large that d^2 (or the sum of x) would overflow (see ``_scale_exponents``), so
        for ordinary data this is the unscaled computation bit for bit. The caller keeps the
        results scaled: var itself may exceed the dtype (|x| ~ 1e160 in float64) while
        x_hat = (x - mean) / std, a ratio of scaled numbers, is still right."""
        xs = np.ldexp(x, -e.reshape(shape)) if e.any() else x           # exact; 2^0: skip
        mean = xs.mean(axis=axes, dtype=np.float64)                     # (C,)
        d = xs - mean.astype(x.dtype).reshape(shape)   # (N, C, *) in x's dtype, exact near c
        d_mean = d.mean(axis=axes, dtype=np.float64)                    # mean - c, tiny
        var = (d * d).mean(axis=axes, dtype=np.float64) - d_mean**2     # (C,)
        return mean, np.maximum(var, 0.0)

    def backward(self, grad_output):
        x_hat, inv_std, gamma, axes, shape, training = self._saved()
        g = upstream_grad(self, grad_output, x_hat.shape, x_hat.dtype, "BatchNorm")
        if self.affine:
            self.weight.accumulate((g * x_hat).sum(axis=axes))   # dL/dgamma
            self.bias.accumulate(g.sum(axis=axes))               # dL/dbeta
        dx_hat = g * gamma
        if not training:                                         # statistics are constants
            return dx_hat * inv_std.reshape(shape)
        mean_dx_hat = dx_hat.mean(axis=axes, keepdims=True, dtype=np.float64).astype(g.dtype)
        mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=axes, keepdims=True,
                                                  dtype=np.float64).astype(g.dtype)
        return inv_std.reshape(shape) * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}")
