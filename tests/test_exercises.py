"""The exercise checkers accept right answers and reject wrong ones."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.exercises import blocks


def test_parameter_count_checker():
    blocks.check_parameter_count(lambda s: sum(a * b + b for a, b in zip(s, s[1:])))
    with pytest.raises(AssertionError, match="expected"):
        blocks.check_parameter_count(lambda s: sum(a * b for a, b in zip(s, s[1:])))


def test_affine_backward_checker():
    def right(x, w, g):
        return g @ w, g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1]), \
            g.reshape(-1, g.shape[-1]).sum(0)

    def transposed(x, w, g):
        dx, dw, db = right(x, w, g)
        return dx, dw.T, db

    blocks.check_affine_backward(right)
    with pytest.raises(AssertionError):
        blocks.check_affine_backward(transposed)


def test_collapse_checker():
    def right(layers):
        w, b = np.eye(layers[0].in_features), np.zeros(layers[0].in_features)
        for layer in layers:
            w, b = layer.weight.data @ w, layer.weight.data @ b + layer.bias.data
        return w, b

    blocks.check_collapse(right)
    with pytest.raises(AssertionError):
        blocks.check_collapse(lambda layers: (right(layers)[0], 0.0))


def test_activation_checker():
    class SiLU(nn.Elementwise):
        def f(self, x):
            return x / (1 + np.exp(-x))

        def df(self, x, y):
            s = 1 / (1 + np.exp(-x))
            return s * (1 + x * (1 - s))

    class WrongSiLU(SiLU):
        def df(self, x, y):
            return 1 / (1 + np.exp(-x))

    blocks.check_activation(SiLU, torch.nn.SiLU)
    with pytest.raises(AssertionError):
        blocks.check_activation(WrongSiLU, torch.nn.SiLU)
