"""Checks of exercise 2: the RNN cell and the RNN over a sequence (chapter 2)."""

from __future__ import annotations

from ._cases import RNN_KEYS, cell_cases, sequence_cases
from ._driver import Out, check_function, reference
from ._harness import student_facing
from .mistakes import ex02_rnn_cell as catalogue

__all__ = ["check_rnn_cell_forward", "check_rnn_forward"]


@student_facing
def check_rnn_cell_forward(student_fn, hidden=False, part=None):
    """Check ``rnn_cell_forward(x, h_prev, params) -> (h, cache)``.

    Cases: (N, D, H) = (3, 4, 5), (1, 4, 5), (2, 3, 3); hidden adds (6, 7, 5),
    (1, 1, 1) and (4, 2, 8) with saturating inputs. ``h`` is compared with
    ``rnncore.rnn_cell_forward`` (rtol 1e-6, atol 1e-8). Every rnncore
    function is refused while ``student_fn`` runs.

    Parameters
    ----------
    student_fn : callable
        The student's ``rnn_cell_forward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values"}
        ``"shapes"``: return types and shapes only; ``"values"``: also the
        values; None: everything.

    Returns
    -------
    None
        Raises AssertionError with a message for the student on failure.
    """
    check_function(
        "rnn_cell_forward",
        student_fn,
        cell_cases("rnn_cell_forward", RNN_KEYS, hidden),
        arg_names=("x", "h_prev", "params"),
        outs=(Out("h", ("N", "H")), Out("cache", kind="cache")),
        expected_fn=lambda *args: reference("rnn_cell_forward", *args),
        part=part,
        mistakes=catalogue.RNN_CELL_FORWARD,
    )


@student_facing
def check_rnn_forward(student_fn, hidden=False, part=None):
    """Check ``rnn_forward(X, h0, params) -> (H, cache)``.

    Cases: (T, N, D, H) = (4, 3, 4, 5), (1, 2, 3, 4), (5, 1, 3, 3); hidden adds
    (9, 4, 5, 6), (1, 1, 1, 1) and (12, 2, 3, 4). ``H`` is compared with
    ``rnncore.rnn_forward`` (rtol 1e-6, atol 1e-8); h0 is always an array.

    Parameters
    ----------
    student_fn : callable
        The student's ``rnn_forward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "rnn_forward",
        student_fn,
        sequence_cases("rnn_forward", RNN_KEYS, hidden),
        arg_names=("X", "h0", "params"),
        outs=(Out("H", ("T", "N", "H")), Out("cache", kind="cache")),
        expected_fn=lambda *args: reference("rnn_forward", *args),
        part=part,
        mistakes=catalogue.RNN_FORWARD,
    )
