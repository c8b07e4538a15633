"""The copy task of Graves, Wayne and Danihelka (2014), a training loop, and bit errors.

A sequence of ``length`` random binary vectors of ``bits`` bits is shown one vector a step,
on channels 0..bits-1; then one step with only the delimiter channel (channel ``bits``) on;
then ``length`` blank steps, during which the network must output the sequence again. The
input has ``bits + 1`` channels, the output ``bits``; only the last ``length`` steps are
scored. A batch holds sequences of one length, so that every operation covers the batch.

Shapes: N sequences, T = 2 length + 1 steps, B bits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from deepglossary import nn
from deepglossary.nn.core import Layer
from deepglossary.optim import Adam, RMSprop, clip_grad_norm


def _positive(value, name: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass
class CopyBatch:
    """x (N, 2 length + 1, B + 1) inputs; y (N, 2 length + 1, B) targets (zeros before the
    answer); mask (2 length + 1,) True at the ``length`` steps that are scored."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    length: int


def copy_batch(n: int, length: int, bits: int = 8, rng=None, dtype=np.float32) -> CopyBatch:
    """``n`` copy-task sequences of ``length`` random ``bits``-bit vectors (seeded ``rng``)."""
    n, length, bits = _positive(n, "n"), _positive(length, "length"), _positive(bits, "bits")
    rng = np.random.default_rng(rng)
    seq = rng.integers(0, 2, (n, length, bits)).astype(dtype)          # (N, L, B)
    steps = 2 * length + 1
    x = np.zeros((n, steps, bits + 1), dtype)
    x[:, :length, :bits] = seq
    x[:, length, bits] = 1                                              # the delimiter
    y = np.zeros((n, steps, bits), dtype)
    y[:, length + 1:] = seq
    mask = np.zeros(steps, bool)
    mask[length + 1:] = True
    return CopyBatch(x, y, mask, length)


def copy_loss(logits, batch: CopyBatch):
    """Binary cross-entropy with logits, summed over bits and averaged over the scored
    (sequence, step) pairs; returns (loss, dL/dlogits (N, T, B)).

    Per bit: l = softplus(z) - y z, so dl/dz = sigmoid(z) - y; zero at unscored steps.
    PyTorch: ``F.binary_cross_entropy_with_logits(z[:, mask], y[:, mask], reduction="sum")``
    divided by N times the number of scored steps."""
    z = np.asarray(logits)
    if z.shape != batch.y.shape:
        raise ValueError(f"copy_loss expects logits of the targets' shape {batch.y.shape}, got "
                         f"{z.shape}")
    m = batch.mask[None, :, None]
    count = z.shape[0] * int(batch.mask.sum())
    loss = float(((np.logaddexp(0, z) - batch.y * z) * m).sum() / count)
    prob = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))),
                    np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    return loss, ((prob - batch.y) * m / count).astype(z.dtype)


def bit_errors(model, batch: CopyBatch) -> np.ndarray:
    """Wrong bits per sequence (N,), thresholding the output at 1/2 (logit 0)."""
    with nn.no_grad():
        z = model(batch.x)
    return ((z > 0) != (batch.y > 0.5))[:, batch.mask].sum(axis=(1, 2))


def errors_by_length(model, lengths, *, n: int = 64, bits: int = 8, seed: int = 0) -> dict:
    """Mean bit errors per sequence for each length (one seeded batch of ``n`` a length)."""
    dtype = next(iter(model.parameters())).dtype
    return {int(L): float(bit_errors(model, copy_batch(n, int(L), bits, rng=[seed, int(L)],
                                                       dtype=dtype)).mean())
            for L in lengths}


class LSTMCopier(Layer):
    """The baseline: an LSTM (batch first) and an affine read-out at every step.
    PyTorch twin: ``torch.nn.LSTM(batch_first=True)`` then ``torch.nn.Linear``.
    x (N, T, I) -> logits (N, T, O)."""

    def __init__(self, input_size: int, output_size: int, hidden_size: int = 100, *,
                 dtype=np.float32, rng=None):
        rng = np.random.default_rng(rng)
        self.hidden_size = hidden_size
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True, dtype=dtype, rng=rng)
        self.decoder = nn.Affine(hidden_size, output_size, dtype=dtype, rng=rng)

    def forward(self, x):
        return self.decoder(self.rnn(x)[0])

    def backward(self, grad_output):
        self._backward_begins()
        return self.rnn.backward(self.decoder.backward(grad_output))[0]


@dataclass
class CopyRun:
    """A training run: the loss of every step, its lengths, and the wall time."""

    losses: list = field(default_factory=list)
    lengths: list = field(default_factory=list)
    seconds: float = 0.0


def train_copy(model, *, steps: int, max_length: int, min_length: int = 1, bits: int = 8,
               batch_size: int = 32, lr: float = 1e-3, optimizer: str = "adam",
               clip: float = 10.0, seed: int = 0, progress: bool = True,
               time_limit: float | None = None) -> CopyRun:
    """Train ``model`` on copy batches of lengths drawn uniformly from min..max_length.

    Each step: a batch of one length, forward, :func:`copy_loss`, backward, clipping of the
    gradients' global norm to ``clip`` (``clip_grad_norm``), and an Adam (``"adam"``) or
    RMSprop (``"rmsprop"``, momentum 0.9) update. Stops early after ``time_limit`` seconds.
    A tqdm bar shows the running loss (``progress=False`` hides it)."""
    steps, max_length = _positive(steps, "steps"), _positive(max_length, "max_length")
    if not 1 <= min_length <= max_length:
        raise ValueError(f"min_length must be in 1..max_length={max_length}, got {min_length}")
    if optimizer == "adam":
        opt = Adam(model.parameters(), lr=lr)
    elif optimizer == "rmsprop":
        opt = RMSprop(model.parameters(), lr=lr, momentum=0.9)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'rmsprop', got {optimizer!r}")
    rng = np.random.default_rng(seed)
    dtype = next(iter(model.parameters())).dtype
    run, start = CopyRun(), time.perf_counter()
    bar = tqdm(range(steps), disable=not progress, desc="copy task", leave=False)
    for _ in bar:
        length = int(rng.integers(min_length, max_length + 1))
        batch = copy_batch(batch_size, length, bits, rng=rng, dtype=dtype)
        model.zero_grad()
        loss, grad = copy_loss(model(batch.x), batch)
        model.backward(grad)
        clip_grad_norm(model.parameters(), clip)
        opt.step()
        run.losses.append(loss)
        run.lengths.append(length)
        if progress and len(run.losses) % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(run.losses[-50:]):.3f}")
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
    bar.close()
    run.seconds = time.perf_counter() - start
    return run
