"""Checks of exercise 5: gradient clipping and gradient norms over time (chapter 5).

Clipping is compared with rtol 1e-5 (a version that adds a small epsilon to
the norm, as PyTorch does, passes), the norms over time with rtol 1e-6.
"""

from __future__ import annotations

import numpy as np

from ._cases import LSTM_KEYS, RNN_KEYS, Case, params_for, rng_for, sequence_cases
from ._driver import Out
from ._table import Spec, build
from .mistakes import ex05_clipping as catalogue

CLIP_TOL = {"rtol": 1e-5, "atol": 1e-8}


def _grads_cases(name, hidden, thresholds):
    rng = rng_for(name, hidden)
    grads = params_for(RNN_KEYS, 4, 5, rng, scale=3.0)
    for threshold in thresholds:
        yield Case((grads, threshold), f" (for RNN gradients and {threshold})", {})
    yield Case(
        ({"W": rng.normal(size=(3, 2))}, thresholds[0]),
        f" (for a single array and {thresholds[0]})",
        {},
    )
    if hidden:
        big = params_for(LSTM_KEYS, 6, 7, rng, scale=1e3)
        yield Case((big, 5.0), " (for large LSTM gradients and 5.0)", {})
        zeros = {k: np.zeros_like(v) for k, v in grads.items()}
        yield Case((zeros, 1.0), " (for gradients that are all zero)", {})


def _norm_cases(hidden):
    yield from sequence_cases("gradient_norms_over_time", RNN_KEYS, hidden, variants=True)
    if hidden:  # a vanishing and an exploding network
        rng = rng_for("gradient_norms_over_time", True)
        for scale, kind in ((0.3, "small"), (3.0, "large")):
            X = rng.normal(0.0, 0.1, size=(20, 2, 3))
            params = params_for(RNN_KEYS, 3, 8, rng)
            params["W_hh"] = scale * np.linalg.qr(rng.normal(size=(8, 8)))[0]
            yield Case((X, np.zeros((2, 8)), params), f" (for T=20 and a {kind} W_hh)", {})


CHECKS = (
    Spec(
        "clip_grad_norm",
        "(clipped, norm)",
        "``norm`` is the global norm before clipping; ``clipped`` a new dict (``grads`` must "
        "not change), as ``rnncore.clip_grad_norm``. Cases: RNN-shaped gradients of global "
        "norm about 8 with max_norm 1.0 (clipped) and 100.0 (unchanged), a single array; "
        "hidden adds large LSTM gradients and all-zero gradients.",
        lambda hidden: _grads_cases("clip_grad_norm", hidden, (1.0, 100.0)),
        ("grads", "max_norm"),
        (Out("clipped", kind="dict"), Out("norm", kind="number")),
        mistakes=catalogue.CLIP_GRAD_NORM,
        tol=CLIP_TOL,
    ),
    Spec(
        "clip_grad_value",
        "clipped",
        "Every entry capped to ±clip_value in a new dict, as ``rnncore.clip_grad_value``. "
        "Cases: RNN-shaped gradients with clip_value 1.0, 2.5 and 100.0, a single array; "
        "hidden adds large LSTM gradients and all-zero gradients.",
        lambda hidden: _grads_cases("clip_grad_value", hidden, (1.0, 2.5, 100.0)),
        ("grads", "clip_value"),
        (Out("clipped", kind="dict"),),
        mistakes=catalogue.CLIP_GRAD_VALUE,
        tol=CLIP_TOL,
    ),
    Spec(
        "gradient_norms_over_time",
        "norms (T,)",
        "``norms[t] = ‖∂L/∂H[t]‖`` (Frobenius norm over the batch) for ``L = sum(H[T-1])``, "
        "in X's dtype, as :func:`rnncore.gradient_norms_over_time`; ``h0 = None`` starts "
        "from zeros. Cases: the sequences of :func:`check_rnn_forward` (with their float32 "
        "and ``h0=None`` copies); hidden adds T = 20 with a small and a large "
        "orthogonal-times-scale ``W_hh``.",
        lambda hidden: list(_norm_cases(hidden)),
        ("X", "h0", "params"),
        (Out("norms", ("T",)),),
        mistakes=catalogue.GRADIENT_NORMS_OVER_TIME,
        float32=True,
    ),
)

check_clip_grad_norm, check_clip_grad_value, check_gradient_norms_over_time = build(
    __name__, CHECKS
)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
