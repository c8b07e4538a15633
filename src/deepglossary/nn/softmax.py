"""Softmax and log-softmax along one dimension, computed stably."""

import numpy as np

from deepglossary.nn.core import Layer, as_input


def check_dim(layer: Layer, dim, x=None) -> None:
    """Refuse a ``dim`` that is not an integer (TypeError) or not a dimension of x
    (ValueError, as numpy's AxisError, which is both a ValueError and an IndexError)."""
    if x is None:
        if not isinstance(dim, int | np.integer) or isinstance(dim, bool):
            raise TypeError(f"{type(layer).__name__}: dim must be an integer, got {dim!r}")
    elif not -x.ndim <= dim < x.ndim:
        raise np.exceptions.AxisError(
            f"{layer!r} got an input of shape {x.shape} with {x.ndim} dimension(s); dim must "
            f"lie in [{-x.ndim}, {x.ndim - 1}], got {dim}")


def log_softmax(x, axis: int = -1):
    """x - logsumexp(x): the largest entry is subtracted first, so no exponential overflows."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis: int = -1):
    """exp(x_i) / sum_j exp(x_j), computed as exp(x_i - max x) / sum_j exp(x_j - max x)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Layer):
    """Turns scores into probabilities along ``dim``. PyTorch twin: ``torch.nn.Softmax(dim)``.

    Shapes: x (*), y (*) the same; every slice along ``dim`` of y is positive and sums to 1.

    Backward: the Jacobian is dy_i/dx_j = y_i (delta_ij - y_j), so
    dL/dx = y * (g - sum(g * y, dim)), without ever forming the matrix.
    """

    def __init__(self, dim: int = -1):
        check_dim(self, dim)
        self.dim = int(dim)

    def forward(self, x):
        x = as_input(x, "Softmax", min_ndim=1)
        check_dim(self, self.dim, x)
        y = softmax(x, self.dim)
        self._cache = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        g = self._check_grad(grad_output, y.shape, "Softmax")
        return y * (g - (g * y).sum(axis=self.dim, keepdims=True))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Layer):
    """log(softmax(x)) along ``dim``. PyTorch twin: ``torch.nn.LogSoftmax(dim)``.

    Backward: dy_i/dx_j = delta_ij - softmax(x)_j, so dL/dx = g - softmax(x) * sum(g, dim).
    """

    def __init__(self, dim: int = -1):
        check_dim(self, dim)
        self.dim = int(dim)

    def forward(self, x):
        x = as_input(x, "LogSoftmax", min_ndim=1)
        check_dim(self, self.dim, x)
        y = log_softmax(x, self.dim)
        self._cache = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        g = self._check_grad(grad_output, y.shape, "LogSoftmax")
        return g - np.exp(y) * g.sum(axis=self.dim, keepdims=True)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
