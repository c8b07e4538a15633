"""Two fixes to the built pages that a browser's console reports as errors.

- sphinx-thebe and sphinx-togglebutton add their inline configuration scripts twice under
  Jupyter Book (as distinct objects, which Sphinx's own check for duplicates lets through), so
  every page declared ``const THEBE_JS_URL`` twice: an uncaught SyntaxError. Each page keeps
  one copy of each script.
- pydata-sphinx-theme, given no ``default_mode``, logs "Got invalid theme mode" on a reader's
  first visit: the book starts in light mode (the switch in the header still works).
"""


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
    app.connect("html-page-context", _one_of_each_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
