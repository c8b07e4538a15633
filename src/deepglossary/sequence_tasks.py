"""A tagging task in which the future matters, and a small tagger to learn it (the
Bidirectional RNN chapter).

    x, y = offset_recall(64, 16, 8, offset=3, rng=0)    # y[:, t] = x[:, t + 3], -1 off the end
    model = Tagger(8, 16, bidirectional=True)           # one-hot -> RNN -> Affine at every step
    train_tagger(model, lambda rng: offset_recall(64, 16, 8, 3, rng), steps=300, rng=0)
    tag_accuracy(model, x, y)                           # over the positions that have a tag

A positive offset asks for a symbol that comes later, which a left-to-right network has not
read yet when it must answer; a negative one asks for a symbol already read, which it must
remember. The symbols are independent and uniform, so whatever has not been read gives no
clue: a model that cannot see the answer scores 1 / vocab_size on average.
"""

from __future__ import annotations

import numpy as np

from deepglossary import nn, optim
from deepglossary.charlm import one_hot
from deepglossary.losses import CrossEntropy
from deepglossary.nn.core import Layer, no_grad
from deepglossary.random import default_rng

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _integer(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def offset_recall(n: int, length: int, vocab_size: int, offset: int, rng=None):
    """Random symbol sequences, each position tagged with the symbol ``offset`` steps away.

    Shape: returns x (n, length) and y (n, length), both int64. x holds independent symbols,
    uniform on [0, vocab_size); ``y[:, t] = x[:, t + offset]`` where ``0 <= t + offset <
    length``, and -1 (no tag, not scored) at the ``|offset|`` positions where that falls off
    the sequence. ``offset > 0`` looks ahead, ``offset < 0`` back, 0 tags a symbol with itself.
    """
    n = _integer(n, "n", 1)
    length = _integer(length, "length", 1)
    vocab_size = _integer(vocab_size, "vocab_size", 2)
    if isinstance(offset, bool) or not isinstance(offset, int | np.integer) \
            or abs(offset) >= length:
        raise ValueError(f"offset must be an integer with |offset| < length = {length}, "
                         f"got {offset!r}")
    x = default_rng(rng).integers(0, vocab_size, size=(n, length))             # (n, length)
    y = np.full((n, length), -1, dtype=np.int64)
    if offset >= 0:
        y[:, :length - offset] = x[:, offset:]                                 # look ahead
    else:
        y[:, -offset:] = x[:, :length + offset]                                # look back
    return x.astype(np.int64), y


class Tagger(Layer):
    """One tag per position: one-hot symbols -> a recurrent layer, one- or bidirectional ->
    an affine layer at every step. PyTorch twin: :meth:`torch_twin` (``torch.nn.RNN`` /
    ``LSTM`` / ``GRU`` with ``batch_first=True`` and a ``torch.nn.Linear``, same names).

    Shape (N sequences, T steps, V symbols, K tags, H hidden units per direction, K_d = 2 if
    bidirectional else 1):
        tokens: (N, T) integer ids in [0, V);  logits: (N, T, K)
        rnn: ``CELLS[cell](V, H, bidirectional=...)``, output (N, T, K_d H)
        decoder.weight: (K, K_d H),  decoder.bias: (K,)

    ``forward(tokens) -> logits``; ``backward(grad_logits)`` accumulates every parameter's
    gradient (the ids have none; returns None). The initial state is zero.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, bidirectional: bool = False,
                 cell: str = "rnn", num_tags: int | None = None, dtype=np.float32, rng=None):
        if cell not in CELLS:
            raise ValueError(f"Tagger: cell must be one of {sorted(CELLS)}, got {cell!r}")
        rng = default_rng(rng)
        self.vocab_size = _integer(vocab_size, "vocab_size", 1)
        self.num_tags = self.vocab_size if num_tags is None else _integer(num_tags, "num_tags", 1)
        self.cell, self.dtype = cell, np.dtype(dtype)
        self.rnn = CELLS[cell](self.vocab_size, hidden_size, batch_first=True,
                               bidirectional=bidirectional, dtype=dtype, rng=rng)
        width = hidden_size * (2 if bidirectional else 1)
        self.decoder = nn.Affine(width, self.num_tags, dtype=dtype, rng=rng)

    @property
    def num_parameters(self) -> int:
        return int(sum(p.data.size for p in self.parameters()))

    def forward(self, tokens):
        tokens = np.asarray(tokens)
        if tokens.ndim != 2:
            raise ValueError(f"Tagger expects token ids of shape (N, T), got shape "
                             f"{tokens.shape}; for one sequence use tokens[None]")
        x = one_hot(tokens, self.vocab_size, self.dtype)                # (N, T, V)
        out = self.rnn(x)[0]                                            # (N, T, K_d H)
        return self.decoder(out)                                        # (N, T, K)

    def backward(self, grad_logits):
        self._backward_begins()
        self.rnn.backward(self.decoder.backward(grad_logits))           # dx, dh0 (, dc0) unused

    def torch_twin(self):
        """The same tagger in torch (parameters not copied: use ``verify.copy_parameters``);
        its forward takes the one-hot input (N, T, V) and returns the logits."""
        from deepglossary.verify import torch_module

        torch = torch_module()
        dtype = torch.float64 if self.dtype == np.float64 else torch.float32
        rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[self.cell]
        rnn = rnn_cls(self.vocab_size, self.rnn.hidden_size, batch_first=True,
                      bidirectional=self.rnn.bidirectional, dtype=dtype)
        decoder = torch.nn.Linear(self.decoder.weight.shape[1], self.num_tags, dtype=dtype)

        class TorchTagger(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn, self.decoder = rnn, decoder

            def forward(self, x):
                return self.decoder(self.rnn(x)[0])

        return TorchTagger()

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, num_tags={self.num_tags}, cell={self.cell!r}"


def _scored(y, shape) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != shape or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"tags must be integers of the tokens' shape {shape}, got dtype "
                         f"{y.dtype} and shape {y.shape}")
    return y >= 0                                                       # -1: no tag


def tag_accuracy(model, x, y) -> float:
    """The fraction of tagged positions (``y >= 0``) whose most likely tag is ``y``."""
    with no_grad():
        logits = model(x)                                               # (N, T, K)
    mask = _scored(y, logits.shape[:2])
    return float((logits.argmax(axis=-1)[mask] == np.asarray(y)[mask]).mean())


def train_tagger(model, make_batch, *, steps: int, lr: float = 1e-2, rng=None) -> np.ndarray:
    """Train ``model`` with Adam (learning rate ``lr``) on ``steps`` fresh batches.

    ``make_batch(rng)`` returns ``(x, y)`` like :func:`offset_recall`; the loss is the
    cross-entropy averaged over the tagged positions only (the gradient of the others is 0).
    Fresh data at every step: there is nothing to overfit. Returns each step's loss.
    """
    steps = _integer(steps, "steps", 1)
    rng = default_rng(rng)
    opt, loss_fn = optim.Adam(model.parameters(), lr=lr), CrossEntropy()
    losses = np.empty(steps)
    for step in range(steps):
        x, y = make_batch(rng)
        opt.zero_grad()
        logits = model(x)                                               # (N, T, K)
        mask = _scored(y, logits.shape[:2])                             # (N, T)
        losses[step] = loss_fn(logits[mask], np.asarray(y)[mask])       # (M, K) tagged
        grad = np.zeros_like(logits)
        grad[mask] = loss_fn.backward()                                 # (M, K) into place
        model.backward(grad)
        opt.step()
    return losses
