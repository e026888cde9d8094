"""Checks of exercise 8: a bidirectional RNN and a stacked (deep) RNN (chapter 8).

Both use vanilla RNN cells with zero initial states; the expected values come
from ``rnncore.bidirectional_forward`` and ``rnncore.stacked_forward`` with
``cell="rnn"`` (rtol 1e-6, atol 1e-8). Every rnncore function is refused while
the student's code runs, so the notebook provides its own plain-NumPy
``rnn_forward`` helper.
"""

from __future__ import annotations

from ._cases import RNN_KEYS, SEQ_SIZES, SEQ_SIZES_HIDDEN, Case, label, params_for, rng_for
from ._driver import Out, check_function, reference
from ._harness import student_facing
from .mistakes import ex08_bidirectional_deep as catalogue

__all__ = ["check_bidirectional_rnn_forward", "check_stacked_rnn_forward"]


def _prefixed(prefix, params):
    return {prefix + k: v for k, v in params.items()}


def _bidirectional_cases(hidden):
    rng = rng_for("bidirectional_rnn_forward", hidden)
    for T, N, D, H in SEQ_SIZES + (SEQ_SIZES_HIDDEN if hidden else ()):
        params = {
            **_prefixed("fwd.", params_for(RNN_KEYS, D, H, rng)),
            **_prefixed("bwd.", params_for(RNN_KEYS, D, H, rng)),
        }
        yield Case((rng.normal(size=(T, N, D)), params), label(T=T, N=N, D=D, H=H), {})


@student_facing
def check_bidirectional_rnn_forward(student_fn, hidden=False, part=None):
    """Check ``bidirectional_rnn_forward(X, params) -> H`` of shape (T, N, 2H).

    ``H[..., :H]`` is the forward direction, ``H[..., H:]`` the backward one,
    both aligned with X in time. Cases: the sizes of :func:`check_rnn_forward`.

    Parameters
    ----------
    student_fn : callable
        The student's ``bidirectional_rnn_forward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "bidirectional_rnn_forward",
        student_fn,
        _bidirectional_cases(hidden),
        arg_names=("X", "params"),
        outs=(Out("H", ("T", "N", "2H")),),
        expected_fn=lambda X, p: reference("bidirectional_forward", X, p, cell="rnn")[0],
        part=part,
        mistakes=catalogue.BIDIRECTIONAL_RNN_FORWARD,
    )


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


@student_facing
def check_stacked_rnn_forward(student_fn, hidden=False, part=None):
    """Check ``stacked_rnn_forward(X, params, num_layers) -> H_top`` of shape (T, N, H).

    Parameters are ``layer<l>.W_xh`` etc.; layer 0's ``W_xh`` is (D, H), the
    others' (H, H). Cases (T, N, D, H, num_layers) = (4, 3, 4, 5, 3),
    (1, 2, 3, 4, 2), (5, 1, 3, 3, 1); hidden adds (9, 4, 5, 6, 3),
    (1, 1, 1, 1, 2) and (12, 2, 3, 4, 4).

    Parameters
    ----------
    student_fn : callable
        The student's ``stacked_rnn_forward``.
    hidden : bool
        Run the larger hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "stacked_rnn_forward",
        student_fn,
        _stacked_cases(hidden),
        arg_names=("X", "params", "num_layers"),
        outs=(Out("H_top", ("T", "N", "H")),),
        expected_fn=lambda X, p, L: reference("stacked_forward", X, p, cell="rnn", num_layers=L)[0],
        part=part,
        mistakes=catalogue.STACKED_RNN_FORWARD,
    )
