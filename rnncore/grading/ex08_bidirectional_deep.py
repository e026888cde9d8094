"""Checks of exercise 8: a bidirectional RNN and a stacked (deep) RNN (chapter 8).

Both use vanilla RNN cells with zero initial states; the expected values come
from ``rnncore.bidirectional_forward`` and ``rnncore.stacked_forward`` with
``cell="rnn"`` (rtol 1e-6, atol 1e-8). Every rnncore function is refused while
the student's code runs, so the notebook provides its own plain-NumPy
``rnn_forward`` helper.
"""

from __future__ import annotations

from ._cases import (
    RNN_KEYS,
    SEQ_SIZES,
    SEQ_SIZES_HIDDEN,
    Case,
    label,
    params_for,
    rng_for,
    with_variants,
)
from ._driver import Out, reference
from ._table import Spec, build
from .mistakes import ex08_bidirectional_deep as catalogue


def _prefixed(prefix, params):
    return {prefix + k: v for k, v in params.items()}


def _bidirectional_cases(hidden):
    cases = list(_draw_bidirectional(hidden))
    return with_variants(cases, (0, len(SEQ_SIZES)), float32=True)  # X's dtype comes back


def _draw_bidirectional(hidden):
    rng = rng_for("bidirectional_rnn_forward", hidden)
    for T, N, D, H in SEQ_SIZES + (SEQ_SIZES_HIDDEN if hidden else ()):
        params = {
            **_prefixed("fwd.", params_for(RNN_KEYS, D, H, rng)),
            **_prefixed("bwd.", params_for(RNN_KEYS, D, H, rng)),
        }
        yield Case((rng.normal(size=(T, N, D)), params), label(T=T, N=N, D=D, H=H), {})


def _stacked_cases(hidden):
    rng = rng_for("stacked_rnn_forward", hidden)
    sizes = ((4, 3, 4, 5, 3), (1, 2, 3, 4, 2), (5, 1, 3, 3, 1))
    more = ((9, 4, 5, 6, 3), (1, 1, 1, 1, 2), (12, 2, 3, 4, 4))
    for T, N, D, H, L in sizes + (more if hidden else ()):
        params = {}
        for layer in range(L):
            params.update(
                _prefixed(f"layer{layer}.", params_for(RNN_KEYS, D if layer == 0 else H, H, rng))
            )
        yield Case(
            (rng.normal(size=(T, N, D)), params, L), label(T=T, N=N, D=D, H=H, num_layers=L), {}
        )


CHECKS = (
    Spec(
        "bidirectional_rnn_forward",
        "H (T, N, 2H)",
        "``H[..., :H]`` is the forward direction, ``H[..., H:]`` the backward one, both "
        "aligned with X in time, in X's dtype, as ``rnncore.bidirectional_forward(..., "
        'cell="rnn")``. Cases: the sizes of :func:`check_rnn_forward`, the first (and on '
        "hidden runs the first hidden one) again as float32.",
        _bidirectional_cases,
        ("X", "params"),
        (Out("H", ("T", "N", "2H")),),
        lambda X, p: reference("bidirectional_forward", X, p, cell="rnn")[0],
        catalogue.BIDIRECTIONAL_RNN_FORWARD,
        float32=True,
    ),
    Spec(
        "stacked_rnn_forward",
        "H_top (T, N, H)",
        "Parameters are ``layer<l>.W_xh`` etc.; layer 0's ``W_xh`` is (D, H), the others' "
        '(H, H); as ``rnncore.stacked_forward(..., cell="rnn")``. Cases (T, N, D, H, '
        "num_layers) = (4, 3, 4, 5, 3), (1, 2, 3, 4, 2), (5, 1, 3, 3, 1); hidden adds "
        "(9, 4, 5, 6, 3), (1, 1, 1, 1, 2) and (12, 2, 3, 4, 4).",
        _stacked_cases,
        ("X", "params", "num_layers"),
        (Out("H_top", ("T", "N", "H")),),
        lambda X, p, L: reference("stacked_forward", X, p, cell="rnn", num_layers=L)[0],
        catalogue.STACKED_RNN_FORWARD,
    ),
)

check_bidirectional_rnn_forward, check_stacked_rnn_forward = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
