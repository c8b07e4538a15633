"""What fails the suite: a hung cell does, a slow notebook does not (conftest.py, issue 8).

Each test runs pytest on a tiny notebook in a temporary folder, with the repository's own
conftest.py and its own nbval options from pyproject.toml, in a subprocess.
"""

import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def addopts() -> list[str]:
    """pyproject.toml's pytest addopts (read with a regex: tomllib needs Python 3.11)."""
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'^addopts = """(.*?)"""', text, re.S | re.M)
    return shlex.split(match.group(1))


def notebook(*sources: str) -> str:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
              "outputs": [], "source": src} for i, src in enumerate(sources)]
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5})


def run_suite(tmp_path, source_notebook: str, *extra, env_budget: str | None = None):
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "chapter.ipynb").write_text(source_notebook)
    options, skip = [], False
    for option in addopts():          # the repository's options, less xdist's and the timeout
        if skip or option.startswith("--nbval-cell-timeout"):
            skip = False
            continue
        if option == "--dist":
            skip = True
            continue
        options.append(option)
    options += list(extra)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if env_budget is not None:
        env["DG_NOTEBOOK_BUDGET_S"] = env_budget
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-o", "addopts=",
                           *options, "chapter.ipynb"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)


def test_the_suite_has_a_cell_timeout_of_minutes():
    timeouts = [o for o in addopts() if o.startswith("--nbval-cell-timeout=")]
    assert len(timeouts) == 1
    seconds = float(timeouts[0].split("=")[1])
    assert 120 <= seconds <= 600, "generous for a slow laptop, finite for a hang"


def test_a_notebook_over_its_budget_passes_with_a_warning(tmp_path):
    result = run_suite(tmp_path, notebook("import time\ntime.sleep(1.5)", "x = 1"),
                       "--nbval-cell-timeout=60", env_budget="0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "over budget (warning)" in result.stdout
    assert "2 passed" in result.stdout


def test_a_hanging_cell_fails_the_suite(tmp_path):
    result = run_suite(tmp_path, notebook("while True:\n    pass", "x = 1"),
                       "--nbval-cell-timeout=3")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed" in result.stdout.splitlines()[-1]


def test_a_quick_notebook_is_not_marked(tmp_path):
    result = run_suite(tmp_path, notebook("x = 1"), "--nbval-cell-timeout=60", env_budget="1000")
    assert result.returncode == 0 and "over budget" not in result.stdout


def test_no_test_counts_the_rows_of_every_device():
    """A report has one row per compared array **and device**: a test that counts
    ``len(report.rows)`` passes on a CPU machine and fails on one with a GPU (it did: 128
    failures on the first GPU run). Count ``report.rows_on("cpu")`` instead."""
    import json
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    counting = re.compile(r"len\(\s*\w+\.rows\s*\)\s*==|==\s*len\(\s*\w+\.rows\s*\)|"
                          r"\[\s*r(?:ow)?\.quantity for r(?:ow)? in \w+\.rows\s*\]\s*==")
    found = []
    for path in sorted((root / "tests").glob("test_*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if counting.search(line) and "rows_on" not in line and "devices" not in line:
                found.append(f"{path.name}:{n}: {line.strip()}")
    for path in sorted((root / "book").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for line in "".join(cell["source"]).splitlines():
                if counting.search(line) and "rows_on" not in line and "devices" not in line:
                    found.append(f"{path.relative_to(root)}: {line.strip()}")
    assert not found, "count the rows of one device:\n" + "\n".join(found)
