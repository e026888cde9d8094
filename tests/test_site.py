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
        page.goto(url, wait_until="load", timeout=30000)
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


def test_chapters_with_widgets_exist(site_dir):
    """Guards the widget test against passing vacuously (no page embedding widget state)."""
    pages = [
        name
        for name in DOCNAMES
        if (site_dir / f"{name}.html").exists()
        and "application/vnd.jupyter.widget-view+json"
        in (site_dir / f"{name}.html").read_text(encoding="utf-8")
    ]
    assert pages, "no page of the site embeds ipywidgets state"


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
    """MathJax and the widget manager come from _static, as _config.yml says."""
    chapter = next(
        (
            site_dir / f"{name}.html"
            for name in DOCNAMES
            if (site_dir / f"{name}.html").exists()
            and "widget-view+json" in (site_dir / f"{name}.html").read_text(encoding="utf-8")
        ),
        None,
    )
    assert chapter is not None, "no page embeds widgets"
    scripts = _parse(chapter).resources
    assert any(re.search(r"_static/mathjax/tex-chtml\.js", s) for s in scripts), scripts
    assert any(re.search(r"_static/require\.js", s) for s in scripts), scripts
    assert any(re.search(r"_static/jupyter-widgets/embed-amd\.js", s) for s in scripts), scripts
    for path in ("mathjax/tex-chtml.js", "require.js", "jupyter-widgets/embed-amd.js"):
        assert (site_dir / "_static" / path).stat().st_size > 1000, path


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
