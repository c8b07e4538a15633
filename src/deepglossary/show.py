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
        begin = text.find(start)
        end = text.find(stop, begin + 1) if stop else len(text)
        for marker, at in ((start, begin), (stop, end)):
            if at < 0:
                raise ValueError(f"source: {marker!r} is not in the source of "
                                 f"{getattr(obj, '__qualname__', obj)} (after {start!r})"
                                 if marker == stop else
                                 f"source: {marker!r} is not in the source of "
                                 f"{getattr(obj, '__qualname__', obj)}")
        text = text[begin:end].rstrip() + "\n"
        text = inspect.cleandoc("\n" + text) if text.startswith(" ") else text
    return Code(text, language="python")


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` for a number the prose quotes, as a plain Python number.

    NumPy 2 scalars print as ``np.float64(3.2)``, which ``{glue:text}`name:.1f``` cannot
    format (the book build then warns, and warnings fail it): convert them first. Returns the
    value, so that a cell can glue and assert in one line. Where myst-nb is not installed (on
    Colab: it belongs to the book's build) it only shows the value when ``display`` asks to.
    """
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:              # Colab and plain Jupyter: no book to glue into
        if display:
            from IPython.display import display as show

            show(value)
        return value
    myst_glue(name, value, display=display)
    return value
