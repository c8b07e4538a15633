"""Fixes to the built pages: two that a browser's console reports as errors, and one label style.

- sphinx-thebe and sphinx-togglebutton add their inline configuration scripts twice under
  Jupyter Book (as distinct objects, which Sphinx's own check for duplicates lets through), so
  every page declared ``const THEBE_JS_URL`` twice: an uncaught SyntaxError. Each page keeps
  one copy of each script.
- pydata-sphinx-theme, given no ``default_mode``, logs "Got invalid theme mode" on a reader's
  first visit: the book starts in light mode (the switch in the header still works).
- Bibliography labels ("Cho17") are unique across the whole book. Each chapter has its own
  bibliography, and sphinxcontrib-bibtex warns (warnings fail the build) when two chapters'
  different papers get the same alpha label, as Chollet's 2017 Xception paper and his 2017
  Keras 2 post did. The style ``dgalpha`` gives every set of entries of references.bib that
  share an alpha label the suffixes a, b, ... in the order of their keys, in every chapter.
"""

import pathlib

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels.alpha import LabelStyle as AlphaLabels

_SHARED: dict[str, list[str]] = {}        # alpha label -> the keys that share it, sorted


class GlobalAlphaLabels(AlphaLabels):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            label = self.format_label(entry)
            keys = _SHARED.get(label, [])
            yield label + chr(ord("a") + keys.index(entry.key)) if len(keys) > 1 else label


class GlobalAlphaStyle(AlphaStyle):
    default_label_style = "dgalpha"


def _shared_labels(app):
    from pybtex.database import parse_file

    _SHARED.clear()
    labels = GlobalAlphaLabels()
    for name in app.config.bibtex_bibfiles:
        for key, entry in parse_file(pathlib.Path(app.srcdir) / name).entries.items():
            _SHARED.setdefault(labels.format_label(entry), []).append(key)
    for keys in _SHARED.values():
        keys.sort()


def _one_of_each_script(app, pagename, templatename, context, doctree):
    """Each script once; light mode where no default mode is set."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app):
    register_plugin("pybtex.style.labels", "dgalpha", GlobalAlphaLabels, force=True)
    register_plugin("pybtex.style.formatting", "dgalpha", GlobalAlphaStyle, force=True)
    app.connect("builder-inited", _shared_labels)
    app.connect("html-page-context", _one_of_each_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
