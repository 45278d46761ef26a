"""Sphinx extension: pages show each explorer's live page version, not saved ipywidgets state.

The explorers' outputs carry their page version as ``text/html`` (``course_pkg/live.py``), which
brings its own script. myst-nb would still embed the notebook's saved ipywidgets state (every
widget model, PNGs included) into each widget page; no script on the site reads it any more, so
it is dropped here before the page is written.
"""

from __future__ import annotations


def _drop_widget_state(app, pagename, templatename, context, doctree):
    page = getattr(app.env, "nb_metadata", {}).get(pagename, {})
    page.get("js_files", {}).pop("ipywidgets_state", None)


def setup(app):
    # myst-nb adds a page's JavaScript in its own html-page-context handler (priority 500).
    app.connect("html-page-context", _drop_widget_state, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
