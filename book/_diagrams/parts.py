"""Olah's vocabulary of cell parts, coloured by role (``palette.py``).

As in C. Olah's "Understanding LSTM Networks" (2015): a rectangle is a learned layer
(an affine map followed by σ or tanh), a circle is a pointwise operation (×, +, 1−),
a line carries a vector, a dot is a copy (the line forks), lines that meet are
concatenated. Every function draws into a :class:`~svg.Drawing` at a centre point.
"""

from __future__ import annotations

from .palette import INK, PAPER, ink, tint
from .svg import Drawing

LAYER_W, LAYER_H, OP_R = 56, 34, 13


def colours(role: str) -> tuple[str, str]:
    """(ink, fill) of a part: its role's colours, or black on white for no role."""
    if not role:
        return INK, PAPER
    return ink(role), tint(role)


def layer(d: Drawing, cx, cy, label, role, w=LAYER_W, h=LAYER_H, size=16):
    """A learned layer, e.g. ``σ`` or ``tanh``, centred at (cx, cy)."""
    stroke, fill = colours(role)
    d.box(cx - w / 2, cy - h / 2, w, h, stroke=stroke, fill=fill, rx=6, width=1.8)
    d.text(cx, cy + 0.34 * size, label, colour=stroke, size=size)


def op(d: Drawing, cx, cy, symbol, role="", r=OP_R):
    """A pointwise operation (×, +, 1−, tanh) in a circle centred at (cx, cy)."""
    stroke, fill = colours(role)
    if symbol == "tanh":
        d.box(cx - 22, cy - r, 44, 2 * r, stroke=stroke, fill=fill, rx=r, width=1.6)
        d.text(cx, cy + 4.5, "tanh", colour=stroke, size=13)
        return
    d.circle(cx, cy, r, stroke=stroke, fill=fill, width=1.6)
    size = {"×": 17, "+": 19}.get(symbol, 13)
    d.text(cx, cy + 0.35 * size, symbol, colour=stroke, size=size, plain=True)


def cell_frame(d: Drawing, x, y, w, h):
    """The light rounded rectangle around one step of a cell, as in Olah's figures."""
    d.box(x, y, w, h, stroke="#9aa1ab", fill="#f6f7f9", rx=16, width=1.4)
