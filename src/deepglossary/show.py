"""Showing the package's own code in a chapter, so the notebook never re-types it."""

import inspect


def source(obj, *, lines: str | None = None):
    """The source of a class, function or method, highlighted in a notebook.

    ``lines`` optionally keeps only the part between two markers, e.g.
    ``source(Affine, lines="def forward..def extra_repr")`` shows forward and backward.
    """
    from IPython.display import Code

    text = inspect.getsource(obj)
    if lines:
        start, _, stop = lines.partition("..")
        begin = text.index(start)
        end = text.index(stop, begin) if stop else len(text)
        text = text[begin:end].rstrip() + "\n"
        text = inspect.cleandoc("\n" + text) if text.startswith(" ") else text
    return Code(text, language="python")
