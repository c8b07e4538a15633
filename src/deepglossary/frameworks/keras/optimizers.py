"""Keras's optimizers are made *before* the model has weights: ``compile(optimizer="adam")``.
Here each is a recipe whose ``make(parameters)`` builds the package's optimizer once the model
is built. The update formulas are torch's (``deepglossary.optim``); the defaults are Keras's.

Adam's epsilon: Keras's default is 1e-7 (torch: 1e-8), and Keras adds it to sqrt(v_t) before
the bias correction ("epsilon hat" in Kingma and Ba's paper), torch after it. The recipe below
keeps torch's formula with Keras's *value*, 1e-7, so that it can be checked step by step
against ``torch.optim.Adam(eps=1e-7)``; :func:`keras_adam_step` is Keras's own formula, and
the chapter measures the difference.
"""

from __future__ import annotations

import math

import numpy as np

from deepglossary import optim


class Adam:
    """Keras twin: ``keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7)``; builds ``optim.Adam`` (torch's formula) with these values."""

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon = epsilon

    def make(self, parameters):
        return optim.Adam(parameters, lr=self.learning_rate, betas=(self.beta_1, self.beta_2),
                          eps=self.epsilon)


class SGD:
    """Keras twin: ``keras.optimizers.SGD(learning_rate=0.01, momentum=0.0)``."""

    def __init__(self, learning_rate=0.01, momentum=0.0):
        self.learning_rate, self.momentum = learning_rate, momentum

    def make(self, parameters):
        return optim.SGD(parameters, lr=self.learning_rate, momentum=self.momentum)


class RMSprop:
    """Keras twin: ``keras.optimizers.RMSprop(learning_rate=1e-3, rho=0.9, epsilon=1e-7)``
    (torch's formula: eps outside the square root)."""

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-7):
        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon

    def make(self, parameters):
        return optim.RMSprop(parameters, lr=self.learning_rate, alpha=self.rho, eps=self.epsilon)


NAMES = {"adam": Adam, "sgd": SGD, "rmsprop": RMSprop}


def get(optimizer):
    """A recipe from a Keras name (``"adam"``, ``"sgd"``, ``"rmsprop"``) or a recipe object."""
    if isinstance(optimizer, str):
        if optimizer.lower() not in NAMES:
            raise ValueError(f"unknown optimizer {optimizer!r}; known names: {sorted(NAMES)}")
        return NAMES[optimizer.lower()]()
    if not hasattr(optimizer, "make"):
        raise TypeError(f"optimizer must be a name such as 'adam' or an optimizer of "
                        f"deepglossary.frameworks.keras.optimizers, got {optimizer!r}")
    return optimizer


def keras_adam_step(p, g, m, v, t, learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
                    epsilon=1e-7):
    """One step of Keras's Adam formula, on arrays; returns the new (p, m, v).

    alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t); p <- p - alpha_t m / (sqrt(v) + eps): the
    epsilon meets the *uncorrected* sqrt(v), which is torch's Adam with eps_t =
    eps / sqrt(1 - b2^t) (larger early on: 3.2e-6 at t = 1 for Keras's 1e-7).
    """
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return p - alpha * m / (np.sqrt(v) + epsilon), m, v
