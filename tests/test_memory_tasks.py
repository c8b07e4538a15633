"""The delayed-recall task, the sequence classifier (against torch) and the shared training
routine of the LSTM and GRU chapters."""

import subprocess
import sys

import numpy as np
import pytest

from deepglossary import memory_tasks as mt
from deepglossary.verify import against_torch


@pytest.mark.parametrize("delay,symbols,lead", [(0, 2, 0), (3, 4, 5), (12, 7, 1)])
def test_delayed_recall_is_what_it_says(delay, symbols, lead):
    task = mt.DelayedRecall(delay, symbols, lead)
    x, y = task.sample(200, rng=3)
    assert x.shape == (200, lead + 1 + delay, symbols + 1) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert (x[..., :symbols].sum(axis=2) == 1).all()              # one symbol at every step
    marker = x[..., symbols]
    assert (marker[:, lead] == 1).all() and marker.sum() == 200    # the marker at step lead only
    assert (x[np.arange(200), lead, y] == 1).all()                 # the target is the marked one
    assert set(np.unique(y)) == set(range(symbols))                # every symbol is a target
    again = mt.delayed_recall(200, delay, symbols=symbols, lead=lead, rng=3)
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)


def test_the_distractors_say_nothing_about_the_target():
    """Every symbol after the marker is independent of the target: with many sequences, the
    frequency of each distractor symbol is the same whatever the target (chance 1/K)."""
    task = mt.DelayedRecall(delay=6, symbols=3, lead=2)
    x, y = task.sample(30000, rng=0)
    after = x[:, task.lead + 1:, :3]                               # (n, delay, K)
    for target in range(3):
        freq = after[y == target].mean(axis=(0, 1))                # per symbol
        assert np.allclose(freq, 1 / 3, atol=0.01)


def test_delayed_recall_refuses_bad_sizes():
    for bad in (dict(delay=-1), dict(delay=2.5), dict(delay=3, symbols=1),
                dict(delay=3, lead=-2)):
        with pytest.raises(ValueError):
            mt.DelayedRecall(**bad)
    with pytest.raises(TypeError):
        mt.DelayedRecall(3, dtype=np.int32)
    with pytest.raises(ValueError):
        mt.DelayedRecall(3).sample(0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers,bidirectional,dtype",
                         [(1, False, np.float64), (2, True, np.float64), (2, False, np.float32),
                          (1, True, np.float32)])
def test_sequence_classifier_against_torch(kind, layers, bidirectional, dtype):
    x, _ = mt.delayed_recall(3, 4, symbols=3, lead=1, rng=1, dtype=dtype)
    model = mt.SequenceClassifier(kind, 4, 5, 3, num_layers=layers, bidirectional=bidirectional,
                                  dtype=dtype, rng=2)
    report = against_torch(model, model.torch_twin(), x)
    assert report.ok


def test_sequence_classifier_reads_the_last_layers_final_states():
    """One direction: the features are the output at the last step. Bidirectional: the
    forward half of the last step's output and the backward half of the first step's."""
    x, _ = mt.delayed_recall(2, 3, rng=0, dtype=np.float64)
    for bidirectional in (False, True):
        model = mt.SequenceClassifier("lstm", 5, 4, 4, num_layers=2,
                                      bidirectional=bidirectional, dtype=np.float64, rng=0)
        logits = model(x)
        out, _ = model.rnn(x)
        features = out[:, -1] if not bidirectional else np.concatenate(
            [out[:, -1, :4], out[:, 0, 4:]], axis=1)
        assert np.allclose(logits, features @ model.head.weight.data.T + model.head.bias.data)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_keep_bias_sets_the_summed_bias_of_the_keeping_gate(kind):
    model = mt.SequenceClassifier(kind, 3, 4, 2, num_layers=2, bidirectional=True,
                                  keep_bias=1.5, rng=0)
    for suffix in ("_l0", "_l1", "_l0_reverse", "_l1_reverse"):
        b_ih = getattr(model.rnn, "bias_ih" + suffix).data
        b_hh = getattr(model.rnn, "bias_hh" + suffix).data
        total = b_ih + b_hh
        assert np.all(total[4:8] == 1.5)                           # f (LSTM) or z (GRU)
        assert np.all(np.abs(total[:4]) < 1.5) and np.all(np.abs(total[8:]) < 1.5)
    plain = mt.SequenceClassifier(kind, 3, 4, 2, rng=0)
    assert np.abs(plain.rnn.bias_ih_l0.data + plain.rnn.bias_hh_l0.data).max() <= 1.0
    with pytest.raises(ValueError, match="no gate"):
        mt.SequenceClassifier("rnn", 3, 4, 2, keep_bias=1.0)
    with pytest.raises(ValueError, match="kind"):
        mt.SequenceClassifier("transformer", 3, 4, 2)


def test_train_classifier_learns_an_easy_delay_and_stops_when_solved():
    task = mt.DelayedRecall(delay=1, symbols=3, lead=0)
    model = mt.SequenceClassifier("lstm", task.input_size, 8, 3, rng=0)
    run = mt.train_classifier(model, task, steps=400, lr=1e-2, seed=0, test_size=300)
    assert run.solved_at is not None and run.steps == run.solved_at < 400
    assert np.mean(run.accuracy[-25:]) >= 0.99 and run.test_accuracy > 0.95
    assert len(run.loss) == len(run.accuracy) == run.steps
    assert run.loss[-1] < run.loss[0]


def test_train_classifier_runs_every_step_when_never_solved():
    task = mt.DelayedRecall(delay=3, symbols=4, lead=2)
    model = mt.SequenceClassifier("rnn", task.input_size, 4, 4, rng=0)
    run = mt.train_classifier(model, task, steps=7, seed=1, test_size=50, solved=1.0)
    assert run.solved_at is None and run.steps == 7 and 0 <= run.test_accuracy <= 1
    with pytest.raises(ValueError):
        mt.train_classifier(model, task, steps=0)
    with pytest.raises(ValueError):
        mt.train_classifier(model, task, steps=3, solved=1.5)


def test_smoothed_is_the_trailing_mean():
    run = mt.Run(accuracy=[0.0, 1.0, 1.0, 0.0, 1.0])
    want = [np.mean(run.accuracy[max(0, t - 2):t + 1]) for t in range(5)]
    assert np.allclose(run.smoothed(3), want)


def test_memory_runs_share_data_and_cache_and_table():
    cache = {}
    settings = dict(steps=5, test_size=40, hidden_size=4)
    runs = mt.memory_runs({"RNN": "rnn", "LSTM+1": ("lstm", 1.0)}, [2, 4], cache=cache,
                          **settings)
    assert set(runs) == {("RNN", 2), ("RNN", 4), ("LSTM+1", 2), ("LSTM+1", 4)}
    assert len(cache) == 4
    again = mt.memory_runs({"a relabelled RNN": "rnn"}, [4], cache=cache, **settings)
    assert again[("a relabelled RNN", 4)] is runs[("RNN", 4)] and len(cache) == 4
    other = mt.memory_runs({"RNN": "rnn"}, [4], cache=cache, seed=1, **settings)
    assert other[("RNN", 4)] is not runs[("RNN", 4)] and len(cache) == 5
    table = mt.accuracy_table(runs | {("GRU", 4): other[("RNN", 4)]}).splitlines()
    assert table[0].split() == ["delay", "RNN", "LSTM+1", "GRU"]
    assert [line.split()[0] for line in table[1:]] == ["2", "4"]
    assert table[1].count("%") == 2 and table[2].count("%") == 3      # a blank for GRU at 2
    assert "(   -)" in table[1]                                       # 5 steps solve nothing


def test_importing_does_not_import_torch():
    code = ("import sys, deepglossary.memory_tasks, deepglossary.exercises.gated; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
