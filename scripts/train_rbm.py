"""Train the RBMs that ship with the package, ``data/rbm.npz``.

    .venv/bin/python scripts/train_rbm.py          # trains, writes, prints the sha256

NumPy and the package only, every random draw seeded, one BLAS thread. The printed sha256 goes
into ``WEIGHTS_SHA256`` in ``src/deepglossary/rbm.py``.

Two recipes:

* MNIST: 784 visible x 256 hidden binary units, float32, on the 4,000 shipped training digits
  binarised at 0.5; minibatches of 20, momentum 0.9, weight decay 2e-4 on the weights,
  (a) CD-1 with learning rate 0.05 and (b) persistent CD-1 with learning rate 0.01 (a smaller
  rate, so that the persistent chains can follow the changing model), both for 30 epochs.
* Bars and stripes, 3 x 3 (14 patterns), 9 hidden units, float64: full-batch SGD, learning
  rate 0.2, 5,000 steps, from the same initialisation, following CD-k for k in 1, 2, 5, 10,
  20 and the exact gradient; the exact log-likelihood every 50 steps.
"""

from __future__ import annotations

import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary import rbm as R
from deepglossary.data import mnist
from deepglossary.data.mnist import sha256

SEED = 0
MNIST_HIDDEN, EPOCHS, BATCH = 256, 30, 20
RECIPES = {"cd1": dict(k=1, lr=0.05), "pcd": dict(k=1, lr=0.01, persistent=True)}
BAS_HIDDEN, BAS_STEPS, BAS_LR, BAS_EVERY = 9, 5000, 0.2, 50
BAS_CONFIGS = {"cd1": 1, "cd2": 2, "cd5": 5, "cd10": 10, "cd20": 20, "exact": None}


def main() -> None:
    x = (mnist(dtype=np.float32).x_train > 0.5).astype(np.float32)
    arrays, record = {}, dict(seed=SEED, mnist=dict(hidden=MNIST_HIDDEN, epochs=EPOCHS,
                                                     batch_size=BATCH, momentum=0.9,
                                                     weight_decay=2e-4, binarise=0.5,
                                                     recipes=RECIPES),
                              bas=dict(n=3, hidden=BAS_HIDDEN, steps=BAS_STEPS, lr=BAS_LR,
                                       every=BAS_EVERY, configs=BAS_CONFIGS),
                              models=[], seconds={}, reconstruction={}, curves={})
    with threadpool_limits(1):
        for name, recipe in RECIPES.items():
            start = time.perf_counter()
            model = R.RBM(784, MNIST_HIDDEN, dtype=np.float32, rng=SEED).init_visible_bias(x)
            run = R.train_rbm(model, x, epochs=EPOCHS, batch_size=BATCH, momentum=0.9,
                              weight_decay=2e-4, rng=SEED, progress=True, **recipe)
            record["seconds"][name] = round(time.perf_counter() - start, 1)
            record["reconstruction"][name] = run.reconstruction
            record["models"].append(name)
            arrays.update({f"{name}.{p}": q.data for p, q in model.named_parameters()})
            print(name, record["seconds"][name], "s, reconstruction", run.reconstruction[-1])
        bas = R.bars_and_stripes(3)
        for name, k in BAS_CONFIGS.items():
            start = time.perf_counter()
            model = R.RBM(9, BAS_HIDDEN, rng=SEED)
            curve = R.full_batch_curve(model, bas, steps=BAS_STEPS, lr=BAS_LR, k=k,
                                       every=BAS_EVERY,
                                       rng=SEED + 1)
            record["seconds"][f"bas-{name}"] = round(time.perf_counter() - start, 1)
            record["curves"][name] = curve.tolist()
            record["models"].append(f"bas-{name}")
            arrays.update({f"bas-{name}.{p}": q.data for p, q in model.named_parameters()})
            print(f"bas-{name}", record["seconds"][f"bas-{name}"], "s, final log-likelihood",
                  curve[-1])
    with open(R.WEIGHTS, "wb") as f:
        np.savez_compressed(f, record=np.array(json.dumps(record, sort_keys=True)), **arrays)
    size = R.WEIGHTS.stat().st_size / 1e6
    print(f"wrote {R.WEIGHTS} ({size:.2f} MB), sha256 {sha256(R.WEIGHTS)}")


if __name__ == "__main__":
    main()
