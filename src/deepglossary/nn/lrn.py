"""Local response normalization: each entry divided by a power of the energy of its channel
neighbours at the same position (AlexNet, 2012).

    d_c = k + (alpha / n) * S_c,        S_c = sum of x_{c'}^2 over c' in W(c)
    y_c = x_c * d_c^(-beta)

with n the window ``size`` and W(c) the channels c - floor(n/2) ... c + floor((n-1)/2), those
outside 0 ... C-1 counting as zeros (torch pads the channel axis with floor(n/2) zeros before and
floor((n-1)/2) after). The backward pass (derived in the AlexNet chapter):

    dL/dx_j = g_j d_j^(-beta) - (2 alpha beta / n) x_j * sum over c with j in W(c) of g_c y_c / d_c

and "j in W(c)" is "c in the mirrored window" c = j - floor((n-1)/2) ... j + floor(n/2): the
two windows differ when n is even.
"""

from __future__ import annotations

import numpy as np

from deepglossary.nn.activations import finite_number, upstream_grad
from deepglossary.nn.core import Layer, as_input


def channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """out[:, c] = a[:, c - before] + ... + a[:, c + after], zeros outside the channels.

    Shape: a (N, C, *) -> out (N, C, *). One shifted addition per offset (the window is a
    handful of channels): no cumulative sum, whose differences would cancel digits.
    """
    c = a.shape[1]
    padded = np.zeros((a.shape[0], c + before + after, *a.shape[2:]), dtype=a.dtype)
    padded[:, before:before + c] = a                              # (N, before + C + after, *)
    out = padded[:, :c].copy()                                    # offset -before
    for offset in range(1, before + after + 1):
        out += padded[:, offset:offset + c]                       # offsets -before+1 ... after
    return out


class LocalResponseNorm(Layer):
    """Local response normalization across channels. PyTorch twin:
    ``torch.nn.LocalResponseNorm(size, alpha, beta, k)``, the same formula: ``alpha`` is
    divided by ``size`` (as in torch and Caffe; the 2012 paper's alpha multiplies the plain
    sum, so the paper's alpha = 1e-4 with n = 5 is ``alpha=5e-4`` here).

    Shape:
        x: (N, C, *)   at least three dimensions, as in torch; channels on axis 1
        y: (N, C, *)   the same

    y_c = x_c / (k + alpha / size * sum of x_{c'}^2 over the ``size`` channels around c)^beta,
    the window running from c - size // 2 to c + (size - 1) // 2, zeros beyond the edges.
    No parameters. ``k`` must be positive and ``alpha`` non-negative, so that the base of the
    power is positive (torch accepts any values and returns NaN or inf where it is not).
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive integer, got {size!r}")
        self.size = int(size)
        self.alpha = finite_number(alpha, "LocalResponseNorm", "alpha")
        self.beta = finite_number(beta, "LocalResponseNorm", "beta")
        self.k = finite_number(k, "LocalResponseNorm", "k")
        if self.k <= 0 or self.alpha < 0:
            raise ValueError(f"LocalResponseNorm: k must be positive and alpha non-negative "
                             f"(the base k + alpha/size * sum x^2 must stay positive), got "
                             f"k={self.k}, alpha={self.alpha}")

    def forward(self, x):
        x = as_input(x, "LocalResponseNorm")
        if x.ndim < 3:
            raise ValueError(f"LocalResponseNorm expects an input of shape (N, C, *) with at "
                             f"least 3 dimensions, got shape {x.shape}")
        n = self.size
        energy = channel_window_sum(x * x, n // 2, (n - 1) // 2)   # S_c           (N, C, *)
        d = self.k + (self.alpha / n) * energy                      # d_c = k + a/n S_c
        y = x * d ** -self.beta                                     # y_c = x_c d_c^-beta
        self._cache = (x, d, y)
        return y

    def backward(self, grad_output):
        x, d, y = self._saved()
        g = upstream_grad(self, grad_output, x.shape, x.dtype, "LocalResponseNorm")  # (N, C, *)
        n = self.size
        # sum over the outputs c whose window holds j: the mirrored window
        back = channel_window_sum(g * y / d, (n - 1) // 2, n // 2)  # sum_c g_c y_c / d_c
        return (g * d ** -self.beta                                 # direct path g_j d_j^-beta
                - (2 * self.alpha * self.beta / n) * x * back)      # through every d_c

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
