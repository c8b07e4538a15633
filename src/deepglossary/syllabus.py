"""The chapters' dependency graph, read from their "You need" lines, and syllabus checks.

    graph = dependencies("book")            # {"sequences/lstm": ["sequences/recurrent-...", ...]}
    check_syllabus(weeks, graph)            # raises unless every prerequisite comes first
    draw(graph, order)                      # the graph as a matplotlib figure, one column a part
"""

from __future__ import annotations

import json
import pathlib
import re

YOU_NEED = re.compile(r"^\*\*You need:\*\*.*$", re.M)
LINK = re.compile(r"\]\(([\w./-]+)\.ipynb(?:#[\w-]*)?\)")


def _title(nb) -> str:
    for cell in nb["cells"]:
        m = re.search(r"^# (.+)$", "".join(cell["source"]), re.M)
        if cell["cell_type"] == "markdown" and m:
            return m.group(1).strip()
    return "?"


def chapters(book) -> dict[str, str]:
    """Every chapter of the book (``part/slug``) with its title, in the toc's order (not the
    guide pages at the book's root)."""
    import yaml

    book = pathlib.Path(book)
    toc = yaml.safe_load((book.parent / "_toc.yml").read_text())
    out = {}
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        for ch in part["chapters"]:
            path = book.parent / (ch["file"] + ".ipynb")
            if path.exists() and ch["file"].count("/") == 2:     # book/<part>/<slug>: a chapter
                out[str(path.relative_to(book).with_suffix(""))] = _title(
                    json.loads(path.read_text()))
    return out


def dependencies(book) -> dict[str, list[str]]:
    """For each chapter, the chapters its "You need" line links (before its Intuition)."""
    book = pathlib.Path(book)
    graph = {}
    for chapter in chapters(book):
        path = book / (chapter + ".ipynb")
        opening = []
        for cell in json.loads(path.read_text())["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and "## Intuition" in text:
                break
            if cell["cell_type"] == "markdown":
                opening.append(text)
        line = YOU_NEED.search("\n".join(opening))
        links = LINK.findall(line.group(0)) if line else []
        graph[chapter] = sorted({str((path.parent / link).resolve().relative_to(book.resolve()))
                                 for link in links})
    return graph


def prerequisites(graph, chapter: str) -> set[str]:
    """Every chapter ``chapter`` needs, directly or through another."""
    seen, todo = set(), list(graph[chapter])
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.add(c)
            todo += graph.get(c, [])
    return seen


def reduced(graph) -> dict[str, list[str]]:
    """The graph without the edges another path already implies (its transitive reduction):
    what a picture should show."""
    return {c: [n for n in needs
                if not any(n in prerequisites(graph, m) for m in needs if m != n)]
            for c, needs in graph.items()}


def check_syllabus(weeks: list[list[str]], graph, complete: bool = False) -> None:
    """Raise ValueError unless every chapter of ``weeks`` comes after (or in the same week as)
    each chapter it needs directly or through others, and, with ``complete``, unless every
    chapter of ``graph`` is taught exactly once."""
    taught: dict[str, int] = {}
    for week, chs in enumerate(weeks, 1):
        for c in chs:
            if c not in graph:
                raise ValueError(f"week {week}: {c!r} is not a chapter")
            if c in taught:
                raise ValueError(f"{c!r} is taught twice (weeks {taught[c]} and {week})")
            taught[c] = week
    for c, week in taught.items():
        for need in prerequisites(graph, c):
            if taught.get(need, 10 ** 9) > week:
                where = f"week {taught[need]}" if need in taught else "no week"
                raise ValueError(f"{c!r} (week {week}) needs {need!r}, taught in {where}")
    if complete and set(taught) != set(graph):
        raise ValueError(f"not taught: {sorted(set(graph) - set(taught))}")


def draw(graph, titles: dict[str, str], ax=None, highlight: str | None = None):
    """The graph with one column a part (in reading order) and an arrow from each chapter to
    every chapter that lists it under "You need", where no other path implies it. With
    ``highlight``, that chapter is orange, what it needs blue, and the rest grey."""
    import matplotlib.pyplot as plt

    parts = list(dict.fromkeys(c.split("/")[0] for c in titles))
    column = {p: i for i, p in enumerate(parts)}
    rows: dict[str, int] = {}
    pos = {}
    for c in titles:
        part = c.split("/")[0]
        rows[part] = rows.get(part, -1) + 1
        pos[c] = (column[part], -rows[part])
    if ax is None:
        _, ax = plt.subplots(figsize=(2.3 * len(parts), 0.42 * max(rows.values()) + 1.5))
    ax.set_xlim(-0.6, len(parts) - 0.4)
    ax.set_ylim(-max(rows.values()) - 0.7, 1.6)
    chain = prerequisites(graph, highlight) if highlight else set()

    def colour(c):
        if not highlight:
            return "white", "black"
        return (("#ffb366", "black") if c == highlight else ("#b3d4ff", "black") if c in chain
                else ("#f2f2f2", "0.55"))
    boxes = {c: ax.text(x, y, titles[c], ha="center", va="center", fontsize=7, zorder=3,
                        color=colour(c)[1],
                        bbox=dict(boxstyle="round,pad=0.25", fc=colour(c)[0], ec="0.6", lw=0.6))
             for c, (x, y) in pos.items()}
    renderer = ax.figure.canvas.get_renderer()
    half = {c: (t.get_window_extent(renderer).transformed(ax.transData.inverted()).width / 2
                + 0.03) for c, t in boxes.items()}
    for c, needs in reduced(graph).items():
        for n in needs:
            (x0, y0), (x1, y1) = pos[n], pos[c]
            same = x0 == x1
            lit = not highlight or (c in chain | {highlight} and n in chain)
            ax.annotate("", xy=(x1 - half[c], y1),
                        xytext=(x0 - half[n] if same else x0 + half[n], y0),
                        arrowprops=dict(arrowstyle="->", color="tab:blue" if lit else "0.8",
                                        alpha=0.55 if lit else 0.4, lw=0.8,
                                        shrinkA=0, shrinkB=0,
                                        connectionstyle="arc3,rad=0.5" if same else
                                        "arc3,rad=0.05"))
    for p, x in column.items():
        ax.text(x, 1.0, p, ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.axis("off")
    return ax
