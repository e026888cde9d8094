"""Checks of exercise 4: backpropagation through one RNN step and through time (chapter 4).

See :mod:`rnncore.grading._backward` for what a backward check does; parts are
``"shapes"``, ``"values"`` (against the reference), ``"gradcheck"`` (against
finite differences of the student's own forward pass) and ``"gradients"``
(values and gradcheck).
"""

from __future__ import annotations

from ._backward import Pair, check_backward
from ._cases import RNN_KEYS, cell_cases, sequence_cases
from ._harness import student_facing
from .mistakes import ex02_rnn_cell, ex04_bptt

__all__ = ["check_rnn_cell_backward", "check_rnn_backward"]

RNN_CELL = Pair(
    "rnn_cell_forward",
    "rnn_cell_backward",
    ("x", "h_prev"),
    (("h", ("N", "H")),),
    ("dx", "dh_prev"),
    ("dh",),
    (("N", "D"), ("N", "H")),
)
RNN_SEQUENCE = Pair(
    "rnn_forward",
    "rnn_backward",
    ("X", "h0"),
    (("H", ("T", "N", "H")),),
    ("dX", "dh0"),
    ("dH",),
    (("T", "N", "D"), ("N", "H")),
)


@student_facing
def check_rnn_cell_backward(student_forward, student_backward, hidden=False, part=None):
    """Check ``rnn_cell_backward(dh, cache) -> (dx, dh_prev, grads)``.

    Runs on the cells' cases (see :func:`check_rnn_cell_forward`) with random
    upstream gradients ``dh``.

    Parameters
    ----------
    student_forward : callable
        The student's ``rnn_cell_forward`` (its cache feeds the backward pass).
    student_backward : callable
        The student's ``rnn_cell_backward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values", "gradcheck", "gradients"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_backward(
        RNN_CELL,
        student_forward,
        student_backward,
        cell_cases("rnn_cell_backward", RNN_KEYS, hidden),
        part=part,
        mistakes=ex04_bptt.RNN_CELL_BACKWARD,
        forward_mistakes=ex02_rnn_cell.RNN_CELL_FORWARD,
    )


@student_facing
def check_rnn_backward(student_forward, student_backward, hidden=False, part=None):
    """Check ``rnn_backward(dH, cache) -> (dX, dh0, grads)`` (BPTT over a whole sequence).

    Runs on the sequences' cases (see :func:`check_rnn_forward`) with random
    upstream gradients ``dH`` at every time step.

    Parameters
    ----------
    student_forward : callable
        The student's ``rnn_forward``.
    student_backward : callable
        The student's ``rnn_backward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values", "gradcheck", "gradients"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_backward(
        RNN_SEQUENCE,
        student_forward,
        student_backward,
        sequence_cases("rnn_backward", RNN_KEYS, hidden),
        part=part,
        mistakes=ex04_bptt.RNN_BACKWARD,
        forward_mistakes=ex02_rnn_cell.RNN_FORWARD,
    )
