"""The course on its JupyterHub: a class in a real browser, isolation, thirty at once.

One hub for the module (``tests/_hub.py``): JupyterHub 6 with the course's configuration
(``deploy/jupyterhub``), NativeAuthenticator sign-ups approved by the instructor, one Unix
account per user, the users' environment in ``/opt/rnnbook-hub/venv``, a throwaway
PostgreSQL gradebook, everything on 127.0.0.1 and removed at the end (the accounts are
named ``rnnt-<run>-...``).

* ``test_a_class_in_the_browser``: the instructor releases ex02 from the formgrader, student1
  fetches it from the Assignments tab, writes a wrong answer, validates, fixes it, validates,
  submits; student2 submits the blank notebook; the instructor collects, autogrades, makes
  and releases feedback in the formgrader; student1's fetched feedback shows full marks,
  student2's zero, and the Canvas export holds both. Screenshots: ``artifacts/hub/``.
* ``test_students_cannot_reach_each_other_or_the_formgrader``: over HTTP and on disk.
* ``test_thirty_students_log_in_and_submit_at_once``: prints login-to-ready and submit
  latencies (p50/p95) and the hub's and proxy's memory.

Run: ``.venv/bin/pytest tests/test_hub.py`` as root (about 5 minutes on 2 idle cores).
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from _course_helpers import ROOT, graded_cells, solution_cells, source_notebook
from _course_helpers import answer as model_answer
from _hub import COURSE, hubctl, hubenv, running_hub
from _hub_browser import CHROMIUM_ARGS, SCORE, Person, chromium

pytestmark = [pytest.mark.slow, pytest.mark.hub]

A = "ex02_rnn_cell"
ARTIFACTS = ROOT / "artifacts" / "hub"


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.fail("the hub tests run as root: the hub creates a Unix account per user")
    with running_hub(ARTIFACTS) as hub:
        yield hub


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def full_marks() -> float:
    return sum(float(c.metadata.nbgrader.points) for c in graded_cells(source_notebook(A)).values())


def answers() -> dict[str, str]:
    return {gid: model_answer(c.source) for gid, c in solution_cells(source_notebook(A)).items()}


# ---------------------------------------------------------------------------- the browser


def run_class(hub, browser, shots: Path) -> dict:
    """The whole story of one assignment, as the three people click through it."""
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    passwords = hub.add_students(["student1", "student2"])
    (s1, p1), (s2, p2) = passwords.items()
    teacher = Person(browser, hub, hub.instructor, hub.instructor_password, shots)
    student1 = Person(browser, hub, s1, p1, shots)
    student2 = Person(browser, hub, s2, p2, shots)
    seen = {}

    # the instructor generates the student version and releases it
    teacher.login()
    teacher.formgrader()
    teacher.shot("01-instructor-formgrader")
    row = teacher.assignment_row(A)
    teacher.click_for_dialog(row.locator("td.assign a"), "Successfully created")
    teacher.shot("02-instructor-generated")
    teacher.close_modal()
    teacher.click_for_dialog(row.locator("td.release a"), "Successfully released")
    teacher.close_modal()
    row.locator("td.status", has_text="released").wait_for()
    teacher.shot("03-instructor-released")

    # student1 fetches it from the Assignments tab
    student1.login()
    student1.assignments_tab()
    released = student1.page.locator("#released_assignments_list .list_item", has_text=A)
    released.wait_for()
    student1.shot("04-student1-assignments")
    released.locator("button", has_text="Fetch").click()
    fetched = student1.page.locator("#fetched_assignments_list .list_item", has_text=A).first
    fetched.wait_for()
    student1.shot("05-student1-fetched")

    # a wrong answer (the bias forgotten), validated; then the fix, validated, submitted
    right = answers()
    wrong = right["rnn_cell_forward"].replace('+ params["b_h"]', "+ 0.0")
    assert wrong != right["rnn_cell_forward"]
    student1.open_notebook(f"{COURSE}/{A}/{A}.ipynb")
    student1.set_answer("rnn_cell_forward", wrong)
    student1.set_answer("rnn_forward", right["rnn_forward"])
    student1.save()
    student1.shot("06-student1-wrong-answer")
    seen["validate_wrong"] = student1.validate()
    student1.shot("07-student1-validate-fails")
    student1.close_dialog()
    student1.set_answer("rnn_cell_forward", right["rnn_cell_forward"])
    student1.save()
    seen["validate_right"] = student1.validate()
    student1.shot("08-student1-validate-passes")
    student1.close_dialog()
    student1.assignments_tab()
    fetched = student1.page.locator("#fetched_assignments_list .list_item", has_text=A).first
    fetched.locator("button", has_text="Submit").click()
    submitted = student1.page.locator("#submitted_assignments_list .list_item", has_text=A)
    submitted.first.wait_for()
    student1.shot("09-student1-submitted")

    # student2 submits the notebook as handed out
    student2.login()
    student2.assignments_tab()
    page2 = student2.page
    page2.locator("#released_assignments_list .list_item", has_text=A).locator(
        "button", has_text="Fetch"
    ).click()
    page2.locator("#fetched_assignments_list .list_item", has_text=A).first.locator(
        "button", has_text="Submit"
    ).click()
    page2.locator("#submitted_assignments_list .list_item", has_text=A).first.wait_for()
    student2.shot("10-student2-submitted-blank")

    # the instructor collects, autogrades each submission, makes and releases feedback
    teacher.formgrader()
    row = teacher.assignment_row(A)
    teacher.click_for_dialog(row.locator("td.collect a"), "Successfully collected")
    teacher.close_modal()
    teacher.page.goto(f"{hub.url}/user/{hub.instructor}/formgrader/manage_submissions/{A}")
    for student in (s1, s2):
        sub = teacher.page.locator("tr", has=teacher.page.locator("td", has_text=student))
        teacher.click_for_dialog(sub.locator("td.autograde a"), "Successfully autograded")
        teacher.close_modal()
    teacher.page.reload()
    teacher.page.locator("td.score").first.wait_for()
    # graded by the course's own pipeline (nbgrader_config.py): rnncore's trusted grader seals
    # the scores it recorded with the instructor's secret
    course_dir = Path(f"/home/{hub.instructor}/{COURSE}")
    seen["sealed"] = [
        "rnnbook_seal"
        in json.loads((course_dir / f"autograded/{s}/{A}/{A}.ipynb").read_text())["metadata"]
        for s in (s1, s2)
    ]
    teacher.shot("11-instructor-autograded")
    seen["formgrader_scores"] = {
        student: teacher.page.locator("tr", has=teacher.page.locator("td", has_text=student))
        .locator("td.score")
        .inner_text()
        for student in (s1, s2)
    }
    teacher.formgrader()
    row = teacher.assignment_row(A)
    teacher.click_for_dialog(row.locator("td.generate-feedback a"), "Successfully generated")
    teacher.close_modal()
    teacher.click_for_dialog(row.locator("td.release-feedback a"), "Successfully released")
    teacher.close_modal()
    teacher.shot("12-instructor-feedback-released")

    # each student fetches the feedback and opens it
    for n, person in ((13, student1), (15, student2)):
        person.assignments_tab()
        item = person.page.locator("#submitted_assignments_list .list_item", has_text=A).first
        item.locator("button", has_text="Fetch Feedback").click()
        person.page.locator("text=(view feedback)").first.click()
        person.page.wait_for_selector(".jp-DirListing-item:has-text('.html')", timeout=60_000)
        person.shot(f"{n}-{person.name.rsplit('-', 1)[1]}-feedback-fetched")
        reports = requests.get(
            f"{hub.url}/user/{person.name}/api/contents/{COURSE}/{A}/feedback",
            headers=_api_headers(person),
            timeout=30,
        ).json()["content"]
        (stamp,) = [r["name"] for r in reports]
        person.page.goto(
            f"{hub.url}/user/{person.name}/files/{COURSE}/{A}/feedback/{stamp}/{A}.html"
        )
        person.shot(f"{n + 1}-{person.name.rsplit('-', 1)[1]}-feedback")
        seen[f"feedback_{person.name}"] = person.page.inner_text("body")

    teacher.close()
    student1.close()
    student2.close()
    seen["js_errors"] = teacher.errors + student1.errors + student2.errors
    seen["students"] = (s1, s2)
    return seen


def _api_headers(person: Person) -> dict:
    """Headers for the user's server API from the browser's own cookies (XSRF included)."""
    cookies = {c["name"]: c["value"] for c in person.context.cookies()}
    return {
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-XSRFToken": cookies.get("_xsrf", ""),
    }


def export_canvas(hub, dest: Path) -> list[list[str]]:
    """``nbgrader export`` with the Canvas plugin, run as the instructor in ~/rnnbook."""
    token = hub.api_token(hub.admin(), hub.instructor)
    env = {
        "PATH": f"{hub.venv / 'bin'}:/usr/bin:/bin",
        "HOME": f"/home/{hub.instructor}",
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_API_URL": f"{hub.url}/hub/api",
        "JUPYTERHUB_USER": hub.instructor,
        "RNNBOOK_DB_URL_FILE": str(hub.db_url_file),
    }
    out = Path(f"/home/{hub.instructor}/canvas.csv")
    subprocess.run(
        [
            "runuser",
            "-u",
            hub.instructor,
            "--",
            "env",
            "-i",
            *[f"{k}={v}" for k, v in env.items()],
            str(hub.venv / "bin" / "nbgrader"),
            "export",
            "--exporter=rnncore.grading.lms_export.CanvasExporter",
            f"--to={out}",
        ],
        cwd=f"/home/{hub.instructor}/{COURSE}",
        check=True,
        capture_output=True,
        timeout=120,
    )
    dest.write_bytes(out.read_bytes())
    with open(dest, newline="") as f:
        return list(csv.reader(f))


def test_a_class_in_the_browser(hub, browser):
    t0 = time.perf_counter()
    seen = run_class(hub, browser, ARTIFACTS)
    s1, s2 = seen["students"]
    full = full_marks()
    assert "Success! Your notebook passes all the tests." not in seen["validate_wrong"]
    assert "rnn_cell_forward" in seen["validate_wrong"]
    assert "Success! Your notebook passes all the tests." in seen["validate_right"]
    assert [float(x) for x in SCORE.search(seen[f"feedback_{s1}"]).groups()] == [full, full]
    assert [float(x) for x in SCORE.search(seen[f"feedback_{s2}"]).groups()] == [0.0, full]
    rows = export_canvas(hub, ARTIFACTS / "canvas.csv")
    assert rows[0][5] == f"{A} ({A})" and float(rows[1][5]) == full
    by_login = {row[3]: float(row[5]) for row in rows[2:]}
    assert (by_login[s1], by_login[s2]) == (full, 0.0)
    assert seen["sealed"] == [True, True]
    assert not seen["js_errors"], seen["js_errors"]
    print(f"\nbrowser story: {time.perf_counter() - t0:.0f} s")


# ---------------------------------------------------------------------------- over REST


def token_headers(token: str) -> dict:
    return {"Authorization": f"token {token}"}


def started(hub, name: str, password: str, timeout: float = 120) -> tuple[str, float]:
    """Log in through the form, start the server; ``(token, seconds login-to-ready)``."""
    t0 = time.perf_counter()
    session = hubctl.login(hub.url, name, password)
    token = hub.api_token(session, name)
    hub.start_server(name, token, timeout=timeout)
    return token, time.perf_counter() - t0


def instructor_token(hub) -> str:
    token = hub.api_token(hub.admin(), hub.instructor)
    hub.start_server(hub.instructor, token)
    return token


def ensure_released(hub, token: str) -> None:
    """ex02 released through the formgrader's API (the browser test may have done it)."""
    api = f"{hub.url}/user/{hub.instructor}/formgrader/api/assignment/{A}"
    status = requests.get(api, headers=token_headers(token), timeout=60).json().get("status")
    if status != "released":
        for action in ("assign", "release"):
            reply = requests.post(f"{api}/{action}", headers=token_headers(token), timeout=300)
            assert reply.json()["success"], reply.text


def student_action(hub, name: str, token: str, action: str) -> requests.Response:
    """nbgrader's Assignments handlers in the student's own server: fetch or submit ex02."""
    return requests.post(
        f"{hub.url}/user/{name}/assignments/{action}",
        data={"course_id": COURSE, "assignment_id": A},
        headers=token_headers(token),
        timeout=300,
    )


def as_user(name: str, code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run Python as the Unix account ``name`` (what its terminal or kernel could do)."""
    return subprocess.run(
        ["runuser", "-u", name, "--", "env", "-i", *[f"{k}={v}" for k, v in (env or {}).items()]]
        + [str(hubenv.DEFAULT_VENV / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def can_read(name: str, path: Path) -> bool:
    code = (
        "import os, sys\n"
        f"p = {str(path)!r}\n"
        "try:\n"
        "    os.listdir(p) if os.path.isdir(p) else open(p).read()\n"
        "except PermissionError:\n"
        "    sys.exit(3)\n"
    )
    proc = as_user(name, code)
    assert proc.returncode in (0, 3), proc.stderr
    return proc.returncode == 0


def test_students_cannot_reach_each_other_or_the_formgrader(hub):
    itoken = instructor_token(hub)
    ensure_released(hub, itoken)
    (a, pa), (b, pb) = hub.add_students(["iso-a", "iso-b"]).items()
    ta, _ = started(hub, a, pa)
    tb, _ = started(hub, b, pb)
    for name, token in ((a, ta), (b, tb)):
        assert student_action(hub, name, token, "fetch").json()["success"]
    assert student_action(hub, a, ta, "submit").json()["success"]

    # over HTTP: b's credentials open nothing of a's nor the instructor's, and no formgrader
    hb = token_headers(tb)
    assert requests.get(f"{hub.url}/user/{a}/api/contents", headers=hb).status_code == 403
    fg = f"{hub.url}/user/{hub.instructor}/formgrader/api/assignments"
    assert requests.get(fg, headers=hb).status_code == 403
    assert requests.get(fg, headers=token_headers(itoken)).status_code == 200
    assert requests.get(f"{hub.url}/user/{b}/formgrader", headers=hb).status_code == 404
    assert requests.get(f"{hub.url}/user/{b}/api/contents", headers=hb).status_code == 200
    browser_b = hubctl.login(hub.url, b, pb)
    assert browser_b.get(f"{hub.url}/hub/authorize").status_code == 403  # approvals

    # on disk, as b's Unix account
    exchange = hub.state / "exchange" / COURSE
    assert not can_read(b, Path(f"/home/{a}"))
    assert not can_read(b, Path(f"/home/{a}/{COURSE}/{A}/{A}.ipynb"))
    assert not can_read(b, exchange / "inbound")  # nobody finds another's submission
    assert not can_read(b, Path(f"/home/{hub.instructor}/{COURSE}"))
    assert not can_read(b, hub.db_url_file)  # the gradebook's password
    assert not can_read(b, hub.state / "private")  # the hub's database: password hashes
    assert can_read(b, exchange / "outbound" / A / f"{A}.ipynb")  # the release is public
    assert can_read(a, Path(f"/home/{a}/{COURSE}/{A}/{A}.ipynb"))
    (mine,) = [p for p in (exchange / "inbound").iterdir() if p.name.startswith(f"{a}+")]
    assert mine.stat().st_uid == pwd.getpwnam(a).pw_uid

    # b cannot submit as a: the flag is refused, and a forged inbound entry is not collected
    hub_env = {
        "HOME": f"/home/{b}",
        "PATH": f"{hubenv.DEFAULT_VENV / 'bin'}:/usr/bin:/bin",
        "JUPYTERHUB_USER": b,
        "JUPYTERHUB_API_TOKEN": tb,
        "JUPYTERHUB_API_URL": f"{hub.url}/hub/api",
    }
    submit_as_a = (
        "import sys\nfrom nbgrader.apps import NbGraderApp\n"
        f"sys.argv = ['nbgrader', 'submit', '{A}', '--course={COURSE}', '--student={a}']\n"
        "NbGraderApp.launch_instance()\n"
    )
    proc = subprocess.run(
        ["runuser", "-u", b, "--", "env", "-i", *[f"{k}={v}" for k, v in hub_env.items()]]
        + [str(hubenv.DEFAULT_VENV / "bin" / "python"), "-c", submit_as_a],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=f"/home/{b}",
    )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert f"--student='{a}' refused" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    forge = (
        "import os, shutil\n"
        f"src = '/home/{b}/{COURSE}/{A}'\n"
        f"dst = {str(exchange / 'inbound')!r} + '/{a}+{A}+2099-01-01 00:00:00.000000 UTC+forged'\n"
        "shutil.copytree(src, dst)\n"
        "open(dst + '/timestamp.txt', 'w').write('2099-01-01 00:00:00.000000 UTC')\n"
    )
    assert as_user(b, forge).returncode == 0
    collect = requests.post(
        f"{hub.url}/user/{hub.instructor}/formgrader/api/assignment/{A}/collect",
        headers=token_headers(itoken),
        timeout=300,
    ).json()
    assert collect["success"] and f"it names {a} but is owned by {b}" in collect["log"]
    stamp = Path(f"/home/{hub.instructor}/{COURSE}/submitted/{a}/{A}/timestamp.txt")
    assert not stamp.read_text().startswith("2099"), "the forged submission was collected"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for {pid}")


LOAD_STUDENTS = 30
LOAD_DEADLINE = 240  # seconds for all of them, from the first login to the last submission


def test_thirty_students_log_in_and_submit_at_once(hub):
    ensure_released(hub, instructor_token(hub))
    passwords = hub.add_students([f"load{i:02d}" for i in range(1, LOAD_STUDENTS + 1)])

    def one_student(item):
        name, password = item
        token, ready = started(hub, name, password, timeout=LOAD_DEADLINE)
        assert student_action(hub, name, token, "fetch").json()["success"]
        t0 = time.perf_counter()
        reply = student_action(hub, name, token, "submit").json()
        return name, ready, time.perf_counter() - t0, reply["success"]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=LOAD_STUDENTS) as pool:
        results = list(pool.map(one_student, passwords.items(), timeout=LOAD_DEADLINE))
    wall = time.perf_counter() - t0
    proxy_pid = int((hub.state / "private" / "jupyterhub-proxy.pid").read_text())
    hub_mb, proxy_mb = rss_mb(hub.pid), rss_mb(proxy_pid)

    assert [r[3] for r in results] == [True] * LOAD_STUDENTS
    inbound = hub.state / "exchange" / COURSE / "inbound"
    for name in passwords:  # each submission is there, under its author's Unix account
        (entry,) = [p for p in inbound.iterdir() if p.name.startswith(f"{name}+")]
        assert entry.stat().st_uid == pwd.getpwnam(name).pw_uid
    ready = [r[1] for r in results]
    submit = [r[2] for r in results]
    print(
        f"\n{LOAD_STUDENTS} students at once, {wall:.0f} s in all:"
        f" login-to-ready p50 {percentile(ready, 50):.1f} s, p95 {percentile(ready, 95):.1f} s;"
        f" submit p50 {percentile(submit, 50):.2f} s, p95 {percentile(submit, 95):.2f} s;"
        f" RSS hub {hub_mb:.0f} MB + proxy {proxy_mb:.0f} MB = {hub_mb + proxy_mb:.0f} MB"
    )
    assert wall < LOAD_DEADLINE
