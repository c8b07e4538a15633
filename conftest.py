"""Session-wide test settings: the notebooks' run-time table, and what fails a run.

nbval runs a notebook as one test per cell; this plugin adds the cells' times up per notebook and
prints the table at the end of the run. **No wall-clock time decides a verdict**: machines of one
kind differ by 2x, and a student's laptop by more, so a notebook over its budget (DESIGN.md: aim
at 15 s of kernel time on a 2-core machine; DG_NOTEBOOK_BUDGET_S overrides it) is marked in the
table and reported as a warning. What fails is a hang: each cell runs under nbval's cell timeout
(`--nbval-cell-timeout` in pyproject.toml, minutes), so a cell stuck in an endless loop still ends
the run, red. The budget itself is enforced by the benchmark `make times`
(benchmarks/notebook_times.py), which authors run before they resolve a chapter.
"""

import collections
import os

import pytest

# The suite runs two workers on two cores. One BLAS thread each (notebook kernels inherit it),
# or the small matrix products of the chapters fight over the cores: three times slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

BUDGET_S = float(os.environ.get("DG_NOTEBOOK_BUDGET_S", "15"))
_times: dict[str, float] = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    path, _, cell = report.nodeid.partition("::")
    if path.endswith(".ipynb") and cell:
        _times[path] += report.duration


def over_budget() -> list[str]:
    return [nb for nb, t in _times.items() if t > BUDGET_S]


@pytest.hookimpl(trylast=True)   # after pytest's own durations table
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _times:
        return
    tr = terminalreporter
    over = over_budget()
    tr.section(f"notebook run times (budget {BUDGET_S:g} s each: a warning, not a failure)")
    for nb, seconds in sorted(_times.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"{seconds:6.1f} s  {nb}{'   over budget (warning)' if nb in over else ''}")
    tr.write_line(f"{sum(_times.values()):6.1f} s  all {len(_times)} notebooks")
    if over:
        message = (f"{len(over)} notebook(s) over the {BUDGET_S:g} s budget on this machine: "
                   f"{', '.join(sorted(over))}. This does not fail the tests; run `make times` "
                   "to compare against the machine's reference workload.")
        tr.write_line("WARNING: " + message, yellow=True)
