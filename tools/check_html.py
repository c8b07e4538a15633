"""Check the built book as a reader's browser sees it: ``make check-html``.

    python tools/check_html.py [_build/html] [--screenshots _build/screenshots] [--pages N]

Serves the built HTML on localhost and opens every page in headless Chromium (the system's
``chromium``, driven by Playwright), **with every request off localhost refused**: the page must
work with no network. On each page it asserts:

- no raw TeX is left: every math element was typeset by MathJax (no ``\\(``, ``\\[`` or ``$$``
  in the page's text);
- every image loaded (a decoded picture of non-zero width);
- no JavaScript error: no uncaught exception, no ``console.error``, no failed request;
- every exercise's solution is folded, and a click on it unfolds it;
- every precomputed figure of a widget changes when a control is moved.

And, without the browser, over every page: every internal link points to a page that exists,
and every ``#anchor`` to an id on it; every chapter's Colab and Binder buttons open that
chapter's notebook in the repository and branch of ``_config.yml``. Screenshots of a few
pages go to ``--screenshots`` for a person to look at. Exits 1 and lists the problems if
there are any; without Chromium it says so and exits 0 (skipped), unless
``--require-browser``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html.parser
import http.server
import pathlib
import re
import shutil
import sys
import threading
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[1]
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
SCREENSHOTS = ("intro.html", "book/instructors.html", "book/blocks/relu.html",
               "book/sequences/attention-mechanism.html", "book/training/dropout.html")
# what a page's text must not contain once MathJax has run (outside code)
RAW_TEX_JS = r"""() => {
  const bad = [];
  document.querySelectorAll('.math').forEach(el => {
    if (!el.querySelector('mjx-container')) bad.push(el.textContent.slice(0, 60));
  });
  const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                           NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (parent.closest('pre, code, script, style, .highlight, mjx-container, .output')) continue;
    const t = node.textContent;
    if (/\\\(|\\\[|\$\$/.test(t)) bad.push(t.trim().slice(0, 60));
  }
  return bad;
}"""
IMAGES_JS = r"""() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.getAttribute('src').slice(0, 80))"""


class _Anchors(html.parser.HTMLParser):
    """The ids of a page and its links (href of <a>), read without a browser."""

    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


@functools.cache
def _parse(path: pathlib.Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(errors="replace"))
    return parser


LAUNCH = {"Colab": re.compile(r"^https://colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/"
                              r"([^/]+)/(.+\.ipynb)$"),
          "Binder": re.compile(r"^https://mybinder\.org/v2/gh/([^/]+/[^/]+)/([^?]+)\?urlpath="
                               r"lab/tree/(.+\.ipynb)$")}


def repository() -> tuple[str, str]:
    """owner/name and branch of the repository, from _config.yml."""
    text = (ROOT / "_config.yml").read_text()
    url = re.search(r"^\s+url:\s*https://github\.com/(\S+?)/?$", text, re.M).group(1)
    branch = re.search(r"^\s+branch:\s*(\S+)", text, re.M).group(1)
    return url, branch


def check_launch_buttons(site: pathlib.Path) -> tuple[list[str], int]:
    """Every chapter page opens its own notebook on Colab and Binder: the repository and branch
    of _config.yml, and a path that exists in this repository."""
    repo, branch = repository()
    problems, checked = [], 0
    for page in sorted(site.glob("book/*/*.html")):
        where = page.relative_to(site)
        expected = str(where.with_suffix(".ipynb"))
        for name, pattern in LAUNCH.items():
            links = [m for m in map(pattern.match, _parse(page).links) if m]
            if not links:
                problems.append(f"{where}: no {name} launch button")
                continue
            checked += 1
            for m in links:
                if (m.group(1), m.group(2)) != (repo, branch) or m.group(3) != expected:
                    problems.append(f"{where}: {name} opens {m.group(0)}, expected {repo} "
                                    f"{branch} {expected}")
                elif not (ROOT / m.group(3)).exists():
                    problems.append(f"{where}: {name} opens {m.group(3)}, not in the repository")
    return problems, checked


def check_links(site: pathlib.Path) -> tuple[list[str], int]:
    """Broken internal links and anchors of every page, and the number of links checked."""
    problems, checked = [], 0
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        for href in _parse(page).links:
            url = urllib.parse.urlparse(href)
            if url.scheme or url.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            checked += 1
            target = page if not url.path else (page.parent / urllib.parse.unquote(url.path))
            if target.is_dir():
                target = target / "index.html"
            where = page.relative_to(site)
            if not target.exists():
                problems.append(f"{where}: broken link {href}")
            elif url.fragment and target.suffix == ".html" and \
                    urllib.parse.unquote(url.fragment) not in _parse(target.resolve()).ids:
                problems.append(f"{where}: no anchor #{url.fragment} in {url.path or where}")
    return problems, checked


@contextlib.contextmanager
def serve(site: pathlib.Path):
    """The site on an ephemeral localhost port, for as long as the block runs."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def browser() -> str | None:
    return next((b for b in BROWSERS if pathlib.Path(b).exists()), None) or \
        shutil.which("chromium")


def check_pages(site, pages, executable, screenshots=None) -> tuple[list[str], dict]:
    """Open each page in headless Chromium with the network cut off; the problems found and
    counts of what was checked."""
    from playwright.sync_api import sync_playwright

    problems, counts = [], dict(pages=0, math=0, images=0, solutions=0, widgets=0)
    with serve(site) as base, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        # no network: whatever a page asks of another host fails, as offline
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(base) else route.abort())
        for rel in pages:
            page, errors = context.new_page(), []
            page.on("pageerror", lambda e, errors=errors: errors.append(f"uncaught {e}"))
            page.on("console", lambda m, errors=errors: errors.append(f"console: {m.text}")
                    if m.type == "error" else None)
            page.on("requestfailed", lambda r, errors=errors: errors.append(
                f"request failed: {r.url[:100]}"))
            page.on("response", lambda r, errors=errors: errors.append(
                f"HTTP {r.status}: {r.url[:100]}") if r.status >= 400 else None)
            page.goto(base + rel, wait_until="load")
            page.wait_for_function("() => !window.MathJax || !MathJax.startup || "
                                   "MathJax.startup.promise", timeout=15000)
            page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.wait_for_timeout(200)
            for text in page.evaluate(RAW_TEX_JS):
                problems.append(f"{rel}: raw TeX left: {text!r}")
            for src in page.evaluate(IMAGES_JS):
                problems.append(f"{rel}: image not loaded: {src}")
            counts["math"] += page.locator("mjx-container").count()
            counts["images"] += page.evaluate("() => document.images.length")
            if screenshots is not None and rel in SCREENSHOTS:
                _screenshots(page, rel, screenshots)
            problems += [f"{rel}: {e}" for e in _solutions(page, counts)]
            problems += [f"{rel}: {e}" for e in _widgets(page, counts)]
            problems += [f"{rel}: {e}" for e in errors]
            counts["pages"] += 1
            page.close()
        chromium.close()
    return problems, counts


def _screenshots(page, rel, folder) -> None:
    """The top of the page, its first formulas and its first widget, as a reader sees them."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = rel.replace("/", "_").removesuffix(".html")
    page.screenshot(path=str(folder / f"{stem}.png"))
    for name, selector in (("math", "div.math"), ("widget", ".dg-frames")):
        found = page.locator(selector)
        if found.count():
            found.first.scroll_into_view_if_needed()
            page.screenshot(path=str(folder / f"{stem}-{name}.png"))
    page.evaluate("() => window.scrollTo(0, 0)")


def _solutions(page, counts) -> list[str]:
    """Every dropdown solution is folded, and unfolds on a click on its toggle button (the
    title's text also holds a link to the exercise, which a click would follow instead)."""
    out = []
    solutions = page.locator("div.solution.dropdown")
    for i in range(solutions.count()):
        sol = solutions.nth(i)
        body = sol.locator("#solution-content, section, .admonition-content").first
        if "toggle-hidden" not in (sol.get_attribute("class") or "") or \
                (body.count() and body.is_visible()):
            out.append(f"solution {i + 1} is not folded")
            continue
        button = sol.locator("button.toggle-button").first
        if not button.count():
            out.append(f"solution {i + 1} has no toggle button")
            continue
        button.scroll_into_view_if_needed()
        button.click()
        page.wait_for_timeout(100)
        if "toggle-hidden" in (sol.get_attribute("class") or "") or \
                (body.count() and not body.is_visible()):
            out.append(f"solution {i + 1} does not unfold on a click")
        counts["solutions"] += 1
    return out


def _widgets(page, counts) -> list[str]:
    """Moving a control of a precomputed widget changes its figure."""
    out = []
    widgets = page.locator(".dg-frames")
    for i in range(widgets.count()):
        w = widgets.nth(i)
        img = w.locator("img.dg-frame")
        before = img.get_attribute("src")
        control = w.locator("select, input[type=range], input[type=checkbox]").first
        if not control.count():
            continue                              # every control fixed: one frame
        control.scroll_into_view_if_needed()
        control.evaluate("""el => {
            if (el.type === 'checkbox') el.checked = !el.checked;
            else if (el.tagName === 'SELECT')
                el.selectedIndex = el.selectedIndex === 0 ? el.options.length - 1 : 0;
            else el.value = +el.value === +el.max ? el.min : el.max;
            el.dispatchEvent(new Event('input'));
        }""")
        if img.get_attribute("src") == before:
            out.append(f"widget {i + 1}: moving a control does not change the figure")
        counts["widgets"] += 1
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshots", type=pathlib.Path,
                        default=ROOT / "_build" / "screenshots")
    parser.add_argument("--pages", type=int, default=0, help="only the first N pages (0: all)")
    parser.add_argument("--require-browser", action="store_true",
                        help="fail (instead of skipping) when no Chromium is installed")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if not (site / "index.html").exists():
        print(f"check-html: no built book at {site}: run `make book` first")
        return 1
    problems, links = check_links(site)
    launch_problems, launches = check_launch_buttons(site)
    problems += launch_problems
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                   if not {"_static", "_sources", "_images"} & set(p.parts)
                   and p.name not in ("genindex.html", "search.html"))
    if args.pages:
        pages = pages[:args.pages]
    executable = browser()
    if executable is None:
        print("check-html: links checked; no Chromium found (apt-get install chromium), so "
              "the pages were not opened in a browser")
        counts = None
        if args.require_browser:
            problems.append("no browser")
    else:
        found, counts = check_pages(site, pages, executable, args.screenshots)
        problems += found
    for problem in problems:
        print("PROBLEM", problem)
    summary = f"check-html: {links} internal links, {launches} launch buttons"
    if counts:
        summary += (f"; {counts['pages']} pages in Chromium with no network: {counts['math']} "
                    f"formulas typeset, {counts['images']} images, {counts['solutions']} "
                    f"solutions unfolded, {counts['widgets']} widgets moved")
    print(summary + (f"; {len(problems)} problems" if problems else "; no problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
