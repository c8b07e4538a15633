"""`make student`: no solution survives in a student notebook, every coding exercise becomes a
stub and a checker, and a student notebook runs to its first stub."""

import ast
import json
import pathlib

import pytest

from deepglossary import instructor

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*/*.ipynb"))


def load(path):
    return json.loads(path.read_text())


def ids(paths):
    return [str(p.relative_to(ROOT / "book")) for p in paths]


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_no_solution_survives(path):
    nb = load(path)
    handout = instructor.student(nb, "chapter")
    text = "\n".join("".join(c["source"]) for c in handout["cells"])
    for line in instructor.distinctive_lines(nb):
        assert line not in text, f"a solution line survives: {line!r}"
    assert "{solution" not in text, "a solution directive survives"
    exercises = instructor.coding_exercises(nb)
    stubs = [c for c in handout["cells"] if "student" in c["metadata"].get("tags", [])]
    checkers = [c for c in handout["cells"] if "checker" in c["metadata"].get("tags", [])]
    assert len(stubs) == len(checkers) == len(exercises)
    for stub in stubs:
        tree = ast.parse("".join(stub["source"]))                      # it compiles
        raises = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)]
        assert raises and all("NotImplementedError" in ast.unparse(n) for n in raises)
    # the exercises' questions stay
    assert text.count("{exercise}") == json.dumps(nb).count("{exercise}")


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_coding_exercises_are_marked_consistently(path):
    """The metadata of a coding exercise names what its solution cell really defines and
    calls: the checker line is in that cell or in a cell tagged ``checker``, so the two
    cannot drift apart."""
    nb = load(path)
    labels = set()
    checker_cells = "\n".join("".join(c["source"]) for c in nb["cells"]
                               if "checker" in c["metadata"].get("tags", []))
    for cell in nb["cells"]:
        meta = instructor.coding(cell)
        if not meta:
            continue
        src = "".join(cell["source"])
        assert "solution" in cell["metadata"].get("tags", [])
        for line in meta["checker"].splitlines():
            assert line in src or line in checker_cells, \
                f"{meta['exercise']}: checker {line!r} is in neither its cell nor a checker cell"
        defined = {n.name for n in ast.parse(src).body
                   if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        assert set(meta["student_writes"]) <= defined
        labels.add(meta["exercise"])
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    exercise_labels = {m.group(2) for m in instructor.EXERCISE.finditer(md)}
    assert labels <= exercise_labels


def test_nbgrader_source_keeps_the_solution_between_markers():
    nb = load(ROOT / "book" / "blocks" / "softmax.ipynb")
    source = instructor.nbgrader_source(nb, "blocks/softmax")
    graded = [c for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    solutions = [c for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert len(graded) == len(solutions) == len(instructor.coding_exercises(nb)) == 2
    body = "".join(solutions[0]["source"])
    assert "### BEGIN SOLUTION" in body and "### END SOLUTION" in body
    assert "e / e.sum(axis=-1, keepdims=True)" in body
    assert all(c["metadata"]["nbgrader"]["locked"] for c in graded)
    ids_ = [c["metadata"]["nbgrader"]["grade_id"] for c in graded + solutions]
    assert len(ids_) == len(set(ids_))


def test_a_student_notebook_runs_to_its_first_stub(tmp_path):
    """Executed, the student version of a chapter stops at the first checker with the stub's
    NotImplementedError, which names the function to write."""
    import nbclient
    import nbformat

    nb = instructor.student(load(ROOT / "book" / "blocks" / "softmax.ipynb"), "blocks/softmax")
    first_checker = next(i for i, c in enumerate(nb["cells"])
                         if "checker" in c["metadata"].get("tags", []))
    path = tmp_path / "softmax.ipynb"
    path.write_text(json.dumps(nb))
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "book")}})
    with pytest.raises(nbclient.exceptions.CellExecutionError) as err:
        client.execute()
    assert err.value.ename == "NotImplementedError"
    assert "write my_softmax" in err.value.evalue
    ran = [i for i, c in enumerate(book.cells) if c.get("cell_type") == "code"
           and c.get("execution_count")]
    assert max(ran) == first_checker                                 # it stopped right there


def test_nbgrader_accepts_a_chapter(tmp_path):
    """nbgrader's own generate_assignment turns a chapter's nbgrader source into its student
    version: the solution region becomes nbgrader's stub, the checker stays locked. Runs where
    nbgrader is installed (pip install nbgrader; it is not a requirement of the book)."""
    import shutil
    import subprocess

    nbgrader = shutil.which("nbgrader")
    if nbgrader is None:
        pytest.skip("nbgrader is not installed here")
    source = tmp_path / "source" / "softmax"
    source.mkdir(parents=True)
    nb = instructor.nbgrader_source(load(ROOT / "book" / "blocks" / "softmax.ipynb"),
                                    "blocks/softmax")
    (source / "softmax.ipynb").write_text(json.dumps(nb))
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\n")
    env = dict(__import__("os").environ)
    env["PATH"] = f"{pathlib.Path(nbgrader).parent}:{env['PATH']}"
    done = subprocess.run([nbgrader, "generate_assignment", "softmax", "--force"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    release = json.loads((tmp_path / "release" / "softmax" / "softmax.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in release["cells"])
    assert "e / e.sum(axis=-1, keepdims=True)" not in text and "### BEGIN SOLUTION" not in text
    assert text.count("raise NotImplementedError()") == 2
