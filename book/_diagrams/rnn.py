"""Chapter 2: the vanilla RNN unrolled in time, and the inside of one RNN cell."""

from __future__ import annotations

from .palette import ink
from .parts import cell_frame, layer, op
from .svg import Drawing

BLUE, GREEN = ink("input"), ink("hidden")


HALF = 30  # half the width of one unrolled cell


def _mini_cell(d: Drawing, cx, cy, t_label, x_label, h_label):
    """One unrolled step: x_t below, the cell, h_t above."""
    with d.part(f"input-{t_label}", "input"):
        d.text(cx, cy + 100, x_label, colour=BLUE, size=18)
        d.wire([(cx, cy + 80), (cx, cy + 24)], colour=BLUE)
        d.text(cx + 7, cy + 58, "W_{xh}", colour=BLUE, size=15, anchor="start")
    with d.part(f"cell-{t_label}", "hidden"):
        layer(d, cx, cy, "tanh", "hidden", w=2 * HALF, h=44)
    with d.part(f"state-{t_label}", "hidden"):
        d.wire([(cx, cy - 22), (cx, cy - 74)], colour=GREEN)
        d.text(cx, cy - 82, h_label, colour=GREEN, size=18)


def _recurrence(d: Drawing, name, start, end, cy, label=True):
    with d.part(name, "hidden"):
        d.wire([(start, cy), (end, cy)], colour=GREEN)
        if label:
            d.text((start + end) / 2, cy - 9, "W_{hh}", colour=GREEN, size=15)


def unrolled_rnn() -> Drawing:
    """The folded RNN (one cell with a loop) and the same network unrolled over T steps.

    Every unrolled step carries the same labels ``W_xh`` and ``W_hh``: the weights are
    shared across time.
    """
    d = Drawing(752, 232, "An RNN as a loop, and unrolled over T steps with the same W_xh and W_hh")
    cy = 118
    # folded: one cell whose state loops back into itself
    _mini_cell(d, 62, cy, "loop", "x_t", "h_t")
    with d.part("recurrence-loop", "hidden"):
        loop = [
            (92, cy + 8),
            (124, cy + 8),
            (124, cy - 48),
            (8, cy - 48),
            (8, cy + 8),
            (32, cy + 8),
        ]
        d.wire(loop, colour=GREEN)
        d.text(130, cy - 20, "W_{hh}", colour=GREEN, size=15, anchor="start")
        # the output arrow passes over the loop
        d.wire([(62, cy - 22), (62, cy - 74)], colour=GREEN, halo=True)
    d.text(194, cy + 9, "=", size=30, plain=True)

    # unrolled: h_0 -> step 1 -> step 2 -> step 3 -> ... -> step T
    with d.part("initial-state", "hidden"):
        d.text(228, cy + 6, "h_0", colour=GREEN, size=18)
    centres = {"1": 312, "2": 434, "3": 556, "T": 712}
    previous_right = 244
    for t, cx in centres.items():
        _mini_cell(d, cx, cy, t, f"x_{t}", f"h_{t}")
        if t == "T":  # steps 4 .. T-1 are left out
            _recurrence(d, "recurrence-to-dots", previous_right, 614, cy, label=False)
            d.text(630, cy + 6, r"\cdots", size=20)
            previous_right = 644
        _recurrence(d, f"recurrence-{t}", previous_right, cx - HALF, cy)
        previous_right = cx + HALF
    return d


def rnn_cell() -> Drawing:
    """Inside one step: a_t = x_t W_xh + h_{t-1} W_hh + b_h, then h_t = tanh(a_t)."""
    d = Drawing(600, 290, "One RNN step: h_{t-1} W_hh + x_t W_xh + b_h, through tanh, gives h_t")
    cy = 150
    cell_frame(d, 110, 50, 370, 190)
    with d.part("previous-state", "hidden"):
        d.text(52, cy + 6, "h_{t-1}", colour=GREEN, size=17)
        d.wire([(84, cy), (142, cy)], colour=GREEN)
        layer(d, 172, cy, "W_{hh}", "hidden", w=60, h=36)
        d.wire([(202, cy), (276, cy)], colour=GREEN)
    with d.part("input", "input"):
        d.text(290, 282, "x_t", colour=BLUE, size=17)
        d.wire([(290, 262), (290, 222)], colour=BLUE)
        layer(d, 290, 204, "W_{xh}", "input", w=60, h=36)
        d.wire([(290, 186), (290, cy + 14)], colour=BLUE)
    with d.part("bias"):
        d.text(250, 84, "b_h", size=15)
        d.wire([(262, 90), (281, cy - 9)], width=1.6)
    with d.part("sum"):
        op(d, 290, cy, "+")
        d.wire([(303, cy), (350, cy)])
        d.text(326, cy - 8, "a_t", size=14)
    with d.part("tanh", "hidden"):
        layer(d, 378, cy, "tanh", "hidden", w=56, h=36)
    with d.part("new-state", "hidden"):
        d.wire([(406, cy), (548, cy)], colour=GREEN)
        d.text(572, cy + 6, "h_t", colour=GREEN, size=17)
        d.dot(440, cy, GREEN)
        d.wire([(440, cy), (440, 22)], colour=GREEN)
        d.text(440, 16, "h_t", colour=GREEN, size=17)
    d.text(520, 132, "to step t+1", size=12, plain=True, colour="#666")
    d.text(448, 46, "to the output", size=12, plain=True, colour="#666", anchor="start")
    return d
