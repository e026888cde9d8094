"""The model answers in ``solutions/`` pass their own test cells, hidden tests included.

Fast (no kernel, no nbgrader): every code cell of each source notebook runs in
order in one namespace, as a student's kernel would, with the hidden tests
left in. Each check a test cell calls must print one ``✓`` line and nothing
else, and return None. The test cells' docstrings are promises; the float32 and
``h0 = None`` ones must be backed by cases of the checks they call.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from _course_helpers import ASSIGNMENTS, nbgrader_meta, source_notebook

from rnncore import grading

CHECK_CALL = re.compile(r"grading\.(check_\w+)\(")


def _run_notebook(assignment):
    """Run the notebook's code cells in order: ``{grade_id: printed lines}`` of the test cells."""
    namespace = {"__name__": "__main__"}
    printed = {}
    for cell in source_notebook(assignment).cells:
        if cell.cell_type != "code":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(cell.source, f"<{assignment} cell>", "exec"), namespace)  # noqa: S102
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            printed[meta["grade_id"]] = (cell.source, out.getvalue().splitlines())
    return printed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_model_answers_pass_every_test_cell_with_one_tick_per_check(assignment):
    printed = _run_notebook(assignment)
    assert printed, f"{assignment} has no test cells"
    for grade_id, (source, lines) in printed.items():
        calls = CHECK_CALL.findall(source)
        assert len(calls) >= 2, grade_id  # the visible check and the hidden one
        assert len(lines) == len(calls), (grade_id, lines)
        for line, call in zip(lines, calls):
            assert line.startswith(f"✓ {call.removeprefix('check_')}: "), (grade_id, line)
            assert re.search(r" right on \d+ cases?$", line), line


def _docstring(source: str) -> str:
    return source.split('"""')[1] if source.startswith('"""') else ""


def _promises():
    """(assignment, grade_id, check name, docstring) of every test cell."""
    for assignment in ASSIGNMENTS:
        for cell in source_notebook(assignment).cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and not meta.get("solution"):
                for name in set(CHECK_CALL.findall(cell.source)):
                    yield assignment, meta["grade_id"], name, _docstring(cell.source)


PROMISES = list(_promises())


def _cases(name, hidden):
    return list(getattr(grading, name).spec.cases(hidden))


def test_dtype_promises_are_backed_by_float32_cases_visible_and_hidden():
    promised = {name for _, _, name, doc in PROMISES if "dtype" in doc}
    assert len(promised) >= 8, promised  # the exercises that say "in the input's dtype"
    for name in promised:
        for hidden in (False, True):
            float32 = [c for c in _cases(name, hidden) if c.extra.get("dtype") is np.float32]
            assert float32, (name, hidden)
            for case in float32:
                arrays = [a for a in _leaves(case.args) if isinstance(a, np.ndarray)]
                assert any(a.dtype == np.float32 for a in arrays), (name, case.label)
                assert not any(a.dtype == np.float64 for a in arrays), (name, case.label)
                assert "float32" in case.label
        assert getattr(grading, name).spec.float32
        assert "float32" in getattr(grading, name).__doc__


def test_h0_none_promises_are_backed_by_cases_visible_and_hidden():
    promised = {name for _, _, name, doc in PROMISES if "h0 = None" in doc or "h0=None" in doc}
    promised.add("check_gradient_norms_over_time")  # "from h0, or zeros if h0 is None"
    assert "check_rnn_forward" in promised
    for name in promised:
        spec = getattr(grading, name).spec
        where = spec.arg_names.index("h0")
        for hidden in (False, True):
            nones = [c for c in _cases(name, hidden) if c.args[where] is None]
            assert nones and all("h0=None" in c.label for c in nones), (name, hidden)


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
