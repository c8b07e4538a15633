"""Measurements of a network's insides: gradient sizes per layer, activations per layer."""

import numpy as np

from deepglossary.nn.affine import Affine
from deepglossary.nn.core import nonfinite_allowed


def weight_gradient_norms(model, loss_fn, x, y) -> np.ndarray:
    """One forward and backward pass; the Frobenius norm of dL/dW of every affine layer of the
    ``Sequential`` ``model``, first layer first. Overflow gives inf or NaN instead of an error,
    so that an exploding network can be measured."""
    model.zero_grad()
    with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
        loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        return np.array([np.linalg.norm(layer.weight.grad) for layer in model
                         if isinstance(layer, Affine)])


def layer_outputs(model, x) -> list:
    """The output of every layer of the ``Sequential`` ``model`` for input x, in order."""
    outputs = []
    with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
        for layer in model:
            x = layer(x)
            outputs.append(x)
    return outputs


def input_gradient_norms(model, loss_fn, x, y) -> np.ndarray:
    """One forward and backward pass; the norm of dL/d(input) of every affine layer of the
    ``Sequential`` ``model`` (the backpropagated signal delta), first layer first."""
    model.zero_grad()
    norms = []
    with nonfinite_allowed(), np.errstate(over="ignore", invalid="ignore"):
        loss_fn(model(x), y)
        grad = loss_fn.backward()
        for layer in reversed(list(model)):
            grad = layer.backward(grad)
            if isinstance(layer, Affine):
                norms.append(np.linalg.norm(grad))
    return np.array(norms[::-1])
