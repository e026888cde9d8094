"""Cell diagrams of the book, drawn as SVG by code (one module per diagram family).

Chapters call these in hidden-input cells at build time (a few milliseconds each), so the
drawings cannot drift from the code that makes them::

    from _diagrams import figure, lstm_cell
    figure(lstm_cell(stage=4), "caption with <b>h</b><sub>t</sub>")

``figure`` returns an ``IPython.display.HTML`` whose ``<svg>`` sits inline in the page:
the text in it is real, selectable text, and the caption is a ``<figcaption>``.
"""

from __future__ import annotations

from IPython.display import HTML

from .bptt import bptt_graph
from .gru import GRU_STAGES, gru_cell
from .lstm import LSTM_STAGES, lstm_cell
from .palette import PALETTE, ink
from .rnn import rnn_cell, unrolled_rnn
from .stacks import bidirectional_stack
from .svg import Drawing

__all__ = [
    "GRU_STAGES",
    "LSTM_STAGES",
    "PALETTE",
    "Drawing",
    "bidirectional_stack",
    "bptt_graph",
    "figure",
    "figure_html",
    "gru_cell",
    "ink",
    "lstm_cell",
    "rnn_cell",
    "unrolled_rnn",
]


def figure_html(drawing: Drawing, caption: str) -> str:
    """``<figure>`` with the inline SVG and ``caption`` (HTML) below it."""
    if not caption.strip():
        raise ValueError("caption must not be empty: every diagram needs one")
    return (
        '<figure class="rnn-diagram" style="margin: 1em auto; text-align: center">'
        # a white ground: the drawing stays legible when the site is switched to dark mode
        f'<div style="max-width: {drawing.width:.0f}px; margin: 0 auto; background: #fff; '
        'border-radius: 6px">'
        + str(drawing).replace(
            'class="rnn-diagram-svg"',
            'class="rnn-diagram-svg" style="width: 100%; height: auto; display: block"',
        )
        + "</div>"
        f'<figcaption style="font-size: 0.92em; font-weight: 400; margin-top: 0.5em">{caption}'
        "</figcaption></figure>"
    )


def figure(drawing: Drawing, caption: str) -> HTML:
    """Display ``drawing`` with its caption in a notebook or on the built page."""
    return HTML(figure_html(drawing, caption))
