"""The shape every chapter must keep: the anatomy of DESIGN.md, checked for every notebook."""

import json
import pathlib
import re
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

NOTEBOOKS = sync_notebooks.notebooks()
ANATOMY = ["## Intuition", "## Derivation", "## Implementation", "## Verification against PyTorch",
           "## Experiment", "## In PyTorch", "## Exercises", "## References"]
# Pages of the book that are not chapters (markdown, listed in _toc.yml before the parts).
PAGES = ["book/notation"]
# Calls that compare two computations and return a result instead of raising on disagreement,
# and comparisons that only produce a boolean: a cell using one must assert or raise, or the
# reader sees "agree" printed whether they agree or not.
SOFT_COMPARISONS = re.compile(r"np\.allclose\(|np\.isclose\(|np\.array_equal\(|torch\.allclose\(|"
                              r"\.max_difference\b")
PARTS = {"blocks", "learning", "optimization", "training", "convolutional", "sequences",
         "representations", "ecosystem"}


def ids(paths):
    return [str(p.relative_to(ROOT / "book")) for p in paths]


def cells(path):
    return json.loads(path.read_text())["cells"]


def text(cell):
    return "".join(cell["source"])


def toc_files():
    """The chapters (notebooks) listed in _toc.yml, in reading order; not the other pages."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [ch["file"] for part in toc["parts"] for ch in part["chapters"]
            if ch["file"] not in PAGES]


def test_notation_page_is_in_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for page in PAGES:
        assert page in listed and (ROOT / (page + ".md")).exists()
    assert listed.index("book/notation") < min(listed.index(f) for f in toc_files())


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 4


def test_toc_lists_exactly_the_notebooks_in_parts_order():
    listed = toc_files()
    assert sorted(listed) == sorted(str(p.relative_to(ROOT).with_suffix("")) for p in NOTEBOOKS)
    for entry in listed:
        assert entry.split("/")[1] in PARTS, f"{entry} is not in one of the parts' folders"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
class TestChapter:
    def test_stored_without_outputs(self, path):
        for cell in cells(path):
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None

    def test_title_then_setup_cell_in_sync(self, path):
        first = cells(path)
        assert first[0]["cell_type"] == "markdown" and text(first[0]).startswith("# ")
        setup = next(c for c in first if c["cell_type"] == "code")
        assert text(setup) == sync_notebooks.setup_source(), "run `make sync`"
        assert "hide-cell" in setup["metadata"]["tags"]

    def test_you_need_line_links_earlier_chapters(self, path):
        """Under the opening paragraph, before the Intuition, a line "**You need:**" links the
        earlier chapters this one builds on (the first chapter says what it assumes instead).
        Something taught later is named in a separate sentence with a forward link."""
        opening = []
        for cell in cells(path):
            if cell["cell_type"] == "markdown" and "## Intuition" in text(cell):
                break
            if cell["cell_type"] == "markdown":
                opening.append(text(cell))
        lines = [ln for ln in "\n".join(opening).splitlines() if ln.startswith("**You need:**")]
        assert len(lines) == 1, "one line starting with **You need:** before ## Intuition"
        order = toc_files()
        me = str(path.relative_to(ROOT).with_suffix(""))
        links = re.findall(r"\]\(([\w./-]+)\.ipynb(?:#[\w-]*)?\)", lines[0])
        if order.index(me) > 0:
            assert links, "link the earlier chapters this one builds on"
        for link in links:
            target = str((path.parent / link).resolve().relative_to(ROOT))
            assert target in order, f"{link} is not a chapter"
            assert order.index(target) < order.index(me), \
                f"{link} comes later in the book: say so in its own sentence, not under You need"

    def test_comparisons_that_must_agree_raise(self, path):
        """A cell that compares two computations asserts or raises on disagreement."""
        for cell in cells(path):
            code = text(cell)
            if cell["cell_type"] != "code" or not SOFT_COMPARISONS.search(code):
                continue
            assert re.search(r"\bassert\b|\braise\b|np\.testing\.", code), \
                f"this cell compares but never asserts:\n{code[:400]}"

    def test_glued_numbers_go_through_the_package(self, path):
        """``myst_nb.glue`` of a NumPy 2 scalar stores ``np.float64(...)``, which the book's
        ``{glue:text}`` cannot format: the build warns and fails. deepglossary.show.glue
        converts first."""
        for cell in cells(path):
            assert "from myst_nb import glue" not in text(cell), \
                "use `from deepglossary.show import glue`"

    def test_in_pytorch_section_shows_torch_code(self, path):
        code = [text(c) for c in self._section(path, "## In PyTorch") if c["cell_type"] == "code"]
        md = "\n".join(text(c) for c in self._section(path, "## In PyTorch")
                       if c["cell_type"] == "markdown")
        assert any("torch." in c for c in code), "show the idiomatic torch code in a code cell"
        assert re.search(r"pitfall", md, re.I), "name the classic pitfalls"

    def test_anatomy_sections_in_order(self, path):
        headings = [line.strip() for c in cells(path) if c["cell_type"] == "markdown"
                    for line in text(c).splitlines() if line.startswith("## ")]
        positions = []
        for section in ANATOMY:
            assert section in headings, f"missing section {section!r}"
            positions.append(headings.index(section))
        assert positions == sorted(positions), "anatomy sections out of order"

    def _section(self, path, heading):
        """The cells from ``heading`` to the next ``## `` heading."""
        out, inside = [], False
        for cell in cells(path):
            heads = [ln for ln in text(cell).splitlines() if ln.startswith("## ")]
            if cell["cell_type"] == "markdown" and heads:
                inside = heads[0].strip() == heading
            if inside:
                out.append(cell)
        return out

    def test_implementation_shown_from_the_source(self, path):
        code = [text(c) for c in self._section(path, "## Implementation")
                if c["cell_type"] == "code"]
        assert any("source(" in c for c in code), "show the package's code with source(...)"
        assert not any(re.search(r"^\s*def backward", c, re.M) for c in code), \
            "the notebook must not re-type the package's layers"

    def test_verification_against_torch(self, path):
        code = [text(c) for c in self._section(path, "## Verification against PyTorch")
                if c["cell_type"] == "code"]
        assert any("against_torch(" in c for c in code)

    def test_experiment_has_a_widget(self, path):
        code = [text(c) for c in self._section(path, "## Experiment") if c["cell_type"] == "code"]
        assert any("explore(" in c for c in code)

    def test_exercises_with_dropdown_solutions(self, path):
        md = "\n".join(text(c) for c in self._section(path, "## Exercises"))
        labels = re.findall(r"```\{exercise\}.*\n:label: (\S+)", md)
        assert len(labels) >= 2, "at least two exercises"
        for label in labels:
            solution = re.search(r"```\{solution(?:-start)?\} " + re.escape(label) +
                                 r"\n:class: dropdown", md)
            assert solution, f"exercise {label} needs a solution with :class: dropdown"
        assert md.count("{solution-start}") == md.count("{solution-end}")

    def test_references_with_bibliography(self, path):
        """Citations carry the chapter's key prefix (its slug), so that two chapters can cite
        the same paper, each in its own bibliography, without duplicate-label warnings."""
        prefix = path.stem + "-"
        md = "\n".join(text(c) for c in self._section(path, "## References"))
        assert "{bibliography}" in md and ":filter: docname in docnames" in md
        assert f":keyprefix: {prefix}\n" in md
        bib = (ROOT / "references.bib").read_text()
        every = "\n".join(text(c) for c in cells(path))
        keys = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", every)
                for k in group.split(",")}
        assert keys, "cite the original papers"
        for key in keys:
            assert key.startswith(prefix), f"citation {key} lacks the prefix {prefix}"
            assert "{" + key.removeprefix(prefix) + "," in bib, f"{key} is not in references.bib"

    def test_links_to_other_chapters_resolve(self, path):
        every = "\n".join(text(c) for c in cells(path) if c["cell_type"] == "markdown")
        for target in re.findall(r"\]\(([\w./-]+\.ipynb)\)", every):
            assert (path.parent / target).resolve().exists(), f"broken link {target}"


def test_glossary_index_lists_all_57_terms_in_order():
    intro = (ROOT / "book" / "intro.md").read_text()
    entries = re.findall(r"^- (?:\[\*\*(.+?)\*\*\]\((.+?)\)|\*\*(.+?)\*\* \*\(to come in (.+?)\)"
                         r"\*): (.+)$", intro, re.M)
    assert len(entries) == 57
    names = [e[0] or e[2] for e in entries]
    assert names == sorted(names, key=str.lower)
    linked = {str((ROOT / "book" / e[1]).relative_to(ROOT).with_suffix("")) for e in entries
              if e[1]}
    assert linked == set(toc_files()), "link exactly the chapters that exist"
    for e in entries:
        assert len(e[4].split()) >= 8, f"say something about {e[0] or e[2]}"
