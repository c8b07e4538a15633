"""The notebook helpers: explore() redraws on a change, source() shows the package's code."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from deepglossary import nn, show  # noqa: E402
from deepglossary.widgets import explore  # noqa: E402


def test_explore_draws_defaults_then_redraws_on_change():
    calls = []

    def draw(rate=0.3, kind="tanh", depth=2):
        calls.append((rate, kind, depth))
        fig, ax = plt.subplots()
        return fig

    exploration = explore(draw, rate=(0.0, 1.0, 0.1), kind=["sigmoid", "tanh"], depth=(1, 5))
    assert calls == [(0.3, "tanh", 2)]
    exploration.controls["depth"].value = 4
    assert exploration.panel.children[2] is exploration.controls["depth"]
    assert calls[-1] == (0.3, "tanh", 4)
    with pytest.raises(TypeError, match="cannot make a control"):
        explore(draw, rate=object())


def test_source_shows_the_real_code():
    code = show.source(nn.Affine, lines="def forward..def extra_repr")
    assert code.data.startswith("def forward") and "accumulate" in code.data
    assert "def extra_repr" not in code.data


def test_explore_precomputes_frames_when_the_book_is_built(monkeypatch):
    """With DG_BOOK_FRAMES set, explore draws every combination of a small grid of values
    (within the budget, the defaults included) and emits HTML controls that switch frames."""
    import IPython.display

    from deepglossary import frames

    shown, calls = [], []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.extend(a))
    monkeypatch.setenv(frames.ENV, "12")

    def draw(rate=0.3, kind="tanh", deep=False):
        calls.append((rate, kind, deep))
        print("drawn", rate, kind, deep)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, rate])
        return fig

    exploration = explore(draw, rate=(0.0, 1.0, 0.1), kind=["sigmoid", "tanh", "relu"],
                          deep=False)
    assert calls[0] == (0.3, "tanh", False)                    # the default first
    assert len(calls) == len(set(calls)) <= 12
    assert {c[1] for c in calls} == {"sigmoid", "tanh", "relu"}
    assert {c[2] for c in calls} == {False, True}
    page = shown[-1].data
    assert page.count("data:image/png;base64,") == len(calls) + 1    # frames + the first <img>
    assert '<select data-axis="1">' in page and 'type="checkbox"' in page
    assert 'type="range"' in page and "0.3" in page
    assert exploration.panel is None and set(exploration.controls) == {"rate", "kind", "deep"}


def test_the_grid_keeps_the_default_and_the_budget():
    from deepglossary import frames

    axes = [dict(name="a", kind="range", values=list(range(9)), labels=list("012345678"),
                 default=7),
            dict(name="b", kind="select", values=list("xyzw"), labels=list("xyzw"), default=0)]
    for limit in (1, 2, 5, 12, 36):
        reduced = frames.reduce_grid(axes, limit)
        sizes = [len(a["values"]) for a in reduced]
        assert sizes[0] * sizes[1] <= limit
        assert reduced[0]["values"][reduced[0]["default"]] == 7
        assert reduced[1]["values"][reduced[1]["default"]] == "x"
