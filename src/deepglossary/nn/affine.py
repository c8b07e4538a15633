"""The affine (fully connected) layer: y = x W^T + b."""

import math

import numpy as np

from deepglossary import init
from deepglossary.nn.core import Layer, Parameter, as_input


class Affine(Layer):
    """A fully connected layer, ``y = x @ weight.T + bias``. PyTorch twin: ``torch.nn.Linear``.

    Shapes:
        x:      (*, in_features)     any number of leading batch dimensions
        weight: (out_features, in_features)
        bias:   (out_features,)
        y:      (*, out_features)

    Initialisation is PyTorch's: every entry of ``weight`` and ``bias`` is drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) (``kaiming_uniform_`` with ``a = sqrt(5)``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float64, rng=None):
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"Affine: {name} must be a positive integer, got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        self.bias = None
        if bias:
            bound = 1 / math.sqrt(in_features)
            self.bias = init.uniform_(Parameter(np.empty(out_features, dtype=dtype)),
                                      -bound, bound, rng)

    def forward(self, x):
        x = as_input(x, repr(self), last_dim=self.in_features, min_ndim=1)
        y = x @ self.weight.data.astype(x.dtype, copy=False).T
        if self.bias is not None:
            y += self.bias.data.astype(x.dtype, copy=False)
        self._cache = x
        return y

    def backward(self, grad_output):
        x = self._saved()
        g = self._check_grad(grad_output, x.shape[:-1] + (self.out_features,), "Affine")
        g2d = g.reshape(-1, self.out_features)            # (N, out), N = all batch dims
        x2d = x.reshape(-1, self.in_features)             # (N, in)
        self.weight.accumulate(g2d.T @ x2d)               # dL/dW = g^T x      (out, in)
        if self.bias is not None:
            self.bias.accumulate(g2d.sum(axis=0))         # dL/db = sum_n g_n  (out,)
        return g @ self.weight.data.astype(g.dtype, copy=False)   # dL/dx = g W  (*, in)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
