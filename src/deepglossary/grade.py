"""Grade students' chapter notebooks: ``python -m deepglossary.grade SUBMISSIONS --out grades.csv``.

SUBMISSIONS holds one folder per student (``alice/softmax.ipynb``, ...) or one file per student
and chapter (``alice_softmax.ipynb``: the student's name is the file's name without the
chapter's slug). Each notebook runs in a fresh kernel, in a process of its own, under a
per-notebook time limit; after the student's cells, the **official** checker of each coding
exercise runs (taken from the chapter in the book, not from the submission), and its outcome is
recorded:

- ``pass``: the checker accepted the answer;
- ``fail``: the checker rejected it (its message says which input, what was expected and what
  came back), the answer uses torch where the exercise is NumPy-only, or the checker cell was
  deleted from the submission;
- ``error``: the answer raised (``NotImplementedError``: not answered), the notebook ran past
  its time limit, or the kernel died.

A notebook that hangs, raises or kills its kernel costs only its own rows. The grades go to a
CSV (student, chapter, exercise, result, message) and a summary table is printed.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass

from deepglossary import instructor

FIELDS = ["student", "chapter", "exercise", "result", "message"]
_MARK = "DEEPGLOSSARY-GRADE "


@dataclass
class Grade:
    student: str
    chapter: str
    exercise: str
    result: str          # pass, fail or error
    message: str = ""


def default_book() -> pathlib.Path:
    """The book's chapters: ``book/`` of the repository this package was installed from."""
    return pathlib.Path(__file__).resolve().parents[2] / "book"


def reference_exercises(book: pathlib.Path) -> dict[str, list[dict]]:
    """Each chapter's coding exercises, by chapter (``"blocks/softmax"``), from the book."""
    found = {}
    for path in sorted(book.glob("*/*.ipynb")):
        exercises = instructor.coding_exercises(json.loads(path.read_text()))
        if exercises:
            found[str(path.relative_to(book).with_suffix(""))] = exercises
    return found


def submissions(root: pathlib.Path, chapters) -> list[tuple[str, str, pathlib.Path]]:
    """(student, chapter, path) of every notebook under ``root``."""
    slugs = {c.split("/")[-1]: c for c in chapters}
    out = []
    for path in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            meta = json.loads(path.read_text()).get("metadata", {}).get("deepglossary", {})
        except (json.JSONDecodeError, UnicodeDecodeError):
            meta = {}
        chapter = meta.get("chapter") or next(
            (c for slug, c in sorted(slugs.items(), key=lambda kv: -len(kv[0]))
             if path.stem.endswith(slug)), None)
        if path.parent != root:
            student = path.relative_to(root).parts[0]
        else:
            slug = chapter.split("/")[-1] if chapter else ""
            student = path.stem[:-len(slug)].rstrip("_-. ") if slug and \
                path.stem.endswith(slug) and path.stem != slug else path.stem
        out.append((student, chapter or path.stem, path))
    return out


def uses_torch(source: str) -> bool:
    """Whether code names torch (an import, ``torch.x``, ``import torch as t``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            return True
        if isinstance(node, ast.Name) and node.id == "torch":
            return True
    return False


def _checker_cell(label: str, checker: str) -> str:
    """The official checker, wrapped so that its outcome is printed as one marked line."""
    return "\n".join([
        "def _dg_report(result, message=''):",
        "    import json",
        f"    print({_MARK!r} + json.dumps([{label!r}, result, message]))",
        "",
        "",
        "try:",
        textwrap.indent(checker.strip("\n"), "    "),
        "except AssertionError as _dg_err:",
        "    _dg_report('fail', str(_dg_err))",
        "except NotImplementedError as _dg_err:",
        "    _dg_report('error', 'not answered (NotImplementedError: ' + str(_dg_err) + ')')",
        "except Exception as _dg_err:",
        "    _dg_report('error', type(_dg_err).__name__ + ': ' + str(_dg_err))",
        "else:",
        "    _dg_report('pass')",
        ""])


def prepare(nb: dict, exercises: list[dict]) -> tuple[dict, dict[str, Grade]]:
    """The notebook to execute (each checker cell replaced by the official one, wrapped) and
    the grades decided without running it (deleted checker, torch in a NumPy-only answer)."""
    decided, cells = {}, []
    by_label = {e["exercise"]: e for e in exercises}
    present = set()
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("deepglossary", {})
        label = meta.get("exercise")
        if cell.get("cell_type") == "code" and label in by_label and "checker" in meta:
            present.add(label)
            cell = dict(cell, source=_checker_cell(label, by_label[label]["checker"]))
        elif (cell.get("cell_type") == "code" and label in by_label
              and by_label[label].get("numpy_only") and uses_torch("".join(cell["source"]))):
            decided[label] = Grade("", "", label, "fail",
                                   "the answer uses torch; this exercise is NumPy only")
        cells.append(cell)
    for label in by_label:
        if label not in present:
            decided.setdefault(label, Grade("", "", label, "fail",
                                            "the checker cell was deleted from the notebook"))
    return dict(nb, cells=cells), decided


def _execute(path: str, timeout: float, cwd: str) -> None:
    """Run a prepared notebook in a fresh kernel (in this process, the grader's child); print
    the checkers' marked lines; stop at the time limit (kernel start-up not counted)."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", allow_errors=True,
                                     timeout=int(timeout) + 1,
                                     resources={"metadata": {"path": cwd}})
    with client.setup_kernel():
        deadline = time.monotonic() + timeout
        for index, cell in enumerate(nb.cells):
            left = deadline - time.monotonic()
            if left <= 0:
                print(_MARK + json.dumps(["*", "timeout", ""]), flush=True)
                return
            client.timeout = max(1, int(left))
            try:
                client.execute_cell(cell, index)
            except (TimeoutError, nbclient.exceptions.CellTimeoutError):
                print(_MARK + json.dumps(["*", "timeout", ""]), flush=True)
                return
            except nbclient.exceptions.DeadKernelError:
                print(_MARK + json.dumps(["*", "dead", ""]), flush=True)
                return
            for out in cell.get("outputs", []):
                for line in out.get("text", "").splitlines():
                    if line.startswith(_MARK):
                        print(line, flush=True)


def grade_notebook(student: str, chapter: str, path: pathlib.Path, exercises: list[dict],
                   timeout: float = 300) -> list[Grade]:
    """The grades of one notebook, one per coding exercise of its chapter."""
    def row(label, result, message=""):
        return Grade(student, chapter, label, result, message)

    try:
        nb = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        return [row(e["exercise"], "error", f"unreadable notebook: {err}") for e in exercises]
    prepared, decided = prepare(nb, exercises)
    found: dict[str, Grade] = {}
    stop = ""
    with tempfile.TemporaryDirectory() as tmp:
        run = pathlib.Path(tmp) / path.name
        run.write_text(json.dumps(prepared))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "deepglossary.grade", "--execute", str(run),
                 "--timeout", str(timeout), "--cwd", str(path.parent.resolve())],
                capture_output=True, text=True, timeout=timeout + 180,
                env=dict(os.environ, PYTHONUNBUFFERED="1"))
            out, failed = proc.stdout, proc.returncode != 0
        except subprocess.TimeoutExpired as err:
            out, failed = (err.stdout or b"").decode() if isinstance(err.stdout, bytes) \
                else (err.stdout or ""), True
            stop = f"the notebook ran past its {timeout:g} s limit"
        for line in out.splitlines():
            if not line.startswith(_MARK):
                continue
            label, result, message = json.loads(line[len(_MARK):])
            if label == "*":
                stop = (f"the notebook ran past its {timeout:g} s limit" if result == "timeout"
                        else "the kernel died")
            else:
                found[label] = row(label, result, message)
        if failed and not stop:
            stop = "the grader could not run the notebook: " + (
                proc.stderr.strip().splitlines() or ["no message"])[-1]
    grades = []
    for e in exercises:
        label = e["exercise"]
        if label in decided:
            grades.append(row(label, decided[label].result, decided[label].message))
        elif label in found:
            grades.append(found[label])
        else:
            grades.append(row(label, "error", stop or "its checker never ran (an earlier "
                                                       "cell stopped the kernel?)"))
    return grades


def grade(root: pathlib.Path, book: pathlib.Path | None = None, timeout: float = 300,
          progress=print) -> list[Grade]:
    """Grade every notebook under ``root`` (see the module's docstring)."""
    reference = reference_exercises(book or default_book())
    if not reference:
        raise FileNotFoundError(f"no chapter with coding exercises under {book}; point "
                                "--book at the book's folder")
    grades = []
    for student, chapter, path in submissions(root, reference):
        if chapter not in reference:
            grades.append(Grade(student, chapter, "-", "error",
                                f"{path.name}: not a chapter with coding exercises"))
            continue
        progress(f"grading {student} / {chapter} ...")
        grades += grade_notebook(student, chapter, path, reference[chapter], timeout)
    return grades


def write_csv(grades: list[Grade], path: pathlib.Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for g in grades:
            writer.writerow([g.student, g.chapter, g.exercise, g.result, g.message])


def summary(grades: list[Grade]) -> str:
    """A table: for each student and chapter, the exercises passed, failed and in error."""
    counts: dict[tuple, dict] = {}
    for g in grades:
        counts.setdefault((g.student, g.chapter), {"pass": 0, "fail": 0, "error": 0})[g.result] \
            += 1
    rows = [("student", "chapter", "pass", "fail", "error")] + [
        (s, c, str(n["pass"]), str(n["fail"]), str(n["error"])) for (s, c), n in counts.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) for r in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deepglossary.grade",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("submissions", nargs="?", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("grades.csv"))
    parser.add_argument("--book", type=pathlib.Path, default=None,
                        help="the book's folder (default: the repository's book/)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds each notebook may run (kernel start-up not counted)")
    parser.add_argument("--execute", help=argparse.SUPPRESS)
    parser.add_argument("--cwd", default=".", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute:
        _execute(args.execute, args.timeout, args.cwd)
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error("give the folder of submissions")
    grades = grade(args.submissions, args.book, args.timeout,
                   progress=lambda m: print(m, file=sys.stderr))
    write_csv(grades, args.out)
    print(summary(grades))
    print(f"{len(grades)} grades written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
