"""Pretrain the deep belief network that ships with the package, ``data/dbn.npz``.

    .venv/bin/python scripts/train_dbn.py          # trains, writes, prints the sha256

NumPy and the package only, every random draw seeded, one BLAS thread. The printed sha256 goes
into ``WEIGHTS_SHA256`` in ``src/deepglossary/dbn.py``.

The recipe (Hinton et al. 2006, greedy layer-wise, without the labels): a 784-256-256 stack of
RBMs in float32 on the 4,000 shipped MNIST training digits binarised at 0.5, no labels used;
each RBM trained with CD-1 for 20 epochs, minibatches of 20, learning rate 0.05, momentum 0.9,
weight decay 2e-4 on the weights; the second RBM on the first one's p(h | x).

Then the comparison table: for 100, 500 and 1,000 labelled training digits (10% of each class,
subsets drawn with seeds 0 to 4), three networks of the same sizes, fine-tuned or trained with
cross-entropy and Adam (learning rate 1e-3, about 300 steps of minibatches of 100):
the pretrained DBN as a sigmoid MLP, the same sigmoid MLP from PyTorch's default random
initialisation, and a modern ReLU network (He initialisation, dropout 0.2); the test accuracy
on the 1,000 shipped test digits (binarised) for each (``dbn.comparison_run``).
"""

from __future__ import annotations

import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

from deepglossary import dbn as D
from deepglossary.data import mnist
from deepglossary.data.mnist import sha256

SEED, SIZES, EPOCHS, LR = 0, (784, 256, 256), 20, 0.05
LABELS, SEEDS = (100, 500, 1000), (0, 1, 2, 3, 4)


def main() -> None:
    digits = mnist(dtype=np.float32)
    x = (digits.x_train > 0.5).astype(np.float32)
    x_test = (digits.x_test > 0.5).astype(np.float32)
    with threadpool_limits(1):
        start = time.perf_counter()
        net = D.DBN(SIZES, dtype=np.float32, rng=SEED)
        net.pretrain(x, epochs=EPOCHS, lr=LR, rng=SEED, progress=True)
        seconds = time.perf_counter() - start
        table, start_table = {}, time.perf_counter()
        for method in D.METHODS:
            table[method] = {}
            for labels in LABELS:
                table[method][str(labels)] = [
                    D.comparison_run(net, x, digits.y_train, x_test, digits.y_test,
                                     labels=labels, method=method, seed=seed) for seed in SEEDS]
                print(method, labels, table[method][str(labels)])
        table_seconds = time.perf_counter() - start_table
    record = dict(table=table, table_seconds=round(table_seconds, 1), seeds=list(SEEDS),
                  labels=list(LABELS), seed=SEED, sizes=list(SIZES), epochs=EPOCHS, lr=LR, k=1,
                  batch_size=20,
                  momentum=0.9, weight_decay=2e-4, binarise=0.5, seconds=round(seconds, 1),
                  reconstruction=[run.reconstruction for run in net.runs])
    arrays = {f"{i}.{name}": p.data for i, rbm in enumerate(net.rbms)
              for name, p in rbm.named_parameters()}
    with open(D.WEIGHTS, "wb") as f:
        np.savez_compressed(f, record=np.array(json.dumps(record, sort_keys=True)), **arrays)
    print(json.dumps(record)[:400])
    print(f"pretrained in {seconds:.1f} s; wrote {D.WEIGHTS}, sha256 {sha256(D.WEIGHTS)}")


if __name__ == "__main__":
    main()
