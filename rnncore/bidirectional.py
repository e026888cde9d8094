"""Bidirectional recurrent layers: one pass forward in time, one backward, side by side.

Taught in chapter 8, Bidirectional and deep RNNs. The output at step t joins
what the forward direction has read of ``x_1 .. x_t`` with what the backward
direction has read of ``x_t .. x_T``::

    H_fwd = recurrent(X)                    # left to right
    H_bwd = reverse(recurrent(reverse(X)))  # right to left, re-aligned in time
    H[t]  = [H_fwd[t], H_bwd[t]]            # (N, 2H)

The two directions have separate parameters, stored in one flat dict with the
prefixes ``fwd.`` and ``bwd.`` (``fwd.W_xh``, ``bwd.W_xh`` ...).

Letters in shapes: T time steps, N batch size, D input features, H hidden
units per direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_params
from .recurrent import (
    _RUN_OPTIONS,
    _backward,
    _check_cell,
    _check_options,
    _forward,
    _param_specs,
    _reset_after,
    init_params,
)

__all__ = ["bidirectional_forward", "bidirectional_backward", "init_bidirectional_params"]

DIRECTIONS = ("fwd", "bwd")


class BidirectionalCache(NamedTuple):
    """What :func:`bidirectional_backward` needs from the forward pass."""

    fwd: tuple  # RecurrentCache of the left-to-right pass
    bwd: tuple  # RecurrentCache of the right-to-left pass (over reversed time)
    hidden: int  # H, the width of each direction's half of the output
    steps: int  # T
    batch: int  # N


def _sub_params(params: Mapping, prefix: str) -> dict:
    """``{"W_xh": params["fwd.W_xh"], ...}`` for ``prefix="fwd."``."""
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _check_directions(params, cell, reset_after, sizes, where, prefix="", D="D") -> None:
    """Both directions' parameters present and well shaped, named in full in messages."""
    specs = {}
    for direction in DIRECTIONS:
        for name, spec in _param_specs(cell, reset_after, D).items():
            specs[f"{prefix}{direction}.{name}"] = spec
    check_params("params", params, specs, sizes, where=where)


def _state_pair(state0, where: str) -> tuple:
    if state0 is None:
        return None, None
    if not (isinstance(state0, (tuple, list)) and len(state0) == 2):
        raise TypeError(
            f"{where}: state0 is a pair (state0 of the forward direction, state0 of the "
            f"backward direction), or None; got {type(state0).__name__}"
        )
    return tuple(state0)


def _bidirectional_forward(X, params, cell, state0, kw):
    """Unguarded: both passes; also returns the final state of each direction."""
    state0_fwd, state0_bwd = _state_pair(state0, "bidirectional_forward")
    H_fwd, state_T_fwd, cache_fwd = _forward(cell, X, state0_fwd, _sub_params(params, "fwd."), kw)
    H_rev, state_T_bwd, cache_bwd = _forward(
        cell, X[::-1], state0_bwd, _sub_params(params, "bwd."), kw
    )  # H_rev[s] has read X[T-1], ..., X[T-1-s]
    hidden = H_fwd.shape[-1]
    H = np.concatenate([H_fwd, H_rev[::-1]], axis=-1)  # (T, N, 2H) re-aligned in time
    cache = BidirectionalCache(cache_fwd, cache_bwd, hidden, H.shape[0], H.shape[1])
    return H, (state_T_fwd, state_T_bwd), cache


def _bidirectional_backward(dH, cache: BidirectionalCache):
    """Unguarded: gradients of both passes, added where they meet at the input."""
    hidden = cache.hidden
    dX_fwd, _, grads_fwd = _backward(dH[..., :hidden], cache.fwd, None)
    # the backward direction ran over reversed time: reverse its gradient going in and out
    dX_rev, _, grads_bwd = _backward(dH[::-1, :, hidden:], cache.bwd, None)
    dX = dX_fwd + dX_rev[::-1]  # (T, N, D) each input feeds both directions
    grads = {f"fwd.{k}": g for k, g in grads_fwd.items()}
    grads.update({f"bwd.{k}": g for k, g in grads_bwd.items()})
    return dX, grads


def bidirectional_forward(X, params, cell="rnn", state0=None, **kw):
    """Run a bidirectional recurrent layer over a sequence.

    The forward direction reads X from t = 0 to T-1, the backward direction
    reads it from T-1 down to 0; their hidden states are concatenated per time
    step, ``H[t] = [H_fwd[t], H_bwd[t]]``. Taught in chapter 8, Bidirectional
    and deep RNNs.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major.
    params : dict of str to ndarray
        ``fwd.<name>`` and ``bwd.<name>`` for every name of
        ``param_names(cell)``: ``W_x*`` of shape (D, H), ``W_h*`` (H, H),
        biases (H,).
    cell : {"rnn", "gru", "lstm"}
    state0 : None or pair
        ``(state0_fwd, state0_bwd)``, each a state as in ``recurrent_forward``
        (``h0`` of shape (N, H), or ``(h0, c0)`` for an LSTM) or None; None
        means zeros for both. The backward direction starts at the last step.
    **kw
        ``reset_after`` for ``"gru"`` (inferred from ``fwd.b_hn`` when omitted);
        ``activation`` (``"tanh"`` or ``"relu"``) for ``"rnn"``.

    Returns
    -------
    H : ndarray of shape (T, N, 2H)
        ``H[..., :H]`` from the forward direction, ``H[..., H:]`` from the
        backward direction, both aligned with X in time.
    cache : BidirectionalCache
        Opaque; pass it to :func:`bidirectional_backward`.
    """
    guard("bidirectional_forward")
    where = "bidirectional_forward"
    _check_cell(cell)
    _check_options(cell, kw, _RUN_OPTIONS, where)
    kw = {"reset_after": _reset_after(params, kw, "fwd.b_hn")} if cell == "gru" else dict(kw)
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where=where)
    _check_directions(params, cell, kw.get("reset_after", False), sizes, where)
    H, _, cache = _bidirectional_forward(X, params, cell, state0, kw)
    return H, cache


def bidirectional_backward(dH, cache):
    """Backward pass of :func:`bidirectional_forward`.

    The output gradient is split into its two halves; the backward
    direction's half is reversed in time before its BPTT (its pass ran over
    reversed time) and its input gradient reversed back, then the two input
    gradients are added. Taught in chapter 8, Bidirectional and deep RNNs.

    Parameters
    ----------
    dH : ndarray of shape (T, N, 2H)
        Gradient of the loss with respect to the concatenated hidden states.
    cache : BidirectionalCache
        From :func:`bidirectional_forward`.

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    grads : dict of str to ndarray
        Keys ``fwd.<name>`` and ``bwd.<name>``, shaped like the parameters.
    """
    guard("bidirectional_backward")
    if not isinstance(cache, BidirectionalCache):
        raise TypeError(
            "cache must be the BidirectionalCache returned by bidirectional_forward, got "
            f"{type(cache).__name__}"
        )
    _check_dH(dH, cache, "bidirectional_backward")
    return _bidirectional_backward(dH, cache)


def _check_dH(dH, cache: BidirectionalCache, where: str) -> None:
    sizes = Sizes()
    for letter, size in (("T", cache.steps), ("N", cache.batch), ("2H", 2 * cache.hidden)):
        sizes.bind(letter, size, "the forward pass (cache)")
    check_array("dH", dH, ("T", "N", "2H"), sizes, where=where)


def init_bidirectional_params(cell, D, H, rng, **kw):
    """Random initial parameters of a bidirectional layer: two independent cells.

    Taught in chapter 8, Bidirectional and deep RNNs.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    D : int
        Input features.
    H : int
        Hidden units per direction (the output has 2H features).
    rng : numpy.random.Generator
        The forward direction's parameters are drawn first.
    **kw
        Options of :func:`rnncore.recurrent.init_params` (``dtype``,
        ``reset_after``, ``forget_bias``).

    Returns
    -------
    params : dict of str to ndarray
        ``fwd.<name>`` and ``bwd.<name>`` for every name of ``param_names(cell, **kw)``.
    """
    guard("init_bidirectional_params")
    params = {}
    for direction in DIRECTIONS:
        params.update(
            {f"{direction}.{k}": v for k, v in init_params(cell, D, H, rng, **kw).items()}
        )
    return params
