"""Chapter 8: bidirectional layers, stacked into a deep network.

Each layer has two rows of cells: left to right (green, below) and right to left
(violet, above). Both rows read the layer's input (a dot: the line is copied); where
their outputs meet they are concatenated, [>h_t, <h_t], and that is the next layer's
input, as lines that meet are concatenated in Olah's figures.
"""

from __future__ import annotations

from .palette import INK, ink, tint
from .svg import Drawing

NODE_W, NODE_H = 66, 36
SPACING, ROW_GAP, LAYER_GAP = 136, 82, 132


def _node(d: Drawing, cx, cy, label, role):
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
    d.text(cx, cy + 6, label, colour=ink(role), size=16)


def bidirectional_stack(layers: int = 2, steps: int = 4, words: tuple[str, ...] = ()) -> Drawing:
    """``layers`` bidirectional RNN layers over ``steps`` time steps, outputs on top.

    ``words``, if given (one per step), are printed under the inputs.
    """
    if layers < 1 or steps < 2:
        raise ValueError(f"need layers >= 1 and steps >= 2, got layers={layers}, steps={steps}")
    if words and len(words) != steps:
        raise ValueError(f"words must have one entry per step ({steps}), got {len(words)}")
    fwd, bwd, blue = ink("hidden"), ink("backward"), ink("input")
    # one layer needs no "layer" labels on the left, and fits five steps more tightly
    spacing = SPACING if layers > 1 else 118
    left = 150 if layers > 1 else 66
    width = left + spacing * (steps - 1) + 100
    top_out = 40
    # y of each layer's rows, from the top: outputs, then layer L ... layer 1, then inputs
    layer_base = {}  # layer -> y of its forward row
    y = top_out + 90 + ROW_GAP
    for layer in range(layers, 0, -1):
        layer_base[layer] = y
        y += LAYER_GAP + ROW_GAP
    x_row = layer_base[1] + 96
    height = x_row + (48 if words else 26)
    title = f"A {'deep ' if layers > 1 else ''}bidirectional RNN: {layers} layer(s), {steps} steps"
    d = Drawing(width, height, title)
    columns = [left + spacing * k for k in range(steps)]
    # a generic sequence ends at step T; a sentence's words are numbered
    step_names = [str(k + 1) for k in range(steps - 1)] + [str(steps) if words else "T"]

    for layer in range(1, layers + 1):
        yf, yb = layer_base[layer], layer_base[layer] - ROW_GAP
        sup = f"^{{({layer})}}" if layers > 1 else ""
        # recurrences first, so that wires between the rows pass over them
        with d.part(f"layer-{layer}-left-to-right", "hidden"):
            for a, b in zip(columns, columns[1:]):
                d.wire([(a + NODE_W / 2, yf), (b - NODE_W / 2, yf)], colour=fwd, width=2.2)
        with d.part(f"layer-{layer}-right-to-left", "backward"):
            for a, b in zip(columns, columns[1:]):
                d.wire([(b - NODE_W / 2, yb), (a + NODE_W / 2, yb)], colour=bwd, width=2.2)
        if layers > 1:
            d.text(30, (yf + yb) / 2 + 5, f"layer {layer}", size=13, anchor="start", plain=True)
        for cx, t in zip(columns, step_names):
            below = yf + NODE_H / 2 + 36  # where this layer's input arrives
            source = blue if layer == 1 else INK
            with d.part(f"layer-{layer}-input-{t}"):
                # from the layer below's concatenation (layer 1: from x_t, drawn later)
                start = below if layer == 1 else layer_base[layer - 1] - ROW_GAP - 46
                d.wire([(cx, start), (cx, yf + NODE_H / 2)], colour=source, arrow=True)
                # the same input goes round the forward cell to the backward one
                d.wire(
                    [
                        (cx, below),
                        (cx + 46, below),
                        (cx + 46, yb + 34),
                        (cx + 12, yb + 34),
                        (cx + 12, yb + NODE_H / 2),
                    ],
                    colour=source,
                    halo=True,
                )
                d.dot(cx, below, source)
            with d.part(f"layer-{layer}-forward-{t}", "hidden"):
                _node(d, cx, yf, f">h{sup}_{t}", "hidden")
                d.wire(
                    [
                        (cx - 12, yf - NODE_H / 2),
                        (cx - 12, yf - 32),
                        (cx - 46, yf - 32),
                        (cx - 46, yb - 46),
                        (cx - 2, yb - 46),
                    ],
                    colour=fwd,
                    halo=True,
                    arrow=False,
                )
            with d.part(f"layer-{layer}-backward-{t}", "backward"):
                _node(d, cx, yb, f"<h{sup}_{t}", "backward")
                d.wire([(cx, yb - NODE_H / 2), (cx, yb - 46)], colour=bwd, arrow=False)

    with d.part("outputs", "output"):
        top_layer = layer_base[layers] - ROW_GAP - 46
        for cx, t in zip(columns, step_names):
            d.wire([(cx, top_layer), (cx, top_out + NODE_H / 2)], colour=INK)
            _node(d, cx, top_out, f"o_{t}", "output")
    with d.part("inputs", "input"):
        for k, (cx, t) in enumerate(zip(columns, step_names)):
            d.text(cx, x_row + 6, f"x_{t}", colour=blue, size=17)
            d.wire(
                [(cx, x_row - 14), (cx, layer_base[1] + NODE_H / 2 + 36)], colour=blue, arrow=False
            )
            if words:
                d.text(cx, x_row + 30, f"“{words[k]}”", size=13, plain=True, colour="#555")
    return d
