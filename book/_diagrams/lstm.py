"""Chapter 7: the LSTM cell built up gate by gate, its cell state drawn as the highway.

Layout as in Olah's LSTM figures: the cell state runs along the top, the gates rise from
the concatenation of h_{t-1} and x_t along the bottom. The cell-state line is drawn
heavier, on a translucent band: along it the gradient is multiplied by the forget gate
and nothing else (CS231n calls it the gradient highway).
"""

from __future__ import annotations

from .palette import ink
from .parts import cell_frame, layer, op
from .svg import Drawing

LSTM_STAGES = {
    1: "the cell state and the forget gate",
    2: "the input gate and the candidate",
    3: "the output gate",
}
TOP, BUS = 66, 296


def lstm_cell(stage: int = 3) -> Drawing:
    """The LSTM cell with the parts of stages 1..``stage`` (see ``LSTM_STAGES``).

    Stage 1 draws the cell-state path and the forget gate, stage 2 adds the input gate,
    the candidate and the addition, stage 3 the output gate and h_t: the whole cell.
    """
    if stage not in LSTM_STAGES:
        raise ValueError(f"stage must be one of {sorted(LSTM_STAGES)}, got {stage!r}")
    cell, hidden, blue = ink("cell"), ink("hidden"), ink("input")
    keep, write, show, cand = ink("keep"), ink("write"), ink("show"), ink("candidate")
    d = Drawing(650, 372, f"LSTM cell, step {stage} of 3: {LSTM_STAGES[stage]}")
    cell_frame(d, 100, 30, 470, 300)

    with d.part("cell-state", "cell"):
        end = 330 if stage >= 2 else 200
        d.glow([(84, TOP), (604, TOP)], cell, width=16, opacity=0.22)
        d.text(50, TOP + 6, "c_{t-1}", colour=cell, size=17)
        d.wire([(84, TOP), (187, TOP)], colour=cell, width=3.2)
        op(d, 200, TOP, "×", "cell")
        if stage >= 2:
            d.wire([(213, TOP), (317, TOP)], colour=cell, width=3.2, arrow=True)
            op(d, 330, TOP, "+", "cell")
        d.wire([(end + 13, TOP), (604, TOP)], colour=cell, width=3.2)
        d.text(626, TOP + 6, "c_t", colour=cell, size=17)
        d.text(404, TOP - 14, "cell state: the gradient highway", colour=cell, size=12, plain=True)

    with d.part("previous-state", "hidden"):
        d.text(50, BUS + 6, "h_{t-1}", colour=hidden, size=17)
        d.wire([(84, BUS), ({1: 200, 2: 380, 3: 470}[stage], BUS)], colour=hidden, arrow=False)
    with d.part("input", "input"):
        d.text(150, 364, "x_t", colour=blue, size=17)
        d.wire([(150, 346), (150, BUS)], colour=blue, arrow=False)

    with d.part("forget-gate", "keep"):
        d.wire([(200, BUS), (200, 247)], colour=hidden)
        layer(d, 200, 230, r"\sigma", "keep")
        d.wire([(200, 213), (200, TOP + 13)], colour=keep)
        d.text(208, 150, "f_t", colour=keep, size=16, anchor="start")

    if stage >= 2:
        with d.part("input-gate", "write"):
            d.wire([(280, BUS), (280, 247)], colour=hidden)
            layer(d, 280, 230, r"\sigma", "write")
            d.wire([(280, 213), (280, 156), (317, 156)], colour=write)
            d.text(272, 190, "i_t", colour=write, size=16, anchor="end")
        with d.part("candidate", "candidate"):
            d.wire([(380, BUS), (380, 247)], colour=hidden)
            layer(d, 380, 230, "tanh", "candidate")
            d.wire([(380, 213), (380, 156), (343, 156)], colour=cand)
            d.text(388, 190, "~c_t", colour=cand, size=16, anchor="start")
        with d.part("write", "cell"):
            op(d, 330, 156, "×")
            d.wire([(330, 143), (330, TOP + 13)], colour=cell, width=1.8)

    if stage >= 3:
        with d.part("output-gate", "show"):
            d.wire([(470, BUS), (470, 247)], colour=hidden)
            layer(d, 470, 230, r"\sigma", "show")
            d.wire([(470, 213), (470, 196), (517, 196)], colour=show)
            d.text(478, 186, "o_t", colour=show, size=16, anchor="start")
        with d.part("squash", "cell"):
            d.dot(530, TOP, cell)
            d.wire([(530, TOP), (530, 108)], colour=cell, width=1.8)
            op(d, 530, 121, "tanh", "cell")
            d.wire([(530, 134), (530, 183)], colour=cell, width=1.8)
        with d.part("new-state", "hidden"):
            op(d, 530, 196, "×")
            d.wire([(530, 209), (530, BUS), (604, BUS)], colour=hidden)
            d.text(626, BUS + 6, "h_t", colour=hidden, size=17)
    return d
