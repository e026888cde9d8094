"""What a student reads: the message alone on a failure, one ✓ line on a pass, no paths.

Also the backward checks' diagnostics: the first gradient that differs in the
order of the backward pass is named, with its stage.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from _grading_table import ROWS, student_copies  # noqa: F401
from test_grading_checks import MUTANTS

from rnncore import grading
from rnncore.grading._harness import CheckFailed
from rnncore.grading.mistakes import ex02_rnn_cell as m02
from rnncore.grading.mistakes import ex04_bptt as m04
from rnncore.grading.mistakes import ex07_lstm as m07

pytestmark = pytest.mark.usefixtures("student_copies")

REPO = Path(__file__).resolve().parents[1]
# an absolute path: /something/else, or the repository's own location however it is spelled
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.-]+/)+[\w.-]+")


def failure(check, *fns, **kw) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        check(*fns, **kw)
    return info.value


def test_a_failure_renders_as_its_message_alone():
    def off(x, h_prev, params):
        h, cache = m02.solution_rnn_cell_forward(x, h_prev, params)
        return h + 0.5, cache

    err = failure(grading.check_rnn_cell_forward, off)
    assert isinstance(err, AssertionError)  # nbgrader and pytest see a failed assertion
    lines = err._render_traceback_()
    assert lines == str(err).splitlines()
    assert lines[0].startswith("rnn_cell_forward: wrong values in h (for N=3, D=4, H=5)")
    assert err.__cause__ is None and err.__suppress_context__  # no chained grader traceback


def test_a_pass_prints_exactly_one_tick_line_and_returns_none(capsys):
    assert grading.check_rnn_cell_forward(m02.solution_rnn_cell_forward) is None
    assert capsys.readouterr().out == "✓ rnn_cell_forward: shapes and values right on 4 cases\n"
    assert grading.check_rnn_cell_forward(m02.solution_rnn_cell_forward, part="shapes") is None
    assert capsys.readouterr().out == "✓ rnn_cell_forward: shapes right on 4 cases\n"
    # 3 float64 cases, their float32 copy; hidden adds 3 and a float32 copy
    grading.check_rnn_cell_forward(m02.solution_rnn_cell_forward, hidden=True)
    assert capsys.readouterr().out.endswith("right on 8 cases\n")
    grading.check_rnn_cell_backward(
        m02.solution_rnn_cell_forward, m04.solution_rnn_cell_backward, part="gradients"
    )
    assert capsys.readouterr().out == "✓ rnn_cell_backward: values and gradcheck right on 3 cases\n"


def test_a_failure_prints_nothing(capsys):
    with pytest.raises(CheckFailed):
        grading.check_rnn_cell_forward(lambda x, h, p: None)
    assert capsys.readouterr().out == ""


def _mutant_message(name, k):
    row = ROWS[name]
    fn = row.mistakes[k].fn
    with pytest.raises(CheckFailed) as info:
        row.check(*(fn if isinstance(fn, tuple) else (fn,)))
    return str(info.value)


def test_no_message_shows_an_absolute_path():
    """Every catalogued mistake and every failure class of the harness: no file paths."""
    messages = [_mutant_message(name, k) for name, k in MUTANTS]

    def helper(x):
        return x @ np.ones((7, 7))

    messages += [
        str(failure(grading.check_rnn_cell_forward, lambda x, h, p: (helper(x), None))),
        str(failure(grading.check_rnn_cell_forward, lambda x, h, p: 1 / 0)),
        str(failure(grading.check_rnn_cell_forward, 42)),
        str(failure(grading.check_softmax, lambda z: np.full_like(z, np.nan))),
    ]
    assert len(messages) == len(MUTANTS) + 4 > 140
    for text in messages:
        assert str(REPO) not in text and "/work" not in text, text
        assert not ABSOLUTE_PATH.search(text), text


LSTM_FIRST = {
    "the gradient from h": ("dc_prev", "at the cell state"),
    "dc_prev = dc ⊙ f with the upstream dc only": ("dc_prev", "at the cell state"),
    "1 − tanh(c) used": ("dc_prev", "at the cell state"),
    "df computed from the new cell state": ("grads['b_f']", "at the forget gate"),
    "σ' written as σ on the output gate": ("grads['b_o']", "at the output gate"),
}


@pytest.mark.parametrize("start", LSTM_FIRST)
def test_the_five_lstm_backward_mistakes_are_catalogued_and_located(start):
    """Where each mistake first shows, by the chain rule (not by running the reference):

    missing dh-path, upstream-only dc_prev and 1 − tanh(c) all change the total dc,
    whose first output is dc_prev = dc_total ⊙ f; df from c changes the forget gate's
    gradients only; σ' = σ on o changes the output gate's only.
    """
    (mistake,) = [m for m in m07.LSTM_CELL_BACKWARD if m.description.startswith(start)]
    k = m07.LSTM_CELL_BACKWARD.index(mistake)
    text = _mutant_message("lstm_cell_backward", k)
    what, stage = LSTM_FIRST[start]
    assert text.startswith(f"lstm_cell_backward: wrong values in {what} (for N=3, D=4, H=5)")
    assert f"{what} is the first gradient that differs{', ' + stage}" in text
    assert f"This looks like {mistake.description}" in text
    assert "output gate (b_o, W_xo, W_ho) → cell state (dc_prev) → forget gate" in text


def test_gradcheck_names_the_first_gradient_in_backward_order():
    (sigma_o,) = [m for m in m07.LSTM_CELL_BACKWARD if "on the output gate" in m.description]
    with pytest.raises(CheckFailed) as info:
        grading.check_lstm_cell_backward(*sigma_o.fn, part="gradcheck")
    text = str(info.value)
    assert "grads['b_o'] disagrees with finite differences of your own forward pass" in text
    assert "at the output gate" in text


def test_bptt_names_the_first_wrong_time_step_from_the_end():
    (no_carry,) = [m for m in m04.RNN_BACKWARD if m.description.startswith("dh_next not carried")]
    text = _mutant_message("rnn_backward", m04.RNN_BACKWARD.index(no_carry))
    # T = 4: the last step has no dh_next, so dX[3] is right and dX[2] is the first to differ
    assert "wrong values in dX[2] (for T=4, N=3, D=4, H=5)" in text
    assert "dX[3:] are right, so one step works" in text


def test_rnn_cell_backward_reports_the_bias_before_dx():
    """1 − h for tanh' spoils da; b_h = Σ da is the first gradient computed from it."""
    text = _mutant_message("rnn_cell_backward", 0)
    assert "wrong values in grads['b_h']" in text and "at the bias" in text


@pytest.mark.slow
def test_in_a_real_kernel_a_failure_shows_the_message_only_and_a_pass_one_tick(tmp_path):
    """What JupyterLab and nbgrader record: the error output's traceback is the message."""
    import os
    import sys

    import nbformat
    from nbclient import NotebookClient

    cells = [
        "import numpy as np\nfrom rnncore import grading",
        "def rnn_cell_forward(x, h_prev, params):\n"
        '    h = np.tanh(x @ params["W_hh"] + h_prev @ params["W_hh"] + params["b_h"])\n'
        "    return h, None",
        "grading.check_rnn_cell_forward(rnn_cell_forward)",
        "def rnn_cell_forward(x, h_prev, params):\n"
        '    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])\n'
        "    return h, None",
        "grading.check_rnn_cell_forward(rnn_cell_forward)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    (error,) = nb.cells[2].outputs
    assert error.output_type == "error" and error.ename == "CheckFailed"
    assert error.traceback == error.evalue.splitlines()  # no frames, no colours, no paths
    assert error.traceback[0].startswith(
        "rnn_cell_forward: your function raised ValueError (for N=3, D=4, H=5) at line 2 "
        'of your code: `h = np.tanh(x @ params["W_hh"]'
    )
    assert error.traceback[1].startswith("`x @ params['W_hh']` multiplies shapes (3, 4) and (5, 5)")
    assert not any(ABSOLUTE_PATH.search(line) for line in error.traceback)
    (tick,) = nb.cells[4].outputs
    assert (tick.output_type, tick.name) == ("stream", "stdout")
    assert tick.text == "✓ rnn_cell_forward: shapes and values right on 4 cases\n"
