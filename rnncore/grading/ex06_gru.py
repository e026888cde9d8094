"""Checks of exercise 6: the GRU cell, forward and backward (chapter 6).

The book's GRU (``reset_after=False``): ``h = z ⊙ h_prev + (1 − z) ⊙ h̃`` and
``h̃ = tanh(x W_xh + (r ⊙ h_prev) W_hh + b_h)``.
"""

from __future__ import annotations

from ._backward import Pair
from ._cases import GRU_KEYS, cell_cases
from ._driver import Out
from ._table import Spec, build
from .mistakes import ex06_gru as catalogue

GRU_CELL = Pair(
    "gru_cell_forward",
    "gru_cell_backward",
    ("x", "h_prev"),
    (("h", ("N", "H")),),
    ("dx", "dh_prev"),
    ("dh",),
    (("N", "D"), ("N", "H")),
    order=(
        ("update gate", ("b_z", "W_xz", "W_hz")),
        ("candidate", ("b_h", "W_xh", "W_hh")),
        ("reset gate", ("b_r", "W_xr", "W_hr")),
        ("dh_prev", ("dh_prev",)),
        ("dx", ("dx",)),
    ),
)


CHECKS = (
    Spec(
        "gru_cell_forward",
        "(h, cache)",
        "The book's GRU, as ``rnncore.gru_cell_forward``, in the input's dtype. Cases as "
        ":func:`check_rnn_cell_forward` (float32 copies included), with the nine GRU "
        "parameters.",
        lambda hidden: cell_cases("gru_cell_forward", GRU_KEYS, hidden, float32=True),
        ("x", "h_prev", "params"),
        (Out("h", ("N", "H")), Out("cache", kind="cache")),
        mistakes=catalogue.GRU_CELL_FORWARD,
        float32=True,
    ),
    Spec(
        "gru_cell_backward",
        "(dx, dh_prev, grads)",
        "Runs on the cells' cases (float64 only) with random upstream gradients ``dh``; see "
        ":mod:`rnncore.grading._backward`.",
        lambda hidden: cell_cases("gru_cell_backward", GRU_KEYS, hidden),
        mistakes=catalogue.GRU_CELL_BACKWARD,
        pair=GRU_CELL,
        forward_mistakes=catalogue.GRU_CELL_FORWARD,
    ),
)

check_gru_cell_forward, check_gru_cell_backward = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
