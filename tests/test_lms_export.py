"""Grades out to an LMS: ``nbgrader export`` with the plugins of ``rnncore/grading/lms_export.py``.

A course copy with ex02 due at a fixed time and nbgrader's own late rule
(``LateSubmissionPlugin.penalty_method = "zero"``): ada hands in the model answers on time,
bob the same answers an hour late, cy nothing. After stock ``nbgrader autograde``, both
exports are parsed back: ada has full marks, bob's late penalty takes his score to 0 (and the
per-assignment file shows his raw score and the penalty), cy has 0, and the Points Possible
row holds the assignment's points, summed here from the source notebook. Runs on the SQLite
and on a PostgreSQL gradebook.
"""

from __future__ import annotations

import csv

import pytest
from _course_helpers import filled_in, graded_cells, make_course, source_notebook, submit
from _postgres import new_database, postgres_cluster  # noqa: F401 (fixture)

from rnncore.grading.lms_export import ASSIGNMENT_COLUMNS, CANVAS_IDENTITY
from scripts.course import nbgrader, nbgrader_env

pytestmark = pytest.mark.slow

A = "ex02_rnn_cell"
DUE = "2026-03-02 12:00:00 UTC"
STAMPS = {"ada": "2026-03-02 11:59:00.000000 UTC", "bob": "2026-03-02 13:00:00.000000 UTC"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def graded(request, tmp_path_factory):
    """The course autograded once per gradebook backend; ``(course, env)``."""
    extra = {}
    if request.param == "postgres":
        extra["RNNBOOK_DB_URL"] = new_database(request.getfixturevalue("postgres_cluster"))
    course = make_course(
        tmp_path_factory.mktemp("course"),
        [A],
        config_lines='c.LateSubmissionPlugin.penalty_method = "zero"\n',
    )
    env = nbgrader_env(extra)
    (course / "assignments.csv").write_text(f"name,duedate\n{A},{DUE}\n")
    nbgrader(["db", "assignment", "import", "assignments.csv"], cwd=course, env=env)
    (course / "students.csv").write_text(
        "id,last_name,lms_user_id\nada,Ada,S-001\nbob,Bob,S-002\ncy,Cy,S-003\n"
    )
    nbgrader(["db", "student", "import", "students.csv"], cwd=course, env=env)
    nbgrader(["generate_assignment", A, "--force"], cwd=course, env=env)
    for name, stamp in STAMPS.items():
        submit(course, name, A, filled_in(A))
        (course / "submitted" / name / A / "timestamp.txt").write_text(stamp)
    nbgrader(["autograde", A], cwd=course, env=env)
    return course, env


def full_marks() -> float:
    return sum(float(c.metadata.nbgrader.points) for c in graded_cells(source_notebook(A)).values())


def test_canvas_csv_has_the_header_points_possible_and_penalised_scores(graded, tmp_path):
    course, env = graded
    dest = tmp_path / "canvas.csv"
    nbgrader(
        [
            "export",
            "--exporter=rnncore.grading.lms_export.CanvasExporter",
            f"--to={dest}",
            '--CanvasExporter.assignment_ids={"ex02_rnn_cell": "4711"}',
            "--CanvasExporter.section=RNN 2026",
        ],
        cwd=course,
        env=env,
    )
    with open(dest, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == CANVAS_IDENTITY + [f"{A} (4711)"]
    assert rows[1][0] == "Points Possible" and float(rows[1][5]) == full_marks()
    by_login = {row[3]: row for row in rows[2:]}
    assert sorted(by_login) == ["ada", "bob", "cy"]
    assert by_login["ada"][:5] == ["Ada", "", "S-001", "ada", "RNN 2026"]
    assert float(by_login["ada"][5]) == full_marks()
    assert float(by_login["bob"][5]) == 0.0  # an hour late: nbgrader's "zero" rule
    assert float(by_login["cy"][5]) == 0.0  # nothing handed in


def test_per_assignment_csv_shows_raw_score_penalty_and_score(graded, tmp_path):
    course, env = graded
    folder = tmp_path / "grades"
    nbgrader(
        ["export", "--exporter=rnncore.grading.lms_export.AssignmentCsvExporter", f"--to={folder}"],
        cwd=course,
        env=env,
    )
    assert [p.name for p in folder.iterdir()] == [f"{A}.csv"]
    with open(folder / f"{A}.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ASSIGNMENT_COLUMNS
        rows = {row["student_id"]: row for row in reader}
    full = full_marks()
    ada, bob, cy = rows["ada"], rows["bob"], rows["cy"]
    assert (float(ada["raw_score"]), float(ada["late_penalty"]), float(ada["score"])) == (
        full,
        0.0,
        full,
    )
    assert (float(bob["raw_score"]), float(bob["late_penalty"]), float(bob["score"])) == (
        full,
        full,
        0.0,
    )
    assert ada["submitted"].startswith("2026-03-02T11:59") and bob["submitted"].startswith(
        "2026-03-02T13:00"
    )
    assert (cy["score"], cy["submitted"], cy["lms_user_id"]) == ("0", "", "S-003")
    assert all(float(row["max_score"]) == full for row in rows.values())


def test_an_unknown_assignment_is_an_error_naming_it(graded, tmp_path):
    course, env = graded
    proc = nbgrader(
        [
            "export",
            "--exporter=rnncore.grading.lms_export.CanvasExporter",
            f"--to={tmp_path / 'x.csv'}",
            "--assignment=ex99_nothing",
        ],
        cwd=course,
        env=env,
        check=False,
    )
    assert proc.returncode != 0 and "ex99_nothing" in proc.stdout + proc.stderr


def test_an_export_refuses_grades_whose_seal_does_not_match(graded, tmp_path):
    """A score changed in the gradebook after grading stops the export (issue 9's seals)."""
    from nbgrader.api import Gradebook

    course, env = graded
    db_url = env.get("RNNBOOK_DB_URL") or f"sqlite:///{course / 'gradebook.db'}"

    def shift(delta):
        with Gradebook(db_url) as gb:
            for notebook in gb.find_submission(A, "ada").notebooks:
                for grade in notebook.grades:
                    if grade.auto_score is not None:
                        grade.auto_score += delta
            gb.db.commit()

    shift(-1.0)  # ada's full marks, one point less behind the grader's back
    try:
        done = nbgrader(
            ["export", "--exporter=rnncore.grading.lms_export.AssignmentCsvExporter",
             f"--to={tmp_path / 'grades'}"],
            cwd=course, env=env, check=False,
        )  # fmt: skip
        assert done.returncode != 0
        assert "not exporting" in done.stdout + done.stderr and "ada" in done.stdout + done.stderr
        assert not (tmp_path / "grades").exists()
    finally:
        shift(+1.0)
