"""Recursive neural networks: trees, level-ordered batches, TreeRNN and RecursiveNet against
torch (a recursive function over the same trees), central differences, and the training
helpers of the Recursive Neural Network chapter."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary import recursive as rec
from deepglossary.memory_tasks import SequenceClassifier
from deepglossary.twins import recursive as twins
from deepglossary.verify import (
    VerificationError,
    against_torch,
    copy_parameters,
    gradcheck,
    torch_twin,
)


def value(tree):
    """The expression's value, recomputed from its prefix notation (independent of labels)."""
    tokens = iter(rec.prefix(tree))

    def read():
        token = next(tokens)
        if token in rec.OPS:
            return rec.OPS[token](read(), read())
        return int(token)

    return read()


def depth_of(tree):
    if tree.is_leaf:
        return 0
    return 1 + max(depth_of(tree.left), depth_of(tree.right.right))


def random_forest(rng, n_trees, max_leaves=6):
    """Random binary trees (any shape) with random tokens: not only expression parses."""
    def grow(leaves):
        if leaves == 1:
            return rec.Tree(rec.VOCAB[rng.integers(len(rec.VOCAB))])
        k = int(rng.integers(1, leaves))
        return rec.Tree(left=grow(k), right=grow(leaves - k))

    return [grow(int(rng.integers(1, max_leaves + 1))) for _ in range(n_trees)]


# --- trees and expressions ---------------------------------------------------------------
def test_tree_refuses_half_nodes():
    with pytest.raises(ValueError, match="leaf with a token, or a node with two children"):
        rec.Tree(left=rec.Tree("1"))
    with pytest.raises(ValueError):
        rec.Tree("1", left=rec.Tree("2"), right=rec.Tree("3"))


def test_an_expression_and_its_notations():
    tree = rec.expression("min", rec.expression("max", rec.Tree("3", label=3),
                                                rec.Tree("7", label=7)), rec.Tree("5", label=5))
    assert tree.label == 5 and tree.left.label == 7
    assert tree.text() == "((3 max 7) min 5)"
    assert rec.prefix(tree) == ["min", "max", "3", "7", "5"]
    assert tree.leaves() == ["3", "max", "7", "min", "5"]
    assert tree.height() == 3                                  # 5 under (min 5) under the root
    assert tree.right.label is None                            # "(min 5)" has no value
    with pytest.raises(ValueError, match="unknown operator"):
        rec.expression("-", rec.Tree("1", label=1), rec.Tree("2", label=2))


@pytest.mark.parametrize("ops", [("max", "min"), ("+", "*"), ("+",)])
@pytest.mark.parametrize("depth", [0, 1, 3, 6])
def test_random_expressions_have_their_depth_and_value(ops, depth):
    trees = rec.expressions(60, depth, rng=1, ops=ops)
    for tree in trees:
        assert depth_of(tree) == depth
        assert tree.label == value(tree)
        assert set(tree.leaves()) <= set(rec.VOCAB[:10]) | set(ops)
    again = rec.expressions(60, depth, rng=1, ops=ops)
    assert [t.text() for t in again] == [t.text() for t in trees]


def test_random_expressions_refuse_bad_arguments():
    for depth in (-1, 1.5, True):
        with pytest.raises(ValueError, match="depth"):
            rec.expressions(3, depth)
    with pytest.raises(ValueError, match="unknown operator"):
        rec.expressions(3, 2, ops=("max", "^"))
    assert rec.random_expression(2, rng=0).text() == rec.expressions(1, 2, rng=0)[0].text()


def test_both_sides_get_the_deep_child_and_every_operator_appears():
    trees = rec.expressions(400, 2, rng=0)
    deep_left = np.mean([not t.left.is_leaf for t in trees])
    assert 0.3 < deep_left < 0.9                               # deep left, or deep right
    ops = {t.right.left.token for t in trees}
    assert ops == {"max", "min"}


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_other_trees_over_the_same_leaves(n):
    tokens = [rec.VOCAB[i % 14] for i in range(n)]
    left, right, bal = (rec.left_chain(tokens, label=3), rec.right_chain(tokens, label=3),
                        rec.balanced(tokens, label=3))
    for tree in (left, right, bal):
        assert tree.leaves() == tokens and tree.label == 3
        assert all(node.label is None for node in tree.postorder() if node is not tree)
    assert left.height() == right.height() == n - 1
    assert bal.height() == int(np.ceil(np.log2(n)))
    if n > 2:
        assert left.right.is_leaf and not left.left.is_leaf          # branches to the left
        assert right.left.is_leaf and not right.right.is_leaf
    with pytest.raises(ValueError, match="at least one token"):
        rec.balanced([])


def test_restructure_keeps_the_leaves_and_the_root_label():
    trees = rec.expressions(20, 3, rng=0)
    for tree in trees:
        assert rec.restructure(tree, "parse") is tree
        for structure in rec.STRUCTURES[1:]:
            other = rec.restructure(tree, structure)
            assert other.leaves() == tree.leaves() and other.label == tree.label
    assert rec.restructure(trees[0], "balanced").height() < rec.restructure(
        trees[0], "left chain").height()
    with pytest.raises(ValueError, match="unknown structure"):
        rec.restructure(trees[0], "random")


def test_tree_walks_need_no_recursion():
    """A chain far taller than Python's recursion limit: every walk is a loop."""
    n = 3 * sys.getrecursionlimit()
    tokens = [str(i % 10) for i in range(n)]
    chain = rec.left_chain(tokens, label=1)
    assert chain.height() == n - 1 and chain.leaves() == tokens
    assert chain.text() == "(" + " ".join(tokens) + ")"      # one bracket pair: the root's
    assert len(chain.postorder()) == 2 * n - 1
    assert rec.leaf_counts([chain])[0, :10].sum() == n
    batch = rec.TreeBatch.from_trees([chain])
    assert len(rec.levels(batch.children, n)) == n - 1
    deep = rec.Tree("1", label=1)                              # an expression that deep
    for i in range(n // 3):
        deep = rec.expression("max", deep, rec.Tree(str(i % 10), label=i % 10))
    assert rec.prefix(deep)[:2] == ["max", "max"] and len(rec.prefix(deep)) == 2 * (n // 3) + 1
    assert deep.label == 9


# --- batches -------------------------------------------------------------------------------
def check_batch(batch, trees):
    """Everything a TreeBatch promises, against the trees it was made from."""
    n_leaves, n_inner = len(batch.tokens), len(batch.children)
    own = n_leaves + np.arange(n_inner)
    assert (batch.children < own[:, None]).all() and (batch.children >= 0).all()
    assert np.bincount(batch.children.reshape(-1), minlength=batch.n_nodes).max() <= 1
    heights = batch.heights()
    assert (np.diff(heights) >= 0).all() and (heights[:n_leaves] == 0).all()
    assert [heights[r] for r in batch.roots] == [t.height() for t in trees]
    assert len(rec.levels(batch.children, n_leaves)) == heights.max()
    for i, tree in enumerate(trees):
        leaves = batch.inorder[batch.starts[i]:batch.starts[i + 1]]
        assert [rec.VOCAB[t] for t in batch.tokens[leaves]] == tree.leaves()
        assert (batch.tree_of[leaves] == i).all() and batch.tree_of[batch.roots[i]] == i
    assert list(batch.root_labels) == [-1 if t.label is None else t.label for t in trees]
    if batch.nodes is not None:                                # the Tree node behind each number
        assert [batch.nodes[k].token for k in range(n_leaves)] == \
            [rec.VOCAB[t] for t in batch.tokens]
        for k, (left, right) in enumerate(batch.children):
            parent = batch.nodes[n_leaves + k]
            assert parent.left is batch.nodes[left] and parent.right is batch.nodes[right]
        assert all(batch.nodes[r] is t for r, t in zip(batch.roots, trees))
    assert len(batch.labelled) == len(batch.labels) and (batch.labels >= 0).all()


def evaluate(batch):
    """The expressions' values computed from the batch's arrays alone, level by level."""
    val = np.full(batch.n_nodes, -1)
    n_leaves = len(batch.tokens)
    digits = batch.tokens < 10
    val[:n_leaves][digits] = batch.tokens[digits]
    op = np.full(batch.n_nodes, -1)
    op[:n_leaves][~digits] = batch.tokens[~digits]
    for start, stop in rec.levels(batch.children, n_leaves):
        for k in range(start, stop):
            left, right = batch.children[k]
            if op[left] >= 0:                                  # "(op b)": remember op and b
                op[n_leaves + k], val[n_leaves + k] = op[left], val[right]
            else:
                val[n_leaves + k] = rec.OPS[rec.VOCAB[op[right]]](val[left], val[right])
    return val


def test_a_batch_numbers_the_nodes_of_its_trees_by_level():
    trees = [t for d in (0, 1, 2, 4) for t in rec.expressions(7, d, rng=d, ops=("+", "max"))]
    batch = rec.TreeBatch.from_trees(trees, depth=[depth_of(t) for t in trees])
    check_batch(batch, trees)
    assert list(batch.depth) == [depth_of(t) for t in trees]
    labelled = batch.labelled
    assert np.array_equal(evaluate(batch)[labelled], batch.labels)      # the structure is right
    assert set(batch.roots) <= set(labelled)
    # n digits and n - 1 operators: 2n - 1 labelled nodes, as many as leaf tokens
    assert len(labelled) == sum(len(t.leaves()) for t in trees)


def test_a_batch_of_any_binary_trees():
    rng = np.random.default_rng(3)
    trees = random_forest(rng, 20) + [rec.Tree("7")]
    batch = rec.TreeBatch.from_trees(trees)
    check_batch(batch, trees)
    assert (batch.node_labels == -1).all() and (batch.depth == -1).all()


def test_a_batch_refuses_what_is_not_a_tree():
    with pytest.raises(ValueError, match="at least one tree"):
        rec.TreeBatch.from_trees([])
    with pytest.raises(TypeError, match="Tree objects"):
        rec.TreeBatch.from_trees(["(1 max 2)"])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        rec.TreeBatch.from_trees([rec.Tree(left=rec.Tree("1"), right=rec.Tree("x"))])


@given(seed=st.integers(0, 10_000), size=st.integers(1, 12))
def test_select_is_the_batch_of_the_selected_trees(seed, size):
    rng = np.random.default_rng(seed)
    trees = random_forest(rng, 15, max_leaves=7)
    for i, tree in enumerate(trees):
        tree.label = i % 10
    full = rec.TreeBatch.from_trees(trees, depth=np.arange(15))
    index = rng.permutation(15)[:size]                         # any order, not sorted
    sub = full.select(index)
    chosen = [trees[i] for i in index]
    check_batch(sub, chosen)
    assert list(sub.depth) == list(index) and sub.trees == chosen
    model = rec.RecursiveNet(len(rec.VOCAB), 5, 4, dtype=np.float64, rng=seed)
    with nn.no_grad():
        np.testing.assert_allclose(model(sub), model(rec.TreeBatch.from_trees(chosen)),
                                   rtol=1e-12, atol=1e-14)


def test_select_refuses_bad_indices():
    batch = rec.TreeBatch.from_trees(rec.expressions(5, 1, rng=0))
    for index in ([0, 0], [5], [-1], [[0, 1]]):
        with pytest.raises(ValueError):
            batch.select(index)


def test_levels_of_any_topological_order():
    """Numbered tree by tree (children before parents, not by height), the runs are still
    right, only more: the layer's output is the same node for node."""
    rng = np.random.default_rng(0)
    trees = rec.expressions(6, 3, rng=0)
    batch = rec.TreeBatch.from_trees(trees)
    n_leaves, n = len(batch.tokens), batch.n_nodes
    order = np.r_[np.arange(n_leaves), n_leaves + np.lexsort(
        (np.arange(len(batch.children)), batch.tree_of[n_leaves:]))]  # inner nodes by tree
    new_id = np.empty(n, dtype=np.int64)
    new_id[order] = np.arange(n)
    children = new_id[batch.children[order[n_leaves:] - n_leaves]]
    by_tree = rec.levels(children, n_leaves)
    by_height = rec.levels(batch.children, n_leaves)
    assert len(by_height) == batch.heights().max() < len(by_tree)
    assert by_tree[0][0] == 0 and by_tree[-1][1] == len(children)
    assert all(a[1] == b[0] for a, b in zip(by_tree, by_tree[1:]))
    layer = rec.TreeRNN(4, rng=1)
    x = rng.standard_normal((n_leaves, 4))
    with nn.no_grad():
        np.testing.assert_allclose(layer(x, children)[new_id], layer(x, batch.children),
                                   rtol=1e-13, atol=1e-15)
    assert rec.levels(np.zeros((0, 2), dtype=np.int64), 3) == []


@pytest.mark.parametrize("children,message", [
    (np.array([[0, 3]]), "numbered before it"),            # its own index
    (np.array([[0, 1], [2, 4]]), "numbered before it"),    # a later node
    (np.array([[-1, 1]]), "numbered before it"),
    (np.array([[0, 1], [1, 3]]), r"node 1 is the child of two parents \(inner nodes 3 and 4\)"),
    (np.array([[0, 0]]), r"inner node 3 has the same child twice"),
    (np.array([0, 1]), "shape \\(M, 2\\)"),
    (np.array([[0.0, 1.0]]), "integer array"),
])
def test_tree_rnn_refuses_bad_structures(children, message):
    with pytest.raises(ValueError, match=message):
        rec.TreeRNN(2)(np.ones((3, 2)), children)


def test_tree_rnn_refuses_bad_leaves():
    layer = rec.TreeRNN(3)
    with pytest.raises(ValueError, match=r"\(\*, 3\)"):
        layer(np.ones((4, 2)), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"\(L, 3\)"):
        layer(np.ones((2, 4, 3)), np.array([[0, 1]]))
    with pytest.raises(TypeError, match="float32 or float64"):
        layer(np.ones((4, 3), dtype=int), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="positive integer"):
        rec.TreeRNN(0)


# --- against torch ----------------------------------------------------------------------
def forest_arrays(rng, n_trees, hidden, dtype):
    batch = rec.TreeBatch.from_trees(random_forest(rng, n_trees))
    x = rng.standard_normal((len(batch.tokens), hidden)).astype(dtype)
    return x, batch.children


@pytest.mark.parametrize("n_trees,hidden", [(1, 3), (5, 4), (12, 6)])
def test_tree_rnn_against_a_recursive_torch_function(dtype, n_trees, hidden):
    rng = np.random.default_rng(n_trees)
    x, children = forest_arrays(rng, n_trees, hidden, dtype)
    layer = rec.TreeRNN(hidden, dtype=dtype, rng=rng)
    report = against_torch(layer, rec.torch_tree_rnn(hidden), x, children)
    assert report.ok and {r.quantity for r in report.rows} >= {"output", "grad input[0]",
                                                               "grad weight", "grad bias"}


def test_tree_rnn_with_leaves_only_is_the_identity():
    x = np.random.default_rng(0).standard_normal((3, 2))
    layer = rec.TreeRNN(2, rng=0)
    out = layer(x, np.zeros((0, 2), dtype=np.int64))
    assert np.array_equal(out, x)
    dx, _ = layer.backward(np.ones_like(x))
    assert np.array_equal(dx, np.ones_like(x)) and not layer.weight.grad.any()


def test_tree_rnn_gradcheck():
    rng = np.random.default_rng(4)
    x, children = forest_arrays(rng, 4, 3, np.float64)
    layer = rec.TreeRNN(3, rng=rng)

    class Fixed(nn.Layer):                 # the structure held fixed: a function of x only
        def __init__(self):
            self.weight, self.bias = layer.weight, layer.bias

        def forward(self, x):
            return layer(x, children)

        def backward(self, g):
            return layer.backward(g)[0]

    assert gradcheck(Fixed(), x).ok


def test_tree_rnn_on_a_chain_is_an_elman_rnn(dtype):
    """A left-branching tree (((x0 x1) x2) x3) is a chain: the RNN with W_hh = W_L (the left
    half), W_ih = W_R, bias_ih = b, bias_hh = 0, started from h0 = x0."""
    rng = np.random.default_rng(2)
    hid, steps = 4, 5
    x = rng.standard_normal((steps + 1, hid)).astype(dtype)
    children = np.array([[0, 1]] + [[steps + 1 + k, k + 2] for k in range(steps - 1)])
    layer = rec.TreeRNN(hid, dtype=dtype, rng=rng)
    out = layer(x, children)
    g = rng.standard_normal(out.shape).astype(dtype)
    g[:steps + 1] = 0                                          # gradient on the chain's states
    dx, _ = layer.backward(g)
    rnn = nn.RNN(hid, hid, dtype=dtype)
    rnn.weight_hh_l0.data[...] = layer.weight.data[:, :hid]
    rnn.weight_ih_l0.data[...] = layer.weight.data[:, hid:]
    rnn.bias_ih_l0.data[...] = layer.bias.data
    rnn.bias_hh_l0.data[...] = 0
    states, _ = rnn(x[1:, None], x[:1, None])                  # (T, 1, H)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[steps + 1:], states[:, 0], **tol)
    d_in, d_h0 = rnn.backward(g[steps + 1:, None], np.zeros((1, 1, hid), dtype=dtype))
    np.testing.assert_allclose(dx[1:], d_in[:, 0], **tol)
    np.testing.assert_allclose(dx[0], d_h0[0, 0], **tol)
    np.testing.assert_allclose(layer.weight.grad[:, :hid], rnn.weight_hh_l0.grad, **tol)
    np.testing.assert_allclose(layer.weight.grad[:, hid:], rnn.weight_ih_l0.grad, **tol)
    np.testing.assert_allclose(layer.bias.grad, rnn.bias_ih_l0.grad, **tol)


def test_recursive_net_against_torch_over_the_trees(dtype):
    trees = [t for d in (0, 1, 3, 5) for t in rec.expressions(3, d, rng=d)]
    model = rec.RecursiveNet(len(rec.VOCAB), 6, 10, dtype=dtype, rng=0)
    report = rec.model_against_torch(model, rec.TreeBatch.from_trees(trees))
    names = {r.quantity for r in report.rows}
    assert report.ok and names == {"logits", "grad leaf vectors", "grad embedding.weight",
                                   "grad compose.weight", "grad compose.bias",
                                   "grad classifier.weight", "grad classifier.bias"}
    assert all(r.dtype == np.dtype(dtype).name for r in report.rows)


def test_model_against_torch_catches_a_wrong_gradient(monkeypatch):
    trees = rec.expressions(4, 2, rng=0)
    model = rec.RecursiveNet(len(rec.VOCAB), 4, 10, dtype=np.float64, rng=0)
    backward = rec.TreeRNN.backward

    def swapped(self, g):                                      # left and right halves swapped
        dx, none = backward(self, g)
        hid = self.hidden_size
        w = self.weight.grad
        self.weight.grad = np.concatenate([w[:, hid:], w[:, :hid]], axis=1)
        return dx, none

    monkeypatch.setattr(rec.TreeRNN, "backward", swapped)
    with pytest.raises(VerificationError, match="compose.weight"):
        rec.model_against_torch(model, rec.TreeBatch.from_trees(trees))


def test_twins_live_in_the_twins_module():
    assert rec.torch_tree_rnn is twins.tree_rnn and rec.model_against_torch is \
        twins.model_against_torch
    torch = pytest.importorskip("torch")
    assert twins.torch_dtype(np.float32) is torch.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        twins.torch_dtype(np.int64)
    model = rec.RecursiveNet(len(rec.VOCAB), 4, 10, rng=0)
    b = rec.TreeBatch.from_trees(rec.expressions(2, 1, rng=0))
    bare = rec.TreeBatch(b.tokens, b.children, b.roots, b.node_labels, b.tree_of, b.inorder,
                         b.starts, b.depth)                    # arrays only, no Tree objects
    with pytest.raises(ValueError, match="from_trees"):
        twins.model_against_torch(model, bare)


def test_the_recursive_twin_handles_a_shared_node():
    """Node 4 is a child of both 5 and 6 (a DAG): the package refuses it; the torch function
    computes node 4 once (memoised) and autograd sums both parents' gradients into it, as
    central differences confirm."""
    torch = pytest.importorskip("torch")
    children = np.array([[0, 1], [4, 2], [4, 3], [5, 6]])
    x = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ValueError, match="two parents"):
        rec.TreeRNN(3)(x, children)
    twin = twins.tree_rnn(3).double()
    with torch.no_grad():
        twin.weight.normal_(generator=torch.Generator().manual_seed(0))
        twin.bias.normal_(generator=torch.Generator().manual_seed(1))
    g = torch.from_numpy(np.random.default_rng(1).standard_normal((8, 3)))
    xt = torch.tensor(x, requires_grad=True)
    twin(xt, children).backward(g)

    def loss(x_np):
        with torch.no_grad():
            return float((twin(torch.from_numpy(x_np), children) * g).sum())

    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = 1e-6
        numeric[index] = (loss(x + step) - loss(x - step)) / 2e-6
    np.testing.assert_allclose(xt.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_recursive_net_gradcheck_on_every_labelled_node():
    trees = [t for d in (1, 2, 3) for t in rec.expressions(2, d, rng=d, ops=("+", "min"))]
    batch = rec.TreeBatch.from_trees(trees)
    model = rec.RecursiveNet(len(rec.VOCAB), 3, 10, rng=1)    # float32: checked in float64
    report = rec.gradcheck_model(model, batch, batch.labelled)
    assert report.ok and len(report.rows_on("cpu")) == 5
    assert model.compose.weight.data.dtype == np.float32       # the model itself untouched


def test_a_node_asked_twice_gets_both_gradients():
    batch = rec.TreeBatch.from_trees(rec.expressions(3, 2, rng=0))
    model = rec.RecursiveNet(len(rec.VOCAB), 4, 10, dtype=np.float64, rng=0)
    g = np.random.default_rng(0).standard_normal((3, 10))
    model(batch)
    once = model.backward(2 * g)
    twice_nodes = np.r_[batch.roots, batch.roots]
    model(batch, twice_nodes)
    twice = model.backward(np.r_[g, g])
    np.testing.assert_allclose(twice, once, rtol=1e-12)


def test_embedding_sums_the_gradients_of_repeated_tokens(dtype):
    torch = pytest.importorskip("torch")
    emb = nn.Embedding(6, 3, dtype=dtype, rng=0)
    assert rec.Embedding is nn.Embedding
    ids = np.array([[1, 4, 1], [5, 1, 0]])
    out = emb(ids)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    assert emb.backward(g) is None and emb.weight.grad.dtype == dtype and out.dtype == dtype
    theirs = torch_twin(emb).to(torch.float64)                 # verify's table of twins
    copy_parameters(emb, theirs)
    t_out = theirs(torch.from_numpy(ids))
    t_out.backward(torch.from_numpy(g.astype(np.float64)))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=0)
    np.testing.assert_allclose(out, t_out.detach().numpy(), **tol)
    np.testing.assert_allclose(emb.weight.grad, theirs.weight.grad.numpy(), **tol)
    assert not emb.weight.grad[[2, 3]].any()                   # tokens not used: zero
    np.testing.assert_allclose(emb.weight.grad[1], g[0, 0] + g[0, 2] + g[1, 1], **tol)


def test_embedding_names_what_is_wrong():
    emb = nn.Embedding(6, 3, rng=0)
    with pytest.raises(ValueError, match=r"ids in \[0, 6\), got 6 at position \(1, 0\)"):
        emb(np.array([[0, 2], [6, 1]]))
    with pytest.raises(ValueError, match=r"got -1 at position \(0,\)"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="integer ids, got dtype float64"):
        emb(np.array([1.0]))
    with pytest.raises(ValueError, match="positive integer"):
        nn.Embedding(0, 3)
    emb(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"grad_output of the output's shape \(2, 3\)"):
        emb.backward(np.ones((3, 3)))
    assert repr(emb).startswith("Embedding(6, 3")


def test_recursive_net_keeps_its_dtype_and_refuses_arrays(dtype):
    batch = rec.TreeBatch.from_trees(rec.expressions(4, 2, rng=0))
    model = rec.RecursiveNet(len(rec.VOCAB), 4, 10, dtype=dtype, rng=0)
    logits = model(batch)
    assert logits.shape == (4, 10) and logits.dtype == dtype
    assert model.backward(np.ones_like(logits)).dtype == dtype
    assert all(p.grad.dtype == dtype for p in model.parameters())
    assert model.node_vectors(batch).shape == (batch.n_nodes, 4)
    assert model.predict(batch).shape == (4,)
    with pytest.raises(TypeError, match="TreeBatch"):
        model(np.zeros((4, 4)))


# --- training ---------------------------------------------------------------------------
def test_fit_trees_learns_max_and_min_of_two_digits():
    trees = rec.expressions(400, 1, rng=0)
    data = rec.TreeBatch.from_trees(trees)
    model = rec.RecursiveNet(len(rec.VOCAB), 16, 10, rng=0)
    run = rec.fit_trees(model, data, epochs=8, lr=2e-2, every_node=False, rng=0)
    assert len(run["loss"]) == 8 and run["loss"][-1] < 0.5 * run["loss"][0]
    accuracy = (model.predict(data) == data.root_labels).mean()
    assert accuracy > 0.8                                      # chance is about 0.2
    by_depth = rec.accuracy_by_depth(model.predict(data), data.root_labels, np.ones(400))
    assert by_depth == {1: accuracy}


def test_fit_sequences_and_its_predictions():
    trees = rec.expressions(200, 1, rng=0) + rec.expressions(100, 2, rng=1)
    labels = np.array([t.label for t in trees])
    model = SequenceClassifier("rnn", len(rec.VOCAB), 16, 10, rng=0)
    run = rec.fit_sequences(model, trees, labels, epochs=6, lr=1e-2, rng=0)
    assert run["loss"][-1] < run["loss"][0]
    predicted = rec.predict_sequences(model, trees)
    with nn.no_grad():                                         # groups of one length = direct
        direct = model(rec.prefix_one_hot(trees[:200])).argmax(axis=1)
    assert np.array_equal(predicted[:200], direct)
    x = rec.prefix_one_hot(trees[-3:])
    assert (x.sum(axis=2)[:, -1] == 1).all()                   # every sequence ends at the end
    counts = rec.leaf_counts(trees[:2])
    assert counts.sum(axis=1).tolist() == [3, 3]


def test_importing_recursive_does_not_import_torch():
    code = ("import deepglossary.recursive, deepglossary.twins.recursive, sys; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
