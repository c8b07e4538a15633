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
