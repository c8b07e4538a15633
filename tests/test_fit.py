"""Minibatch training: SGD, MLP and fit, and the same run in torch."""

import numpy as np
import pytest
import torch

from deepglossary import nn
from deepglossary.data import mnist
from deepglossary.losses import CrossEntropy
from deepglossary.models import MLP
from deepglossary.optim import SGD
from deepglossary.train import accuracy, batches, fit
from deepglossary.verify import torch_twin, training_against_torch


def test_mlp_names_its_parameters_like_torch():
    ours = MLP([6, 5, 4, 3])
    theirs = torch_twin(ours)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    with pytest.raises(ValueError, match="at least"):
        MLP([3])


def test_one_epoch_matches_torch_in_float64():
    data = mnist()
    x, y = data.x_train[:640], data.y_train[:640]
    model = MLP([784, 32, 10], rng=np.random.default_rng(0))
    comparison = training_against_torch(model, torch_twin(model), x, y, lr=0.1, batch_size=64)
    assert len(comparison.ours) == 10
    assert comparison.max_difference < 1e-10
    assert comparison.ours[-1] < comparison.ours[0]


def test_sgd_matches_torch_and_refuses_bad_arguments():
    rng = np.random.default_rng(0)
    model = MLP([3, 2], rng=rng)
    p = model.parameters()[0]
    start = p.data.copy()
    tp = torch.tensor(start, requires_grad=True)
    t_opt = torch.optim.SGD([tp], lr=0.3)
    opt = SGD([p], lr=0.3)
    for _ in range(5):
        g = rng.standard_normal(p.shape)
        p.grad, tp.grad = g.copy(), torch.tensor(g)
        opt.step()
        t_opt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-14)
    with pytest.raises(ValueError, match="learning rate"):
        SGD(model.parameters(), lr=-1)
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)


def test_fit_learns_digits_and_records_history():
    data = mnist()
    model = MLP([784, 64, 10], rng=np.random.default_rng(0))
    history = fit(model, CrossEntropy(), SGD(model.parameters(), lr=0.1), data.x_train,
                  data.y_train, epochs=2, batch_size=64, x_test=data.x_test, y_test=data.y_test,
                  progress=False, rng=np.random.default_rng(0))
    assert len(history.loss) == 2 * 63 and len(history.test_accuracy) == 2
    assert history.test_accuracy[-1] > 0.8
    assert accuracy(model, data.x_test, data.y_test) == history.test_accuracy[-1]
    with pytest.raises(ValueError, match="rows"):
        fit(model, CrossEntropy(), SGD(model.parameters()), data.x_train, data.y_test)


def test_batches_cover_every_index_once():
    parts = batches(10, 4, np.random.default_rng(0))
    assert [len(b) for b in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts)) == list(range(10))


def test_fit_stops_cleanly_when_training_diverges():
    data = mnist()
    rng = np.random.default_rng(0)     # a deep *linear* network at a huge rate: it overflows
    model = nn.Sequential(nn.Affine(784, 64, rng=rng), nn.Affine(64, 64, rng=rng),
                          nn.Affine(64, 10, rng=rng))
    history = fit(model, CrossEntropy(), SGD(model.parameters(), lr=10.0, momentum=0.9),
                  data.x_train[:640], data.y_train[:640], epochs=3, batch_size=64,
                  progress=False, x_test=data.x_test, y_test=data.y_test)
    assert history.diverged and len(history.loss) < 30
    assert len(history.test_accuracy) == 3 and history.test_accuracy[-1] < 0.3
