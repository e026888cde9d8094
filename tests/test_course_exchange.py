"""The whole nbgrader loop through a temporary exchange, with stock nbgrader commands.

instructor: generate_assignment -> release_assignment
students (each with their own HOME): fetch_assignment -> fill in answers -> submit
instructor: collect -> autograde -> generate_feedback -> release_feedback -> export
students: fetch_feedback

Runs twice: on nbgrader's SQLite gradebook and on a PostgreSQL one (``tests/_postgres.py``).
"""

from __future__ import annotations

import csv
import json
import os

import nbformat
import pytest
from _course_helpers import (
    ROOT,
    answer,
    graded_cells,
    html_text,
    make_course,
    solution_cells,
    source_notebook,
    telling_hidden_lines,
)
from _postgres import gradebook_url, postgres_cluster  # noqa: F401 (fixtures)

from scripts.course import nbgrader, nbgrader_env
from scripts.grade_all import gradebook_scores

pytestmark = pytest.mark.slow

A = "ex02_rnn_cell"


def student_env(tmp_path, name, exchange):
    """A student's own HOME, with the course settings a JupyterHub admin would give them."""
    home = tmp_path / f"home-{name}"
    (home / ".jupyter").mkdir(parents=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa\n"
        "c.CourseDirectory.course_id = 'rnnbook'\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
    )
    (home / "work").mkdir()
    env = nbgrader_env(
        {
            "HOME": str(home),
            "USER": name,
            "LOGNAME": name,
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
            "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
        }
    )
    env.pop("RNNBOOK_EXCHANGE", None)  # students know the exchange from their config only
    return home / "work", env


def test_release_fetch_submit_collect_autograde_feedback_export(
    tmp_path,
    gradebook_url,  # noqa: F811 (the fixture)
    monkeypatch,
):
    course = make_course(tmp_path / "course", [A])
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    if gradebook_url:  # the course's config reads it; so does gradebook_scores below
        monkeypatch.setenv("RNNBOOK_DB_URL", gradebook_url)
    instructor = nbgrader_env({"RNNBOOK_EXCHANGE": str(exchange)})

    committed = json.loads((ROOT / "exercises" / A / f"{A}.ipynb").read_text())
    nbgrader(["generate_assignment", A, "--force"], cwd=course, env=instructor)
    # stock nbgrader writes exactly the committed release (scripts/generate_exercises.py's)
    assert json.loads((course / "exercises" / A / f"{A}.ipynb").read_text()) == committed
    nbgrader(["release_assignment", A], cwd=course, env=instructor)

    answers = {gid: answer(c.source) for gid, c in solution_cells(source_notebook(A)).items()}
    plans = {"ada": list(answers), "bob": ["rnn_cell_forward"]}  # bob did only part 1
    students = {name: student_env(tmp_path, name, exchange) for name in plans}
    for name, done in plans.items():
        work, env = students[name]
        nbgrader(["fetch_assignment", A], cwd=work, env=env)
        path = work / A / f"{A}.ipynb"
        nb = nbformat.read(path, as_version=4)
        for gid, cell in solution_cells(nb).items():
            if gid in done:
                cell.source = answers[gid]
        nbformat.write(nb, path)
        nbgrader(["submit", A, "--student", name], cwd=work, env=env)

    nbgrader(["collect", A], cwd=course, env=instructor)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["ada", "bob"]
    nbgrader(["autograde", A], cwd=course, env=instructor)
    nbgrader(["generate_feedback", A], cwd=course, env=instructor)
    nbgrader(["release_feedback", A], cwd=course, env=instructor)
    csv_path = tmp_path / "grades.csv"
    nbgrader(["export", f"--to={csv_path}"], cwd=course, env=instructor)

    full = {
        gid: float(c.metadata.nbgrader.points)
        for gid, c in graded_cells(source_notebook(A)).items()
    }
    recorded = gradebook_scores(course, A)
    assert (course / "gradebook.db").exists() == (gradebook_url is None)
    assert recorded["ada"] == full
    assert recorded["bob"] == {
        gid: (full[gid] if gid.startswith("rnn_cell_forward") else 0.0) for gid in full
    }
    with open(csv_path, newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert float(rows["ada"]["score"]) == sum(full.values())
    assert float(rows["bob"]["score"]) == sum(
        v for k, v in full.items() if k.startswith("rnn_cell_forward")
    )

    hidden = [
        line
        for c in graded_cells(source_notebook(A)).values()
        for line in telling_hidden_lines(c.source)
    ]
    for name in plans:
        work, env = students[name]
        nbgrader(["fetch_feedback", A, "--student", name], cwd=work, env=env)
        (report,) = (work / A / "feedback").glob(f"*/{A}.html")
        text = html_text(report)
        assert "grading.check_rnn_cell_forward" in text
        assert not [line for line in hidden if line in text]
        assert "HIDDEN TESTS" not in text and "hidden=True" not in text
    assert "not implemented yet" in html_text(report)  # bob's report explains his zeros
