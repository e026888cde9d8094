"""A second line behind the guard: notice rnncore's own code running inside a student's call.

The guard (``rnncore._guard``) lives in the public reference functions. It
cannot see rnncore's private helpers (``rnncore.functional._softmax`` computes
a softmax without asking anyone), nor a student who lifts the refusal
(``with rnncore._guard.allowing(): ...``). While a student's function runs,
:func:`watching` therefore installs a profile hook (``sys.setprofile``, which
coverage tools and debuggers leave alone) that records every call into a file
of the rnncore package, except

* the grader's own code (``rnncore/grading``, but not the catalogue of
  mistakes, whose model answers a student must not call either);
* ``rnncore/_validate.py`` (input checks compute nothing);
* files a check allows (``vocab.py`` for ``sample_text``, which gets a Vocab);
* calls the guard refused (they never ran: the check reports them itself).

A recorded call scores 0, like a refused one. The hook costs a fraction of a
microsecond per Python or C call inside the student's function.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from .. import _guard

__all__: list[str] = []

_RNNCORE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_GRADING = os.path.dirname(os.path.abspath(__file__)) + os.sep
_MISTAKES = os.path.join(_GRADING, "mistakes") + os.sep
_ALWAYS_ALLOWED = ("_validate.py",)

SWITCHED_OFF = "sys.setprofile"  # recorded when the student's code removed the hook
enabled = True  # the test suite turns this off to run the reference itself as a "student"
catalogue_is_student_code = False  # the test suite runs the catalogue's mistakes as students


def _label(filename: str, code) -> str:  # pragma: no cover - called by the hook only
    module = os.path.splitext(filename[len(_RNNCORE) :])[0].replace(os.sep, ".")
    return f"{module}.{getattr(code, 'co_qualname', code.co_name)}"


def _watched(filename: str, allowed: frozenset) -> bool:  # pragma: no cover - hook only
    if not filename.startswith(_RNNCORE) or filename in allowed:
        return False
    if filename.startswith(_GRADING):
        return filename.startswith(_MISTAKES) and not catalogue_is_student_code
    return True


@contextmanager
def watching(allowed=()):
    """Record calls into rnncore's code inside the block; yields the list it fills on exit.

    Parameters
    ----------
    allowed : tuple of str
        File names inside rnncore (``"vocab.py"``) whose functions may run.
    """
    calls: list[str] = []
    if not enabled:
        yield calls
        return
    allowed_files = frozenset(_RNNCORE + name for name in _ALWAYS_ALLOWED + tuple(allowed))
    guard_code = _guard.guard.__code__
    seen: dict = {}  # frame -> "module.function", in call order

    # Coverage cannot see inside a profile hook (tracing is off while it runs); the
    # guard tests exercise every branch of it through the checks.
    def hook(frame, event, arg):  # pragma: no cover
        if event != "call":
            return
        code = frame.f_code
        if code is guard_code:  # a reference asks whether it may run
            refused = _guard._refused
            name = frame.f_locals.get("name")
            if refused and (name in refused or "*" in refused):
                seen.pop(frame.f_back, None)  # refused: it never ran
            return
        filename = code.co_filename
        if not os.path.isabs(filename):
            filename = os.path.abspath(filename)
        if _watched(filename, allowed_files):
            seen.setdefault(frame, _label(filename, code))

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield calls
    finally:
        switched_off = sys.getprofile() is not hook
        sys.setprofile(previous)
        calls.extend(seen.values())
        seen.clear()
        if switched_off:
            calls.append(SWITCHED_OFF)
