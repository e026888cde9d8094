"""Checks of exercise 2: the RNN cell and the RNN over a sequence (chapter 2)."""

from __future__ import annotations

from ._cases import RNN_KEYS, cell_cases, sequence_cases
from ._driver import Out
from ._table import Spec, build
from .mistakes import ex02_rnn_cell as catalogue

CHECKS = (
    Spec(
        "rnn_cell_forward",
        "(h, cache)",
        "``h = tanh(x W_xh + h_prev W_hh + b_h)`` as ``rnncore.rnn_cell_forward``, in the "
        "input's dtype. Cases: (N, D, H) = (3, 4, 5), (1, 4, 5), (2, 3, 3) and the first as "
        "float32; hidden adds (6, 7, 5), (1, 1, 1) and (4, 2, 8) with saturating inputs, and "
        "(6, 7, 5) as float32.",
        lambda hidden: cell_cases("rnn_cell_forward", RNN_KEYS, hidden, float32=True),
        ("x", "h_prev", "params"),
        (Out("h", ("N", "H")), Out("cache", kind="cache")),
        mistakes=catalogue.RNN_CELL_FORWARD,
        float32=True,
    ),
    Spec(
        "rnn_forward",
        "(H, cache)",
        "The RNN cell applied at every step from ``h0`` (``None``: zeros), as "
        "``rnncore.rnn_forward``; ``H`` in X's dtype. Cases: (T, N, D, H) = (4, 3, 4, 5), "
        "(1, 2, 3, 4), (5, 1, 3, 3), and the first again as float32 and with ``h0=None``; "
        "hidden adds (9, 4, 5, 6), (1, 1, 1, 1) and (12, 2, 3, 4), and (9, 4, 5, 6) as float32 "
        "and with ``h0=None``.",
        lambda hidden: sequence_cases("rnn_forward", RNN_KEYS, hidden, variants=True),
        ("X", "h0", "params"),
        (Out("H", ("T", "N", "H")), Out("cache", kind="cache")),
        mistakes=catalogue.RNN_FORWARD,
        float32=True,
    ),
)

check_rnn_cell_forward, check_rnn_forward = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
