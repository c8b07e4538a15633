"""The autograder on a folder of synthetic submissions: correct, wrong, hanging, raising, with the
checker deleted, with torch in a NumPy-only answer, and one file per student and chapter."""

import csv
import json

import pytest

from deepglossary import grade, instructor

SOFTMAX = '''from deepglossary.exercises.blocks import check_stable_softmax


def my_softmax(z):
    """The softmax of each row of z."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


check_stable_softmax(my_softmax)
'''
COUNT = '''from deepglossary.exercises.blocks import check_parameter_count


def count_parameters(sizes):
    return sum(n_out * (n_in + 1) for n_in, n_out in zip(sizes, sizes[1:]))


check_parameter_count(count_parameters)
'''


def md(text, cid):
    return {"cell_type": "markdown", "id": cid, "metadata": {}, "source": text}


def code(text, cid, **meta):
    return {"cell_type": "code", "id": cid, "metadata": meta, "source": text,
            "execution_count": None, "outputs": []}


def chapter():
    """A small chapter with two coding exercises and one written one, as the book marks them."""
    def solution(label, names, checker, body, cid):
        return code(body, cid, tags=["solution"], deepglossary={
            "exercise": label, "student_writes": names, "checker": checker,
            "numpy_only": True})
    cells = [
        code("import numpy as np\n", "setup"),
        md("## Exercises\n\n```{exercise} Stable softmax\n:label: tiny-softmax\n\nWrite it.\n```\n"
           "\n```{solution-start} tiny-softmax\n:class: dropdown\n```\n", "e1"),
        solution("tiny-softmax", ["my_softmax"], "check_stable_softmax(my_softmax)", SOFTMAX,
                 "s1"),
        md("Subtract each row's maximum: the exponent is then at most 0.\n\n```{solution-end}\n```"
           "\n\n```{exercise} Count\n:label: tiny-count\n\nCount them.\n```\n\n"
           "```{solution-start} tiny-count\n:class: dropdown\n```\n", "e2"),
        solution("tiny-count", ["count_parameters"], "check_parameter_count(count_parameters)",
                 COUNT, "s2"),
        md("```{solution-end}\n```\n\n```{exercise} Why\n:label: tiny-why\n\nWhy?\n```\n\n"
           "```{solution} tiny-why\n:class: dropdown\n\nBecause exp overflows past 709.78.\n```\n",
           "e3"),
    ]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                         "display_name": "Python 3",
                                                         "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


RIGHT_COUNT = "    return sum(b * (a + 1) for a, b in zip(sizes, sizes[1:]))\n"
ANSWERS = {
    "alice": {"my_softmax": "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                            "    return e / e.sum(axis=-1, keepdims=True)\n",
              "count_parameters": RIGHT_COUNT},
    "bob": {"my_softmax": "    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)\n",
            "count_parameters": "    return sum(a * b for a, b in zip(sizes, sizes[1:]))\n"},
    "carol": {"my_softmax": "    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
                            "    return e / e.sum(axis=-1, keepdims=True)\n",
              "count_parameters": "    while True:\n        pass\n"},
    "dave": {"my_softmax": "    raise ValueError('my softmax is broken')\n"},
    "frank": {"my_softmax": "    import torch\n"
                            "    return torch.softmax(torch.as_tensor(z), -1).numpy()\n",
              "count_parameters": RIGHT_COUNT},
}


def answer(nb, answers, delete_checker=None):
    """The student notebook with the stubs' bodies replaced by ``answers``."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        for name, body in answers.items():
            stub = f'    # YOUR CODE HERE\n    raise NotImplementedError("write {name}, then ' \
                   f'run the checker below")'
            head = src.split(f"def {name}(")
            if len(head) == 2 and stub in src:
                src = src.replace(stub, body.rstrip("\n"))
        cell["source"] = src
    if delete_checker:
        nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("deepglossary", {}).get(
            "exercise") != delete_checker or "checker" not in c["metadata"]["deepglossary"]]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    book = root / "book" / "blocks"
    book.mkdir(parents=True)
    master = chapter()
    (book / "tiny.ipynb").write_text(json.dumps(master))
    handout = instructor.student(master, "blocks/tiny")
    subs = root / "submissions"
    for name, answers in ANSWERS.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "tiny.ipynb").write_text(json.dumps(answer(handout, answers)))
    (subs / "erin").mkdir()
    (subs / "erin" / "tiny.ipynb").write_text(json.dumps(
        answer(handout, ANSWERS["alice"], delete_checker="tiny-softmax")))
    (subs / "grace_tiny.ipynb").write_text(json.dumps(answer(handout, ANSWERS["alice"])))
    (subs / "heidi").mkdir()
    (subs / "heidi" / "tiny.ipynb").write_text("{ not a notebook")
    out = root / "grades.csv"
    assert grade.main([str(subs), "--out", str(out), "--book", str(root / "book"),
                       "--timeout", "20"]) == 0
    with open(out) as f:
        return list(csv.DictReader(f))


def test_the_csv_row_by_row(graded):
    rows = {(r["student"], r["exercise"]): (r["result"], r["message"]) for r in graded}
    assert [list(r) for r in graded][0] == grade.FIELDS
    assert {r["chapter"] for r in graded} == {"blocks/tiny"}
    assert len(graded) == 8 * 2                               # every student, both exercises
    expected = {
        ("alice", "tiny-softmax"): "pass", ("alice", "tiny-count"): "pass",
        ("bob", "tiny-softmax"): "fail", ("bob", "tiny-count"): "fail",
        ("carol", "tiny-softmax"): "pass", ("carol", "tiny-count"): "error",
        ("dave", "tiny-softmax"): "error", ("dave", "tiny-count"): "error",
        ("erin", "tiny-softmax"): "fail", ("erin", "tiny-count"): "pass",
        ("frank", "tiny-softmax"): "fail", ("frank", "tiny-count"): "pass",
        ("grace", "tiny-softmax"): "pass", ("grace", "tiny-count"): "pass",
        ("heidi", "tiny-softmax"): "error", ("heidi", "tiny-count"): "error",
    }
    assert {key: result for key, (result, _) in rows.items()} == expected
    assert "softmax(z)" in rows["bob", "tiny-softmax"][1]              # the checker's message
    assert "expected 109" in rows["bob", "tiny-count"][1] or "expected" in rows[
        "bob", "tiny-count"][1]
    assert "20 s limit" in rows["carol", "tiny-count"][1]              # the hang, named
    assert "ValueError: my softmax is broken" in rows["dave", "tiny-softmax"][1]
    assert "not answered" in rows["dave", "tiny-count"][1]             # the stub left as it was
    assert "deleted" in rows["erin", "tiny-softmax"][1]
    assert "NumPy only" in rows["frank", "tiny-softmax"][1]
    assert "unreadable" in rows["heidi", "tiny-softmax"][1]


def test_student_version_of_the_small_chapter():
    handout = instructor.student(chapter(), "blocks/tiny")
    text = json.dumps(handout)
    for line in ("z.max(axis=-1, keepdims=True)", "n_out * (n_in + 1)", "709.78",
                 "Subtract each row's maximum"):
        assert line not in text
    assert text.count("raise NotImplementedError") == 2
    assert handout["metadata"]["deepglossary"]["chapter"] == "blocks/tiny"
    checkers = [c for c in handout["cells"] if "checker" in c["metadata"].get("tags", [])]
    assert ["".join(c["source"]).splitlines()[-1] for c in checkers] == [
        "check_stable_softmax(my_softmax)", "check_parameter_count(count_parameters)"]
    sources = "\n".join("".join(c["source"]) for c in handout["cells"])
    assert '"""The softmax of each row of z."""' in sources         # the docstring stays
    assert "Write it." in text and "Why?" in text                   # the questions stay


def test_uses_torch_sees_imports_and_names():
    assert grade.uses_torch("import torch\n")
    assert grade.uses_torch("from torch import nn\n")
    assert grade.uses_torch("def f(x):\n    return torch.tanh(x)\n")
    assert not grade.uses_torch("def f(x):\n    return np.tanh(x)  # not torch.tanh\n")


def test_a_folder_that_is_not_there_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        grade.main([str(tmp_path / "missing")])
    assert "folder of submissions" in capsys.readouterr().err
