"""Keras-style layers: they learn their input size at ``build`` time, from the first batch or
from ``Input(shape=...)``, not in their constructor.

``Dense(64, activation="relu")`` names no input size; ``build((None, 784))`` creates the
package's :class:`~deepglossary.nn.Affine` (784 -> 64, weight ``(64, 784)`` as torch stores
it; Keras's ``kernel`` is its transpose, ``(784, 64)``) with Keras's initialisation,
``glorot_uniform`` weights and zero biases. The forward and backward passes are the package's
layers', chained; nothing is re-derived here.
"""

from __future__ import annotations

import numpy as np

from deepglossary import init
from deepglossary.nn.activations import ReLU, Sigmoid, Tanh
from deepglossary.nn.affine import Affine
from deepglossary.nn.core import Layer
from deepglossary.nn.dropout import Dropout as _Dropout
from deepglossary.nn.softmax import Softmax

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}


def activation_layer(name):
    """The package layer for a Keras activation name; ``None`` or ``"linear"``: no layer."""
    if name is None or name == "linear":
        return None
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of "
                         f"{sorted(ACTIVATIONS) + ['linear', None]}")
    return ACTIVATIONS[name]()


class KerasLayer(Layer):
    """A layer built lazily: ``build(input_shape)`` (batch dimension first, ``None``) creates
    its parameters; ``compute_output_shape(input_shape)`` says what comes out.

    Keras twin: ``keras.layers.Layer``. ``build`` is called by the model with its dtype and
    random generator, or by the first call on an array.
    """

    built = False
    kind = "layer"              # the prefix of Keras's automatic names: dense, dense_1, ...

    def build(self, input_shape: tuple, dtype=np.float32, rng=None) -> None:
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def __call__(self, *inputs):
        if not self.built:                     # a lone layer called on an array builds itself
            x = np.asarray(inputs[0])
            self.build((None,) + x.shape[1:], x.dtype if x.dtype.kind == "f" else np.float32)
        return super().__call__(*inputs)


class Input:
    """``Input(shape=(784,))``: the shape of one example, without the batch dimension, given
    first in a ``Sequential`` so that the model is built (and ``summary`` works) before any
    data arrive. Keras twin: ``keras.Input``. Not a layer: it computes nothing."""

    def __init__(self, shape, dtype=None):
        shape = tuple(shape) if isinstance(shape, tuple | list) else (shape,)
        if not shape or not all(isinstance(s, int | np.integer) and s > 0 for s in shape):
            raise ValueError(f"Input: shape must be a tuple of positive integers (one example, "
                             f"no batch dimension), e.g. (784,); got {shape!r}")
        self.shape = tuple(int(s) for s in shape)
        self.dtype = None if dtype is None else np.dtype(dtype)


class Dense(KerasLayer):
    """``activation(x @ kernel + bias)``. Keras twin: ``keras.layers.Dense(units, activation)``;
    PyTorch: ``torch.nn.Linear`` followed by the activation.

    Shapes: x (N, in), output (N, units); ``in`` is learnt at ``build``. After building,
    ``self.affine`` is a package :class:`~deepglossary.nn.Affine` with weight (units, in) and
    bias (units,), initialised as Keras does: weight ~ U(-a, a), a = sqrt(6 / (in + units))
    (``glorot_uniform``), bias 0. ``kernel`` is the weight in Keras's layout, (in, units).
    """

    kind = "dense"

    def __init__(self, units: int, activation=None, use_bias: bool = True):
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units, self.use_bias = int(units), bool(use_bias)
        self.activation_name = activation
        activation_layer(activation)                 # an unknown name fails here, at once

    def build(self, input_shape, dtype=np.float32, rng=None):
        if len(input_shape) != 2:
            raise ValueError(f"Dense expects inputs of shape (batch, features), got "
                             f"{input_shape}; put a Flatten() before it")
        self.affine = Affine(int(input_shape[-1]), self.units, bias=self.use_bias, dtype=dtype,
                             rng=rng)
        init.xavier_uniform_(self.affine.weight, rng=rng)   # Keras's glorot_uniform
        if self.use_bias:
            init.zeros_(self.affine.bias)                   # Keras's zeros
        activation = activation_layer(self.activation_name)
        if activation is not None:
            self.activation = activation
        self.built = True

    @property
    def kernel(self) -> np.ndarray:
        """The weight as Keras stores it, (in, units): a view of ``affine.weight.data.T``."""
        return self.affine.weight.data.T

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x):
        y = self.affine(x)                                   # (N, units)
        activation = getattr(self, "activation", None)
        return y if activation is None else activation(y)

    def backward(self, grad_output):
        self._backward_begins()
        activation = getattr(self, "activation", None)
        if activation is not None:
            grad_output = activation.backward(grad_output)   # (N, units)
        return self.affine.backward(grad_output)             # (N, in)

    def extra_repr(self):
        return f"units={self.units}, activation={self.activation_name!r}"


class Activation(KerasLayer):
    """An activation on its own: ``Activation("relu")``. Keras twin: ``keras.layers.Activation``."""

    kind = "activation"

    def __init__(self, activation):
        if activation_layer(activation) is None:
            raise ValueError("Activation needs a nonlinearity, got None or 'linear'")
        self.activation_name = activation
        self.activation = activation_layer(activation)
        self.built = True

    def forward(self, x):
        return self.activation(x)

    def backward(self, grad_output):
        self._backward_begins()
        return self.activation.backward(grad_output)


class Dropout(KerasLayer):
    """Inverted dropout at ``rate``, active in ``fit`` only. Keras twin:
    ``keras.layers.Dropout(rate)``; PyTorch: ``torch.nn.Dropout(p=rate)``.

    ``mask`` is the factor the latest training call multiplied by (0 or 1 / (1 - rate),
    the input's shape), so that a run can be replayed elsewhere.
    """

    kind = "dropout"

    def __init__(self, rate: float):
        self.dropout = _Dropout(rate)                # checks 0 <= rate <= 1
        self.rate = self.dropout.p

    def build(self, input_shape, dtype=np.float32, rng=None):
        self.dropout.rng = rng
        self.built = True

    @property
    def mask(self):
        cache = getattr(self.dropout, "_cache", None)
        return None if cache is None else cache[0]

    def forward(self, x):
        return self.dropout(x)

    def backward(self, grad_output):
        self._backward_begins()
        return self.dropout.backward(grad_output)

    def extra_repr(self):
        return f"rate={self.rate}"


class Flatten(KerasLayer):
    """(N, d1, d2, ...) -> (N, d1 d2 ...). Keras twin: ``keras.layers.Flatten``."""

    kind = "flatten"

    def build(self, input_shape, dtype=np.float32, rng=None):
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x):
        x = np.asarray(x)
        self._cache = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_output):
        shape = self._saved()
        return np.asarray(grad_output).reshape(shape)
