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
