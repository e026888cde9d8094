"""Checks of exercise 7: the LSTM cell, forward and backward (chapter 7)."""

from __future__ import annotations

from ._backward import Pair, check_backward
from ._cases import LSTM_KEYS, cell_cases
from ._driver import Out, check_function, reference
from ._harness import student_facing
from .mistakes import ex07_lstm as catalogue

__all__ = ["check_lstm_cell_forward", "check_lstm_cell_backward"]

LSTM_CELL = Pair(
    "lstm_cell_forward",
    "lstm_cell_backward",
    ("x", "h_prev", "c_prev"),
    (("h", ("N", "H")), ("c", ("N", "H"))),
    ("dx", "dh_prev", "dc_prev"),
    ("dh", "dc"),
    (("N", "D"), ("N", "H"), ("N", "H")),
)


@student_facing
def check_lstm_cell_forward(student_fn, hidden=False, part=None):
    """Check ``lstm_cell_forward(x, h_prev, c_prev, params) -> (h, c, cache)``.

    Cases as :func:`check_rnn_cell_forward`, with a random ``c_prev`` and the
    twelve LSTM parameters. ``h`` and ``c`` are compared with
    ``rnncore.lstm_cell_forward`` (rtol 1e-6, atol 1e-8).

    Parameters
    ----------
    student_fn : callable
        The student's ``lstm_cell_forward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "lstm_cell_forward",
        student_fn,
        cell_cases("lstm_cell_forward", LSTM_KEYS, hidden, n_states=2),
        arg_names=("x", "h_prev", "c_prev", "params"),
        outs=(Out("h", ("N", "H")), Out("c", ("N", "H")), Out("cache", kind="cache")),
        expected_fn=lambda *args: reference("lstm_cell_forward", *args),
        part=part,
        mistakes=catalogue.LSTM_CELL_FORWARD,
    )


@student_facing
def check_lstm_cell_backward(student_forward, student_backward, hidden=False, part=None):
    """Check ``lstm_cell_backward(dh, dc, cache) -> (dx, dh_prev, dc_prev, grads)``.

    ``dh`` and ``dc`` are random upstream gradients (``dc`` arrives from the
    next time step). Reference comparison (rtol 1e-6, atol 1e-8) and finite
    differences of the student's forward, whose outputs ``h`` and ``c`` are
    weighted by ``dh`` and ``dc`` (relative error below 1e-6).

    Parameters
    ----------
    student_forward : callable
        The student's ``lstm_cell_forward``.
    student_backward : callable
        The student's ``lstm_cell_backward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values", "gradcheck", "gradients"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_backward(
        LSTM_CELL,
        student_forward,
        student_backward,
        cell_cases("lstm_cell_backward", LSTM_KEYS, hidden, n_states=2),
        part=part,
        mistakes=catalogue.LSTM_CELL_BACKWARD,
        forward_mistakes=catalogue.LSTM_CELL_FORWARD,
    )
