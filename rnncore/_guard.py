"""The reference guard: rnncore refuses to answer while a student's function is graded.

Every public reference function starts with ``guard("<its name>")``. The check
lives *inside* each function body, not in a decorator, so it holds however the
function is reached: ``rnncore.rnn_cell_forward``, ``from rnncore.rnn import
rnn_cell_forward``, ``importlib``, an alias saved before grading started, or the
undecorated original fished out of a closure.

``rnncore.grading`` runs each student function inside ``refusing(names)``; a
call to any of ``names`` then raises :class:`ReferenceCallRefused`, which the
grading check turns into a zero with a plain message.

What the guard cannot stop: a student who edits this module's state, copies the
reference source text, or reimplements it from the book. It deters the easy
shortcut; it is not a sandbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["ReferenceCallRefused"]

_refused: frozenset[str] = frozenset()


class ReferenceCallRefused(RuntimeError):
    """Raised when graded code calls the reference implementation it is graded against."""


def guard(name: str) -> None:
    """Raise :class:`ReferenceCallRefused` if ``name`` is refused right now."""
    if _refused and (name in _refused or "*" in _refused):
        raise ReferenceCallRefused(
            f"rnncore.{name} refuses to run while your code is being graded: this exercise "
            f"asks you to write {name} yourself with NumPy, not to call the reference."
        )


@contextmanager
def refusing(names: Iterable[str]) -> Iterator[None]:
    """Refuse calls to the named reference functions (``"*"``: all) inside the block."""
    global _refused
    saved = _refused
    _refused = saved | frozenset(names)
    try:
        yield
    finally:
        _refused = saved


@contextmanager
def allowing() -> Iterator[None]:
    """Lift every refusal inside the block (the grader computing expected values)."""
    global _refused
    saved = _refused
    _refused = frozenset()
    try:
        yield
    finally:
        _refused = saved
