"""Checks of exercise 7: the LSTM cell, forward and backward (chapter 7)."""

from __future__ import annotations

from ._backward import Pair
from ._cases import LSTM_KEYS, cell_cases
from ._driver import Out
from ._table import Spec, build
from .mistakes import ex07_lstm as catalogue

LSTM_CELL = Pair(
    "lstm_cell_forward",
    "lstm_cell_backward",
    ("x", "h_prev", "c_prev"),
    (("h", ("N", "H")), ("c", ("N", "H"))),
    ("dx", "dh_prev", "dc_prev"),
    ("dh", "dc"),
    (("N", "D"), ("N", "H"), ("N", "H")),
    order=(
        ("output gate", ("b_o", "W_xo", "W_ho")),
        ("cell state", ("dc_prev",)),
        ("forget gate", ("b_f", "W_xf", "W_hf")),
        ("input gate", ("b_i", "W_xi", "W_hi")),
        ("candidate", ("b_c", "W_xc", "W_hc")),
        ("dh_prev", ("dh_prev",)),
        ("dx", ("dx",)),
    ),
)


CHECKS = (
    Spec(
        "lstm_cell_forward",
        "(h, c, cache)",
        "The LSTM cell, as ``rnncore.lstm_cell_forward``, ``h`` and ``c`` in the input's "
        "dtype. Cases as :func:`check_rnn_cell_forward` (float32 copies included), with a "
        "random ``c_prev`` and the twelve LSTM parameters.",
        lambda hidden: cell_cases("lstm_cell_forward", LSTM_KEYS, hidden, 2, float32=True),
        ("x", "h_prev", "c_prev", "params"),
        (Out("h", ("N", "H")), Out("c", ("N", "H")), Out("cache", kind="cache")),
        mistakes=catalogue.LSTM_CELL_FORWARD,
        float32=True,
    ),
    Spec(
        "lstm_cell_backward",
        "(dx, dh_prev, dc_prev, grads)",
        "``dh`` and ``dc`` are random upstream gradients (``dc`` arrives from the next time "
        "step); finite differences weight the forward's outputs ``h`` and ``c`` by ``dh`` and "
        "``dc``. Runs on the cells' cases (float64 only).",
        lambda hidden: cell_cases("lstm_cell_backward", LSTM_KEYS, hidden, 2),
        mistakes=catalogue.LSTM_CELL_BACKWARD,
        pair=LSTM_CELL,
        forward_mistakes=catalogue.LSTM_CELL_FORWARD,
    ),
)

check_lstm_cell_forward, check_lstm_cell_backward = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
