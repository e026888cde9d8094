"""Grades that can be trusted: hidden cases from a secret, sealed scores, refusal without a sandbox.

The course tests (test_course_grading.py) prove the scores right; these prove that a grade
cannot be reproduced, faked or changed behind the grader's back, and that grading never
runs a student's code unconfined unless the instructor says so.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat

import numpy as np
import pytest
from _course_helpers import (
    autograded,
    filled_in,
    make_course,
    run_grade_all,
    set_cell,
    submit,
)

from rnncore.grading import _cases, _secret
from rnncore.grading.batch import check_grades
from scripts.course import nbgrader_env
from scripts.grade_all import grade, sync_gradebook

A = "ex02_rnn_cell"
NOISY = """import sys
import warnings


def rnn_cell_forward(x, h_prev, params):
    print("debugging: x has shape", x.shape)
    print("a note on stderr", file=sys.stderr)
    warnings.warn("just checking")
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    return h, (x, h_prev, h, params)
"""
SIGMOID = """def rnn_cell_forward(x, h_prev, params):
    return 1 / (1 + np.exp(-(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]))), None
"""


def with_secret(monkeypatch, path, text):
    path.write_text(text)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    monkeypatch.setenv(_secret.SECRET_ENV, str(path))


def test_hidden_cases_come_from_the_secret_and_visible_ones_do_not(tmp_path, monkeypatch):
    def draws(hidden):
        return _cases.rng_for("rnn_cell_forward", hidden).normal(size=4)

    with_secret(monkeypatch, tmp_path / "one", "a" * 64)
    hidden_one, visible_one = draws(True), draws(False)
    np.testing.assert_array_equal(draws(True), hidden_one)  # reproducible for the grader
    with_secret(monkeypatch, tmp_path / "two", "b" * 64)
    assert not np.allclose(draws(True), hidden_one)  # another secret, other hidden cases
    np.testing.assert_array_equal(draws(False), visible_one)  # the student's cases stay put
    monkeypatch.setenv(_secret.SECRET_ENV, str(tmp_path / "none"))
    assert not np.allclose(draws(True), draws(True))  # no secret: fresh practice cases


def test_a_secret_others_can_read_is_refused(tmp_path, monkeypatch):
    with_secret(monkeypatch, tmp_path / "open", "c" * 64)
    (tmp_path / "open").chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        _secret.load_secret()


def test_ensure_secret_creates_a_private_random_file(tmp_path, monkeypatch):
    monkeypatch.setenv(_secret.SECRET_ENV, str(tmp_path / "new" / "grading-secret"))
    first, created = _secret.ensure_secret()
    assert created and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "new" / "grading-secret").stat().st_mode) == 0o600
    assert _secret.ensure_secret() == (first, False)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("trust"), [A])
    submit(course, "good", A, filled_in(A))
    submit(course, "noisy", A, set_cell(filled_in(A), "rnn_cell_forward", NOISY))
    submit(course, "sigmoid", A, set_cell(filled_in(A), "rnn_cell_forward", SIGMOID))
    sync_gradebook(course, A)
    outcomes = grade(course, A, ["good", "noisy", "sigmoid"], serial=True)
    assert all(o.ok for o in outcomes), [o.log for o in outcomes]
    return course


def totals(course):
    return {c.student: c.score for c in check_grades(course, A, ["good", "noisy", "sigmoid"])}


def test_honest_noise_costs_nothing_and_shows_in_the_feedback(graded):
    assert totals(graded) == {"good": 6.0, "noisy": 6.0, "sigmoid": 2.0}
    cells = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c
        for c in autograded(graded, "noisy", A).cells
    }
    shown = "".join(  # a warning shows once, in the first cell that calls the function
        o.get("text", "")
        for gid in ("rnn_cell_forward_shapes", "rnn_cell_forward_values")
        for o in cells[gid].outputs
    )
    assert "debugging: x has shape" in shown and "just checking" in shown
    assert all(
        o.output_type == "stream" and o.name == "stdout"
        for c in cells.values()
        for o in c.get("outputs", [])
        if c.metadata.get("nbgrader", {}).get("grade")
    )


def run_check(course, tmp_path):
    csv_path = tmp_path / "grades.csv"
    done = run_grade_all(A, "--check", "--course", str(course), "--csv", str(csv_path))
    return done, csv_path


def test_an_untouched_gradebook_exports(graded, tmp_path):
    done, csv_path = run_check(graded, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(csv_path, newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {"good": 6.0, "noisy": 6.0, "sigmoid": 2.0}


def gradebook(course):
    return sqlite3.connect(course / "gradebook.db")


def test_a_score_changed_in_the_gradebook_is_caught_and_no_csv_is_written(graded, tmp_path):
    with gradebook(graded) as db:
        saved = db.execute("SELECT id, auto_score FROM grade").fetchall()
        db.execute(
            "UPDATE grade SET auto_score = 2 WHERE id IN (SELECT grade.id FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment AS sa ON submitted_notebook.assignment_id = sa.id "
            "WHERE sa.student_id = 'sigmoid')"
        )
    try:
        assert totals(graded)["sigmoid"] is None
        done, csv_path = run_check(graded, tmp_path)
        assert done.returncode == 1 and not csv_path.exists()
        assert "sigmoid" in done.stderr and "is not the sealed" in done.stderr
        assert "NOT TRUSTED" in done.stdout and "0.0 points" not in done.stdout
    finally:
        with gradebook(graded) as db:
            db.executemany(
                "UPDATE grade SET auto_score = ? WHERE id = ?",
                [(score, gid) for gid, score in saved],
            )
    assert totals(graded)["sigmoid"] == 2.0


@pytest.mark.parametrize("tamper", ["edit_output", "copy_seal", "drop_seal"])
def test_an_autograded_notebook_changed_after_grading_is_caught(graded, tamper):
    path = graded / "autograded" / "sigmoid" / A / f"{A}.ipynb"
    saved = path.read_text()
    nb = json.loads(saved)
    if tamper == "edit_output":  # pretend the failing cell passed
        for cell in nb["cells"]:
            if (
                cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                == "rnn_cell_forward_values"
            ):
                cell["outputs"] = []
    elif tamper == "copy_seal":  # the seal of a full-marks notebook
        good = json.loads((graded / "autograded" / "good" / A / f"{A}.ipynb").read_text())
        nb["metadata"]["rnnbook_seal"] = good["metadata"]["rnnbook_seal"]
    else:
        del nb["metadata"]["rnnbook_seal"]
    path.write_text(json.dumps(nb))
    try:
        (checked,) = [c for c in check_grades(graded, A, ["sigmoid"])]
        assert checked.score is None and checked.problem
    finally:
        path.write_text(saved)


def test_without_bubblewrap_grading_refuses_unless_told_unsafe(tmp_path):
    course = make_course(tmp_path / "course", [A])
    submit(course, "good", A, filled_in(A))
    env = nbgrader_env({"RNNBOOK_BWRAP": str(tmp_path / "no-bwrap-here")})
    command = [A, "--course", str(course), "--serial"]
    refused = run_grade_all(*command, env=env)
    assert refused.returncode == 2 and "REFUSING TO GRADE" in refused.stderr
    assert not (course / "autograded").exists()
    unsafe = run_grade_all(*command, "--unsafe", env=env)
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    assert "WITHOUT the sandbox" in unsafe.stderr and "6.0 / 6 points" in unsafe.stdout
    assert os.environ.get("RNNBOOK_BWRAP") is None


def test_an_unreadable_submission_scores_zero_with_a_reason_and_blocks_nobody(tmp_path):
    course = make_course(tmp_path / "course", [A])
    submit(course, "good", A, filled_in(A))
    broken = course / "submitted" / "broken" / A
    broken.mkdir(parents=True)
    (broken / f"{A}.ipynb").write_text('{"cells": [ this is not json')
    done = run_grade_all(A, "--course", str(course), "--serial", "--csv", str(tmp_path / "g.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not gradable: ex02_rnn_cell.ipynb is not a notebook that can be read" in done.stdout
    with open(tmp_path / "g.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows == {"good": 6.0, "broken": 0.0}
    told = autograded(course, "broken", A)
    messages = [o.evalue for c in told.cells for o in c.get("outputs", []) if "evalue" in o]
    assert messages and all("Your submission was not graded" in m for m in messages)
    assert [c.problem for c in check_grades(course, A, ["good", "broken"])] == [None, None]
