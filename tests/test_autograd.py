"""The autograd engine against torch.autograd on random expressions."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary.autograd import Tensor, unbroadcast

UNARY = ["exp", "log", "tanh", "relu", "square", "neg", "sum0", "mean"]
BINARY = ["add", "mul", "sub", "div"]


def apply(op, a, b=None):
    """The same operation in either framework (Tensor and torch.Tensor share the names)."""
    if op == "exp":
        return (a * 0.3).exp()
    if op == "log":
        return (a * a + 1.0).log()
    if op == "tanh":
        return a.tanh()
    if op == "relu":
        return a.relu()
    if op == "square":
        return a**2
    if op == "neg":
        return -a
    if op == "sum0":
        return a.sum(axis=0, keepdims=True) if isinstance(a, Tensor) else a.sum(0, keepdim=True)
    if op == "mean":
        return a.mean() + a * 0.5
    if op == "add":
        return a + b
    if op == "mul":
        return a * b
    if op == "sub":
        return a - b
    return a / (b * b + 1.0)


@given(ops=st.lists(st.sampled_from(UNARY + BINARY), min_size=1, max_size=8),
       seed=st.integers(0, 2**31), broadcast=st.booleans())
def test_random_expressions_match_torch(ops, seed, broadcast):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 2))
    v = rng.standard_normal((1, 2) if broadcast else (3, 2))
    ours = [Tensor(a) for a in (x, w, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, v)]
    results = []
    for leaves in (ours, theirs):
        h = leaves[0] @ leaves[1]
        for i, op in enumerate(ops):
            h = apply(op, h, leaves[2] if i % 2 == 0 else h) if op in BINARY else apply(op, h)
            if op == "sum0" and i % 2 == 0:
                h = h + leaves[2]
        results.append(h)
    upstream = rng.standard_normal(results[1].shape)
    results[0].backward(upstream)
    results[1].backward(torch.tensor(upstream))
    np.testing.assert_allclose(results[0].data, results[1].detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for a, b in zip(ours, theirs):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_shared_node_gradients_add_up():
    x = Tensor(np.array([2.0, 3.0]))
    y = x * x + x            # dy/dx = 2x + 1, x used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 7.0])


def test_unbroadcast_sums_the_broadcast_axes():
    g = np.ones((4, 3, 2))
    assert unbroadcast(g, (3, 1)).shape == (3, 1)
    assert unbroadcast(g, (3, 1))[0, 0] == 8
    assert unbroadcast(g, ()).item() == 24


def test_backward_needs_an_upstream_gradient_for_non_scalars():
    with pytest.raises(ValueError, match="upstream gradient"):
        (Tensor(np.ones(3)) * 2).backward()
    with pytest.raises(ValueError, match="matrices"):
        Tensor(np.ones(3)) @ Tensor(np.ones(3))
