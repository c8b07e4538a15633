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
from deepglossary.nn.conv import Conv1d, Conv2d
from deepglossary.nn.core import (
    Layer,
    Parameter,
    Sequential,
    as_input,
    is_grad_enabled,
    no_grad,
    nonfinite_allowed,
)
from deepglossary.nn.dropout import Dropout
from deepglossary.nn.highway import Highway
from deepglossary.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, Flatten, MaxPool2d
from deepglossary.nn.softmax import LogSoftmax, Softmax

__all__ = ["AdaptiveAvgPool2d", "Affine", "AvgPool2d", "BatchNorm", "Conv1d", "Conv2d",
           "Dropout", "Flatten", "MaxPool2d", "Elementwise", "Highway", "Layer", "LeakyReLU",
           "LogSoftmax", "PReLU", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
           "Softplus", "Tanh", "as_input", "is_grad_enabled", "no_grad", "nonfinite_allowed"]
