"""Chapter 6: the GRU built up from an RNN step, one gate at a time.

Layout as in Olah's GRU figure: the state h runs along the top; it drops down the left
side to meet x_t, and the gates rise from that concatenation. This book's convention
(Cho et al. 2014, as rnncore): the update gate z keeps the old state,
h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~_t, so z meets h_{t-1} on the top line and 1 - z meets
the candidate.
"""

from __future__ import annotations

from .palette import ink
from .parts import cell_frame, layer, op
from .svg import Drawing

GRU_STAGES = {
    1: "the candidate, a vanilla RNN step",
    2: "the reset gate",
    3: "the update gate and the interpolation",
}
TOP, BUS, XLINE = 62, 286, 318


def gru_cell(stage: int = 3) -> Drawing:
    """The GRU cell with the parts of stages 1..``stage`` (see ``GRU_STAGES``).

    Stage 1 is a vanilla RNN step drawn as a GRU's candidate (h_t = h~_t); stage 2 adds
    the reset gate in front of the candidate; stage 3 adds the update gate, which mixes
    the old state and the candidate: the whole cell.
    """
    if stage not in GRU_STAGES:
        raise ValueError(f"stage must be one of {sorted(GRU_STAGES)}, got {stage!r}")
    hidden, blue = ink("hidden"), ink("input")
    keep, write, cand = ink("keep"), ink("write"), ink("candidate")
    d = Drawing(650, 372, f"GRU cell, step {stage} of 3: {GRU_STAGES[stage]}")
    cell_frame(d, 100, 28, 470, 306)

    with d.part("previous-state", "hidden"):
        d.text(50, TOP + 6, "h_{t-1}", colour=hidden, size=17)
        if stage == 3:  # the state line runs through the cell: the copy path
            d.wire([(84, TOP), (277, TOP)], colour=hidden, width=2.6)
        else:
            d.wire([(84, TOP), (124, TOP)], colour=hidden, arrow=False)
        d.dot(124, TOP, hidden)
        drop_end = BUS if stage == 3 else 152
        d.wire(
            [(124, TOP), (124, drop_end), (300 if stage == 3 else 124, drop_end)],
            colour=hidden,
            arrow=False,
        )
    with d.part("input", "input"):
        d.text(160, 366, "x_t", colour=blue, size=17)
        d.wire([(160, 348), (160, XLINE)], colour=blue, arrow=False)
        d.dot(160, XLINE, blue)
        d.wire([(160, XLINE), (400, XLINE), (400, 253)], colour=blue)
        if stage >= 2:
            d.wire([(160, XLINE), (160, BUS)], colour=blue, arrow=False)

    if stage >= 2:
        with d.part("previous-state-to-gates", "hidden"):
            if stage == 2:
                d.wire([(124, 152), (124, BUS), (200, BUS)], colour=hidden, arrow=False)
            d.dot(124, 152, hidden)
        with d.part("reset-gate", "write"):
            d.wire([(200, BUS), (200, 253)], colour=hidden)
            layer(d, 200, 236, r"\sigma", "write")
            d.wire([(200, 219), (200, 165)], colour=write)
            d.text(208, 200, "r_t", colour=write, size=16, anchor="start")
        with d.part("reset", "hidden"):
            d.wire([(124, 152), (187, 152)], colour=hidden)
            op(d, 200, 152, "×")
    with d.part("candidate", "candidate"):
        start = (213, 152) if stage >= 2 else (124, 152)
        d.wire([start, (400, 152), (400, 219)], colour=hidden, halo=stage == 3)
        layer(d, 400, 236, "tanh", "candidate")
        if stage == 3:
            d.wire([(428, 236), (470, 236), (470, 123)], colour=cand)
            d.text(478, 196, "~h_t", colour=cand, size=16, anchor="start")
        else:
            d.wire([(428, 236), (470, 236), (470, TOP), (604, TOP)], colour=cand)
            d.text(478, 196, "~h_t", colour=cand, size=16, anchor="start")
            d.text(626, TOP + 6, "h_t", colour=hidden, size=17)

    if stage >= 3:
        with d.part("update-gate", "keep"):
            d.wire([(300, BUS), (300, 253)], colour=hidden)
            layer(d, 300, 236, r"\sigma", "keep")
            d.wire([(300, 219), (300, TOP + 13)], colour=keep, halo=True)
            d.text(292, 200, "z_t", colour=keep, size=16, anchor="end")
            d.dot(300, 110, keep)
            d.wire([(300, 110), (345, 110)], colour=keep)
            op(d, 360, 110, "1−", "keep", r=15)
            d.wire([(375, 110), (457, 110)], colour=keep)
        with d.part("interpolation", "hidden"):
            op(d, 300, TOP, "×")
            op(d, 470, 110, "×")
            d.wire([(313, TOP), (457, TOP)], colour=hidden, width=2.6)
            d.wire([(470, 97), (470, TOP + 13)], colour=hidden)
            op(d, 470, TOP, "+")
            d.wire([(483, TOP), (604, TOP)], colour=hidden, width=2.6)
            d.text(626, TOP + 6, "h_t", colour=hidden, size=17)
    return d
