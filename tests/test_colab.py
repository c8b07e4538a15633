"""A chapter runs as it does on Colab: a fresh environment with only what Colab preinstalls that
matters here (numpy, matplotlib, torch, ipywidgets, ipykernel), then the chapter's own setup
cell installs the package from the repository (here a local clone, ``git+file://``), then every
cell runs."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "blocks" / "softmax.ipynb"
COLAB_PREINSTALLED = ["numpy", "matplotlib", "torch==2.13.0", "ipywidgets", "ipykernel"]


def run(*args, **kwargs):
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """The fresh environment, with a kernel of its own, and a clone of the repository."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and the repository's history (the setup cell pip-installs a "
                    "git URL)")
    where = tmp_path_factory.mktemp("colab")
    clone = where / "repository"
    run("git", "clone", "--quiet", ROOT, clone, timeout=300)    # not shallow: pip clones it
    venv = where / "venv"
    run(sys.executable, "-m", "venv", venv, timeout=300)
    python = venv / "bin" / "python"
    # Colab's pip is recent; the one a venv starts with may be too old for git+file:// URLs
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", timeout=300)
    run(python, "-m", "pip", "install", "--quiet", *COLAB_PREINSTALLED, timeout=900)
    run(python, "-m", "ipykernel", "install", "--prefix", venv, "--name", "colab",
        timeout=300)
    return venv, clone


def test_a_chapter_runs_as_on_colab(colab, tmp_path, monkeypatch):
    import nbclient
    import nbformat

    venv, clone = colab
    python = venv / "bin" / "python"
    assert subprocess.run([python, "-c", "import deepglossary"],
                          capture_output=True).returncode != 0, "not installed yet"
    nb = json.loads(CHAPTER.read_text())
    setup = "".join(nb["cells"][1]["source"])
    url = re.search(r"deepglossary @ (git\+\S+?)\"", setup).group(1)
    assert url.startswith("git+https://github.com/"), url     # what Colab would install
    nb["cells"][1]["source"] = setup.replace(url, f"git+file://{clone}")
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "where",
                        "metadata": {}, "outputs": [],
                        "source": "import deepglossary\nprint(deepglossary.__file__)"})
    path = tmp_path / CHAPTER.name
    path.write_text(json.dumps(nb))
    book = nbformat.read(path, as_version=4)
    monkeypatch.setenv("JUPYTER_PATH", str(venv / "share" / "jupyter"))
    monkeypatch.setenv("PATH", f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    nbclient.NotebookClient(book, timeout=600, kernel_name="colab",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in book.cells[-1].outputs)
    assert str(venv) in printed, f"deepglossary came from elsewhere: {printed}"
    assert subprocess.run([python, "-c", "import deepglossary"],
                          capture_output=True).returncode == 0
