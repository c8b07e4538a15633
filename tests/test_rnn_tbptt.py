"""train.truncated_bptt against torch's idiom (chunks, state.detach()), and what it promises."""

import numpy as np
import pytest
import torch

from deepglossary import nn, optim
from deepglossary.losses import CrossEntropy
from deepglossary.train import truncated_bptt
from deepglossary.verify import copy_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")   # tests/conftest.py


class CharLM(nn.Layer):
    """One-hot tokens -> LSTM -> Affine: logits for the next token at every step."""

    def __init__(self, vocab, hidden, rng):
        self.vocab = vocab
        self.rnn = nn.LSTM(vocab, hidden, batch_first=True, rng=rng)
        self.decoder = nn.Affine(hidden, vocab, rng=rng)

    def forward(self, tokens, state=None):
        out, state = self.rnn(np.eye(self.vocab)[tokens], state)         # (N, k, H)
        return self.decoder(out), state                                   # (N, k, V)

    def backward(self, grad_logits):
        self._backward_begins()
        return self.rnn.backward(self.decoder.backward(grad_logits))


class TorchCharLM(torch.nn.Module):
    def __init__(self, vocab, hidden):
        super().__init__()
        self.vocab = vocab
        self.rnn = torch.nn.LSTM(vocab, hidden, batch_first=True, dtype=torch.float64)
        self.decoder = torch.nn.Linear(hidden, vocab, dtype=torch.float64)

    def forward(self, tokens, state=None):
        x = torch.nn.functional.one_hot(tokens, self.vocab).to(torch.float64)
        out, state = self.rnn(x, state)
        return self.decoder(out), state


def torch_truncated(model, tokens, targets, k, optimizer=None):
    """The torch idiom: forward a chunk, backward, step, ``state = state.detach()``."""
    x, y = torch.from_numpy(tokens), torch.from_numpy(targets)
    total, state, losses = y.shape[1], None, []
    for s in range(0, total, k):
        if optimizer is not None:
            optimizer.zero_grad()
        logits, state = model(x[:, s:s + k], state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, model.vocab),
                                                 y[:, s:s + k].reshape(-1))
        share = 1.0 if optimizer is not None else y[:, s:s + k].shape[1] / total
        (loss * share).backward()
        if optimizer is not None:
            optimizer.step()
        losses.append(loss.item())
        state = tuple(h.detach() for h in state)                 # carry the value, not the graph
    return np.array(losses)


def data(rng, n=3, t_len=23, vocab=5):
    text = rng.integers(0, vocab, size=(n, t_len + 1))
    return text[:, :-1], text[:, 1:]


def pair(vocab=5, hidden=6, seed=0):
    ours, theirs = CharLM(vocab, hidden, np.random.default_rng(seed)), TorchCharLM(vocab, hidden)
    copy_parameters(ours, theirs)
    return ours, theirs


def grads(model):
    return {name: p.grad for name, p in model.named_parameters()}


def torch_grads(model):
    return {name: p.grad.numpy() for name, p in model.named_parameters()}


def test_training_matches_torch_chunk_for_chunk():
    rng = np.random.default_rng(1)
    x, y = data(rng)
    ours, theirs = pair()
    run = truncated_bptt(ours, CrossEntropy(), x, y, k=5, optimizer=optim.SGD(
        ours.parameters(), lr=0.5), clip_norm=None)
    expected = torch_truncated(theirs, x, y, 5, torch.optim.SGD(theirs.parameters(), lr=0.5))
    assert list(run.steps) == [5, 5, 5, 5, 3] and not run.diverged
    np.testing.assert_allclose(run.loss, expected, rtol=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].data,
                                   p.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k", [1, 4, 23, 50])
def test_accumulated_gradient_matches_torch_detach(k):
    rng = np.random.default_rng(2)
    x, y = data(rng)
    ours, theirs = pair(seed=3)
    run = truncated_bptt(ours, CrossEntropy(), x, y, k=k)
    torch_truncated(theirs, x, y, k)
    mine, expected = grads(ours), torch_grads(theirs)
    for name in expected:
        np.testing.assert_allclose(mine[name], expected[name], rtol=1e-9, atol=1e-12)
    assert run.steps.sum() == 23


def test_k_at_least_T_is_full_backpropagation_and_shorter_k_is_not():
    rng = np.random.default_rng(4)
    x, y = data(rng)
    ours, _ = pair(seed=5)
    loss_fn = CrossEntropy()
    logits, _ = ours(x)                                       # the whole sequence at once
    loss_fn(logits.reshape(-1, 5), y.reshape(-1))
    ours.backward(loss_fn.backward().reshape(logits.shape))
    full = {name: g.copy() for name, g in grads(ours).items()}
    ours.zero_grad()
    truncated_bptt(ours, loss_fn, x, y, k=23)
    for name, g in grads(ours).items():
        np.testing.assert_allclose(g, full[name], rtol=1e-12, atol=1e-14)
    ours.zero_grad()
    truncated_bptt(ours, loss_fn, x, y, k=3)
    w = "rnn.weight_hh_l0"
    bias = np.abs(ours.rnn.weight_hh_l0.grad - full[w]).max() / np.abs(full[w]).max()
    assert bias > 1e-3                                        # the truncation is not free


def test_state_is_carried_across_chunks():
    rng = np.random.default_rng(6)
    x, y = data(rng)
    ours, _ = pair(seed=7)
    with nn.no_grad():
        _, (h_full, c_full) = ours(x)
    run = truncated_bptt(ours, CrossEntropy(), x, y, k=4)    # no optimizer: weights unchanged
    np.testing.assert_allclose(run.state[0], h_full, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run.state[1], c_full, rtol=1e-12, atol=1e-14)
    assert np.isclose(run.mean_loss, np.sum(run.loss * run.steps) / 23)


def test_learns_a_periodic_text():
    """Streams of 0 1 2 3 0 1 2 3 ... at random phases: the next token is predictable."""
    rng = np.random.default_rng(8)
    phase = rng.integers(0, 4, size=(4, 1))
    text = (phase + np.arange(65)) % 4
    model = CharLM(4, 8, rng)
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    first = truncated_bptt(model, CrossEntropy(), text[:, :-1], text[:, 1:], k=8,
                           optimizer=optimizer, clip_norm=1.0)
    state = None
    for _ in range(10):
        last = truncated_bptt(model, CrossEntropy(), text[:, :-1], text[:, 1:], k=8,
                              optimizer=optimizer, clip_norm=1.0, state=state)
        state = last.state
    assert first.mean_loss > 1.0 and last.mean_loss < 0.05 * first.mean_loss


def test_time_major_layout():
    rng = np.random.default_rng(9)
    x, y = data(rng)
    ours, _ = pair(seed=1)
    batch_first = truncated_bptt(ours, CrossEntropy(), x, y, k=6)

    class TimeMajor(CharLM):
        def forward(self, tokens, state=None):
            logits, state = super().forward(tokens.T, state)
            return logits.transpose(1, 0, 2), state

        def backward(self, grad_logits):
            return super().backward(grad_logits.transpose(1, 0, 2))

    other = TimeMajor(5, 6, np.random.default_rng(1))
    time_major = truncated_bptt(other, CrossEntropy(), x.T, y.T, k=6, batch_first=False)
    np.testing.assert_allclose(time_major.loss, batch_first.loss, rtol=1e-12)


def test_clear_errors():
    rng = np.random.default_rng(0)
    x, y = data(rng)
    model, _ = pair()
    with pytest.raises(ValueError, match="k .* must be an integer >= 1"):
        truncated_bptt(model, CrossEntropy(), x, y, k=0)
    with pytest.raises(ValueError, match="integer targets of shape"):
        truncated_bptt(model, CrossEntropy(), x, y.astype(float), k=4)
    with pytest.raises(ValueError, match="first two axes"):
        truncated_bptt(model, CrossEntropy(), x[:, :-1], y, k=4)


def test_a_diverging_run_stops_and_says_so():
    rng = np.random.default_rng(0)
    x, y = data(rng)
    model, _ = pair()
    run = truncated_bptt(model, CrossEntropy(), x, y, k=1,
                         optimizer=optim.SGD(model.parameters(), lr=1e200))
    assert run.diverged and len(run.loss) < 23 and np.isfinite(run.loss).all()
