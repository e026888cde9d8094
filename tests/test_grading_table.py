"""The checks are made from one table; their names, signatures and docstrings stay the contract."""

from __future__ import annotations

import inspect
import pydoc
import re
from pathlib import Path

import pytest
from _grading_table import ROWS

import rnncore.grading as grading_package
from rnncore import grading
from rnncore.grading import check_rnn_cell_forward
from rnncore.grading._backward import PARTS as BACKWARD_PARTS

BACKWARD = {name for name in ROWS if name.endswith("_backward")}
GRADING_DIR = Path(grading_package.__file__).parent


def test_import_forms_keep_working():
    assert check_rnn_cell_forward is grading.check_rnn_cell_forward
    assert grading.ex02_rnn_cell.check_rnn_cell_forward is check_rnn_cell_forward
    assert check_rnn_cell_forward.__module__ == "rnncore.grading.ex02_rnn_cell"
    assert check_rnn_cell_forward.__name__ == "check_rnn_cell_forward"


@pytest.mark.parametrize("name", ROWS)
def test_signature_is_the_contract(name):
    check = getattr(grading, f"check_{name}")
    params = list(inspect.signature(check).parameters.values())
    students = ["student_forward", "student_backward"] if name in BACKWARD else ["student_fn"]
    assert [p.name for p in params] == [*students, "hidden", "part"]
    assert [p.default for p in params[-2:]] == [False, None]
    assert all(p.default is inspect.Parameter.empty for p in params[:-2])


@pytest.mark.parametrize("name", ROWS)
def test_docstring_says_cases_parts_tolerances_and_refusals(name):
    check = getattr(grading, f"check_{name}")
    spec, doc = check.spec, check.__doc__
    flat = " ".join(doc.split())
    assert spec.name == name
    assert doc.startswith(f"Check ``{name}(")
    assert "Cases" in doc or "cases" in doc
    parts = BACKWARD_PARTS if name in BACKWARD else spec.parts
    kinds = re.search(r"part : \{None, (.*)\}", doc).group(1)
    assert kinds.split(", ")[: len(parts)] == [f'"{p}"' for p in parts]
    for p in parts:
        assert f'``"{p}"``: ' in flat, p
    exact = bool(spec.outs) and all(out.kind in ("list", "int", "str", "ids") for out in spec.outs)
    assert "Tolerances: " + ("none" if exact else "") in flat
    assert exact or ("rtol " in flat and "atol " in flat)
    if spec.tol:
        assert f"rtol {spec.tol['rtol']:.0e}".replace("e-0", "e-") in flat
    assert ("float32 cases: rtol 1e-4, atol 1e-5" in flat) == spec.float32
    assert f"Refused while the student's code runs: {spec.refuse_text}." in flat
    assert name not in BACKWARD or "finite differences (eps 1e-6, float64)" in flat
    assert "Prints one line ``✓" in flat
    assert "Parameters\n----------\n" in doc and "Returns\n-------\nNone" in doc
    shown = pydoc.render_doc(check, renderer=pydoc.plaintext)  # what help() shows
    assert f"check_{name}(student_" in shown and flat in " ".join(shown.split())


def test_the_exercise_modules_write_no_check_by_hand():
    """Say it once: every public check comes from a Spec row, none from a `def check_`."""
    for path in sorted(GRADING_DIR.glob("ex[0-9][0-9]_*.py")):
        source = path.read_text()
        assert not re.search(r"^def check_", source, re.M), path.name
        assert "CHECKS = (" in source, path.name
        assert re.search(r"= build\(\s*__name__, CHECKS\s*\)", source), path.name
    made = [getattr(grading, name) for name in grading.__all__]
    assert len(made) == 28 and all(hasattr(check, "spec") for check in made)
