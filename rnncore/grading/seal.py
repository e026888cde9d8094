"""Seals on graded notebooks: a keyed hash that ties the scores to what the grader saw.

When a notebook has been autograded, :func:`seal` computes
``HMAC(secret, assignment, student, notebook, and for each test cell: its id,
points, score and a hash of its outputs)`` with the instructor's grading
secret and stores it in the autograded notebook's metadata. :func:`verify`
recomputes it from the autograded notebook and compares the scores with the
gradebook's: a score changed in the gradebook, an output or score edited in
the notebook, a seal copied from another student or a missing seal is a
mismatch. Without the secret no one can make a seal that verifies.

Manual scores (the formgrader's "manual grade") are not sealed: an instructor
may change them at any time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from nbgrader.utils import determine_grade, is_grade

from ._secret import load_secret, mac

__all__ = ["seal", "verify"]


def _scores(nb) -> list:
    """``[grade_id, points, score, outputs hash]`` of every autograded test cell."""
    rows = []
    for cell in nb.cells:
        if (
            cell.cell_type == "code"
            and is_grade(cell)
            and not cell.metadata.nbgrader.get("solution")
        ):
            score, points = determine_grade(cell)
            outputs = json.dumps(cell.get("outputs", []), sort_keys=True, ensure_ascii=True)
            rows.append(
                [
                    cell.metadata.nbgrader["grade_id"],
                    float(points),
                    float(score or 0.0),
                    hashlib.sha256(outputs.encode()).hexdigest(),
                ]
            )
    return rows


def _message(nb, assignment: str, student: str, notebook: str) -> bytes:
    body = {
        "assignment": assignment,
        "student": student,
        "notebook": notebook,
        "cells": _scores(nb),
    }
    return json.dumps(body, sort_keys=True).encode()


def seal(nb, assignment: str, student: str, notebook: str) -> dict:
    """The seal to store in ``nb.metadata["rnnbook_seal"]``."""
    secret = load_secret()
    if secret is None:
        from ._secret import ensure_secret

        secret, _ = ensure_secret()
    return {"version": 1, "mac": mac(_message(nb, assignment, student, notebook), secret)}


def verify(nb, assignment: str, student: str, notebook: str, gradebook_scores: dict) -> str | None:
    """Why ``nb`` (an autograded notebook) and the gradebook disagree, or None when they agree.

    Parameters
    ----------
    gradebook_scores : dict of str to float
        The gradebook's ``auto_score`` of each test cell of this notebook.
    """
    import hmac

    secret = load_secret()
    if secret is None:
        return "no grading secret here to check the seal with"
    stored = nb.metadata.get("rnnbook_seal")
    if not isinstance(stored, dict) or "mac" not in stored:
        return "not sealed (not graded by the trusted grader, or its grading failed)"
    if not hmac.compare_digest(
        str(stored["mac"]), mac(_message(nb, assignment, student, notebook), secret)
    ):
        return (
            "the seal does not match the notebook (edited after grading, or from another student)"
        )
    for grade_id, _, score, _ in _scores(nb):
        recorded = gradebook_scores.get(grade_id)
        if recorded is None or abs(float(recorded) - score) > 1e-9:
            return f"the gradebook's score of {grade_id} ({recorded}) is not the sealed {score}"
    extra = set(gradebook_scores) - {row[0] for row in _scores(nb)}
    if extra:
        return f"the gradebook has scores the notebook does not: {', '.join(sorted(extra))}"
    return None


def read_notebook(path: Path):
    import nbformat

    return nbformat.read(str(path), as_version=4)
