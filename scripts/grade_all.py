"""Autograde every collected submission of an assignment on all cores, then export a CSV.

Usage::

    python -m scripts.grade_all ex02_rnn_cell            # make grade ASSIGNMENT=ex02_rnn_cell
    python -m scripts.grade_all ex02_rnn_cell --jobs 1   # one at a time
    python -m scripts.grade_all ex02_rnn_cell --course /srv/rnnbook --csv /tmp/ex02.csv

Submissions are the folders ``submitted/<student>/<assignment>/`` of the course (``nbgrader
collect`` puts them there). Each is graded by its own ``nbgrader autograde <assignment>
--student <student>`` process, at most ``--jobs`` (default: the number of CPUs) at once: a
notebook runs in one single-threaded kernel, so one process per core is the fastest, and
separate processes keep one student's crash or infinite loop away from the others. nbgrader
writes each result into the SQLite gradebook in its own transaction, so concurrent writers
are safe. Afterwards every submission's score is read back from the gradebook and checked
against the autograded notebook itself (no lost or mixed-up grades), and ``nbgrader export``
writes the CSV whose path is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from .course import ROOT, check_assignments, nbgrader, nbgrader_env


class Result(NamedTuple):
    """How one autograde process went."""

    student: str
    ok: bool
    seconds: float
    log: str  # nbgrader's output, for a failed run


def submissions(course: Path, assignment: str) -> list[str]:
    """Students with a collected submission of ``assignment``, sorted."""
    submitted = Path(course) / "submitted"
    return (
        sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
        if submitted.is_dir()
        else []
    )


def sync_gradebook(course: Path, assignment: str) -> None:
    """Store the assignment's source cells (the tests, hidden ones included) in the gradebook.

    autograde restores test cells from the gradebook and needs the assignment there. This runs
    ``generate_assignment`` into a scratch release folder, so the committed ``exercises/`` is
    left alone. ``assignment`` may be a pattern: ``"*"`` stores every assignment at once.
    """
    with tempfile.TemporaryDirectory(prefix="rnnbook-release-") as scratch:
        nbgrader(
            [
                "generate_assignment",
                assignment,
                "--force",
                f"--CourseDirectory.release_directory={scratch}",
            ],
            cwd=course,
        )


def autograde(
    course: Path, assignment: str, student: str, env=None, extra_args: tuple[str, ...] = ()
) -> Result:
    """Grade one submission in its own nbgrader process (``extra_args``: more nbgrader options)."""
    start = time.perf_counter()
    proc = nbgrader(
        ["autograde", assignment, "--student", student, "--force", *extra_args],
        cwd=course,
        env=env,
        check=False,
    )
    return Result(
        student, proc.returncode == 0, time.perf_counter() - start, proc.stdout + proc.stderr
    )


def autograde_many(
    course: Path, jobs: list[tuple], workers: int | None = None, env=None
) -> list[Result]:
    """Grade ``(assignment, student[, extra_args])`` jobs, ``workers`` processes at a time.

    ``workers`` defaults to the number of CPUs. The threads only wait: each grading runs in its
    own nbgrader process (and kernel). Results come back in the order of ``jobs``.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    env = env or nbgrader_env()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: autograde(course, *job[:2], env, *job[2:]), jobs))


def gradebook_scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {grade_id: score}}`` for every graded submission, read from the gradebook."""
    from nbgrader.api import Gradebook
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    db_url = config.CourseDirectory.db_url
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(db_url, course_id=config.CourseDirectory.course_id) as gb:
        for submission in gb.assignment_submissions(assignment):
            cells = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.max_score > 0:
                        cells[grade.name] = float(grade.score)
            scores[submission.student.id] = cells
    return scores


def notebook_scores(course: Path, assignment: str, student: str) -> dict[str, float]:
    """``{grade_id: score}`` recomputed from the autograded notebooks' outputs.

    A test cell earns its points when it ran without an error (the checks return None, so
    there is no partial credit inside a cell).
    """
    scores = {}
    folder = Path(course) / "autograded" / student / assignment
    for path in sorted(folder.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and cell["cell_type"] == "code":
                failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
                scores[meta["grade_id"]] = 0.0 if failed else float(meta["points"])
    return scores


def verify(course: Path, assignment: str, students: list[str]) -> list[str]:
    """Problems found comparing the gradebook with the autograded notebooks (empty: none)."""
    recorded = gradebook_scores(course, assignment)
    problems = []
    for student in students:
        if student not in recorded:
            problems.append(f"{student}: no grade in the gradebook")
        else:
            # a test cell the student deleted is missing from the notebook and scores 0
            found = notebook_scores(course, assignment, student)
            expected = {grade_id: found.get(grade_id, 0.0) for grade_id in recorded[student]}
            if recorded[student] != expected or not set(found) <= set(expected):
                problems.append(
                    f"{student}: gradebook {recorded[student]} differs from the "
                    f"autograded notebook {found}"
                )
    return problems


def export_csv(course: Path, assignment: str, csv_path: Path) -> Path:
    """``nbgrader export`` of this assignment's grades to ``csv_path``."""
    csv_path = Path(csv_path).resolve()
    nbgrader(["export", f"--to={csv_path}", f"--assignment={assignment}"], cwd=course)
    return csv_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count(),
        help="autograde processes at once (default: number of CPUs)",
    )
    parser.add_argument("--course", type=Path, default=ROOT, help="course directory")
    parser.add_argument(
        "--csv",
        type=Path,
        help="where to write the grades (default: <course>/grades_<assignment>.csv)",
    )
    args = parser.parse_args(argv)
    (assignment,) = check_assignments([args.assignment])
    course = args.course.resolve()
    students = submissions(course, assignment)
    if not students:
        print(
            f"no submissions in {course / 'submitted'}/*/{assignment}; run "
            f"`nbgrader collect {assignment}` first",
            file=sys.stderr,
        )
        return 1

    sync_gradebook(course, assignment)
    print(f"grading {len(students)} submission(s) of {assignment} with {args.jobs} process(es)")
    start = time.perf_counter()
    results = autograde_many(course, [(assignment, s) for s in students], args.jobs)
    wall = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"--- autograde failed for {r.student}:\n{r.log}", file=sys.stderr)

    problems = verify(course, assignment, [r.student for r in results if r.ok])
    for problem in problems:
        print(f"GRADEBOOK MISMATCH {problem}", file=sys.stderr)
    scores = gradebook_scores(course, assignment)
    for r in results:
        cells = scores.get(r.student, {})
        print(f"  {r.student:<24} {sum(cells.values()):6.1f} points  ({r.seconds:.1f} s)")
    print(f"{len(results)} graded in {wall:.1f} s wall time")

    csv_path = export_csv(course, assignment, args.csv or course / f"grades_{assignment}.csv")
    print(f"grades written to {csv_path}")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
