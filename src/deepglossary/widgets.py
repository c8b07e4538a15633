"""Interactive figures for the chapters.

``explore(draw, rate=(0.0, 1.0, 0.1), ...)`` shows one control per keyword and the figure
``draw(**values)`` returns. In a live notebook (Jupyter, Colab) moving a control redraws it in
place. When the book is built (``DG_BOOK_FRAMES`` set, see ``deepglossary.frames``), the figure
is drawn in advance for a small grid of control values, and the page gets HTML controls that
switch between those pictures with no kernel.
"""

import inspect

from deepglossary import frames


def _control(name, spec, default):
    import ipywidgets as w

    style = {"description_width": "initial"}
    common = dict(description=name, style=style, continuous_update=False)
    if isinstance(spec, w.ValueWidget):
        return spec
    if isinstance(spec, bool):
        return w.Checkbox(value=spec if default is None else default, description=name)
    if isinstance(spec, list | tuple) and spec and all(isinstance(s, str) for s in spec):
        return w.Dropdown(options=list(spec), value=default if default in spec else spec[0],
                          description=name, style=style)
    if isinstance(spec, list) and spec:
        return w.SelectionSlider(options=spec, value=default if default in spec else spec[0],
                                 **common)
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        lo, hi = spec[:2]
        step = spec[2] if len(spec) == 3 else None
        value = default if default is not None else (lo + hi) / 2
        if all(isinstance(v, int) for v in spec):
            return w.IntSlider(min=lo, max=hi, step=step or 1, value=int(value), **common)
        return w.FloatSlider(min=lo, max=hi, step=step or (hi - lo) / 100, value=value,
                             **common)
    raise TypeError(f"explore: cannot make a control for {name}={spec!r}; give a (min, max"
                    ", step) tuple, a list of options, a bool or an ipywidgets widget")


def explore(draw, **controls):
    """Display controls for ``draw``'s keyword arguments and the figure it returns.

    ``draw(**values)`` must return a matplotlib Figure. Defaults come from ``draw``'s
    signature. Returns an :class:`Exploration` whose ``controls`` can be set from code
    (``exploration.controls["lr"].value = 0.1`` redraws); it displays as nothing more.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    signature = inspect.signature(draw)
    widgets = {}
    for name, spec in controls.items():
        default = signature.parameters[name].default if name in signature.parameters else None
        default = None if default is inspect.Parameter.empty else default
        widgets[name] = _control(name, spec, default)

    def render():
        fig = draw(**{name: c.value for name, c in widgets.items()})
        plt.close(fig)
        return fig

    limit = frames.budget()
    if limit is not None:        # building the book: precomputed frames, no kernel needed
        page, _ = frames.render(draw, widgets, limit)
        display(HTML(page))
        return Exploration(widgets, None)

    panel = w.HBox(list(widgets.values()), layout=w.Layout(flex_flow="row wrap"))
    display(panel)
    display(HTML(f"<small>Controls ({', '.join(widgets)}) respond when the notebook runs in "
                 "Jupyter or Colab (launch buttons at the top of the page); below, the figure "
                 "for their default values.</small>"))
    handle = display(render(), display_id=True)

    def redraw(_change):
        fig = render()
        if handle is None:   # outside IPython display() returns no handle: show it anew
            display(fig)
        else:
            handle.update(fig)

    for c in widgets.values():
        c.observe(redraw, names="value")
    return Exploration(widgets, panel)


class Exploration:
    """What :func:`explore` made: ``controls`` (name -> widget) and their ``panel``."""

    def __init__(self, controls, panel):
        self.controls, self.panel = controls, panel

    def _ipython_display_(self):
        """Already on screen: showing it as a cell's result adds nothing."""
