"""The Embedding chapter's checkers accept right answers and reject the usual slips."""

import subprocess
import sys

import numpy as np
import pytest

from deepglossary.exercises import embedding

# --- embedding backward -------------------------------------------------------------------

def backward_add_at(ids, g, num, padding_idx=None):
    table = np.zeros((num, g.shape[-1]), dtype=g.dtype)
    np.add.at(table, ids.reshape(-1), g.reshape(-1, g.shape[-1]))
    if padding_idx is not None:
        table[padding_idx] = 0
    return table


def backward_one_hot(ids, g, num, padding_idx=None):
    """The derivation: X^T G with the one-hot matrix X."""
    one_hot = np.eye(num, dtype=g.dtype)[ids.reshape(-1)]          # (n, V)
    table = one_hot.T @ g.reshape(-1, g.shape[-1])
    if padding_idx is not None:
        table[padding_idx] = 0
    return table


def backward_fancy_index(ids, g, num, padding_idx=None):
    """The classic slip: a repeated id is written, not added."""
    table = np.zeros((num, g.shape[-1]), dtype=g.dtype)
    table[ids.reshape(-1)] += g.reshape(-1, g.shape[-1])
    if padding_idx is not None:
        table[padding_idx] = 0
    return table


def backward_no_padding(ids, g, num, padding_idx=None):
    return backward_add_at(ids, g, num)


def backward_float64(ids, g, num, padding_idx=None):
    return backward_add_at(ids, g, num, padding_idx).astype(np.float64)


def backward_flat_only(ids, g, num, padding_idx=None):
    """Works for 1-D ids only (forgets to flatten)."""
    table = np.zeros((num, g.shape[-1]), dtype=g.dtype)
    np.add.at(table, ids, g)
    if padding_idx is not None:
        table[padding_idx] = 0
    return table


@pytest.mark.parametrize("right", [backward_add_at, backward_one_hot])
def test_embedding_backward_checker_accepts_right_answers(right):
    embedding.check_embedding_backward(right)


@pytest.mark.parametrize("wrong", [backward_fancy_index, backward_no_padding, backward_float64])
def test_embedding_backward_checker_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        embedding.check_embedding_backward(wrong)


def test_flattening_is_not_needed_with_add_at():
    """np.add.at takes ids of any shape: a correct answer that never flattens passes too."""
    embedding.check_embedding_backward(backward_flat_only)


# --- bag mean -----------------------------------------------------------------------------

def bag_mean_loop(table, ids, offsets):
    ends = np.r_[offsets[1:], len(ids)]
    out = np.zeros((len(offsets), table.shape[1]), dtype=table.dtype)
    for b, (s, e) in enumerate(zip(offsets, ends)):
        if e > s:
            out[b] = table[ids[s:e]].mean(axis=0)
    return out


def bag_mean_vectorised(table, ids, offsets):
    lengths = np.diff(np.r_[offsets, len(ids)])                      # (B,)
    bag = np.repeat(np.arange(len(offsets)), lengths)                 # (n,)
    out = np.zeros((len(offsets), table.shape[1]), dtype=table.dtype)
    np.add.at(out, bag, table[ids])
    return out / np.maximum(lengths, 1)[:, None].astype(table.dtype)


def bag_mean_reduceat(table, ids, offsets):
    """The slip: np.add.reduceat returns an element, not zero, for an empty bag (and fails
    on an offset equal to len(ids))."""
    sums = np.add.reduceat(table[ids], offsets, axis=0)
    lengths = np.diff(np.r_[offsets, len(ids)])
    return sums / lengths[:, None]


def bag_mean_nan_for_empty(table, ids, offsets):
    lengths = np.diff(np.r_[offsets, len(ids)])
    bag = np.repeat(np.arange(len(offsets)), lengths)
    out = np.zeros((len(offsets), table.shape[1]), dtype=table.dtype)
    np.add.at(out, bag, table[ids])
    return out / lengths[:, None]                                      # 0 / 0 for empty bags


def bag_mean_drops_last(table, ids, offsets):
    ends = offsets[1:]                                                 # forgets the last bag
    out = np.zeros((len(offsets), table.shape[1]), dtype=table.dtype)
    for b, (s, e) in enumerate(zip(offsets, ends)):
        if e > s:
            out[b] = table[ids[s:e]].mean(axis=0)
    return out


@pytest.mark.parametrize("right", [bag_mean_loop, bag_mean_vectorised])
def test_bag_mean_checker_accepts_right_answers(right):
    embedding.check_bag_mean(right)


@pytest.mark.parametrize("wrong", [bag_mean_reduceat, bag_mean_nan_for_empty,
                                   bag_mean_drops_last])
def test_bag_mean_checker_rejects_slips(wrong):
    with pytest.raises((AssertionError, IndexError)):
        embedding.check_bag_mean(wrong)


def test_the_chapter_modules_do_not_import_torch():
    code = ("import sys, deepglossary.nn.embedding, deepglossary.exercises.embedding, "
            "deepglossary.twins.embedding; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
