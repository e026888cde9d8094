"""Input checks at the boundary of every public rnncore function.

A student who passes a non-square ``W_hh`` should read
``params['W_hh'] has shape (4, 5) but rnn_cell_forward needs (H, H) = (4, 4)
(H = 4 from h_prev)`` rather than a broadcasting error from deep
inside NumPy. The helpers here produce that message.

Shapes are written with letters (``("N", "H")``) that are bound the first time
they are seen and checked on every later array; a ``Sizes`` object remembers
which argument fixed each letter so that the message can say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__: list[str] = []  # private helpers; nothing is re-exported


class Sizes:
    """Letters bound to sizes (``N -> 3``), each remembering where it came from."""

    def __init__(self, **known: int) -> None:
        self._size: dict[str, int] = {}
        self._source: dict[str, str] = {}
        for letter, size in known.items():
            self.bind(letter, int(size), "the arguments")

    def __getitem__(self, letter: str) -> int:
        return self._size[letter]

    def get(self, letter: str, default: int | None = None) -> int | None:
        return self._size.get(letter, default)

    def bind(self, letter: str, size: int, source: str) -> None:
        self._size[letter] = size
        self._source[letter] = source

    def explain(self, letters) -> str:
        parts = [
            f"{L} = {self._size[L]} from {self._source[L]}"
            for L in dict.fromkeys(letters)  # each letter once, in order
            if isinstance(L, str) and L in self._size
        ]
        return f" ({', '.join(parts)})" if parts else ""


def _shape_text(spec) -> str:
    return "(" + ", ".join(str(s) for s in spec) + ("," if len(spec) == 1 else "") + ")"


def check_array(
    name: str,
    value,
    spec: tuple,
    sizes: Sizes | None = None,
    *,
    where: str = "",
    finite: bool = True,
) -> np.ndarray:
    """Check that ``value`` is a finite floating-point ndarray of shape ``spec``.

    Parameters
    ----------
    name : str
        The argument's name as the caller wrote it (``"h_prev"``).
    value : object
        What the caller passed.
    spec : tuple of str or int
        Expected shape; letters are bound in ``sizes`` on first sight.
    sizes : Sizes, optional
        Shared bindings across the arguments of one call.
    where : str
        The public function's name, used in messages.
    finite : bool
        Reject NaN and inf.

    Returns
    -------
    value : ndarray
        The same object, unchanged (never copied).
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array of shape {_shape_text(spec)}, "
            f"got {type(value).__name__}; convert it with np.asarray({name}, dtype=float)"
        )
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(
            f"{name} must hold floating-point numbers (float64 or float32), got dtype "
            f"{value.dtype}; convert it with {name}.astype(np.float64)"
        )
    check_shape(name, value.shape, spec, sizes, where=where)
    if finite and not np.isfinite(value).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        passed = f" passed to {where}" if where else ""
        raise ValueError(
            f"{name}{passed} contains NaN or inf (first at index {bad}); "
            "look for an overflow or a division by zero earlier in your code"
        )
    return value


def check_shape(name: str, shape: tuple, spec: tuple, sizes: Sizes | None = None, *, where=""):
    """Check ``shape`` against ``spec`` and bind its letters in ``sizes``."""
    sizes = sizes if sizes is not None else Sizes()
    fn = f"{where} " if where else ""
    shape = tuple(int(s) for s in shape)
    # Bind unseen letters from this very shape first, so that a letter used twice
    # in one spec (W_hh is (H, H)) must agree with itself.
    local = {}
    for letter, got in zip(spec, shape):
        if isinstance(letter, str) and sizes.get(letter) is None:
            local.setdefault(letter, got)
    expected = tuple(
        (sizes.get(s) if sizes.get(s) is not None else local.get(s, s)) if isinstance(s, str) else s
        for s in spec
    )
    ok = len(shape) == len(spec) and all(e == got for e, got in zip(expected, shape))
    prior = tuple(sizes.get(s, s) if isinstance(s, str) else s for s in spec)
    if len(shape) != len(spec):
        needs = _shape_text(spec)
        needs += (
            f" = {_shape_text(prior)}"
            if prior != spec
            else (f": {len(spec)} dimension{'s' if len(spec) != 1 else ''}, not {len(shape)}")
        )
        raise ValueError(
            f"{name} has shape {shape} but {fn or 'this function '}needs {needs}"
            f"{sizes.explain(spec)}"
        )
    if not ok:
        # Name sizes fixed by earlier arguments; fall back on this shape's own
        # first reading only when that is all there is (a non-square W_hh).
        resolved = _shape_text(prior if prior != spec else expected)
        letters = _shape_text(spec)
        needs = letters if letters == resolved else f"{letters} = {resolved}"
        raise ValueError(
            f"{name} has shape {shape} but {fn or 'this function '}needs {needs}"
            f"{sizes.explain(spec)}"
        )
    for letter, size in local.items():
        sizes.bind(letter, size, name)
    return sizes


def check_params(
    name: str,
    params,
    specs: Mapping[str, tuple],
    sizes: Sizes | None = None,
    *,
    where: str = "",
) -> Mapping[str, np.ndarray]:
    """Check a parameter dict: every key in ``specs`` present, each array well shaped.

    Extra keys are allowed (a GRU with ``reset_after`` carries ``b_hn``; a model
    dict may hold several layers), missing ones are named.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict of named arrays, got {type(params).__name__}")
    missing = [key for key in specs if key not in params]
    if missing:
        raise ValueError(
            f"{name} is missing {', '.join(repr(k) for k in missing)}; "
            f"{where or 'this function'} needs the keys {', '.join(specs)}"
        )
    sizes = sizes if sizes is not None else Sizes()
    for key, spec in specs.items():
        check_array(f"{name}[{key!r}]", params[key], spec, sizes, where=where)
    return params


def check_ids(
    name: str,
    ids,
    vocab_size: int | None = None,
    spec: tuple | None = None,
    sizes: Sizes | None = None,
    *,
    where: str = "",
) -> np.ndarray:
    """Check an integer array of token ids (``0 <= id < vocab_size``)."""
    if not isinstance(ids, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of integer ids, got {type(ids).__name__}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}")
    if spec is not None:
        check_shape(name, ids.shape, spec, sizes, where=where)
    if ids.size and vocab_size is not None:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= vocab_size:
            bad = low if low < 0 else high
            raise ValueError(
                f"{name} holds the id {bad}, outside the vocabulary's range 0..{vocab_size - 1}"
            )
    return ids


def check_choice(name: str, value, choices) -> None:
    """Check that ``value`` is one of ``choices`` (a string option)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_positive(name: str, value, *, allow_zero: bool = False) -> None:
    """Check a finite positive number (a learning rate, a clipping threshold)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {kind} number, got {value}")


def check_rng(rng, where: str) -> None:
    """Check an explicit random generator (the project never seeds globally)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{where}: rng must be a numpy.random.Generator, got {type(rng).__name__}; "
            "pass rng=np.random.default_rng(seed)"
        )


def check_int(name: str, value, minimum: int, where: str) -> int:
    """Check a whole number of at least ``minimum`` (a size, a count) and return it as int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be at least {minimum}, got {value}")
    return int(value)
