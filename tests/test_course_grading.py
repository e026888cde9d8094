"""Autograding the course end to end with nbgrader, in a temporary copy of the course.

One module fixture grades, on a local Dask cluster (``scripts.grade_all.grade_jobs``, the
trusted pipeline of ``rnncore.grading.autograde``: the student's code in a sandbox, the checks
in the grader):

* ``solution``: every released notebook filled in with the model answers -> full marks;
* ``stub``: every released notebook as handed out -> 0, and the run goes on;
* ``mutants``: per assignment, every answer replaced by the first mistake of E1's catalogue
  (``rnncore.grading.mistakes``, inlined as plain code: rnncore is absent in the sandbox) ->
  the function's test cells lose points and the feedback names the mistake;
* robustness submissions of ex02: an infinite loop, edited read-only tests, a syntax error,
  deleted cells, wrong return types, NaN.

Then ``nbgrader generate_feedback`` runs once for everybody. A second test runs
``python -m scripts.grade_all`` (parallel, the ``make grade`` path) and a serial run on six
submissions and compares.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from _course_helpers import (
    ASSIGNMENTS,
    autograded,
    catalogue,
    errors,
    filled_in,
    graded_cells,
    graded_functions,
    html_text,
    make_course,
    mutant_source,
    released_notebook,
    run_grade_all,
    set_cell,
    solution_cells,
    source_notebook,
    submit,
    telling_hidden_lines,
)

from rnncore.grading.batch import check_grades
from scripts.course import nbgrader
from scripts.grade_all import grade, grade_jobs, gradebook_scores, sync_gradebook

pytestmark = pytest.mark.slow

LOOP_TIMEOUT = 10  # seconds per call of a student's function in this course (30 by default)

# ex02's answers, broken in the ways students break them
LOOP = """def rnn_forward(X, h0, params):
    while True:  # forgot to advance t
        pass
"""
SYNTAX_ERROR = """def rnn_cell_forward(x, h_prev, params):
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]
    return h, None
"""
RETURNS_LIST = """def rnn_cell_forward(x, h_prev, params):
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    return h.tolist(), None
"""
RETURNS_NOTHING = """def rnn_forward(X, h0, params):
    H = np.zeros((X.shape[0], X.shape[1], params["W_hh"].shape[0]))
"""
RETURNS_NAN = """def rnn_cell_forward(x, h_prev, params):
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    h[0, 0] = np.nan
    return h, None
"""
ZERO_CELL = """def rnn_cell_forward(x, h_prev, params):
    return np.zeros((x.shape[0], params["W_hh"].shape[0])), None
"""
CHEAT = """grading.check_rnn_cell_forward = lambda *args, **kwargs: None  # "passes" every test"""


def robustness_submissions():
    """ex02 submissions that must each be graded without crashing the run."""
    a = "ex02_rnn_cell"
    loop = set_cell(filled_in(a), "rnn_forward", LOOP)

    edited = set_cell(filled_in(a), "rnn_cell_forward", ZERO_CELL)
    for gid in graded_cells(edited):
        set_cell(edited, gid, CHEAT if gid.startswith("rnn_cell_forward") else "pass")

    syntax = set_cell(filled_in(a), "rnn_cell_forward", SYNTAX_ERROR)

    deleted = filled_in(a)
    deleted.cells = [
        c
        for c in deleted.cells
        if c.get("id") not in ("rnn_forward", "rnn_forward_values", "code-03")
    ]

    types = set_cell(
        set_cell(filled_in(a), "rnn_cell_forward", RETURNS_LIST), "rnn_forward", RETURNS_NOTHING
    )
    nan = set_cell(filled_in(a), "rnn_cell_forward", RETURNS_NAN)
    copycat = set_cell(filled_in(a), "rnn_cell_forward", "from rnncore import rnn_cell_forward")
    return {
        "loop": loop,
        "edited_tests": edited,
        "syntax_error": syntax,
        "deleted_cells": deleted,
        "wrong_types": types,
        "nan_output": nan,
        "copycat": copycat,
    }


def mutant_notebook(assignment: str, index: int = 0):
    nb = filled_in(assignment)
    for function in graded_functions(assignment):
        set_cell(nb, function, mutant_source(assignment, function, index))
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course with every submission autograded and feedback generated."""
    course = make_course(
        tmp_path_factory.mktemp("course"),
        config_lines=f"c.TrustedExecute.call_timeout = {LOOP_TIMEOUT}",
    )
    jobs = []
    for a in ASSIGNMENTS:
        submit(course, "solution", a, filled_in(a))
        submit(course, "stub", a, released_notebook(a))
        submit(course, "mutants", a, mutant_notebook(a))
        jobs += [(a, "solution"), (a, "stub"), (a, "mutants")]
    for student, nb in robustness_submissions().items():
        submit(course, student, "ex02_rnn_cell", nb)
        jobs.append(("ex02_rnn_cell", student))
    sync_gradebook(course, "*")
    # slowest first, so that the long runs overlap with the many short ones
    jobs.sort(key=lambda job: job[1] != "loop")
    results = grade_jobs(course, jobs)
    failed = [f"{job}:\n{r.log[-3000:]}" for job, r in zip(jobs, results) if not r.ok]
    assert not failed, "autograde failed:\n" + "\n".join(failed)
    nbgrader(["generate_feedback", "*", "--force"], cwd=course)
    return course


def scores(course, assignment, student):
    return gradebook_scores(course, assignment)[student]


def max_scores(assignment):
    return {
        gid: float(c.metadata.nbgrader.points)
        for gid, c in graded_cells(source_notebook(assignment)).items()
    }


def cell_errors(course, student, assignment):
    return {
        gid: errors(c) for gid, c in graded_cells(autograded(course, student, assignment)).items()
    }


def feedback(course, student, assignment):
    return html_text(course / "feedback" / student / assignment / f"{assignment}.html")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_model_answers_score_full_marks(course, assignment):
    assert scores(course, assignment, "solution") == max_scores(assignment)
    assert not any(cell_errors(course, "solution", assignment).values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stubs_score_zero_and_say_not_implemented(course, assignment):
    got = scores(course, assignment, "stub")
    assert set(got) == set(max_scores(assignment)) and sum(got.values()) == 0
    for gid, text in cell_errors(course, "stub", assignment).items():
        assert "not implemented yet" in text, f"{gid}: {text[-500:]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalogued_mistakes_lose_points_and_are_named_in_the_feedback(course, assignment):
    got, full = scores(course, assignment, "mutants"), max_scores(assignment)
    errs = cell_errors(course, "mutants", assignment)
    report = feedback(course, "mutants", assignment)
    for function in graded_functions(assignment):
        mistake = catalogue(assignment, function)[0]
        cells = [gid for gid in full if gid.startswith(function + "_")]
        lost = [gid for gid in cells if got[gid] < full[gid]]
        assert lost, f"{function}: {mistake.description!r} kept full marks"
        named = [gid for gid in lost if mistake.description in errs[gid]]
        assert named, f"{function}: no failing cell names {mistake.description!r}: " + " | ".join(
            errs[gid][-300:] for gid in lost
        )
        assert mistake.description in report, f"{function}: the feedback lacks the hint"
    assert sum(got.values()) < sum(full.values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_never_shows_hidden_tests(course, assignment):
    hidden = {
        line
        for c in graded_cells(source_notebook(assignment)).values()
        for line in telling_hidden_lines(c.source)
    }
    for student in ("solution", "stub", "mutants"):
        report = feedback(course, student, assignment)
        assert "grading.check_" in report  # the visible tests are there
        assert "hidden=True" not in report and "HIDDEN TESTS" not in report
        assert not [line for line in hidden if line in report]


def test_every_grade_is_recorded_and_matches_its_notebook(course):
    for a in ASSIGNMENTS:
        students = ["solution", "stub", "mutants"]
        if a == "ex02_rnn_cell":
            students += list(robustness_submissions())
        checked = check_grades(course, a, students)
        assert [c.problem for c in checked] == [None] * len(students)
        assert set(gradebook_scores(course, a)) == set(students)


def test_infinite_loop_times_out_and_the_other_cells_are_graded(course):
    got, full = scores(course, "ex02_rnn_cell", "loop"), max_scores("ex02_rnn_cell")
    errs = cell_errors(course, "loop", "ex02_rnn_cell")
    for gid in ("rnn_cell_forward_shapes", "rnn_cell_forward_values"):
        assert got[gid] == full[gid] and not errs[gid]
    for gid in ("rnn_forward_shapes", "rnn_forward_values"):
        assert got[gid] == 0, gid
        assert f"ran longer than {LOOP_TIMEOUT} s" in errs[gid], errs[gid][-400:]


def test_edited_test_cells_are_restored_with_their_hidden_tests(course):
    got = scores(course, "ex02_rnn_cell", "edited_tests")
    restored = graded_cells(autograded(course, "edited_tests", "ex02_rnn_cell"))
    for gid, cell in graded_cells(source_notebook("ex02_rnn_cell")).items():
        assert restored[gid].source == cell.source, f"{gid} not restored"
    # the wrong answer is caught although its tests were replaced by a cheat
    assert got["rnn_cell_forward_values"] == 0 and got["rnn_forward_values"] == 0
    assert (
        "wrong values in h"
        in cell_errors(course, "edited_tests", "ex02_rnn_cell")["rnn_cell_forward_values"]
    )


def test_syntax_error_scores_zero_for_that_function_with_a_clear_message(course):
    got = scores(course, "ex02_rnn_cell", "syntax_error")
    answer = next(
        c
        for c in autograded(course, "syntax_error", "ex02_rnn_cell").cells
        if c.get("id") == "rnn_cell_forward"
    )
    assert "SyntaxError" in errors(answer)
    assert got["rnn_cell_forward_shapes"] == got["rnn_cell_forward_values"] == 0
    errs = cell_errors(course, "syntax_error", "ex02_rnn_cell")
    assert "rnn_cell_forward" in errs["rnn_cell_forward_shapes"]  # NameError names it


def test_deleted_cells_score_zero_and_the_rest_is_graded(course):
    got, full = scores(course, "ex02_rnn_cell", "deleted_cells"), max_scores("ex02_rnn_cell")
    assert got["rnn_forward_values"] == 0  # the deleted test cell
    assert got["rnn_forward_shapes"] == 0  # its function was deleted too
    assert got["rnn_cell_forward_shapes"] == full["rnn_cell_forward_shapes"]
    assert got["rnn_cell_forward_values"] == full["rnn_cell_forward_values"]


def test_wrong_return_types_get_their_own_messages(course):
    got = scores(course, "ex02_rnn_cell", "wrong_types")
    errs = cell_errors(course, "wrong_types", "ex02_rnn_cell")
    assert sum(got.values()) == 0
    assert "should be a NumPy array" in errs["rnn_cell_forward_shapes"]
    assert "returned None" in errs["rnn_forward_shapes"]


def test_nan_output_is_reported(course):
    got = scores(course, "ex02_rnn_cell", "nan_output")
    errs = cell_errors(course, "nan_output", "ex02_rnn_cell")
    assert got["rnn_cell_forward_shapes"] == 0 and got["rnn_cell_forward_values"] == 0
    assert "NaN" in errs["rnn_cell_forward_shapes"]


def test_grade_all_in_parallel_gives_the_serial_scores_and_a_csv(tmp_path):
    """`python -m scripts.grade_all` on six submissions, against one-at-a-time grading."""
    a = "ex01_vocabulary"
    parallel = make_course(tmp_path / "parallel", [a])
    wrong = filled_in(a)
    set_cell(wrong, "one_hot", mutant_source(a, "one_hot"))
    half = released_notebook(a)
    answers = solution_cells(filled_in(a))
    set_cell(half, "build_vocab", answers["build_vocab"].source)
    submissions = {
        "ada": filled_in(a),
        "bob": released_notebook(a),
        "cy": wrong,
        "dee": half,
        "eve": filled_in(a),
        "fay": released_notebook(a),
    }
    for student, nb in submissions.items():
        submit(parallel, student, a, nb)
    serial = tmp_path / "serial"
    shutil.copytree(parallel, serial)

    csv_path = tmp_path / "grades.csv"
    proc = run_grade_all(a, "--course", str(parallel), "--csv", str(csv_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"grades written to {csv_path}" in proc.stdout

    sync_gradebook(serial, a)
    results = grade(serial, a, list(submissions), serial=True)
    assert all(r.ok for r in results)

    in_parallel, one_by_one = gradebook_scores(parallel, a), gradebook_scores(serial, a)
    assert in_parallel == one_by_one
    full = sum(max_scores(a).values())
    totals = {s: sum(cells.values()) for s, cells in in_parallel.items()}
    assert totals["ada"] == totals["eve"] == full and totals["bob"] == totals["fay"] == 0
    assert 0 < totals["cy"] < full and 0 < totals["dee"] < full
    with open(csv_path, newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(submissions)
    for student, total in totals.items():
        assert float(rows[student]["score"]) == total
        assert float(rows[student]["max_score"]) == full
        assert rows[student]["assignment"] == a


def test_calling_the_reference_scores_zero(course):
    """An answer that just imports rnncore's own function: rnncore is not in the sandbox."""
    got = scores(course, "ex02_rnn_cell", "copycat")
    assert sum(got.values()) == 0  # rnn_forward too: it calls the refused rnn_cell_forward
    for text in cell_errors(course, "copycat", "ex02_rnn_cell").values():
        assert "calls rnncore's reference `rnn_cell_forward`" in text
