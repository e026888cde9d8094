"""The nbgrader course's notebooks: template, no outputs, no leaks, exercises/ up to date.

The released notebooks in ``exercises/`` are generated from ``solutions/`` by
``scripts/generate_exercises.py`` (``make exercises``) and committed; these tests fail when
someone edits a source without regenerating, or when a release would show students a solution
or a hidden test.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from _course_helpers import (
    ASSIGNMENTS,
    HIDDEN_MARKERS,
    ROOT,
    SOLUTION_MARKERS,
    graded_cells,
    inside,
    nbgrader_meta,
    released_notebook,
    solution_cells,
    source_notebook,
)

from scripts.generate_exercises import generate

NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted(
    (ROOT / "exercises").glob("*/*.ipynb")
)


def test_every_assignment_has_a_source_and_a_release():
    for a in ASSIGNMENTS:
        assert (ROOT / "solutions" / a / f"{a}.ipynb").is_file(), a
        assert (ROOT / "exercises" / a / f"{a}.ipynb").is_file(), a
    assert sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()) == sorted(
        ASSIGNMENTS
    )
    assert sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir()) == sorted(
        ASSIGNMENTS
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_committed_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path}: cell {cell.get('id')} has outputs"
            assert cell["execution_count"] is None, f"{path}: cell {cell.get('id')} was run"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_follows_the_course_template(assignment):
    nb = source_notebook(assignment)
    nbformat.validate(nb)
    chapter = int(assignment[2:4])
    text = "\n".join(c.source for c in nb.cells)
    # the title, a working link to the chapter, the import cell, the questions at the end
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(
        f"# Exercise {chapter} — "
    )
    links = re.findall(r"\]\((\.\./\.\./book/ch\d\d_\w+)\.md\)", nb.cells[0].source)
    assert links, "the introduction links to its chapter"
    assert (ROOT / "solutions" / assignment / f"{links[0]}.md").resolve().is_file(), links[0]
    assert links[0].split("/")[-1].startswith(f"ch{chapter:02d}_")
    assert (
        re.search(r"^from rnncore import .*\bgrading\b", text, re.M)
        and "import numpy as np" in text
    )
    assert (
        nb.cells[-1].cell_type == "markdown" and "Questions to think about" in nb.cells[-1].source
    )
    assert nb.metadata.kernelspec.name == "python3"

    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    answers, tests = solution_cells(nb), graded_cells(nb)
    assert answers and tests
    for gid, cell in answers.items():
        meta = nbgrader_meta(cell)
        assert (meta["grade"], meta["solution"], meta["locked"]) == (False, True, False), gid
        before = cell.source.split(SOLUTION_MARKERS[0])[0]
        # signature and docstring stay visible; the answer (and its return) is replaced
        assert f"def {gid}(" in before and '"""' in before and "Returns" in before, gid
        assert cell.source.rstrip().endswith(SOLUTION_MARKERS[1]), gid
    for gid, cell in tests.items():
        meta = nbgrader_meta(cell)
        assert (meta["grade"], meta["solution"], meta["locked"]) == (True, False, True), gid
        assert 1 <= meta["points"] <= 3, gid
        first, *rest = cell.source.splitlines()
        assert first.startswith('"""') and first.endswith('"""') and len(first) > 20, gid
        visible = [ln for ln in rest if ln.startswith("grading.check_")]
        hidden = inside(cell.source, HIDDEN_MARKERS)
        assert visible and hidden, f"{gid}: a visible check and a hidden section"
        assert "hidden=True" in " ".join(hidden) and "hidden=True" not in visible[0], gid
        assert visible[0].split("(")[0] == hidden[0].split("(")[0], f"{gid}: the same check"
        assert gid.startswith(tuple(answers)), f"{gid} is named after the function it grades"
    # every graded function has a "try it" cell between its answer and its first test
    order = [
        nbgrader_meta(c).get("grade_id", c.cell_type if c.cell_type == "code" else "")
        for c in nb.cells
    ]
    for gid in answers:
        start = order.index(gid)
        first_test = next(i for i, name in enumerate(order) if name.startswith(gid + "_"))
        assert "code" in order[start + 1 : first_test], f"{gid}: a try-it cell before its tests"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_contains_no_solution_and_no_hidden_test(assignment):
    source, release = source_notebook(assignment), released_notebook(assignment)
    released_text = "\n".join(c.source for c in release.cells)
    for marker in SOLUTION_MARKERS + HIDDEN_MARKERS:
        assert marker not in released_text
    # lines that only occur inside the answers or the hidden tests must not reach students
    # lines outside the answers and the hidden tests (a line such as a wrapped call's
    # `grading.check_x(` may occur both outside and inside them)
    public = set()
    for cell in source.cells:
        within = False
        for line in cell.source.splitlines():
            if any(m in line for m in (SOLUTION_MARKERS[0], HIDDEN_MARKERS[0])):
                within = True
            elif any(m in line for m in (SOLUTION_MARKERS[1], HIDDEN_MARKERS[1])):
                within = False
            elif not within:
                public.add(line.strip())
    released_lines = {ln.strip() for ln in released_text.splitlines()}
    for cell in source.cells:
        for line in inside(cell.source, SOLUTION_MARKERS) + inside(cell.source, HIDDEN_MARKERS):
            if line not in public and not line.startswith("#"):
                assert line not in released_lines, f"leaked into exercises/: {line!r}"
    # the release still has every cell, stubs and visible tests in place
    assert [c.get("id") for c in release.cells] == [c.get("id") for c in source.cells]
    for gid, cell in solution_cells(release).items():
        assert "raise NotImplementedError()" in cell.source, gid
    for gid, cell in graded_cells(release).items():
        assert "grading.check_" in cell.source and nbgrader_meta(cell)["checksum"], gid


@pytest.mark.slow
def test_exercises_are_up_to_date(tmp_path):
    """Regenerating the releases from solutions/ gives exactly the committed exercises/."""
    generate(list(ASSIGNMENTS), tmp_path)
    stale = []
    for a in ASSIGNMENTS:
        fresh = json.loads((tmp_path / a / f"{a}.ipynb").read_text())
        committed = json.loads((ROOT / "exercises" / a / f"{a}.ipynb").read_text())
        if fresh != committed:
            cells = [c.get("id") for c, d in zip(fresh["cells"], committed["cells"]) if c != d]
            stale.append(f"{a} (cells {cells or 'count/metadata'})")
        assert sorted(p.name for p in (tmp_path / a).iterdir()) == sorted(
            p.name for p in (ROOT / "exercises" / a).iterdir()
        ), a
    assert not stale, f"exercises/ is stale, run `make exercises`: {', '.join(stale)}"
