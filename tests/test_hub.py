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
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
from _course_helpers import ROOT, graded_cells, solution_cells, source_notebook
from _course_helpers import answer as model_answer
from _hub import COURSE, running_hub
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
    teacher.shot("11-instructor-autograded")
    seen["formgrader_scores"] = {
        student: teacher.page.locator(
            "tr", has=teacher.page.locator("td", has_text=student)
        ).locator("td.score").inner_text()
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
            "--exporter=scripts.lms_export.CanvasExporter",
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
    assert not seen["js_errors"], seen["js_errors"]
    print(f"\nbrowser story: {time.perf_counter() - t0:.0f} s")
