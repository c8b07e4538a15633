"""The chapters' time budget, as a benchmark: execute every notebook, one at a time, and time it.

    python benchmarks/notebook_times.py                      # every chapter (`make times`)
    python benchmarks/notebook_times.py book/training/*.ipynb   # updates those rows only
    python benchmarks/notebook_times.py --budget 15 --out benchmarks/results/notebook-times.csv

A chapter aims at 15 s of kernel time on a 2-core CPU machine (DESIGN.md). Wall-clock seconds
differ by 2x between machines of one kind, so the same run also times a fixed reference workload
(NumPy matrix products, elementwise maths and a little Python, like the chapters' own work) and
reports each notebook in *reference units*: its seconds divided by the reference workload's.
Two machines compare in those units. The budget is applied in them too: a notebook is over
budget when its reference units exceed ``budget / REFERENCE_S``, where ``REFERENCE_S`` is the
reference workload's time on the machine the budget was set on (so on a machine twice as slow
the budget in seconds doubles).

Writes one CSV row a notebook (notebook, seconds, reference units, budget in seconds on this
machine, over budget) and exits 1 when a notebook is over its budget, 2 when one fails to run.
This is for authors, before they resolve a chapter; the test suite never fails on time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import pathlib
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")   # as in the test suite; the kernels inherit it

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

BUDGET_S = 15.0
# The reference workload's best-of-five time, in seconds, on the machine the budget was set on
# (2-core x86-64, Python 3.11, NumPy with OpenBLAS, one BLAS thread), measured with
# `python benchmarks/notebook_times.py --reference-only`.
REFERENCE_S = 0.135


def reference_workload() -> float:
    """Seconds for a fixed mix of what chapters do: best of five runs."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((192, 192))
    x = rng.standard_normal((256, 784))
    w = rng.standard_normal((784, 64)) * 0.05
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(60):                       # dense products
            a = np.tanh(a @ a.T / 192.0)
        for _ in range(60):                       # an MLP layer's forward and backward
            h = np.maximum(x @ w, 0.0)
            g = (h > 0) * rng.standard_normal(h.shape)
            _ = x.T @ g, g @ w.T
        total = 0.0
        for i in range(100_000):                    # a Python loop, as in training loops
            total += i * 0.5
        best = min(best, time.perf_counter() - start)
    return best


def kernel_seconds(path: pathlib.Path, timeout: int) -> float:
    """Execute the notebook in a fresh kernel; the sum of its cells' execution times."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    total = 0.0
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            begin = dt.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            end = dt.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            total += (end - begin).total_seconds()
    return total


def chapter_name(path: pathlib.Path) -> str:
    """book/<part>/<slug>.ipynb, also for a notebook of another checkout (to time an old one)."""
    parts = path.parts
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("book"):]) if "book" in parts \
        else str(path)


FIELDS = ["notebook", "seconds", "reference_units", "budget_seconds_here", "over_budget"]


def write_table(out: pathlib.Path, rows: list[dict], *, merge: bool) -> None:
    """Write ``rows`` to ``out``. With ``merge`` (some notebooks were named, not all), the
    table already there keeps its other notebooks' rows, in their order; the timed ones are
    replaced or appended. Timing one chapter never wipes the table of the whole book."""
    table = {}
    if merge and out.exists():
        with out.open(newline="") as f:
            table = {r["notebook"]: r for r in csv.DictReader(f)}
    table.update({r["notebook"]: r for r in rows})
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(table.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=pathlib.Path,
                        help="notebooks to time (default: every chapter)")
    parser.add_argument("--budget", type=float, default=BUDGET_S,
                        help="seconds on the reference machine (default %(default)s)")
    parser.add_argument("--out", type=pathlib.Path,
                        default=ROOT / "benchmarks" / "results" / "notebook-times.csv")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("--reference-only", action="store_true",
                        help="print the reference workload's time and stop")
    args = parser.parse_args(argv)

    reference = reference_workload()
    scale = reference / REFERENCE_S
    print(f"reference workload: {reference:.3f} s here, {REFERENCE_S:.3f} s on the machine the "
          f"budget was set on: this machine is {scale:.2f}x as slow")
    if args.reference_only:
        return 0
    budget_here = args.budget * max(scale, 1e-9)
    paths = [p.resolve() for p in args.paths] or sync_notebooks.notebooks()
    rows, failed = [], []
    for path in paths:
        name = chapter_name(path)
        try:
            seconds = kernel_seconds(path, args.timeout)
        except Exception as error:   # report every notebook, then fail
            failed.append(name)
            print(f"  FAILED  {name}: {type(error).__name__}: {str(error)[:300]}", flush=True)
            continue
        over = seconds > budget_here
        rows.append({"notebook": name, "seconds": round(seconds, 2),
                     "reference_units": round(seconds / reference, 1),
                     "budget_seconds_here": round(budget_here, 1), "over_budget": over})
        print(f"{seconds:7.1f} s  {seconds / reference:7.1f} units  {name}"
              f"{'   OVER BUDGET' if over else ''}", flush=True)
    total = sum(r["seconds"] for r in rows)
    print(f"{total:7.1f} s  {total / reference:7.1f} units  all {len(rows)} notebooks "
          f"(budget {budget_here:.1f} s a notebook on this machine, {args.budget:g} s on the "
          "reference machine)")
    write_table(args.out, rows, merge=bool(args.paths))
    print(f"table written to {args.out}"
          + (" (the timed notebooks' rows replaced, the others kept)" if args.paths else ""))
    over = [r["notebook"] for r in rows if r["over_budget"]]
    if failed:
        print(f"{len(failed)} notebook(s) failed to run: {', '.join(failed)}")
        return 2
    if over:
        print(f"{len(over)} notebook(s) over budget: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
