"""make check-html on a small site: it passes a page whose formulas MathJax typesets offline,
and finds raw TeX once MathJax is removed, a broken link, a missing anchor, an image that does
not load, and a precomputed widget whose controls do nothing."""

import importlib.util
import pathlib
import shutil
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_html  # noqa: E402

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {{"options": {{"processHtmlClass": "math"}}}}</script>
<script defer src="_static/mathjax/tex-chtml.js"></script></head>
<body><main><h1 id="top">A page</h1>
<p>Inline <span class="math notranslate nohighlight">\\(x^2 + y\\)</span> and display:</p>
<div class="math notranslate nohighlight">\\[\\sum_i w_i x_i\\]</div>
<p><a href="other.html#there">a link</a> and <a href="#top">back up</a>.</p>
{extra}
</main></body></html>"""


def mathjax_dir():
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None:
        pytest.skip("sphinx-mathjax-offline is not installed")
    return pathlib.Path(spec.origin).parent / "static" / "mathjax"


@pytest.fixture
def site(tmp_path):
    (tmp_path / "_static").mkdir()
    shutil.copytree(mathjax_dir(), tmp_path / "_static" / "mathjax")
    (tmp_path / "index.html").write_text(PAGE.format(extra=""))
    (tmp_path / "other.html").write_text('<html><body><main><p id="there">here</p></main>'
                                         '</body></html>')
    return tmp_path


def needs_browser():
    pytest.importorskip("playwright")
    executable = check_html.browser()
    if executable is None:
        pytest.skip("no Chromium here (apt-get install chromium): check-html skips it too")
    return executable


def test_links_and_anchors_are_checked(site):
    assert check_html.check_links(site) == ([], 2)
    (site / "index.html").write_text(PAGE.format(extra='<a href="gone.html">x</a> '
                                                      '<a href="other.html#nowhere">y</a>'))
    check_html._parse.cache_clear()
    problems, checked = check_html.check_links(site)
    assert checked == 4
    assert any("broken link gone.html" in p for p in problems)
    assert any("no anchor #nowhere" in p for p in problems)


def test_a_good_page_passes_offline_and_raw_tex_is_found_without_mathjax(site):
    executable = needs_browser()
    problems, counts = check_html.check_pages(site, ["index.html"], executable)
    assert problems == [] and counts["math"] == 2            # both formulas typeset, offline
    shutil.rmtree(site / "_static" / "mathjax")                  # MathJax gone
    problems, counts = check_html.check_pages(site, ["index.html"], executable)
    assert counts["math"] == 0
    assert any("raw TeX left" in p and "x^2 + y" in p for p in problems)
    assert any("HTTP 404" in p and "tex-chtml.js" in p for p in problems)


def test_a_missing_image_and_a_dead_widget_are_found(site):
    executable = needs_browser()
    dead = ('<div class="dg-frames"><select data-axis="0"><option value="0">a</option>'
            '<option value="1">b</option></select><img class="dg-frame" src="data:image/png;'
            'base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AA'
            'AAASUVORK5CYII="></div>')
    (site / "index.html").write_text(PAGE.format(extra='<img src="missing.png">' + dead))
    problems, counts = check_html.check_pages(site, ["index.html"], executable)
    assert any("image not loaded: missing.png" in p for p in problems)
    assert any("does not change the figure" in p for p in problems)


def test_a_precomputed_widget_moves(site, monkeypatch):
    executable = needs_browser()
    import matplotlib

    matplotlib.use("Agg")
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from deepglossary import frames

    def draw(k=1):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, k])
        return fig

    page, n = frames.render(draw, {"k": w.IntSlider(min=1, max=3, value=1)}, 12)
    assert n == 3
    (site / "index.html").write_text(PAGE.format(extra=page))
    problems, counts = check_html.check_pages(site, ["index.html"], executable)
    assert problems == [] and counts["widgets"] == 1


def test_launch_buttons_open_the_chapters_own_notebook(tmp_path):
    repo, branch = check_html.repository()
    page = tmp_path / "book" / "blocks" / "relu.html"
    page.parent.mkdir(parents=True)
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/book/blocks/relu.ipynb"
    binder = (f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/"
              "book/blocks/relu.ipynb")
    page.write_text(f'<a href="{colab}">Colab</a><a href="{binder}">Binder</a>')
    check_html._parse.cache_clear()
    assert check_html.check_launch_buttons(tmp_path) == ([], 2)
    page.write_text(f'<a href="{colab.replace("relu", "softmax")}">Colab</a>')
    check_html._parse.cache_clear()
    problems, _ = check_html.check_launch_buttons(tmp_path)
    assert any("Colab opens" in p for p in problems) and any("no Binder" in p for p in problems)
