"""The red team's frame-reading attacks are real: run where the checks run, they pass them.

``tests/test_redteam.py`` shows that each hostile submission scores 0 under ``make grade``.
That means something only if the attack works where it can reach the checks: a broken attack
scores 0 anyway. Here each frame-reading attack's notebook runs in this process, beside the
checks (as the old in-kernel grading ran it), and the attacked function, which computes
nothing itself, passes its check with the grader's own expected values.
"""

import contextlib
import io
import sys

import numpy as np
import pytest
from _course_helpers import graded_cells, nbgrader_meta
from _redteam_attacks import (
    attention_steal,
    beam_steal,
    bptt_steal,
    callback_steal,
    setprofile_steal,
    stack_getframe,
    stack_inspect,
)

import rnncore.grading as grading

# attack, assignment, the check it fools, the names of the notebook's functions it takes
ATTACKS = [
    (stack_getframe, "ex02_rnn_cell", "check_rnn_cell_forward", ["rnn_cell_forward"]),
    (stack_inspect, "ex02_rnn_cell", "check_rnn_cell_forward", ["rnn_cell_forward"]),
    (setprofile_steal, "ex02_rnn_cell", "check_rnn_cell_forward", ["rnn_cell_forward"]),
    (bptt_steal, "ex04_bptt", "check_rnn_cell_backward", ["rnn_cell_forward", "rnn_cell_backward"]),
    (callback_steal, "ex09_sampling", "check_sample_text", ["sample_text"]),
    (beam_steal, "ex11_seq2seq_attention", "check_beam_search", ["beam_search"]),
    (
        attention_steal,
        "ex11_seq2seq_attention",
        "check_additive_attention_backward",
        ["additive_attention_forward", "additive_attention_backward"],
    ),
]


def notebook_namespace(nb) -> dict:
    """The notebook's own cells (not its test cells) run in one namespace, here."""
    tests = set(graded_cells(nb))
    namespace = {"np": np}
    for cell in nb.cells:
        if cell.cell_type != "code" or nbgrader_meta(cell).get("grade_id") in tests:
            continue
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(cell.source, "<cell>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize(
    "attack, assignment, check, names", ATTACKS, ids=[a[0].__name__ for a in ATTACKS]
)
def test_the_attack_passes_checks_it_can_reach(attack, assignment, check, names):
    namespace = notebook_namespace(attack(assignment, None))
    try:
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            getattr(grading, check)(*(namespace[n] for n in names))
    finally:
        sys.setprofile(None)  # setprofile_steal's hook
    assert printed.getvalue().startswith("✓"), printed.getvalue()
