"""Minibatch training of an autoencoder with a progress bar, seeded."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from deepglossary.autoencoder.model import Autoencoder
from deepglossary.autoencoder.objective import AutoencoderLoss, corrupt
from deepglossary.nn.core import as_input
from deepglossary.random import default_rng


@dataclass
class TrainingRun:
    """What :func:`train_autoencoder` recorded: the loss of every step (reconstruction plus
    penalty) and the wall time."""

    loss: list = field(default_factory=list)
    seconds: float = 0.0


def train_autoencoder(model: Autoencoder, x, *, epochs: int = 5, batch_size: int = 64,
                      lr: float = 1e-3, reconstruction: str = "bce", penalty=None,
                      corruption: str | None = None, level: float = 0.0, rng=None,
                      optimizer=None, progress: bool = True) -> TrainingRun:
    """Minibatch training of ``model`` to rebuild ``x`` (N, D) with Adam (or ``optimizer``).

    Each epoch shuffles with ``rng`` (a seed or Generator); with ``corruption`` (``"mask"`` or
    ``"gaussian"``) each batch is corrupted afresh by :func:`corrupt` at ``level`` and the
    loss compares the reconstruction with the clean batch (denoising). A tqdm bar shows the
    running loss unless ``progress=False``. Raises ``FloatingPointError`` if the loss stops
    being finite.
    """
    from deepglossary.optim import Adam
    from deepglossary.train import batches

    x = as_input(x, "train_autoencoder", min_ndim=2)
    for value, what in ((epochs, "epochs"), (batch_size, "batch_size")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"train_autoencoder: {what} must be an integer >= 1, got {value!r}")
    rng = default_rng(rng)
    objective = AutoencoderLoss(model, reconstruction, penalty)
    optimizer = optimizer or Adam(model.parameters(), lr=lr)
    run, start = TrainingRun(), time.perf_counter()
    total = epochs * -(-len(x) // batch_size)
    with tqdm(total=total, disable=not progress, desc="autoencoder", leave=False) as bar:
        for _ in range(epochs):
            for index in batches(len(x), batch_size, rng):
                clean = x[index]                                           # (B, D)
                seen = clean if corruption is None else corrupt(clean, corruption, level, rng)
                optimizer.zero_grad()
                loss = float(objective(seen, clean))
                if not np.isfinite(loss):
                    raise FloatingPointError(f"train_autoencoder: the loss became {loss}; "
                                             "lower the learning rate")
                objective.backward(1.0)
                optimizer.step()
                run.loss.append(loss)
                bar.update()
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
    run.seconds = time.perf_counter() - start
    return run
