"""Forward + backward of recurrent layers (LSTM, GRU, RNN), ours against torch on the CPU.

    python benchmarks/rnn.py             # one BLAS / torch thread each (the book's setting)
    python benchmarks/rnn.py --threads 2 --dtype float64

T = 50 steps, N = 32 sequences, D = H = 128, float32 by default, a random upstream gradient on
the output (h_n unused). Runs ours and torch alternately (so that both see the same load on
a shared machine) and prints the best of ``--repeats`` timings of each side and the
ours/torch ratio (the goal for the LSTM is <= 1.5x), in wall-clock time and in the thread's
CPU time (steadier where other processes compete for the cores), and writes
benchmarks/results/rnn.csv.

torch runs its LSTM on the CPU through oneDNN's fused LSTM kernel (``mkldnn_rnn_layer``),
and its GRU and RNN through one ATen call per operation; the LSTM is also timed with oneDNN
switched off (``torch_plain``), the code path torch's GRU and RNN take.
A benchmark, never a test: it fails on nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import pathlib
import sys
import time
import warnings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=128, help="input and hidden size")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import torch

    from deepglossary import nn

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="TF32 acceleration")  # from mkldnn.flags()
    dtype = np.dtype(args.dtype)
    t_len, n, size = args.steps, args.batch, args.size
    cases = {
        "LSTM": (nn.LSTM, torch.nn.LSTM, {}),
        "GRU": (nn.GRU, torch.nn.GRU, {}),
        "RNN tanh": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    }
    rows = []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t_len, n, size)).astype(dtype)
    for name, (ours_cls, theirs_cls, extra) in cases.items():
        ours = ours_cls(size, size, dtype=dtype, rng=rng, **extra)
        theirs = theirs_cls(size, size, dtype=getattr(torch, args.dtype), **extra)
        g = rng.standard_normal((t_len, n, size)).astype(dtype)
        tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

        def run_ours(ours=ours, g=g):
            ours.zero_grad()
            ours(x)
            ours.backward(g)

        def run_theirs(theirs=theirs, tx=tx, tg=tg):
            theirs.zero_grad()
            tx.grad = None
            theirs(tx)[0].backward(tg)

        def run_plain(run_theirs=run_theirs):
            with torch.backends.mkldnn.flags(enabled=False):
                run_theirs()

        runs = {"ours": run_ours, "torch": run_theirs}
        if name == "LSTM":
            runs["torch_plain"] = run_plain
        wall = {label: [] for label in runs}
        cpu = {label: [] for label in runs}
        for fn in runs.values():
            fn()                                      # warm up
        for _ in range(args.repeats):                 # interleaved: all see the same load
            for label, fn in runs.items():
                start, start_cpu = time.perf_counter(), time.thread_time()
                fn()
                cpu[label].append(time.thread_time() - start_cpu)
                wall[label].append(time.perf_counter() - start)
        best = {label: 1e3 * min(s) for label, s in wall.items()}  # best of: least disturbed
        best_cpu = {label: 1e3 * min(s) for label, s in cpu.items()}
        layer = f"{name} T={t_len} N={n} D=H={size} {args.dtype}"
        row = {"layer": layer, "threads": args.threads,
               "ours_ms": round(best["ours"], 2), "torch_ms": round(best["torch"], 2),
               "ratio": round(best["ours"] / best["torch"], 2),
               "ours_cpu_ms": round(best_cpu["ours"], 2),
               "torch_cpu_ms": round(best_cpu["torch"], 2),
               "ratio_cpu": round(best_cpu["ours"] / best_cpu["torch"], 2),
               "torch_plain_ms": round(best["torch_plain"], 2) if "torch_plain" in best else "",
               "ratio_plain": (round(best["ours"] / best["torch_plain"], 2)
                               if "torch_plain" in best else "")}
        rows.append(row)
        plain = (f"   torch without oneDNN {row['torch_plain_ms']:6.2f} ms "
                 f"({row['ratio_plain']:.2f})" if row["torch_plain_ms"] != "" else "")
        print(f"{layer:38s} ours {row['ours_ms']:6.2f} ms  torch {row['torch_ms']:6.2f} ms  "
              f"ours/torch {row['ratio']:4.2f} (CPU time {row['ratio_cpu']:4.2f}){plain}",
              flush=True)
    suffix = "" if (args.threads, args.dtype) == (1, "float32") else \
        f"-{args.threads}t-{args.dtype}"
    out = pathlib.Path(__file__).resolve().parent / "results" / f"rnn{suffix}.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
