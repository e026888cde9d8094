"""Running a student's function safely, and reading what it returned.

Every failure becomes a :class:`CheckFailed` (an ``AssertionError``) whose
message a student can act on; nothing a student's function does (raise, return
garbage, change its inputs, call the reference) may crash the grading run in
any other way. IPython shows a ``CheckFailed`` as its message alone (no
traceback through the grader's files), and a check that passes prints one line
``✓ <function>: ...`` (printed, never returned: nbgrader would read a returned
value as partial credit).

Failure classes and their messages (one each):

* not implemented yet: ``NotImplementedError``, or ``None`` returned;
* the reference was called: "scores 0: ... calls rnncore's reference";
* an exception in the student's code: "your function raised X (line n of
  your code: `...`): message", where NumPy's shape errors are explained with
  the operands and their shapes (:mod:`rnncore.grading._explain`);
* inputs modified in place: "changed its input ``x``";
* wrong return type, wrong tuple length, wrong shape, NaN or inf
  (:func:`unpack`, :func:`array_out`, :func:`number_out`).
"""

from __future__ import annotations

import copy
import functools
import linecache
import os
import re
import sysconfig
import traceback

import numpy as np

from .._guard import ReferenceCallRefused, refusing
from ._explain import explain_exception
from ._watch import SWITCHED_OFF, watching
from .sandbox.errors import SandboxLimit, StudentRaised

__all__: list[str] = []

ALL = ("*",)  # refuse every rnncore reference function

_RNNCORE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(
    {
        os.path.abspath(p)
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(key))
    }
    | {_RNNCORE_DIR, os.path.dirname(os.path.abspath(np.__file__))}
)


class CheckFailed(AssertionError):
    """A check's failure: its message is all a student needs to see.

    IPython (and so JupyterLab and nbgrader's feedback) calls
    ``_render_traceback_`` instead of formatting a traceback, which would run
    through the grader's own files and show the course's absolute paths.
    """

    def _render_traceback_(self) -> list[str]:
        return str(self).splitlines() or [type(self).__name__]


def fail(name: str, message: str) -> CheckFailed:
    """The error a check raises: ``"<function>: <message>"``."""
    return CheckFailed(f"{name}: {message}")


def _student_frame(tb):
    """(line number, source line) of the last traceback frame outside libraries and rnncore."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename.startswith(_LIBRARY_DIRS) or frame.f_code.co_filename.startswith("<frozen"):
            continue
        found = (lineno, linecache.getline(frame.f_code.co_filename, lineno).strip())
    return found


def _copy(value):
    """A deep copy of arrays, dicts, lists and tuples (other objects are kept as they are)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value)  # the same draws for the student, the reference, a mistake
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_copy(v) for v in value)
    return value  # anything else (a cache of the student's design) is not copied


def _changed(before, after) -> str | None:
    """Describe how ``after`` differs from its copy ``before`` (None: unchanged)."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return "its shape"
        same = np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        return None if same else "its values"
    if isinstance(before, dict):
        if set(before) != set(after):
            return "its keys (it added or removed entries)"
        for key in before:
            what = _changed(before[key], after[key])
            if what:
                return f"the array under key {key!r}"
        return None
    if isinstance(before, (list, tuple)):
        if len(before) != len(after):
            return "its length"
        return next(
            (f"entry {i}" for i, (b, a) in enumerate(zip(before, after)) if _changed(b, a)), None
        )
    if isinstance(before, (str, int, float, np.number)):
        return None if type(after) is type(before) and after == before else "its value"
    return None


def call(
    fn,
    args,
    *,
    name,
    arg_names,
    refuse=ALL,
    kwargs=None,
    keep=(),
    allow_files=(),
    case="",
    cache_last=None,
):
    """Run ``fn(*args, **kwargs)`` as graded code and return what it returned.

    Parameters
    ----------
    fn : callable
        The student's function.
    args : tuple
        Positional arguments (the check keeps its own copies to detect changes).
    name : str
        The exercise's function name, used in messages.
    arg_names : tuple of str
        Names of the positional arguments, for the "changed its input" message.
    refuse : tuple of str
        rnncore reference names refused while ``fn`` runs (``"*"``: all).
    kwargs : dict, optional
        Keyword arguments.
    keep : tuple of str
        Arguments that may change (a random generator).
    allow_files : tuple of str
        rnncore files whose code may run inside ``fn`` (see ``_watch``).
    case : str
        The case's label (``" (for N=3, D=4, H=5)"``), for the message of an
        exception.
    cache_last : int, optional
        The function returns this many values, the last a cache that only the
        student's own backward pass reads. Graded in the sandbox, the cache then
        stays there and a reference to it comes back.

    Raises
    ------
    AssertionError
        With one message per failure class.
    """
    if not callable(fn):
        raise fail(
            name,
            f"expected a function, got {type(fn).__name__}; pass {name} itself "
            f"(without parentheses)",
        )
    kwargs = dict(kwargs or {})
    copies = [None if n in keep else _copy(a) for n, a in zip(arg_names, args)]
    state = np.random.get_state()
    np.random.seed(1234)  # draws from the legacy global generator become reproducible
    rnncore_calls = []
    try:
        if getattr(fn, "__rnnbook_remote__", False):  # runs in the sandbox, without rnncore
            out = fn._sandbox.call(fn.__name__, args, kwargs, keep_last=cache_last)
        else:
            with (
                refusing(refuse),
                np.errstate(all="ignore"),
                watching(allow_files) as rnncore_calls,
            ):
                out = fn(*args, **kwargs)
    except NotImplementedError:
        raise fail(
            name, "not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except ReferenceCallRefused as err:
        called = re.search(r"rnncore\.(\S+) refuses", str(err))
        called = f"`{called.group(1)}`" if called else "function"
        raise fail(
            name,
            f"scores 0: your code calls rnncore's reference {called}, which is "
            "switched off while your code is graded. Write it yourself with "
            "NumPy.",
        ) from None
    except SandboxLimit as err:  # graded in the sandbox: a limit ends the check
        raise fail(name, f"{err}.") from None
    except (Exception, SystemExit) as err:
        raise fail(name, raised_text(err, case)) from None
    finally:
        np.random.set_state(state)
    if rnncore_calls:
        what = (
            "switches off the grader's watcher (sys.setprofile)"
            if rnncore_calls[0] == SWITCHED_OFF
            else f"runs rnncore's own `{rnncore_calls[0]}`, which is switched off while "
            "your code is graded"
        )
        raise fail(name, f"scores 0: your code {what}. Write it yourself with NumPy.")
    for arg_name, before, after in zip(arg_names, copies, args):
        what = None if arg_name in keep else _changed(before, after)
        if what:
            raise fail(
                name,
                f"your function changed its input `{arg_name}` in place "
                f"({what}). Leave inputs untouched: build new arrays, or work "
                f"on a copy (`{arg_name}.copy()`).",
            )
    if out is None:
        raise fail(
            name,
            "returned None: it looks not implemented yet (or a `return` statement is missing).",
        )
    return out


def raised_text(err: BaseException, case: str = "") -> str:
    """What a student reads about an exception their code raised.

    ``"your function raised X (for N=3, ...) at line n of your code: `...`"``
    and, on the next line, the exception's message; NumPy's shape errors are
    explained with the operands and their shapes instead
    (:func:`~rnncore.grading._explain.explain_exception`).
    """
    if isinstance(err, StudentRaised):  # raised in the sandbox: its report says where
        kind, where, hint = err.type_name, err.where, err.explain
    else:
        kind, where = type(err).__name__, _student_frame(err.__traceback__)
        hint = explain_exception(err, err.__traceback__)
    line = f" at line {where[0]} of your code: `{where[1]}`" if where else ""
    return f"your function raised {kind}{case}{line}\n{hint or f'{kind}: {err}'}"


def run_quietly(fn, *args, **kwargs):
    """Run a catalogued mistake or the reference's helper: errors give None."""
    state = np.random.get_state()
    np.random.seed(1234)
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except SandboxLimit:
        raise  # a sandboxed function past a limit: the check ends with that message
    except Exception:
        return None
    finally:
        np.random.set_state(state)


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    kind = type(value).__name__
    return f"{'an' if kind[:1] in 'aeiouAEIOU' else 'a'} {kind}"


def unpack(out, count: int, what: str, name: str) -> tuple:
    """Check that ``out`` is a tuple of ``count`` values (a list is accepted too)."""
    if count == 1:
        return (out,)
    if not isinstance(out, (tuple, list)):
        raise fail(name, f"should return a tuple {what}, got {_kind(out)}.")
    if len(out) != count:
        pieces = bool(out) and all(isinstance(v, (tuple, list)) and len(v) == count for v in out)
        hint = (
            f", each itself {count} values (a list of pieces?): return the {count} values "
            "once, each piece stacked into one array (np.stack)"
            if pieces
            else ""
        )
        raise fail(
            name, f"should return a tuple {what} of {count} values, got {len(out)} values{hint}."
        )
    return tuple(out)


def shape_text(letters, shape) -> str:
    """``(N, H) = (3, 5)``."""
    spec = "(" + ", ".join(letters) + ("," if len(letters) == 1 else "") + ")"
    return f"{spec} = {tuple(shape)}" if letters else str(tuple(shape))


def array_out(
    value, what: str, shape, name: str, letters=(), finite=True, *, dtype=None, source="x", case=""
) -> np.ndarray:
    """Check a returned array: an ndarray of floats, the expected shape (and dtype), finite.

    ``dtype`` is the input's floating dtype on a case that promises it back
    (float32 cases), ``source`` the argument to take it from in the hint,
    ``case`` the case's label.
    """
    if not isinstance(value, np.ndarray):
        hint = " (convert it with np.array(...))" if isinstance(value, (list, tuple)) else ""
        raise fail(
            name,
            f"{what} should be a NumPy array of shape "
            f"{shape_text(letters, shape)}, got {_kind(value)}{hint}.",
        )
    if value.dtype.kind != "f":
        raise fail(name, f"{what} should hold floating-point numbers, got dtype {value.dtype}.")
    if dtype is not None and value.dtype != dtype:
        raise fail(
            name,
            f"{what} is {value.dtype}{case} but the inputs were {np.dtype(dtype)}: build new "
            f"arrays with the input's dtype (np.zeros(..., dtype={source}.dtype)).",
        )
    if value.shape != tuple(shape):
        raise fail(
            name,
            f"{what} has shape {value.shape} but should have shape {shape_text(letters, shape)}.",
        )
    if finite and not np.isfinite(value).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        raise fail(
            name,
            f"{what} contains NaN or inf (first at index {index}). Look for an "
            "overflow (exp of a large number) or a division by zero.",
        )
    return value


def number_out(value, what: str, name: str) -> float:
    """Check a returned scalar (a Python or NumPy float, or a 0-d array)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise fail(name, f"{what} should be a single number (a float), got {_kind(value)}.")
    if not np.isfinite(value):
        raise fail(
            name, f"{what} is {value}. Look for an overflow (exp of a large number) or log(0)."
        )
    return float(value)


def dict_out(value, what: str, shapes: dict, name: str) -> dict:
    """Check a returned dict of arrays: exactly the expected keys, each well shaped."""
    if not isinstance(value, dict):
        raise fail(
            name, f"{what} should be a dict with keys {', '.join(shapes)}, got {_kind(value)}."
        )
    missing = [k for k in shapes if k not in value]
    extra = [repr(k) for k in value if k not in shapes]
    if missing or extra:
        parts = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + (
            [f"unexpected {', '.join(extra)}"] if extra else []
        )
        raise fail(name, f"{what} should have the keys {', '.join(shapes)}: {'; '.join(parts)}.")
    return {k: array_out(value[k], f"{what}[{k!r}]", shape, name) for k, shape in shapes.items()}


def student_facing(check):
    """Raise a check's failure as a :class:`CheckFailed` from the check itself; print a pass.

    nbgrader shows the whole traceback under the test cell; without this it
    would run through the grader's internals before reaching the message.
    When ``check`` returns a summary (``"rnn_cell_forward: shapes right on 4
    cases"``), it is printed as one line ``✓ <summary>``; the wrapper always
    returns None.
    """

    @functools.wraps(check)
    def run(*args, **kwargs):
        try:
            summary = check(*args, **kwargs)
        except AssertionError as err:
            raise CheckFailed(str(err)) from None
        if summary:
            print(f"✓ {summary}")
        return None

    return run
