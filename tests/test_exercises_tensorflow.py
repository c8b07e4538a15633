"""The TensorFlow chapter's checkers accept right answers and reject the usual slips."""

import numpy as np
import pytest

from deepglossary.exercises import tensorflow as ex
from deepglossary.frameworks import tensorflow as tf
from deepglossary.frameworks.tensorflow import ops


def test_softplus_checker_accepts_right_rules():
    ex.check_softplus_grad(lambda op, g: [g * tf.sigmoid(op.inputs[0])])
    ex.check_softplus_grad(lambda op, g: [g * (1.0 - tf.exp(-op.outputs[0]))])  # via y
    assert "Softplus" not in ops.OPS                  # the checker leaves no op behind


@pytest.mark.parametrize("rule", [
    lambda op, g: [tf.sigmoid(op.inputs[0])],                  # forgets the upstream g
    lambda op, g: [g * tf.sigmoid(op.outputs[0])],             # sigmoid of the output
    lambda op, g: [g * op.outputs[0]],                         # exp's rule
    lambda op, g: [g * ops.step(op.inputs[0])],                 # relu's rule
    lambda op, g: [g * tf.sigmoid(op.inputs[0]) * tf.constant(1.0)],   # a float64 constant
    lambda op, g: g * tf.sigmoid(op.inputs[0]),                # a tensor, not a list
    lambda op, g: [np.ones(3)],                                # an array, not a graph node
])
def test_softplus_checker_rejects_slips(rule):
    with pytest.raises(AssertionError):
        ex.check_softplus_grad(rule)
    assert "Softplus" not in ops.OPS


def right_needed(fetches, feed_dict):
    fetches = fetches if isinstance(fetches, list) else [fetches]
    return {op.name for op in tf.ancestors(fetches, stop=list(feed_dict))
            if op.outputs[0] not in feed_dict}


def test_pruning_checker_accepts_the_rule():
    ex.check_pruning(right_needed)


def by_hand(fetches, feed_dict, *, controls=True, stop_at_feeds=True, skip_fed=True):
    fetches = fetches if isinstance(fetches, list) else [fetches]
    fed = {id(t.op) for t in feed_dict} if stop_at_feeds else set()
    todo = [f.op if isinstance(f, tf.Tensor) else f for f in fetches]
    seen = {}
    while todo:
        op = todo.pop()
        if op.name in seen:
            continue
        seen[op.name] = op
        if id(op) not in fed:
            todo += [t.op for t in op.inputs] + (op.control_inputs if controls else [])
    return {name for name, op in seen.items()
            if not (skip_fed and any(op.outputs[0] is t for t in feed_dict))}


def test_pruning_checker_accepts_a_hand_written_search():
    ex.check_pruning(by_hand)


@pytest.mark.parametrize("slip", [dict(controls=False), dict(stop_at_feeds=False),
                                  dict(skip_fed=False)])
def test_pruning_checker_rejects_slips(slip):
    with pytest.raises(AssertionError):
        ex.check_pruning(lambda f, d: by_hand(f, d, **slip))


def test_pruning_checker_rejects_the_whole_graph():
    with pytest.raises(AssertionError):
        ex.check_pruning(lambda f, d: {op.name for op in
                                       (f[0] if isinstance(f, list) else f).graph.operations})


def test_pruning_checker_rejects_the_first_fetch_only():
    def first_only(fetches, feed_dict):
        return by_hand(fetches[0] if isinstance(fetches, list) else fetches, feed_dict)

    with pytest.raises(AssertionError, match="branches"):
        ex.check_pruning(first_only)


@pytest.mark.parametrize("rule", [
    lambda op, g: [g],                                         # the identity's rule
    lambda op, g: [g * ops.step(op.inputs[0])],                # a step: no second derivative
])
def test_softplus_checker_says_why_a_derivative_is_missing(rule):
    with pytest.raises(AssertionError, match="no second derivative reaches"):
        ex.check_softplus_grad(rule)
    assert "Softplus" not in ops.OPS
