"""Checkers for the exercises of the Embedding chapter.

Each checker runs the package's layer (``nn.Embedding``, ``nn.EmbeddingBag``, verified against
torch in the chapter) as the reference and compares the student's function on cases chosen to
catch the usual slips: repeated ids (``grad[ids] += g`` keeps only one of them), a padding row
that still gets a gradient, ids of other shapes (0-d, 3-D), empty bags (``np.add.reduceat``
returns an entry there, and a mean divides by zero), a last bag that runs to the end, and
float32 (the result keeps the table's dtype).
"""

import numpy as np

from deepglossary import nn
from deepglossary.exercises import compare, dtype_ok, passed


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def check_embedding_backward(embedding_backward):
    """``embedding_backward(ids, grad_output, num_embeddings, padding_idx=None)`` returns the
    gradient of the table, shape (num_embeddings, H), in grad_output's dtype: row v is the sum
    of the rows of ``grad_output`` at the positions where ``ids == v``; the ``padding_idx`` row
    (an index in [0, num_embeddings), or None) is zero.

    Shape: ids (*,) integers; grad_output (*, H). Compared with ``nn.Embedding.backward`` on
    ids with repeats, 1-D, 2-D, 3-D and 0-d ids, no ids at all, a padding row that is used,
    and float32."""
    rng = np.random.default_rng(31)
    # (shape of ids, num_embeddings, H, padding_idx, dtype, what the case is for)
    cases = [((6,), 4, 3, None, np.float64, "a 1-D batch with repeated ids"),
             ((5,), 9, 2, None, np.float64, "every id the same"),
             ((3, 4), 5, 2, 1, np.float64, "2-D ids with a padding row that is used"),
             ((2, 3, 2), 6, 4, 0, np.float32, "3-D ids, float32"),
             ((), 7, 3, None, np.float64, "one id (a 0-d array)"),
             ((0,), 3, 2, None, np.float64, "no ids at all")]
    for shape, num, width, pad, dtype, what in cases:
        ids = rng.integers(0, num, shape)
        if what == "every id the same":
            ids[:] = 2
        layer = nn.Embedding(num, width, dtype=dtype, rng=rng, padding_idx=pad)
        layer(ids)
        g = rng.standard_normal(shape + (width,)).astype(dtype)
        layer.backward(g)
        case = f"{what}: ids of shape {shape}, {num} rows, H={width}, padding_idx={pad}"
        got = embedding_backward(ids.copy(), g.copy(), num, pad)
        compare("grad of the table", got, layer.weight.grad, case=case, **_tol(dtype))
        dtype_ok("grad of the table", got, dtype, case)
    return passed("embedding backward", len(cases))


def check_bag_mean(bag_mean):
    """``bag_mean(table, ids, offsets)`` returns the mean of each bag's rows of ``table``,
    shape (B, H), in the table's dtype: bag b is ``ids[offsets[b]:offsets[b + 1]]``, the last
    bag running to the end of ids, and an empty bag gives zeros (as torch's EmbeddingBag).

    Shape: table (V, H); ids (n,) integers; offsets (B,) integers, starting at 0, never
    decreasing. Compared with ``nn.EmbeddingBag(mode="mean")`` on: one bag, an empty bag
    in the middle, an empty last bag, only empty bags, bags of one id, and float32."""
    rng = np.random.default_rng(32)
    # (ids, offsets, V, H, dtype, what the case is for)
    cases = [(np.array([0, 3, 3, 1]), np.array([0]), 4, 3, np.float64, "one bag"),
             (np.array([2, 0, 1, 1, 4]), np.array([0, 2, 2]), 5, 2, np.float64,
              "an empty bag in the middle"),
             (np.array([1, 2, 3]), np.array([0, 1, 3]), 4, 2, np.float64, "an empty last bag"),
             (np.array([], dtype=np.int64), np.array([0, 0]), 3, 2, np.float64,
              "only empty bags"),
             (np.array([3, 0, 2]), np.array([0, 1, 2]), 4, 3, np.float64, "bags of one id"),
             (np.array([5, 1, 1, 0, 2, 5, 5]), np.array([0, 3, 3, 6]), 6, 4, np.float32,
              "float32, an empty bag")]
    for ids, offsets, num, width, dtype, what in cases:
        layer = nn.EmbeddingBag(num, width, mode="mean", dtype=dtype, rng=rng)
        expected = layer(ids, offsets)
        case = f"{what}: ids {ids.tolist()}, offsets {offsets.tolist()}"
        with np.errstate(all="ignore"):
            got = bag_mean(layer.weight.data.copy(), ids.copy(), offsets.copy())
        compare("bag means", got, expected, case=case, **_tol(dtype))
        dtype_ok("bag means", got, dtype, case)
    return passed("bag mean", len(cases))
