"""Copy the JavaScript the website serves itself into ``book/_vendor``.

The book must read offline: by default Sphinx loads MathJax from a CDN and
myst-nb loads RequireJS and the Jupyter widgets manager from two more, so
without internet the maths shows as raw TeX and the widgets stay blank.
``npm ci`` fetches pinned copies (``package.json``/``package-lock.json``) into
``node_modules``; this script copies only the files a reader's browser needs
into ``book/_vendor`` (git-ignored), which ``_config.yml`` lists in
``html_static_path`` so Sphinx copies it to ``_build/html/_static``. plotly.js, which
draws the interactive figures, is its "basic" bundle (scatter, bar and pie traces, the
sliders and menus: all the book uses), 1.2 MB where the full bundle the ``plotly`` Python
package ships is 4.8 MB for a browser to parse on every page with a figure. Its version
must be the one the ``plotly`` package (``requirements.txt``) was made for: checked here.

The folder is not named ``_static``: Sphinx would add a script tag for every
``.js`` file in a folder of that name.

Run from the repository root after ``npm ci``::

    python -m scripts.vendor_js
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (source under node_modules, destination under the vendor folder). A folder is
# copied whole; MathJax loads TeX extensions, fonts, the menu and the
# accessibility tools on demand from paths relative to tex-chtml.js.
MATHJAX = "mathjax/es5"
FILES = [
    (f"{MATHJAX}/tex-chtml.js", "mathjax/tex-chtml.js"),
    (f"{MATHJAX}/input/tex/extensions", "mathjax/input/tex/extensions"),
    (f"{MATHJAX}/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2"),
    (f"{MATHJAX}/ui", "mathjax/ui"),
    (f"{MATHJAX}/a11y", "mathjax/a11y"),
    (f"{MATHJAX}/sre", "mathjax/sre"),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
    ("requirejs/require.js", "require.js"),
    ("plotly.js-basic-dist-min/plotly-basic.min.js", "plotly/plotly.min.js"),
    ("plotly.js-basic-dist-min/LICENSE", "plotly/LICENSE"),
    # The widget manager finds its icon fonts next to itself (webpack's public path).
    ("@jupyter-widgets/html-manager/dist", "jupyter-widgets"),
]
# Files of html-manager's dist/ a reader never loads: the non-AMD bundles, source maps, and
# the icon fonts' .eot (Internet Explorer) and .svg (old iOS) versions, 2.2 MB that browsers
# of this decade skip for the .woff2 copies.
SKIP = ("embed.js", "libembed-amd.js", "*.map", "*.LICENSE.txt", "*.eot", "*.svg")


# Loaded between require.js and embed-amd.js (see nb_ipywidgets_js in _config.yml). The widget
# manager takes its public path, where its icon fonts are, from RequireJS's URL for the module
# "@jupyter-widgets/html-manager/dist/libembed-amd", which by default is relative to the page.
WIDGETS_PATHS_JS = """\
// Written by scripts/vendor_js.py. Point RequireJS at this folder for the widget manager,
// so that its icon fonts load from the site itself on every page.
(function () {
  var here = document.currentScript.src.split("?")[0].replace(/\\/[^\\/]*$/, "");
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": here } });
})();
"""


# ipywidgets' controls typeset labels with MathJax 2's API (MathJax.Hub.Queue); under the
# MathJax 3 the site loads, that throws a TypeError on every widget with a description.
# Use MathJax 3's typesetPromise when it is there, MathJax 2's queue when that is there.
MATHJAX2_CALL = re.compile(r'MathJax\.Hub\.Queue\(\["Typeset",MathJax\.Hub,(\w+)\]\)')
MATHJAX_EITHER = (
    r"(MathJax.typesetPromise?MathJax.typesetPromise([\1]):"
    r'MathJax.Hub&&MathJax.Hub.Queue(["Typeset",MathJax.Hub,\1]))'
)


PLOTLY_VERSION = re.compile(r"plotly\.js[^\n]*?v(\d+\.\d+\.\d+)")


def check_plotly_version(bundle: Path) -> str:
    """The bundle's plotly.js version; it must be the one the ``plotly`` package expects."""
    from plotly.offline import get_plotlyjs_version

    found = PLOTLY_VERSION.search(bundle.read_text(encoding="utf-8")[:300])
    expected = get_plotlyjs_version()
    if found is None or found.group(1) != expected:
        raise RuntimeError(
            f"{bundle} is plotly.js {found and found.group(1)}, but the installed plotly "
            f"package expects {expected}: pin plotly.js-basic-dist-min@{expected} in "
            "package.json"
        )
    return expected


def patch_widget_typeset(embed_amd: Path) -> int:
    """Make the widget bundle's typeset calls work with MathJax 3; return how many changed."""
    text, count = MATHJAX2_CALL.subn(MATHJAX_EITHER, embed_amd.read_text(encoding="utf-8"))
    if count == 0:
        raise RuntimeError(
            f"{embed_amd}: no MathJax 2 typeset call found; check whether this html-manager "
            "version still needs the patch and update scripts/vendor_js.py"
        )
    embed_amd.write_text(text, encoding="utf-8")
    return count


def vendor(node_modules: Path, dest: Path) -> list[Path]:
    """Copy the needed files from ``node_modules`` into ``dest``; return what was copied."""
    missing = [src for src, _ in FILES if not (node_modules / src).exists()]
    if missing:
        raise FileNotFoundError(
            f"missing under {node_modules}: {', '.join(missing)}; run `npm ci` in {ROOT} first"
        )
    if dest.exists():
        shutil.rmtree(dest)
    copied = []
    for src, dst in FILES:
        source, target = node_modules / src, dest / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns(*SKIP), dirs_exist_ok=True
            )
        else:
            shutil.copy2(source, target)
        copied.append(target)
    check_plotly_version(dest / "plotly" / "plotly.min.js")
    patch_widget_typeset(dest / "jupyter-widgets" / "embed-amd.js")
    paths_js = dest / "jupyter-widgets" / "paths.js"
    paths_js.write_text(WIDGETS_PATHS_JS)
    copied.append(paths_js)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=ROOT / "book" / "_vendor")
    args = parser.parse_args(argv)
    try:
        copied = vendor(args.node_modules, args.dest)
    except FileNotFoundError as err:
        print(f"vendor_js: {err}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in args.dest.rglob("*") if f.is_file())
    print(f"vendor_js: {len(copied)} items, {size / 1e6:.1f} MB in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
