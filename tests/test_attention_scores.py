"""Additive and multiplicative attention against torch twins built from torch.nn: float64
and float32, with and without padding masks, values defaulting to the keys, hypothesis over
shapes and masks, central differences, and the errors a user meets."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.twins import attention as twins
from deepglossary.verify import against_torch, gradcheck

pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def make(kind, dq, dk, dtype=np.float64, rng=0):
    """(our layer, its torch twin); kind: additive, dot, dot_scaled, general, general_scaled."""
    if kind == "additive":
        layer = nn.AdditiveAttention(dq, dk, 6, dtype=dtype, rng=rng)
        return layer, twins.additive_attention(layer)
    score = "dot" if kind.startswith("dot") else "general"
    if score == "dot":
        dq = dk
    layer = nn.MultiplicativeAttention(dq, dk, score=score, scale=kind.endswith("scaled"),
                                       dtype=dtype, rng=rng)
    return layer, twins.multiplicative_attention(layer)


KINDS = ["additive", "dot", "dot_scaled", "general", "general_scaled"]


def data(n, tq, tk, dq, dk, dv, dtype, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, tq, dq)).astype(dtype)
    k = rng.standard_normal((n, tk, dk)).astype(dtype)
    v = rng.standard_normal((n, tk, dv)).astype(dtype)
    mask = np.zeros((n, tk), dtype=bool)
    mask[:, tk // 2 + 1:] = rng.random((n, tk - tk // 2 - 1)) < 0.7   # padding-like
    return q, k, v, mask


@pytest.mark.parametrize("kind", KINDS)
def test_against_torch_with_mask(kind, dtype):
    layer, twin = make(kind, 5, 4, dtype)
    q, k, v, mask = data(3, 4, 6, layer.query_size, layer.key_size, 3, dtype)
    report = against_torch(layer, twin, q, k, v, mask)
    assert report.ok
    params = {r.quantity for r in report.rows}
    assert {f"grad {name}" for name, _ in layer.named_parameters()} <= params
    assert {"grad input[0]", "grad input[1]", "grad input[2]"} <= params


@pytest.mark.parametrize("kind", KINDS)
def test_values_default_to_keys(kind, dtype):
    layer, twin = make(kind, 5, 4, dtype)
    q, k, _, _ = data(2, 3, 5, layer.query_size, layer.key_size, 3, dtype)
    against_torch(layer, twin, q, k)
    context, weights = layer(q, k)
    d_query, d_keys, d_values = layer.backward(np.ones_like(context))
    assert d_values is None and d_keys.shape == k.shape and d_query.shape == q.shape


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck(kind):
    layer, _ = make(kind, 3, 4)
    q, k, v, mask = data(2, 3, 4, layer.query_size, layer.key_size, 2, np.float64, seed=1)
    gradcheck(layer, q, k, v, mask)


@given(kind=st.sampled_from(KINDS), n=st.integers(1, 3), tq=st.integers(1, 4),
       tk=st.integers(1, 6), dq=st.integers(1, 4), dk=st.integers(1, 4), dv=st.integers(1, 3),
       seed=st.integers(0, 2**16), masked=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_hypothesis_shapes_and_masks(kind, n, tq, tk, dq, dk, dv, seed, masked, dtype):
    layer, twin = make(kind, dq, dk, dtype, rng=seed)
    q, k, v, _ = data(n, tq, tk, layer.query_size, layer.key_size, dv, dtype, seed)
    inputs = [q, k, v]
    if masked:
        mask = np.random.default_rng(seed).random((n, tk)) < 0.5
        mask[np.arange(n), np.random.default_rng(seed + 1).integers(0, tk, n)] = False  # 1 key
        inputs.append(mask)
    against_torch(layer, twin, *inputs, seed=seed)
    context, weights = layer(*inputs)
    assert weights.shape == (n, tq, tk) and context.shape == (n, tq, dv)
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-5)
    if masked:
        assert (weights[np.broadcast_to(mask[:, None, :], weights.shape)] == 0).all()


def test_attend_matches_forward_and_stores_nothing():
    layer, _ = make("additive", 3, 4)
    q, k, v, mask = data(2, 3, 5, 3, 4, 2, np.float64)
    context, weights, cache = layer.attend(q, k, v, mask)
    assert not hasattr(layer, "_cache")
    g = np.random.default_rng(5).standard_normal(context.shape)
    grads = layer.attend_backward(cache, g)
    direct = [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    c2, w2 = layer(q, k, v, mask)
    np.testing.assert_array_equal(c2, context)
    np.testing.assert_array_equal(w2, weights)
    for a, b in zip(layer.backward(g), grads):
        np.testing.assert_array_equal(a, b)
    for p, d in zip(layer.parameters(), direct):
        np.testing.assert_array_equal(p.grad, d)


def test_parameter_names_and_init():
    add = nn.AdditiveAttention(3, 5, 7, rng=0)
    assert {n: p.shape for n, p in add.named_parameters()} == {
        "query_proj.weight": (7, 3), "key_proj.weight": (7, 5), "v.weight": (1, 7)}
    assert np.abs(add.query_proj.weight.data).max() <= 1 / np.sqrt(3)
    gen = nn.MultiplicativeAttention(3, 5, score="general", dtype=np.float32, rng=0)
    assert {n: p.shape for n, p in gen.named_parameters()} == {"weight": (3, 5)}
    assert gen.weight.dtype == np.float32
    assert list(nn.MultiplicativeAttention(4, 4).named_parameters()) == []


@pytest.mark.parametrize("kind", ["additive", "general"])
def test_errors(kind):
    layer, _ = make(kind, 3, 4)
    q, k, v, mask = data(2, 3, 5, 3, 4, 2, np.float64)
    with pytest.raises(ValueError, match="same length Tk"):
        layer(q, k, v[:, :4])
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, Tk\)"):
        layer(q, k, v, mask[:, :4])
    with pytest.raises(TypeError, match="boolean"):
        layer(q, k, v, mask.astype(np.float64))
    full = mask.copy()
    full[1] = True
    with pytest.raises(ValueError, match=r"batch entry \[1\]"):
        layer(q, k, v, full)
    with pytest.raises(ValueError, match=r"query of shape \(N, T, 3\)"):
        layer(q[..., :2], k, v)
    with pytest.raises(ValueError, match=r"keys of shape \(N, T, 4\)"):
        layer(q, k[0], v)
    with pytest.raises(ValueError, match="batch entries"):
        layer(q, k[:1], v[:1])
    with pytest.raises(TypeError, match="dtype"):
        layer(q, k.astype(np.float32), v)
    context, _ = layer(q, k, v)
    with pytest.raises(ValueError, match="grad_context"):
        layer.backward(context[:, :1])
    with pytest.raises(ValueError, match="grad_weights"):
        layer.backward(context, np.zeros((2, 3, 4)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="query_size == key_size"):
        nn.MultiplicativeAttention(3, 4)
    with pytest.raises(ValueError, match="'dot' or 'general'"):
        nn.MultiplicativeAttention(3, 3, score="concat")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.AdditiveAttention(3, 3, 0)


def test_fully_masked_row_torch_gives_nan():
    """What we refuse: torch's softmax over a row of -inf is NaN, silently."""
    scores = torch.zeros(1, 2, 3).masked_fill(torch.ones(1, 1, 3, dtype=torch.bool),
                                              float("-inf"))
    assert torch.isnan(torch.softmax(scores, -1)).all()
