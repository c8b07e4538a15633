"""Train the autoencoder with a 2-D code that ships with the package, ``data/autoencoder_2d.npz``.

    .venv/bin/python scripts/train_autoencoder.py          # trains, writes, prints the sha256

NumPy and the package only, every random draw seeded (the initialisation and the shuffling
come from ``np.random.default_rng(SEED)``), one BLAS thread: on one machine a rerun gives the
same weights bit for bit (checked once), and the file differs only by the training time it
records. The printed sha256 goes into ``WEIGHTS_2D_SHA256`` in
``src/deepglossary/autoencoder/pretrained.py``.

The recipe: ``autoencoder.undercomplete(784, 2, (128,))`` in float32 (784 -> 128 ReLU -> 2 ->
128 ReLU -> 784 logits) on the 4,000 shipped MNIST training digits; binary cross-entropy on the
logits, Adam, minibatches of 64. The test error is measured once, at the end, on the 1,000
shipped test digits, which training never sees.
"""

from __future__ import annotations

import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary import autoencoder as ae
from deepglossary.data import mnist
from deepglossary.data.mnist import sha256

SEED, EPOCHS, BATCH_SIZE, LR, HIDDEN = 0, 60, 64, 2e-3, (128,)


def main() -> None:
    digits = mnist(dtype=np.float32)
    with threadpool_limits(1):
        start = time.perf_counter()
        model = ae.undercomplete(784, 2, HIDDEN, dtype=np.float32, rng=SEED)
        run = ae.train_autoencoder(model, digits.x_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
                                   lr=LR, rng=SEED)
        seconds = time.perf_counter() - start
    error = float(np.mean((ae.reconstruct(model, digits.x_test) - digits.x_test) ** 2))
    record = dict(seed=SEED, epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, hidden=list(HIDDEN),
                  seconds=round(seconds, 1), final_loss=float(np.mean(run.loss[-63:])),
                  test_mse=error)
    arrays = {name: p.data for name, p in model.named_parameters()}
    ae.WEIGHTS_2D.parent.mkdir(exist_ok=True)
    with open(ae.WEIGHTS_2D, "wb") as f:
        np.savez_compressed(f, record=np.array(json.dumps(record, sort_keys=True)), **arrays)
    print(json.dumps(record, indent=1))
    print(f"trained in {seconds:.1f} s; wrote {ae.WEIGHTS_2D}, sha256 {sha256(ae.WEIGHTS_2D)}")


if __name__ == "__main__":
    main()
