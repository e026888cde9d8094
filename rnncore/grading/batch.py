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

_APIS: dict[str, object] = {}  # one nbgrader API per course and worker process


class Outcome(NamedTuple):
    """How grading one submission went (plain data: it crosses process boundaries)."""

    student: str
    ok: bool
    seconds: float
    log: str


def _api(course: str):
    if course not in _APIS:
        from nbgrader.apps import NbGraderAPI
        from traitlets.config.loader import PyFileConfigLoader

        # nbgrader runs alembic (gradebook migrations) from this interpreter's bin/
        bin_dir = os.path.dirname(sys.executable)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        config = PyFileConfigLoader("nbgrader_config.py", path=course).load_config()
        _APIS[course] = NbGraderAPI(config=config)
    return _APIS[course]


def grade_one(course: str, assignment: str, student: str, unsafe: bool = False) -> Outcome:
    """Autograde one submission in this process; never raises."""
    start = time.perf_counter()
    if unsafe:
        os.environ["RNNBOOK_UNSAFE_GRADING"] = "1"
    try:
        result = _api(str(course)).autograde(assignment, student, force=True, create=True)
    except Exception as err:  # noqa: BLE001 - reported, never a crash of the grading run
        result = {"success": False, "error": f"{type(err).__name__}: {err}", "log": ""}
    log = "\n".join(str(result.get(k) or "") for k in ("log", "error")).strip()
    return Outcome(student, bool(result.get("success")), time.perf_counter() - start, log)


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
