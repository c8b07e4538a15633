"""Widgets that move in the static book: ``explore`` with its figures rendered in advance.

When the book is built (``make book`` sets ``DG_BOOK_FRAMES``), :func:`deepglossary.widgets.explore`
does not show ipywidgets, which need a running kernel. It draws the figure for every
combination of a small grid of control values (``DG_BOOK_FRAMES`` frames at most, 24 by
default) and emits HTML with the same controls: HTML ``<select>``, range and checkbox inputs
whose few lines of JavaScript swap in the precomputed picture. A reader of the published page
moves a slider and sees the figure change, with no kernel. In Jupyter and Colab the live
ipywidgets version runs as before.

Grid: a slider gets evenly spaced values from its minimum to its maximum, its default among them;
a list of options keeps its options; a checkbox both values. While the product exceeds the
budget, the control with most values loses one (the default always stays).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import itertools
import json
import os
import time
import uuid

import numpy as np

ENV = "DG_BOOK_FRAMES"
DEFAULT_BUDGET = 24
SLIDER_POINTS = 5


def budget() -> int | None:
    """The frame budget when the book is being built, else None (live widgets)."""
    value = os.environ.get(ENV, "")
    if not value or value == "0":
        return None
    return DEFAULT_BUDGET if value.lower() in ("1", "true", "yes") else max(1, int(value))


def axis(name, widget) -> dict:
    """A control's candidate values: ``values``, their ``labels``, the ``default`` index and
    the ``kind`` of HTML input ("select", "range" or "checkbox")."""
    import ipywidgets as w

    if isinstance(widget, w.Checkbox):
        return dict(name=name, kind="checkbox", values=[False, True], labels=["off", "on"],
                    default=int(bool(widget.value)))
    if isinstance(widget, w.Dropdown | w.SelectionSlider | w.ToggleButtons | w.RadioButtons):
        values, labels = list(widget._options_values), list(widget._options_labels)
        return dict(name=name, kind="select" if isinstance(widget, w.Dropdown) else "range",
                    values=values, labels=[str(s) for s in labels],
                    default=values.index(widget.value))
    if isinstance(widget, w.IntSlider | w.FloatSlider):
        lo, hi, value = widget.min, widget.max, widget.value
        grid = np.linspace(lo, hi, SLIDER_POINTS)
        if isinstance(widget, w.IntSlider):
            grid = np.unique(np.round(grid).astype(int))
        values = sorted({*(v.item() for v in grid), value})
        return dict(name=name, kind="range", values=values,
                    labels=[f"{v:.4g}" if isinstance(v, float) else str(v) for v in values],
                    default=values.index(value))
    raise TypeError(f"frames: no precomputed frames for the control {name} "
                    f"({type(widget).__name__})")


def _subset(n: int, keep: int, default: int) -> list[int]:
    """``keep`` indices of ``range(n)`` spread evenly, ``default`` among them."""
    if keep >= n:
        return list(range(n))
    picks = {int(round(i)) for i in np.linspace(0, n - 1, keep)} | {default}
    while len(picks) > keep:             # the default displaced one: drop its nearest other
        others = sorted((abs(p - default), p) for p in picks if p != default)
        picks.discard(others[0][1])
    return sorted(picks)


def reduce_grid(axes: list[dict], limit: int) -> list[dict]:
    """Each axis restricted so that the product of their sizes is at most ``limit``."""
    keep = [len(a["values"]) for a in axes]
    while int(np.prod(keep)) > limit and max(keep) > 1:
        keep[int(np.argmax(keep))] -= 1
    out = []
    for a, k in zip(axes, keep):
        idx = _subset(len(a["values"]), k, a["default"])
        out.append(dict(a, values=[a["values"][i] for i in idx],
                        labels=[a["labels"][i] for i in idx], default=idx.index(a["default"])))
    return out


def _png(fig, dpi: int = 80) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def render(draw, widgets: dict, limit: int) -> tuple[str, int]:
    """The HTML of the precomputed explorer and the number of frames drawn. The default
    frame is drawn first, with its printed output shown; the others are drawn silently."""
    started = time.perf_counter()
    axes = reduce_grid([axis(name, w) for name, w in widgets.items()], limit)
    defaults = tuple(a["default"] for a in axes)
    order = [defaults] + [k for k in itertools.product(*(range(len(a["values"])) for a in axes))
                          if k != defaults]
    frames = {}
    for n, key in enumerate(order):
        values = {a["name"]: a["values"][i] for a, i in zip(axes, key)}
        with contextlib.redirect_stdout(io.StringIO()) if n else contextlib.nullcontext():
            frames[",".join(map(str, key))] = _png(draw(**values))
    uid = "dg-" + uuid.uuid4().hex[:10]
    controls = []
    for k, a in enumerate(axes):
        name = html.escape(a["name"])
        if len(a["values"]) == 1:
            controls.append(f'<span class="dg-fixed">{name}: {html.escape(a["labels"][0])}'
                            f'</span><input type="hidden" data-axis="{k}" value="0">')
        elif a["kind"] == "checkbox":
            checked = " checked" if a["default"] else ""
            controls.append(f'<label>{name} <input type="checkbox" data-axis="{k}"{checked}>'
                            f'</label>')
        elif a["kind"] == "select":
            options = "".join(f'<option value="{i}"{" selected" if i == a["default"] else ""}>'
                              f'{html.escape(label)}</option>'
                              for i, label in enumerate(a["labels"]))
            controls.append(f'<label>{name} <select data-axis="{k}">{options}</select></label>')
        else:
            controls.append(f'<label>{name} <input type="range" data-axis="{k}" min="0" '
                            f'max="{len(a["values"]) - 1}" step="1" value="{a["default"]}">'
                            f' <output>{html.escape(a["labels"][a["default"]])}</output></label>')
    labels = json.dumps([a["labels"] for a in axes])
    first = frames[",".join(map(str, defaults))]
    page = f"""<div class="dg-frames" id="{uid}">
<div class="dg-controls" style="display:flex;flex-wrap:wrap;gap:1.2em;font-size:0.9em">
{"".join(controls)}</div>
<img class="dg-frame" alt="the figure for the chosen values" src="{first}">
<div><small>A precomputed figure for each of the {len(frames)} combinations of the values above;
run the notebook (launch buttons at the top) for the full range.</small></div>
<script>
(function () {{
  var root = document.getElementById("{uid}"), frames = {json.dumps(frames)}, labels = {labels};
  var inputs = root.querySelectorAll("[data-axis]"), img = root.querySelector("img.dg-frame");
  function index(el) {{ return el.type === "checkbox" ? (el.checked ? 1 : 0) : +el.value; }}
  function update() {{
    var key = [];
    inputs.forEach(function (el) {{
      var i = index(el), out = el.parentNode.querySelector("output");
      key[+el.dataset.axis] = i;
      if (out) out.textContent = labels[+el.dataset.axis][i];
    }});
    img.src = frames[key.join(",")];
  }}
  inputs.forEach(function (el) {{
    el.addEventListener("input", update);
    el.addEventListener("change", update);
  }});
}})();
</script></div>"""
    log = os.environ.get("DG_FRAMES_LOG")
    if log:                      # the build's cost of the frames, for its report
        with open(log, "a") as f:
            f.write(f"{os.getcwd()}\t{len(frames)}\t{time.perf_counter() - started:.2f}\n")
    return page, len(frames)
