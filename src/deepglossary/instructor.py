"""The instructor kit's notebooks: student versions and nbgrader sources of the chapters.

A chapter's exercises are MyST directives: ``{exercise}`` with a ``:label:``, and the solution
in ``{solution-start} label`` ... ``{solution-end}`` (or one ``{solution}`` block). A **coding
exercise** is marked explicitly, never guessed from the text: the code cell of its solution
carries the tag ``solution`` and the metadata

    "deepglossary": {"exercise": "softmax-stable",          # the exercise's label
                     "student_writes": ["my_softmax"],      # what the student writes
                     "checker": "check_stable_softmax(my_softmax)",
                     "numpy_only": true}                    # no torch in the answer

From a chapter, :func:`student` makes the notebook a student gets: every solution is gone
(prose and code); each coding exercise gets a cell with the imports of its solution cell and a
stub of each name in ``student_writes`` (signature and docstring kept, body ``raise
NotImplementedError``), then a locked checker cell. :func:`nbgrader_source` makes the same
notebook for nbgrader: the reference bodies stay, between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``, and the cells carry nbgrader's metadata, so that ``nbgrader generate_assignment``
turns it into the student version itself.

    python tools/student.py             # every chapter -> _build/student/ and _build/nbgrader/
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap

EXERCISE = re.compile(r"^(`{3,})\{exercise\}[^\n]*\n:label: (\S+)", re.M)
SOLUTION_START = re.compile(r"^`{3,}\{solution-start\} (\S+)[^\n]*\n(?:.*\n)*?`{3,}[ \t]*$", re.M)
SOLUTION_END = re.compile(r"^`{3,}\{solution-end\}[^\n]*\n`{3,}[ \t]*$", re.M)
NBGRADER_SCHEMA = 3


def _one_block(text: str) -> re.Match | None:
    """The first complete ``{solution}`` directive of a markdown text (its own fence length)."""
    opening = re.search(r"^(`{3,})\{solution\}[^\n]*\n", text, re.M)
    if not opening:
        return None
    fence = opening.group(1)
    closing = re.compile(rf"^{fence}[ \t]*$", re.M).search(text, opening.end())
    if not closing:
        raise ValueError(f"a {{solution}} block opened with {fence} is never closed")
    return re.compile(re.escape(text[opening.start():closing.end()])).search(text)


def coding(cell) -> dict | None:
    """The coding-exercise metadata of a cell, or None."""
    meta = cell.get("metadata", {}).get("deepglossary")
    return meta if meta and "checker" in meta else None


def coding_exercises(nb) -> list[dict]:
    """Every coding exercise of a chapter, in order: its metadata and the solution's source."""
    return [dict(coding(c), solution="".join(c["source"])) for c in nb["cells"] if coding(c)]


def _cell(cell_type: str, source: str, cell_id: str, **metadata) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": metadata,
            "source": source.splitlines(keepends=True)}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _body_start(node) -> tuple[int, bool]:
    """The first line of a def's body after its docstring (1-based), and whether it has one."""
    first = node.body[0]
    doc = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
           and isinstance(first.value.value, str))
    return (node.body[1].lineno if doc and len(node.body) > 1 else
            first.end_lineno + 1 if doc else first.lineno), doc


def _rewrite(source: str, names: list[str], body) -> str:
    """The imports of ``source`` and its definitions of ``names``, each function's body (after
    the docstring) replaced by ``body(indent, original_body_lines, name)``; other statements
    are dropped. A class keeps its header and docstring, and each method is rewritten."""
    tree, lines = ast.parse(source), source.splitlines()
    missing = set(names) - {n.name for n in tree.body
                            if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    if missing:
        raise ValueError(f"the solution cell defines no {sorted(missing)} (student_writes)")

    def function(node, qualname) -> list[str]:
        start, _ = _body_start(node)
        head = lines[(node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1:
                     start - 1]
        indent = re.match(r"\s*", lines[node.body[0].lineno - 1]).group(0)
        original = lines[start - 1:node.end_lineno] if start <= node.end_lineno else []
        return head + body(indent, original, qualname)

    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out += lines[node.lineno - 1:node.end_lineno]
        elif isinstance(node, ast.FunctionDef) and node.name in names:
            out += ["", ""] + function(node, node.name)
        elif isinstance(node, ast.ClassDef) and node.name in names:
            first = node.body[0]
            start, doc = _body_start(node)
            out += ["", ""] + lines[node.lineno - 1:(start if doc else first.lineno) - 1]
            methods = [m for m in node.body if isinstance(m, ast.FunctionDef)]
            for k, method in enumerate(methods):
                out += ([""] if k or doc else []) + function(method, f"{node.name}.{method.name}")
            if not methods:
                out.append(re.match(r"\s*", lines[first.lineno - 1]).group(0) + "pass")
    return "\n".join(out).strip("\n") + "\n"


def stub(source: str, names: list[str]) -> str:
    """The student's cell: the solution cell's imports, and a stub of each of ``names``."""
    def body(indent, original, name):
        return [f"{indent}# YOUR CODE HERE",
                f'{indent}raise NotImplementedError("write {name}, then run the checker below")']
    return _rewrite(source, names, body)


def solution_regions(source: str, names: list[str]) -> str:
    """The solution cell for nbgrader: each body of ``names`` between nbgrader's markers."""
    def body(indent, original, name):
        return ([f"{indent}### BEGIN SOLUTION"] + original + [f"{indent}### END SOLUTION"])
    return _rewrite(source, names, body)


def _checker_source(meta: dict) -> str:
    return ("# The checker: run this cell after your answer. Leave it as it is: the grader\n"
            "# runs the official one.\n" + meta["checker"] + "\n")


def _without_solutions(nb, on_coding) -> dict:
    """A copy of ``nb`` without solutions; ``on_coding(cell, meta)`` gives the cells that take
    the place of a coding exercise's solution cell."""
    out = copy.deepcopy(nb)
    cells, inside = [], False
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            meta = coding(cell)
            if meta:
                cells += on_coding(cell, meta)
            elif not inside:
                cells.append(copy.deepcopy(cell))
            continue
        text = "".join(cell["source"])
        if inside:
            end = SOLUTION_END.search(text)
            if not end:
                continue
            text, inside = text[end.end():], False
        while (block := _one_block(text)) is not None:
            text = text[:block.start()] + text[block.end():]
        while (start := SOLUTION_START.search(text)) is not None:
            end = SOLUTION_END.search(text, start.end())
            if end is None:
                text, inside = text[:start.start()], True
                break
            text = text[:start.start()] + text[end.end():]
        if text.strip():
            kept = copy.deepcopy(cell)
            kept["source"] = text.strip("\n").splitlines(keepends=True)
            cells.append(kept)
    if inside:
        raise ValueError("a {solution-start} block is never closed by {solution-end}")
    out["cells"] = cells
    return out


def _mark(nb, chapter: str | None, kind: str) -> dict:
    if chapter:
        nb.setdefault("metadata", {})["deepglossary"] = {"chapter": chapter, "version": kind}
    return nb


def student(nb, chapter: str | None = None) -> dict:
    """The student version of a chapter notebook (see the module's docstring). ``chapter``
    (e.g. ``"blocks/softmax"``) is recorded in the notebook's metadata for the grader."""
    def replace(cell, meta):
        label, names = meta["exercise"], meta["student_writes"]
        tags = {"exercise": label, "student_writes": names,
                "numpy_only": meta.get("numpy_only", False)}
        note = ("# Exercise " + label + ": write " + ", ".join(names)
                + (" with NumPy only (no torch).\n" if tags["numpy_only"] else ".\n"))
        return [_cell("code", note + stub("".join(cell["source"]), names),
                      f"{cell['id']}-student", tags=["student"], deepglossary=tags),
                _cell("code", _checker_source(meta), f"{cell['id']}-checker",
                      tags=["checker"], deepglossary={"exercise": label,
                                                      "checker": meta["checker"]},
                      editable=False, deletable=False)]
    return _mark(_without_solutions(nb, replace), chapter, "student")


def nbgrader_source(nb, chapter: str | None = None) -> dict:
    """The chapter as an nbgrader source notebook: solution regions and locked, graded
    checker cells, so that ``nbgrader generate_assignment`` makes the student version."""
    def replace(cell, meta):
        label, names = meta["exercise"], meta["student_writes"]
        solution = _cell("code", solution_regions("".join(cell["source"]), names),
                         f"{cell['id']}-solution", nbgrader={
                             "grade": False, "grade_id": f"{label}-solution", "locked": False,
                             "schema_version": NBGRADER_SCHEMA, "solution": True,
                             "task": False})
        checker = _cell("code", _checker_source(meta), f"{cell['id']}-checker", nbgrader={
            "grade": True, "grade_id": f"{label}-checker", "locked": True, "points": 1,
            "schema_version": NBGRADER_SCHEMA, "solution": False, "task": False})
        return [solution, checker]
    return _mark(_without_solutions(nb, replace), chapter, "nbgrader")


def distinctive_lines(nb) -> list[str]:
    """Lines only a solution holds: the bodies of the coding exercises' answers and the longer
    lines of every solution's prose (for the test that no solution survives). A line the
    chapter also shows before its exercises (a derivation's code) is not distinctive."""
    body = []
    for cell in nb["cells"]:
        if "## Exercises" in "".join(cell["source"]):
            break
        body.append("".join(cell["source"]))
    public = "\n".join(body)
    found = []
    for meta in coding_exercises(nb):
        for line in solution_regions(meta["solution"], meta["student_writes"]).splitlines():
            s = line.strip()
            if len(s) > 25 and not s.startswith(("def ", "class ", "#", '"""', "from ",
                                                 "import ")):
                found.append(s)
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for start in SOLUTION_START.finditer(text):
        end = SOLUTION_END.search(text, start.end())
        prose = textwrap.dedent(text[start.end():end.start() if end else len(text)])
        found += [s.strip() for s in prose.splitlines() if len(s.strip()) > 60
                  and not s.strip().startswith("`")]
    rest = text
    while (block := _one_block(rest)) is not None:
        found += [s.strip() for s in block.group(0).splitlines()[1:-1] if len(s.strip()) > 60
                  and not s.strip().startswith(("`", ":"))]
        rest = rest[block.end():]
    return [line for line in found if line not in public]
