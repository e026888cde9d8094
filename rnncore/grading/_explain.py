"""Explain NumPy's shape errors in the words of the student's own line.

NumPy says ``matmul: Input operand 1 has a mismatch in its core dimension 0,
with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 5 is different from 4)``;
a student needs ``x @ params['W_hh']`` multiplies shapes (3, 4) and (5, 5).
:func:`explain_exception` finds the student's failing line in the traceback
(the last frame outside NumPy and the standard library), parses it with
:mod:`ast`, looks up the operands of the failing ``@``, ``np.dot`` or
element-wise operation in that frame's variables and names their shapes.

Looking up never runs the student's code: only names, attributes of modules,
``.T`` of arrays and subscripts of arrays, dicts, lists and tuples by constant
keys or by names bound to ints and strings are evaluated; shapes of nested
``@`` and element-wise operations are inferred, never computed. Anything else
leaves the explanation out (None), and the caller keeps NumPy's own message.

This module imports only the standard library and NumPy: the sandboxed
grader loads the same file as a plain module, where rnncore is absent.
"""

from __future__ import annotations

import ast
import linecache
import os
import sysconfig
import types

import numpy as np

__all__ = ["explain_exception"]

_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))
_STDLIB_DIRS = tuple(
    {
        os.path.abspath(p)
        for key in ("stdlib", "platstdlib")
        if (p := sysconfig.get_paths().get(key))
    }
)
_ELEMENTWISE = {
    ast.Add: ("adds", "+"),
    ast.Sub: ("subtracts", "-"),
    ast.Mult: ("multiplies element-wise", "*"),
    ast.Div: ("divides", "/"),
    ast.FloorDiv: ("divides", "//"),
    ast.Mod: ("takes the remainder of", "%"),
    ast.Pow: ("raises to a power", "**"),
}
_DOT_NAMES = ("dot", "matmul")
_UNKNOWN = object()


class _Shape(tuple):
    """The shape of an operand that was inferred, not looked up (it has no value)."""


def _failing_frame(tb):
    """(frame, lineno, positions) of the last traceback entry outside NumPy and the stdlib."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        filename = frame.f_code.co_filename
        if not (_is_numpy(filename) or _is_stdlib(filename)):
            found = (frame, tb.tb_lineno, _positions(frame.f_code, tb.tb_lasti))
        tb = tb.tb_next
    return found


def _is_numpy(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_NUMPY_DIR + os.sep)


def _is_stdlib(filename: str) -> bool:
    """The standard library's own files (not the packages installed next to it)."""
    if filename.startswith("<frozen"):
        return True
    path = os.path.abspath(filename)
    return path.startswith(tuple(d + os.sep for d in _STDLIB_DIRS)) and "-packages" not in path


def _positions(code, lasti):
    """(lineno, end_lineno, col, end_col) of the instruction that raised, if Python knows."""
    try:
        return list(code.co_positions())[lasti // 2]
    except (AttributeError, IndexError, TypeError):
        return None


def _statement(frame, lineno: int):
    """The innermost statement around ``lineno`` (parsed), the line it starts on, its indent."""
    filename = frame.f_code.co_filename
    lines = linecache.getlines(filename, frame.f_globals)
    if not lines or lineno > len(lines):
        return None
    try:
        tree = ast.parse("".join(lines))
    except SyntaxError:  # not a whole module (or not Python): try the lines around it alone
        return _statement_alone(lines, lineno)
    around = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
        and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.lineno <= lineno <= node.end_lineno
    ]
    if not around:
        return None
    innermost = min(around, key=lambda node: node.end_lineno - node.lineno)
    return innermost, 1, 0  # positions in the tree are the file's own


def _statement_alone(lines, lineno: int):
    for start in range(lineno, max(lineno - 20, 0), -1):  # a statement may span lines
        for stop in range(lineno, min(lineno + 20, len(lines)) + 1):
            text = "".join(lines[start - 1 : stop])
            try:
                tree = ast.parse(_dedent(text))
            except SyntaxError:
                continue
            return tree, start, _indent(text)
    return None


def _indent(text: str) -> int:
    first = text.splitlines()[0] if text else ""
    return len(first) - len(first.lstrip())


def _dedent(text: str) -> str:
    cut = _indent(text)
    return "".join(line[cut:] if line[:cut].isspace() else line for line in text.splitlines(True))


def _value(node, frame):
    """The value of a safe operand expression in the frame, or _UNKNOWN."""
    if isinstance(node, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, frame.f_builtins):
            if node.id in scope:
                return scope[node.id]
        return _UNKNOWN
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.Attribute):
        base = _value(node.value, frame)
        if isinstance(base, np.ndarray) and node.attr == "T":
            return base.T
        if isinstance(base, types.ModuleType):
            return getattr(base, node.attr, _UNKNOWN)
        return _UNKNOWN
    if isinstance(node, ast.Subscript):
        base = _value(node.value, frame)
        key = _key(node.slice, frame)
        if key is _UNKNOWN or type(base) not in (np.ndarray, dict, list, tuple):
            return _UNKNOWN
        try:
            return base[key]
        except Exception:
            return _UNKNOWN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _value(node.operand, frame)
        return inner if isinstance(inner, (np.ndarray, _Shape, int, float)) else _UNKNOWN
    if isinstance(node, ast.BinOp):
        return _inferred(node, frame)
    return _UNKNOWN


def _key(node, frame):
    """A subscript key built from constants, int/str names, slices and tuples of those."""
    if isinstance(node, ast.Slice):
        parts = [None if p is None else _key(p, frame) for p in (node.lower, node.upper, node.step)]
        return _UNKNOWN if _UNKNOWN in parts else slice(*parts)
    if isinstance(node, ast.Tuple):
        parts = [_key(e, frame) for e in node.elts]
        return _UNKNOWN if _UNKNOWN in parts else tuple(parts)
    if isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _key(node.operand, frame)
        return -inner if isinstance(inner, int) else _UNKNOWN
    value = _value(node, frame)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, str)):
        return _UNKNOWN
    return value


def _shape(value):
    if isinstance(value, _Shape):
        return tuple(value)
    if isinstance(value, np.ndarray):
        return value.shape
    if isinstance(value, (int, float, np.number)):
        return ()
    return None


def _matmul_shape(a, b):
    """The shape of a @ b, or None when the inner sizes do not agree."""
    if not a or not b:
        return None
    if len(a) == 1 and len(b) == 1:
        return () if a == b else None
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        return None
    try:
        lead = np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        return None
    return lead + a[-2:-1] + (() if len(b) == 1 else b[-1:])


def _inferred(node, frame):
    """The shape of a nested ``@`` or element-wise operation, if it is well formed."""
    a, b = _shape(_value(node.left, frame)), _shape(_value(node.right, frame))
    if a is None or b is None:
        return _UNKNOWN
    if isinstance(node.op, ast.MatMult):
        out = _matmul_shape(a, b)
    elif type(node.op) in _ELEMENTWISE:
        try:
            out = np.broadcast_shapes(a, b)
        except ValueError:
            out = None
    else:
        out = None
    return _UNKNOWN if out is None else _Shape(out)


def _operations(tree):
    """Every ``a @ b``, ``np.dot(a, b)``, ``a.dot(b)``, ``a op b`` of a statement, inner first."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and (
            isinstance(node.op, ast.MatMult) or type(node.op) in _ELEMENTWISE
        ):
            found.append((node, node.left, node.right, node.op))
        elif isinstance(node, ast.AugAssign) and type(node.op) in _ELEMENTWISE:
            found.append((node, node.target, node.value, node.op))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _DOT_NAMES and len(node.args) == 2:
                found.append((node, node.args[0], node.args[1], ast.MatMult()))
            elif node.func.attr == "dot" and len(node.args) == 1:
                found.append((node, node.func.value, node.args[0], ast.MatMult()))
    return found[::-1]


def _inside(node, positions, start: int, indent: int) -> bool:
    """Whether ``node`` is the instruction at ``positions`` (lines and columns of the file)."""
    if not positions or None in positions:
        return True
    lineno, end_lineno, col, end_col = positions
    return (
        node.lineno + start - 1 == lineno
        and node.end_lineno + start - 1 == end_lineno
        and node.col_offset + indent == col
        and node.end_col_offset + indent == end_col
    )


def _matmul_text(code, left, right, a, b, frame) -> str:
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    text = (
        f"`{code}` multiplies shapes {a} and {b}: "
        f"the inner sizes {inner_a} and {inner_b} must agree."
    )
    if len(b) == 2 and b[1] == inner_a and b[0] != inner_a:
        return text + f" Did you mean `{left} @ {right}.T`?"
    other = _same_rows(frame, a[:-1] + (inner_b,), left)
    if other:
        return text + f" Did you mean `{other} @ {right}`?"
    if len(a) == 2 and len(b) == 2 and b[1] == a[0]:
        return text + f" Did you mean `{right} @ {left}`?"
    return text


def _same_rows(frame, shape, left):
    """A local array of ``shape`` other than the left operand: the one that was meant."""
    names = [
        k
        for k, v in frame.f_locals.items()
        if isinstance(v, np.ndarray) and v.shape == shape and k != left and k.isidentifier()
    ]
    return names[0] if len(names) == 1 else None


def _broadcast_text(code, verb, a, b) -> str:
    k = next(
        i for i in range(1, max(len(a), len(b)) + 1)
        if i <= len(a) and i <= len(b) and a[-i] != b[-i] and 1 not in (a[-i], b[-i])
    )  # fmt: skip
    return (
        f"`{code}` {verb} shapes {a} and {b}, which do not broadcast: NumPy lines the shapes "
        f"up from the right, and the sizes {a[-k]} and {b[-k]} (axis {-k}) differ; each pair "
        "must be equal, or one of them 1."
    )


def _describe(node, left, right, op, frame):
    values = (_value(left, frame), _value(right, frame))
    for side, value in zip((left, right), values):
        if value is None:
            return (
                f"`{ast.unparse(node)}` uses `{ast.unparse(side)}`, which is None, as an "
                'array. (An argument documented as "or None" means you build the default '
                "yourself, e.g. a state of zeros.)"
            )
    a, b = _shape(values[0]), _shape(values[1])
    if a is None or b is None:
        return None
    code = ast.unparse(node)
    lhs, rhs = ast.unparse(left), ast.unparse(right)
    if isinstance(op, ast.MatMult):
        if not a or not b or _matmul_shape(a, b) is not None:
            return None
        return _matmul_text(code, lhs, rhs, a, b, frame)
    try:
        out = np.broadcast_shapes(a, b)
    except ValueError:
        return _broadcast_text(code, _ELEMENTWISE[type(op)][0], a, b)
    if isinstance(node, ast.AugAssign) and out != a:  # the result does not fit the target
        return (
            f"`{code}` works in place on {lhs} of shape {a}, but the result has shape {out}: "
            f"write `{lhs} = {lhs} {_ELEMENTWISE[type(op)][1]} {rhs}` to make a new array, or "
            "fix the shapes."
        )
    return None


def _is_shape_error(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, (ValueError, TypeError)) and (
        text.startswith("matmul:")
        or "unsupported operand type(s)" in text
        or "not aligned" in text
        or "could not be broadcast" in text
        or "non-broadcastable output operand" in text
    )


def explain_exception(exc: BaseException, tb) -> str | None:
    """A sentence naming the operands of a failed ``@``/dot/broadcast and their shapes.

    Parameters
    ----------
    exc : BaseException
        The exception the student's code raised.
    tb : traceback
        Its traceback (``exc.__traceback__``).

    Returns
    -------
    str or None
        The explanation, or None when ``exc`` is not a NumPy shape error or
        its operands cannot be found safely.
    """
    if not _is_shape_error(exc):
        return None
    try:
        found = _failing_frame(tb)
        if found is None:
            return None
        frame, lineno, positions = found
        parsed = _statement(frame, lineno)
        if parsed is None:
            return None
        tree, start, indent = parsed
        operations = _operations(tree)
        exact = [op for op in operations if _inside(op[0], positions, start, indent)]
        for node, left, right, op in exact + operations:
            text = _describe(node, left, right, op, frame)
            if text:
                return text
    except Exception:  # an explanation is a courtesy: never let it break the grading
        return None
    return None
