"""The checks as a table: one :class:`Spec` per graded function, from which each
public ``check_*`` function and its docstring are made.

An exercise module lists what each of its checks runs (cases, outputs,
tolerances, catalogue, parts, refusals) and calls :func:`build`; the functions
it returns are the public checks, with the signature
``check_<name>(student_fn, hidden=False, part=None)`` (forward checks) or
``check_<name>(student_forward, student_backward, hidden=False, part=None)``
(backward checks, ``Spec.pair`` set), and a NumPy docstring written from the
spec, so ``help()`` and the API pages say what the check really does.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import NamedTuple

from ._backward import ALIASES as BACKWARD_ALIASES
from ._backward import PARTS as BACKWARD_PARTS
from ._backward import Pair, check_backward, stages_text
from ._compare import ATOL, FLOAT32_TOL, RTOL
from ._driver import GRADCHECK_TOL, check_function, reference
from ._harness import ALL, student_facing

__all__: list[str] = []

PART_TEXT = {
    "shapes": "the types, shapes (and dtypes) of what it returns",
    "values": "the values too, against rnncore's reference",
    "stability": "large inputs only (logits of ±1000, a tiny temperature): no overflow, no NaN",
    "loss": "the loss",
    "gradient": "the gradient ``dlogits``",
    "gradcheck": "the gradients against finite differences of the student's own forward pass",
    "gradients": '``"values"`` and ``"gradcheck"`` together',
}


class Spec(NamedTuple):
    """What one check runs; every field but the first four has a default."""

    name: str  # the graded function: "rnn_cell_forward"
    returns: str  # "(h, cache)": completes "Check ``name(args) -> returns``"
    about: str  # what is expected and on which cases (prose of the docstring)
    cases: Callable  # cases(hidden) -> iterable of _cases.Case
    arg_names: tuple = ()  # the function's positional arguments (forward checks)
    outs: tuple = ()  # _driver.Out per returned value (forward checks)
    expected: Callable | str | None = None  # reference name, or fn(*args) -> expected outputs
    mistakes: tuple = ()  # the catalogue (rnncore.grading.mistakes)
    parts: tuple = ("shapes", "values")
    aliases: dict | None = None  # {"values": ("loss", "gradient")}
    part_text: dict | None = None  # per-check wording of a part, over PART_TEXT
    tol: dict | None = None  # {"rtol": 1e-5, "atol": 1e-8}; None: RTOL and ATOL
    float32: bool = False  # the cases include float32 copies (compared with FLOAT32_TOL)
    dtype_from: str | None = None  # the argument whose dtype comes back ("W"); None: the first
    refuse: tuple = ALL  # rnncore names refused while the student's code runs
    refuse_text: str = "every rnncore function"
    keep: tuple = ()  # arguments that may change (a random generator)
    allow_files: tuple = ()  # rnncore files whose code may run inside the student's function
    pair: Pair | None = None  # a backward check: the forward/backward pair
    forward_mistakes: tuple = ()  # backward checks: the forward's catalogue
    properties: dict | None = None  # {part: prop(args, outputs) -> message or None}


def _expected_fn(spec: Spec) -> Callable:
    if callable(spec.expected):
        return spec.expected
    name = spec.expected or spec.name
    return lambda *args: reference(name, *args)


def run(spec: Spec, fns: tuple, hidden: bool, part) -> str:
    """Run one check on the student's function(s); the summary line of a pass."""
    if spec.pair is not None:
        return check_backward(
            spec.pair,
            *fns,
            spec.cases(hidden),
            part=part,
            mistakes=spec.mistakes,
            forward_mistakes=spec.forward_mistakes,
        )
    return check_function(
        spec.name,
        fns[0],
        spec.cases(hidden),
        arg_names=spec.arg_names,
        outs=spec.outs,
        expected_fn=_expected_fn(spec),
        part=part,
        mistakes=spec.mistakes,
        allowed=spec.parts,
        aliases=spec.aliases,
        refuse=spec.refuse,
        keep=spec.keep,
        tol=spec.tol,
        allow_files=spec.allow_files,
        dtype_from=spec.dtype_from,
        properties=spec.properties,
    )


def _tolerance_text(spec: Spec) -> str:
    if spec.pair is not None:
        return (
            f"gradients within rtol {_num(RTOL)}, atol {_num(ATOL)} of the reference's; finite "
            f"differences (eps 1e-6, float64) within a relative error of {_num(GRADCHECK_TOL)}"
        )
    if not any(out.kind in ("array", "number", "dict", "ranked") for out in spec.outs):
        return "none, the answer must equal the reference's exactly"
    tol = {"rtol": RTOL, "atol": ATOL, **(spec.tol or {})}
    text = f"values within rtol {_num(tol['rtol'])}, atol {_num(tol['atol'])} of the reference"
    if spec.float32:
        text += (
            f" (float32 cases: rtol {_num(FLOAT32_TOL['rtol'])}, "
            f"atol {_num(FLOAT32_TOL['atol'])}, "
            "and the result must be float32)"
        )
    return text


def _parts_text(spec: Spec) -> tuple[str, str]:
    parts = BACKWARD_PARTS if spec.pair is not None else spec.parts
    aliases = BACKWARD_ALIASES if spec.pair is not None else (spec.aliases or {})
    names = (*parts, *aliases)
    words = {**PART_TEXT, **(spec.part_text or {})}
    if spec.aliases:
        words.update({k: " and ".join(f'``"{p}"``' for p in v) for k, v in spec.aliases.items()})
    kinds = "{None, " + ", ".join(f'"{p}"' for p in names) + "}"
    lines = "; ".join(f'``"{p}"``: {words[p]}' for p in names)
    return kinds, f"Which property to grade: {lines}; None: all of them."


def docstring(spec: Spec) -> str:
    """The check's NumPy docstring, written from its spec."""
    if spec.pair is not None:
        head = f"Check ``{spec.name}({', '.join(spec.pair.upstream)}, cache) -> {spec.returns}``."
        params = (
            f"student_forward : callable\n    The student's ``{spec.pair.forward}`` (its cache "
            f"feeds the backward pass).\nstudent_backward : callable\n    The student's "
            f"``{spec.pair.backward}``.\n"
        )
    else:
        head = f"Check ``{spec.name}({', '.join(spec.arg_names)}) -> {spec.returns}``."
        params = f"student_fn : callable\n    The student's ``{spec.name}``.\n"
    kinds, parts = _parts_text(spec)
    about = spec.about
    if spec.pair is not None:
        about += (
            " Gradients are compared in the order of the backward pass, "
            f"{stages_text(spec.pair)}, and a failure names the first that differs."
        )
    rules = f"Tolerances: {_tolerance_text(spec)}. Refused while the student's code runs: "
    return (
        f"{head}\n\n{_fill(about)}\n\n{_fill(rules + spec.refuse_text)}.\n\n"
        f"Parameters\n----------\n{params}"
        "hidden : bool\n    Run the hidden cases too.\n"
        f"part : {kinds}\n{_fill(parts, '    ')}\n\n"
        "Returns\n-------\nNone\n    Prints one line ``✓ <function>: ... right on <n> cases`` "
        "when every case\n    passes; raises ``CheckFailed`` (an AssertionError) with a "
        "message for the\n    student otherwise.\n"
    )


def _num(x: float) -> str:
    """1e-06 -> "1e-6"."""
    return f"{x:.0e}".replace("e-0", "e-")


def _fill(text: str, indent: str = "") -> str:
    return textwrap.fill(text, 88, initial_indent=indent, subsequent_indent=indent)


def build(module: str, specs) -> tuple:
    """The public check functions of ``specs``, in order (see the module docstring)."""
    return tuple(_make(module, spec) for spec in specs)


def _make(module: str, spec: Spec):
    if spec.pair is not None:

        def check(student_forward, student_backward, hidden=False, part=None):
            return run(spec, (student_forward, student_backward), hidden, part)

    else:

        def check(student_fn, hidden=False, part=None):
            return run(spec, (student_fn,), hidden, part)

    check.__name__ = check.__qualname__ = f"check_{spec.name}"
    check.__module__ = module
    check.__doc__ = docstring(spec)
    check.spec = spec  # what the check runs, for the grader and the tests
    return student_facing(check)
