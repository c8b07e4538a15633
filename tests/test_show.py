"""show.source: a marker that is not in the source names itself, never a bare "not found"."""

import pytest

from deepglossary import nn
from deepglossary.show import source


def test_source_between_markers():
    text = source(nn.Affine, lines="    def backward..    def extra_repr").data
    assert text.startswith("def backward") and "extra_repr" not in text


@pytest.mark.parametrize("lines, missing", [("    def nothing_here", "def nothing_here"),
                                            ("    def backward..    def gone", "def gone")])
def test_missing_marker_is_named(lines, missing):
    with pytest.raises(ValueError, match=missing):
        source(nn.Affine, lines=lines)


def test_glue_without_myst_nb_returns_the_value(monkeypatch):
    """On Colab there is no myst-nb (it belongs to the book's build): glue still returns the
    value, so a chapter's cells run there."""
    import sys

    import numpy as np

    monkeypatch.setitem(sys.modules, "myst_nb", None)          # import myst_nb now fails
    from deepglossary.show import glue

    assert glue("x", np.float64(2.5)) == 2.5 and type(glue("x", np.float64(2.5))) is float
