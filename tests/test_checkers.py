"""Every coding exercise's checker catches wrong answers (the instructor kit).

For each chapter notebook ``book/*/*.ipynb`` and each coding exercise in its metadata
(``deepglossary.instructor.coding_exercises``), for every ``check_*`` call of its ``checker``:

- the **reference** answer, the chapter's own solution cell (its imports and definitions run in
  a namespace with what the setup cell gives), passes;
- every **wrong answer** registered for that checker in ``tests/checkers/wrong.py`` (typical
  student mistakes: a missing transpose, a forgotten 1/N or bias, float64 for float32, overflow,
  an off-by-one, a mutated input...) fails with an ``AssertionError`` whose message helps: it is
  not empty and says what went wrong (a case, an input, what was expected or came back).

A completeness test makes sure that every checker called in a chapter has at least two wrong
answers: a new chapter's checker without them fails the suite with a message saying what to add.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import json
import pathlib
import pkgutil
import re
import warnings

import numpy as np
import pytest

from checkers.wrong import CONTEXT, MIN_WRONG, WRONG, Wrong
from deepglossary import exercises as exercises_package
from deepglossary import instructor

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted(ROOT.glob("book/*/*.ipynb"))

# a helpful message names what went wrong: one of these words (lower case), or a number (an
# input, a size, a value that came back)
HELPFUL = ("expected", "case", "shape", "dtype", "got", "should", "differ", " at ", "input",
           "nan", "inf", "overflow", "wrong", "changed",
           "must", "instead", "returned")


def _setup_namespace(slug: str) -> dict:
    """What a chapter's setup cell gives (np, torch, dg, nn), and the chapter's context from
    ``CONTEXT`` (the modules it imports before its exercises under a short name: optim, R...)."""
    import torch

    import deepglossary as dg
    from deepglossary import nn
    ns = dict(np=np, torch=torch, dg=dg, nn=nn)
    exec(CONTEXT.get(slug, ""), ns)
    return ns


def _all_checkers() -> dict[str, list]:
    """Every ``check_*`` function of ``deepglossary.exercises``, by name (a name may live in two
    modules, e.g. ``check_softplus_grad``)."""
    found: dict[str, list] = {}
    for info in pkgutil.iter_modules(exercises_package.__path__):
        module = importlib.import_module(f"deepglossary.exercises.{info.name}")
        for name, value in vars(module).items():
            if (name.startswith("check_") and callable(value)
                    and value.__module__ == module.__name__):
                found.setdefault(name, []).append(value)
    return found


def _key(function) -> str:
    """The registry's key of a checker: its module's short name and its name."""
    return f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"


def _definitions(source: str) -> str:
    """The imports and the function/class definitions of a solution cell (what a student's
    cell defines), without the statements that use them (prints, demos, the checker call)."""
    tree = ast.parse(source)
    keep = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))]
    return ast.unparse(ast.Module(body=keep, type_ignores=[]))


def _calls(checker: str) -> list[ast.Call]:
    """The ``check_*(...)`` calls of an exercise's checker metadata, in order."""
    calls = []
    for node in ast.walk(ast.parse(checker)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id.startswith("check_")):
            calls.append(node)
    return calls


def _collect():
    """One entry per checker call of every coding exercise: the chapter, the exercise's label,
    the call's index, the checker's name, the call's source and the student's names."""
    found = []
    for path in CHAPTERS:
        nb = json.loads(path.read_text())
        for exercise in instructor.coding_exercises(nb):
            for i, call in enumerate(_calls(exercise["checker"])):
                found.append(dict(chapter=path, slug=path.stem, label=exercise["exercise"],
                                  index=i, name=call.func.id, call=ast.unparse(call),
                                  writes=list(exercise["student_writes"])))
    return found


CALLS = _collect()
CHECKERS = _all_checkers()
_NAMESPACES: dict[pathlib.Path, dict] = {}


def _chapter_namespace(path: pathlib.Path) -> dict:
    """The namespace after every solution cell of a chapter (definitions only), in order, so that
    a later solution may use an earlier one (nmt's ``my_bleu`` calls ``clipped_counts``)."""
    if path not in _NAMESPACES:
        ns = _setup_namespace(path.stem)
        nb = json.loads(path.read_text())
        for exercise in instructor.coding_exercises(nb):
            exec(compile(_definitions(exercise["solution"]), f"{path.name}:{exercise['exercise']}",
                         "exec"), ns)
        _NAMESPACES[path] = ns
    return _NAMESPACES[path]


def _checker(entry, ns):
    """The checker function an exercise calls: the one its chapter imported, else the only
    function of that name in the exercises package."""
    name = entry["name"]
    if name in ns:
        return ns[name]
    candidates = CHECKERS.get(name, [])
    if len(candidates) != 1:
        raise LookupError(f"{entry['slug']}: {name} is not imported by a solution cell and "
                          f"{len(candidates)} modules define it; import it in the solution cell")
    return candidates[0]


def _student_name(entry) -> str:
    """The student's name that the call checks (its first argument among ``student_writes``)."""
    call = ast.parse(entry["call"], mode="eval").body
    names = [arg.id for arg in call.args if isinstance(arg, ast.Name)]
    for name in names:
        if name in entry["writes"]:
            return name
    if names:                     # e.g. a second, alternative answer the solution cell defines
        return names[0]
    raise LookupError(f"{entry['slug']}: {entry['call']} checks none of {entry['writes']}")


def _run(entry, replace: dict | None = None):
    """Run one checker call in the chapter's namespace, a student's names replaced; the
    checker's printed lines are swallowed."""
    ns = dict(_chapter_namespace(entry["chapter"]))
    ns[entry["name"]] = _checker(entry, ns)
    ns.update(replace or {})
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            eval(compile(entry["call"], entry["slug"], "eval"), ns)


def _id(entry) -> str:
    call = f"#{entry['index'] + 1}" if entry["index"] else ""
    return f"{entry['slug']}:{entry['label']}:{entry['name']}{call}"


def _key_of(entry) -> str:
    return _key(_checker(entry, _chapter_namespace(entry["chapter"])))


@pytest.mark.parametrize("entry", CALLS, ids=_id)
def test_reference_passes(entry):
    try:
        _run(entry)
    except NameError as err:
        pytest.fail(f"{entry['slug']}: the solution of {entry['label']} needs a name that the "
                    f"chapter defines earlier ({err}): give it in CONTEXT[{entry['slug']!r}] in "
                    "tests/checkers/wrong.py")


WRONG_CASES = []
for _entry in CALLS:
    try:
        _registered = WRONG.get(_key_of(_entry), [])
    except Exception:          # noqa: BLE001 (a chapter that does not load fails the test above)
        _registered = []
    for _wrong in _registered:
        if _wrong.exercises is None or _entry["label"] in _wrong.exercises:
            WRONG_CASES.append(pytest.param(_entry, _wrong, id=f"{_id(_entry)}:{_wrong.label}"))


@pytest.mark.parametrize("entry, wrong", WRONG_CASES)
def test_wrong_answer_fails_with_a_helpful_message(entry, wrong: Wrong):
    ns = _chapter_namespace(entry["chapter"])
    name = _student_name(entry)
    bad = wrong.build(ns[name], ns)
    with pytest.raises(AssertionError) as caught:
        _run(entry, {name: bad})
    message = str(caught.value)
    assert message.strip(), f"{entry['name']} rejects '{wrong.label}' with an empty message"
    assert len(message) >= 20 and (any(word in message.lower() for word in HELPFUL)
                                   or re.search(r"\d", message)), (
        f"{entry['name']} rejects '{wrong.label}' with a message that does not say what went "
        f"wrong (no case, input, expected or got): {message!r}")
    for part in wrong.says:
        assert re.search(part, message, re.I | re.S), (
            f"{entry['name']} rejects '{wrong.label}' but its message does not mention "
            f"{part!r}: {message!r}")


def test_every_checker_has_wrong_answers():
    """A checker called in a chapter without two registered wrong answers fails here."""
    missing = []
    for entry in CALLS:
        key = _key_of(entry)
        wrongs = [w for w in WRONG.get(key, [])
                  if w.exercises is None or entry["label"] in w.exercises]
        if len(wrongs) < MIN_WRONG:
            missing.append(f"{key} (called in {entry['slug']}, exercise {entry['label']}): "
                           f"{len(wrongs)} wrong answer(s)")
    assert not missing, (
        f"every checker needs at least {MIN_WRONG} typical wrong answers that it rejects; in "
        "tests/checkers/wrong.py, add for each of these keys functions build(ref, ns) that "
        "return a student's typical mistake, decorated with @wrong(key, 'the mistake'):\n  "
        + "\n  ".join(sorted(set(missing))))


def test_registry_has_no_stale_keys():
    """Every registry key names a checker that exists (a renamed checker is noticed)."""
    existing = {_key(f) for functions in CHECKERS.values() for f in functions}
    stale = sorted(set(WRONG) - existing)
    assert not stale, f"tests/checkers/wrong.py registers checkers that do not exist: {stale}"
