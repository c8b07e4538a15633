"""Optimizers with ``torch.optim``'s update formulas and defaults.

This first one is plain stochastic gradient descent; momentum, Nesterov, weight decay and the
adaptive methods come with the optimization chapters.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Holds a list of parameters; ``zero_grad()`` clears their gradients, ``step()`` updates.

    PyTorch twin: ``torch.optim.Optimizer``.
    """

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """p <- p - lr * dL/dp, for every parameter that has a gradient.

    PyTorch twin: ``torch.optim.SGD(params, lr)`` (without momentum).
    """

    def __init__(self, params, lr: float = 1e-3):
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr} (it must be >= 0)")
        super().__init__(params)
        self.lr = float(lr)

    def step(self) -> None:
        for p in self.params:
            if p.grad is not None:
                p.data -= np.asarray(self.lr, dtype=p.data.dtype) * p.grad
