"""A compiled expression as a layer, so that ``verify.against_torch`` can check it.

``SymbolicLayer(build, ndims)`` holds a Python function that builds an expression from
symbolic inputs. Called on arrays, it makes input variables of the arrays' dtype (so one
layer serves float64 and float32), compiles ``build(*variables)`` with ``function``, and
returns its value; ``backward(g)`` compiles the symbolic gradients ``Lop(output, inputs, g)``
and returns them. Nothing here differentiates numerically: the gradients are the graphs that
``grad`` built, rewritten and compiled. PyTorch counterpart: the same expression written with
torch operations, differentiated by autograd.
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.theano.compile import function
from deepglossary.frameworks.theano.gradient import Lop
from deepglossary.frameworks.theano.graph import TensorType, Variable
from deepglossary.frameworks.theano.rewrites import GROUPS
from deepglossary.nn.core import Layer


class SymbolicLayer(Layer):
    """``build(*variables) -> Variable``: the expression; ``ndims``: the number of dimensions
    of each input; ``rewrites``: the rewrite groups applied when compiling."""

    def __init__(self, build, ndims, rewrites=GROUPS):
        self.build, self.ndims, self.rewrites = build, tuple(ndims), tuple(rewrites)
        self._compiled = {}

    def compiled(self, dtype):
        """(forward function, gradient function, the symbolic output) for one dtype."""
        dtype = np.dtype(dtype)
        if dtype not in self._compiled:
            xs = [Variable(TensorType(dtype, [False] * n), name=f"x{k}")
                  for k, n in enumerate(self.ndims)]
            out = self.build(*xs)
            g = Variable(TensorType(out.dtype, [False] * out.ndim), name="g")
            grads = Lop(out, xs, g, disconnected="zero")
            self._compiled[dtype] = (function(xs, out, rewrites=self.rewrites),
                                     function(xs + [g], grads, rewrites=self.rewrites), out)
        return self._compiled[dtype]

    def forward(self, *inputs):
        if len(inputs) != len(self.ndims):
            raise TypeError(f"expected {len(self.ndims)} inputs, got {len(inputs)}")
        inputs = [np.asarray(x) for x in inputs]
        for k, (x, n) in enumerate(zip(inputs, self.ndims)):
            if x.ndim != n:
                raise ValueError(f"input {k} must be {n}-d, got shape {x.shape}")
        self._cache = inputs
        f, _, _ = self.compiled(inputs[0].dtype)
        return f(*inputs)

    def backward(self, grad_output):
        inputs = self._cache
        _, df, _ = self.compiled(inputs[0].dtype)
        return tuple(df(*inputs, np.asarray(grad_output, dtype=inputs[0].dtype)))
