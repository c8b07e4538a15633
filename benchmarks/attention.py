"""Forward + backward of multi-head self-attention, ours against torch on the CPU.

    python benchmarks/attention.py                   # 1 and 2 threads, float32
    python benchmarks/attention.py --threads 1 --dtype float64

N = 16 sequences, T = 64 steps, E = 128, 8 heads, batch_first, self-attention (one array as
query, key and value), a random upstream gradient on the output. Both sides are limited to
the same number of threads (torch.set_num_threads, and threadpoolctl for NumPy's BLAS) and
run alternately, so that both see the same load on a shared machine; the best of
``--repeats`` timings of each is printed with the ours/torch ratio (goal <= 1.5), in
wall-clock and in the thread's CPU time. torch is timed twice: with its default
``need_weights=True`` (softmax written out, the weights returned, like ours) and with
``need_weights=False`` (its fused scaled_dot_product_attention kernel, ``torch_fused``).
Writes benchmarks/results/attention.csv. A benchmark, never a test: it fails on nothing.
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--heads", type=int, default=8)
    args = parser.parse_args(argv)

    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    from deepglossary import nn

    n, t_len, e, heads = args.batch, args.steps, args.embed, args.heads
    rng = np.random.default_rng(0)
    ours = nn.MultiheadAttention(e, heads, batch_first=True, dtype=args.dtype, rng=rng)
    theirs = torch.nn.MultiheadAttention(e, heads, batch_first=True,
                                         dtype=getattr(torch, args.dtype))
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(dict(ours.named_parameters())[name].data))
    x = rng.standard_normal((n, t_len, e)).astype(args.dtype)
    g = rng.standard_normal((n, t_len, e)).astype(args.dtype)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

    def run_ours():
        ours.zero_grad()
        ours(x, x, x)
        ours.backward(g)

    def run_torch(need_weights=True):
        theirs.zero_grad()
        tx.grad = None
        theirs(tx, tx, tx, need_weights=need_weights)[0].backward(tg)

    # the two agree before anything is timed
    run_ours()
    run_torch()
    out, _ = ours(x, x, x)
    tout = theirs(tx, tx, tx)[0].detach().numpy()
    tol = 1e-4 if args.dtype == "float32" else 1e-10
    assert np.abs(out - tout).max() <= tol * max(1.0, np.abs(tout).max()), "outputs differ"
    grad = ours.in_proj_weight.grad
    tgrad = theirs.in_proj_weight.grad.numpy()
    assert np.abs(grad - tgrad).max() <= tol * max(1.0, np.abs(tgrad).max()), "grads differ"

    runs = {"ours": run_ours, "torch": run_torch, "torch_fused": lambda: run_torch(False)}
    rows = []
    before = torch.get_num_threads()
    try:
        for threads in args.threads:
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads):
                wall = {label: [] for label in runs}
                cpu = {label: [] for label in runs}
                for fn in runs.values():
                    fn()                                      # warm up
                for _ in range(args.repeats):                 # interleaved: the same load
                    for label, fn in runs.items():
                        start, start_cpu = time.perf_counter(), time.thread_time()
                        fn()
                        cpu[label].append(time.thread_time() - start_cpu)
                        wall[label].append(time.perf_counter() - start)
            best = {label: 1e3 * min(s) for label, s in wall.items()}
            best_cpu = {label: 1e3 * min(s) for label, s in cpu.items()}
            layer = f"MHA N={n} T={t_len} E={e} heads={heads} {args.dtype}"
            row = {"layer": layer, "threads": threads,
                   "ours_ms": round(best["ours"], 2), "torch_ms": round(best["torch"], 2),
                   "ratio": round(best["ours"] / best["torch"], 2),
                   "ours_cpu_ms": round(best_cpu["ours"], 2),
                   "torch_cpu_ms": round(best_cpu["torch"], 2),
                   "ratio_cpu": round(best_cpu["ours"] / best_cpu["torch"], 2),
                   "torch_fused_ms": round(best["torch_fused"], 2),
                   "ratio_fused": round(best["ours"] / best["torch_fused"], 2)}
            rows.append(row)
            print(f"{layer} {threads} thread(s): ours {row['ours_ms']:6.2f} ms  torch "
                  f"{row['torch_ms']:6.2f} ms  ours/torch {row['ratio']:4.2f} (CPU time "
                  f"{row['ratio_cpu']:4.2f});  torch need_weights=False "
                  f"{row['torch_fused_ms']:6.2f} ms ({row['ratio_fused']:4.2f})", flush=True)
    finally:
        torch.set_num_threads(before)
    suffix = "" if args.dtype == "float32" else f"-{args.dtype}"
    path = pathlib.Path(__file__).resolve().parent / "results" / f"attention{suffix}.csv"
    path.parent.mkdir(exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
