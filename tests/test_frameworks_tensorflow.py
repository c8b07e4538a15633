"""The small TensorFlow 1.x: graphs, shape inference, sessions that run only what the fetches
need, variables and assignments, graph-level gradients against torch autograd (hypothesis over
random graphs, float64 and float32, second order too), SGD against torch.optim.SGD, and the
2.x turn (eager execution, ``function`` tracing)."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from deepglossary.frameworks import tensorflow as tf
from deepglossary.frameworks.tensorflow import ops
from deepglossary.frameworks.tensorflow.verify import (
    ENDS,
    STEPS,
    gradients_against_torch,
    random_graph,
)
from deepglossary.verify import VerificationError, against_torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def two_branches():
    """x -> relu(x W) = logits -> loss (needs x, y); u -> 2u -> side (needs only u)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(np.float64, (None, 3), name="x")
        y = tf.placeholder(np.float64, (None, 2), name="y")
        u = tf.placeholder(np.float64, (None,), name="u")
        w = tf.Variable(np.arange(6.0).reshape(3, 2) / 10, name="W")
        logits = tf.relu(tf.matmul(x, w, name="scores"), name="logits")
        loss = tf.reduce_mean(tf.softmax_cross_entropy_with_logits(labels=y, logits=logits),
                              name="loss")
        side = tf.reduce_sum(u * 2.0, name="side")
    return graph, dict(x=x, y=y, u=u, w=w, logits=logits, loss=loss, side=side)


def test_building_computes_nothing_and_names_are_unique():
    graph, t = two_branches()
    assert graph.operations[0].type == "Placeholder" and t["x"].name == "x:0"
    assert t["logits"].shape == (None, 2) and t["loss"].shape == ()
    with graph.as_default():
        again = tf.matmul(t["x"], t["w"], name="scores")
    assert again.op.name == "scores_1"
    assert graph.get_tensor_by_name("loss:0") is t["loss"]


def test_run_executes_only_the_subgraph_the_fetches_need():
    graph, t = two_branches()
    sess = tf.Session(graph)
    sess.run(tf.global_variables_initializer(graph))
    value = sess.run(t["side"], {t["u"]: np.array([1.0, 2.0])})   # x, y not fed: not needed
    assert value == 6.0
    assert [op.name for op in sess.executed] == ["Const", "Mul", "side"]  # fed: not run
    x, y = np.ones((4, 3)), np.eye(2)[[0, 1, 1, 0]]
    sess.run(t["loss"], {t["x"]: x, t["y"]: y})
    assert {op.name for op in sess.executed} == {"W", "scores", "logits",
                                                "SoftmaxCrossEntropyWithLogits", "loss"}
    # feeding an intermediate tensor cuts everything behind it: x and W do not run
    sess.run(t["loss"], {t["logits"]: np.zeros((4, 2)), t["y"]: y})
    assert {op.name for op in sess.executed} == {"SoftmaxCrossEntropyWithLogits", "loss"}


def test_an_unfed_placeholder_on_a_needed_branch_raises_naming_it():
    graph, t = two_branches()
    sess = tf.Session(graph)
    sess.run(tf.global_variables_initializer(graph))
    with pytest.raises(tf.InvalidArgumentError, match=r"placeholder tensor 'y'.*\(\?, 2\)"):
        sess.run(t["loss"], {t["x"]: np.ones((4, 3))})


def test_a_feed_of_the_wrong_shape_or_dtype_names_the_placeholder_and_its_shape():
    graph, t = two_branches()
    sess = tf.Session(graph)
    with pytest.raises(tf.InvalidArgumentError,
                       match=r"shape \(4, 2\) for Tensor 'x:0', which has shape '?\(\?, 3\)"):
        sess.run(t["side"], {t["x"]: np.ones((4, 2)), t["u"]: np.ones(2)})
    with pytest.raises(tf.InvalidArgumentError, match="dtype float32 for Tensor 'u:0'"):
        sess.run(t["side"], {t["u"]: np.ones(2, np.float32)})


def test_static_shape_errors_at_build_time():
    with tf.Graph().as_default():
        x = tf.placeholder(np.float64, (None, 3), name="x")
        with pytest.raises(ValueError, match=r"equal, but are 3 and 4 for 'MatMul' with input "
                                             r"shapes: \(\?, 3\), \(4, 2\)"):
            tf.matmul(x, tf.Variable(np.zeros((4, 2))))
        with pytest.raises(ValueError, match="are 3 and 5 for 'Add'"):
            x + tf.constant(np.zeros(5))
        with pytest.raises(TypeError, match="float32 that does not match type float64"):
            x + tf.constant(np.zeros(3, np.float32))
        assert (x + tf.constant(np.zeros((1, 3)))).shape == (None, 3)
        assert tf.reduce_sum(x, axis=0).shape == (3,)
        assert tf.reduce_mean(x, axis=1, keepdims=True).shape == (None, 1)


def test_variables_need_initialising_and_assignments_persist():
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(np.array([1.0, 2.0]), name="v")
        double = v.assign(v * 2.0)
        minus = tf.assign_sub(v, np.array([1.0, 1.0]))
        sess = tf.Session()
        with pytest.raises(tf.FailedPreconditionError, match="uninitialized value v"):
            sess.run(v)
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(double), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(v), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(minus), [1.0, 3.0])
        # reads in one run see the run's starting value
        before, _ = sess.run([v, double])
        np.testing.assert_array_equal(before, [1.0, 3.0])
        assert tf.Session().values == {}          # a second session has its own values


def test_softmax_cross_entropy_gradient_is_exact_for_any_labels():
    """p - q for distributions, p sum(q) - q in general (TF's own kernel assumes the former)."""
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    with tf.Graph().as_default():
        q, z = tf.constant(labels), tf.constant(logits)
        (grad,) = tf.gradients(tf.softmax_cross_entropy_with_logits(labels=q, logits=z), [z])
        got = tf.Session().run(grad)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(got, p * labels.sum(1, keepdims=True) - labels, rtol=1e-12)
    assert np.abs(got - (p - labels)).max() > 0.1


@given(steps=st.lists(st.sampled_from(sorted(STEPS)), max_size=4), end=st.sampled_from(ENDS),
       n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(2, 4),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float64, np.float32]))
def test_gradients_and_second_derivatives_match_torch_autograd(steps, end, n, k, m, seed, dtype):
    rng = np.random.default_rng(seed)
    _, out, xs, feed = random_graph(rng, steps, end, n, k, m, dtype)
    report = gradients_against_torch(out, xs, feed, seed=seed)
    assert report.ok and len(report.rows_on("cpu")) == 1 + 2 * len(xs)
    # only non-vacuous graphs count: the output and every first derivative non-zero on
    # torch's side (a Relu may zero a tiny batch; second derivatives may be truly zero, e.g.
    # for a piecewise-linear graph)
    first = [row.quantity for row in report.rows[:1 + len(xs)]]
    assume(not set(first) & set(report.zero_reference))


def test_few_random_graph_comparisons_are_zero_against_zero():
    rng = np.random.default_rng(11)
    n_rows = n_zero = 0
    for trial in range(12):
        steps = list(rng.choice(sorted(STEPS), size=rng.integers(1, 5)))
        n, k, m = rng.integers(1, 5), rng.integers(1, 5), rng.integers(2, 5)
        _, out, xs, feed = random_graph(rng, steps, ENDS[trial % 4], n, k, m)
        report = gradients_against_torch(out, xs, feed, seed=trial)
        n_rows, n_zero = n_rows + len(report.rows), n_zero + len(report.zero_reference)
    assert n_zero <= 0.15 * n_rows, (n_zero, n_rows)


def test_random_graph_refuses_one_class_and_uses_every_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least 2"):
        random_graph(rng, ["softmax"], "sum", 3, 2, 1)
    _, out, xs, _ = random_graph(rng, ["centre rows"], "sum", 3, 2, 3)
    assert [x.op.name for x in xs] == ["x", "W", "b"]          # no V: no step uses it
    _, out, xs, _ = random_graph(rng, ["matmul TT"], "mean", 3, 2, 3)
    assert [x.op.name for x in xs] == ["x", "W", "b", "V"]


def test_gradients_are_graph_nodes_and_none_when_disconnected():
    graph, t = two_branches()
    with graph.as_default():
        before = len(graph)
        g_w, g_u = tf.gradients(t["loss"], [t["w"], t["u"]])
    assert g_u is None and isinstance(g_w, tf.Tensor) and len(graph) > before
    assert g_w.shape == (3, 2)


def test_a_wrong_gradient_rule_is_caught():
    rng = np.random.default_rng(0)
    _, out, xs, feed = random_graph(rng, ["sigmoid"], "sum", 3, 2, 2)
    rule = ops.OPS["Sigmoid"]["grad"]
    ops.OPS["Sigmoid"]["grad"] = lambda op, g: [g * op.outputs[0]]      # forgot (1 - y)
    try:
        with pytest.raises(VerificationError):
            gradients_against_torch(out, xs, feed)
    finally:
        ops.OPS["Sigmoid"]["grad"] = rule


def mlp_build(x, W1, b1, W2, b2):
    return tf.matmul(tf.tanh(tf.matmul(x, W1, transpose_b=True) + b1), W2, transpose_b=True) + b2


def mlp_parameters(rng, d=5, h=7, k=3):
    return {"W1": rng.standard_normal((h, d)) / np.sqrt(d), "b1": rng.standard_normal(h) * 0.1,
            "W2": rng.standard_normal((k, h)) / np.sqrt(h), "b2": rng.standard_normal(k) * 0.1}


def test_graph_layer_against_torch(dtype):
    rng = np.random.default_rng(1)
    layer = tf.GraphLayer(mlp_build, {n: v.astype(dtype) for n, v in
                                      mlp_parameters(rng).items()})
    x = rng.standard_normal((6, 5)).astype(dtype)
    report = against_torch(layer, tf.torch_twin(layer), x)
    assert {r.quantity for r in report.rows} >= {"output", "grad input", "grad W1", "grad b2"}


def test_sgd_training_steps_match_torch_optim_sgd(dtype):
    rng = np.random.default_rng(2)
    params = {n: v.astype(dtype) for n, v in mlp_parameters(rng).items()}
    x = rng.standard_normal((8, 5)).astype(dtype)
    labels = np.eye(3, dtype=dtype)[rng.integers(0, 3, 8)]
    graph = tf.Graph()
    with graph.as_default():
        xp = tf.placeholder(dtype, (None, 5), name="x")
        yp = tf.placeholder(dtype, (None, 3), name="y")
        variables = {n: tf.Variable(v, name=n) for n, v in params.items()}
        loss = tf.reduce_mean(tf.softmax_cross_entropy_with_logits(
            labels=yp, logits=mlp_build(xp, **variables)))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
    theirs = {n: torch.tensor(v, requires_grad=True) for n, v in params.items()}
    opt = torch.optim.SGD(theirs.values(), lr=0.5)
    ours_losses, torch_losses = [], []
    for _ in range(5):
        ours_losses.append(sess.run([loss, train], {xp: x, yp: labels})[0])
        opt.zero_grad()
        h = torch.tanh(torch.from_numpy(x) @ theirs["W1"].T + theirs["b1"])
        t_loss = torch.nn.functional.cross_entropy(h @ theirs["W2"].T + theirs["b2"],
                                                   torch.from_numpy(labels))
        t_loss.backward()
        opt.step()
        torch_losses.append(t_loss.item())
    tol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours_losses, torch_losses, rtol=tol)
    for n, v in variables.items():
        np.testing.assert_allclose(sess.run(v), theirs[n].detach().numpy(), rtol=tol, atol=tol)
    assert ours_losses[-1] < ours_losses[0]


def test_eager_mode_computes_at_once_and_agrees_with_the_graph():
    x = np.random.default_rng(3).standard_normal((4, 3))
    with tf.eager_mode():
        assert tf.executing_eagerly()
        out = tf.reduce_sum(tf.sigmoid(tf.constant(x)) * 2.0, axis=1)
        assert isinstance(out, tf.EagerTensor)
        with pytest.raises(RuntimeError, match="not compatible with eager"):
            tf.placeholder(np.float64, (None, 3))
    assert not tf.executing_eagerly()
    with tf.Graph().as_default():
        xp = tf.placeholder(np.float64, (None, 3))
        graph_out = tf.Session().run(tf.reduce_sum(tf.sigmoid(xp) * 2.0, axis=1), {xp: x})
    np.testing.assert_array_equal(out.numpy(), graph_out)


def test_function_traces_once_per_signature_and_retraces_on_a_new_shape():
    calls = []

    @tf.function
    def f(x):
        calls.append(x.shape)                       # Python runs only while tracing
        return tf.reduce_sum(tf.square(x), axis=1)

    a = np.ones((2, 3))
    np.testing.assert_array_equal(f(a).numpy(), [3.0, 3.0])
    f(2 * a)
    assert f.trace_count == 1 and calls == [(2, 3)]
    f(np.ones((5, 3)))                              # a new shape: a second graph
    f(np.ones((2, 3), np.float32))                  # a new dtype: a third
    assert f.trace_count == 3 and len(f.concrete) == 3

    g = tf.function(lambda x: tf.reduce_sum(x, axis=1),
                    input_signature=[tf.TensorSpec((None, 3), np.float64)])
    for n in (1, 2, 7):
        assert g(np.ones((n, 3))).shape == (n,)
    assert g.trace_count == 1
    with pytest.raises(ValueError, match=r"input_signature accepts \(\(\?, 3\) float64\)"):
        g(np.ones((2, 4)))


def test_function_reads_eager_variables_at_run_time():
    with tf.eager_mode():
        w = tf.eager.Variable(np.array([1.0, 2.0]), name="w")
        f = tf.function(lambda x: tf.reduce_sum(x * w))
        assert f(np.ones(2)).numpy() == 3.0
        w.assign_sub(np.array([1.0, 1.0]))
        assert f(np.ones(2)).numpy() == 1.0 and f.trace_count == 1


def test_package_import_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys; from deepglossary.frameworks import tensorflow; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_default_seed_is_a_constant_when_the_shape_is_known_as_in_tensorflow():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(np.float64, (None, 3), name="x")
        w = tf.Variable(np.ones((3, 2)), name="W")
        rows = tf.reduce_sum(tf.square(tf.matmul(x, w)), axis=1, name="rows")   # (?,)
        loss = tf.reduce_mean(rows, name="loss")                                # ()
        (g_scalar,) = tf.gradients(loss, [w])
        (g_rows,) = tf.gradients(rows, [w])
        init = tf.global_variables_initializer()
    behind_scalar = {op.name for op in tf.ancestors([g_scalar])}
    behind_rows = {op.type for op in tf.ancestors([g_rows])}
    assert "loss" not in behind_scalar and "rows" in behind_scalar   # Mean's rule: its input
    assert "OnesLike" in behind_rows                                 # unknown size: read y
    sess = tf.Session(graph=graph)
    sess.run(init)
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(sess.run(g_scalar, {x: data}),
                               data.T @ (data @ np.ones((3, 2))), rtol=1e-12)   # 2/N * X^T X W
