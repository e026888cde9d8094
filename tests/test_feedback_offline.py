"""The feedback page a student receives renders its maths with no network at all.

One submission of ex02 (the model answers) is autograded in a scratch course
(``tests/_course_helpers.make_course``, which copies ``nbgrader_config.py``; the trusted
pipeline of ``scripts.grade_all``), then ``nbgrader generate_feedback`` writes its page. The
page must name no script or stylesheet on the web. Debian's chromium opens it from disk, and
from a local server that sends the headers of Jupyter's ``/files/`` route (the hub's link
to the feedback), with every request off the page's own origin aborted: either way every
formula of the notebook's text is typeset by the MathJax inlined in the page
(``rnncore/grading/feedback.py``).
Without MathJax installed, generating feedback fails and says how to install it.

Run: ``.venv/bin/pytest tests/test_feedback_offline.py`` (about a minute on a busy machine).
Screenshots: ``artifacts/screenshots/feedback-ex02_rnn_cell-{disk,files-route}.png``.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest
from _course_helpers import ROOT, filled_in, make_course, released_notebook, submit
from _hub_browser import CHROMIUM_ARGS, chromium

from rnncore.grading import feedback
from scripts.course import nbgrader
from scripts.grade_all import grade, sync_gradebook

A = "ex02_rnn_cell"
STUDENT = "ada"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
MISSING = "MathJax for the feedback pages is missing"

# TeX in a notebook's Markdown as Jupyter reads it: $$display$$ or $inline$, outside code spans
CODE_SPAN = re.compile(r"`[^`]*`")
TEX = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


def tex_in_markdown(nb) -> list[tuple[str, bool]]:
    """Every formula of the notebook's Markdown cells, delimiters dropped, and whether it is
    a display formula."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = CODE_SPAN.sub("", cell.source)
            found += [
                ((m.group(1) or m.group(2)).strip(), m.group(1) is not None)
                for m in TEX.finditer(text)
            ]
    return found


class _Links(HTMLParser):
    """The ``src`` of every ``<script>`` and the ``href`` of every ``<link>`` of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"script": "src", "link": "href"}.get(tag)
        self.urls += [value or "" for name, value in attrs if name == wanted]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with one autograded submission of ex02 and its feedback generated."""
    course = make_course(tmp_path_factory.mktemp("feedback-course"), [A])
    submit(course, STUDENT, A, filled_in(A))
    sync_gradebook(course, A)
    outcome = grade(course, A, [STUDENT], serial=True)[0]
    assert outcome.ok, outcome.log[-3000:]
    nbgrader(["generate_feedback", A, "--force"], cwd=course)
    return course


@pytest.fixture(scope="module")
def page(course) -> Path:
    return course / "feedback" / STUDENT / A / f"{A}.html"


# --------------------------------------------------------------------------- the file


@pytest.mark.slow
def test_feedback_names_nothing_on_the_web(page):
    html = page.read_text(encoding="utf-8")
    links = _Links()
    links.feed(html)
    assert not [u for u in links.urls if re.match(r"\s*(https?:)?//", u)], links.urls
    assert "cdnjs" not in html and "mathjax/2.7" not in html.lower()
    # MathJax 3 itself is in the page, once, as the filter gave it
    assert html.count(feedback.inline_mathjax("tex-svg-full.js")) == 1


# --------------------------------------------------------------------------- the browser

_TYPESET_JS = """
async () => {
  await MathJax.startup.promise;
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll("pre, code, script, style, mjx-container")
       .forEach(node => node.remove());
  return {
    containers: document.querySelectorAll("mjx-container").length,
    display: document.querySelectorAll("mjx-container[display='true']").length,
    svgs: document.querySelectorAll("mjx-container svg").length,
    errors: [...document.querySelectorAll("mjx-merror, [data-mjx-error]")]
              .map(e => e.getAttribute("data-mjx-error") || e.textContent),
    text: clone.textContent,
    version: MathJax.version,
    origin: window.origin,
  };
}
"""


# What jupyter_server's /files/ route (the hub's "view feedback") sends with an HTML file:
# the page runs in a sandbox of its own origin, scripts allowed (FilesHandler).
FILES_ROUTE_CSP = (
    "frame-ancestors 'self'; report-uri /api/security/csp-report; sandbox allow-scripts"
)


class _FilesRoute(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Content-Security-Policy", FILES_ROUTE_CSP)
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def served(folder: Path):
    """``folder`` over HTTP on 127.0.0.1 with the /files/ route's headers, for one test."""
    handler = functools.partial(_FilesRoute, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (never Playwright's own download)."""
    from playwright import sync_api  # a pinned requirement

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def open_offline(browser, url: str, screenshot: Path) -> dict:
    """Load ``url`` with every request off its own origin aborted; what the page showed."""
    own = urlparse(url)
    attempted, problems = [], []

    def foreign(request_url: str) -> bool:
        there = urlparse(request_url)
        return there.scheme not in ("data", "about") and (there.scheme, there.netloc) != (
            own.scheme,
            own.netloc,
        )

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        context.route("**/*", lambda r: r.abort() if foreign(r.request.url) else r.continue_())
        tab = context.new_page()
        tab.on("request", lambda r: foreign(r.url) and attempted.append(r.url))
        tab.on("pageerror", lambda err: problems.append(f"uncaught: {err}"))
        tab.on("console", lambda m: m.type == "error" and problems.append(m.text))
        tab.goto(url, wait_until="load", timeout=60_000)
        report = tab.evaluate(_TYPESET_JS)
        report["attempted"], report["problems"] = list(attempted), list(problems)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(screenshot), full_page=True)
        # the guard itself: a request to the web is seen and aborted
        probe = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"
        blocked = tab.evaluate(f"() => fetch('{probe}').then(() => 'loaded', () => 'blocked')")
        report["guard"] = (blocked, attempted[len(report["attempted"]) :]) == ("blocked", [probe])
    finally:
        context.close()
    return report


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("where", ["disk", "files-route"])
def test_feedback_typesets_its_maths_offline(page, browser, where):
    """Opened from disk, and served as Jupyter's /files/ route serves it (the hub's link)."""
    formulas = tex_in_markdown(released_notebook(A))
    expected = [tex for tex, _ in formulas]
    assert len(expected) >= 5 and any("\\tanh" in t for t in expected)  # ex02's own text
    shot = SCREENSHOTS / f"feedback-{A}-{where}.png"
    if where == "disk":
        report = open_offline(browser, page.as_uri(), shot)
    else:
        with served(page.parent) as url:
            report = open_offline(browser, f"{url}/{page.name}", shot)

    assert report["guard"]
    if where == "files-route":  # the CSP's sandbox took effect: an origin of its own
        assert report["origin"] == "null"
    assert report["attempted"] == [], "the page asked the network for these"
    assert report["problems"] == []
    assert report["version"].startswith("3.")
    assert report["errors"] == []
    # one typeset formula, drawn as SVG, per formula of the notebook's text; none left raw
    assert report["containers"] == len(expected) == report["svgs"]
    assert report["display"] == sum(display for _, display in formulas) > 0
    # ("t" alone is a letter of the text too: look for formulas that are TeX to the eye)
    leftovers = [t for t in expected if re.search(r"[\\_^{]", t) and t in report["text"]]
    assert leftovers == [], f"raw TeX visible in the page: {leftovers[:5]}"
    assert "$" not in report["text"]


# --------------------------------------------------------------------------- no MathJax


@pytest.mark.slow
def test_feedback_without_mathjax_fails_and_says_how_to_install_it(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    shutil.rmtree(copy / "feedback")
    with open(copy / "nbgrader_config.py", "a") as config:
        config.write(
            "import functools\n"
            "c.HTMLExporter.filters = {'inline_mathjax': functools.partial("
            f"feedback.inline_mathjax, directory={str(tmp_path / 'nothing')!r})}}\n"
        )
    proc = nbgrader(["generate_feedback", A, "--force"], cwd=copy, check=False)
    assert proc.returncode != 0
    assert MISSING in proc.stdout + proc.stderr and "npm ci" in proc.stdout + proc.stderr
    assert not (copy / "feedback" / STUDENT / A / f"{A}.html").exists()


# --------------------------------------------------------------------------- the filter


def test_missing_component_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{MISSING}: no {re.escape(str(tmp_path))}"):
        feedback.inline_mathjax("tex-svg-full.js", directory=tmp_path)


def test_inlined_script_cannot_end_early_and_means_the_same(tmp_path):
    """The escapes keep the HTML parser inside the script and change no JavaScript value."""
    node = shutil.which("node")
    assert node, "node is not installed (the README's setup needs Node.js)"
    source = (
        'const v = ["</script>", "a</SCRIPT >b", /<!--(.*?)-->/g.exec("<!--x-->")[1],'
        ' /<!--/u.test("<!--"), `</Script${1}<!--`];\n'
        "console.log(JSON.stringify(v));\n"
    )
    (tmp_path / "c.js").write_text(source)
    escaped = feedback.inline_mathjax("c.js", directory=tmp_path)
    assert not re.search(r"</script|<!--", escaped, re.I)
    (tmp_path / "escaped.js").write_text(escaped)

    def run(name):
        return subprocess.run(
            [node, str(tmp_path / name)], capture_output=True, text=True, check=True
        ).stdout

    assert run("escaped.js") == run("c.js") != ""


def test_installed_mathjax_is_the_pinned_one():
    """What `npm ci` installed is MathJax 3 as package-lock.json pins it, and inlines safely."""
    import json

    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/mathjax"]["version"]
    assert json.loads((ROOT / "package.json").read_text())["dependencies"]["mathjax"] == pinned
    assert pinned.startswith("3.")
    installed = json.loads((feedback.MATHJAX_DIR.parent / "package.json").read_text())
    assert installed["version"] == pinned
    raw = (feedback.MATHJAX_DIR / "tex-svg-full.js").read_text(encoding="utf-8")
    text = feedback.inline_mathjax("tex-svg-full.js")
    assert not re.search(r"</script|<!--", text, re.I)
    unescaped = re.sub(r"<\\/(script)", r"</\1", text, flags=re.I).replace(r"<\x21--", "<!--")
    assert unescaped == raw


def test_only_the_mathjax_macro_is_ours():
    """Our template folder comes first and replaces the macro alone: nbgrader's page stays."""
    ours, nbgraders = (Path(d) / "feedback" for d in feedback.template_basedirs())
    assert sorted(p.name for p in ours.iterdir()) == ["mathjax.html.j2"]
    assert "{{ mathjax() }}" in (nbgraders / "index.html.j2").read_text()
