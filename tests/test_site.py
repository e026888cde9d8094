"""The built website, read offline in a headless browser.

The site (``_build/html``) is built by ``make build``; when it is missing or older than its
sources, the ``site_dir`` fixture builds it with ``jupyter-book build . -W -n --keep-going``
(cached execution, so only changed chapters run). A local HTTP server on 127.0.0.1 serves it
to Debian's ``chromium``, driven by Playwright, with every host name unresolvable: a true
offline reader. Each page of the table of contents must then load with no JavaScript error,
no request leaving 127.0.0.1, no raw TeX, no broken image and every embedded widget
rendered. Screenshots of every page go to ``artifacts/screenshots/`` for a human to look at.

Run: ``.venv/bin/pytest tests/test_site.py`` (about a minute on a built site).
``RNNBOOK_SITE_DIR=path`` tests an already built site as it is (no rebuild), and
``RNNBOOK_TOC=path`` reads the list of pages from another table of contents.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest
import yaml

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("RNNBOOK_SITE_DIR", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
BUILD_TIMEOUT = 900  # seconds; a clean build executes every chapter
# pages with plotly.js and MathJax took more than 30 s to "load" on a busy 2-core machine
PAGE_LOAD_MS = 90_000

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # every host name fails to resolve except the local server: an offline reader
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

# TeX that MathJax should have turned into <mjx-container>; searched in the visible text of
# a page with code, outputs and rendered maths removed.
RAW_TEX = re.compile(
    r"\$\$|\\\(|\\\)|\\\[|\\\]"
    r"|\\(?:begin|end|frac|mathbf|mathrm|mathbb|sum|prod|partial|tanh|sigma|odot|hat|tilde)\b"
    # inline $...$ left as text, e.g. in a Markdown table a cell displayed (subscript,
    # superscript or a command inside the dollars)
    r"|\$[^$\s][^$\n]{0,80}?[_^\\][^$\n]{0,80}?\$"
)


# --------------------------------------------------------------------------- the pages


TOC = Path(os.environ.get("RNNBOOK_TOC", ROOT / "_toc.yml"))


def toc_docnames(toc_path: Path = TOC) -> list[str]:
    """Every document of ``_toc.yml`` (jb-book format), root first, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [str(Path(name).with_suffix("")) for name in names]


DOCNAMES = toc_docnames()
# Pages Sphinx makes besides the toc's: they must work offline too.
GENERATED = ["search", "genindex", "py-modindex"]


def page_id(docname: str) -> str:
    return docname.replace("/", "-")


# --------------------------------------------------------------------------- building


def _newest_source_mtime() -> float:
    patterns = [
        "_config.yml",
        "_toc.yml",
        "package-lock.json",
        "scripts/vendor_js.py",
        "book/**/*.md",
        "book/**/*.py",
        "book/**/*.svg",
        "book/**/*.png",
        "exercises/**/*.ipynb",
        "rnncore/**/*.py",
    ]
    mtimes = [
        path.stat().st_mtime
        for pattern in patterns
        for path in ROOT.glob(pattern)
        if "_vendor" not in path.parts
    ]
    return max(mtimes, default=0.0)


def _site_is_fresh() -> bool:
    stamp = SITE / ".buildinfo"
    return stamp.exists() and stamp.stat().st_mtime >= _newest_source_mtime()


def _run(cmd: list[str], timeout: float) -> None:
    result = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        log = (result.stdout + result.stderr)[-6000:]
        pytest.fail(f"`{' '.join(cmd)}` failed with exit code {result.returncode}:\n{log}")


def _build_site() -> None:
    """What `make build` does: vendor the offline JavaScript, then a strict build."""
    bindir = Path(sys.executable).parent
    if not (ROOT / "book" / "_vendor" / "mathjax" / "tex-chtml.js").exists():
        if not (ROOT / "node_modules").exists():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("book/_vendor is missing and npm is not installed: run `make build`")
            _run([npm, "ci", "--no-audit", "--no-fund"], timeout=600)
        _run([sys.executable, "-m", "scripts.vendor_js"], timeout=120)
    jupyter_book = bindir / "jupyter-book"
    _run([str(jupyter_book), "build", ".", "-W", "-n", "--keep-going"], timeout=BUILD_TIMEOUT)
    # Sphinx leaves .buildinfo alone when no page needed writing (say, only a private rnncore
    # module changed): mark the site as built from the current sources.
    (SITE / ".buildinfo").touch()


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """``_build/html``, rebuilt first if any source is newer than the last build."""
    if "RNNBOOK_SITE_DIR" not in os.environ:
        # pytest-xdist workers each run session fixtures: one builds, the others wait
        lock_path = ROOT / "_build" / ".site-build.lock"
        lock_path.parent.mkdir(exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _site_is_fresh():
                _build_site()
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site in {SITE}: run `make build`")
    return SITE


# --------------------------------------------------------------------------- serving


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def site_url(site_dir):
    """The site served on 127.0.0.1 at a free port, for the whole session."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright (never Playwright's own download)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:  # the site's tests are part of `make test`, never skipped
        pytest.fail("chromium is not installed: apt-get install chromium (bash .ci/run does)")
    from playwright import sync_api  # a pinned requirement

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# --------------------------------------------------------------------------- one visit

_INSPECT_JS = """
async () => {
  const report = {math: 0, mathUnrendered: [], rawTex: "", images: [], widgets: 0,
                  widgetsUnrendered: []};
  // maths: MathJax 3 finishes its first typeset when startup.promise resolves
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const maths = [...document.querySelectorAll(".math")];
  report.math = maths.length;
  report.mathUnrendered = maths.filter(m => !m.querySelector("mjx-container"))
                               .map(m => m.textContent.trim().slice(0, 80));
  const article = document.querySelector("article") || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight")
       .forEach(node => node.remove());
  report.text = clone.textContent;
  // images: wait for every one to finish, then ask whether it decoded
  const images = [...document.images];
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done);
    setTimeout(done, 10000);
  })));
  report.images = images.filter(img => !(img.complete && img.naturalWidth > 0))
                        .map(img => img.getAttribute("src"));
  report.imageCount = images.length;
  return report;
}
"""

_WIDGETS_RENDERED_JS = """
() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
  .every(s => {
    const area = s.previousElementSibling;
    const view = area && area.classList.contains("widget-subarea")
                 && area.querySelector(".jupyter-widgets");
    return view && view.getBoundingClientRect().width > 0
                && view.getBoundingClientRect().height > 0;
  })
"""

_WIDGET_VIEWS_JS = """
() => document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length
"""


def is_chapter(docname: str) -> bool:
    return bool(re.match(r"(book/ch\d\d_|exercises/)", docname))


def visit(browser, url: str, screenshot: Path | None = None, full_page: bool = True) -> dict:
    """Load one page offline; return what went wrong (lists of strings) and counts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = {"console": [], "external": [], "failed": [], "http": []}
    local = urlparse(url).netloc

    def on_request(request):
        parsed = urlparse(request.url)
        if parsed.scheme in ("data", "blob", "about"):
            return
        if parsed.netloc != local:
            problems["external"].append(request.url)

    page.on("request", on_request)
    page.on(
        "console",
        lambda msg: msg.type == "error" and problems["console"].append(msg.text),
    )
    page.on("pageerror", lambda err: problems["console"].append(f"uncaught: {err}"))
    page.on(
        "requestfailed",
        lambda req: problems["failed"].append(f"{req.url} ({req.failure})"),
    )
    page.on(
        "response",
        lambda resp: resp.status >= 400 and problems["http"].append(f"{resp.status} {resp.url}"),
    )
    try:
        page.goto(url, wait_until="load", timeout=PAGE_LOAD_MS)
        report = page.evaluate(_INSPECT_JS)
        report["widget_views"] = page.evaluate(_WIDGET_VIEWS_JS)
        report["widgets_rendered"] = True
        if report["widget_views"]:
            try:
                page.wait_for_function(_WIDGETS_RENDERED_JS, timeout=15000)
            except Exception:  # playwright's TimeoutError
                report["widgets_rendered"] = False
        page.wait_for_load_state("networkidle", timeout=15000)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=full_page)
    finally:
        context.close()
    report.update(problems)
    return report


@pytest.fixture(scope="session")
def visits(browser, site_url):
    """Each page is loaded once per session; several tests read the same visit."""
    cache = {}

    def get(docname: str) -> dict:
        if docname not in cache:
            cache[docname] = visit(
                browser,
                urljoin(site_url, f"{docname}.html"),
                screenshot=SCREENSHOTS / f"{page_id(docname)}.png",
                # whole chapters and exercises; the top of the other pages (faster)
                full_page=is_chapter(docname),
            )
        return cache[docname]

    return get


# --------------------------------------------------------------------------- page tests


@pytest.mark.parametrize("docname", DOCNAMES + GENERATED, ids=page_id)
def test_page_loads_offline_without_errors(visits, docname):
    report = visits(docname)
    assert report["external"] == [], f"requests leaving 127.0.0.1: {report['external']}"
    assert report["console"] == [], f"console errors: {report['console']}"
    assert report["http"] == [], f"HTTP errors: {report['http']}"
    assert report["failed"] == [], f"failed requests: {report['failed']}"


@pytest.mark.parametrize("docname", DOCNAMES, ids=page_id)
def test_maths_is_typeset(visits, docname):
    report = visits(docname)
    assert report["mathUnrendered"] == [], (
        f"{len(report['mathUnrendered'])} of {report['math']} maths not rendered by MathJax, "
        f"e.g. {report['mathUnrendered'][:3]}"
    )
    leftover = sorted({m.group(0) for m in RAW_TEX.finditer(report["text"])})
    assert leftover == [], f"raw TeX left in the visible text: {leftover}"


@pytest.mark.parametrize("docname", DOCNAMES, ids=page_id)
def test_images_load(visits, docname):
    report = visits(docname)
    assert report["images"] == [], f"images that did not load: {report['images']}"


@pytest.mark.parametrize("docname", DOCNAMES, ids=page_id)
def test_embedded_widgets_render(visits, docname):
    report = visits(docname)
    assert report["widgets_rendered"], (
        f"{report['widget_views']} embedded widget views, not all rendered and visible"
    )


# ipywidgets controls a reader would try to move (a progress bar is fine as a snapshot)
_WIDGET_CONTROL = re.compile(r'"_model_name":\s*"\w*(?:Slider|Dropdown|Select\w*|Toggle\w*)Model"')


def test_interactive_figures_exist_and_no_frozen_controls(site_dir):
    """Every interactive figure is a Plotly figure on its page; no ipywidgets slider or menu.

    Guards the figure tests against passing vacuously. An ipywidgets slider on the static
    site is a snapshot that moves nothing; the interactive figures replaced them
    (book/web_figures.py), and a new one would be a regression for readers.
    """
    for name, (fig_id, _) in INTERACTIVE_FIGURES.items():
        html = (site_dir / f"{name}.html").read_text(encoding="utf-8")
        assert f'id="{fig_id}" class="plotly-graph-div' in html, f"{name}: no #{fig_id}"
    frozen = {
        name: sorted(set(_WIDGET_CONTROL.findall(html)))
        for name in DOCNAMES
        if (site_dir / f"{name}.html").exists()
        for html in [(site_dir / f"{name}.html").read_text(encoding="utf-8")]
        if _WIDGET_CONTROL.search(html)
    }
    assert frozen == {}, f"ipywidgets controls frozen on the static site: {frozen}"


def test_maths_pages_exist(visits):
    """Guards the maths test: the notation page has maths, and MathJax typeset all of it."""
    report = visits("book/notation")
    assert report["math"] > 10


# --------------------------------------------------------------------------- static checks


class _Links(HTMLParser):
    """Collects hrefs of <a>, resources that load at read time, and element ids."""

    RESOURCE_ATTRS = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "video": "src",
        "audio": "src",
        "embed": "src",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors: list[str] = []
        self.resources: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("name") and tag == "a":
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.anchors.append(attrs["href"])
        elif tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "icon", "preload", "modulepreload")):
                self.resources.append(attrs["href"])
        elif tag in self.RESOURCE_ATTRS and attrs.get(self.RESOURCE_ATTRS[tag]):
            self.resources.append(attrs[self.RESOURCE_ATTRS[tag]])


@functools.cache
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _html_files(site_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in site_dir.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


def test_every_internal_link_resolves(site_dir):
    """Every <a href> inside the site points at a file that exists, and at an id in it."""
    broken = []
    for page in _html_files(site_dir):
        for href in _parse(page).anchors:
            parsed = urlparse(href)
            if parsed.scheme or parsed.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target, fragment = urldefrag(href)
            path = (page.parent / unquote(target)).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            rel = page.relative_to(site_dir)
            if not path.exists():
                broken.append(f"{rel}: {href} (no such file)")
            elif fragment and path.suffix == ".html" and unquote(fragment) not in _parse(path).ids:
                broken.append(f"{rel}: {href} (no id {fragment!r})")
    assert broken == [], f"{len(broken)} broken internal links:\n" + "\n".join(broken[:40])


def test_every_rnncore_module_is_in_the_api_reference():
    """A module added to rnncore must get an ``automodule`` on one of the book/api pages."""
    import rnncore

    documented = set()
    for page in (ROOT / "book" / "api").glob("*.md"):
        documented |= set(re.findall(r"automodule::\s*rnncore\.([\w.]+)", page.read_text()))
    missing = [m for m in rnncore._SUBMODULES if m not in documented]
    assert missing == [], f"rnncore modules without an API page entry: {missing}"


def test_every_page_of_the_toc_was_built(site_dir):
    missing = [name for name in DOCNAMES if not (site_dir / f"{name}.html").exists()]
    assert missing == []


def test_nothing_loads_from_the_internet(site_dir):
    """No script, style sheet, font, icon or image of any page comes from another host.

    Plain hyperlinks (papers, launch buttons, the repository) are fine: they load only when
    clicked. The live check is in test_page_loads_offline_without_errors; this one also
    covers pages' resources that a browser would load only under some condition.
    """
    remote = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
    offenders = [
        f"{page.relative_to(site_dir)}: {src}"
        for page in _html_files(site_dir)
        for src in _parse(page).resources
        if remote.match(src)
    ]
    css_remote = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*(?:https?:)?//""", re.I)
    for css in (site_dir / "_static").rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        # drop comments: licence headers carry URLs that are not loaded
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
        if css_remote.search(text):
            offenders.append(f"{css.relative_to(site_dir)}: {css_remote.search(text).group(0)}")
    assert offenders == [], "resources loaded from the internet:\n" + "\n".join(offenders)


STDERR_BLOCK = re.compile(r'<div class="output stderr[^"]*">.*?<pre>(.*?)</pre>', re.DOTALL)
# stderr_output is "show" for tqdm's bars: a line of a bar ("37%|###  | 37/100 [00:01<...]")
PROGRESS_LINE = re.compile(r"^\s*(?:[^|]*:\s*)?\d+%\|.*\|.*\[.*\]\s*$|^\s*$")


def test_no_page_shows_warnings_or_errors_in_its_outputs(site_dir):
    """Whatever a chapter writes to stderr is on the page: only progress bars may be there.

    A stale matplotlib font cache once put 21 lines of "findfont: ... not found" under a
    figure of every chapter; a deprecation warning or a logged error would look the same.
    """
    offenders = []
    for page in _html_files(site_dir):
        for block in STDERR_BLOCK.findall(page.read_text(encoding="utf-8")):
            text = re.sub(r"<[^>]+>", "", block)
            for line in text.replace("\r", "\n").splitlines():
                if not PROGRESS_LINE.match(line):
                    offenders.append(f"{page.relative_to(site_dir)}: {line.strip()[:160]}")
    assert offenders == [], "stderr shown on the site:\n" + "\n".join(offenders[:20])


def _launch_links(page: Path) -> list[str]:
    return [
        href
        for href in _parse(page).anchors
        if re.match(r"https://(mybinder\.org|colab\.research\.google\.com)/", href)
    ]


def test_launch_buttons_follow_the_repository_setting(site_dir):
    """Binder on every notebook page, Colab only on .ipynb pages, all from repository.url."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    org_repo = config["repository"]["url"].rstrip("/").split("github.com/")[1]
    branch = config["repository"]["branch"]
    chapters = [n for n in DOCNAMES if n.startswith("book/ch")]
    exercises = [n for n in DOCNAMES if n.startswith("exercises/")]
    assert chapters and exercises
    for name in chapters:
        links = _launch_links(site_dir / f"{name}.html")
        assert f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{name}.md" in links
        assert not any("colab" in link for link in links), f"{name}: Colab cannot open .md"
    for name in exercises:
        links = _launch_links(site_dir / f"{name}.html")
        assert (
            f"https://mybinder.org/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/{name}.ipynb" in links
        )
        colab = f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/{name}.ipynb"
        assert colab in links


def test_offline_javascript_is_served_by_the_site(site_dir):
    """MathJax and plotly.js come from _static, as _config.yml and rnnbook_sphinx say.

    RequireJS and the widget manager stay vendored for a page that embeds widgets
    (myst-nb adds them to such a page only; test_every_control_changes_the_plotted_data
    loads RequireJS first on the figures' pages).
    """
    chapter = site_dir / "book" / "ch05_gradient_pathologies.html"
    scripts = _parse(chapter).resources
    assert any(re.search(r"_static/mathjax/tex-chtml\.js", s) for s in scripts), scripts
    assert any(re.search(r"_static/plotly/plotly\.min\.js", s) for s in scripts), scripts
    for path in (
        "mathjax/tex-chtml.js",
        "plotly/plotly.min.js",
        "require.js",
        "jupyter-widgets/embed-amd.js",
    ):
        assert (site_dir / "_static" / path).stat().st_size > 1000, path


# --------------------------------------------------------------------------- moving figures
#
# The interactive figures (book/web_figures.py) are Plotly figures whose sliders and menus
# carry precomputed data. On the static site, offline, each control is operated as a reader
# would (the slider's grip dragged with the mouse, the menu opened and an item clicked), and
# the figure's trace data, read from the plotly <div> (``gd.data``), must have changed.

FIGURES = ROOT / "artifacts" / "figures"

# docname -> (id of the figure's <div>, the controls: ("slider", index) or ("menu", label))
INTERACTIVE_FIGURES = {
    "book/ch02_rnn_cell": ("fig-ch02-hidden-state", [("slider", 0)]),
    "book/ch03_softmax_loss": ("fig-ch03-temperature", [("slider", 0)]),
    "book/ch05_gradient_pathologies": (
        "fig-ch05-gradient-explorer",
        [("slider", 0), ("slider", 1), ("menu", "linear")],
    ),
    "book/ch10_training_practice": ("fig-ch10-schedules", [("slider", 0)]),
    "book/ch10_pytorch": ("fig-ch10-torch-compare", [("menu", "float32")]),
}

_FIGURE_READY_JS = """
id => { const gd = document.getElementById(id);
        return !!(gd && gd._fullLayout && gd.data && gd.querySelector(".main-svg")); }
"""

# x, y, visibility of every trace, and each control's position, as plain JSON
_FIGURE_STATE_JS = """
id => { const gd = document.getElementById(id);
        const plain = a => a === undefined ? null : Array.from(a);
        return {traces: gd.data.map(t => ({x: plain(t.x), y: plain(t.y),
                                            visible: t.visible === undefined ? true : t.visible,
                                            name: t.name || null})),
                sliders: (gd.layout.sliders || []).map(s => s.active),
                menus: (gd.layout.updatemenus || []).map(m => m.active),
                title: (gd.layout.title && gd.layout.title.text) || ""}; }
"""

# plotly.js 1.x-2.x loaded after RequireJS registered itself as an AMD module and left no
# window.Plotly; a page that embeds ipywidgets loads RequireJS. This puts RequireJS first.
_STATIC_PREFIX = re.compile(r'src="([^"]*)_static/plotly/plotly\.min\.js[?"]')


def _drag_slider(page, fig_id: str, index: int, fraction: float) -> None:
    """Drag slider ``index``'s grip to ``fraction`` of its rail, with the mouse."""
    slider = page.locator(f"#{fig_id} .slider-container .slider-group").nth(index)
    slider.scroll_into_view_if_needed()
    grip = slider.locator(".slider-grip-rect").bounding_box()
    rail = slider.locator(".slider-rail-rect").bounding_box()
    assert grip and rail, f"slider {index} of #{fig_id} is not drawn"
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    target = rail["x"] + fraction * rail["width"]
    page.mouse.move(target, y, steps=8)
    page.mouse.up()


def _pick_menu_item(page, fig_id: str, label: str) -> None:
    menu = page.locator(f"#{fig_id} .updatemenu-container")
    menu.scroll_into_view_if_needed()
    menu.locator(".updatemenu-header").first.click()
    # the open menu's items are drawn beside the header, not inside its container
    page.locator(f"#{fig_id} .updatemenu-dropdown-button", has_text=label).first.click()


def drive_figure(
    browser, url: str, fig_id: str, controls, shots: str | None = None, require_first: bool = False
) -> dict:
    """Load a page offline, operate each control of one figure; return states and problems.

    The result has ``states`` (the figure's state before, and after each control),
    ``console``/``external`` (errors and requests leaving 127.0.0.1, as in :func:`visit`).
    Screenshots ``<shots>-0-before.png``, ``<shots>-1-...png`` of the figure go to
    ``artifacts/figures/``.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = {"console": [], "external": []}
    local = urlparse(url).netloc
    page.on(
        "request",
        lambda req: (
            urlparse(req.url).scheme in ("http", "https")
            and urlparse(req.url).netloc != local
            and problems["external"].append(req.url)
        ),
    )
    page.on("console", lambda msg: msg.type == "error" and problems["console"].append(msg.text))
    page.on("pageerror", lambda err: problems["console"].append(f"uncaught: {err}"))
    if require_first:

        def with_require(route):
            response = route.fetch()
            html = response.text()
            prefix = _STATIC_PREFIX.search(html)
            assert prefix, "the page does not load the site's plotly.js"
            require = f'<head>\n<script src="{prefix.group(1)}_static/require.js"></script>'
            body = html.replace("<head>", require, 1)
            route.fulfill(response=response, body=body)

        page.route(url, with_require)
    states = []
    try:
        page.goto(url, wait_until="load", timeout=PAGE_LOAD_MS)
        page.wait_for_function(_FIGURE_READY_JS, arg=fig_id, timeout=20000)
        figure = page.locator(f"#{fig_id}")

        def record(step: str) -> None:
            page.wait_for_timeout(300)  # plotly redraws after the event
            states.append(page.evaluate(_FIGURE_STATE_JS, fig_id))
            if shots is not None:
                FIGURES.mkdir(parents=True, exist_ok=True)
                figure.screenshot(path=str(FIGURES / f"{shots}-{len(states) - 1}-{step}.png"))

        record("before")
        for kind, which in controls:
            if kind == "slider":
                # to the far end from where the grip starts
                start = states[-1]["sliders"][which]
                steps = page.evaluate(
                    "([id, i]) => document.getElementById(id).layout.sliders[i].steps.length",
                    [fig_id, which],
                )
                _drag_slider(page, fig_id, which, 0.97 if start < steps / 2 else 0.03)
                record(f"slider{which}")
            else:
                _pick_menu_item(page, fig_id, which)
                record(f"menu-{which}")
        page.wait_for_load_state("networkidle", timeout=15000)
    finally:
        context.close()
    return {"states": states, **problems}


@pytest.fixture(scope="session")
def driven(browser, site_url):
    cache = {}

    def get(docname: str, require_first: bool = False) -> dict:
        key = (docname, require_first)
        if key not in cache:
            fig_id, controls = INTERACTIVE_FIGURES[docname]
            shots = None if require_first else page_id(docname)
            cache[key] = drive_figure(
                browser,
                urljoin(site_url, f"{docname}.html"),
                fig_id,
                controls,
                shots,
                require_first=require_first,
            )
        return cache[key]

    return get


def _changed(before: dict, after: dict) -> bool:
    return [(t["x"], t["y"], t["visible"]) for t in before["traces"]] != [
        (t["x"], t["y"], t["visible"]) for t in after["traces"]
    ]


@pytest.mark.parametrize("require_first", [False, True], ids=["plain", "requirejs-first"])
@pytest.mark.parametrize("docname", sorted(INTERACTIVE_FIGURES), ids=page_id)
def test_every_control_changes_the_plotted_data(driven, docname, require_first):
    """Each slider dragged and each menu item picked changes the traces' data, offline."""
    result = driven(docname, require_first)
    assert result["external"] == [], f"requests leaving 127.0.0.1: {result['external']}"
    assert result["console"] == [], f"console errors: {result['console']}"
    states = result["states"]
    _, controls = INTERACTIVE_FIGURES[docname]
    assert len(states) == len(controls) + 1
    for control, before, after in zip(controls, states, states[1:]):
        assert _changed(before, after), f"{control}: the plotted data did not change"
        # the control itself moved, and nothing else did
        assert (after["sliders"], after["menus"]) != (before["sliders"], before["menus"])


def _shown(state: dict) -> list[dict]:
    return [t for t in state["traces"] if t["visible"] is True]


def _drawn(trace: dict) -> list[tuple[float, float]]:
    return [(x, y) for x, y in zip(trace["x"], trace["y"]) if x is not None and y is not None]


def test_hidden_state_figure_shows_tanh_states(driven):
    """Chapter 2: 16 bars in (-1, 1) whatever the step; the title names the step."""
    states = driven("book/ch02_rnn_cell")["states"]
    for state in states:
        (bars,) = state["traces"]
        assert len(bars["y"]) == 16
        assert all(-1 < y < 1 for y in bars["y"])
    steps = [s["sliders"][0] + 1 for s in states]
    assert steps[0] == 7 and steps[1] > 7  # dragged to the right from "the cat"
    assert f"h<sub>{steps[1]}</sub>" in states[1]["title"]


def _entropy(probabilities: list[float]) -> float:
    return -sum(p * math.log(p) for p in probabilities if p > 0)


def test_temperature_figure_flattens_as_tau_grows(driven):
    """Chapter 3: a distribution at every τ; a larger τ (slider to the right) raises entropy."""
    before, after = driven("book/ch03_softmax_loss")["states"]
    for state in (before, after):
        for bars in state["traces"]:
            assert abs(sum(bars["y"]) - 1) < 1e-3  # rounded to 4 digits
    assert after["sliders"][0] > before["sliders"][0]
    tau_one, tau_before = before["traces"]
    _, tau_after = after["traces"]
    assert _entropy(tau_before["y"]) < _entropy(tau_one["y"])  # starts at τ = 0.5 < 1
    assert _entropy(tau_after["y"]) > _entropy(tau_one["y"])  # ends at τ = 10 > 1
    assert _entropy(tau_after["y"]) <= math.log(8) + 1e-9


def test_gradient_explorer_follows_its_three_controls(driven):
    """Chapter 5: ρ changes the curves, T the number of lags drawn, the menu the activation.

    Independent facts checked on what is drawn: the spectral norm of a matrix power is at
    least the spectral radius to that power, ‖W^L‖ ≥ ρ^L, so the linear network's measured
    curve never lies below the dashed ρ^(T-k) line; a curve has one point per lag 1..T.
    """
    start, moved_rho, moved_length, linear = driven("book/ch05_gradient_pathologies")["states"]
    shown = _shown(start)
    assert [t["name"] for t in shown][0].startswith("tanh")
    # ρ: from 1.5 to the end of the slider
    assert moved_rho["sliders"][0] != start["sliders"][0]
    # T: the drawn lags are 1..T, with T the chosen length's label
    for state in (start, moved_length):
        curve = _drawn(_shown(state)[0])
        lags = [x for x, _ in curve]
        assert lags == list(range(1, len(lags) + 1))
        dot = _drawn(_shown(state)[1])
        assert [x for x, _ in dot] == [len(lags)]  # the dot sits at lag T
    assert len(_drawn(_shown(moved_length)[0])) != len(_drawn(_shown(start)[0]))
    # the menu: only the linear network's traces (and the dashed line) are shown now
    names = [t["name"] for t in _shown(linear)]
    assert names[0] == "linear, measured" and len(names) == 3
    measured = dict(_drawn(_shown(linear)[0]))
    dashed = dict(_drawn(_shown(linear)[2]))
    assert measured and all(measured[lag] >= dashed[lag] * (1 - 1e-3) for lag in measured)


def test_torch_comparison_figure_overlays_the_two_libraries(driven):
    """Chapter 10: rnncore's and PyTorch's loss curves coincide; the gap is float64's or
    float32's rounding, as the menu says.

    Independent facts: the untrained model's first loss is near log V (small output
    weights), and float32's gap is larger than float64's but far below a visible one.
    """
    results = ROOT / "benchmarks" / "results" / "torch_train_compare.json"
    bench = json.loads(results.read_text())
    steps, log_v = bench["config"]["steps"], math.log(bench["data"]["vocab_size"])
    float64, float32 = driven("book/ch10_pytorch")["states"]
    largest_gap = {}
    for name, state in (("float64", float64), ("float32", float32)):
        ours, theirs, gap = state["traces"]
        assert (ours["name"], theirs["name"]) == ("rnncore", "PyTorch")
        assert len(ours["y"]) == len(theirs["y"]) == len(gap["y"]) == steps
        assert abs(ours["y"][0] - log_v) < 0.05
        assert max(abs(a - b) for a, b in zip(ours["y"], theirs["y"])) < 1e-4
        largest_gap[name] = max(y for y in gap["y"] if y is not None)
    assert largest_gap["float64"] < 1e-12 < 1e-9 < largest_gap["float32"] < 1e-4


def test_no_page_needs_plotly_without_loading_it(site_dir):
    """Pages with a Plotly figure load the site's own plotly.js, before RequireJS; others not."""
    with_figures = []
    for page in _html_files(site_dir):
        html = page.read_text(encoding="utf-8")
        scripts = _parse(page).resources
        scripts = [s.split("?")[0] for s in scripts]
        plotly = [i for i, s in enumerate(scripts) if s.endswith("_static/plotly/plotly.min.js")]
        if 'class="plotly-graph-div' in html:
            with_figures.append(str(page.relative_to(site_dir).with_suffix("")))
            assert len(plotly) == 1, f"{page.name}: plotly.js loaded {len(plotly)} times"
            require = [i for i, s in enumerate(scripts) if s.endswith("_static/require.js")]
            assert all(plotly[0] < i for i in require), f"{page.name}: RequireJS first"
        else:
            assert plotly == [], f"{page.name} loads plotly.js without a figure"
    assert sorted(with_figures) == sorted(INTERACTIVE_FIGURES)
    assert (site_dir / "_static" / "plotly" / "plotly.min.js").stat().st_size > 1_000_000


# --------------------------------------------------------------------------- code boxes

# Every collapsed cell (hide-input) is opened first: a reader who opens it must not find
# lines running past the box either.
_OVERFLOWING_CODE_JS = """
() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  const article = document.querySelector("article") || document.body;
  // code: the input of every code cell, and code blocks in the text (not printed outputs)
  return [...article.querySelectorAll(".cell_input pre, div.highlight pre")]
    .filter(pre => !pre.closest(".cell_output, .output"))
    .filter(pre => pre.scrollWidth > pre.clientWidth)
    .map(pre => {
      const longest = pre.textContent.split("\\n")
                         .reduce((a, b) => (b.length > a.length ? b : a), "");
      return `${pre.scrollWidth - pre.clientWidth}px too wide: ${longest.trim().slice(0, 90)}`;
    });
}
"""


@pytest.mark.parametrize("docname", DOCNAMES, ids=page_id)
def test_code_fits_its_box_at_desktop_width(browser, site_url, docname):
    """At 1280 px no code box scrolls sideways: every line of code is readable in place."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(urljoin(site_url, f"{docname}.html"), wait_until="load", timeout=PAGE_LOAD_MS)
        overflowing = page.evaluate(_OVERFLOWING_CODE_JS)
    finally:
        context.close()
    assert overflowing == [], f"{len(overflowing)} code boxes overflow:\n" + "\n".join(overflowing)


# --------------------------------------------------------------------------- cell diagrams

# Pages that show the cell diagrams of book/_diagrams, and how many each shows.
DIAGRAM_PAGES = {
    "book/ch02_rnn_cell": 2,
    "book/ch04_bptt": 1,
    "book/ch06_gru": 3,
    "book/ch07_lstm": 3,
    "book/ch08_bidirectional_deep": 2,
}
DIAGRAM_SHOTS = ROOT / "artifacts" / "diagrams"

_DIAGRAMS_JS = """
() => [...document.querySelectorAll("figure.rnn-diagram")].map(fig => {
  const svg = fig.querySelector("svg");
  svg.scrollIntoView({block: "center"});
  const box = svg.getBoundingClientRect();
  const article = (fig.closest("article") || document.body).getBoundingClientRect();
  // what a reader sees at the drawing's centre must be the drawing itself
  const seen = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const texts = [...svg.querySelectorAll("text")];
  return {
    left: box.left, right: box.right, width: box.width, height: box.height,
    viewport: document.documentElement.clientWidth, articleRight: article.right,
    onTop: svg === seen || svg.contains(seen),
    overflowing: fig.scrollWidth > fig.clientWidth + 1,
    texts: texts.length,
    inkedTexts: texts.filter(t => t.getBBox().width > 0).length,
    name: svg.getAttribute("aria-label") || "",
    caption: (fig.querySelector("figcaption") || {textContent: ""}).textContent.trim(),
  };
})
"""


@pytest.mark.parametrize("width", [1280, 400])
@pytest.mark.parametrize("docname", list(DIAGRAM_PAGES), ids=page_id)
def test_cell_diagrams_are_displayed_within_the_page(browser, site_url, docname, width):
    """Each diagram is on its page, visible, of real size, with its text rendered, and
    inside the viewport and the text column (no horizontal overflow), on a desktop and
    on a phone-sized screen. Each one's screenshot goes to artifacts/diagrams/."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(urljoin(site_url, f"{docname}.html"), wait_until="load", timeout=30000)
        page.wait_for_load_state("networkidle", timeout=15000)
        diagrams = page.evaluate(_DIAGRAMS_JS)
        DIAGRAM_SHOTS.mkdir(parents=True, exist_ok=True)
        for i, figure in enumerate(page.query_selector_all("figure.rnn-diagram"), start=1):
            figure.scroll_into_view_if_needed()
            figure.screenshot(path=str(DIAGRAM_SHOTS / f"{page_id(docname)}-{i}-{width}px.png"))
    finally:
        context.close()
    assert len(diagrams) == DIAGRAM_PAGES[docname], f"{len(diagrams)} diagrams on the page"
    for n, d in enumerate(diagrams, start=1):
        where = f"diagram {n} ({d['name']}) at {width} px"
        assert d["onTop"], f"{where}: hidden under another element"
        assert d["width"] > min(300, 0.6 * width) and d["height"] > 60, f"{where}: {d}"
        assert d["left"] >= 0 and d["right"] <= d["viewport"] + 0.5, (
            f"{where}: outside the viewport"
        )
        assert d["right"] <= d["articleRight"] + 0.5, f"{where}: wider than the text column"
        assert not d["overflowing"], f"{where}: the figure scrolls horizontally"
        assert d["texts"] >= 5 and d["inkedTexts"] == d["texts"], f"{where}: text not rendered"
        assert d["name"] and len(d["caption"]) > 40, f"{where}: no alt text or caption"


# --------------------------------------------------------------------------- chapter 9


_CHARVIEWS_JS = """
() => {
  const box = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const coloured = sel => [...document.querySelectorAll(sel)]
    .filter(el => box(el) && getComputedStyle(el).backgroundColor !== "rgba(0, 0, 0, 0)");
  const views = [...document.querySelectorAll(".rnnbook-charview, .rnnbook-unitview")];
  return {
    views: views.filter(box).length,
    predictionCells: coloured(".rnnbook-charview td").length,
    unitSpans: coloured(".rnnbook-unitview span").length,
    colours: new Set(coloured(".rnnbook-unitview span")
                     .map(el => getComputedStyle(el).backgroundColor)).size,
    samples: [...document.querySelectorAll(".rnnbook-samples > div")].filter(box).length,
  };
}
"""


def test_chapter_9_shows_the_coloured_character_views(browser, site_url):
    """The per-character predictions and the hidden-unit colouring are visible, in colour."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(urljoin(site_url, "book/ch09_language_models.html"), wait_until="load")
        found = page.evaluate(_CHARVIEWS_JS)
    finally:
        context.close()
    assert found["views"] >= 2, found  # the prediction table and at least one unit view
    assert found["predictionCells"] >= 100, found  # text row and guesses, one cell a character
    assert found["unitSpans"] >= 300, found  # one span a character of the passage
    assert found["colours"] >= 20, found  # a range of activations, not one flat colour
    assert found["samples"] >= 3, found  # the samples after 100, 1,000 and 5,000 updates
