"""Links between the glossary's terms, made when the book is built.

- In every chapter, the first mention of another glossary term in each section links to that
  term's chapter (the names come from the glossary index, ``book/intro.md``; a name with an
  abbreviation, "Backpropagation Through Time (BPTT)", is found under either). Mentions in
  headings, code, formulas, outputs and existing links are left alone.
- In the glossary index, each term gets the chapters it needs (its "You need" line) and the
  chapters that need it.
"""

from __future__ import annotations

import pathlib
import re

from docutils import nodes

ENTRY = re.compile(r"^- \[\*\*(.+?)\*\*\]\((.+?)\.ipynb\)", re.M)
SKIP = (nodes.reference, nodes.literal, nodes.literal_block, nodes.math, nodes.math_block,
        nodes.title, nodes.raw, nodes.rubric, nodes.caption, nodes.target, nodes.comment,
        nodes.substitution_definition, nodes.field_name)


def glossary(intro_text: str) -> dict[str, str]:
    """Each name a term is known by -> its chapter's docname (``book/<part>/<slug>``)."""
    names = {}
    for name, path in ENTRY.findall(intro_text):
        doc = "book/" + path
        m = re.fullmatch(r"(.+?) \(([^()]+)\)", name)
        for n in ([m.group(1), m.group(2)] if m else [name]):
            names[n] = doc
    return names


def pattern(names) -> tuple[re.Pattern, list[str]]:
    """One regular expression for every name, longest first, and the names in its groups'
    order. A name with a capital inside a word (ReLU, GloVe, LSTM) or a digit (word2vec) must
    match exactly; in other names each word may start with either case ("batch
    normalization"). A plural -s or -es matches too."""
    parts = []
    for name in sorted(names, key=len, reverse=True):
        words = re.split(r"[ -]", name)
        if any(c.isupper() for w in words for c in w[1:]) or any(c.isdigit() for c in name):
            body = re.escape(name)                          # ReLU, GloVe, LSTM, word2vec
        else:                                               # Batch Normalization, pooling
            body = "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() and
                           (i == 0 or name[i - 1] in " -") else re.escape(c)
                           for i, c in enumerate(name))
        parts.append(f"(?P<t{len(parts)}>{body}(?:s|es)?)")
    keys = sorted(names, key=len, reverse=True)             # group t{i} is keys[i]
    return re.compile(r"(?<![\w\-/.])(?:" + "|".join(parts) + r")(?![\w\-])"), keys


def mentions(text: str, compiled):
    """(start, end, name) of each mention in ``text``; ``compiled`` is what pattern returns."""
    regex, keys = compiled
    for m in regex.finditer(text):
        yield m.start(), m.end(), keys[int(m.lastgroup[1:])]


def _skipped(node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP):
            return True
        classes = parent.get("classes", []) if isinstance(parent, nodes.Element) else []
        if any(c in ("cell_output", "output", "cell_input", "highlight") for c in classes):
            return True
        parent = parent.parent
    return False


def _section(node):
    while node is not None and not isinstance(node, nodes.section):
        node = node.parent
    return node


def link_terms(app, doctree, docname):
    if docname.count("/") != 2 or not docname.startswith("book/"):
        return                                        # chapters only
    names, compiled = app.dg_terms
    builder = app.builder
    own = {n for n, d in names.items() if d == docname}
    done: dict[int, set] = {}
    for text in list(doctree.findall(nodes.Text)):
        if _skipped(text):
            continue
        linked = done.setdefault(id(_section(text)), set())
        value, pieces, last = str(text), [], 0
        for start, end, name in mentions(value, compiled):
            target = names[name]
            if name in own or target in linked or target == docname:
                continue
            linked.add(target)
            pieces.append(nodes.Text(value[last:start]))
            pieces.append(nodes.reference(
                "", value[start:end], refuri=builder.get_relative_uri(docname, target),
                reftitle=name, classes=["dg-term"], internal=True))
            last = end
        if pieces:
            pieces.append(nodes.Text(value[last:]))
            text.parent.replace(text, pieces)


def annotate_index(app, doctree, docname):
    """In the glossary index: each term's prerequisites and the chapters that build on it."""
    if docname != "book/intro":
        return
    from deepglossary import syllabus

    book = pathlib.Path(app.srcdir) / "book"
    titles = syllabus.chapters(book)
    graph = {c: [n for n in needs if n in titles]           # a partial book: what exists
             for c, needs in syllabus.dependencies(book).items()}
    needed_by = {c: sorted((d for d, needs in graph.items() if c in needs),
                           key=list(titles).index) for c in graph}
    uri = {("book/" + c): c for c in graph}
    for item in doctree.findall(nodes.list_item):
        ref = next(item.findall(nodes.reference), None)
        if ref is None:
            continue
        target = ref.get("refuri", "").split("#")[0].removesuffix(".html")
        chapter = next((c for d, c in uri.items()
                        if app.builder.get_relative_uri(docname, d).split("#")[0]
                        .removesuffix(".html") == target), None)
        if chapter is None:
            continue
        para = item.children[0] if item.children else None
        if not isinstance(para, nodes.paragraph):
            continue
        for label, chapters in (("Needs", graph[chapter]), ("Needed by", needed_by[chapter])):
            if not chapters:
                continue
            para += nodes.Text(" ")
            para += nodes.emphasis("", f"{label}: ")
            for k, c in enumerate(chapters):
                para += nodes.reference("", titles[c], internal=True, classes=["dg-term"],
                                        refuri=app.builder.get_relative_uri(docname,
                                                                            "book/" + c))
                para += nodes.Text(", " if k < len(chapters) - 1 else ".")


def _load(app):
    intro = pathlib.Path(app.srcdir) / "book" / "intro.md"
    names = glossary(intro.read_text()) if intro.exists() else {}
    app.dg_terms = (names, pattern(names) if names else (re.compile(r"(?!x)x"), []))


def setup(app):
    app.connect("builder-inited", _load)
    app.connect("doctree-resolved", link_terms)
    app.connect("doctree-resolved", annotate_index)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
