"""NumPy's shape errors explained with the student's operands and their shapes.

Each wrong function below is one a student writes; the checks run it and the
message must name the failing operation as written, with the operands' shapes.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _grading_table import student_copies  # noqa: F401

from rnncore import grading
from rnncore.grading import _explain
from rnncore.grading._explain import explain_exception
from rnncore.grading.mistakes import ex02_rnn_cell as m02

pytestmark = pytest.mark.usefixtures("student_copies")

good_cell = m02.solution_rnn_cell_forward


def message(check, *fns, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        check(*fns, **kw)
    return str(info.value)


def explained(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return explain_exception(info.value, info.value.__traceback__)


def test_wrong_weight_in_the_forward_pass_names_operands_shapes_and_the_meant_one():
    def wrong_weight(x, h_prev, params):
        a = x @ params["W_hh"] + h_prev @ params["W_hh"] + params["b_h"]
        return np.tanh(a), None

    text = message(grading.check_rnn_cell_forward, wrong_weight)
    assert "gufunc" not in text and "core dimension" not in text
    assert (
        "`x @ params['W_hh']` multiplies shapes (3, 4) and (5, 5): the inner sizes 4 and 5 "
        "must agree. Did you mean `h_prev @ params['W_hh']`?"
    ) in text


def test_missing_transpose_in_a_backward_pass():
    def no_transpose(dh, cache):
        x, h_prev, h, W_xh, W_hh = cache
        da = dh * (1 - h**2)
        dx = da @ W_xh  # should be W_xh.T
        return dx, da @ W_hh.T, {"W_xh": x.T @ da, "W_hh": h_prev.T @ da, "b_h": da.sum(0)}

    text = message(grading.check_rnn_cell_backward, good_cell, no_transpose)
    assert text.startswith("rnn_cell_backward: your function raised ValueError (for N=3, D=4")
    assert "at line" in text and "`dx = da @ W_xh  # should be W_xh.T`" in text
    assert "`da @ W_xh` multiplies shapes (3, 5) and (4, 5)" in text
    assert "Did you mean `da @ W_xh.T`?" in text


def test_np_dot_with_the_operands_swapped():
    def swapped(x, h_prev, params):
        a = np.dot(params["W_xh"], x) + np.dot(h_prev, params["W_hh"])
        return np.tanh(a), None

    text = message(grading.check_rnn_cell_forward, swapped)
    assert "`np.dot(params['W_xh'], x)` multiplies shapes (4, 5) and (3, 4)" in text
    assert "Did you mean `x @ params['W_xh']`?" in text


def test_a_bias_that_does_not_broadcast():
    def column_bias(x, h_prev, params):
        b = params["b_h"][:, None]  # (H, 1): a column, not a row
        return np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + b), None

    text = message(grading.check_rnn_cell_forward, column_bias)
    assert "operands could not be broadcast" not in text
    assert "adds shapes (3, 5) and (5, 1), which do not broadcast" in text
    assert "the sizes 3 and 5 (axis -2) differ" in text


def test_an_in_place_update_whose_result_does_not_fit():
    def accumulates(dH, cache):
        total = np.zeros(dH.shape[1:])  # (N, H)
        total += dH  # (T, N, H) does not fit into (N, H)
        return total

    text = explained(accumulates, np.ones((4, 3, 5)), None)
    assert text == (
        "`total += dH` works in place on total of shape (3, 5), but the result has shape "
        "(4, 3, 5): write `total = total + dH` to make a new array, or fix the shapes."
    )


def test_a_statement_over_several_lines_and_an_indexed_operand():
    def step(X, W_xh, W_hh, h):
        t = 2
        return np.tanh(
            X[t] @ W_xh
            + h @ W_xh
        )  # fmt: skip

    text = explained(step, np.ones((4, 3, 2)), np.ones((2, 5)), np.ones((5, 5)), np.ones((3, 5)))
    assert text.startswith("`h @ W_xh` multiplies shapes (3, 5) and (2, 5)")


def test_none_where_an_array_was_meant():
    def from_none(x, h_prev, W):
        return x @ W + h_prev @ W

    assert explained(from_none, np.ones((2, 3)), None, np.ones((3, 3))).startswith(
        "`h_prev @ W` uses `h_prev`, which is None, as an array."
    )


def test_operands_are_looked_up_never_called():
    calls = []

    def weights():
        calls.append(1)
        return np.ones((5, 5))

    class Model:
        @property
        def W(self):
            calls.append(2)
            return np.ones((5, 5))

    def through_a_call(x):
        return x @ weights()

    def through_a_property(x, model):
        return x @ model.W

    assert explained(through_a_call, np.ones((3, 4))) is None
    assert explained(through_a_property, np.ones((3, 4)), Model()) is None
    assert calls == [1, 2]  # once each, by the student's own code


def test_other_errors_are_left_alone():
    def key_error(params):
        return params["W_xz"]

    def value_error(x):
        raise ValueError("shapes do not matter here")

    assert explained(key_error, {}) is None
    assert explained(value_error, 1) is None
    text = message(grading.check_rnn_cell_forward, lambda x, h, p: key_error(p))
    assert text.endswith("KeyError: 'W_xz'")


def test_the_module_stands_alone_with_the_standard_library_and_numpy(tmp_path):
    """The sandbox loads the file as a plain module, where rnncore does not exist."""
    path = Path(_explain.__file__)
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
    assert "rnncore" not in imported
    assert imported - {"numpy"} <= set(sys.stdlib_module_names)

    script = f"""
import importlib.util, sys
import numpy as np
sys.modules["rnncore"] = None  # any import of rnncore fails
spec = importlib.util.spec_from_file_location("explain", {str(path)!r})
explain = importlib.util.module_from_spec(spec)
spec.loader.exec_module(explain)
def f(x, W):
    return x @ W
try:
    f(np.ones((3, 4)), np.ones((5, 5)))
except ValueError as err:
    print(explain.explain_exception(err, err.__traceback__))
"""
    script_file = tmp_path / "probe.py"
    script_file.write_text(script)  # a file, so that linecache can read the failing line
    out = subprocess.run(
        [sys.executable, str(script_file)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "`x @ W` multiplies shapes (3, 4) and (5, 5): the inner sizes 4 and 5 must agree."
    )


def test_a_function_graded_in_the_sandbox_gets_the_same_explanation():
    """The sandbox loads this module on its own; the grader's message reads the same."""
    from rnncore.grading.sandbox import bwrap
    from rnncore.grading.sandbox.session import Sandbox

    if bwrap.problem():  # fail, never skip: grading refuses without it, so must the tests
        pytest.fail(f"bubblewrap is needed: {bwrap.problem()} (bash .ci/run installs it)")
    cell = (
        "import numpy as np\n\n\ndef rnn_cell_forward(x, h_prev, params):\n"
        '    h = np.tanh(x @ params["W_hh"] + h_prev @ params["W_hh"] + params["b_h"])\n'
        "    return h, None\n"
    )
    with Sandbox(bwrap.Limits(call_seconds=5, cell_seconds=8, setup_seconds=20)) as box:
        box.start()
        assert box.run_cell(0, cell)["ok"]
        text = message(grading.check_rnn_cell_forward, box.function("rnn_cell_forward"))
    assert text == (
        "rnn_cell_forward: your function raised ValueError (for N=3, D=4, H=5) at line 5 of "
        'your code: `h = np.tanh(x @ params["W_hh"] + h_prev @ params["W_hh"] + params["b_h"])`'
        "\n`x @ params['W_hh']` multiplies shapes (3, 4) and (5, 5): the inner sizes 4 and 5 "
        "must agree. Did you mean `h_prev @ params['W_hh']`?"
    )
