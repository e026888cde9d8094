"""What the course scripts share: the assignment names, the course root, running nbgrader.

nbgrader shells out to ``alembic`` (the gradebook's schema migrations) and starts kernels by
name, so every ``nbgrader`` command runs with this interpreter's ``bin/`` first on ``PATH``;
``make`` targets and tests then work without an activated virtual environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rnncore.grading import EXERCISE_NAMES

ROOT = Path(__file__).resolve().parents[1]

# One list of exercises for the package and the course: rnncore.grading has a module of
# checks for each, in the book's order.
ASSIGNMENTS = EXERCISE_NAMES


def nbgrader_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an ``nbgrader`` subprocess: this venv's ``bin/`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update(extra or {})
    return env


def nbgrader(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float | None = 900,
) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course directory ``cwd``; output is captured.

    Raises
    ------
    RuntimeError
        When nbgrader fails and ``check`` is true, with nbgrader's own log in the message.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env or nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"nbgrader {' '.join(args)} failed ({proc.returncode}) in {cwd}:\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    return proc


def check_assignments(names: list[str]) -> list[str]:
    """The names given, or all assignments if none; unknown names are an error."""
    unknown = [a for a in names if a not in ASSIGNMENTS]
    if unknown:
        raise SystemExit(
            f"unknown assignment(s) {', '.join(unknown)}; choose from {', '.join(ASSIGNMENTS)}"
        )
    return list(names) or list(ASSIGNMENTS)
