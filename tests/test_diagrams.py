"""The cell diagrams (``book/_diagrams``) and the coloured equations beside them.

Each diagram must be well-formed SVG whose labels are real text in the book's symbols,
drawn inside its own canvas; the parts the chapters colour must carry the palette's
colours; and every ``\\textcolor`` in a chapter must be a palette colour that colours a
symbol of its role, the same colour that symbol has in the chapter's diagrams.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book"))

import _diagrams as dg  # noqa: E402  (book/ is not a package: the chapters import it this way)
from _diagrams.palette import INK, PALETTE, SYMBOLS, ink, role_of  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"

DIAGRAMS = {
    "unrolled_rnn": dg.unrolled_rnn,
    "rnn_cell": dg.rnn_cell,
    "bptt_graph": dg.bptt_graph,
    **{f"gru_cell_{k}": (lambda k=k: dg.gru_cell(stage=k)) for k in dg.GRU_STAGES},
    **{f"lstm_cell_{k}": (lambda k=k: dg.lstm_cell(stage=k)) for k in dg.LSTM_STAGES},
    "bidirectional_1": lambda: dg.bidirectional_stack(
        layers=1, steps=5, words=("He", "said", "Teddy", "bears", "are")
    ),
    "bidirectional_2": lambda: dg.bidirectional_stack(layers=2, steps=4),
}

# The symbols each chapter's text refers to, in the book's notation (book/notation.md).
EXPECTED_LABELS = {
    "unrolled_rnn": {"x_{t}", "h_{t}", "h_{0}", "x_{1}", "h_{3}", "h_{T}", "W_{xh}", "W_{hh}"},
    "rnn_cell": {"x_{t}", "h_{t-1}", "h_{t}", "W_{xh}", "W_{hh}", "b_{h}", "a_{t}", "tanh"},
    "bptt_graph": {"x_{t}", "h_{t}", "h_{t-1}", "h_{t+1}", "o_{t}", "ℓ_{t}"},
    "gru_cell_1": {"x_{t}", "h_{t-1}", "h_{t}", "~h_{t}", "tanh"},
    "gru_cell_2": {"x_{t}", "h_{t-1}", "~h_{t}", "r_{t}", "σ"},
    "gru_cell_3": {"x_{t}", "h_{t-1}", "h_{t}", "~h_{t}", "r_{t}", "z_{t}"},
    "lstm_cell_1": {"x_{t}", "h_{t-1}", "c_{t-1}", "c_{t}", "f_{t}", "σ"},
    "lstm_cell_2": {"c_{t-1}", "c_{t}", "f_{t}", "i_{t}", "~c_{t}"},
    "lstm_cell_3": {"c_{t-1}", "c_{t}", "f_{t}", "i_{t}", "~c_{t}", "o_{t}", "h_{t}"},
    "bidirectional_1": {">h_{3}", "<h_{3}", "x_{3}", "o_{3}", "x_{5}"},
    "bidirectional_2": {">h^{(1)}_{1}", "<h^{(1)}_{T}", ">h^{(2)}_{3}", "<h^{(2)}_{2}", "o_{T}"},
}

# Which diagrams each chapter shows (the site test checks that the pages show them).
CHAPTERS = {
    "ch02_rnn_cell": ["rnn_cell", "unrolled_rnn"],
    "ch04_bptt": ["bptt_graph"],
    "ch06_gru": ["gru_cell_1", "gru_cell_2", "gru_cell_3"],
    "ch07_lstm": ["lstm_cell_1", "lstm_cell_2", "lstm_cell_3"],
    "ch08_bidirectional_deep": ["bidirectional_1", "bidirectional_2"],
}


# --------------------------------------------------------------------------- reading SVG


def parse(drawing) -> ET.Element:
    root = ET.fromstring(str(drawing))  # raises on malformed XML
    assert root.tag == f"{SVG}svg"
    return root


def label_of(text: ET.Element, accents: dict) -> str:
    """A <text> element back in the label syntax: base, then _{sub} / ^{sup} runs."""
    out, current = [], None
    for node in [text, *text]:
        piece = node.text if node is text else (node.text or "")
        kind = node.get("class") if node is not text else None
        if not piece:
            continue
        if kind != current and current in ("sub", "sup"):
            out.append("}")
        if kind != current and kind in ("sub", "sup"):
            out.append("_{" if kind == "sub" else "^{")
        current = kind
        out.append(piece)
    if current in ("sub", "sup"):
        out.append("}")
    label = "".join(out).replace("−", "-") if "_" in "".join(out) else "".join(out)
    return accents.get(id(text), "") + label


def labels(root: ET.Element) -> dict[str, set[str]]:
    """label -> the fill colours it is drawn in (symbols only, not words). An accent
    drawn right after a <text> marks it as ~ (a curve) or > / < (an arrow)."""
    found: dict[str, set[str]] = {}
    for group in root.iter():
        children = list(group)
        for i, child in enumerate(children):
            if child.tag != f"{SVG}text" or child.get("class") == "words":
                continue
            accent = ""
            nxt = children[i + 1] if i + 1 < len(children) else None
            if nxt is not None and nxt.get("class") == "accent":
                d = nxt.get("d", "")
                if " Q" in d:
                    accent = "~"
                else:  # an arrow: "M tail L tip ..."
                    tail, tip = (float(v) for v in re.findall(r"[ML]([\d.]+),", d)[:2])
                    accent = ">" if tip > tail else "<"
            found.setdefault(label_of(child, {id(child): accent}), set()).add(child.get("fill"))
    return found


def parts(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-part"): g for g in root.iter(f"{SVG}g") if g.get("class") == "part"}


def colours_in(element: ET.Element) -> set[str]:
    return {
        value.lower()
        for node in element.iter()
        for key in ("stroke", "fill")
        if (value := node.get(key)) and value.startswith("#")
    }


# --------------------------------------------------------------------------- every diagram


@pytest.mark.parametrize("name", list(DIAGRAMS))
def test_diagram_is_well_formed_svg_with_a_title(name):
    root = parse(DIAGRAMS[name]())
    x0, y0, width, height = (float(v) for v in root.get("viewBox").split())
    assert (x0, y0) == (0, 0) and width > 100 and height > 100
    assert root.get("role") == "img" and root.get("aria-label")
    title = root.find(f"{SVG}title")
    assert title is not None and len(title.text) > 10


@pytest.mark.parametrize("name", list(DIAGRAMS))
def test_every_label_and_box_lies_inside_the_canvas(name):
    root = parse(DIAGRAMS[name]())
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    for node in root.iter():
        if node.tag == f"{SVG}text":
            x, y = float(node.get("x")), float(node.get("y"))
            assert 0 <= x < width - 8 and 12 <= y <= height, f"text at ({x}, {y})"
        if node.tag == f"{SVG}rect":
            x, y = float(node.get("x")), float(node.get("y"))
            w, h = float(node.get("width")), float(node.get("height"))
            assert x >= 0 and y >= 0 and x + w <= width and y + h <= height


@pytest.mark.parametrize("name", list(DIAGRAMS))
def test_diagram_shows_the_symbols_the_text_names(name):
    found = labels(parse(DIAGRAMS[name]()))
    missing = EXPECTED_LABELS[name] - set(found)
    assert not missing, f"{name}: labels {sorted(missing)} not drawn; drawn: {sorted(found)}"


def _symbol_role(label: str, diagram: str) -> str | None:
    """The role a label's symbol has in the book's equations (independent of the drawing)."""
    base = label.lstrip("~<>")
    if label.startswith("~"):
        return "candidate"
    if label.startswith("<"):
        return "backward"
    first = base[:1]
    if base.startswith("W_{x"):
        return "input"
    if base.startswith("W_{h"):
        return "hidden"
    if first == "o":
        return "show" if diagram.startswith("lstm") else "output"
    return {
        "x": "input",
        "h": "hidden",
        "c": "cell",
        "f": "keep",
        "z": "keep",
        "i": "write",
        "r": "write",
        "ℓ": "output",
    }.get(first)


@pytest.mark.parametrize("name", list(DIAGRAMS))
def test_labels_are_drawn_in_their_roles_colour(name):
    found = labels(parse(DIAGRAMS[name]()))
    checked = 0
    for label, fills in found.items():
        role = _symbol_role(label, name)
        if role is None or label in ("f", "i"):
            continue
        assert fills == {ink(role)}, f"{name}: {label} drawn in {fills}, expected {role}"
        checked += 1
    assert checked >= 4


def test_lstm_cell_state_is_highlighted_as_the_highway():
    state = parts(parse(dg.lstm_cell(stage=3)))["cell-state"]
    bands = [
        p
        for p in state.iter(f"{SVG}path")
        if float(p.get("stroke-width")) >= 10 and float(p.get("stroke-opacity", 1)) < 1
    ]
    assert bands and all(p.get("stroke") == ink("cell") for p in bands)
    line_widths = [float(p.get("stroke-width")) for p in state.iter(f"{SVG}path") if p not in bands]
    other = [
        float(p.get("stroke-width"))
        for name, g in parts(parse(dg.lstm_cell(stage=3))).items()
        if name != "cell-state"
        for p in g.iter(f"{SVG}path")
    ]
    assert min(line_widths) > max(other), "the cell-state line must be the heaviest"


@pytest.mark.parametrize(
    ("builder", "stages", "new_parts"),
    [
        (
            dg.gru_cell,
            dg.GRU_STAGES,
            {
                2: {"reset-gate", "reset", "previous-state-to-gates"},
                3: {"update-gate", "interpolation"},
            },
        ),
        (
            dg.lstm_cell,
            dg.LSTM_STAGES,
            {2: {"input-gate", "candidate", "write"}, 3: {"output-gate", "squash", "new-state"}},
        ),
    ],
)
def test_cells_are_built_up_gate_by_gate(builder, stages, new_parts):
    """Each stage keeps the parts of the one before and adds the gate it is about."""
    previous = None
    for stage in sorted(stages):
        names = set(parts(parse(builder(stage=stage))))
        if previous is not None:
            assert previous <= names, f"stage {stage} dropped {previous - names}"
            assert names - previous == new_parts[stage], f"stage {stage} added {names - previous}"
        previous = names
    with pytest.raises(ValueError, match="stage"):
        builder(stage=max(stages) + 1)


def test_gate_parts_carry_their_palette_colours():
    lstm = parts(parse(dg.lstm_cell(stage=3)))
    gru = parts(parse(dg.gru_cell(stage=3)))
    for group, role in [
        (lstm["forget-gate"], "keep"),
        (lstm["input-gate"], "write"),
        (lstm["output-gate"], "show"),
        (lstm["candidate"], "candidate"),
        (gru["update-gate"], "keep"),
        (gru["reset-gate"], "write"),
        (gru["candidate"], "candidate"),
    ]:
        assert group.get("data-role") == role
        assert {PALETTE[role].ink, PALETTE[role].tint} <= colours_in(group)


def test_bptt_graph_draws_the_two_paths_into_h_t_heavier():
    named = parts(parse(dg.bptt_graph()))
    widths = {
        name: max((float(p.get("stroke-width")) for p in g.iter(f"{SVG}path")), default=0.0)
        for name, g in named.items()
    }
    assert named["path-from-loss"].get("data-role") == "output"
    assert named["path-from-next-state"].get("data-role") == "hidden"
    assert ink("output") in colours_in(named["path-from-loss"])
    assert ink("hidden") in colours_in(named["path-from-next-state"])
    others = [w for name, w in widths.items() if "gradient" in name]
    assert others and min(widths["path-from-loss"], widths["path-from-next-state"]) > max(others)


def test_figure_wraps_the_svg_with_a_caption():
    html = dg.figure_html(dg.rnn_cell(), "One step of the <b>RNN</b>.")
    root = ET.fromstring(html)
    assert root.tag == "figure"
    assert root.find(f"div/{SVG}svg") is not None
    assert "".join(root.find("figcaption").itertext()) == "One step of the RNN."
    with pytest.raises(ValueError, match="caption"):
        dg.figure_html(dg.rnn_cell(), "  ")


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="layers"):
        dg.bidirectional_stack(layers=0)
    with pytest.raises(ValueError, match="words"):
        dg.bidirectional_stack(steps=3, words=("a", "b"))
    with pytest.raises(ValueError, match="role"):
        ink("gate")


def test_palette_inks_are_distinct_and_readable_on_white():
    inks = [role.ink.lower() for role in PALETTE.values()]
    assert len(set(inks)) == len(inks)

    def luminance(hex_colour):
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    for name, role in PALETTE.items():
        contrast = 1.05 / (luminance(role.ink) + 0.05)  # WCAG contrast against white
        assert contrast >= 3.9, f"{name}: ink {role.ink} has contrast {contrast:.2f} on white"
        assert luminance(role.tint) > 0.7, f"{name}: tint {role.tint} too dark for a fill"
    assert INK.lower() not in inks


# --------------------------------------------------------------------------- the chapters

TEXTCOLOR = re.compile(r"\\textcolor\{([^}]*)\}")


def coloured_groups(source: str) -> list[tuple[str, str]]:
    """(colour, TeX body) of every ``\\textcolor{colour}{body}``, nested braces included."""
    groups = []
    for match in TEXTCOLOR.finditer(source):
        i = match.end()
        assert source[i] == "{", f"\\textcolor without a body at {source[match.start() : i + 20]!r}"
        depth, j = 0, i
        while True:
            depth += {"{": 1, "}": -1}.get(source[j], 0)
            if depth == 0:
                break
            j += 1
        groups.append((match.group(1), source[i + 1 : j]))
    return groups


BOOK_PAGES = sorted((ROOT / "book").glob("*.md"))


def test_chapters_colour_their_equations():
    """Guards the next tests against passing vacuously."""
    for chapter in CHAPTERS:
        groups = coloured_groups((ROOT / "book" / f"{chapter}.md").read_text())
        assert len(groups) >= 2, f"{chapter}: only {len(groups)} coloured terms"


@pytest.mark.parametrize("page", BOOK_PAGES, ids=lambda p: p.stem)
def test_equation_colours_come_from_the_palette_and_fit_their_role(page):
    for colour, body in coloured_groups(page.read_text()):
        role = role_of(colour)
        assert role is not None, f"{page.name}: {colour} is not a palette ink ({body!r})"
        compact = body.replace(" ", "")
        assert any(symbol.replace(" ", "") in compact for symbol in SYMBOLS[role]), (
            f"{page.name}: {colour} ({role}) colours {body!r}, none of {SYMBOLS[role]}"
        )


_KEY = re.compile(
    r"\\(?P<acc>tilde|overrightarrow|overleftarrow)\{\\mathbf\{(?P<a>\w)\}\}"
    r"|\\mathbf\{(?P<b>\w)\}|\\ell|W_\{(?P<w>\w\w)\}"
)


def _equation_key(body: str) -> str | None:
    """The first symbol a coloured TeX group colours, as a diagram label's key."""
    match = _KEY.search(body)
    if match is None:
        return None
    if match.group("acc"):
        mark = {"tilde": "~", "overrightarrow": ">", "overleftarrow": "<"}[match.group("acc")]
        return mark + match.group("a")
    if match.group("b"):
        return match.group("b")
    if match.group("w"):
        return "W_{" + match.group("w") + "}"
    return "ℓ"


def _label_key(label: str) -> str:
    if label.startswith("W_{"):
        return label[:6]
    match = re.match(r"[~<>]?\w", label)
    return match.group(0) if match else label


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_equation_colours_match_the_diagrams_beside_them(chapter):
    """A symbol coloured in a chapter's maths has that colour in the chapter's diagrams."""
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    in_equations: dict[str, set[str]] = {}
    for colour, body in coloured_groups(source):
        key = _equation_key(body)
        if key is not None:
            in_equations.setdefault(key, set()).add(colour.lower())
    in_diagrams: dict[str, set[str]] = {}
    for name in CHAPTERS[chapter]:
        for label, fills in labels(parse(DIAGRAMS[name]())).items():
            in_diagrams.setdefault(_label_key(label), set()).update(f.lower() for f in fills)
    shared = set(in_equations) & set(in_diagrams)
    assert len(shared) >= 2, f"{chapter}: equations {in_equations}, diagrams {in_diagrams}"
    for key in shared:
        assert in_equations[key] == in_diagrams[key], (
            f"{chapter}: {key} is {in_equations[key]} in the equations, "
            f"{in_diagrams[key]} in the diagrams"
        )


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_chapter_calls_the_diagrams_it_is_said_to_show(chapter):
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    calls = re.findall(r"figure\(\s*(\w+)\(", source)
    expected = [
        name.rsplit("_", 1)[0] if name[-1].isdigit() else name for name in CHAPTERS[chapter]
    ]
    expected = [{"bidirectional": "bidirectional_stack"}.get(n, n) for n in expected]
    assert calls == expected
