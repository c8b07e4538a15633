"""Session-wide test settings: the time budget of every chapter notebook.

nbval runs a notebook as one test per cell; this plugin adds the cells' times up per notebook,
prints the table at the end of the run, and fails the run if a notebook exceeds its budget
(30 s on a 2-core machine, DESIGN.md; DG_NOTEBOOK_BUDGET_S overrides it).
"""

import collections
import os

import pytest

# The suite runs two workers on two cores. One BLAS thread each (notebook kernels inherit it),
# or the small matrix products of the chapters fight over the cores: three times slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

BUDGET_S = float(os.environ.get("DG_NOTEBOOK_BUDGET_S", "30"))
_times: dict[str, float] = collections.defaultdict(float)
_over: list[str] = []


def pytest_runtest_logreport(report):
    path, _, cell = report.nodeid.partition("::")
    if path.endswith(".ipynb") and cell:
        _times[path] += report.duration


def pytest_sessionfinish(session, exitstatus):
    _over.extend(nb for nb, t in _times.items() if t > BUDGET_S)
    if _over and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.hookimpl(trylast=True)   # after pytest's own durations table
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _times:
        return
    tr = terminalreporter
    tr.section(f"notebook run times (budget {BUDGET_S:g} s each)")
    for nb, seconds in sorted(_times.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"{seconds:6.1f} s  {nb}{'   OVER BUDGET' if nb in _over else ''}")
    tr.write_line(f"{sum(_times.values()):6.1f} s  all {len(_times)} notebooks")
