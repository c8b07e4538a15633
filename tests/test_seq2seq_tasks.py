"""The synthetic reversal task, its training loop, its accuracy table and the shipped models."""

import subprocess
import sys

import numpy as np
import pytest

from deepglossary import seq2seq_tasks as st


def test_reversal_targets_are_the_reversed_sources_then_eos():
    src, tgt = st.reversal(50, (1, 7), 5, rng=0)
    assert src.shape == (50, 7) and tgt.shape == (50, 8)
    assert src.dtype == tgt.dtype == np.int64
    for s, t in zip(src, tgt):
        real = s[s != st.PAD]
        assert (s[len(real):] == st.PAD).all() and 1 <= len(real) <= 7
        assert ((real >= st.FIRST_SYMBOL) & (real < st.FIRST_SYMBOL + 5)).all()
        assert t[:len(real)].tolist() == real[::-1].tolist()
        assert t[len(real)] == st.EOS and (t[len(real) + 1:] == st.PAD).all()
    copy_src, copy_tgt = st.reversal(20, 4, 5, rng=1, task="copy")
    assert (copy_tgt[:, :4] == copy_src).all() and (copy_tgt[:, 4] == st.EOS).all()


def test_bad_task_settings_are_refused():
    with pytest.raises(ValueError, match="lengths"):
        st.reversal(4, (5, 2))
    with pytest.raises(ValueError, match="task"):
        st.reversal(4, 3, task="sort")
    with pytest.raises(ValueError, match="symbols"):
        st.reversal(4, 3, symbols=1)
    with pytest.raises(ValueError, match="vocabulary"):
        st.train(st.task_model(8, symbols=3), steps=1, symbols=10, progress=False)


def test_training_lowers_the_loss_and_accuracy_is_measured():
    model = st.task_model(16, symbols=4, embed_size=8, rng=0)
    history = st.train(model, steps=60, lengths=(1, 4), rng=1, progress=False)
    assert len(history.loss) == 60 and history.seconds > 0
    assert np.mean(history.loss[-10:]) < np.mean(history.loss[:10])
    assert max(history.grad_norm) > 0
    table = st.accuracy_by_length(model, [1, 3], n=20)
    assert table.exact.shape == table.token.shape == (2,)
    assert (0 <= table.exact).all() and (table.exact <= table.token + 1e-12).all()


def test_compare_counts_eos_and_length():
    from deepglossary.models.seq2seq import Decoded

    tgt = np.array([[5, 4, 2, 0], [6, 2, 0, 0]])
    out = np.array([[5, 4, 2], [6, 7, 2]])                  # right; wrong length
    decoded = Decoded(out, np.array([3, 3]), np.zeros(2), np.zeros(2), np.ones(2, bool))
    exact, token = st.compare(decoded, tgt)
    assert exact.tolist() == [True, False] and token.tolist() == [1.0, 0.5]


def test_run_is_one_call():
    result = st.run(hidden_size=8, steps=5, train_lengths=(1, 3), test_lengths=[2],
                    symbols=3, progress=False)
    assert result.table.lengths.tolist() == [2] and len(result.history.loss) == 5


@pytest.mark.parametrize("name", ["h16", "h32", "h64", "h128", "h64-dot"])
def test_shipped_models_still_reach_their_recorded_accuracy(name):
    model, record = st.pretrained(name)
    assert record["hidden_size"] == model.hidden_size
    assert (record["attention"] is None) == (model.attention_kind is None)
    table = st.accuracy_by_length(model, range(1, 13), n=200, rng=1000)
    np.testing.assert_allclose(table.exact, record["exact_1_to_12"], atol=0.03)


def test_shipped_weights_are_checked():
    with pytest.raises(ValueError, match="sha256"):
        st.pretrained("h16", expected_sha256="0" * 64)
    with pytest.raises(ValueError, match="no shipped model"):
        st.pretrained("h7")


def test_seq2seq_modules_do_not_import_torch():
    code = ("import sys, deepglossary.seq2seq_tasks, deepglossary.models.seq2seq, "
            "deepglossary.twins.seq2seq, deepglossary.exercises.seq2seq; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
