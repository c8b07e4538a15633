"""TensorFlow 1.x, small: define the graph, then run parts of it in a session.

TensorFlow (Google, released November 2015) had the user build a dataflow graph of
operations first and execute it later, any subset of it, from a ``Session``. This package keeps
the design's pieces:

* ``graph`` and ``ops``: a :class:`Graph` of operations with static shapes (None for sizes
  known only at run time), placeholders, constants, variables, and the ops of a small network;
* ``session``: ``Session.run(fetches, feed_dict)`` runs only the subgraph the fetches need;
  variables live in the session; assignments and ``global_variables_initializer``;
* ``gradients``: ``gradients(ys, xs)`` adds the backward pass *to the graph*, and
  ``GradientDescentOptimizer(lr).minimize(loss)`` returns the update op;
* ``eager``: TensorFlow 2's eager mode and ``function``, which traces Python into a graph;
* ``layer``: a graph as a package Layer, and the same graph run with torch ops.

Usage (TensorFlow 1.x's idiom)::

    from deepglossary.frameworks import tensorflow as tf
    with tf.Graph().as_default():
        x = tf.placeholder(np.float64, (None, 4))
        w = tf.Variable(np.zeros((4, 1)))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
        train = tf.GradientDescentOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, feed_dict={x: data})
"""

from deepglossary.frameworks.tensorflow.drawing import draw_graph, layout
from deepglossary.frameworks.tensorflow.eager import (
                                                      ConcreteFunction,
                                                      Function,
                                                      TensorSpec,
                                                      eager_mode,
                                                      executing_eagerly,
                                                      function,
)
from deepglossary.frameworks.tensorflow.gradients import GradientDescentOptimizer, gradients
from deepglossary.frameworks.tensorflow.graph import (
                                                      FailedPreconditionError,
                                                      Graph,
                                                      InvalidArgumentError,
                                                      Operation,
                                                      Tensor,
                                                      ancestors,
                                                      get_default_graph,
                                                      reset_default_graph,
)
from deepglossary.frameworks.tensorflow.layer import GraphLayer, run_in_torch, torch_twin
from deepglossary.frameworks.tensorflow.ops import (
                                                      EagerTensor,
                                                      add,
                                                      constant,
                                                      divide,
                                                      exp,
                                                      expand_dims,
                                                      identity,
                                                      log,
                                                      log_softmax,
                                                      matmul,
                                                      multiply,
                                                      negative,
                                                      ones_like,
                                                      placeholder,
                                                      reduce_mean,
                                                      reduce_sum,
                                                      relu,
                                                      sigmoid,
                                                      softmax,
                                                      softmax_cross_entropy_with_logits,
                                                      square,
                                                      squeeze,
                                                      subtract,
                                                      tanh,
                                                      transpose,
                                                      zeros_like,
)
from deepglossary.frameworks.tensorflow.session import (
                                                      Session,
                                                      Variable,
                                                      assign,
                                                      assign_sub,
                                                      global_variables_initializer,
                                                      group,
                                                      trainable_variables,
)

train = type("train", (), {"GradientDescentOptimizer": GradientDescentOptimizer})  # tf.train.
nn = type("nn", (), {"relu": relu, "sigmoid": sigmoid, "softmax": softmax,      # tf.nn.
                     "softmax_cross_entropy_with_logits": softmax_cross_entropy_with_logits})

__all__ = ["ConcreteFunction", "EagerTensor", "FailedPreconditionError", "Function",
           "GradientDescentOptimizer", "Graph", "GraphLayer", "InvalidArgumentError",
           "Operation", "Session", "Tensor", "TensorSpec", "Variable", "add", "ancestors",
           "assign", "assign_sub", "constant", "divide", "draw_graph", "eager_mode", "exp",
           "executing_eagerly", "expand_dims", "function", "get_default_graph", "gradients",
           "global_variables_initializer", "group", "identity", "layout", "log", "log_softmax",
           "matmul", "multiply", "negative", "nn", "ones_like", "placeholder", "reduce_mean",
           "reduce_sum", "relu", "reset_default_graph", "run_in_torch", "sigmoid", "softmax",
           "softmax_cross_entropy_with_logits", "square", "squeeze", "subtract", "tanh",
           "torch_twin", "train", "trainable_variables", "transpose", "zeros_like"]
