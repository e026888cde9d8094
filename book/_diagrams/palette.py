"""One palette for every cell diagram and for the coloured equations beside them.

Each *role* is a kind of quantity, and it keeps its colour in every chapter: the input
$\\mathbf{x}_t$ and the weights that read it are always blue, the hidden state and the
recurrent weights green, and so on. A role has an ink colour (lines, labels, the
equations' ``\\textcolor``) and a light tint of the same hue (the fill of boxes). The inks
are dark enough to read as text on white (contrast 3.9:1 or more against white).

The chapters colour their equations with ``\\textcolor{#rrggbb}{...}`` using the inks
below; ``tests/test_diagrams.py`` checks that every colour in a chapter's maths is one of
them and that it colours a symbol of its role.
"""

from __future__ import annotations

from typing import NamedTuple


class Role(NamedTuple):
    """A kind of quantity: its ink (lines, text, equations) and its tint (box fills)."""

    ink: str
    tint: str
    meaning: str


PALETTE: dict[str, Role] = {
    "input": Role("#1f5fa8", "#dce8f7", "the input x_t and the weights that read it, W_x*"),
    "hidden": Role("#1b7a3a", "#d9efe0", "the hidden state h and the recurrent weights W_h*"),
    "cell": Role("#c94a00", "#fbe2cf", "the LSTM cell state c: the gradient highway"),
    "keep": Role("#8e3b8e", "#f1def1", "gates that keep the old state: GRU z, LSTM f"),
    "write": Role("#8a6a00", "#f5ebc6", "gates that let new content in: GRU r, LSTM i"),
    "show": Role("#0b7285", "#d3edf1", "the LSTM output gate o"),
    "candidate": Role("#4f5d75", "#e3e7ee", "candidate states h~ and c~ (tanh layers)"),
    "output": Role("#c2185b", "#f9dbe7", "output layer and loss: o_t, y^_t, l_t"),
    "backward": Role("#5b3fb0", "#e6e0f7", "the right-to-left direction of a bidirectional layer"),
}

# Lines and labels that belong to no role: operations, biases, arrows of the forward pass.
INK = "#2b2b2b"
PAPER = "#ffffff"

# What each role may colour in the equations (TeX fragments, matched after removing
# spaces): a coloured group in a chapter must contain one of them.
SYMBOLS: dict[str, tuple[str, ...]] = {
    "input": (r"\mathbf{x}", r"W_{x"),
    "hidden": (r"\mathbf{h}", r"W_{h", r"\overrightarrow{\mathbf{h}}", r"W_{hh}"),
    "cell": (r"\mathbf{c}",),
    "keep": (r"\mathbf{z}", r"\mathbf{f}"),
    "write": (r"\mathbf{r}", r"\mathbf{i}"),
    "show": (r"\mathbf{o}",),
    "candidate": (r"\tilde{\mathbf{h}}", r"\tilde{\mathbf{c}}"),
    "output": (r"\mathbf{o}", r"\ell", r"\hat{\mathbf{y}}", r"\mathbf{g}"),
    "backward": (r"\overleftarrow{\mathbf{h}}", r"\overleftarrow{W}"),
}


def ink(role: str) -> str:
    """The ink colour of ``role``, e.g. ``ink("cell") == "#c94a00"``."""
    if role not in PALETTE:
        raise ValueError(f"role must be one of {sorted(PALETTE)}, got {role!r}")
    return PALETTE[role].ink


def tint(role: str) -> str:
    """The light fill colour of ``role``."""
    if role not in PALETTE:
        raise ValueError(f"role must be one of {sorted(PALETTE)}, got {role!r}")
    return PALETTE[role].tint


def role_of(colour: str) -> str | None:
    """The role whose ink is ``colour`` (case-insensitive), or None."""
    for name, role in PALETTE.items():
        if role.ink.lower() == colour.lower():
            return name
    return None
