"""How the trusted executor reads a test cell: hidden segments, and whose names win."""

from __future__ import annotations

import numpy as np
import pytest

import rnncore.grading
from rnncore.grading.autograde import _CellNamespace, _trusted_names, segments
from rnncore.grading.sandbox.session import Sandbox

SOURCE = '''"""rnn_cell_forward returns h of the right shape."""
grading.check_rnn_cell_forward(rnn_cell_forward, part="shapes")
### BEGIN HIDDEN TESTS
grading.check_rnn_cell_forward(rnn_cell_forward, part="shapes", hidden=True)
### END HIDDEN TESTS
print("after")
'''


def test_a_test_cell_splits_into_visible_and_hidden_pieces_in_order():
    pieces = segments(SOURCE)
    assert [hidden for _, hidden in pieces] == [False, True, False]
    assert "hidden=True" in pieces[1][0] and "hidden=True" not in pieces[0][0]
    assert pieces[2][0].strip() == 'print("after")'
    assert segments("x = 1\n") == [("x = 1", False)]


@pytest.fixture
def box():
    with Sandbox() as sandbox:
        sandbox.start()
        yield sandbox


def test_the_graders_names_and_builtins_win_over_the_students(box):
    student = (
        "grading = 'my grading'\n"
        "np = None\n"
        "def len(x):\n    return 0\n"
        "def rnn_cell_forward(x, h_prev, params):\n"
        "    return np_tanh(x), None\n"
        "import numpy\nnp_tanh = numpy.tanh\n"
    )
    assert box.run_cell(0, student)["ok"]
    trusted = _trusted_names()
    namespace = _CellNamespace(box, trusted)
    exec(  # noqa: S102 - trusted test code, as the executor runs it
        "seen = (grading, np, len([1, 2]), rnn_cell_forward)\n", trusted, namespace
    )
    grading, np_seen, length, fn = namespace["seen"]
    assert grading is rnncore.grading and np_seen is np and length == 2
    assert getattr(fn, "__rnnbook_remote__", False)  # the student's function, as a proxy
    out, cache = fn(np.zeros((1, 2)), np.zeros((1, 2)), {})
    assert out.tolist() == [[0.0, 0.0]] and cache is None


def test_a_name_the_student_never_defined_is_a_name_error(box):
    assert box.run_cell(0, "x = 1\n")["ok"]
    trusted = _trusted_names()
    with pytest.raises(NameError):
        exec("rnn_forward\n", trusted, _CellNamespace(box, trusted))  # noqa: S102
