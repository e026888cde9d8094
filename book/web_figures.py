"""Plotly figures whose sliders and menus work without a Python kernel.

The interactive figures of chapters 2, 3 and 5 are Plotly figures whose controls are
plotly.js's own sliders and drop-down menus. Every step of a control carries data computed
in Python beforehand (one array per trace), so moving it changes the plot in the browser,
with no kernel behind the page:

- on the website, :func:`show` emits ``text/html`` (a ``<div>`` and a ``Plotly.newPlot``
  call); plotly.js itself is served by the site (``scripts/vendor_js.py`` copies its basic
  bundle, the version the ``plotly`` package expects, and ``book/_ext/rnnbook_sphinx.py``
  adds it to the pages that hold such a ``<div>``). The basic bundle draws scatter, bar and
  pie traces: a figure of another type needs the full bundle;
- in JupyterLab the same output also carries ``application/vnd.plotly.v1+json``, which
  the Lab extension installed with the ``plotly`` package renders, with the same controls.

Controls that must combine (a slider *and* a menu) change different attributes of the
traces: one sets ``y``, another ``x`` or ``visible``. See chapter 5's explorer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.io as pio
from IPython.display import display

# matplotlib's default colours, so Plotly figures match the book's static ones
BLUE, ORANGE, GREEN, RED, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"
GREY, LIGHT_GREY = "#808080", "#d9d9d9"

TEMPLATE = "simple_white"
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 13}
# no "send to the Plotly cloud" buttons, no logo; the PNG download stays (it works offline)
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d"]}


def rounded(values: Iterable[float], digits: int = 4) -> list[float | None]:
    """``values`` with ``digits`` significant digits, non-finite ones as ``None``.

    Plotly draws ``None`` (JSON ``null``) as a gap. Four digits keep a page small and are
    more than a reader can see on a plot.
    """
    out = []
    for value in np.asarray(values, dtype=float).ravel():
        out.append(float(f"{value:.{digits}g}") if math.isfinite(value) else None)
    return out


def slider(
    prefix: str,
    labels: Sequence[str],
    args: Sequence[list],
    active: int,
    *,
    method: str = "restyle",
    y: float = -0.25,
) -> dict:
    """A plotly.js slider whose step ``k`` calls ``Plotly.<method>(*args[k])``.

    Parameters
    ----------
    prefix : str
        Text before the current value, e.g. ``"step t = "``.
    labels : sequence of str, length K
        One tick label per step.
    args : sequence of list, length K
        The arguments of ``Plotly.restyle`` (``[trace_update, trace_indices]``) or of
        ``Plotly.update`` (``[trace_update, layout_update, trace_indices]``) for each step.
    active : int
        The step shown first; the figure's own data must be that step's.
    method : {"restyle", "update", "relayout"}
    y : float
        Vertical position in units of the plotting area's height (below it when < 0).
    """
    if len(labels) != len(args):
        raise ValueError(f"labels has {len(labels)} entries but args has {len(args)}")
    if not 0 <= active < len(labels):
        raise ValueError(f"active must be in [0, {len(labels)}), got {active}")
    steps = [
        {"label": label, "method": method, "args": list(step)} for label, step in zip(labels, args)
    ]
    return {
        "active": active,
        "steps": steps,
        "currentvalue": {"prefix": prefix, "font": {"size": 14}},
        "pad": {"t": 10, "b": 0},
        "x": 0.0,
        "len": 1.0,
        "y": y,
        "yanchor": "top",
        "transition": {"duration": 0},
    }


def dropdown(
    labels: Sequence[str], args: Sequence[list], active: int, *, method: str = "restyle"
) -> dict:
    """A plotly.js drop-down menu above the plot; item ``k`` calls ``Plotly.<method>(*args[k])``."""
    if len(labels) != len(args):
        raise ValueError(f"labels has {len(labels)} entries but args has {len(args)}")
    buttons = [
        {"label": label, "method": method, "args": list(item)} for label, item in zip(labels, args)
    ]
    return {
        "type": "dropdown",
        "active": active,
        "buttons": buttons,
        "x": 0.0,
        "xanchor": "left",
        "y": 1.02,
        "yanchor": "bottom",
        "showactive": True,
    }


def show(fig, name: str, height: int = 420) -> None:
    """Display ``fig`` for the website and for JupyterLab alike.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
    name : str
        Names the figure's ``<div>`` (``id="fig-<name>"``), unique on its page; the site's
        browser tests find the figure by it.
    height : int
        Height in pixels on the website (JupyterLab sizes the figure itself).
    """
    fig.update_layout(template=TEMPLATE, font=FONT, height=height)
    figure = json.loads(pio.to_json(fig, validate=True))
    html = pio.to_html(
        fig,
        include_plotlyjs=False,  # the site serves plotly.js itself: no inline copy, no CDN
        include_mathjax=False,
        full_html=False,
        div_id=f"fig-{name}",
        config=CONFIG,
        default_height=height,
    )
    bundle = {
        "application/vnd.plotly.v1+json": {**figure, "config": CONFIG},
        "text/html": html,
        "text/plain": f"<Plotly figure {name!r}: run in JupyterLab or read on the website>",
    }
    display(bundle, raw=True)
