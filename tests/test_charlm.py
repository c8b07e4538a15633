"""deepglossary.charlm: vocabulary, streams, the character model against torch, sampling with
temperature, perplexity and the n-gram baselines."""

import numpy as np
import pytest
import torch

from deepglossary import optim
from deepglossary.charlm import (
    CharRNN,
    Vocabulary,
    cross_entropy,
    log_likelihoods,
    log_softmax,
    ngram_cross_entropy,
    ngram_log_probs,
    ngram_perplexity,
    one_hot,
    perplexity,
    sample,
    streams,
    temperature_probabilities,
)
from deepglossary.losses import CrossEntropy
from deepglossary.train import truncated_bptt
from deepglossary.verify import copy_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


def test_vocabulary_round_trip_and_refusals():
    vocab = Vocabulary("hello, world\n")
    assert vocab.chars == sorted(set("hello, world\n")) and len(vocab) == 10
    ids = vocab.encode("world, hello")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "world, hello"
    assert vocab.decode(vocab.encode("")) == ""
    with pytest.raises(ValueError, match=r"\['!', 'x'\]"):
        vocab.encode("hex!")
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        vocab.decode([0, 10])
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError):
        Vocabulary("")


def test_streams_are_contiguous_rows_and_targets_are_the_next_id():
    ids = np.arange(23)
    x, y = streams(ids, 3)                       # L = 22 // 3 = 7
    assert x.shape == y.shape == (3, 7)
    np.testing.assert_array_equal(x[1], np.arange(7, 14))
    np.testing.assert_array_equal(y, x + 1)
    x, y = streams(ids, 22)
    assert x.shape == (22, 1)
    with pytest.raises(ValueError, match="too few"):
        streams(ids, 23)
    with pytest.raises(ValueError, match="batch_size"):
        streams(ids, 0)
    with pytest.raises(ValueError, match="1-D"):
        streams(ids.astype(float), 2)


def test_one_hot():
    out = one_hot(np.array([[2, 0], [1, 1]]), 3, np.float64)
    assert out.shape == (2, 2, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(out.argmax(-1), [[2, 0], [1, 1]])
    assert out.sum() == 4
    with pytest.raises(ValueError):
        one_hot(np.array([3]), 3)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_char_rnn_matches_its_torch_twin(cell, dtype):
    rng = np.random.default_rng(3)
    vocab, hidden, layers, n, t_len = 7, 5, 2, 3, 6
    ours = CharRNN(vocab, hidden, layers, cell=cell, dtype=dtype, rng=1)
    theirs = ours.torch_twin()
    copy_parameters(ours, theirs)
    assert [name for name, _ in ours.named_parameters()] == \
        [name for name, _ in theirs.named_parameters()]
    tokens = rng.integers(0, vocab, (n, t_len))
    h0 = rng.standard_normal((layers, n, hidden)).astype(dtype)
    state = (h0, rng.standard_normal(h0.shape).astype(dtype)) if cell == "lstm" else h0
    logits, new_state = ours(tokens, state)
    assert logits.shape == (n, t_len, vocab) and logits.dtype == dtype
    g = rng.standard_normal(logits.shape).astype(dtype)
    d_state = ours.backward(g)

    t_state = (tuple(torch.tensor(s, requires_grad=True) for s in state) if cell == "lstm"
               else torch.tensor(state, requires_grad=True))
    t_logits, t_new = theirs(torch.from_numpy(one_hot(tokens, vocab, dtype)), t_state)
    t_logits.backward(torch.from_numpy(g))
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-4, 1e-5)
    np.testing.assert_allclose(logits, t_logits.detach().numpy(), rtol=rtol, atol=atol)
    if cell == "lstm":
        for a, b in zip(new_state, t_new):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=rtol, atol=atol)
        for a, b in zip(d_state, t_state):
            np.testing.assert_allclose(a, b.grad.numpy(), rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(new_state, t_new.detach().numpy(), rtol=rtol, atol=atol)
        np.testing.assert_allclose(d_state, t_state.grad.numpy(), rtol=rtol, atol=atol)
    for name, p in theirs.named_parameters():
        mine = dict(ours.named_parameters())[name].grad
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=rtol, atol=atol)


def test_char_rnn_refuses_bad_input():
    model = CharRNN(5, 4, rng=0)
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        model(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        model(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="cell"):
        CharRNN(5, 4, cell="transformer")


def test_truncated_training_with_char_rnn_matches_torch_detach():
    """Three chunks of training: ours through train.truncated_bptt, torch's loop with
    state.detach(); the losses and the final weights agree."""
    rng = np.random.default_rng(4)
    text = rng.integers(0, 6, (2, 16))
    x, y = text[:, :-1], text[:, 1:]
    ours = CharRNN(6, 5, dtype=np.float64, rng=2)
    theirs = ours.torch_twin()
    copy_parameters(ours, theirs)
    run = truncated_bptt(ours, CrossEntropy(), x, y, k=5,
                         optimizer=optim.Adam(ours.parameters(), lr=0.01))
    opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    state, losses = None, []
    for s in range(0, 15, 5):
        opt.zero_grad()
        logits, state = theirs(torch.from_numpy(one_hot(x[:, s:s + 5], 6, np.float64)), state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 6),
                                                 torch.from_numpy(y[:, s:s + 5]).reshape(-1))
        loss.backward()
        opt.step()
        state = state.detach()
        losses.append(loss.item())
    np.testing.assert_allclose(run.loss, losses, rtol=1e-10)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].data,
                                   p.detach().numpy(), rtol=1e-9, atol=1e-12)


class FixedLogits:
    """A stand-in model whose next-character logits never change."""

    def __init__(self, logits):
        self.logits = np.asarray(logits, dtype=np.float64)

    def __call__(self, tokens, state=None):
        n, t_len = tokens.shape
        return np.broadcast_to(self.logits, (n, t_len, len(self.logits))), state


def test_temperature_probabilities():
    z = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]])
    p1 = temperature_probabilities(z, 1.0)
    np.testing.assert_allclose(p1, np.exp(z) / np.exp(z).sum(1, keepdims=True))
    sharp, flat = temperature_probabilities(z, 0.25), temperature_probabilities(z, 4.0)
    assert (sharp.max(1) > p1.max(1)).all() and (flat.max(1) < p1.max(1)).all()
    np.testing.assert_array_equal(temperature_probabilities(z, 0), [[0, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(temperature_probabilities(z * 1000, 1e-3).sum(1), 1)
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError):
            temperature_probabilities(z, bad)


def test_sampling_draws_from_the_tempered_distribution():
    vocab = Vocabulary("abcd")
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    model = FixedLogits(logits)
    for temperature in (0.5, 1.0, 2.0):
        texts = sample(model, vocab, "a", 500, temperature=temperature, rng=7, n=8)
        counts = np.bincount(vocab.encode("".join(texts)), minlength=4) / 4000
        expected = temperature_probabilities(logits, temperature)
        assert np.abs(counts - expected).max() < 0.03, (temperature, counts, expected)
    assert sample(model, vocab, "ab", 12, temperature=0) == "a" * 12
    assert sample(model, vocab, "a", 0) == ""
    assert sample(model, vocab, "a", 30, rng=1) == sample(model, vocab, "a", 30, rng=1)
    assert sample(model, vocab, "a", 30, rng=1) != sample(model, vocab, "a", 30, rng=2)
    with pytest.raises(ValueError):
        sample(model, vocab, "", 5)
    with pytest.raises(ValueError):
        sample(model, vocab, "a", 5, temperature=-0.5)


def test_sampling_a_real_model_greedy_is_seed_independent():
    vocab = Vocabulary("abcdefgh \n")
    model = CharRNN(len(vocab), 8, rng=0)
    one, two = (sample(model, vocab, "abc", 40, temperature=0, rng=s) for s in (1, 2))
    assert one == two and len(one) == 40
    texts = sample(model, vocab, "abc", 40, temperature=1.0, rng=3, n=3)
    assert isinstance(texts, list) and len({*texts}) == 3


def test_cross_entropy_is_the_loss_of_one_long_forward_whatever_the_chunk():
    rng = np.random.default_rng(8)
    model = CharRNN(6, 7, dtype=np.float64, rng=3)
    ids = rng.integers(0, 6, 50)
    logits, _ = model(ids[None, :-1])
    expected = CrossEntropy()(logits[0], ids[1:])
    for chunk in (1, 7, 49, 1000):
        assert cross_entropy(model, ids, chunk=chunk) == pytest.approx(expected, rel=1e-12)
    assert perplexity(model, ids) == pytest.approx(np.exp(expected), rel=1e-12)
    per_char = log_softmax(logits[0])[np.arange(49), ids[1:]]
    np.testing.assert_allclose(log_likelihoods(model, ids, chunk=7), per_char, rtol=1e-12)
    with pytest.raises(ValueError):
        cross_entropy(model, ids[:1])
    with pytest.raises(ValueError):
        log_likelihoods(model, ids.astype(float))


def test_ngram_tables_and_baselines():
    ids = np.array([0, 1, 0, 1, 0, 2])
    uni = ngram_log_probs(ids, 4, 1, add=1.0)
    np.testing.assert_allclose(np.exp(uni), np.array([4, 3, 2, 1]) / 10)
    bi = ngram_log_probs(ids, 4, 2, add=0.5)
    np.testing.assert_allclose(np.exp(bi).sum(1), 1)
    assert np.exp(bi[0, 1]) == pytest.approx((2 + 0.5) / (3 + 2))     # 0 -> 1 twice of 3
    assert np.exp(bi[3, 0]) == pytest.approx(0.25)                     # never seen: uniform
    assert ngram_cross_entropy(uni, ids) == pytest.approx(-uni[ids[1:]].mean())
    assert ngram_cross_entropy(bi, ids) == pytest.approx(-bi[ids[:-1], ids[1:]].mean())
    text = np.tile([0, 1, 2, 3], 50)
    ppl_uni, _ = ngram_perplexity(text, text, 4, 1, add=1.0)
    ppl_bi, _ = ngram_perplexity(text, text, 4, 2, add=1e-6)
    assert ppl_uni == pytest.approx(4) and ppl_bi == pytest.approx(1, abs=1e-4)
    rng = np.random.default_rng(0)
    train, val = rng.integers(0, 5, 300), rng.integers(0, 5, 100)
    _, add = ngram_perplexity(train, val, 5, 2, validation_ids=val, candidates=(0.01, 1.0, 50.0))
    best = min((0.01, 1.0, 50.0), key=lambda a: ngram_cross_entropy(
        ngram_log_probs(train, 5, 2, a), val))
    assert add == best
    with pytest.raises(ValueError):
        ngram_perplexity(train, val, 5, 2)
    with pytest.raises(ValueError):
        ngram_log_probs(train, 5, 3, 1.0)
    with pytest.raises(ValueError):
        ngram_log_probs(train, 5, 1, 0.0)
