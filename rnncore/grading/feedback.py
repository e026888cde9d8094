"""The feedback page a student receives renders its maths offline: MathJax travels inside it.

``nbgrader generate_feedback`` writes ``feedback/<student>/<assignment>/<notebook>.html``
with nbgrader's template ``feedback``, which calls nbconvert's ``mathjax()`` macro: a
``<script src>`` for MathJax 2.7.7 on cdnjs. Offline, the page shows raw TeX; online, every
student's browser fetches a CDN script. ``nbgrader_config.py`` puts the folder
``templates/`` beside this module first among the exporter's template folders:
``templates/feedback/`` holds only ``mathjax.html.j2``, so nbgrader's page is used as it is
and only the macro it calls is ours. Our macro inlines MathJax 3's single-file component
``tex-svg-full.js`` (TeX input, SVG output, the TeX extensions built in, no font files),
read from ``node_modules/mathjax/es5`` at feedback time: ``npm ci`` in the repository
installs it (pinned in ``package-lock.json``; ``make grade`` runs it). The page then works
opened from disk, from the hub's ``/files/`` route, or mailed.
The smaller ``tex-svg.js`` (2.1 MB against 2.3 MB) would fetch extensions such as
``boldsymbol`` (ex04 uses it) from beside itself when a formula needs them: there is no
"beside" for an inlined script.

The template folder keeps nbgrader's name, ``feedback``, because the formgrader's "generate
feedback" button sets ``HTMLExporter.template_name = "feedback"`` whatever the config says.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from pathlib import Path

__all__ = ["MATHJAX_DIR", "inline_mathjax", "template_basedirs"]

# rnncore is installed from the repository (`-e .` in requirements.txt): its parent is the
# repository, whose node_modules `npm ci` fills.
REPOSITORY = Path(__file__).resolve().parents[2]
MATHJAX_DIR = REPOSITORY / "node_modules" / "mathjax" / "es5"
TEMPLATES = Path(__file__).resolve().parent / "templates"

# Inside <script>...</script> the HTML parser ends the script at "</script" and treats
# "<!--" specially; both occur in MathJax only inside strings and regular expressions, where
# these escapes mean the same characters ("\x21" is "!", valid in a regex with or without /u).
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_COMMENT_OPEN = "<!--"


def template_basedirs() -> list[str]:
    """``HTMLExporter.extra_template_basedirs`` for feedback: ours first, then nbgrader's.

    Setting this option replaces nbgrader's own default (its formgrader's template folder),
    so that folder is listed again after ours.
    """
    nbgrader = Path(importlib.util.find_spec("nbgrader").origin).parent
    return [str(TEMPLATES), str(nbgrader / "server_extensions" / "formgrader" / "templates")]


def inline_mathjax(component: str, directory: str | os.PathLike | None = None) -> str:
    """The text of a MathJax 3 component, safe to put between ``<script>`` and ``</script>``.

    A Jinja filter (``c.HTMLExporter.filters``): ``{{ "tex-svg-full.js" | inline_mathjax }}``.

    Parameters
    ----------
    component : str
        A file name in MathJax's ``es5/`` folder, e.g. ``"tex-svg-full.js"``.
    directory : path, optional
        Where to look instead of the repository's ``node_modules/mathjax/es5``.

    Raises
    ------
    FileNotFoundError
        When the component is not installed; the message says how to install it. Feedback is
        then not written at all, rather than written with maths that cannot render.
    """
    path = Path(directory if directory is not None else MATHJAX_DIR) / component
    if not path.is_file():
        raise FileNotFoundError(
            f"MathJax for the feedback pages is missing: no {path}. Install it with "
            f"`npm ci` in {REPOSITORY} (pinned in package-lock.json; `make grade` does this), "
            "then generate the feedback again."
        )
    return _escaped_source(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _escaped_source(path: Path, mtime_ns: int) -> str:
    """The file's text with the two sequences that would break an inline script escaped."""
    source = path.read_text(encoding="utf-8")
    return _SCRIPT_END.sub(r"<\\/\1", source).replace(_COMMENT_OPEN, r"<\x21--")
