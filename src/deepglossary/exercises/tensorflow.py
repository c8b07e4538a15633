"""Checkers for the TensorFlow chapter's exercises: a gradient rule that adds graph nodes, and
the pruning by which ``Session.run`` picks the operations to execute.

``check_softplus_grad(rule)`` files ``rule`` as the gradient of a new op ``Softplus``
(y = log(1 + e^x)) and compares the first and second derivatives it yields, through
``gradients``, with those of the correct rule, on graphs where the upstream gradient is not
all ones (a forgotten g fails), x is negative and positive (the output used for the input
fails), in float32 (a float64 constant fails), and differentiated twice (a rule computed
outside the graph fails). ``check_pruning(needed)`` compares the student's set of op names
with the ops ``Session.run`` executes, on fetches behind control inputs (a training op),
fed intermediate tensors, shared nodes and several fetches at once.
"""

import numpy as np

from deepglossary.exercises import compare, passed
from deepglossary.frameworks import tensorflow as tf
from deepglossary.frameworks.tensorflow import ops


def _softplus_kernel(values, attrs):
    return np.logaddexp(0, values[0]).astype(values[0].dtype)


def _reference_rule(op, g):
    return [g * ops.sigmoid(op.inputs[0])]                    # dy/dx = sigmoid(x)


def softplus(x):
    """The op of the exercise: y = log(1 + e^x), elementwise (``torch.nn.functional.softplus``)."""
    return ops.apply("Softplus", [ops.convert(x)])


def _derivatives(rule, dtype, seed):
    """First and second derivatives of L = <G, softplus(x W)> with respect to x and W."""
    ops.register("Softplus", _softplus_kernel, ops._same, rule)
    rng = np.random.default_rng(seed)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(dtype, (None, 3), name="x")
        w = tf.Variable(rng.standard_normal((3, 2)).astype(dtype) * 2, name="W")
        y = softplus(tf.matmul(x, w))
        upstream = tf.constant(rng.standard_normal((4, 2)).astype(dtype))
        first = tf.gradients(y, [x, w], grad_ys=upstream)
        if any(d is not None and not isinstance(d, tf.Tensor) for d in first):
            raise AssertionError("the rule must return graph tensors built with the package's "
                                 "ops (tf.sigmoid, *, ...), not arrays")
        for name, d in zip(("x", "W"), first):
            if d is None:
                raise AssertionError(f"no first derivative reaches {name} ("
                                     f"{np.dtype(dtype).name}, seed {seed}): does your rule "
                                     f"return [A_bar], a list holding one tensor?")
        second = tf.gradients(tf.reduce_sum(tf.square(first[1])), [x, w])
        for name, d in zip(("x", "W"), second):
            if d is None:
                raise AssertionError(
                    f"no second derivative reaches {name} ({np.dtype(dtype).name}, seed "
                    f"{seed}): is your rule differentiable, built from ops that have a "
                    f"gradient (tf.sigmoid, tf.exp, *, ...)? A step such as [A > 0] has none")
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        x_value = rng.standard_normal((4, 3)).astype(dtype) * 2      # negative and positive
        return sess.run([first, second], {x: x_value})


def check_softplus_grad(rule):
    """``rule(op, g)`` returns ``[dL/dx]``, a list holding one Tensor, for the op
    y = softplus(x) = log(1 + e^x) whose output gradient is ``g`` (a Tensor shaped like y);
    ``op.inputs[0]`` is x, ``op.outputs[0]`` is y. Build it from the package's ops so that it
    can be differentiated again. Raises AssertionError naming the first case that fails."""
    cases = 0
    try:
        for dtype, seed in ((np.float64, 0), (np.float64, 1), (np.float32, 2)):
            case = f"{np.dtype(dtype).name}, seed {seed}"
            try:
                got = _derivatives(rule, dtype, seed)
            except AssertionError:
                raise
            except Exception as err:
                raise AssertionError(f"building or running your rule failed ({case}): "
                                     f"{type(err).__name__}: {err}") from None
            expected = _derivatives(_reference_rule, dtype, seed)
            tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else {}
            for order, g_pair, e_pair in zip(("first", "second"), got, expected):
                for name, g, e in zip(("x", "W"), g_pair, e_pair):
                    if np.asarray(g).dtype != np.dtype(dtype):
                        raise AssertionError(f"the {order} derivative has dtype "
                                             f"{np.asarray(g).dtype}, expected "
                                             f"{np.dtype(dtype)} ({case})")
                    compare(f"{order} derivative with respect to {name}", g, e, case=case,
                            **tol)
            cases += 1
    finally:
        ops.OPS.pop("Softplus", None)
    passed("softplus gradient rule", cases)


def _pruning_cases():
    """(description, graph, fetches, feed_dict) on which Session.run can run."""
    cases = []
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(np.float64, (None, 3), name="x")
        y = tf.placeholder(np.float64, (None, 2), name="y")
        u = tf.placeholder(np.float64, (None,), name="u")
        w = tf.Variable(rng.standard_normal((3, 2)), name="W")
        b = tf.Variable(np.zeros(2), name="b")
        logits = tf.add(tf.matmul(x, w, name="scores"), b, name="logits")
        loss = tf.reduce_mean(tf.softmax_cross_entropy_with_logits(labels=y, logits=logits),
                              name="loss")
        side = tf.reduce_sum(tf.square(u), name="side")
        both = tf.add(side, loss, name="both")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    xs, ys, us = rng.standard_normal((4, 3)), np.eye(2)[[0, 1, 1, 0]], np.ones(5)
    cases.append(("the loss", graph, loss, {x: xs, y: ys}))
    cases.append(("a side branch only", graph, side, {u: us}))
    cases.append(("two fetches sharing nodes", graph, [loss, logits], {x: xs, y: ys}))
    cases.append(("two fetches on separate branches", graph, [logits, side], {x: xs, u: us}))
    cases.append(("three fetches, the last adding ops", graph, [logits, loss, both],
                  {x: xs, y: ys, u: us}))
    cases.append(("a fed intermediate tensor", graph, loss, {logits: np.zeros((4, 2)), y: ys}))
    cases.append(("a fetch reaching both branches", graph, both, {x: xs, y: ys, u: us}))
    cases.append(("the training op (control inputs)", graph, train, {x: xs, y: ys}))
    cases.append(("the initializer (control inputs)", graph, init, {}))
    cases.append(("a fed variable", graph, logits, {x: xs, w: np.ones((3, 2))}))
    return cases


def check_pruning(needed):
    """``needed(fetches, feed_dict)`` returns the set of names of the operations that
    ``Session.run(fetches, feed_dict)`` executes: the ancestors of the fetches through inputs
    *and* control inputs, where a fed tensor's op is not run and not looked behind.
    ``fetches`` is a Tensor, an Operation or a list of them; ``feed_dict`` maps tensors to
    arrays. Raises AssertionError naming the first case that differs."""
    cases = _pruning_cases()
    for description, graph, fetches, feed in cases:
        sess = tf.Session(graph)
        sess.run(graph.get_operation_by_name("init"))
        sess.run(fetches, feed)
        expected = {op.name for op in sess.executed}
        got = needed(fetches, feed)
        got = {getattr(g, "name", g) for g in got}
        if got != expected:
            raise AssertionError(f"{description}: expected {sorted(expected)}, got "
                                 f"{sorted(got)} (missing {sorted(expected - got)}, extra "
                                 f"{sorted(got - expected)})")
    passed("pruning", len(cases))
