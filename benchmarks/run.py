"""How close the package's NumPy code comes to PyTorch on the CPU: ``make bench``.

    python benchmarks/run.py                      # every family, threads 1 and all, both dtypes
    python benchmarks/run.py --quick              # fewer repeats (a smoke run)
    python benchmarks/run.py --only conv2d lstm   # some families

For each layer family, at two or three realistic sizes: forward, and forward + backward, ours
and torch's, with the same number of threads (1, and every core) and dtype (float32, float64).
Each time is the median of repeated runs after a warm-up, with the interquartile range. Beside
the matrix-product-bound layers: the time ``np.matmul`` takes for the same matrix products on
this machine (the physical limit the NumPy code is built on; the column ``blas_s``).

Writes ``benchmarks/results/bench.csv`` (one row per case) and ``bench.json`` (the machine,
the date, the versions), and prints a table. A benchmark, never a test: it fails on nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import pathlib
import platform
import sys
import time
from dataclasses import dataclass

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
FIELDS = ["family", "case", "pass", "dtype", "threads", "ours_s", "ours_iqr_s", "torch_s",
          "torch_iqr_s", "ratio", "blas_s", "ours_over_blas"]


@dataclass
class Case:
    family: str
    name: str
    make: object            # make(np_dtype) -> (ours, theirs, inputs, g_shape_fn) or a loop
    gemms: tuple = ()       # ((m, k, n, count), ...) of forward; backward needs twice as many
    kind: str = "layer"     # "layer", "loss", "optimizer" or "epoch"


def _timed(fn, min_time: float, min_repeats: int, max_repeats: int):
    """Median and interquartile range of fn's time, after one warm-up run."""
    import numpy as np

    fn()
    samples, start = [], time.perf_counter()
    while len(samples) < min_repeats or (time.perf_counter() - start < min_time
                                         and len(samples) < max_repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    q1, med, q3 = np.percentile(samples, [25, 50, 75])
    return float(med), float(q3 - q1)


def cases():
    """Every benchmarked case. Imports are local: the runner sets thread counts first."""
    import numpy as np
    import torch

    from deepglossary import losses, nn, optim

    def layer(ours_fn, theirs_fn, shapes, ints=None):
        def make(dtype):
            ours, theirs = ours_fn(dtype), theirs_fn()
            rng = np.random.default_rng(0)
            xs = [rng.standard_normal(s).astype(dtype) for s in shapes]
            if ints is not None:
                xs = [rng.integers(0, ints[0], ints[1])]
            return ours, theirs, xs
        return make

    out = []
    for n, d in ((256, 512), (512, 1024)):
        out.append(Case("affine", f"Linear {d}->{d}, N={n}",
                        layer(lambda dt, d=d: nn.Affine(d, d, dtype=dt, rng=0),
                              lambda d=d: torch.nn.Linear(d, d), [(n, d)]),
                        gemms=((n, d, d, 1),)))
    for name, ours_cls, torch_cls in (("ReLU", nn.ReLU, torch.nn.ReLU),
                                      ("Sigmoid", nn.Sigmoid, torch.nn.Sigmoid),
                                      ("Tanh", nn.Tanh, torch.nn.Tanh)):
        out.append(Case("activations", f"{name} (256, 4096)",
                        layer(lambda dt, c=ours_cls: c(), lambda c=torch_cls: c(),
                              [(256, 4096)])))
    for n, c in ((256, 1000), (1024, 10000)):
        out.append(Case("softmax+CE", f"CrossEntropy N={n}, C={c}", _loss_case(n, c),
                        kind="loss"))
    out.append(Case("batchnorm", "BatchNorm1d 512, N=256",
                    layer(lambda dt: nn.BatchNorm1d(512, dtype=dt),
                          lambda: torch.nn.BatchNorm1d(512), [(256, 512)])))
    out.append(Case("batchnorm", "BatchNorm2d 32, N=64, 28x28",
                    layer(lambda dt: nn.BatchNorm2d(32, dtype=dt),
                          lambda: torch.nn.BatchNorm2d(32), [(64, 32, 28, 28)])))
    out.append(Case("dropout", "Dropout 0.5 (256, 4096)",
                    layer(lambda dt: nn.Dropout(0.5), lambda: torch.nn.Dropout(0.5),
                          [(256, 4096)])))
    for cin, cout, k, s, p, n, hw, g in ((16, 32, 3, 1, 1, 64, 28, 1),
                                         (64, 64, 3, 1, 1, 16, 56, 1),
                                         (32, 32, 3, 1, 1, 64, 28, 32)):
        ho = (hw + 2 * p - k) // s + 1
        label = f"Conv2d {cin}->{cout} {k}x{k}" + (f" groups {g}" if g > 1 else "") + \
            f", N={n}, {hw}x{hw}"
        out.append(Case("conv2d", label, layer(
            lambda dt, a=(cin, cout, k, s, p, g): nn.Conv2d(a[0], a[1], a[2], stride=a[3],
                                                            padding=a[4], groups=a[5],
                                                            dtype=dt, rng=0),
            lambda a=(cin, cout, k, s, p, g): torch.nn.Conv2d(a[0], a[1], a[2], stride=a[3],
                                                              padding=a[4], groups=a[5]),
            [(n, cin, hw, hw)]), gemms=((n * ho * ho, cin // g * k * k, cout // g, g),)))
    for name, ours_cls, torch_cls in (("MaxPool2d", nn.MaxPool2d, torch.nn.MaxPool2d),
                                      ("AvgPool2d", nn.AvgPool2d, torch.nn.AvgPool2d)):
        out.append(Case("pooling", f"{name} 2x2, N=64, C=32, 28x28",
                        layer(lambda dt, c=ours_cls: c(2), lambda c=torch_cls: c(2),
                              [(64, 32, 28, 28)])))
    for name, ours_cls, torch_cls, gates in (("RNN", nn.RNN, torch.nn.RNN, 1),
                                             ("LSTM", nn.LSTM, torch.nn.LSTM, 4),
                                             ("GRU", nn.GRU, torch.nn.GRU, 3)):
        for t, n, d, h in ((50, 32, 64, 128), (100, 64, 128, 256)):
            out.append(Case(name.lower() if name != "RNN" else "rnn",
                            f"{name} T={t}, N={n}, {d}->{h}",
                            layer(lambda dt, c=ours_cls, d=d, h=h: c(d, h, dtype=dt, rng=0),
                                  lambda c=torch_cls, d=d, h=h: c(d, h), [(t, n, d)]),
                            gemms=((t * n, d, gates * h, 1), (n, h, gates * h, t))))
    for e, heads, n, t in ((256, 8, 16, 64), (512, 8, 8, 128)):
        out.append(Case("attention", f"MultiheadAttention E={e}, {heads} heads, N={n}, T={t}",
                        _mha_case(e, heads, n, t),
                        gemms=((n * t, e, 3 * e, 1), (t, e // heads, t, 2 * n * heads),
                               (n * t, e, e, 1))))
    for v, dim, shape in ((10000, 128, (64, 50)), (50000, 300, (128, 100))):
        out.append(Case("embedding", f"Embedding {v}x{dim}, ids {shape}",
                        layer(lambda dt, v=v, dim=dim: nn.Embedding(v, dim, dtype=dt, rng=0),
                              lambda v=v, dim=dim: torch.nn.Embedding(v, dim), [],
                              ints=(v, shape))))
    for name, ours_cls, torch_cls, kw in (
            ("SGD momentum", optim.SGD, torch.optim.SGD, {"lr": 0.01, "momentum": 0.9}),
            ("Adagrad", optim.Adagrad, torch.optim.Adagrad, {"lr": 0.01}),
            ("RMSprop", optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01}),
            ("Adam", optim.Adam, torch.optim.Adam, {"lr": 0.001})):
        out.append(Case("optimizers", f"{name} step, 1M parameters",
                        _optimizer_case(ours_cls, torch_cls, kw), kind="optimizer"))
    out.append(Case("mlp epoch", "MLP 784-256-10, 4,000 digits, batch 64, SGD",
                    _epoch_case("mlp"), kind="epoch"))
    out.append(Case("cnn epoch", "LeNet, 1,000 digits, batch 64, SGD",
                    _epoch_case("cnn"), kind="epoch"))
    del losses
    return out


def _loss_case(n, c):
    def make(dtype):
        import numpy as np
        import torch

        from deepglossary import losses

        rng = np.random.default_rng(0)
        return (losses.CrossEntropy(), torch.nn.CrossEntropyLoss(),
                [rng.standard_normal((n, c)).astype(dtype), rng.integers(0, c, n)])
    return make


def _mha_case(e, heads, n, t):
    def make(dtype):
        import numpy as np
        import torch

        from deepglossary import nn

        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, t, e)).astype(dtype)
        return (nn.MultiheadAttention(e, heads, batch_first=True, dtype=dtype, rng=0),
                torch.nn.MultiheadAttention(e, heads, batch_first=True), [x, x, x])
    return make


def _optimizer_case(ours_cls, torch_cls, kw):
    def make(dtype):
        import numpy as np
        import torch

        from deepglossary.nn import Parameter

        rng = np.random.default_rng(0)
        shapes = [(1000, 1000)]
        ours = [Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]
        for p in ours:
            p.grad = rng.standard_normal(p.data.shape).astype(dtype)
        theirs = [torch.tensor(p.data, requires_grad=True) for p in ours]
        for t, p in zip(theirs, ours):
            t.grad = torch.tensor(p.grad)
        return ours_cls(ours, **kw).step, torch_cls(theirs, **kw).step
    return make


def _epoch_case(which):
    def make(dtype):
        import numpy as np
        import torch

        from deepglossary import losses, models, nn, optim
        from deepglossary.data.mnist import mnist
        from deepglossary.verify import copy_parameters

        data = mnist(flatten=which == "mlp", dtype=dtype)
        n = 4000 if which == "mlp" else 1000
        x, y = data.x_train[:n], data.y_train[:n]
        if which == "mlp":
            model = nn.Sequential(nn.Affine(784, 256, dtype=dtype, rng=0), nn.ReLU(),
                                  nn.Affine(256, 10, dtype=dtype, rng=1))
            twin = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                       torch.nn.Linear(256, 10))
        else:
            x = x.reshape(-1, 1, 28, 28)
            model = models.lenet(dtype=dtype)
            t = torch.nn
            twin = t.Sequential(t.Conv2d(1, 6, 5, padding=2), t.ReLU(), t.MaxPool2d(2),
                                t.Conv2d(6, 16, 5), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
                                t.Linear(400, 64), t.ReLU(), t.Linear(64, 10))
        twin = twin.to(torch.float64 if dtype == np.float64 else torch.float32)
        copy_parameters(model, twin)
        loss, tloss = losses.CrossEntropy(), torch.nn.CrossEntropyLoss()
        opt = optim.SGD(model.parameters(), lr=0.05)
        topt = torch.optim.SGD(twin.parameters(), lr=0.05)
        tx, ty = torch.tensor(x), torch.tensor(y.astype(np.int64))

        def ours():
            for i in range(0, n, 64):
                opt.zero_grad()
                loss(model(x[i:i + 64]), y[i:i + 64])
                model.backward(loss.backward())
                opt.step()

        def theirs():
            for i in range(0, n, 64):
                topt.zero_grad()
                tloss(twin(tx[i:i + 64]), ty[i:i + 64]).backward()
                topt.step()
        return ours, theirs
    return make


def _runners(case: Case, dtype, with_backward: bool):
    """(ours, theirs) callables for one pass of a case."""
    import numpy as np
    import torch

    from deepglossary.verify import copy_parameters

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    built = case.make(dtype)
    if case.kind in ("optimizer", "epoch"):
        return built
    ours, theirs, xs = built
    if case.kind == "loss":
        logits, targets = xs
        tl = torch.tensor(logits, requires_grad=with_backward)
        tt = torch.tensor(targets.astype(np.int64))

        def run_ours():
            ours(logits, targets)
            if with_backward:
                ours.backward()

        def run_theirs():
            tl.grad = None
            value = theirs(tl, tt)
            if with_backward:
                value.backward()
        return run_ours, run_theirs
    theirs = theirs.to(tdtype)
    copy_parameters(ours, theirs)
    ours.train()
    theirs.train()
    txs = [torch.tensor(x, requires_grad=with_backward and np.issubdtype(x.dtype, np.floating))
           if np.issubdtype(x.dtype, np.floating) else torch.tensor(x.astype(np.int64))
           for x in xs]
    first = ours(*xs)
    first = first[0] if isinstance(first, tuple) else first
    g = np.random.default_rng(1).standard_normal(first.shape).astype(dtype)
    tg = torch.tensor(g)

    def run_ours():
        out = ours(*xs)
        if with_backward:
            ours.zero_grad()
            if isinstance(out, tuple):
                ours.backward(g, *[np.zeros_like(o) for o in _flat(out[1:])])
            else:
                ours.backward(g)

    def run_theirs():
        if not with_backward:
            with torch.no_grad():
                theirs(*txs)
            return
        theirs.zero_grad()
        out = theirs(*txs)
        (out[0] if isinstance(out, tuple) else out).backward(tg)
    return run_ours, run_theirs


def _flat(tree):
    for t in tree:
        if isinstance(t, tuple):
            yield from _flat(t)
        elif t is not None:
            yield t


def _blas_time(gemms, dtype, with_backward, min_time, min_repeats, max_repeats):
    """The time np.matmul takes for the case's matrix products (and the backward's two more
    of each shape)."""
    import numpy as np

    rng = np.random.default_rng(2)
    arrays = [(rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(
        dtype), count) for m, k, n, count in gemms]

    def run():
        for _ in range(3 if with_backward else 1):
            for a, b, count in arrays:
                for _ in range(count):
                    np.matmul(a, b)
    return _timed(run, min_time, min_repeats, max_repeats)[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--only", nargs="*", help="families to run (default: all)")
    parser.add_argument("--threads", nargs="*", type=int,
                        help="thread counts (default: 1 and every core)")
    parser.add_argument("--dtypes", nargs="*", default=["float32", "float64"])
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "bench.csv")
    parser.add_argument("--min-time", type=float, default=0.15,
                        help="seconds of repeated runs per measurement (at least 5 runs)")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)                  # the cores this process may use (taskset)
    threads = args.threads or sorted({1, cores})

    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    min_time, min_rep, max_rep = (0.05, 2, 5) if args.quick else (args.min_time, 5, 50)
    rows, start = [], time.perf_counter()
    selected = [c for c in cases() if not args.only or c.family in args.only]
    print(f"{len(selected)} cases x {len(args.dtypes)} dtypes x threads {threads}", flush=True)
    header = (f"{'case':48s} {'pass':9s} {'dtype':7s} {'thr':>3s} {'ours ms':>9s} "
              f"{'torch ms':>9s} {'ratio':>6s} {'BLAS ms':>8s}")
    print(header)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out = open(args.out, "w", newline="")              # row by row: a run cut short keeps them
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        with threadpool_limits(n_threads):
            for dtype_name in args.dtypes:
                dtype = np.dtype(dtype_name).type
                for case in selected:
                    passes = ["step"] if case.kind == "optimizer" else ["epoch"] if \
                        case.kind == "epoch" else ["forward", "forward+backward"]
                    for label in passes:
                        ours, theirs = _runners(case, dtype, label != "forward")
                        o, o_iqr = _timed(ours, min_time, min_rep, max_rep)
                        t, t_iqr = _timed(theirs, min_time, min_rep, max_rep)
                        blas = (_blas_time(case.gemms, dtype, label != "forward", min_time,
                                           min_rep, max_rep) if case.gemms else None)
                        row = {"family": case.family, "case": case.name, "pass": label,
                               "dtype": dtype_name, "threads": n_threads,
                               "ours_s": f"{o:.6g}", "ours_iqr_s": f"{o_iqr:.3g}",
                               "torch_s": f"{t:.6g}", "torch_iqr_s": f"{t_iqr:.3g}",
                               "ratio": f"{o / t:.3g}",
                               "blas_s": "" if blas is None else f"{blas:.6g}",
                               "ours_over_blas": "" if blas is None else f"{o / blas:.3g}"}
                        rows.append(row)
                        writer.writerow(row)
                        out.flush()
                        print(f"{case.name[:48]:48s} {label[:9]:9s} {dtype_name:7s} "
                              f"{n_threads:3d} {1e3 * o:9.3f} {1e3 * t:9.3f} {o / t:6.2f} "
                              + ("" if blas is None else f"{1e3 * blas:8.3f}"), flush=True)
    elapsed = time.perf_counter() - start
    out.close()
    import numpy

    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": platform.machine(), "processor": _cpu_name(), "cores": cores,
            "cores_in_machine": os.cpu_count(),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__, "blas": _blas_name(), "seconds": round(elapsed, 1),
            "quick": args.quick, "threads": threads, "dtypes": args.dtypes}
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{len(rows)} rows in {elapsed:.0f} s, written to {args.out} and "
          f"{args.out.with_suffix('.json').name}")
    return 0


def _cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas_name() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(sorted({f"{i['internal_api']} {i.get('version') or ''}".strip()
                                 for i in threadpool_info() if i["user_api"] == "blas"}))
    except Exception:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
