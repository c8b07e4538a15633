"""Forward + backward of realistic convolution and pooling layers, ours against torch on the CPU.

    python benchmarks/conv.py            # one BLAS / torch thread each (the book's setting)
    python benchmarks/conv.py --threads 2

Prints seconds per forward+backward (median of repeats) and the ours/torch ratio, and writes
benchmarks/results/conv.csv. A benchmark, never a test: it fails on nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import pathlib
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import torch

    from deepglossary import nn

    torch.set_num_threads(args.threads)
    cases = {
        "Conv2d 16->32, 3x3, pad 1, N=64, 28x28": (
            lambda: nn.Conv2d(16, 32, 3, padding=1, dtype=np.float32),
            lambda: torch.nn.Conv2d(16, 32, 3, padding=1), (64, 16, 28, 28)),
        "Conv2d 3->16, 5x5, stride 2, N=64, 32x32": (
            lambda: nn.Conv2d(3, 16, 5, stride=2, dtype=np.float32),
            lambda: torch.nn.Conv2d(3, 16, 5, stride=2), (64, 3, 32, 32)),
        "Conv2d depthwise 32, 3x3, N=64, 28x28": (
            lambda: nn.Conv2d(32, 32, 3, padding=1, groups=32, dtype=np.float32),
            lambda: torch.nn.Conv2d(32, 32, 3, padding=1, groups=32), (64, 32, 28, 28)),
        "MaxPool2d 2x2, N=64, C=32, 28x28": (
            lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (64, 32, 28, 28)),
        "AvgPool2d 2x2, N=64, C=32, 28x28": (
            lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (64, 32, 28, 28)),
    }
    rows = []
    rng = np.random.default_rng(0)
    for name, (make_ours, make_theirs, shape) in cases.items():
        x = rng.standard_normal(shape).astype(np.float32)
        ours, theirs = make_ours(), make_theirs()
        g = rng.standard_normal(ours(x).shape).astype(np.float32)
        tx = torch.tensor(x, requires_grad=True)
        tg = torch.tensor(g)

        def run_ours(ours=ours, x=x, g=g):
            ours.zero_grad()
            ours(x)
            ours.backward(g)

        def run_theirs(theirs=theirs, tx=tx, tg=tg):
            theirs.zero_grad()
            tx.grad = None
            theirs(tx).backward(tg)

        times = {}
        for label, fn in (("ours", run_ours), ("torch", run_theirs)):
            fn()                                      # warm up
            samples = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - start)
            times[label] = float(np.median(samples))
        ratio = times["ours"] / times["torch"]
        rows.append({"layer": name, "threads": args.threads,
                     "ours_ms": round(1e3 * times["ours"], 2),
                     "torch_ms": round(1e3 * times["torch"], 2), "ratio": round(ratio, 2)})
        print(f"{name:42s} ours {1e3 * times['ours']:8.2f} ms   torch "
              f"{1e3 * times['torch']:8.2f} ms   ours/torch {ratio:5.2f}", flush=True)
    out = pathlib.Path(__file__).resolve().parent / "results" / "conv.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
