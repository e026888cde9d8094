"""Random and edge cases the checks run on.

Every case is float64 and drawn from a generator seeded per check, so a
student sees the same cases on every run. Visible cases are small and include
the edge cases N = 1, T = 1 and D ≠ H; ``hidden=True`` adds larger cases,
sizes of 1 everywhere and inputs large enough to saturate tanh and σ.
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


def cell_cases(name: str, keys, hidden: bool, n_states: int = 1):
    """Cases ``(x, *states, params)`` for one step of a cell."""
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


def sequence_cases(name: str, keys, hidden: bool):
    """Cases ``(X, h0, params)`` for a whole sequence."""
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
