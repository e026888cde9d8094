"""Comparing a student's output with the expected one, and naming known mistakes.

Tolerances (float64 cases): an entry differs when
``|yours − expected| > ATOL + RTOL·|expected|`` with ``RTOL = 1e-6`` and
``ATOL = 1e-8``; float32 cases use :data:`FLOAT32_TOL` (``rtol = 1e-4,
atol = 1e-5``: float32 keeps about 7 digits, and sums of a few dozen products
lose one or two). A catalogued mistake "matches" a student's output when every
returned array agrees with the mistake's within ``rtol = 1e-6, atol = 1e-9``
(``1e-4, 1e-6`` where either is float32; NaN matching NaN).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from ._harness import CheckFailed, fail, run_quietly

__all__: list[str] = []

RTOL = 1e-6
ATOL = 1e-8
FLOAT32_TOL = {"rtol": 1e-4, "atol": 1e-5}

# Titles as the chapters' first headings (book/chNN_*.md); keep them in step with the book.
CHAPTERS = {
    1: "Sequences and one-hot vocabularies",
    2: "The RNN cell",
    3: "Softmax and the loss",
    4: "Backpropagation through time",
    5: "Vanishing and exploding gradients",
    6: "Gated recurrent units",
    7: "Long short-term memory",
    8: "Bidirectional and deep RNNs",
    9: "Character language models and sampling",
    10: "Training RNNs in practice",
    11: "Sequence to sequence and attention",
}


class Mistake(NamedTuple):
    """A typical wrong implementation, written as a small wrong function."""

    description: str  # completes "This looks like ..."
    chapter: int  # where the book teaches the right way
    fn: Callable  # the student's signature (a (forward, backward) pair for backward checks)

    def hint(self) -> str:
        return (
            f"This looks like {self.description}: see chapter {self.chapter}, "
            f"{CHAPTERS[self.chapter]}."
        )


def parts(part, allowed: tuple, name: str, aliases: dict | None = None) -> frozenset:
    """The properties to check: all of ``allowed`` for None, else the one named."""
    if part is None:
        return frozenset(allowed)
    aliases = aliases or {}
    if part in aliases:
        return frozenset(aliases[part])
    if part not in allowed:
        raise ValueError(
            f"check_{name}: part must be one of {', '.join(map(repr, allowed))}"
            f"{''.join(', ' + repr(a) for a in aliases)} or None, got {part!r}"
        )
    return frozenset((part,))


def _index_text(index) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def side_by_side(yours: np.ndarray, expected: np.ndarray, index: tuple) -> str:
    """A few entries of both arrays around ``index``, one line each."""
    if yours.ndim == 0:
        return f"  yours    = {yours[()]:.6g}\n  expected = {expected[()]:.6g}"
    start = max(int(index[-1]) - 2, 0)
    stop = min(start + 6, yours.shape[-1])
    lead = ", ".join(str(int(i)) for i in index[:-1])
    where = f"[{lead + ', ' if lead else ''}{start}:{stop}]"
    fmt = {"float_kind": lambda v: f"{v: .5g}"}
    row_yours = np.array2string(yours[tuple(index[:-1])][start:stop], formatter=fmt)
    row_expected = np.array2string(expected[tuple(index[:-1])][start:stop], formatter=fmt)
    return f"  yours{where}    = {row_yours}\n  expected{where} = {row_expected}"


def compare(
    yours, expected, what: str, name: str, case: str = "", rtol: float = RTOL, atol: float = ATOL
) -> None:
    """Fail with max abs error, first differing index and a slice side by side."""
    yours = np.asarray(yours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    diff = np.abs(yours - expected)
    bad = ~(diff <= atol + rtol * np.abs(expected))  # NaN counts as different
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    place = f", first at index {_index_text(index)}" if index else ""
    raise fail(
        name,
        f"wrong values in {what}{case}: max abs error "
        f"{np.nanmax(diff) if np.isfinite(diff).any() else np.inf:.3g}{place}.\n"
        f"{side_by_side(yours, expected, index)}",
    )


def same(a, b) -> bool:
    """Structural equality within the matching tolerance (arrays, numbers, str, containers)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype.kind not in "biuf" or b.dtype.kind not in "biuf":
            return False
        if (a.dtype.kind == "f") != (b.dtype.kind == "f"):
            return False  # integer one-hot vectors are a mistake of their own
        loose = np.float32 in (a.dtype, b.dtype)  # two float32 computations in another order
        rtol, atol = (1e-4, 1e-6) if loose else (1e-6, 1e-9)
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
    if isinstance(a, (bool, np.bool_, str)) or isinstance(b, (bool, np.bool_, str)):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float, np.integer, np.floating)):
        if not isinstance(b, (int, float, np.integer, np.floating)):
            return False
        return bool(np.isclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b))
        )
    return False


def _view(view, raw):
    try:
        return view(raw)
    except Exception:
        return raw


def matching(history, mistakes, view=lambda raw: raw, more=lambda: []) -> Mistake | None:
    """The first catalogued mistake whose output equals the student's on every case.

    ``history`` holds ``(produce, student_raw)`` per case run so far, the
    failing one last: ``produce(fn)`` runs a mistake's function on that case
    and returns its raw output. ``more()`` gives the same pairs for the cases
    not run yet (the student's function run quietly), computed only if needed.
    """
    pairs = list(reversed(history))  # the failing case first: most mistakes stop there
    extended = False
    for mistake in mistakes:
        if not extended and _agrees(mistake, pairs[:1], view):
            pairs += more()
            extended = True
        if _agrees(mistake, pairs, view):
            return mistake
    return None


def _agrees(mistake, pairs, view) -> bool:
    for produce, student_raw in pairs:
        theirs = run_quietly(produce, mistake.fn)
        if theirs is None or not same(_view(view, student_raw), _view(view, theirs)):
            return False
    return True


@contextmanager
def diagnosing(name: str, history, mistakes=(), view=lambda raw: raw, more=lambda: []):
    """Turn failures inside the block into one AssertionError, naming a matching mistake.

    ``history`` is the list of ``(produce, student_raw)`` of the cases run so
    far, the failing one last (see :func:`matching`); ``view(raw)`` keeps the
    part of an output to compare (no cache).
    """
    try:
        yield
    except AssertionError as err:
        mistake = matching(history, mistakes, view, more) if mistakes else None
        text = str(err) + (f"\n{mistake.hint()}" if mistake else "")
        raise CheckFailed(text) from None
    except Exception as err:  # a strange return value broke the reading of it
        raise fail(
            name,
            f"the check could not read what your function returned ({type(err).__name__}: {err}).",
        ) from None
