"""Train the runs of the ICML chapter's miniature of Ioffe and Szegedy (ICML 2015), and ship
them as ``src/deepglossary/data/icml_batchnorm_runs.npz``.

    .venv/bin/python scripts/reproduce_icml.py             # about 5 minutes on one core

The sigmoid network of ``deepglossary.reproduce.sigmoid_mlp`` with and without batch
normalization, trained by ``reproduce.train_run`` with plain SGD for ``ICML_STEPS`` steps of 60
digits at each learning rate of ``ICML_RATES``, once for every seed of ``ICML_SEEDS``: the test
accuracy every ``ICML_RECORD_EVERY`` steps and the training loss of every step. NumPy only and
seeded, one BLAS thread: on one machine a rerun gives the same accuracies and losses (the file
also records each run's seconds, which differ, so its sha256 changes); the printed sha256 goes
into ``ICML_RUNS_SHA256`` in ``src/deepglossary/reproduce.py``. ``--out`` writes elsewhere (to
compare a rerun with the shipped file).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from deepglossary.data import mnist
from deepglossary.data.fashion import write_npz
from deepglossary.reproduce import (
    ICML_RATES,
    ICML_RECORD_EVERY,
    ICML_SEEDS,
    ICML_STEPS,
    icml_runs_path,
    run_seeds,
    train_run,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=icml_runs_path())
    args = parser.parse_args()
    data = mnist()
    shape = (2, len(ICML_RATES), len(ICML_SEEDS))
    accuracy = np.zeros(shape + (ICML_STEPS // ICML_RECORD_EVERY + 1,))
    loss = np.zeros(shape + (ICML_STEPS,), dtype=np.float32)
    seconds = np.zeros(shape)
    start = time.perf_counter()
    with threadpool_limits(1), tqdm(total=int(np.prod(shape)), desc="runs") as bar:
        for bn, i in np.ndindex(shape[:2]):
            def run(seed, bn=bool(bn), lr=ICML_RATES[i]):
                begin = time.perf_counter()
                out = train_run(bn, lr, seed, data, steps=ICML_STEPS,
                                record_every=ICML_RECORD_EVERY)
                bar.update()
                return out | {"seconds": time.perf_counter() - begin}

            seeds = run_seeds(run, ICML_SEEDS)          # one row per seed
            accuracy[bn, i], loss[bn, i], seconds[bn, i] = (seeds["accuracy"], seeds["loss"],
                                                            seeds["seconds"])
            step = seeds["step"][0]
    digest = write_npz(args.out, lr=np.array(ICML_RATES), seed=np.array(ICML_SEEDS),
                       step=step, accuracy=accuracy, loss=loss, seconds=seconds)
    total = time.perf_counter() - start
    print(f"{seconds.size} runs in {total:.0f} s; final test accuracy, mean over seeds:")
    for i, lr in enumerate(ICML_RATES):
        print(f"  lr {lr:5}: without BN {accuracy[0, i, :, -1].mean():.3f}, "
              f"with BN {accuracy[1, i, :, -1].mean():.3f}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
