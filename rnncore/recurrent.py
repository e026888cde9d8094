"""One interface over the three recurrent cells, for networks built from them.

Taught in chapter 8, Bidirectional and deep RNNs: a bidirectional or stacked
network does not care which cell it runs, only that it can run "a recurrent
layer" over a sequence and back. These functions dispatch to
``rnn_forward``/``gru_forward``/``lstm_forward`` and their backward passes,
giving them one shape:

* the *state* of a layer is ``h`` of shape (N, H) for ``"rnn"`` and ``"gru"``
  and the pair ``(h, c)`` for ``"lstm"``;
* ``recurrent_forward`` returns every hidden state, the final state and a cache;
* ``recurrent_backward`` takes an optional gradient on the final state (the
  gradient a later chunk or layer sends back) and returns the gradient on the
  initial state in the same structure.

Letters in shapes: T time steps, N batch size, D input features, H hidden units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ._guard import guard
from ._validate import check_choice
from .gru import gru_backward, gru_forward
from .init import init_gru_params, init_lstm_params, init_rnn_params
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

__all__ = ["CELLS", "recurrent_forward", "recurrent_backward", "init_params", "param_names"]

CELLS = ("rnn", "gru", "lstm")

_GATES = {"rnn": ("h",), "gru": ("z", "r", "h"), "lstm": ("i", "f", "o", "c")}
# Keyword options each cell accepts when it runs, and when it is initialised.
_RUN_OPTIONS = {"rnn": ("activation",), "gru": ("reset_after",), "lstm": ()}
_INIT_OPTIONS = {
    "rnn": ("dtype",),
    "gru": ("reset_after", "dtype"),
    "lstm": ("forget_bias", "dtype"),
}


class RecurrentCache(NamedTuple):
    """What :func:`recurrent_backward` needs: which cell ran, and that cell's own cache."""

    cell: str  # "rnn", "gru" or "lstm"
    inner: tuple  # the cache of rnn_forward, gru_forward or lstm_forward


def _check_cell(cell) -> None:
    check_choice("cell", cell, CELLS)


def _check_options(cell: str, kw: Mapping, allowed: Mapping, where: str) -> None:
    unknown = [k for k in kw if k not in allowed[cell]]
    if unknown:
        known = ", ".join(allowed[cell]) or "none"
        raise TypeError(
            f"{where} got an unexpected option {unknown[0]!r} for cell={cell!r} (options: {known})"
        )


def _names(cell: str, reset_after: bool = False) -> tuple[str, ...]:
    names = tuple(n for g in _GATES[cell] for n in (f"W_x{g}", f"W_h{g}", f"b_{g}"))
    return names + ("b_hn",) if cell == "gru" and reset_after else names


def _param_specs(cell: str, reset_after: bool = False, D="D") -> dict[str, tuple]:
    """Shape spec of each parameter: ``W_x*`` (D, H), ``W_h*`` (H, H), biases (H,)."""
    specs = {}
    for name in _names(cell, reset_after):
        if name.startswith("W_x"):
            specs[name] = (D, "H")
        elif name.startswith("W_h"):
            specs[name] = ("H", "H")
        else:
            specs[name] = ("H",)
    return specs


def _reset_after(params, kw: Mapping, key: str = "b_hn") -> bool:
    """GRU variant: as asked, else PyTorch's when the parameters carry ``b_hn``."""
    if kw.get("reset_after") is not None:
        return bool(kw["reset_after"])
    return isinstance(params, Mapping) and key in params


def param_names(cell, **kw):
    """Names of a cell's parameters, in the book's order.

    Taught in chapter 8, Bidirectional and deep RNNs.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    **kw
        ``reset_after=True`` adds the GRU's ``b_hn``; the other options of
        :func:`init_params` (``dtype``, ``forget_bias``) are accepted and change
        nothing, so the same keywords can be passed to both.

    Returns
    -------
    names : tuple of str
        e.g. ``("W_xh", "W_hh", "b_h")`` for ``"rnn"``.
    """
    guard("param_names")
    _check_cell(cell)
    _check_options(cell, kw, _INIT_OPTIONS, "param_names")
    return _names(cell, bool(kw.get("reset_after", False)))


def init_params(cell, D, H, rng, **kw):
    """Random initial parameters of one recurrent layer of the given cell type.

    Dispatches to ``init_rnn_params``, ``init_gru_params`` or
    ``init_lstm_params`` (Uniform(-1/sqrt(H), 1/sqrt(H)), as PyTorch). Taught in
    chapter 8, Bidirectional and deep RNNs.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    D : int
        Input features.
    H : int
        Hidden units.
    rng : numpy.random.Generator
    **kw
        ``dtype`` for every cell; ``reset_after`` for ``"gru"``;
        ``forget_bias`` for ``"lstm"``.

    Returns
    -------
    params : dict of str to ndarray
        Keys ``param_names(cell, **kw)``: ``W_x*`` of shape (D, H), ``W_h*`` of
        shape (H, H), biases of shape (H,).
    """
    guard("init_params")
    _check_cell(cell)
    _check_options(cell, kw, _INIT_OPTIONS, "init_params")
    init = {"rnn": init_rnn_params, "gru": init_gru_params, "lstm": init_lstm_params}[cell]
    return init(D, H, rng, **kw)


def _check_state_pair(name: str, state, where: str) -> tuple:
    if not (isinstance(state, (tuple, list)) and len(state) == 2):
        raise TypeError(
            f"{where}: an LSTM's {name} is a pair (h, c) of arrays of shape (N, H) (or None), "
            f"got {type(state).__name__}"
        )
    return tuple(state)


def _forward(cell: str, X, state0, params, kw: Mapping):
    """Unguarded dispatch; the sequence functions validate X, params and the states."""
    if cell == "rnn":
        H, inner = rnn_forward(X, state0, params, activation=kw.get("activation", "tanh"))
        # the final state is copied: a view would keep the whole sequence's buffers alive
        # while truncated BPTT carries it on to the next chunk
        return H, H[-1].copy(), RecurrentCache(cell, inner)
    if cell == "gru":
        H, inner = gru_forward(X, state0, params, reset_after=_reset_after(params, kw))
        return H, H[-1].copy(), RecurrentCache(cell, inner)
    h0, c0 = (None, None) if state0 is None else _check_state_pair("state0", state0, "lstm")
    H, C, inner = lstm_forward(X, h0, c0, params)
    return H, (H[-1].copy(), C[-1].copy()), RecurrentCache(cell, inner)


def _backward(dH, cache: RecurrentCache, dstate_T):
    """Unguarded dispatch; the sequence functions validate dH and the state gradients."""
    if cache.cell in ("rnn", "gru"):
        backward = rnn_backward if cache.cell == "rnn" else gru_backward
        return backward(dH, cache.inner, dh_T=dstate_T)  # (dX, dh0, grads)
    dh_T, dc_T = (
        (None, None) if dstate_T is None else _check_state_pair("dstate_T", dstate_T, "lstm")
    )
    dX, dh0, dc0, grads = lstm_backward(dH, cache.inner, dh_T=dh_T, dc_T=dc_T)
    return dX, (dh0, dc0), grads


def recurrent_forward(cell, X, state0, params, **kw):
    """Run one recurrent layer (RNN, GRU or LSTM) over a sequence.

    Taught in chapter 8, Bidirectional and deep RNNs (the cells in chapters 2,
    6 and 7).

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    X : ndarray of shape (T, N, D)
        Inputs, time-major.
    state0 : None, ndarray of shape (N, H), or pair of them
        Initial state: ``h0`` for ``"rnn"``/``"gru"``, ``(h0, c0)`` for
        ``"lstm"`` (either entry may be None); None means zeros.
    params : dict of str to ndarray
        The cell's parameters, keys :func:`param_names` (extra keys are ignored).
    **kw
        ``reset_after`` for ``"gru"``; when omitted it is True exactly if
        ``params`` holds ``b_hn`` (parameters made with ``reset_after=True``).
        ``activation`` (``"tanh"`` or ``"relu"``) for ``"rnn"``.

    Returns
    -------
    H : ndarray of shape (T, N, H)
        Every hidden state (read-only: it shares memory with the cache).
    state_T : ndarray of shape (N, H), or pair of them
        Final state (a copy): ``H[-1]`` for ``"rnn"``/``"gru"``, ``(h_T, c_T)``
        for ``"lstm"``.
    cache : RecurrentCache
        Opaque; pass it to :func:`recurrent_backward`.
    """
    guard("recurrent_forward")
    _check_cell(cell)
    _check_options(cell, kw, _RUN_OPTIONS, "recurrent_forward")
    return _forward(cell, X, state0, params, kw)


def recurrent_backward(cell, dH, cache, dstate_T=None):
    """Backpropagation through time for :func:`recurrent_forward`.

    Taught in chapter 8, Bidirectional and deep RNNs (BPTT in chapter 4).

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
        The cell the forward pass ran.
    dH : ndarray of shape (T, N, H)
        Gradient of the loss with respect to every hidden state.
    cache : RecurrentCache
        From :func:`recurrent_forward`.
    dstate_T : None, ndarray of shape (N, H), or pair of them
        Extra gradient on the final state (``dh_T``, or ``(dh_T, dc_T)`` for
        ``"lstm"``, either entry may be None), added to what flows back from
        ``dH``; None means none.

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    dstate0 : ndarray of shape (N, H), or pair of them
        Gradient on the initial state, ``dh0`` or ``(dh0, dc0)``.
    grads : dict of str to ndarray
        Keyed and shaped like the cell's parameters.
    """
    guard("recurrent_backward")
    _check_cell(cell)
    if not isinstance(cache, RecurrentCache):
        raise TypeError(
            f"cache must be the RecurrentCache returned by recurrent_forward, got "
            f"{type(cache).__name__}"
        )
    if cache.cell != cell:
        raise ValueError(
            f"recurrent_backward: cell={cell!r} but the cache comes from a {cache.cell!r} "
            "forward pass"
        )
    return _backward(dH, cache, dstate_T)
