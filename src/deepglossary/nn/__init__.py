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
from deepglossary.nn.attention import (
    AdditiveAttention,
    MultiheadAttention,
    MultiplicativeAttention,
    ScaledDotProductAttention,
)
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
from deepglossary.nn.embedding import Embedding, EmbeddingBag
from deepglossary.nn.highway import Highway
from deepglossary.nn.inception import BasicConv2d, Inception
from deepglossary.nn.lrn import LocalResponseNorm
from deepglossary.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, Flatten, MaxPool2d
from deepglossary.nn.residual import BasicBlock, Bottleneck, PadShortcut
from deepglossary.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from deepglossary.nn.softmax import LogSoftmax, Softmax

__all__ = ["AdaptiveAvgPool2d", "Affine", "AvgPool2d", "BatchNorm", "Conv1d", "Conv2d",
           "Dropout", "Flatten", "MaxPool2d", "Elementwise", "Highway", "Layer", "LeakyReLU",
           "LogSoftmax", "PReLU", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
           "Softplus", "Tanh", "as_input", "is_grad_enabled", "no_grad", "nonfinite_allowed"]

BatchNorm1d = BatchNorm2d = BatchNorm   # PyTorch's names: one layer handles (N, C) and (N, C, H, W)
__all__ += ["BatchNorm1d", "BatchNorm2d"]
__all__ += ["LocalResponseNorm"]
__all__ += ["BasicBlock", "Bottleneck", "PadShortcut"]
__all__ += ["BasicConv2d", "Inception"]
__all__ += ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]
__all__ += ["Embedding", "EmbeddingBag"]
__all__ += ["AdditiveAttention", "MultiheadAttention", "MultiplicativeAttention",
            "ScaledDotProductAttention"]
