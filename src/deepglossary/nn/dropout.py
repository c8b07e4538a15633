"""Dropout: randomly silence units during training."""

import numpy as np

from deepglossary.nn.core import Layer, as_input
from deepglossary.random import default_rng


class Dropout(Layer):
    """Inverted dropout. PyTorch twin: ``torch.nn.Dropout(p)``.

    Training: each entry is kept with probability 1 - p and the kept ones are scaled by
    1 / (1 - p), so the expected output equals the input; y = x * m / (1 - p), m ~ Bernoulli(1 - p).
    Evaluation (``eval()``): the identity. Backward: dL/dx = dL/dy * m / (1 - p).
    With p = 1 every entry is dropped and the output is zero, as in PyTorch.

    Shapes: x (*), y (*) the same. ``fixed_mask`` (a boolean array of x's shape, True = keep)
    replaces the random draw when set, so a mask can be injected, e.g. to reproduce PyTorch's.
    """

    def __init__(self, p: float = 0.5, rng=None):
        if not isinstance(p, int | float | np.integer | np.floating):
            raise TypeError(f"Dropout: p must be a number in [0, 1], got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.rng = rng
        self.fixed_mask = None

    def forward(self, x):
        x = as_input(x, "Dropout")
        if not self.training or self.p == 0.0:
            self._cache = (np.ones((), dtype=x.dtype), x.shape)   # gradient passes unchanged
            return x.copy()
        if self.fixed_mask is not None:
            keep = np.asarray(self.fixed_mask, dtype=bool)
            if keep.shape != x.shape:
                raise ValueError(f"Dropout.fixed_mask has shape {keep.shape}, but the input "
                                 f"has shape {x.shape}; they must be equal")
        else:
            keep = default_rng(self.rng).random(x.shape) >= self.p
        scale = np.zeros((), x.dtype) if self.p == 1.0 else np.asarray(1 / (1 - self.p), x.dtype)
        factor = keep * scale                                  # m / (1 - p), x's shape
        self._cache = (factor, x.shape)
        return x * factor

    def backward(self, grad_output):
        factor, shape = self._saved()
        return self._check_grad(grad_output, shape, "Dropout") * factor

    def extra_repr(self) -> str:
        return f"p={self.p}"
