"""Grades out of nbgrader's gradebook in the files learning-management systems import.

Two nbgrader export plugins (``nbgrader export --exporter=rnncore.grading.lms_export.<Class>``):

``CanvasExporter``
    Canvas's gradebook CSV: ``Student, ID, SIS User ID, SIS Login ID, Section``, then one
    column per assignment titled ``<name> (<id>)``, a ``Points Possible`` row under the
    header, and a row per student. Canvas matches a row to a person by ``SIS Login ID`` (the
    hub user name, nbgrader's student id) or ``SIS User ID`` (the student's ``lms_user_id``
    in the gradebook), and a column to an assignment by the id in parentheses: give Canvas's
    ids with ``--CanvasExporter.assignment_ids='{"ex02_rnn_cell": "4711"}'``; an assignment
    without one is titled with its own name, which Canvas imports as a new column.
``AssignmentCsvExporter``
    One plain CSV per assignment, ``<to>/<assignment>.csv`` (``--to`` is a folder), with
    ``student_id, lms_user_id, raw_score, late_penalty, score, max_score, submitted``.

Both write the score after the late penalty, as nbgrader's own CSV export does: the penalty
is what nbgrader's ``LateSubmissionPlugin`` (``c.LateSubmissionPlugin.penalty_method``, or a
plugin of the course's own) assigned when the submission was autograded, stored in the
gradebook per notebook; the score is ``max(0, raw - penalty)``. A student with no submission
scores 0, as in nbgrader's CSV.
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Unicode

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _number(value: float) -> str:
    """A score as Canvas and spreadsheets read it: ``3`` not ``3.0``, at most 2 decimals."""
    return f"{round(float(value), 2):g}"


class _GradebookExporter(ExportPlugin):
    """What both exporters share: which students and assignments, and the penalised scores."""

    def chosen_assignments(self, gradebook: Gradebook) -> list:
        wanted = [str(a) for a in self.assignment]
        found = [a for a in gradebook.assignments if not wanted or a.name in wanted]
        missing = set(wanted) - {a.name for a in found}
        if missing:
            raise ValueError(f"assignment(s) {sorted(missing)} are not in the gradebook")
        return sorted(found, key=lambda a: (a.duedate is None, a.duedate, a.name))

    def check_seals(self, assignments) -> None:
        """Refuse to export while a graded submission's seal does not match the gradebook.

        The seals are those of :mod:`rnncore.grading.seal`: a score changed in the
        gradebook after grading, or a submission never graded by the trusted grader, stops
        the export with the list, as ``make grade`` does.
        """
        from .batch import check_grades

        course = Path(self.parent.coursedir.root)
        problems = [
            f"{assignment.name}/{checked.student}: {checked.problem}"
            for assignment in assignments
            for checked in check_grades(
                course, assignment.name, [s.student.id for s in assignment.submissions]
            )
            if checked.problem
        ]
        if problems:
            raise RuntimeError(
                "not exporting: these grades cannot be trusted (regrade with `make grade`):\n  "
                + "\n  ".join(problems)
            )

    def chosen_students(self, gradebook: Gradebook) -> list:
        wanted = [str(s) for s in self.student]
        return [s for s in gradebook.students if not wanted or s.id in wanted]

    @staticmethod
    def result(gradebook: Gradebook, assignment, student) -> dict:
        """Raw score, penalty, final score and timestamp of one student's submission."""
        try:
            submission = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:
            return {"raw": 0.0, "penalty": 0.0, "score": 0.0, "submitted": ""}
        raw = float(submission.score)
        penalty = float(submission.late_submission_penalty or 0.0)
        return {
            "raw": raw,
            "penalty": penalty,
            "score": max(0.0, raw - penalty),
            "submitted": submission.timestamp.isoformat() if submission.timestamp else "",
        }


class CanvasExporter(_GradebookExporter):
    """Canvas's gradebook CSV (``--to``, default ``canvas_grades.csv``)."""

    assignment_ids = Dict(
        {}, help="Canvas's id of each assignment, by nbgrader name: the '(<id>)' of its column"
    ).tag(config=True)
    section = Unicode("", help="The Section column for every student").tag(config=True)

    def column(self, assignment) -> str:
        return f"{assignment.name} ({self.assignment_ids.get(assignment.name, assignment.name)})"

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or "canvas_grades.csv")
        assignments = self.chosen_assignments(gradebook)
        self.check_seals(assignments)
        self.log.info("Exporting Canvas grades of %d assignment(s) to %s", len(assignments), dest)
        with open(dest, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(CANVAS_IDENTITY + [self.column(a) for a in assignments])
            out.writerow(
                ["Points Possible", "", "", "", ""] + [_number(a.max_score) for a in assignments]
            )
            for student in sorted(self.chosen_students(gradebook), key=lambda s: s.id):
                name = ", ".join(n for n in (student.last_name, student.first_name) if n)
                identity = [name or student.id, "", student.lms_user_id or "", student.id]
                scores = [_number(self.result(gradebook, a, student)["score"]) for a in assignments]
                out.writerow(identity + [self.section] + scores)


ASSIGNMENT_COLUMNS = [
    "student_id",
    "lms_user_id",
    "raw_score",
    "late_penalty",
    "score",
    "max_score",
    "submitted",
]


class AssignmentCsvExporter(_GradebookExporter):
    """One CSV per assignment in the folder ``--to`` (default ``grades/``)."""

    def export(self, gradebook: Gradebook) -> None:
        folder = Path(self.to or "grades")
        self.check_seals(self.chosen_assignments(gradebook))
        folder.mkdir(parents=True, exist_ok=True)
        for assignment in self.chosen_assignments(gradebook):
            dest = folder / f"{assignment.name}.csv"
            self.log.info("Exporting grades of %s to %s", assignment.name, dest)
            with open(dest, "w", newline="") as f:
                out = csv.writer(f)
                out.writerow(ASSIGNMENT_COLUMNS)
                for student in sorted(self.chosen_students(gradebook), key=lambda s: s.id):
                    r = self.result(gradebook, assignment, student)
                    out.writerow(
                        [
                            student.id,
                            student.lms_user_id or "",
                            _number(r["raw"]),
                            _number(r["penalty"]),
                            _number(r["score"]),
                            _number(assignment.max_score),
                            r["submitted"],
                        ]
                    )
