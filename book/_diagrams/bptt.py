"""Chapter 4: the unrolled graph that backpropagation through time walks backwards."""

from __future__ import annotations

from .palette import INK, ink, tint
from .svg import Drawing

NODE_W, NODE_H = 58, 36
ROWS = {"x": 330, "h": 234, "o": 138, "l": 42}
ROW_ROLE = {"x": "input", "h": "hidden", "o": "output", "l": "output"}


def _node(d: Drawing, cx, cy, label, role, ring=False):
    if ring:  # the state whose gradient the two paths make up
        d.box(
            cx - NODE_W / 2 - 6,
            cy - NODE_H / 2 - 6,
            NODE_W + 12,
            NODE_H + 12,
            stroke=ink(role),
            fill="none",
            rx=11,
            width=1.4,
            dash="4 3",
        )
    d.box(
        cx - NODE_W / 2,
        cy - NODE_H / 2,
        NODE_W,
        NODE_H,
        stroke=ink(role),
        fill=tint(role),
        rx=7,
        width=1.8,
    )
    d.text(cx, cy + 6, label, colour=ink(role), size=17)


def bptt_graph() -> Drawing:
    """Steps t-1, t, t+1 of an unrolled RNN with its loss; forward arrows in black,
    gradients dashed: from each loss down (crimson) and from each next state back
    (green). The two gradient paths into h_t are drawn heavier and named.
    """
    d = Drawing(660, 372, "The computational graph of BPTT: two gradient paths reach h_t")
    red, green = ink("output"), ink("hidden")
    columns = {"t-1": 150, "t": 330, "t+1": 510}
    half_w, half_h = NODE_W / 2, NODE_H / 2
    for t, cx in columns.items():
        main = t == "t"
        with d.part(f"step-{t}-forward"):
            _node(d, cx, ROWS["x"], f"x_{{{t}}}", "input")
            _node(d, cx, ROWS["h"], f"h_{{{t}}}", "hidden", ring=main)
            _node(d, cx, ROWS["o"], f"o_{{{t}}}", "output")
            _node(d, cx, ROWS["l"], rf"\ell_{{{t}}}", "output")
            for low, high in (("x", "h"), ("h", "o"), ("o", "l")):
                d.wire(
                    [(cx - 11, ROWS[low] - half_h), (cx - 11, ROWS[high] + half_h)],
                    colour=INK,
                    width=1.5,
                )
        # gradients: loss -> output -> state, down the column
        name = "path-from-loss" if main else f"step-{t}-loss-gradient"
        with d.part(name, "output"):
            width = 3.0 if main else 1.8
            for high, low in (("l", "o"), ("o", "h")):
                d.wire(
                    [(cx + 11, ROWS[high] + half_h), (cx + 11, ROWS[low] - half_h)],
                    colour=red,
                    width=width,
                    dash="6 4",
                )
    # the recurrence: forward to the right (black), gradient to the left (green)
    edges = [(44, 150), (150, 330), (330, 510), (510, 616)]
    for i, (left, right) in enumerate(edges):
        a = left + (half_w if left in columns.values() else 0)
        b = right - (half_w if right in columns.values() else 0)
        with d.part(f"recurrence-{i}-forward"):
            d.wire([(a, ROWS["h"] - 8), (b, ROWS["h"] - 8)], colour=INK, width=1.5)
        main = (left, right) == (330, 510)
        with d.part("path-from-next-state" if main else f"recurrence-{i}-gradient", "hidden"):
            d.wire(
                [(b, ROWS["h"] + 8), (a, ROWS["h"] + 8)],
                colour=green,
                width=3.0 if main else 1.8,
                dash="6 4",
            )
    for x in (26, 634):
        d.text(x, ROWS["h"] + 6, r"\cdots", size=18)
    # names of the two paths into h_t
    with d.part("label-from-loss", "output"):
        d.phrase(
            346,
            (ROWS["o"] + ROWS["h"]) / 2 + 5,
            [("from ", False), (r"\ell_t", True)],
            colour=red,
            size=14,
        )
    with d.part("label-from-next-state", "hidden"):
        d.phrase(
            420,
            ROWS["h"] + 34,
            [("from ", False), ("h_{t+1}", True)],
            colour=green,
            size=14,
            anchor="middle",
        )
    d.text(20, 364, "forward pass", size=13, anchor="start", plain=True)
    d.wire([(112, 360), (150, 360)], colour=INK, width=1.5)
    d.text(176, 364, "gradients", size=13, anchor="start", plain=True)
    d.wire([(244, 360), (282, 360)], colour=red, width=1.8, dash="6 4")
    d.wire([(292, 360), (330, 360)], colour=green, width=1.8, dash="6 4")
    return d
