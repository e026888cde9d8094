"""Reading and comparing a ranked list of hypotheses, what a beam search returns.

A ranked list is a list of ``(tokens, score)`` pairs, best first: ``tokens`` a
list of int, ``score`` a float. Tokens must equal the expected ones exactly;
scores agree within the check's tolerances. A check may grade the best
hypothesis alone (part ``"best"`` of ``check_beam_search``) or the whole list.
"""

from __future__ import annotations

import numpy as np

from ._harness import fail

__all__: list[str] = []

SHOWN = 6  # hypotheses shown side by side in a message


def read_ranked(value, what: str, name: str) -> list:
    """``value`` as a list of (list of int, float), or a message saying what is wrong."""
    if not isinstance(value, list):
        raise fail(
            name,
            f"{what} should be a list of (tokens, score) pairs, best first; got "
            f"{type(value).__name__}.",
        )
    out = []
    for k, item in enumerate(value):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise fail(
                name,
                f"{what}[{k}] should be a pair (tokens, score), got {type(item).__name__}"
                + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
                + ".",
            )
        tokens, score = item
        if isinstance(tokens, np.ndarray) and tokens.ndim == 1 and tokens.dtype.kind in "iu":
            tokens = tokens.tolist()
        if not isinstance(tokens, (list, tuple)) or not all(
            isinstance(t, (int, np.integer)) and not isinstance(t, (bool, np.bool_)) for t in tokens
        ):
            raise fail(
                name,
                f"the tokens of {what}[{k}] should be a list of int (token ids), got "
                f"{_brief(tokens)}.",
            )
        if isinstance(score, (bool, np.bool_)) or not isinstance(
            score, (int, float, np.integer, np.floating)
        ):
            raise fail(
                name,
                f"the score of {what}[{k}] should be a float, got {type(score).__name__}.",
            )
        if not np.isfinite(float(score)):
            raise fail(name, f"the score of {what}[{k}] is {float(score)}: NaN or inf.")
        out.append(([int(t) for t in tokens], float(score)))
    return out


def _brief(value) -> str:
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in value})
        return f"a {type(value).__name__} of {', '.join(kinds) or 'nothing'}"
    return type(value).__name__


def _row(item) -> str:
    tokens, score = item
    return f"{tokens!s:<24} score {score: .6g}"


def _table(mine: list, expected: list) -> str:
    lines = []
    for k in range(min(max(len(mine), len(expected)), SHOWN)):
        yours = _row(mine[k]) if k < len(mine) else "(none)"
        theirs = _row(expected[k]) if k < len(expected) else "(none)"
        lines.append(f"  {k}: yours    {yours}\n     expected {theirs}")
    if max(len(mine), len(expected)) > SHOWN:
        lines.append("  ...")
    return "\n".join(lines)


def compare_ranked(mine: list, expected: list, what: str, name: str, case: str, tol, full: bool):
    """Fail unless ``mine`` has the expected best hypothesis (and, if ``full``, list and scores)."""
    rtol, atol = tol.get("rtol", 1e-6), tol.get("atol", 1e-8)
    unsorted = any(a[1] < b[1] - atol for a, b in zip(mine, mine[1:]))
    order = (
        "\nYour list is not sorted best first: sort the finished hypotheses by their score, "
        "highest first."
        if unsorted
        else ""
    )
    if not mine:
        raise fail(name, f"{what} is empty{case}; it should hold {len(expected)} hypotheses.")
    if mine[0][0] != expected[0][0]:
        higher = (
            "\nYours scores higher than the best output does: the log-probabilities you "
            "summed are not the model's for those tokens (a state given to the wrong "
            "hypothesis, or a score computed another way)."
            if mine[0][1] > expected[0][1] + atol + rtol * abs(expected[0][1])
            else ""
        )
        raise fail(
            name,
            f"wrong best hypothesis{case}: yours is {mine[0][0]} (score {mine[0][1]:.6g}), "
            f"the best is {expected[0][0]} (score {expected[0][1]:.6g}).{order}{higher}\n"
            + _table(mine, expected),
        )
    if not full:
        return
    for k, (a, b) in enumerate(zip(mine, expected)):
        if a[0] != b[0] or not abs(a[1] - b[1]) <= atol + rtol * abs(b[1]):
            part = "tokens" if a[0] != b[0] else "score"
            raise fail(
                name,
                f"the ranked list ({what}) differs from the expected one{case}, first at rank {k} "
                f"({part}):"
                f"{order}\n" + _table(mine, expected),
            )
    if len(mine) != len(expected):
        raise fail(
            name,
            f"{what} holds {len(mine)} hypotheses{case} but should hold {len(expected)} "
            "(the beam keeps beam_width minus the finished ones alive; every finished "
            "hypothesis is returned):\n" + _table(mine, expected),
        )
