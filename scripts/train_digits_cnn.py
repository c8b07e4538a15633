"""Train the pretrained digit network that ships with the package, ``data/digits_cnn.npz``.

    .venv/bin/python scripts/train_digits_cnn.py            # trains, writes, prints the sha256

NumPy and the package only, every random draw seeded: the initialisation, the shuffling and
the shifts of the training images come from ``np.random.default_rng(seed)``. On one machine
(and one BLAS thread, which this script sets) a rerun writes the same file byte for byte; the
printed sha256 goes into ``WEIGHTS_SHA256`` in ``src/deepglossary/pretrained.py``.

The recipe: ``DigitsCNN`` (``deepglossary.pretrained``) on the 4,000 shipped MNIST training
digits, standardised with their pixel mean and standard deviation; Adam, cross-entropy,
minibatches of 64, the learning rate multiplied by ``DECAY`` after every epoch; each training
image shifted by a random whole number of pixels (up to ``SHIFT`` each way, zeros shifted in)
every time it is drawn. The test accuracy is measured once, at the end, on the 1,000 shipped
test digits, which training never sees.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary.data import mnist
from deepglossary.data.fashion import write_npz
from deepglossary.losses import CrossEntropy
from deepglossary.optim import Adam
from deepglossary.pretrained import WEIGHTS, DigitsCNN, digits_cnn_untrained, state_dict
from deepglossary.train import accuracy, batches

SEED = 0
EPOCHS = 10
BATCH_SIZE = 64
LR = 3e-3
DECAY = 0.8
SHIFT = 2


def shifted(images: np.ndarray, rng: np.random.Generator, shift: int) -> np.ndarray:
    """Each image of (B, 1, H, W) moved by its own random (dy, dx), each in [-shift, shift],
    with the background value (the minimum of the batch) shifted in at the border."""
    if shift == 0:
        return images
    b, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (shift, shift), (shift, shift)),
                    constant_values=images.min())                       # (B, 1, H + 2s, W + 2s)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, b))                # offsets into padding
    return windows[np.arange(b), :, dy, dx].copy()                      # (B, 1, H, W)


def train(*, seed: int = SEED, epochs: int = EPOCHS, batch_size: int = BATCH_SIZE,
          lr: float = LR, decay: float = DECAY, shift: int = SHIFT, max_steps: int | None = None,
          progress: bool = True) -> tuple[DigitsCNN, dict]:
    """Train a fresh ``DigitsCNN`` (float32) on the shipped training digits; returns it in
    evaluation mode and the metadata the weights file records (the test accuracy included).
    ``max_steps`` stops after that many minibatch steps (tests run one)."""
    rng = np.random.default_rng(seed)
    data = mnist(dtype=np.float32)
    mean, std = float(data.x_train.mean()), float(data.x_train.std())
    x = ((data.x_train - np.float32(mean)) / np.float32(std)).reshape(-1, 1, 28, 28)
    x_test = ((data.x_test - np.float32(mean)) / np.float32(std)).reshape(-1, 1, 28, 28)
    model = digits_cnn_untrained(dtype=np.float32, seed=int(rng.integers(2**31)))
    optimizer, loss_fn = Adam(model.parameters(), lr=lr), CrossEntropy()
    start, steps, losses = time.perf_counter(), 0, []
    steps_per_epoch = -(-len(x) // batch_size)
    for epoch in range(epochs):
        for index in batches(len(x), batch_size, rng):
            if max_steps is not None and steps >= max_steps:
                break
            optimizer.zero_grad()
            loss = loss_fn(model(shifted(x[index], rng, shift)), data.y_train[index])
            model.backward(loss_fn.backward())
            optimizer.step()
            losses.append(float(loss))
            steps += 1
        optimizer.lr *= decay
        if progress:
            recent = np.mean(losses[-steps_per_epoch:])
            print(f"epoch {epoch + 1}/{epochs}: mean loss {recent:.4f}, "
                  f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
        if max_steps is not None and steps >= max_steps:
            break
    seconds = time.perf_counter() - start
    model.eval()
    test_accuracy = accuracy(model, x_test, data.y_test)
    metadata = {
        "architecture": "DigitsCNN", "num_classes": 10, "mean": mean, "std": std,
        "test_accuracy": test_accuracy, "seed": seed, "epochs": epochs, "steps": steps,
        "training": (f"scripts/train_digits_cnn.py: {len(x)} shipped MNIST training digits, "
                     f"standardised; Adam lr {lr} x{decay} per epoch, batch {batch_size}, "
                     f"{epochs} epochs, random shifts up to {shift} px, float32"),
        "train_seconds": round(seconds, 1), "final_loss": losses[-1] if losses else None,
    }
    return model, metadata


def save(model: DigitsCNN, metadata: dict, path=WEIGHTS) -> str:
    """Write the parameters and the batch-norm running statistics (float32, by their
    torch-style names) and the metadata (as JSON,
    without the wall-clock time, so that a rerun gives the same bytes); returns the sha256."""
    kept = {k: v for k, v in metadata.items() if k != "train_seconds"}
    arrays = {name: np.asarray(a, dtype=np.float32) for name, a in state_dict(model).items()}
    return write_npz(path, metadata=np.array(json.dumps(kept, sort_keys=True)), **arrays)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=WEIGHTS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--decay", type=float, default=DECAY)
    parser.add_argument("--shift", type=int, default=SHIFT)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--dry-run", action="store_true", help="train and report, write nothing")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1):
        model, metadata = train(seed=args.seed, epochs=args.epochs, lr=args.lr,
                                decay=args.decay, shift=args.shift, batch_size=args.batch_size)
    params = sum(p.size for p in model.parameters())
    print(f"{params:,} parameters; trained in {metadata['train_seconds']} s; test accuracy "
          f"{metadata['test_accuracy']:.1%} on the 1,000 shipped test digits")
    if not args.dry_run:
        digest = save(model, metadata, args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
