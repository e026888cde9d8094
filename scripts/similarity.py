"""Flag copied code: a similarity report of the students' answers to one assignment.

Usage::

    python -m scripts.similarity ex04_bptt                  # make similarity ASSIGNMENT=ex04_bptt
    python -m scripts.similarity ex04_bptt --course /srv/rnnbook --threshold 0.6

The code a student wrote is read from ``submitted/<student>/<assignment>/*.ipynb``: every
answer cell (nbgrader metadata ``solution: true``, one document per ``grade_id``) and, as one
more document, the code cells the student added to the notebook. The detector is copydetect
(winnowed k-gram fingerprints of the token stream with names, strings and comments
normalised, Schleimer, Wilkerson and Aiken's "Winnowing", 2003), so renaming variables,
editing comments and reordering whole statements do not hide a copy. Each answer is compared
with the same answer of every other student and with two references: the source of the
rnncore function the cell is graded against, and the model answer in ``solutions/``. The
released stub (signature and docstring) is boilerplate and never counts as a match.

A copy cannot always be stopped (a reference pasted from ``inspect.getsource`` runs from the
notebook), but it can be seen: a pair is flagged when the larger of its two similarities (the
share of either side's fingerprinted tokens found in the other) reaches ``threshold`` and at
least ``MIN_OVERLAP`` tokens match. Answers that read or run code dynamically (``exec``,
``eval``, ``compile``, ``inspect.getsource``, the import machinery, rnncore's files) are
flagged by a static check whatever their similarity.

Writes ``reports/similarity_<assignment>.json`` (flagged pairs with both similarities and the
matching lines, static findings, unreadable notebooks) and ``reports/similarity_<assignment>.html``
(the same for a person, with copydetect's highlighting; it loads nothing from the network).
"""

from __future__ import annotations

import argparse
import ast
import html
import inspect
import json
import sys
from importlib.metadata import version
from pathlib import Path

from .course import ROOT, check_assignments

# Measured with copydetect 0.5.0 on tests/_similarity_variants.py (tests/test_similarity.py):
# five honest, independent answers to each of ex04's two functions score at most 0.48 against
# each other and against both references (the closest: an in-place loop against the model
# answer); a reference or classmate's answer copied with renamed variables and reordered
# statements scores at least 0.79, a verbatim paste 1.0. The threshold sits between the two.
THRESHOLD = 0.6
# Matches are runs of at least NOISE_THRESHOLD normalised characters (``V=V.V(V,V["S"])`` is
# 16: about one short statement), and every such run is kept (guarantee = noise: window 1,
# affordable for cells of 5-40 lines). copydetect's defaults (25, 25) suit whole programs; on
# answer cells they let a copy with reordered lines fall to 0.26, below honest pairs.
NOISE_THRESHOLD = 10
GUARANTEE_THRESHOLD = 10
# Matched tokens below which a pair is a shared formula, not a copied answer: ex02's honest
# one-line rnn_cell_forward matches the model answer at 0.91 with 63 tokens, while the most
# edited copy above keeps 89. A function whose natural answer is one formula cannot be told
# from a copy; only the static check and the grade speak for it.
MIN_OVERLAP = 70

# Answer cells whose grade_id is not the name of the rnncore function they are graded against
REFERENCE_NAMES = {
    "build_vocab": "Vocab",
    "bidirectional_rnn_forward": "bidirectional_forward",
    "stacked_rnn_forward": "stacked_forward",
    "sequential_minibatches": "stream_minibatches",
}
ADDED = "added_cells"  # the document of the code cells a student added
DYNAMIC_BUILTINS = {"exec", "eval", "compile", "__import__"}
SOURCE_READERS = {"getsource", "getsourcelines", "getsourcefile", "getfile", "findsource"}
IMPORT_MACHINERY = {
    "spec_from_file_location",
    "module_from_spec",
    "exec_module",
    "run_path",
    "run_module",
    "reload",
    "SourceFileLoader",
}
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def student_code(notebook: dict, released: set[str]) -> dict[str, str]:
    """``{grade_id: source}`` of the answer cells, plus ``ADDED``: code cells the student added.

    ``released`` holds the sources of the released notebook's code cells; an unmarked code
    cell whose source is not among them was written (or pasted) by the student.
    """
    code, added = {}, []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta, src = _meta(cell), _source(cell)
        if meta.get("solution") and meta.get("grade_id"):
            code[str(meta["grade_id"])] = src
        elif not meta.get("grade") and src.strip() and src not in released:
            added.append(src)
    if added:
        code[ADDED] = "\n\n".join(added)
    return code


def reference_sources(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    """``{grade_id: {reference name: source}}``: rnncore's function and the model answer."""
    import rnncore

    refs: dict[str, dict[str, str]] = {}
    model = next(iter(sorted((course / "solutions" / assignment).glob("*.ipynb"))), None)
    for cell in json.loads(model.read_text())["cells"] if model else []:
        gid = _meta(cell).get("grade_id")
        if _meta(cell).get("solution") and gid:
            lines = [ln for ln in _source(cell).splitlines() if ln.strip() not in MARKERS]
            refs.setdefault(gid, {})[f"solutions/{assignment}"] = "\n".join(lines)
    for gid in refs:
        name = REFERENCE_NAMES.get(gid, gid)
        obj = getattr(rnncore, name, None)
        if obj is not None:
            refs[gid][f"rnncore.{name}"] = inspect.getsource(obj)
    return refs


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def static_findings(source: str) -> list[dict]:
    """Calls in ``source`` that read or run code dynamically: ``[{line, call, reason}]``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the cell cannot run either; the grade shows it
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            if name in DYNAMIC_BUILTINS or last in ("exec", "eval"):
                reason = "runs code built at run time"
            elif last in SOURCE_READERS:
                reason = "reads source code (inspect)"
            elif last in IMPORT_MACHINERY:
                reason = "loads a module by hand (import machinery)"
            elif "rnncore" in ast.unparse(node) and (last in ("open", "read_text", "read_bytes")):
                reason = "reads rnncore's files"
            else:
                continue
            found.append(
                {"line": node.lineno, "call": name or ast.unparse(node.func), "reason": reason}
            )
        elif isinstance(node, ast.Attribute) and node.attr in ("__file__", "__path__", "__code__"):
            if "rnncore" in ast.unparse(node.value) or node.attr == "__code__":
                found.append(
                    {
                        "line": node.lineno,
                        "call": ast.unparse(node),
                        "reason": "reaches into code objects or files",
                    }
                )
    return sorted(found, key=lambda f: f["line"])


def _lines(code: str, slices) -> tuple[list[int], str]:
    """Line numbers (1-based) covered by copydetect's character slices, and their text."""
    numbers: set[int] = set()
    for start, end in zip(*slices):
        first = code.count("\n", 0, int(start)) + 1
        numbers.update(range(first, code.count("\n", 0, max(int(end) - 1, int(start))) + 2))
    all_lines = code.splitlines()
    numbers = {n for n in numbers if n <= len(all_lines) and all_lines[n - 1].strip()}
    return sorted(numbers), "\n".join(all_lines[n - 1] for n in sorted(numbers))


def _fingerprint(name: str, code: str, boilerplate, k: int, window: int):
    from io import StringIO

    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{name}.py", k, window, boilerplate, fp=StringIO(code))


def _released(course: Path, assignment: str) -> list[dict]:
    for folder in (course / "exercises" / assignment, ROOT / "exercises" / assignment):
        for path in sorted(folder.glob("*.ipynb")):
            return json.loads(path.read_text()).get("cells", [])
    return []


def compare(
    students: dict[str, dict[str, str]],
    references: dict[str, dict[str, str]],
    boilerplate_code: list[str],
    threshold: float = THRESHOLD,
    noise_t: int = NOISE_THRESHOLD,
    guarantee_t: int = GUARANTEE_THRESHOLD,
    min_overlap: int = MIN_OVERLAP,
) -> list[dict]:
    """Every compared pair with its similarities, flagged ones marked, highest first.

    ``students``: ``{student: {grade_id: code}}``; ``references``: ``{grade_id: {name: code}}``.
    An answer is compared with the same grade_id of the other students and with its
    references; the ``ADDED`` document with every document of the others and every reference.
    """
    from copydetect.utils import find_fingerprint_overlap, get_copied_slices, highlight_overlap

    k, window = noise_t, guarantee_t - noise_t + 1
    import numpy as np

    boiler = np.unique(
        np.array(
            [h for code in boilerplate_code for h in _fingerprint("b", code, None, k, 1).hashes],
            dtype=np.int64,
        )
    )
    prints = {
        ("student", s, gid): _fingerprint(gid, code, boiler, k, window)
        for s, cells in students.items()
        for gid, code in cells.items()
    }
    prints.update(
        {
            ("reference", name, gid): _fingerprint(gid, code, boiler, k, window)
            for gid, refs in references.items()
            for name, code in refs.items()
        }
    )
    keys = sorted(prints)
    pairs = []
    for i, first in enumerate(keys):
        for second in keys[i + 1 :]:
            if first[0] == second[0] == "reference" or first[1] == second[1]:
                continue
            if first[2] != second[2] and ADDED not in (first[2], second[2]):
                continue
            a, b = (second, first) if first[0] == "reference" else (first, second)  # student first
            fa, fb = prints[a], prints[b]
            idx_a, idx_b = find_fingerprint_overlap(fa.hashes, fb.hashes, fa.hash_idx, fb.hash_idx)
            sa, sb = get_copied_slices(idx_a, k), get_copied_slices(idx_b, k)
            overlap = int(np.sum(sa[1] - sa[0]))  # 0 when nothing matches: still a result
            sim_a = overlap / max(fa.token_coverage, 1)
            sim_b = int(np.sum(sb[1] - sb[0])) / max(fb.token_coverage, 1)
            raw = []
            for fp, sl in ((fa, sa), (fb, sb)):
                if len(fp.offsets):  # from the filtered token stream back to the code
                    pos = np.clip(np.searchsorted(fp.offsets[:, 0], sl), 0, len(fp.offsets) - 1)
                    sl = sl + fp.offsets[:, 1][pos]
                raw.append(sl)
            score = float(max(sim_a, sim_b))
            pair = {
                "kind": f"student-{b[0]}",
                "cell": a[2] if a[2] != ADDED else b[2],
                "similarity": round(score, 4),
                "token_overlap": overlap,
                "flagged": bool(score >= threshold and overlap >= min_overlap),
            }
            for side, key, fp, sl, sim in (
                ("a", a, fa, raw[0], sim_a),
                ("b", b, fb, raw[1], sim_b),
            ):
                lines, text = _lines(fp.raw_code, sl)
                marked = fp.raw_code
                if overlap:
                    marked, _ = highlight_overlap(fp.raw_code, sl, "\x00", "\x01")
                pair[side] = {
                    key[0]: key[1],
                    "cell": key[2],
                    "similarity": round(float(sim), 4),
                    "lines": lines,
                    "text": text,
                    "_marked": marked,
                }
            pairs.append(pair)
    return sorted(pairs, key=lambda p: -p["similarity"])


def _report_html(report: dict, pairs: list[dict]) -> str:
    def code(marked: str) -> str:
        return (
            html.escape(marked).replace("\x00", "<span class='match'>").replace("\x01", "</span>")
        )

    def who(side: dict) -> str:
        name = side.get("student") or side.get("reference")
        kind = "student" if "student" in side else "reference"
        return f"{kind} <b>{html.escape(name)}</b>, {html.escape(side['cell'])}"

    rows = []
    for p in pairs:
        rows.append(
            f"<section><h3>{p['similarity']:.0%} &middot; {who(p['a'])} &harr; {who(p['b'])}</h3>"
            f"<p>{p['a']['similarity']:.0%} of the first, {p['b']['similarity']:.0%} of the "
            f"second; {p['token_overlap']} tokens match</p><div class='pair'>"
            f"<pre>{code(p['a']['_marked'])}</pre><pre>{code(p['b']['_marked'])}</pre></div></section>"
        )
    static = "".join(
        f"<li><b>{html.escape(f['student'])}</b>, {html.escape(f['cell'])} line {f['line']}: "
        f"<code>{html.escape(f['call'])}</code> ({html.escape(f['reason'])})</li>"
        for f in report["static"]
    )
    unreadable = "".join(
        f"<li><b>{html.escape(s)}</b>: {html.escape(why)}</li>"
        for s, why in report["unreadable"].items()
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Similarity: {html.escape(report["assignment"])}</title>
<style>
body {{ font-family: sans-serif; max-width: 1400px; margin: 2em auto; }}
.pair {{ display: flex; gap: 1em; }}
.pair pre {{ flex: 1; overflow-x: auto; background: #f6f6f6; padding: .5em; }}
.match {{ background: #f2b6b6; }}
</style></head><body>
<h1>Similarity report: {html.escape(report["assignment"])}</h1>
<p>{len(report["submissions"])} submissions compared with each other and with the references
(rnncore's functions and the model answers) by {html.escape(report["detector"])}: noise
threshold {report["noise_threshold"]}, guarantee threshold {report["guarantee_threshold"]}. A pair
is flagged at {report["threshold"]:.0%} similarity and {report["min_overlap"]} matching tokens;
matching code is highlighted.</p>
<h2>Flagged pairs ({len(pairs)})</h2>{"".join(rows) or "<p>none</p>"}
<h2>Code read or run dynamically ({len(report["static"])})</h2><ul>{static or "<li>none</li>"}</ul>
<h2>Notebooks that could not be read ({len(report["unreadable"])})</h2>
<ul>{unreadable or "<li>none</li>"}</ul>
</body></html>
"""


def similarity_report(course: Path, assignment: str, threshold: float = THRESHOLD) -> Path:
    """Compare every submission of ``assignment``; write the JSON and HTML reports.

    Returns the path of ``<course>/reports/similarity_<assignment>.json``.
    """
    course = Path(course).resolve()
    released_cells = _released(course, assignment)
    released = {_source(c) for c in released_cells if c.get("cell_type") == "code"}
    stubs = [_source(c) for c in released_cells if _meta(c).get("solution")]
    students, unreadable, static = {}, {}, []
    for folder in sorted((course / "submitted").glob(f"*/{assignment}")):
        student = folder.parent.name
        cells: dict[str, str] = {}
        for path in sorted(folder.glob("*.ipynb")):
            try:
                cells.update(student_code(json.loads(path.read_text()), released))
            except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as err:
                unreadable[student] = f"{path.name}: {type(err).__name__}: {str(err)[:200]}"
        students[student] = cells
        for gid, code in cells.items():
            static += [{"student": student, "cell": gid, **f} for f in static_findings(code)]
    references = reference_sources(course, assignment)
    pairs = compare(students, references, stubs, threshold)
    flagged = [p for p in pairs if p["flagged"]]
    report = {
        "assignment": assignment,
        "detector": f"copydetect {version('copydetect')}",
        "threshold": threshold,
        "noise_threshold": NOISE_THRESHOLD,
        "guarantee_threshold": GUARANTEE_THRESHOLD,
        "min_overlap": MIN_OVERLAP,
        "submissions": sorted(students),
        "references": {gid: sorted(refs) for gid, refs in references.items()},
        "flagged": [{**p, "a": _public(p["a"]), "b": _public(p["b"])} for p in flagged],
        "highest_unflagged": next(
            ({**p, "a": _public(p["a"]), "b": _public(p["b"])} for p in pairs if not p["flagged"]),
            None,
        ),
        "static": static,
        "unreadable": unreadable,
    }
    out = course / "reports"
    out.mkdir(exist_ok=True)
    json_path = out / f"similarity_{assignment}.json"
    json_path.write_text(json.dumps(report, indent=1))
    (out / f"similarity_{assignment}.html").write_text(_report_html(report, flagged))
    return json_path


def _public(side: dict) -> dict:
    return {k: v for k, v in side.items() if not k.startswith("_")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", type=Path, default=ROOT, help="course directory")
    parser.add_argument(
        "--threshold", type=float, default=THRESHOLD, help="flag at this similarity"
    )
    args = parser.parse_args(argv)
    (assignment,) = check_assignments([args.assignment])
    if not 0 < args.threshold <= 1:
        parser.error(f"--threshold must be in (0, 1], got {args.threshold}")
    path = similarity_report(args.course, assignment, args.threshold)
    report = json.loads(path.read_text())
    print(
        f"{len(report['flagged'])} flagged pair(s), {len(report['static'])} static finding(s) in "
        f"{len(report['submissions'])} submission(s): {path} and {path.with_suffix('.html')}"
    )
    for p in report["flagged"]:
        b = p["b"].get("student") or p["b"].get("reference")
        print(f"  {p['similarity']:.0%}  {p['a']['student']} {p['cell']}  ~  {b}")
    for f in report["static"]:
        print(f"  static  {f['student']} {f['cell']} line {f['line']}: {f['call']} ({f['reason']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
