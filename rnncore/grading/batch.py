"""Grading a whole class: one task per submission, then every seal checked against the gradebook.

:func:`grade_one` is what a grading worker runs (a process of a Dask cluster,
or this process when grading serially): it calls nbgrader's own autograde in
the worker's process — no ``nbgrader`` subprocess, whose start-up alone cost
2.5 s — with the trusted pipeline that ``nbgrader_config.py`` configures
(:mod:`rnncore.grading.autograde`). A worker that dies mid-task takes its
sandbox with it; the task is simply run again elsewhere, and since autograde
overwrites a submission's grades, nothing is counted twice.

:func:`check_grades` reads the gradebook back and compares every
submission's automatic scores with the seal on its autograded notebook
(:mod:`rnncore.grading.seal`): a submission that failed to grade, was never
sealed, or whose gradebook rows were changed behind the grader's back is
listed, never reported as a score.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

from . import seal

__all__ = ["Outcome", "grade_one", "check_grades"]

# One nbgrader API per course and process. Keyed by the process too: a worker forked from a
# process that had one must open its own gradebook connection, never share the parent's.
_APIS: dict[tuple[str, int], object] = {}


class Outcome(NamedTuple):
    """How grading one submission went (plain data: it crosses process boundaries)."""

    student: str
    ok: bool
    seconds: float
    log: str
    note: str = ""  # why a submission nbgrader could not read was graded 0


def _api(course: str):
    key = (course, os.getpid())
    if key not in _APIS:
        from nbgrader.apps import NbGraderAPI
        from traitlets.config.loader import PyFileConfigLoader

        from . import _gradebook

        _gradebook.install()  # one database engine per gradebook in this worker, not ten

        # nbgrader runs alembic (gradebook migrations) from this interpreter's bin/
        bin_dir = os.path.dirname(sys.executable)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        config = PyFileConfigLoader("nbgrader_config.py", path=course).load_config()
        _APIS[key] = NbGraderAPI(config=config)
    return _APIS[key]


def grade_one(course: str, assignment: str, student: str, unsafe: bool = False) -> Outcome:
    """Autograde one submission in this process; never raises."""
    start = time.perf_counter()
    if unsafe:
        os.environ["RNNBOOK_UNSAFE_GRADING"] = "1"
    try:
        api = _api(str(course))
        if api.coursedir.db_url.startswith("sqlite"):
            from .autograde import prestart

            prestart(deny=[os.path.dirname(api.coursedir.db_url.split("///", 1)[1])])
        result = api.autograde(assignment, student, force=True, create=True)
    except Exception as err:  # noqa: BLE001 - reported, never a crash of the grading run
        result = {"success": False, "error": f"{type(err).__name__}: {err}", "log": ""}
    log = "\n".join(str(result.get(k) or "") for k in ("log", "error")).strip()
    if result.get("success"):
        return Outcome(student, True, time.perf_counter() - start, log)
    try:  # the submission itself is broken: a grade of 0 that says why, never a lost grade
        note = _zero_with_reason(_api(str(course)), assignment, student, log)
    except Exception as err:  # noqa: BLE001 - then it stays "not graded", and blocks the CSV
        return Outcome(student, False, time.perf_counter() - start, f"{log}\n{err}")
    return Outcome(student, True, time.perf_counter() - start, log, note)


def _why_unreadable(course: Path, assignment: str, student: str, log: str) -> str:
    """A student's words for why nbgrader could not grade a submission."""
    import nbformat

    folder = course / "submitted" / student / assignment
    for path in sorted(folder.glob("*.ipynb")):
        try:
            nbformat.read(str(path), as_version=4)
        except Exception as err:  # noqa: BLE001 - any unreadable file
            return f"{path.name} is not a notebook that can be read ({type(err).__name__})"
    errors = [line for line in log.splitlines() if "ERROR" in line or "Error" in line]
    detail = errors[-1].split("]", 1)[-1].strip()[:300] if errors else "no detail"
    return (
        "its cells or their metadata were changed so that it could not be graded "
        f"(nbgrader: {detail}); fetch a fresh copy, move your answers into it and submit again"
    )


def _zero_with_reason(api, assignment: str, student: str, log: str) -> str:
    """Record a submission nbgrader could not grade as 0, sealed, with the reason in each cell.

    The autograded notebook is the released one with every test cell saying why; the
    gradebook gets 0 for each test cell. Returns the reason.
    """
    import nbformat
    from nbformat.v4 import new_output
    from nbgrader.api import Gradebook

    course = Path(api.coursedir.root)
    reason = _why_unreadable(course, assignment, student, log)
    message = f"Your submission was not graded: {reason}."
    release = course / api.coursedir.release_directory / assignment
    target = course / api.coursedir.autograded_directory / student / assignment
    with Gradebook(api.coursedir.db_url, course_id=api.coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student)
        for notebook in gb.find_assignment(assignment).notebooks:
            nb = nbformat.read(str(release / f"{notebook.name}.ipynb"), as_version=4)
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                    cell.outputs = [new_output("error", ename="NotGraded", evalue=message,
                                               traceback=[message])]  # fmt: skip
            nb.metadata["rnnbook_seal"] = seal.seal(nb, assignment, student, notebook.name)
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(target / f"{notebook.name}.ipynb"))
            submitted = gb.find_submission_notebook(notebook.name, assignment, student)
            for grade in submitted.grades:
                if grade.cell.cell_type == "code":
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
            gb.db.commit()
    return reason


class Checked(NamedTuple):
    """A submission's recorded grade after its seal was checked."""

    student: str
    score: float | None  # None: no trustworthy grade
    max_score: float
    problem: str | None


def check_grades(course: Path, assignment: str, students) -> list[Checked]:
    """Every submission's total, after checking its seal against the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    autograded = Path(course) / "autograded"
    checked = []
    with Gradebook(config.CourseDirectory.db_url, course_id=config.CourseDirectory.course_id) as gb:
        for student in students:
            try:
                submission = gb.find_submission(assignment, student)
            except MissingEntry:
                checked.append(Checked(student, None, 0.0, "no grade in the gradebook"))
                continue
            problem = None
            for notebook in submission.notebooks:
                path = autograded / student / assignment / f"{notebook.name}.ipynb"
                scores = {
                    g.name: g.auto_score
                    for g in notebook.grades
                    if g.cell.cell_type == "code" and g.max_score > 0 and g.auto_score is not None
                }
                if not path.exists():
                    problem = f"{notebook.name}.ipynb was not autograded"
                    break
                why = seal.verify(
                    seal.read_notebook(path), assignment, student, notebook.name, scores
                )
                if why:
                    problem = f"{notebook.name}.ipynb: {why}"
                    break
            max_score = float(submission.max_score)
            score = None if problem else float(submission.score)
            checked.append(Checked(student, score, max_score, problem))
    return checked
