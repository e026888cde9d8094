"""Random and edge cases the checks run on.

Cases are drawn from a generator seeded per check, so a student sees the same
cases on every run. Visible cases are small and include the edge cases N = 1,
T = 1 and D ≠ H; ``hidden=True`` adds larger cases, sizes of 1 everywhere and
inputs large enough to saturate tanh and σ. Cases are float64; where an
exercise promises "the input's dtype" or ``h0 = None``, :func:`with_variants`
adds a float32 copy and an ``h0 = None`` copy of the first visible case (and
of the first hidden one), drawn from no generator, so the float64 cases stay
what they were.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._secret import derive_seed

__all__: list[str] = []

# (N, D, H) of one step
CELL_SIZES = ((3, 4, 5), (1, 4, 5), (2, 3, 3))
CELL_SIZES_HIDDEN = ((6, 7, 5), (1, 1, 1), (4, 2, 8))
# (T, N, D, H) of a sequence
SEQ_SIZES = ((4, 3, 4, 5), (1, 2, 3, 4), (5, 1, 3, 3))
SEQ_SIZES_HIDDEN = ((9, 4, 5, 6), (1, 1, 1, 1), (12, 2, 3, 4))

RNN_KEYS = ("W_xh", "W_hh", "b_h")
GRU_KEYS = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")
LSTM_KEYS = tuple(f"{kind}{g}" for g in "ifoc" for kind in ("W_x", "W_h", "b_"))


class Case(NamedTuple):
    """Arguments of one call and a label for messages (``" (for N=1, D=4, H=5)"``)."""

    args: tuple
    label: str
    extra: dict  # anything else the check needs (upstream gradients, sizes)


def with_variants(cases, firsts=(0,), *, float32=False, h0_none=None) -> list:
    """``cases``, then float32 and ``h0 = None`` copies of the cases at the indices ``firsts``.

    Parameters
    ----------
    cases : iterable of Case
    firsts : tuple of int
        Which cases to copy (the first visible one; the first hidden one when
        hidden cases are drawn). Indices past the end are skipped.
    float32 : bool
        Add copies with every float array (also inside dicts) cast to float32;
        their ``extra["dtype"]`` is ``np.float32``, so the checks expect that
        dtype back and compare with float32 tolerances.
    h0_none : int or None
        The position of ``h0`` in the arguments: add copies with ``h0 = None``
        (a state of zeros).
    """
    cases = list(cases)
    more = []
    for k in firsts:
        if k >= len(cases):
            continue
        case = cases[k]
        if float32:
            more.append(
                Case(_float32(case.args), _more(case.label, "float32"),
                     {**case.extra, "dtype": np.float32})
            )  # fmt: skip
        if h0_none is not None:
            args = case.args[:h0_none] + (None,) + case.args[h0_none + 1 :]
            more.append(Case(args, _more(case.label, "h0=None"), case.extra))
    return cases + more


def _float32(value):
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if type(value) is dict:
        return {k: _float32(v) for k, v in value.items()}
    if type(value) is tuple:
        return tuple(_float32(v) for v in value)
    return value


def _more(text: str, what: str) -> str:
    return text[:-1] + f", {what})" if text.endswith(")") else text + f" ({what})"


def label(**sizes) -> str:
    return " (for " + ", ".join(f"{k}={v}" for k, v in sizes.items()) + ")"


def rng_for(name: str, hidden: bool) -> np.random.Generator:
    """The generator a check draws its cases from.

    Visible cases are seeded from the check's name: the same on every run.
    Hidden cases are seeded from the instructor's grading secret
    (:mod:`rnncore.grading._secret`), so the shipped package cannot reproduce
    them; without a secret they are fresh on every call.
    """
    if hidden:
        return np.random.default_rng(derive_seed(name))  # None: fresh entropy
    return np.random.default_rng(sum(ord(c) * (i + 1) for i, c in enumerate(name)))


def params_for(keys, D: int, H: int, rng, scale: float = 1.0) -> dict:
    """Weights of the named cell: ``W_x*`` (D, H), ``W_h*`` (H, H), ``b_*`` (H,)."""
    params = {}
    for key in keys:
        shape = {"W_x": (D, H), "W_h": (H, H)}.get(key[:3], (H,))
        params[key] = scale * rng.normal(0.0, 1.0 / np.sqrt(H), size=shape)
    return params


def cell_cases(name: str, keys, hidden: bool, n_states: int = 1, *, float32: bool = False):
    """Cases ``(x, *states, params)`` for one step of a cell (float32 copies on request)."""
    cases = list(_cell_cases(name, keys, hidden, n_states))
    return with_variants(cases, (0, len(CELL_SIZES)), float32=float32)


def _cell_cases(name: str, keys, hidden: bool, n_states: int):
    rng = rng_for(name, hidden)
    sizes = CELL_SIZES + (CELL_SIZES_HIDDEN if hidden else ())
    for k, (N, D, H) in enumerate(sizes):
        scale = 3.0 if hidden and k == len(sizes) - 1 else 1.0  # saturating inputs
        x = scale * rng.normal(size=(N, D))
        states = tuple(rng.normal(0.0, 0.8, size=(N, H)) for _ in range(n_states))
        params = params_for(keys, D, H, rng, scale)
        upstream = tuple(rng.normal(size=(N, H)) for _ in range(n_states))
        yield Case(
            (x, *states, params),
            label(N=N, D=D, H=H),
            {"upstream": upstream, "sizes": {"N": N, "D": D, "H": H}},
        )


def sequence_cases(name: str, keys, hidden: bool, *, variants: bool = False):
    """Cases ``(X, h0, params)`` for a whole sequence (float32 and h0=None copies on request)."""
    cases = list(_sequence_cases(name, keys, hidden))
    if not variants:
        return cases
    return with_variants(cases, (0, len(SEQ_SIZES)), float32=True, h0_none=1)


def _sequence_cases(name: str, keys, hidden: bool):
    rng = rng_for(name, hidden)
    for T, N, D, H in SEQ_SIZES + (SEQ_SIZES_HIDDEN if hidden else ()):
        X = rng.normal(size=(T, N, D))
        h0 = rng.normal(0.0, 0.8, size=(N, H))
        params = params_for(keys, D, H, rng)
        upstream = (rng.normal(size=(T, N, H)),)
        yield Case(
            (X, h0, params),
            label(T=T, N=N, D=D, H=H),
            {"upstream": upstream, "sizes": {"T": T, "N": N, "D": D, "H": H}},
        )


def logits_cases(name: str, hidden: bool, shapes=((4, 6), (1, 5), (3, 1), (2, 7))):
    """Logits of the given shapes, plus large ones (±1000) that overflow a naive exp."""
    rng = rng_for(name, hidden)
    more = ((9, 30), (2, 3, 5), (6,)) if hidden else ()
    for shape in shapes + more:
        yield rng.normal(0.0, 2.0, size=shape)
    big = rng.normal(0.0, 1.0, size=(3, 5)) * 400.0
    big[:, 0] = 1000.0  # exp(1000) overflows float64
    big[1] = -1000.0 + rng.normal(size=5)  # a row of very negative scores
    yield big
