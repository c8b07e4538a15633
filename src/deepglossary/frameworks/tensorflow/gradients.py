"""Reverse mode on the graph: ``gradients(ys, xs)`` *adds nodes* that compute dy/dx.

It visits the ops between ``xs`` and ``ys`` from the outputs back, asks each op's gradient
rule (``ops.py``) for the gradients of its inputs given the gradient of its output, and adds
the contributions of a tensor used several times. Nothing is computed: the result is a list of
tensors, fetched with ``Session.run`` like any other, and differentiable again.
``GradientDescentOptimizer(lr).minimize(loss)`` builds on it.

PyTorch counterpart: ``torch.autograd.grad(ys, xs, grad_outputs, create_graph=True)``, which
records the backward pass while running it instead of building it ahead.
"""

from __future__ import annotations

import numpy as np

from deepglossary.frameworks.tensorflow import ops
from deepglossary.frameworks.tensorflow.graph import Tensor, ancestors, get_default_graph
from deepglossary.frameworks.tensorflow.session import apply_update, group, trainable_variables


def _as_list(x):
    return list(x) if isinstance(x, list | tuple) else [x]


def gradients(ys, xs, grad_ys=None, name="gradients"):
    """Tensors dL/dx for each x in ``xs``, where L = sum_i <grad_ys_i, y_i> (grad_ys default:
    ones, so L = sum of every entry of every y; a constant when y's static shape is fully
    known, as TensorFlow folds it, else ``ones_like(y)``, a node that reads y). Returns a list
    as long as ``xs``; an x that no y depends on gets None (TF's rule). ``tf.gradients``;
    ``torch.autograd.grad(ys, xs, grad_outputs, create_graph=True, allow_unused=True)``."""
    ys, xs = _as_list(ys), _as_list(xs)
    if ops.EAGER[0]:
        raise RuntimeError("tf.gradients is not supported in eager mode; TF 2 uses a "
                           "GradientTape there (not built in this package)")
    grad_ys = [None] * len(ys) if grad_ys is None else _as_list(grad_ys)
    graph = get_default_graph()
    for t in ys + xs:
        if t.graph is not graph:
            raise ValueError(f"{t.name} is not in the default graph: build gradients inside "
                             f"`with graph.as_default():`")
    # the ops on a path from some x to some y: ancestors of ys that descend from an x
    between = ancestors(ys)
    reaches = {id(x.op) for x in xs}
    for op in between:                                    # topological order: inputs first
        if any(id(i.op) in reaches for i in op.inputs):
            reaches.add(id(op))
    pending: dict[int, list[Tensor]] = {}                 # id(tensor) -> contributions
    for y, gy in zip(ys, grad_ys):
        if gy is None and y.shape is not None and None not in y.shape:   # shape known:
            gy = ops.constant(np.ones(y.shape, dtype=y.dtype))  # a constant, as TF folds it,
        elif gy is None:                                       # so the seed does not read y
            gy = ops.ones_like(y)                              # (None sizes: read y's shape)
        else:
            gy = ops.convert(gy, y.dtype)
        pending.setdefault(id(y), []).append(gy)
    wanted = {id(x) for x in xs}
    for op in reversed(between):
        out = op.outputs[0]
        if id(op) not in reaches or id(out) not in pending:
            continue
        g = _total(pending[id(out)])
        pending[id(out)] = [g]
        if id(out) in wanted and not op.inputs:
            continue                                      # a source: nothing behind it
        rule = ops.OPS[op.type]["grad"]
        if rule is None:
            continue                                      # no gradient flows through it
        for x, gx in zip(op.inputs, rule(op, g)):
            if gx is not None and id(x.op) in reaches:
                pending.setdefault(id(x), []).append(gx)
    return [_total(pending[id(x)]) if id(x) in pending else None for x in xs]


def _total(contributions):
    """The sum of a tensor's gradient contributions (one Add node per extra use)."""
    total = contributions[0]
    for c in contributions[1:]:
        total = ops.add(total, c)
    return total


class GradientDescentOptimizer:
    """theta <- theta - lr * dL/dtheta for every trainable variable, as one op.
    ``tf.train.GradientDescentOptimizer`` (TF 1.x); ``torch.optim.SGD(params, lr)``."""

    def __init__(self, learning_rate: float):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        self.learning_rate = learning_rate

    def compute_gradients(self, loss, var_list=None):
        var_list = trainable_variables(loss.graph) if var_list is None else list(var_list)
        with loss.graph.as_default():
            grads = gradients(loss, var_list)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, name="GradientDescent"):
        updates = []
        for g, v in grads_and_vars:
            if g is None:
                continue                                  # a variable the loss ignores
            with v.graph.as_default():
                updates.append(apply_update("AssignSub", v, self.learning_rate * g))
        if not updates:
            raise ValueError("No gradients provided for any variable")
        with updates[0].graph.as_default():
            return group(*updates, name=name)

    def minimize(self, loss, var_list=None):
        """The training op: run it (``sess.run(train_op, feed_dict)``) for one SGD step."""
        return self.apply_gradients(self.compute_gradients(loss, var_list))
