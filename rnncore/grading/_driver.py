"""The two shapes of check: one function against the reference, and a forward/backward pair.

A check is a list of cases and a description of what the function returns;
the drivers here run the student's code on every case (``_harness.call``),
read its outputs, compare them with rnncore's reference and, on a failure,
look the student's output up in the exercise's catalogue of mistakes.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import numpy as np

from .._guard import allowing, refusing
from ._compare import FLOAT32_TOL, compare, diagnosing, parts
from ._harness import (
    ALL,
    _copy,
    array_out,
    call,
    dict_out,
    fail,
    number_out,
    run_quietly,
    shape_text,
    unpack,
)
from ._ranked import compare_ranked, read_ranked

__all__: list[str] = []

GRADCHECK_TOL = 1e-6  # relative error vs centred differences (eps = 1e-6, float64)


def reference(name: str, *args, **kwargs):
    """Run rnncore's reference ``name`` (refusals lifted: the grader is computing)."""
    fn = getattr(importlib.import_module("rnncore"), name)
    with allowing():
        return fn(*args, **kwargs)


class Out(NamedTuple):
    """One returned value: its name, shape letters, kind and the part that grades its values."""

    what: str
    letters: tuple = ()
    # array | ids (integers) | number | dict | cache | list | int | str | ranked
    kind: str = "array"
    part: str | tuple = "values"  # the part that grades its values; a tuple: (all, some)

    def parts(self) -> tuple:
        """The parts that grade this value: the first compares it whole."""
        return (self.part,) if isinstance(self.part, str) else self.part


def read(value, out: Out, expected, name: str, dtype=None, source="x", case=""):
    """Check the type and shape (and on float32 cases the dtype) of one returned value."""
    if out.kind == "array":
        return array_out(
            value,
            out.what,
            expected.shape,
            name,
            out.letters,
            dtype=dtype,
            source=source,
            case=case,
        )
    if out.kind == "ids":
        return ids_out(value, out.what, expected.shape, name, out.letters)
    if out.kind == "number":
        return number_out(value, out.what, name)
    if out.kind == "dict":
        return dict_out(value, out.what, {k: v.shape for k, v in expected.items()}, name)
    if out.kind == "list":
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise fail(
                name,
                f"{out.what} should be a list of str, got {type(value).__name__}"
                + (" holding non-str items" if isinstance(value, list) else "")
                + ".",
            )
        return value
    if out.kind == "int":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise fail(name, f"{out.what} should be an int, got {type(value).__name__}.")
        return int(value)
    if out.kind == "ranked":
        return read_ranked(value, out.what, name)
    if out.kind == "str":
        if not isinstance(value, str):
            raise fail(name, f"{out.what} should be a str, got {type(value).__name__}.")
        return value
    return value  # cache: the student's own design


def ids_out(value, what: str, shape, name: str, letters=()) -> np.ndarray:
    """Check a returned array of token ids: an ndarray of integers of the expected shape."""
    if not isinstance(value, np.ndarray):
        hint = " (convert it with np.array(...))" if isinstance(value, (list, tuple)) else ""
        raise fail(
            name,
            f"{what} should be a NumPy array of token ids of shape "
            f"{shape_text(letters, shape)}, got {type(value).__name__}{hint}.",
        )
    if value.dtype.kind not in "iu":
        raise fail(
            name,
            f"{what} should hold integer token ids (the dtype of ids), got dtype {value.dtype}.",
        )
    if value.shape != tuple(shape):
        raise fail(
            name,
            f"{what} has shape {value.shape} but should have shape {shape_text(letters, shape)}.",
        )
    return value


def values(mine, out: Out, expected, name: str, case: str, tol: dict, full: bool = True) -> None:
    """Compare one value with the expected one (``full=False``: a ranked list's best only)."""
    if out.kind == "ranked":
        compare_ranked(mine, expected, out.what, name, case, tol, full)
    elif out.kind in ("array", "ids", "number"):
        compare(mine, expected, out.what, name, case, **tol)
    elif out.kind == "dict":
        for key in expected:
            compare(mine[key], expected[key], f"{out.what}[{key!r}]", name, case, **tol)
    elif out.kind in ("list", "int", "str") and mine != expected:
        if out.kind == "list":
            k = next(
                (i for i, (a, b) in enumerate(zip(mine, expected)) if a != b),
                min(len(mine), len(expected)),
            )
            raise fail(
                name,
                f"{out.what} differs from the expected one{case}, first at "
                f"position {k}:\n  yours    = {mine[: k + 4]!r}\n  expected = "
                f"{expected[: k + 4]!r}",
            )
        raise fail(name, f"{out.what} is {mine!r} but should be {expected!r}{case}.")


def exact_zeros(mine, outs, case, name: str) -> None:
    """Entries a case promises to be exactly 0 (``extra["zeros"]``: {output index: where})."""
    for index, (where, why) in case.extra.get("zeros", {}).items():
        value = np.asarray(mine[index])
        bad = np.argwhere(where & (value != 0))
        if bad.size:
            at = tuple(int(i) for i in bad[0])
            what = outs[index].what
            raise fail(
                name,
                f"{what} must be exactly 0 {why}{case.label}, but {what}"
                f"[{', '.join(map(str, at))}] = {value[at]:.3g}. Give those positions a score of "
                "-inf before the softmax (exp(-inf) is exactly 0), not a large finite penalty "
                "that leaves a trace.",
            )


def summary(name: str, chosen, allowed, count: int) -> str:
    """ "rnn_cell_forward: shapes and values right on 4 cases", the line a passing check prints."""
    names = [p for p in allowed if p in chosen]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{name}: {text} right on {count} case{'s' if count != 1 else ''}"


def _view(outs):
    """What a mistake is compared on: no cache; a ranked list read as lists of int and floats."""

    def comparable(value, out):
        if out.kind != "ranked":
            return value
        try:
            return read_ranked(value, out.what, "")
        except AssertionError:
            return value

    return lambda raw: tuple(
        comparable(v, o) for v, o in zip(unpack(raw, len(outs), "", ""), outs) if o.kind != "cache"
    )


def _producer(case):
    def produce(fn):
        return fn(*[_copy(a) for a in case.args])

    return produce


def check_function(
    name,
    student_fn,
    cases,
    *,
    arg_names,
    outs,
    expected_fn,
    part,
    mistakes=(),
    allowed=("shapes", "values"),
    aliases=None,
    refuse=ALL,
    keep=(),
    tol=None,
    what=None,
    allow_files=(),
    dtype_from=None,
    properties=None,
):
    """Run ``student_fn`` on every case and compare every output with ``expected_fn``.

    ``properties`` maps a part to a test of the student's own outputs that
    needs no reference, ``prop(args, outputs) -> message or None`` (windows
    that continue each other, targets one token ahead); a message fails the
    check on that part. A case whose ``extra["dtype"]`` is set (float32) must give arrays of that
    dtype back (the hint names ``dtype_from``, by default the first argument)
    and is compared with :data:`~rnncore.grading._compare.FLOAT32_TOL`.
    Returns the summary line of a pass (see :func:`summary`).
    """
    chosen = parts(part, allowed, name, aliases)
    tol = tol or {}
    what = what or "(" + ", ".join(o.what for o in outs) + ")"
    cases = list(cases)
    history = []  # (produce, student's output) of every case so far, to name a mistake
    source = dtype_from or arg_names[0]
    graded = 0

    def later(k):  # the student's outputs on the remaining cases, to tell mistakes apart
        def run(case):
            with refusing(refuse):
                return run_quietly(student_fn, *[_copy(a) for a in case.args])

        return [(_producer(c), out) for c in cases[k + 1 :] if (out := run(c)) is not None]

    for k, case in enumerate(cases):
        if case.extra.get("part", next(iter(chosen))) not in chosen:
            continue  # a case that grades one property only (large logits: "stability")
        graded += 1
        dtype = case.extra.get("dtype")
        case_tol = FLOAT32_TOL if dtype is not None else tol
        expected = expected_fn(*[_copy(a) for a in case.args])
        expected = expected if len(outs) > 1 else (expected,)
        raw = call(
            student_fn,
            tuple(_copy(a) for a in case.args),
            name=name,
            arg_names=arg_names,
            refuse=refuse,
            keep=keep,
            allow_files=allow_files,
            case=case.label,
            cache_last=len(outs) if outs[-1].kind == "cache" else None,
        )
        history.append((_producer(case), raw))
        with diagnosing(name, history, mistakes, _view(outs), lambda k=k: later(k)):
            got = unpack(raw, len(outs), what, name)
            mine = [
                read(v, o, e, name, dtype, source, case.label)
                for v, o, e in zip(got, outs, expected)
            ]
            own = case.extra.get("part") in chosen  # a case of one part: graded whole
            for v, o, e in zip(mine, outs, expected):
                if o.kind != "cache" and (own or any(p in chosen for p in o.parts())):
                    values(v, o, e, name, case.label, case_tol, own or o.parts()[0] in chosen)
            if own or any(p in chosen for o in outs for p in o.parts()):
                exact_zeros(mine, outs, case, name)
            for prop_part, prop in (properties or {}).items():
                if prop_part in chosen and (problem := prop(case.args, tuple(mine))):
                    raise fail(name, problem.replace("{case}", case.label))
    return summary(name, chosen, allowed, graded)
