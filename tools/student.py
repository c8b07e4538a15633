"""Write the student notebooks and the nbgrader sources of every chapter (`make student`).

    python tools/student.py                        # every chapter in _toc.yml
    python tools/student.py book/blocks/softmax.ipynb --out /tmp/kit

Writes ``<out>/student/<part>/<chapter>.ipynb`` (solutions removed, coding exercises stubbed,
checker cells kept) and ``<out>/nbgrader/source/<chapter>/<chapter>.ipynb`` (nbgrader's source
layout: one assignment a chapter, solution regions marked, checker cells graded and locked).
See ``deepglossary.instructor`` for the metadata that marks a coding exercise.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deepglossary import instructor  # noqa: E402


def chapters() -> list[pathlib.Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [ROOT / (ch["file"] + ".ipynb") for part in toc["parts"] for ch in part["chapters"]
            if (ROOT / (ch["file"] + ".ipynb")).exists() and ch["file"].count("/") == 2]


def write(nb, path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "_build")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or chapters()
    stubs = 0
    for path in paths:
        nb = json.loads(path.read_text())
        chapter = str(path.relative_to(ROOT / "book").with_suffix(""))
        write(instructor.student(nb, chapter), args.out / "student" / (chapter + ".ipynb"))
        write(instructor.nbgrader_source(nb, chapter),
              args.out / "nbgrader" / "source" / path.stem / (path.stem + ".ipynb"))
        stubs += len(instructor.coding_exercises(nb))
    print(f"{len(paths)} chapters, {stubs} coding exercises stubbed: "
          f"{args.out / 'student'} and {args.out / 'nbgrader' / 'source'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
