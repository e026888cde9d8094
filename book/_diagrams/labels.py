"""Labels in the book's symbols: a tiny subset of TeX, set with DejaVu Serif's metrics.

``h_{t-1}``, ``W_{hh}^T``, ``~h_t`` (tilde), ``>h_t`` / ``<h_t`` (arrow over: the two
directions of a bidirectional layer), ``h^{(2)}_t``, Greek by name (``\\sigma``, ``\\ell``).
Vectors (lower-case x, h, c, o, z, r, i, f, g, y, a, e) are set in bold upright, as the
book's ``\\mathbf``; matrices and scalars in italic; in scripts, letters italic and
digits upright, as TeX sets them.
"""

from __future__ import annotations

import functools
import re
import warnings

from matplotlib import font_manager, ft2font

# A font every reader has offline: DejaVu ships with most Linux systems (and with
# matplotlib, whose copy gives the metrics below); the rest fall back to a system serif.
FONT = "'DejaVu Serif', 'Bitstream Vera Serif', 'Times New Roman', Times, serif"
VECTORS = set("xhcozrifgyae")
GREEK = {r"\sigma": "σ", r"\ell": "ℓ", r"\delta": "δ", r"\odot": "⊙", r"\cdots": "…"}
SUB_SCALE, SUB_DROP, SUP_RISE = 0.72, 0.28, 0.38


@functools.cache
def _face(bold: bool, italic: bool) -> ft2font.FT2Font:
    props = font_manager.FontProperties(
        family="DejaVu Serif",
        weight="bold" if bold else "normal",
        style="italic" if italic else "normal",
    )
    return ft2font.FT2Font(font_manager.findfont(props, fallback_to_default=True))


def text_width(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    """Advance width in pixels of ``text`` set in DejaVu Serif at ``size`` pixels."""
    if not text:
        return 0.0
    face = _face(bold, italic)
    face.set_size(size, 72)  # 72 dpi: one point is one pixel
    with warnings.catch_warnings():  # ℓ is not in DejaVu Serif: the browser falls back
        warnings.simplefilter("ignore")
        face.set_text(text)
    return face.get_width_height()[0] / 64.0


class _Run:
    """One piece of a label: its text, style and vertical position."""

    def __init__(self, text, bold=False, italic=False, shift=0.0, scale=1.0, back=0.0):
        self.text, self.bold, self.italic = text, bold, italic
        self.shift, self.scale, self.back = shift, scale, back


_TOKEN = re.compile(r"([~<>]?)(\\[a-zA-Z]+|[A-Za-z]+|[0-9]+|.)")


def _script(text: str) -> str:
    return text.replace("-", "−").replace("T", "⊤") if text != "T" else "⊤"


def parse_label(label: str) -> tuple[str, list[_Run]]:
    """Split ``label`` into runs. Returns (accent, runs); accent is '', '~', '>' or '<'."""
    match = _TOKEN.match(label)
    if match is None:
        raise ValueError(f"label must start with a symbol, got {label!r}")
    accent, base = match.group(1), match.group(2)
    rest = label[match.end() :]
    if base in GREEK:
        base_text, bold, italic = GREEK[base], False, base == r"\ell"
    elif len(base) == 1 and base in VECTORS:
        base_text, bold, italic = base, True, False
    elif len(base) == 1 and base.isalpha():
        base_text, bold, italic = base, False, True
    else:
        base_text, bold, italic = base, False, False  # tanh, numbers, operators
    runs = [_Run(base_text, bold, italic)]
    scripts = re.findall(r"([_^])(\{[^}]*\}|.)", rest)
    if "".join(a + b for a, b in scripts) != rest:
        raise ValueError(f"label {label!r}: after the symbol only _x, _{{..}}, ^x, ^{{..}}")
    for i, (kind, body) in enumerate(scripts):
        body = body.strip("{}")
        shift = SUB_DROP if kind == "_" else -SUP_RISE
        # a superscript after a subscript sits above it (h_t^T), not after it
        back = 1.0 if i > 0 and scripts[i - 1][0] != kind else 0.0
        text = _script(body) if kind == "^" else body.replace("-", "−")
        # as TeX sets them: letters italic, digits and signs upright
        for j, piece in enumerate(re.findall(r"[A-Za-z]+|[^A-Za-z]+", text)):
            italic = piece[0].isalpha()
            runs.append(_Run(piece, False, italic, shift, SUB_SCALE, back if j == 0 else 0.0))
    return accent, runs


def label_width(label: str, size: float) -> float:
    """Width in pixels of a label as :func:`parse_label` sets it."""
    _, runs = parse_label(label)
    width, script, previous_script, shift = 0.0, 0.0, 0.0, None
    for run in runs:
        w = text_width(run.text, size * run.scale, run.bold, run.italic)
        if run.shift != shift:
            previous_script, script, shift = script, 0.0, run.shift
        if run.back:  # the new script starts under/over the previous one
            width -= previous_script
        width += w
        script += w
    if any(run.back for run in runs):  # the label ends where the longer script ends
        width += max(0.0, previous_script - script)
    return width
