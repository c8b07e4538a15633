"""Scaled dot-product attention against torch.nn.functional.scaled_dot_product_attention and
MultiheadAttention against torch.nn.MultiheadAttention: masks of every kind, the returned
weights (averaged and per head), batch_first both ways, kdim/vdim, float64 and float32,
hypothesis over shapes and masks, and the errors a user meets."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn
from deepglossary.twins import attention as twins
from deepglossary.verify import against_torch, gradcheck

pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def bound(layer, need_weights=True, average=True):
    return twins.bind_multihead(layer, need_weights=need_weights, average_attn_weights=average)


def mha_pair(e=8, heads=2, dtype=np.float64, need_weights=True, average=True, rng=0, **kw):
    ours = bound(nn.MultiheadAttention(e, heads, dtype=dtype, rng=rng, **kw), need_weights,
                 average)
    return ours, twins.multihead_attention(ours, need_weights=need_weights,
                                           average_attn_weights=average)


def seqs(n, t, d, dtype, batch_first, rng):
    x = rng.standard_normal((n, t, d)).astype(dtype)
    return x if batch_first else np.ascontiguousarray(x.transpose(1, 0, 2))


# -- scaled dot-product attention ----------------------------------------------------------
def test_sdpa_plain_causal_and_scale(dtype):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
    k = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    v = rng.standard_normal((2, 3, 6, 2)).astype(dtype)
    for kw in ({}, {"is_causal": True}, {"scale": 0.3}, {"is_causal": True, "scale": 2.0}):
        report = against_torch(nn.ScaledDotProductAttention(**kw),
                               twins.scaled_dot_product_attention(**kw), q, k, v)
        assert {"grad input[0]", "grad input[1]", "grad input[2]"} <= {
            r.quantity for r in report.rows}


def test_sdpa_bool_and_float_masks(dtype):
    rng = np.random.default_rng(1)
    q = rng.standard_normal((3, 4, 5)).astype(dtype)
    k = rng.standard_normal((3, 6, 5)).astype(dtype)
    v = rng.standard_normal((3, 6, 2)).astype(dtype)
    keep = rng.random((4, 6)) < 0.5
    keep[:, 2] = True                                       # every query keeps a key
    against_torch(nn.ScaledDotProductAttention(), twins.scaled_dot_product_attention(),
                  q, k, v, keep)
    add = rng.standard_normal((3, 1, 6)).astype(dtype)
    add[rng.random((3, 1, 6)) < 0.4] = -np.inf
    add[..., 0] = 0.0
    against_torch(nn.ScaledDotProductAttention(), twins.scaled_dot_product_attention(),
                  q, k, v, add)
    layer = nn.ScaledDotProductAttention()
    layer(q, k, v, keep)
    assert (layer.weights[:, ~keep] == 0).all()


def test_sdpa_function_and_gradcheck():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, n, 3)) for n in (3, 4, 4))
    out = nn.attention.scaled_dot_product_attention(q, k, v, is_causal=True)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *map(torch.from_numpy, (q, k, v)), is_causal=True).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    gradcheck(nn.ScaledDotProductAttention(is_causal=True), q, k, v)
    keep = np.array([[True, False, True, False]] * 3)
    gradcheck(nn.ScaledDotProductAttention(scale=0.7), q, k, v, keep)


@given(n=st.integers(1, 3), lq=st.integers(1, 5), s=st.integers(1, 5), e=st.integers(1, 4),
       ev=st.integers(1, 3), mask=st.sampled_from(["none", "causal", "bool", "float"]),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float64, np.float32]))
def test_sdpa_hypothesis(n, lq, s, e, ev, mask, seed, dtype):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, lq, e)).astype(dtype)
    k = rng.standard_normal((n, s, e)).astype(dtype)
    v = rng.standard_normal((n, s, ev)).astype(dtype)
    extra, kw = [], {"is_causal": mask == "causal"}
    if mask == "bool":
        keep = rng.random((n, lq, s)) < 0.5
        keep[..., 0] = True
        extra = [keep]
    elif mask == "float":
        extra = [np.where(rng.random((lq, s)) < 0.3, -np.inf, rng.standard_normal((lq, s)))
                 .astype(dtype)]
        extra[0][:, -1] = 1.0
    against_torch(nn.ScaledDotProductAttention(**kw), twins.scaled_dot_product_attention(**kw),
                  q, k, v, *extra, seed=seed)


def test_sdpa_errors():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, n, 3)) for n in (3, 4, 4))
    layer = nn.ScaledDotProductAttention()
    with pytest.raises(ValueError, match="same length S"):
        layer(q, k, v[:, :3])
    with pytest.raises(ValueError, match="same size E"):
        layer(q, k[..., :2], v)
    with pytest.raises(ValueError, match=r"broadcast to the scores' shape"):
        layer(q, k, v, np.ones((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="every key masked"):
        layer(q, k, v, np.array([[True] * 4, [False] * 4, [True] * 4]))
    with pytest.raises(ValueError, match="every key masked"):
        layer(q, k, v, np.array([[0.0] * 4, [-np.inf] * 4, [0.0] * 4]))
    with pytest.raises(ValueError, match="NaN"):
        layer(q, k, v, np.full((3, 4), np.nan))
    with pytest.raises(TypeError, match="boolean or floating"):
        layer(q, k, v, np.ones((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="not both"):
        nn.ScaledDotProductAttention(is_causal=True)(q, k, v, np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="scale"):
        nn.ScaledDotProductAttention(scale=-1.0)


def test_fully_masked_rows_in_torch():
    """Why we refuse a query with no key: torch 2.13 answers it three different ways."""
    q = torch.randn(1, 3, 4)
    keep = torch.ones(3, 5, dtype=torch.bool)
    keep[1] = False
    out = torch.nn.functional.scaled_dot_product_attention(q, torch.randn(1, 5, 4),
                                                           torch.randn(1, 5, 4), keep)
    assert (out[0, 1] == 0).all()                                # the function: zeros
    mha = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    pad = torch.tensor([[False] * 3, [True] * 3])
    x = torch.randn(2, 3, 4)
    out, w = mha(x, x, x, key_padding_mask=pad)
    assert torch.isnan(out[1]).all() and torch.isnan(w[1]).all()  # with weights: NaN
    out, _ = mha(x, x, x, key_padding_mask=pad, need_weights=False)
    assert not torch.isnan(out[1]).any()                         # without: no NaN
    ours = nn.MultiheadAttention(4, 2, batch_first=True)
    with pytest.raises(ValueError, match="every key masked"):
        ours(x.numpy().astype(np.float64), x.numpy().astype(np.float64),
             x.numpy().astype(np.float64), key_padding_mask=pad.numpy())


# -- multi-head attention --------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_masks_and_weights(batch_first, average, dtype):
    rng = np.random.default_rng(4)
    ours, theirs = mha_pair(8, 2, dtype, average=average, batch_first=batch_first)
    q = seqs(3, 5, 8, dtype, batch_first, rng)
    kv = seqs(3, 6, 8, dtype, batch_first, rng)
    pad = np.zeros((3, 6), dtype=bool)
    pad[0, 4:] = pad[2, 1] = True
    blocked = np.zeros((5, 6), dtype=bool)
    blocked[1, :3] = blocked[3, 5] = True
    report = against_torch(ours, theirs, q, kv, kv, pad, blocked)
    names = {r.quantity for r in report.rows}
    assert {"output[0]", "output[1]", "grad in_proj_weight", "grad in_proj_bias",
            "grad out_proj.weight", "grad out_proj.bias"} <= names
    _, w = ours(q, kv, kv, pad, blocked)
    assert w.shape == ((3, 5, 6) if average else (3, 2, 5, 6))


def test_mha_self_attention_and_no_weights(dtype):
    rng = np.random.default_rng(5)
    x = seqs(2, 4, 6, dtype, True, rng)
    ours, theirs = mha_pair(6, 3, dtype, batch_first=True)
    against_torch(ours, theirs, x, x, x)            # one array three times: the packed path
    ours, theirs = mha_pair(6, 3, dtype, need_weights=False, batch_first=True)
    against_torch(ours, theirs, x, x, x, np.array([[False, False, True, True]] * 2))


def test_mha_kdim_vdim_float_masks_no_bias(dtype):
    rng = np.random.default_rng(6)
    ours, theirs = mha_pair(8, 4, dtype, kdim=3, vdim=5, bias=False)
    assert {n for n, _ in ours.named_parameters()} == {
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"}
    q = seqs(3, 4, 8, dtype, False, rng)
    k, v = seqs(3, 6, 3, dtype, False, rng), seqs(3, 6, 5, dtype, False, rng)
    pad = rng.standard_normal((3, 6)).astype(dtype)
    per_head = rng.standard_normal((3 * 4, 4, 6)).astype(dtype)
    against_torch(ours, theirs, q, k, v, pad, per_head)


def test_mha_gradcheck_with_weights_gradient():
    rng = np.random.default_rng(7)
    layer = bound(nn.MultiheadAttention(4, 2, batch_first=True, rng=1), average=False)
    x, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 4))
    gradcheck(layer, x, kv, kv, np.array([[False, False, False, True], [False] * 4]))


@given(n=st.integers(1, 3), lq=st.integers(1, 4), s=st.integers(1, 5),
       heads=st.sampled_from([1, 2, 3]), d=st.integers(1, 3), batch_first=st.booleans(),
       average=st.booleans(), masks=st.sampled_from(["none", "pad", "attn", "both"]),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float64, np.float32]))
def test_mha_hypothesis(n, lq, s, heads, d, batch_first, average, masks, seed, dtype):
    rng = np.random.default_rng(seed)
    e = heads * d
    ours, theirs = mha_pair(e, heads, dtype, average=average, batch_first=batch_first, rng=seed)
    q, kv = seqs(n, lq, e, dtype, batch_first, rng), seqs(n, s, e, dtype, batch_first, rng)
    pad = blocked = None
    if masks in ("pad", "both"):
        pad = rng.random((n, s)) < 0.4
        pad[:, 0] = False
    if masks in ("attn", "both"):
        blocked = rng.random((lq, s)) < 0.4
        blocked[:, 0] = False
    against_torch(ours, theirs, q, kv, kv, pad, blocked, seed=seed)


def test_mha_init_like_torch():
    layer = nn.MultiheadAttention(64, 4, rng=0)
    bound_ = math.sqrt(6 / (64 + 3 * 64))                        # xavier on (3E, E)
    w = layer.in_proj_weight.data
    assert w.shape == (192, 64) and np.abs(w).max() <= bound_ and np.abs(w).max() > 0.9 * bound_
    assert (layer.in_proj_bias.data == 0).all() and (layer.out_proj.bias.data == 0).all()
    assert np.abs(layer.out_proj.weight.data).max() <= 1 / 8
    torch_names = {n for n, _ in torch.nn.MultiheadAttention(64, 4).named_parameters()}
    assert {n for n, _ in layer.named_parameters()} == torch_names
    assert layer.in_proj_weight.dtype == np.float64
    assert nn.MultiheadAttention(8, 2, dtype=np.float32).out_proj.weight.dtype == np.float32


def test_mha_errors():
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    layer = nn.MultiheadAttention(4, 2, batch_first=True)
    q, kv = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    with pytest.raises(ValueError, match="same length S"):
        layer(q, kv, kv[:, :4])
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\)"):
        layer(q, kv, kv, key_padding_mask=np.zeros((2, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(L, S\)"):
        layer(q, kv, kv, attn_mask=np.zeros((5, 3), dtype=bool))
    with pytest.raises(ValueError, match="add a batch dimension"):
        layer(q[0], kv[0], kv[0])
    with pytest.raises(ValueError, match=r"query of shape \(N, T, D\) with D = 4"):
        layer(q[..., :3], kv, kv)
    with pytest.raises(ValueError, match="every key masked"):
        layer(q, kv, kv, attn_mask=np.ones((3, 5), dtype=bool))
    out, _ = layer(q, kv, kv, need_weights=False)
    with pytest.raises(ValueError, match="need_weights=False"):
        layer.backward(np.ones_like(out), np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="grad_output"):
        layer.backward(np.ones((3, 2, 4)))
