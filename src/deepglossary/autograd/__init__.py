"""A small reverse-mode automatic differentiation engine over NumPy arrays.

``engine`` holds :class:`Tensor` with the primitives of the Backpropagation chapter (``+``,
``*``, ``@``, ``sum``, ``exp``, ``log``, ``tanh``, ``relu``, ``**``) and the backward pass;
``ops`` adds the primitives the Neural Turing Machine chapter needs, each with its own
hand-written backward. The most used of those are also Tensor methods (``x.sigmoid()``,
``x[1:3]``, ``x.reshape(...)``, ``x.T``).
"""

from deepglossary.autograd.engine import Tensor, unbroadcast
from deepglossary.autograd.ops import (
    bmm,
    circular_convolution,
    concat,
    cosine_similarity,
    getitem,
    reshape,
    roll,
    sharpen,
    sigmoid,
    softmax,
    softplus,
    stack,
    transpose,
)

Tensor.sigmoid = sigmoid
Tensor.softplus = softplus
Tensor.softmax = softmax
Tensor.__getitem__ = getitem
Tensor.reshape = lambda self, *shape: reshape(self, shape[0] if len(shape) == 1 else shape)
Tensor.transpose = transpose
Tensor.T = property(transpose)

__all__ = ["Tensor", "bmm", "circular_convolution", "concat", "cosine_similarity", "getitem",
           "reshape", "roll", "sharpen", "sigmoid", "softmax", "softplus", "stack",
           "transpose", "unbroadcast"]
