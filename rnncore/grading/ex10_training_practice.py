"""Checks of exercise 10: state-carrying minibatches and variational dropout (chapter 10).

``sequential_minibatches(ids, seq_len, batch_size, offset)`` is compared with
``rnncore.stream_minibatches`` on the stream after the offset
(``ids[offset:]``, ``random_offset=False``), its windows stacked; two parts
grade properties of the student's own windows that need no reference: every
target is the token after its input (``"targets"``), and each column reads the
stream without a gap or a jump, inside a window and from one window to the
next (``"continuity"``: what makes carrying the state right). The streams are
distinct token ids, so every token's position in the stream is known.

The variational RNN gets its dropout masks as arguments (drawn here with
``rnncore.dropout_mask``), so its values are comparable; the backward check
runs the student's forward and backward together (see
:mod:`rnncore.grading._backward`), the masks held fixed.
"""

from __future__ import annotations

import numpy as np

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
from .ex04_bptt import RNN_SEQUENCE
from .mistakes import ex10_training_practice as catalogue

# (L, T, N, offset): stream length, window length, batch size, tokens skipped at the start
STREAMS = ((25, 3, 2, 0), (40, 4, 3, 2), (20, 5, 1, 1), (31, 1, 4, 0), (50, 4, 3, 1))
STREAMS_HIDDEN = ((200, 7, 5, 4), (12, 2, 5, 1), (101, 10, 2, 0), (64, 3, 4, 2), (9, 8, 1, 0))
DROP_P = (0.5, 0.25, 0.4, 0.3, 0.6, 0.2)  # drop probabilities of the masks, case by case


def _stream_cases(hidden):
    rng = rng_for("sequential_minibatches", hidden)
    for L, T, N, offset in STREAMS + (STREAMS_HIDDEN if hidden else ()):
        ids = rng.permutation(10 * L)[:L]  # (L,) distinct ids: a token's position is known
        yield Case((ids, T, N, offset), label(L=L, seq_len=T, batch_size=N, offset=offset), {})


def _expected_windows(ids, seq_len, batch_size, offset):
    batches = reference(
        "stream_minibatches",
        ids[offset:],
        seq_len,
        batch_size,
        np.random.default_rng(0),  # draws nothing: no random offset, fixed lengths
        random_offset=False,
    )
    windows = list(batches)
    return np.stack([b.ids_in for b in windows]), np.stack([b.ids_target for b in windows])


def _positions(ids, windows):
    """Where each token of ``windows`` sits in the stream ``ids`` (-1: not in the stream)."""
    lookup = np.full(int(ids.max()) + 1, -1)
    lookup[ids] = np.arange(len(ids))
    inside = (windows >= 0) & (windows < len(lookup))
    return np.where(inside, lookup[np.clip(windows, 0, len(lookup) - 1)], -1)


def _at(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _targets_follow(args, outs):
    """Every Y[k, t, n] is the token right after X[k, t, n] in the stream."""
    ids, (X, Y) = args[0], outs
    pos_x, pos_y = _positions(ids, X), _positions(ids, Y)
    bad = np.argwhere((pos_x < 0) | (pos_y != pos_x + 1))
    if not len(bad):
        return None
    k = tuple(bad[0])
    return (
        f"Y{_at(k)} should be the token right after X{_at(k)} in the stream{{case}}: X{_at(k)} "
        f"is the token at position {pos_x[k]} of ids, Y{_at(k)} the one at position "
        f"{pos_y[k]} (should be {pos_x[k] + 1}). Y is the stream one step ahead of X."
    )


def _columns_continue(args, outs):
    """Column n reads the stream contiguously, inside each window and across windows."""
    ids, (X, _) = args[0], outs
    K, T, N = X.shape
    pos = _positions(ids, X).transpose(2, 0, 1).reshape(N, K * T)  # (N, K * T): column n's tokens
    jumps = np.argwhere(np.diff(pos, axis=1) != 1)
    if not len(jumps):
        return None
    n, i = (int(v) for v in jumps[0])
    (k, t), (k2, t2) = divmod(i, T), divmod(i + 1, T)
    where = (
        f"from window {k} to window {k2}: carrying the state from window {k} into window "
        f"{k2} is only right when column {n} of window {k2} continues column {n} of window {k}"
        if k2 != k
        else f"inside window {k}"
    )
    return (
        f"column {n} of X does not read the stream contiguously{{case}}, {where}. "
        f"X{_at((k, t, n))} is the token at position {pos[n, i]} of ids, so X{_at((k2, t2, n))} "
        f"should be the one at position {pos[n, i] + 1}, but it is at position {pos[n, i + 1]}. "
        "With sequential partitioning each column is one contiguous piece of the stream, read "
        "window after window."
    )


def _rnn_cases(name, hidden, *, ones=False):
    rng = rng_for(name, hidden)
    sizes = SEQ_SIZES + (SEQ_SIZES_HIDDEN if hidden else ())
    for k, (T, N, D, H) in enumerate(sizes):
        X = rng.normal(size=(T, N, D))
        h0 = rng.normal(0.0, 0.8, size=(N, H))
        params = params_for(RNN_KEYS, D, H, rng)
        p = DROP_P[k % len(DROP_P)]
        mask_x = reference("dropout_mask", (N, D), p, rng)  # (N, D): 0 or 1 / (1 - p)
        mask_h = reference("dropout_mask", (N, H), p, rng)  # (N, H)
        upstream = (rng.normal(size=(T, N, H)),)
        yield Case(
            (X, h0, params, mask_x, mask_h),
            label(T=T, N=N, D=D, H=H, p=p),
            {"upstream": upstream, "sizes": {"T": T, "N": N, "D": D, "H": H}},
        )
        if ones and k < 2:  # masks of ones: the plain RNN of exercise 2 (part "ones")
            yield Case(
                (X, h0, params, np.ones_like(mask_x), np.ones_like(mask_h)),
                label(T=T, N=N, D=D, H=H)[:-1] + ", masks of ones: nothing dropped, so H is "
                "exercise 2's plain RNN)",
                {"part": "ones"},
            )


def _forward_cases(hidden):
    cases = list(_rnn_cases("variational_rnn_forward", hidden, ones=True))
    visible = len(SEQ_SIZES) + 2  # the float64 cases, the ones-cases among them
    return with_variants(cases, (0, visible), float32=True, h0_none=1)


# the vanilla RNN's sequence pair (exercise 4), with the two masks as fixed arguments
VARIATIONAL_RNN = RNN_SEQUENCE._replace(
    forward="variational_rnn_forward",
    backward="variational_rnn_backward",
    fixed=("mask_x", "mask_h"),
)

CHECKS = (
    Spec(
        "sequential_minibatches",
        "(X, Y)",
        "X and Y of shape (K, T, N), integer ids: window k of the stream after ``offset`` cut "
        "into N contiguous columns, and its targets one token ahead; as "
        "``rnncore.stream_minibatches(ids[offset:], T, N, rng, random_offset=False)`` with "
        'its windows stacked. Parts ``"targets"`` and ``"continuity"`` test the student\'s '
        "own windows (no reference needed). Cases: streams of distinct ids with "
        "(L, T, N, offset) = (25, 3, 2, 0), (40, 4, 3, 2), (20, 5, 1, 1), (31, 1, 4, 0), "
        "(50, 4, 3, 1); hidden adds five more, up to L = 200.",
        _stream_cases,
        ("ids", "seq_len", "batch_size", "offset"),
        (Out("X", ("K", "T", "N"), kind="ids"), Out("Y", ("K", "T", "N"), kind="ids")),
        _expected_windows,
        catalogue.SEQUENTIAL_MINIBATCHES,
        parts=("shapes", "targets", "continuity", "values"),
        part_text={
            "shapes": "two integer arrays of shape (K, T, N)",
            "targets": "every Y[k, t, n] is the token after X[k, t, n] in the stream",
            "continuity": "each column of X reads the stream contiguously, inside a window "
            "and from one window to the next (so carrying the state is right)",
            "values": "the same windows as the reference",
        },
        properties={"targets": _targets_follow, "continuity": _columns_continue},
    ),
    Spec(
        "variational_rnn_forward",
        "(H, cache)",
        "``h_t = tanh((x_t ⊙ mask_x) W_xh + (h_(t-1) ⊙ mask_h) W_hh + b_h)`` with the same "
        "(N, D) and (N, H) masks at every step, H the undropped states, in X's dtype, as "
        "``rnncore.variational_rnn_forward``. Cases: the sizes of :func:`check_rnn_forward` "
        "with masks from ``rnncore.dropout_mask`` (p from 0.2 to 0.6), the first two again "
        'with masks of ones (part ``"ones"``: the plain RNN), the first as float32 and with '
        "h0 = None; hidden adds three more sizes and their float32 and h0 = None copies.",
        _forward_cases,
        ("X", "h0", "params", "mask_x", "mask_h"),
        (Out("H", ("T", "N", "H")), Out("cache", kind="cache")),
        "variational_rnn_forward",
        catalogue.VARIATIONAL_RNN_FORWARD,
        parts=("shapes", "values", "ones"),
        part_text={"ones": "masks of ones only: the plain RNN, masks aside"},
        float32=True,
    ),
    Spec(
        "variational_rnn_backward",
        "(dX, dh0, grads)",
        "Backpropagation through time through the masks. Runs on the forward pass's sizes "
        "(float64, an array h0, masks from ``rnncore.dropout_mask``) with random upstream "
        "gradients ``dH`` at every time step; the masks stay fixed for the finite differences.",
        lambda hidden: _rnn_cases("variational_rnn_backward", hidden),
        mistakes=catalogue.VARIATIONAL_RNN_BACKWARD,
        pair=VARIATIONAL_RNN,
        forward_mistakes=catalogue.VARIATIONAL_RNN_FORWARD,
    ),
)

check_sequential_minibatches, check_variational_rnn_forward, check_variational_rnn_backward = build(
    __name__, CHECKS
)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
