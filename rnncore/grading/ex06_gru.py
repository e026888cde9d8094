"""Checks of exercise 6: the GRU cell, forward and backward (chapter 6).

The book's GRU (``reset_after=False``): ``h = z ⊙ h_prev + (1 − z) ⊙ h̃`` and
``h̃ = tanh(x W_xh + (r ⊙ h_prev) W_hh + b_h)``.
"""

from __future__ import annotations

from ._backward import Pair, check_backward
from ._cases import GRU_KEYS, cell_cases
from ._driver import Out, check_function, reference
from ._harness import student_facing
from .mistakes import ex06_gru as catalogue

__all__ = ["check_gru_cell_forward", "check_gru_cell_backward"]

GRU_CELL = Pair(
    "gru_cell_forward",
    "gru_cell_backward",
    ("x", "h_prev"),
    (("h", ("N", "H")),),
    ("dx", "dh_prev"),
    ("dh",),
    (("N", "D"), ("N", "H")),
)


@student_facing
def check_gru_cell_forward(student_fn, hidden=False, part=None):
    """Check ``gru_cell_forward(x, h_prev, params) -> (h, cache)`` (the book's GRU).

    Cases as :func:`check_rnn_cell_forward`, with the nine GRU parameters.
    ``h`` is compared with ``rnncore.gru_cell_forward`` (rtol 1e-6, atol 1e-8).

    Parameters
    ----------
    student_fn : callable
        The student's ``gru_cell_forward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "gru_cell_forward",
        student_fn,
        cell_cases("gru_cell_forward", GRU_KEYS, hidden),
        arg_names=("x", "h_prev", "params"),
        outs=(Out("h", ("N", "H")), Out("cache", kind="cache")),
        expected_fn=lambda *args: reference("gru_cell_forward", *args),
        part=part,
        mistakes=catalogue.GRU_CELL_FORWARD,
    )


@student_facing
def check_gru_cell_backward(student_forward, student_backward, hidden=False, part=None):
    """Check ``gru_cell_backward(dh, cache) -> (dx, dh_prev, grads)``.

    See :mod:`rnncore.grading._backward`: reference comparison (rtol 1e-6,
    atol 1e-8) and finite differences of the student's forward (relative
    error below 1e-6).

    Parameters
    ----------
    student_forward : callable
        The student's ``gru_cell_forward``.
    student_backward : callable
        The student's ``gru_cell_backward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values", "gradcheck", "gradients"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_backward(
        GRU_CELL,
        student_forward,
        student_backward,
        cell_cases("gru_cell_backward", GRU_KEYS, hidden),
        part=part,
        mistakes=catalogue.GRU_CELL_BACKWARD,
        forward_mistakes=catalogue.GRU_CELL_FORWARD,
    )
