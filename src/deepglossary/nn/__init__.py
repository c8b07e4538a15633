"""Layers, PyTorch's shape rebuilt in NumPy with every backward pass written out by hand."""

from deepglossary.nn.activations import (
    Elementwise,
    LeakyReLU,
    PReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Tanh,
)
from deepglossary.nn.affine import Affine
from deepglossary.nn.batchnorm import BatchNorm
from deepglossary.nn.core import Layer, Parameter, Sequential, as_input, nonfinite_allowed
from deepglossary.nn.dropout import Dropout
from deepglossary.nn.highway import Highway
from deepglossary.nn.softmax import LogSoftmax, Softmax

__all__ = ["Affine", "BatchNorm", "Dropout", "Elementwise", "Highway", "Layer", "LeakyReLU",
           "LogSoftmax", "PReLU", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
           "Softplus", "Tanh", "as_input", "nonfinite_allowed"]
