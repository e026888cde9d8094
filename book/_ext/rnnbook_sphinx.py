"""Sphinx extension: six small fixes the rnnbook website needs.

1. Resolve ``rnncore.<name>`` cross-references to the defining module. The API pages
document each submodule (``rnncore.rnn_cell.rnn_cell_forward``), while chapters and
docstrings naturally write the re-exported name (``rnncore.rnn_cell_forward``) or, inside
one module, a bare name defined in another (``sample_text`` in ``rnncore.lm``). When
Python's domain cannot find such a target, look the name up in the package and retry with
the module that defines it. Anything rnncore does not export stays unresolved, so ``-n``
still reports references to functions that do not exist.

2. Drop duplicated inline scripts. sphinx-thebe and sphinx-togglebutton register their
inline configuration scripts twice under Sphinx 7.4; the second ``const THEBE_JS_URL``
is a JavaScript error on every page ("Identifier has already been declared").

3. ``@repository_url@`` and ``@repository_branch@`` in a page's source (code blocks
included) become ``repository.url`` and ``repository.branch`` of ``_config.yml``, so the
guides' ``git clone`` lines follow the one setting that also drives the launch buttons.

4. No Colab button on MyST Markdown chapters. Colab opens ``.ipynb`` files only; on a ``.md``
chapter its link would open an error page. Binder and JupyterHub open the ``.md`` file as
a notebook through jupytext, and the released exercises (``.ipynb``) keep all three buttons.

5. Refresh static files. Sphinx copies ``html_static_path``, the logo and the favicon only
when it writes at least one page, so after ``scripts/vendor_js.py`` or a CSS change alone
the site would keep the old copies. When one of them is newer than the last build, the root
page is marked outdated, so Sphinx writes it and copies the static files again.

6. plotly.js on the pages that need it. The interactive figures (``book/web_figures.py``)
are ``<div class="plotly-graph-div">`` elements drawn by an inline ``Plotly.newPlot``
call, so the page must have loaded plotly.js (``_static/plotly/plotly.min.js``, copied by
``scripts/vendor_js.py``) before it. The script goes into the head of only those pages
(1.2 MB that the other pages need not parse), before RequireJS: a UMD bundle loaded after
RequireJS registers itself as an anonymous AMD module instead of ``window.Plotly``, a known
trap of plotly.js 1.x-2.x (the 4.x bundle vendored here sets ``window.Plotly`` either way).
The same outputs also carry Plotly's JSON mimetype for JupyterLab; myst-nb has no renderer
for it and would warn on every figure ("skipping unknown output mime type"), which ``-W``
makes an error. That one warning, for that one mimetype, is dropped; any other unknown
mimetype still fails the build.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path


def _defining_target(target: str) -> str | None:
    try:
        package = importlib.import_module("rnncore")
    except Exception:  # an import error is reported by autodoc already
        return None
    name = target.removeprefix("rnncore.").removeprefix("~")
    if "." in name or name not in getattr(package, "__all__", ()):
        return None
    obj = getattr(package, name, None)
    module = getattr(obj, "__module__", None)
    if not module or not module.startswith("rnncore."):
        return None
    return f"{module}.{getattr(obj, '__qualname__', name)}"


def _resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = _defining_target(node.get("reftarget", ""))
    if target is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node.get("refdoc", ""), app.builder, node["reftype"], target, node, contnode
    )


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        # the same inline script comes once with filename None and once with ""
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _colab_only_for_ipynb(app, pagename, templatename, context, doctree):
    if str(app.env.doc2path(pagename, base=False)).endswith(".ipynb"):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [b for b in group["buttons"] if b.get("text") != "Colab"]


def _repository_placeholders(app, docname, source):
    options = app.config.html_theme_options or {}
    url = str(options.get("repository_url", "")).rstrip("/")
    branch = str(options.get("repository_branch", "") or "main")
    source[0] = source[0].replace("@repository_url@", url).replace("@repository_branch@", branch)


PLOTLY_JS = "plotly/plotly.min.js"
PLOTLY_DIV = 'class="plotly-graph-div'
PLOTLY_MIME = "application/vnd.plotly.v1+json"


class _PlotlyMimeIsForJupyterLab(logging.Filter):
    def filter(self, record):
        return not (
            getattr(record, "type", None) == "mystnb"
            and getattr(record, "subtype", None) == "unknown_mime_type"
            # myst-nb appends "[mystnb.unknown_mime_type]" to the message
            and f"mime type: {PLOTLY_MIME} [" in record.getMessage()
        )


def _drop_plotly_mime_warning():
    # ahead of Sphinx's own filters, which turn a warning into an error under -W
    for handler in logging.getLogger("sphinx").handlers:
        if not any(isinstance(f, _PlotlyMimeIsForJupyterLab) for f in handler.filters):
            handler.filters.insert(0, _PlotlyMimeIsForJupyterLab())


def _plotly_where_needed(app, pagename, templatename, context, doctree):
    if PLOTLY_DIV in str(context.get("body", "")):
        # RequireJS and the widget manager come at the default priority, 500
        app.add_js_file(PLOTLY_JS, priority=400)


def _static_changed(app, env, added, changed, removed):
    stamp = Path(app.outdir) / ".buildinfo"
    if not stamp.exists():
        return []
    confdir = Path(app.confdir)
    sources = [confdir / p for p in app.config.html_static_path]
    sources += [confdir / p for p in (app.config.html_logo, app.config.html_favicon) if p]
    newest = max(
        (
            f.stat().st_mtime
            for source in sources
            for f in ([source] if source.is_file() else source.rglob("*"))
            if f.is_file()
        ),
        default=0.0,
    )
    return [app.config.root_doc] if newest > stamp.stat().st_mtime else []


def setup(app):
    _drop_plotly_mime_warning()
    app.connect("missing-reference", _resolve)
    app.connect("source-read", _repository_placeholders)
    app.connect("env-get-outdated", _static_changed)
    app.connect("html-page-context", _plotly_where_needed)
    app.connect("html-page-context", _dedupe_scripts)
    # after sphinx-book-theme has added its launch buttons (priority 501)
    app.connect("html-page-context", _colab_only_for_ipynb, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
