"""Theano, small: expressions, symbolic gradients, rewrites and compiled functions, against
torch autograd on random expression trees (hypothesis), in float64 and float32."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepglossary.frameworks import theano as th
from deepglossary.frameworks.theano import expressions as ex
from deepglossary.verify import against_torch

pytestmark = pytest.mark.usefixtures("one_torch_thread")
NAMES = list(ex.VARIABLES)


def symbols(dtype):
    return {n: th.Variable(th.TensorType(dtype, [False] * len(ex.SHAPES[k])), name=n)
            for n, k in ex.VARIABLES.items()}


def ours_and_torch(tree, values, upstream_seed=0):
    """Our compiled value and symbolic gradients, and torch's, for one tree."""
    import torch

    dtype = values["x"].dtype
    sym = symbols(dtype)
    out = ex.build(tree, sym)
    g = th.Variable(th.TensorType(dtype, [False] * out.ndim), name="g")
    f = th.function([sym[n] for n in NAMES], out)
    df = th.function([sym[n] for n in NAMES] + [g],
                     th.Lop(out, [sym[n] for n in NAMES], g, disconnected="zero"))
    value = f(*[values[n] for n in NAMES])
    upstream = np.random.default_rng([upstream_seed, 7]).standard_normal(value.shape).astype(dtype)
    grads = df(*[values[n] for n in NAMES], upstream)
    tv = {n: torch.tensor(values[n], requires_grad=True) for n in NAMES}
    t_out = ex.build(tree, tv, "torch")
    t_grads = torch.autograd.grad(t_out, [tv[n] for n in NAMES], torch.tensor(upstream),
                                  allow_unused=True)
    t_grads = [np.zeros_like(values[n]) if tg is None else tg.numpy()
               for n, tg in zip(NAMES, t_grads)]
    return [value, *grads], [t_out.detach().numpy(), *t_grads]


def relative(a, b):
    return np.abs(a.astype(np.float64) - b).max(initial=0) / max(1.0, np.abs(b).max(initial=0))


@st.composite
def trees(draw):
    def choose(options):
        return draw(st.sampled_from(options))
    return ex.random_tree(choose, draw(st.sampled_from(list("MQVS"))), draw(st.integers(1, 4)))


@given(tree=trees(), seed=st.integers(0, 2**16))
def test_random_expressions_and_gradients_match_torch_float64(tree, seed):
    values = ex.random_inputs(np.random.default_rng(seed))
    ours, theirs = ours_and_torch(tree, values, seed)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float64 and a.shape == b.shape, ex.pretty(tree)
        assert np.isfinite(b).all(), ex.pretty(tree)      # the grammar keeps away from overflow
        assert relative(a, b) < 1e-9, ex.pretty(tree)


@given(tree=trees(), seed=st.integers(0, 2**16))
def test_random_expressions_and_gradients_match_torch_float32(tree, seed):
    values64 = ex.random_inputs(np.random.default_rng(seed))
    values32 = {n: v.astype(np.float32) for n, v in values64.items()}
    ours, theirs = ours_and_torch(tree, values32, seed)
    _, exact = ours_and_torch(tree, values64, seed)
    for a, b, c in zip(ours, theirs, exact):
        assert a.dtype == np.float32, ex.pretty(tree)
        # both sides round: allow torch's own float32 error, four times over, plus 1e-5
        allowance = 1e-5 + 4 * relative(b, c)
        assert relative(a, b) <= allowance, ex.pretty(tree)


def test_against_torch_on_a_layer_of_the_package(dtype):
    """The same check through verify.against_torch (dtypes, entry-wise, every device)."""
    import torch

    def build(x, w, b):
        return th.log(th.softmax(th.tanh(th.dot(x, w) + b)))

    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    report = against_torch(th.SymbolicLayer(build, (2, 2, 1)),
                           lambda x, w, b: torch.log_softmax(torch.tanh(x @ w + b), -1),
                           *(a.astype(dtype) for a in (x, w, b)))
    assert report.ok


def test_printer_and_shared_subexpressions():
    x, y = th.matrix("x"), th.matrix("y")
    e = x * y + th.exp(x)
    assert th.pp(e) == "((x * y) + exp(x))"
    z = th.exp(x)
    both = z + z
    assert both.owner.inputs[0] is both.owner.inputs[1]    # one node, used twice
    assert th.count_nodes(both) == 2
    assert "#0 = exp(x)" in th.debugprint(both)


def test_types_dtypes_and_broadcasting():
    x32 = th.matrix("x", dtype="float32")
    assert (x32 * 2.0).dtype == np.float32                  # a Python number takes x's dtype
    assert (x32 * np.float64(2.0)).dtype == np.float64       # a NumPy float64 upcasts
    v = th.vector("v")
    assert (th.matrix("m") + v).ndim == 2
    m = th.matrix("m")
    f = th.function([m, v], m + v)
    np.testing.assert_array_equal(f(np.ones((2, 3)), np.arange(3.0)),
                                  np.ones((2, 3)) + np.arange(3.0))
    n = th.matrix("n")                                       # a (1, 3) matrix does not broadcast
    g = th.function([m, n], m + n)
    with pytest.raises(ValueError, match="stretch"):
        g(np.ones((2, 3)), np.ones((1, 3)))
    with pytest.raises(TypeError, match="2-d"):
        g(np.ones(3), np.ones((2, 3)))
    with pytest.raises(TypeError, match="lose precision"):
        th.function([x32], x32 * 2.0)(np.ones((2, 2)))
    assert th.function([x32], x32 * 2.0, allow_input_downcast=True)(np.ones((2, 2))).dtype == \
        np.float32


def test_grad_returns_graphs_and_refuses_what_it_cannot():
    x = th.vector("x")
    cost = th.sum(x * x)
    gx = th.grad(cost, x)
    assert isinstance(gx, th.Variable) and gx.type == x.type
    np.testing.assert_allclose(th.function([x], gx)(np.array([1.0, -2.0])), [2.0, -4.0])
    ggx = th.grad(th.sum(gx * gx), x)                        # the gradient is a graph: again
    np.testing.assert_allclose(th.function([x], ggx)(np.array([1.0, -2.0])), [8.0, -16.0])
    with pytest.raises(TypeError, match="scalar"):
        th.grad(x * 2.0, x)
    with pytest.raises(th.DisconnectedInputError):
        th.grad(cost, th.vector("unused"))
    with pytest.raises(th.MissingInputError):
        th.function([], cost)


def test_rewrites_each_group():
    x, v = th.matrix("x"), th.vector("v")
    folded = th.rewrite(x + th.exp(th.constant(0.0)) * 2.0, include=["constant_folding"])
    assert folded.after == 1 and folded.applied["constant_folding"] == 2
    merged = th.rewrite(th.exp(x) + th.exp(x), include=["merge"])
    assert (merged.before, merged.after) == (3, 2)
    simple = th.rewrite((x * 1.0 + 0.0) - v * 0.0, include=["algebra"])
    assert th.pp(simple.outputs[0]) == "(x - zeros_like(v))"
    assert th.rewrite(x * th.constant(np.ones((1, 1))), include=["algebra"]).after == 0
    # x * ones((3,)) could change the result's shape (x a scalar): left alone
    s = th.scalar("s")
    assert th.rewrite(s * th.constant(np.ones(3)), include=["algebra"]).after == 1
    assert th.rewrite(th.neg(th.neg(x)), include=["algebra"]).outputs[0] is x
    nothing = th.rewrite(x * 1.0, include=())
    assert nothing.after == nothing.before == 1
    with pytest.raises(ValueError, match="unknown"):
        th.rewrite(x, include=["fast"])


def test_stabilisation_turns_minus_infinity_into_the_right_answer(dtype):
    import torch

    z = th.vector("z", dtype=np.dtype(dtype).name)
    logp = th.log(th.softmax(z))
    cost = -th.sum(logp * th.constant(np.array([1, 0], dtype=dtype)))   # -log p_0
    data = np.array([0.0, 1000.0], dtype=dtype)
    naive = th.function([z], [logp, th.grad(cost, z)], rewrites=())
    stable = th.function([z], [logp, th.grad(cost, z)])
    with np.errstate(all="ignore"):
        naive_value, naive_grad = naive(data)
    stable_value, stable_grad = stable(data)
    assert naive_value[0] == -np.inf and not np.isfinite(naive_grad).all()
    assert stable.applied["stabilize"] >= 1
    t = torch.tensor(data, requires_grad=True)
    expected = torch.log_softmax(t, -1)
    (-expected[0]).backward()
    np.testing.assert_allclose(stable_value, expected.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(stable_grad, t.grad.numpy(), rtol=1e-6, atol=1e-7)
    s = th.vector("s", dtype=np.dtype(dtype).name)
    logsig = th.function([s], th.log(th.sigmoid(s)))
    got = logsig(np.array([-800.0, 0.0, 30.0], dtype=dtype))
    want = torch.nn.functional.logsigmoid(torch.tensor([-800.0, 0.0, 30.0], dtype=t.dtype))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6)


def test_logistic_gradient_is_stable_where_the_sigmoid_saturates():
    """grad of log(sigmoid) and log(1 - sigmoid) divides by the sigmoid; the rewrites cancel it,
    so the compiled gradient matches torch's binary_cross_entropy_with_logits at |a| = 800."""
    import torch

    x, y = th.matrix("x"), th.vector("y")
    w, b = th.shared(np.array([1.0, 0.0]), name="w"), th.shared(np.zeros(()), name="b")
    p = th.sigmoid(th.dot(x, w) + b)
    cost = th.mean(-y * th.log(p) - (1 - y) * th.log(1 - p))
    f = th.function([x, y], [cost, *th.grad(cost, [w, b])])
    data, labels = np.array([[-800.0, 0.0], [800.0, 0.0], [1.0, 2.0]]), np.array([1.0, 0.0, 1.0])
    ours = f(data, labels)
    tw = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    tb = torch.zeros((), dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(data) @ tw + tb,
                                                               torch.tensor(labels))
    loss.backward()
    for a, t in zip(ours, (loss, tw.grad, tb.grad)):
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-12)
    with np.errstate(all="ignore"):
        naive = th.function([x, y], [cost, *th.grad(cost, [w, b])], rewrites=())(data, labels)
    assert not all(np.isfinite(v).all() for v in naive)


def test_logistic_regression_trains_theano_style_like_torch():
    import torch

    rng = np.random.default_rng(0)
    data = rng.standard_normal((64, 3))
    labels = (data @ np.array([1.0, -2.0, 0.5]) > 0).astype(np.float64)
    x, y = th.matrix("x"), th.vector("y")
    w, b = th.shared(np.zeros(3), name="w"), th.shared(np.zeros(()), name="b")
    p = th.sigmoid(th.dot(x, w) + b)
    cost = th.mean(-y * th.log(p) - (1 - y) * th.log(1 - p))
    gw, gb = th.grad(cost, [w, b])
    train = th.function([x, y], cost, updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)])
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tb = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([tw, tb], lr=0.5)
    for _ in range(30):
        ours = train(data, labels)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(data) @ tw + tb, torch.tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert abs(ours - loss.item()) < 1e-12
    np.testing.assert_allclose(w.get_value(), tw.detach().numpy(), rtol=1e-10)
    with pytest.raises(TypeError, match="float32"):     # a float64 update of a float32 weight
        w32 = th.shared(np.zeros(3, dtype=np.float32), name="w32")
        th.function([x], th.sum(x), updates=[(w32, w32 - np.float64(0.1) * w32)])


def test_importing_the_theano_modules_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, deepglossary.frameworks.theano, "
            "deepglossary.frameworks.theano.expressions, deepglossary.exercises.theano; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_graph_drawing_and_bad_input():
    import matplotlib
    matplotlib.use("Agg")
    x = th.matrix("x")
    cost = th.sum(th.tanh(x) * th.tanh(x))
    outs = [cost, th.grad(cost, x)]
    ax = th.draw_graph(outs)
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]   # arrows are texts too
    assert len(boxes) == len(th.inputs_of(outs)) + th.count_nodes(outs)
    with pytest.raises(TypeError, match="dot"):
        th.dot(th.scalar("s"), x)
    with pytest.raises(ValueError, match="axis"):
        th.sum(x, axis=2)
    with pytest.raises(TypeError, match="shared"):
        th.function([x], cost, updates=[(x, x)])
    with pytest.raises(TypeError, match="inputs"):
        th.function([x], cost)(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="chain"):
        th.function([x], th.dot(x, x))(np.ones((2, 3)))
