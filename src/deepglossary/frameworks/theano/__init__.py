"""Theano, small: symbolic expressions, symbolic gradients, graph rewrites, compilation.

Theano (Université de Montréal, developed until 2017) had the user *describe* a computation with
symbolic variables, then compile it. This package keeps its four ideas:

* ``graph`` and ``ops`` (``elemwise`` and ``structural``): typed symbolic variables
  (``scalar``, ``vector``, ``matrix``, ``shared``, ``constant``) and operations that build an
  expression graph;
* ``gradient``: ``grad(cost, wrt)`` returns the gradient as *new graphs*;
* ``rewrites``: the optimiser (``rewrite``) (constant folding, merging, algebra, stabilisation);
* ``compile``: ``function(inputs, outputs, updates)`` turns the rewritten graph into a flat
  list of NumPy steps, with shared variables updated after each call.

Usage (Theano's own idiom)::

    from deepglossary.frameworks import theano as th
    x, w = th.matrix("x"), th.shared(np.zeros(3), name="w")
    cost = th.mean(th.softplus(-th.dot(x, w)))
    train = th.function([x], cost, updates=[(w, w - 0.1 * th.grad(cost, w))])
"""

from deepglossary.frameworks.theano.compile import Function, MissingInputError, function
from deepglossary.frameworks.theano.gradient import DisconnectedInputError, Lop, grad
from deepglossary.frameworks.theano.graph import (
                                                  Apply,
                                                  Constant,
                                                  SharedVariable,
                                                  TensorType,
                                                  Variable,
                                                  ancestors,
                                                  constant,
                                                  count_nodes,
                                                  inputs_of,
                                                  matrix,
                                                  scalar,
                                                  shared,
                                                  vector,
)
from deepglossary.frameworks.theano.layer import SymbolicLayer
from deepglossary.frameworks.theano.ops import (
                                                  add,
                                                  div,
                                                  dot,
                                                  eq,
                                                  exp,
                                                  expand_dims,
                                                  gt,
                                                  log,
                                                  log_softmax,
                                                  maximum,
                                                  mean,
                                                  mul,
                                                  neg,
                                                  outer,
                                                  pow,
                                                  sigmoid,
                                                  softmax,
                                                  softplus,
                                                  sub,
                                                  sum,
                                                  tanh,
                                                  transpose,
                                                  zeros_like,
)
from deepglossary.frameworks.theano.printing import debugprint, draw_graph, pp
from deepglossary.frameworks.theano.rewrites import GROUPS, Rewritten, rewrite

__all__ = ["Apply", "Constant", "DisconnectedInputError", "Function", "GROUPS", "Lop",
           "MissingInputError", "Rewritten", "SharedVariable", "SymbolicLayer", "TensorType",
           "Variable", "add", "ancestors", "constant", "count_nodes", "debugprint", "div", "dot",
           "draw_graph", "eq", "exp", "expand_dims", "function", "grad", "gt", "inputs_of",
           "log", "log_softmax", "matrix", "maximum", "mean", "mul", "neg", "outer", "pow", "pp",
           "rewrite", "scalar", "shared", "sigmoid", "softmax", "softplus", "sub", "sum", "tanh",
           "transpose", "vector", "zeros_like"]
