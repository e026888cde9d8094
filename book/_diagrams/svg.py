"""A small SVG canvas for cell diagrams: boxes, pointwise operations, wires, labels.

SVG is written directly rather than through matplotlib: the text stays real ``<text>``
(selectable, searchable, read by screen readers) in a font every reader has, the files
are a few kilobytes, and each part of a diagram is a ``<g data-part=...>`` group whose
colours the tests can read. Coordinates are pixels of the diagram's natural size; the
page scales the whole drawing down on narrow screens (``viewBox`` plus ``max-width``).

Labels are written in the book's symbols (``book/notation.md``), see ``labels.py``.
"""

from __future__ import annotations

import html
import math
from contextlib import contextmanager

from .labels import FONT, label_width, parse_label, text_width
from .palette import INK, PAPER


class Drawing:
    """An SVG canvas. Add parts inside ``with d.part(name, role):`` blocks, then ``str(d)``.

    Parameters
    ----------
    width, height : float
        Natural size in pixels (the page may scale it down, never up).
    title : str
        The accessible name (the ``<title>``), read by screen readers as alt text.
    """

    def __init__(self, width: float, height: float, title: str):
        self.width, self.height, self.title = width, height, title
        self._body: list[str] = []
        self._stack: list[list[str]] = [self._body]

    # ------------------------------------------------------------------ structure
    @contextmanager
    def part(self, name: str, role: str = ""):
        """Group what is drawn inside as one named part (``data-part``, ``data-role``)."""
        attrs = f'class="part" data-part="{name}"'
        if role:
            attrs += f' data-role="{role}"'
        self._stack.append([])
        try:
            yield
        finally:
            inner = self._stack.pop()
            self._emit(f"<g {attrs}>" + "".join(inner) + "</g>")

    def _emit(self, element: str) -> None:
        self._stack[-1].append(element)

    # ------------------------------------------------------------------ shapes
    def box(self, x, y, w, h, stroke=INK, fill=PAPER, rx=8, width=1.6, dash=None):
        """A rounded rectangle with top-left corner (x, y)."""
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self._emit(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{extra}/>'
        )

    def circle(self, cx, cy, r, stroke=INK, fill=PAPER, width=1.6):
        self._emit(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width}"/>'
        )

    def dot(self, cx, cy, colour=INK, r=3.5):
        """A junction: a wire forks (copies) here."""
        self._emit(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{colour}"/>')

    def wire(self, points, colour=INK, width=2.0, arrow=True, dash=None, halo=False):
        """A polyline through ``points`` with rounded corners, an arrowhead at the end.

        ``halo`` draws a white band under the line first, so that it reads as passing
        over the lines it crosses.
        """
        path = _rounded_path(points, radius=10)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        if halo:
            self._emit(
                f'<path d="{path}" fill="none" stroke="{PAPER}" stroke-width="{width + 5}" '
                'stroke-linecap="round"/>'
            )
        end = points[-1]
        if arrow:  # stop the line at the arrowhead's base, so it does not poke through
            (x0, y0), (x1, y1) = points[-2], points[-1]
            length = math.hypot(x1 - x0, y1 - y0)
            cut = min(4.0 + width, length)
            trimmed = list(points[:-1]) + [
                (x1 - (x1 - x0) * cut / length, y1 - (y1 - y0) * cut / length)
            ]
            path = _rounded_path(trimmed, radius=10)
        self._emit(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
            f'stroke-linejoin="round"{extra}/>'
        )
        if arrow:
            self._arrowhead(points[-2], end, colour, size=6.5 + 1.5 * width)

    def _arrowhead(self, start, end, colour, size):
        (x0, y0), (x1, y1) = start, end
        angle = math.atan2(y1 - y0, x1 - x0)
        spread = math.radians(24)
        left = (x1 - size * math.cos(angle - spread), y1 - size * math.sin(angle - spread))
        right = (x1 - size * math.cos(angle + spread), y1 - size * math.sin(angle + spread))
        pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in (end, left, right))
        self._emit(f'<polygon points="{pts}" fill="{colour}"/>')

    def glow(self, points, colour, width=14.0, opacity=0.28):
        """A wide translucent band under a path: the highlight of the gradient highway."""
        path = _rounded_path(points, radius=10)
        self._emit(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
            f'stroke-opacity="{opacity}" stroke-linecap="round" stroke-linejoin="round"/>'
        )

    # ------------------------------------------------------------------ text
    def text(self, x, y, label, colour=INK, size=16.0, anchor="middle", plain=False):
        """A label whose baseline's anchor point is (x, y); see the module docstring.

        ``plain=True`` sets ``label`` as ordinary words (captions inside the drawing).
        """
        if plain:
            self._emit(
                f'<text class="words" x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" '
                f'font-size="{size}" fill="{colour}" text-anchor="{anchor}">'
                f"{html.escape(label)}</text>"
            )
            return
        accent, runs = parse_label(label)
        total = label_width(label, size)
        start = {"start": x, "middle": x - total / 2, "end": x - total}[anchor]
        spans, shift_now = [], 0.0
        script, previous_script, script_shift = 0.0, 0.0, None
        for run in runs:
            attrs = []
            if run.bold:
                attrs.append('font-weight="bold"')
            if run.italic:
                attrs.append('font-style="italic"')
            if run.scale != 1.0:
                attrs.append(f'font-size="{size * run.scale:.1f}"')
            dy = (run.shift - shift_now) * size
            if dy:
                attrs.append(f'dy="{dy:.1f}"')
            shift_now = run.shift
            width = text_width(run.text, size * run.scale, run.bold, run.italic)
            if run.shift != script_shift:
                previous_script, script, script_shift = script, 0.0, run.shift
            if run.back:
                attrs.append(f'dx="{-previous_script:.1f}"')
            script += width
            cls = ' class="sub"' if run.shift > 0 else ' class="sup"' if run.shift < 0 else ""
            spans.append(f"<tspan{cls} {' '.join(attrs)}>{html.escape(run.text)}</tspan>")
        self._emit(
            f'<text x="{start:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" '
            f'fill="{colour}" text-anchor="start">{"".join(spans)}</text>'
        )
        if accent:
            base = runs[0]
            w = text_width(base.text, size, base.bold, base.italic)
            tall = base.text[:1] in "bdfhklABCDEFGHIJKLMNOPQRSTUVWXYZ"
            self._accent(accent, start, y - (1.02 if tall else 0.80) * size, w, colour, size)

    def phrase(self, x, y, pieces, colour=INK, size=14.0, anchor="start"):
        """Words and symbols on one line: ``pieces`` is a list of (text, is_math) pairs."""
        widths = [
            label_width(text, size) if is_math else text_width(text, size)
            for text, is_math in pieces
        ]
        left = {"start": x, "middle": x - sum(widths) / 2, "end": x - sum(widths)}[anchor]
        for (text, is_math), width in zip(pieces, widths):
            self.text(left, y, text, colour=colour, size=size, anchor="start", plain=not is_math)
            left += width

    def _accent(self, kind, x, y, w, colour, size):
        """A tilde or an arrow drawn over the base letter spanning [x, x + w]."""
        if kind == "~":
            a, b, h = x + 0.12 * w, x + 0.88 * w, 0.09 * size
            m = (a + b) / 2
            q = (a + m) / 2
            d = f"M{a:.1f},{y:.1f} Q{q:.1f},{y - 2 * h:.1f} {m:.1f},{y:.1f} T{b:.1f},{y:.1f}"
            self._emit(
                f'<path class="accent" d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
            return
        a, b = x + 0.05 * w, x + 0.95 * w + 2
        tip, tail = (b, a) if kind == ">" else (a, b)
        sign = 1 if kind == ">" else -1
        head = 0.22 * size
        d = (
            f"M{tail:.1f},{y:.1f} L{tip:.1f},{y:.1f} "
            f"M{tip - sign * head:.1f},{y - head * 0.55:.1f} L{tip:.1f},{y:.1f} "
            f"L{tip - sign * head:.1f},{y + head * 0.55:.1f}"
        )
        self._emit(
            f'<path class="accent" d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" '
            'stroke-linecap="round" stroke-linejoin="round"/>'
        )

    # ------------------------------------------------------------------ output
    def __str__(self) -> str:
        title = html.escape(self.title)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:.0f} '
            f'{self.height:.0f}" width="{self.width:.0f}" height="{self.height:.0f}" '
            f'role="img" aria-label="{title}" class="rnn-diagram-svg">'
            f"<title>{title}</title>" + "".join(self._body) + "</svg>"
        )


def _rounded_path(points, radius):
    """SVG path data through ``points``, each inner corner rounded with ``radius``."""
    if len(points) < 2:
        raise ValueError(f"a wire needs at least 2 points, got {len(points)}")
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (xa, ya), (xb, yb), (xc, yc) in zip(points, points[1:], points[2:]):
        la, lc = math.hypot(xb - xa, yb - ya), math.hypot(xc - xb, yc - yb)
        r = min(radius, la / 2, lc / 2)
        if r <= 0:
            d.append(f"L{xb:.1f},{yb:.1f}")
            continue
        p = (xb - (xb - xa) * r / la, yb - (yb - ya) * r / la)
        q = (xb + (xc - xb) * r / lc, yb + (yc - yb) * r / lc)
        d.append(f"L{p[0]:.1f},{p[1]:.1f} Q{xb:.1f},{yb:.1f} {q[0]:.1f},{q[1]:.1f}")
    d.append(f"L{points[-1][0]:.1f},{points[-1][1]:.1f}")
    return " ".join(d)
