"""Checks of exercise 4: backpropagation through one RNN step and through time (chapter 4).

See :mod:`rnncore.grading._backward` for what a backward check does; parts are
``"shapes"``, ``"values"`` (against the reference), ``"gradcheck"`` (against
finite differences of the student's own forward pass) and ``"gradients"``
(values and gradcheck).
"""

from __future__ import annotations

from ._backward import Pair
from ._cases import RNN_KEYS, cell_cases, sequence_cases
from ._table import Spec, build
from .mistakes import ex02_rnn_cell, ex04_bptt

RNN_CELL = Pair(
    "rnn_cell_forward",
    "rnn_cell_backward",
    ("x", "h_prev"),
    (("h", ("N", "H")),),
    ("dx", "dh_prev"),
    ("dh",),
    (("N", "D"), ("N", "H")),
    order=(
        ("bias", ("b_h",)),
        ("weights", ("W_xh", "W_hh")),
        ("dh_prev", ("dh_prev",)),
        ("dx", ("dx",)),
    ),
)
RNN_SEQUENCE = Pair(
    "rnn_forward",
    "rnn_backward",
    ("X", "h0"),
    (("H", ("T", "N", "H")),),
    ("dX", "dh0"),
    ("dH",),
    (("T", "N", "D"), ("N", "H")),
    order=(
        ("dX from t = T-1 back to 0", ("dX",)),
        ("weights summed over time", ("b_h", "W_xh", "W_hh")),
        ("dh0", ("dh0",)),
    ),
    over_time=("dX",),
)

CHECKS = (
    Spec(
        "rnn_cell_backward",
        "(dx, dh_prev, grads)",
        "Runs on the cells' cases (see :func:`check_rnn_cell_forward`, float64 only) with "
        "random upstream gradients ``dh``.",
        lambda hidden: cell_cases("rnn_cell_backward", RNN_KEYS, hidden),
        mistakes=ex04_bptt.RNN_CELL_BACKWARD,
        pair=RNN_CELL,
        forward_mistakes=ex02_rnn_cell.RNN_CELL_FORWARD,
    ),
    Spec(
        "rnn_backward",
        "(dX, dh0, grads)",
        "Backpropagation through time over a whole sequence. Runs on the sequences' cases (see "
        ":func:`check_rnn_forward`, float64 and with an array ``h0``) with random upstream "
        "gradients ``dH`` at every time step.",
        lambda hidden: sequence_cases("rnn_backward", RNN_KEYS, hidden),
        mistakes=ex04_bptt.RNN_BACKWARD,
        pair=RNN_SEQUENCE,
        forward_mistakes=ex02_rnn_cell.RNN_FORWARD,
    ),
)

check_rnn_cell_backward, check_rnn_backward = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
