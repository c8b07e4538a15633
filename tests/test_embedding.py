"""nn.Embedding and nn.EmbeddingBag against torch (float64 and float32, ids of any shape,
repeated ids, padding_idx, offsets, per-sample weights, frozen tables), the scatter-add they
share against np.add.at, and the errors they raise."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from deepglossary import nn, optim
from deepglossary.nn.embedding import scatter_add_rows
from deepglossary.twins.embedding import embedding_against_torch, torch_twin

DTYPES = st.sampled_from([np.float64, np.float32])


def reference_scatter(index, rows, num_rows):
    table = np.zeros((num_rows, rows.shape[1]), dtype=np.float64)
    np.add.at(table, index, rows)
    return table


# -- the scatter-add ------------------------------------------------------------------------

@given(num_rows=st.integers(1, 12), n=st.integers(0, 30), width=st.integers(1, 5),
       dtype=DTYPES, seed=st.integers(0, 2**16))
def test_scatter_add_rows_is_np_add_at(num_rows, n, width, dtype, seed):
    rng = np.random.default_rng(seed)
    index = rng.integers(0, num_rows, n)            # n < num_rows and n >= num_rows: both paths
    rows = rng.standard_normal((n, width)).astype(dtype)
    table = scatter_add_rows(index, rows, num_rows)
    assert table.shape == (num_rows, width) and table.dtype == dtype
    np.testing.assert_allclose(table, reference_scatter(index, rows, num_rows),
                               rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-6)
    unused = np.setdiff1d(np.arange(num_rows), index)
    assert not table[unused].any()                  # rows never looked up get exactly zero


@pytest.mark.parametrize("int_dtype", [np.uint8, np.int16, np.uint64, np.int32])
def test_small_and_unsigned_id_dtypes(int_dtype):
    """uint8 ids times H would wrap around, and uint64 plus int64 is float64 in NumPy: the
    bins are computed in intp."""
    ids = np.array([200, 3, 200, 255], dtype=int_dtype) % 250
    layer = nn.Embedding(250, 16, rng=0)
    out = layer(ids)
    layer.backward(np.ones_like(out))
    assert layer.weight.grad[200 % 250].sum() == 32 and layer.weight.grad[5].sum() == 16
    embedding_against_torch(layer, ids)


def test_scatter_add_rows_refuses_a_count_mismatch():
    with pytest.raises(ValueError, match="3 indices for 2 rows"):
        scatter_add_rows(np.array([0, 1, 1]), np.ones((2, 4)), 5)


# -- Embedding ------------------------------------------------------------------------------

@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=3), num=st.integers(1, 8),
       dim=st.integers(1, 5), pad=st.one_of(st.none(), st.integers(-8, 7)), dtype=DTYPES,
       seed=st.integers(0, 2**16))
def test_embedding_matches_torch_for_any_index_shape(shape, num, dim, pad, dtype, seed):
    pad = None if pad is None or not -num <= pad < num else pad
    rng = np.random.default_rng(seed)
    layer = nn.Embedding(num, dim, dtype=dtype, rng=seed, padding_idx=pad)
    ids = rng.integers(0, num, tuple(shape))        # 0-d, empty and repeated ids included
    report = embedding_against_torch(layer, ids, seed=seed)
    assert report.ok and {r.quantity for r in report.rows} == {"output", "grad weight"}
    assert layer(ids).shape == tuple(shape) + (dim,)


def test_embedding_sums_repeated_ids_and_skips_padding(dtype):
    layer = nn.Embedding(6, 3, dtype=dtype, rng=0, padding_idx=2)
    ids = np.array([[1, 4, 1], [2, 1, 2]])
    out = layer(ids)
    assert out.dtype == dtype and not out[1, 0].any()         # padding row starts at zero
    g = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    assert layer.backward(g) is None
    grad = layer.weight.grad
    np.testing.assert_allclose(grad[1], g[0, 0] + g[0, 2] + g[1, 1], rtol=1e-6)
    np.testing.assert_allclose(grad[4], g[0, 1], rtol=1e-6)
    assert not grad[[0, 2, 3, 5]].any()                       # unused and padding: zero
    embedding_against_torch(layer, ids)


def test_negative_padding_idx_counts_from_the_end():
    layer = nn.Embedding(5, 2, rng=0, padding_idx=-1)
    assert layer.padding_idx == 4 == torch.nn.Embedding(5, 2, padding_idx=-1).padding_idx
    assert not layer.weight.data[4].any() and layer.weight.data[:4].all()
    assert repr(layer) == "Embedding(5, 2, padding_idx=4)"
    embedding_against_torch(layer, np.array([4, 0, 4, 3]))


def test_default_initialisation_is_unchanged():
    """Other chapters' models depend on the old draw: the same N(0, 1) table for the same rng."""
    layer = nn.Embedding(7, 4, rng=3)
    np.testing.assert_array_equal(layer.weight.data,
                                  np.random.default_rng(3).standard_normal((7, 4)))
    assert nn.Embedding(7, 4, np.float32, 3).weight.dtype == np.float32   # dtype positional
    assert repr(layer) == "Embedding(7, 4)"


def test_padding_row_never_moves_under_training():
    layer = nn.Embedding(5, 3, rng=0, padding_idx=0)
    opt = optim.Adam(layer.parameters(), lr=0.1, weight_decay=0.0)
    ids = np.array([[0, 1, 2], [3, 0, 0]])
    for step in range(5):
        opt.zero_grad()
        layer(ids)
        layer.backward(np.full((2, 3, 3), step + 1.0))
        opt.step()
    assert not layer.weight.data[0].any()
    assert not np.allclose(layer.weight.data[1], nn.Embedding(5, 3, rng=0).weight.data[1])


@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained(dtype, freeze):
    table = np.random.default_rng(0).standard_normal((6, 3)).astype(dtype)
    layer = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
    twin = torch.nn.Embedding.from_pretrained(torch.from_numpy(table.copy()), freeze=freeze,
                                              padding_idx=1)
    np.testing.assert_array_equal(layer.weight.data, table)   # padding row kept as given
    assert layer.weight.data is not table and layer.weight.dtype == dtype
    ids = np.array([[1, 2, 2], [5, 1, 0]])
    layer(ids)
    layer.backward(np.ones((2, 3, 3), dtype))
    assert (layer.weight.grad is None) == freeze == (not twin.weight.requires_grad)
    embedding_against_torch(layer, ids, theirs=twin)
    assert nn.EmbeddingBag.from_pretrained(table, mode="sum").mode == "sum"


def test_torch_twin_carries_the_settings():
    bag = nn.EmbeddingBag(9, 2, mode="sum", padding_idx=3, include_last_offset=True,
                          dtype=np.float32)
    twin = torch_twin(bag)
    assert isinstance(twin, torch.nn.EmbeddingBag) and twin.mode == "sum"
    assert twin.padding_idx == 3 and twin.include_last_offset and twin.weight.dtype == torch.float32
    assert torch_twin(nn.Embedding(4, 2, padding_idx=-2)).padding_idx == 2
    with pytest.raises(TypeError, match="Embedding or EmbeddingBag"):
        torch_twin(nn.ReLU())


# -- EmbeddingBag ---------------------------------------------------------------------------

@st.composite
def bags(draw):
    num, dim = draw(st.integers(1, 7)), draw(st.integers(1, 4))
    pad = draw(st.one_of(st.none(), st.integers(0, num - 1)))
    mode = draw(st.sampled_from(["sum", "mean"]))
    weighted = mode == "sum" and draw(st.booleans())
    two_d = draw(st.booleans())
    last = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if two_d:
        ids = rng.integers(0, num, (draw(st.integers(1, 4)), draw(st.integers(1, 5))))
        offsets, last = None, False
    else:
        n = draw(st.integers(0, 12))
        ids = rng.integers(0, num, n)
        cuts = sorted(draw(st.lists(st.integers(0, n), min_size=0, max_size=4)))
        offsets = np.array([0] + cuts + ([n] if last else []))   # repeated cuts: empty bags
    return num, dim, pad, mode, weighted, last, seed, ids, offsets


@given(case=bags(), dtype=DTYPES)
def test_embedding_bag_matches_torch(case, dtype):
    num, dim, pad, mode, weighted, last, seed, ids, offsets = case
    layer = nn.EmbeddingBag(num, dim, mode=mode, padding_idx=pad, include_last_offset=last,
                            dtype=dtype, rng=seed)
    w = (np.random.default_rng(seed + 1).standard_normal(ids.shape).astype(dtype) if weighted
         else None)
    report = embedding_against_torch(layer, ids, offsets, w, seed=seed)
    assert report.ok
    assert ("grad input[2]" in {r.quantity for r in report.rows}) == weighted


def test_embedding_bag_is_the_sum_or_mean_of_lookups(dtype):
    ids = np.array([3, 1, 0, 3, 4, 2, 2])
    offsets = np.array([0, 2, 2, 5])                          # bags [3 1], [], [0 3 4], [2 2]
    lookup = nn.Embedding(5, 3, dtype=dtype, rng=0, padding_idx=0)
    rows = lookup(ids)
    for mode in ("sum", "mean"):
        bag = nn.EmbeddingBag(5, 3, mode=mode, dtype=dtype, rng=0, padding_idx=0)
        out = bag(ids, offsets)
        sums = np.stack([rows[0:2].sum(0), np.zeros(3), rows[2:5].sum(0), rows[5:].sum(0)])
        count = np.array([2, 1, 2, 2])                        # padding id 0 is not counted
        expected = sums if mode == "sum" else sums / count[:, None]
        np.testing.assert_allclose(out, expected, rtol=1e-6)
        assert out.dtype == dtype and not out[1].any()        # the empty bag: zeros


def test_embedding_bag_two_d_equals_offsets():
    ids = np.random.default_rng(0).integers(0, 6, (4, 3))
    bag = nn.EmbeddingBag(6, 2, rng=0)
    np.testing.assert_array_equal(bag(ids), bag(ids.reshape(-1), np.arange(0, 12, 3)))


# -- errors ---------------------------------------------------------------------------------

def test_embedding_errors_name_what_is_wrong():
    layer = nn.Embedding(6, 3, rng=0)
    with pytest.raises(ValueError, match=r"ids in \[0, 6\), got 6 at position \(1, 0\)"):
        layer(np.array([[0, 2], [6, 1]]))
    with pytest.raises(TypeError, match="integer ids, got dtype float32"):
        layer(np.array([1.0], np.float32))
    with pytest.raises(TypeError, match="integer ids, got dtype bool"):
        layer(np.array([True]))
    for bad in (6, -7, 10):
        with pytest.raises(ValueError, match=r"padding_idx must be in \[-6, 6\)"):
            nn.Embedding(6, 3, padding_idx=bad)
    with pytest.raises(TypeError, match="padding_idx must be an integer"):
        nn.Embedding(6, 3, padding_idx=1.0)
    with pytest.raises(TypeError, match=r"pass padding_idx by keyword, Embedding\(6, 3, "
                                        r"padding_idx=0\)"):
        nn.Embedding(6, 3, 0)
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Embedding(6, 3, dtype=np.int64)
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer"):
        nn.Embedding(6, 0)
    with pytest.raises(ValueError, match=r"shape \(num_embeddings, embedding_dim\)"):
        nn.Embedding.from_pretrained(np.ones(4))
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Embedding.from_pretrained(np.ones((4, 2), int))
    layer(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"grad_output of the output's shape \(2, 3\)"):
        layer.backward(np.ones((3, 3)))


def test_embedding_bag_errors_name_what_is_wrong():
    bag = nn.EmbeddingBag(5, 2, rng=0)
    ids = np.array([0, 1, 2, 3])
    cases = [
        ((ids, np.array([1, 2])), r"offsets must start at 0"),
        ((ids, np.array([0, 3, 2])), r"never decrease, got 2 after 3 at position 2"),
        ((ids, np.array([0, 5])), r"may not exceed the number of ids 4, got 5"),
        ((ids, np.array([0.0, 2.0])), r"1-D integer array"),
        ((ids, np.array([[0]])), r"1-D integer array"),
        ((ids,), r"a 1-D input needs offsets"),
        ((ids.reshape(2, 2), np.array([0, 1])), r"offsets must be None for a 2-D input"),
        ((ids.reshape(1, 2, 2),), r"ids of shape \(n,\) with offsets, or \(B, N\)"),
        ((np.array([0, 5]), np.array([0])), r"ids in \[0, 5\), got 5"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            bag(*args)
    with pytest.raises(TypeError, match="integer ids, got dtype float64"):
        bag(np.array([0.0, 1.0]), np.array([0]))
    with pytest.raises(ValueError, match="per_sample_weights need mode='sum'"):
        bag(ids, np.array([0]), np.ones(4))
    summed = nn.EmbeddingBag(5, 2, mode="sum", rng=0)
    with pytest.raises(ValueError, match=r"ids' shape \(4,\) and the weight's dtype float64"):
        summed(ids, np.array([0]), np.ones(3))
    with pytest.raises(ValueError, match=r"the weight's dtype float64, got shape \(4,\) and "
                                         r"dtype float32"):
        summed(ids, np.array([0]), np.ones(4, np.float32))
    last = nn.EmbeddingBag(5, 2, include_last_offset=True, rng=0)
    with pytest.raises(ValueError, match="the last offset must be the number of ids, 4"):
        last(ids, np.array([0, 2, 3]))
    with pytest.raises(ValueError, match="at least 2 entries"):
        last(ids, np.array([0]))
    with pytest.raises(ValueError, match="mode must be 'sum' or 'mean', got 'max'"):
        nn.EmbeddingBag(5, 2, mode="max")
    with pytest.raises(ValueError, match=r"padding_idx must be in \[-5, 5\)"):
        nn.EmbeddingBag(5, 2, padding_idx=5)
    bag(ids, np.array([0, 2]))
    with pytest.raises(ValueError, match=r"grad_output of the output's shape \(2, 2\)"):
        bag.backward(np.ones((3, 2)))
