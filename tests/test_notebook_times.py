"""benchmarks/notebook_times.py: timing some chapters updates their rows, never wipes the rest."""

import csv
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load():
    spec = importlib.util.spec_from_file_location("notebook_times",
                                                  ROOT / "benchmarks" / "notebook_times.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(name, seconds):
    return {"notebook": name, "seconds": seconds, "reference_units": 1.0,
            "budget_seconds_here": 15.0, "over_budget": False}


def read(path):
    with path.open(newline="") as f:
        return [(r["notebook"], float(r["seconds"])) for r in csv.DictReader(f)]


def test_timing_some_notebooks_keeps_the_other_rows(tmp_path):
    times = load()
    out = tmp_path / "times.csv"
    times.write_table(out, [row("a/x", 1.0), row("a/y", 2.0), row("b/z", 3.0)], merge=False)
    times.write_table(out, [row("a/y", 5.0), row("c/new", 4.0)], merge=True)
    assert read(out) == [("a/x", 1.0), ("a/y", 5.0), ("b/z", 3.0), ("c/new", 4.0)]


def test_timing_every_notebook_writes_a_fresh_table(tmp_path):
    times = load()
    out = tmp_path / "times.csv"
    times.write_table(out, [row("a/x", 1.0), row("gone/w", 9.0)], merge=False)
    times.write_table(out, [row("a/x", 2.0)], merge=False)
    assert read(out) == [("a/x", 2.0)]
