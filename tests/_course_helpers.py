"""Building nbgrader courses and submissions in temporary directories for the course tests.

Used by ``tests/test_course_*.py``. Nothing here writes into the repository: a course is a
copy of ``nbgrader_config.py``, ``solutions/`` and ``exercises/`` under a tmp dir.
"""

from __future__ import annotations

import html
import importlib
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `scripts` package
from scripts.course import ASSIGNMENTS, ROOT  # noqa: E402

__all__ = ["ASSIGNMENTS", "ROOT"]

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def make_course(dest: Path, assignments=ASSIGNMENTS, config_lines: str = "") -> Path:
    """A copy of the course (config, sources, releases of ``assignments``) at ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    (dest / "nbgrader_config.py").write_text(config + ("\n" + config_lines if config_lines else ""))
    for a in assignments:
        for kind in ("solutions", "exercises"):
            shutil.copytree(ROOT / kind / a, dest / kind / a)
    return dest


def source_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def released_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_cells(nb) -> dict:
    """``{grade_id: cell}`` of the answer cells."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("solution")}


def graded_cells(nb) -> dict:
    """``{grade_id: cell}`` of the autograded test cells."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("grade")}


def inside(source: str, markers) -> list[str]:
    """The stripped, non-empty lines between the markers (all regions)."""
    lines, within = [], False
    for line in source.splitlines():
        if markers[0] in line:
            within = True
        elif markers[1] in line:
            within = False
        elif within and line.strip():
            lines.append(line.strip())
    return lines


def telling_hidden_lines(source: str) -> list[str]:
    """Hidden-test lines that would reveal something: not part of a visible test line."""
    visible = [line.strip() for line in source.split(HIDDEN_MARKERS[0])[0].splitlines()]
    return [
        line
        for line in inside(source, HIDDEN_MARKERS)
        if len(line) > 3 and not any(line in v for v in visible)
    ]


def answer(source: str) -> str:
    """A solution cell as a student would hand it in: the model answer without the markers."""
    return "\n".join(
        line for line in source.splitlines() if not any(m in line for m in SOLUTION_MARKERS)
    )


def filled_in(assignment: str) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled in from the model solution."""
    nb = released_notebook(assignment)
    answers = {
        gid: answer(c.source) for gid, c in solution_cells(source_notebook(assignment)).items()
    }
    for gid, cell in solution_cells(nb).items():
        cell.source = answers[gid]
    return nb


def set_cell(nb, grade_id: str, source: str) -> nbformat.NotebookNode:
    """Replace the source of the cell with this grade_id (in place; returns ``nb``)."""
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def submit(course: Path, student: str, assignment: str, nb) -> None:
    """Put ``nb`` where ``nbgrader collect`` would: ``submitted/<student>/<assignment>/``."""
    folder = Path(course) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")


def graded_functions(assignment: str) -> list[str]:
    """The functions students write, in notebook order (the answer cells' grade_ids)."""
    return list(solution_cells(source_notebook(assignment)))


def catalogue(assignment: str, function: str) -> tuple:
    """E1's catalogue of typical mistakes for one graded function (may be empty)."""
    module = importlib.import_module(f"rnncore.grading.mistakes.{assignment}")
    return tuple(getattr(module, function.upper(), ()))


_SIBLING = re.compile(r"^from \.(\w+) import (\w+)(?: as (\w+))?$")
_DROPPED = ("from __future__", "from ..._guard import guard", "from .._compare import Mistake")
STANDALONE_HEAD = """import numpy as np


def guard(name):  # the catalogue's guard: nothing to guard in a student's own code
    pass


class Mistake:  # the catalogue's record: only its function matters here
    def __init__(self, description, chapter, fn):
        self.fn = fn
"""


def standalone_catalogue(assignment: str, _seen=None) -> str:
    """The catalogue of ``assignment`` as plain code that runs without rnncore (a cell).

    The graded code runs in a sandbox where rnncore is absent, so a mutant answer cannot
    import the catalogue: it carries the catalogue's source instead, as a copied answer would.
    """
    seen = set() if _seen is None else _seen
    seen.add(assignment)
    path = Path(importlib.import_module(f"rnncore.grading.mistakes.{assignment}").__file__)
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith(_DROPPED):
            continue
        sibling = _SIBLING.match(line)
        if sibling:
            module, name, alias = sibling.groups()
            if module not in seen:
                lines.insert(0, standalone_catalogue(module, seen))
            lines.append(f"{alias or name} = {name}")
        elif line.startswith("from ."):
            raise ValueError(f"{path.name}: cannot inline {line!r}")
        else:
            lines.append(line)
    body = "\n".join(lines)
    return body if _seen is not None else STANDALONE_HEAD + "\n" + body


def mutant_source(assignment: str, function: str, index: int = 0) -> str:
    """An answer cell that defines ``function`` as catalogued mistake ``index``.

    Backward mistakes are (forward, backward) pairs: the cell then redefines the forward
    function too, since the cache is the pair's own design.
    """
    fn = catalogue(assignment, function)[index].fn
    head = standalone_catalogue(assignment) + "\n\n"
    entry = f"{function.upper()}[{index}].fn"
    if isinstance(fn, tuple):
        forward = function.replace("_backward", "_forward")
        return head + f"{forward}, {function} = {entry}\n"
    return head + f"{function} = {entry}\n"


def run_grade_all(*args: str, env=None, timeout: float = 1200):
    """``python -m scripts.grade_all ARGS`` (what ``make grade`` runs), its output captured."""
    import subprocess

    from scripts.course import nbgrader_env

    return subprocess.run(
        [sys.executable, "-m", "scripts.grade_all", *args],
        cwd=ROOT,
        env=env or nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def autograded(course: Path, student: str, assignment: str) -> nbformat.NotebookNode:
    path = Path(course) / "autograded" / student / assignment / f"{assignment}.ipynb"
    return nbformat.read(path, as_version=4)


def errors(cell) -> str:
    """The error outputs of a cell as plain text ('' when it ran cleanly)."""
    return "\n".join(
        ANSI.sub("", "\n".join(o.get("traceback", [])) or f"{o.get('ename')}: {o.get('evalue')}")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    )


def html_text(path: Path) -> str:
    """The visible text of an HTML file (tags dropped, entities decoded)."""
    raw = Path(path).read_text()
    raw = re.sub(r"<(script|style)\b.*?</\1>", "", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def notebook_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())
