"""Pretrain the deep belief network that ships with the package, ``data/dbn.npz``.

    .venv/bin/python scripts/train_dbn.py          # trains, writes, prints the sha256

NumPy and the package only, every random draw seeded, one BLAS thread. The printed sha256 goes
into ``WEIGHTS_SHA256`` in ``src/deepglossary/dbn.py``.

The recipe (Hinton et al. 2006, greedy layer-wise, without the labels): a 784-256-256 stack of
RBMs in float32 on the 4,000 shipped MNIST training digits binarised at 0.5, no labels used;
each RBM trained with CD-1 for 20 epochs, minibatches of 20, learning rate 0.05, momentum 0.9,
weight decay 2e-4 on the weights; the second RBM on the first one's p(h | x).
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


def main() -> None:
    x = (mnist(dtype=np.float32).x_train > 0.5).astype(np.float32)
    with threadpool_limits(1):
        start = time.perf_counter()
        net = D.DBN(SIZES, dtype=np.float32, rng=SEED)
        net.pretrain(x, epochs=EPOCHS, lr=LR, rng=SEED, progress=True)
        seconds = time.perf_counter() - start
    record = dict(seed=SEED, sizes=list(SIZES), epochs=EPOCHS, lr=LR, k=1, batch_size=20,
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
