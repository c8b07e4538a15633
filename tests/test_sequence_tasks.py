"""The offset-recall task and the tagger of the Bidirectional RNN chapter."""

import numpy as np
import pytest
import torch

from deepglossary.charlm import one_hot
from deepglossary.sequence_tasks import Tagger, offset_recall, tag_accuracy, train_tagger
from deepglossary.verify import copy_parameters


@pytest.mark.parametrize("offset", [-3, -1, 0, 1, 4])
def test_offset_recall_tags_the_symbol_offset_steps_away(offset):
    x, y = offset_recall(50, 9, 5, offset, rng=1)
    assert x.shape == y.shape == (50, 9) and x.dtype == y.dtype == np.int64
    assert x.min() >= 0 and x.max() < 5
    for t in range(9):
        if 0 <= t + offset < 9:
            np.testing.assert_array_equal(y[:, t], x[:, t + offset])
        else:
            assert (y[:, t] == -1).all()
    assert (y == -1).sum() == 50 * abs(offset)


def test_offset_recall_is_seeded_and_uniform():
    a, _ = offset_recall(400, 20, 4, 2, rng=3)
    b, _ = offset_recall(400, 20, 4, 2, rng=3)
    np.testing.assert_array_equal(a, b)
    counts = np.bincount(a.ravel(), minlength=4) / a.size
    assert np.abs(counts - 0.25).max() < 0.02


@pytest.mark.parametrize("args", [(0, 5, 3, 1), (4, 5, 1, 1), (4, 5, 3, 5), (4, 5, 3, -5),
                                  (4, 5, 3, 1.0), (4, 5, 3, True)])
def test_offset_recall_refuses_bad_arguments(args):
    with pytest.raises(ValueError):
        offset_recall(*args)


@pytest.mark.parametrize("cell,bidirectional", [("rnn", True), ("rnn", False), ("lstm", True),
                                                ("gru", True)])
def test_tagger_matches_its_torch_twin(cell, bidirectional):
    model = Tagger(5, 4, bidirectional=bidirectional, cell=cell, num_tags=3, dtype=np.float64,
                   rng=0)
    twin = model.torch_twin()
    copy_parameters(model, twin)
    tokens = np.random.default_rng(2).integers(0, 5, (3, 6))
    g = np.random.default_rng(3).standard_normal((3, 6, 3))
    logits = model(tokens)
    model.backward(g)
    x = torch.tensor(one_hot(tokens, 5, np.float64))
    theirs = twin(x)
    (theirs * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(logits, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    grads = dict(twin.named_parameters())
    names = [n for n, _ in model.named_parameters()]
    assert names == list(grads)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_tagger_counts_and_refuses():
    bi, uni = Tagger(8, 16, bidirectional=True), Tagger(8, 25)
    assert bi.num_parameters == 2 * 16 * (8 + 16 + 2) + 32 * 8 + 8
    assert uni.num_parameters == 25 * (8 + 25 + 2) + 25 * 8 + 8
    with pytest.raises(ValueError):
        bi(np.zeros(5, dtype=int))
    with pytest.raises(ValueError):
        Tagger(8, 4, cell="transformer")


def test_tag_accuracy_scores_only_tagged_positions():
    model = Tagger(4, 3, rng=0)
    x, y = offset_recall(20, 6, 4, 2, rng=0)
    pred = model(x).argmax(axis=-1)
    y_all_right = np.where(y >= 0, pred, -1)
    assert tag_accuracy(model, x, y_all_right) == 1.0
    y_wrong = np.where(y >= 0, (pred + 1) % 4, -1)
    assert tag_accuracy(model, x, y_wrong) == 0.0
    with pytest.raises(ValueError):
        tag_accuracy(model, x, y[:, :-1])


def test_only_the_bidirectional_tagger_learns_to_look_ahead():
    """Offset +2: the symbol two steps later. The left-to-right tagger cannot know it and stays
    near chance (1/4); the bidirectional one, trained alike, learns it."""
    def batch(rng):
        return offset_recall(32, 10, 4, 2, rng)
    x, y = offset_recall(500, 10, 4, 2, rng=9)
    acc = {}
    for bidirectional in (False, True):
        model = Tagger(4, 12, bidirectional=bidirectional, rng=0)
        losses = train_tagger(model, batch, steps=150, lr=2e-2, rng=1)
        assert np.isfinite(losses).all()
        acc[bidirectional] = tag_accuracy(model, x, y)
    assert abs(acc[False] - 0.25) < 0.05
    assert acc[True] > 0.9
