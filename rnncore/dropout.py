"""Dropout for recurrent networks: a fresh mask per step, or one mask per sequence.

Taught in chapter 10, Training RNNs in practice. Inverted dropout zeroes each
unit with probability ``p`` during training and scales the survivors by
``1 / (1 - p)``, so that nothing changes at test time::

    out = X * mask,   mask = Bernoulli(1 - p) / (1 - p)

* ``mode="standard"``: a new mask for every time step and sequence, applied
  to the non-recurrent connections only (the inputs of each layer and the
  output layer), as Zaremba, Sutskever & Vinyals (2014) do. Dropping the
  recurrent state with a fresh mask at every step would add noise T times
  along the path that carries memory.
* ``mode="variational"``: one mask per sequence, the same at every time step
  (Gal & Ghahramani 2016), so a dropped unit stays dropped for the whole
  sequence. This form may also be applied to the recurrent state:
  :func:`variational_rnn_forward` runs a vanilla RNN whose inputs and
  previous states are multiplied by fixed (N, D) and (N, H) masks
  (:func:`dropout_mask`) at every step.

Letters in shapes: T time steps, N batch size, D features.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_params, check_rng
from .rnn_cell import ACTIVATIONS, PARAM_SHAPES, rnn_cell_backward, rnn_cell_forward

__all__ = [
    "dropout_forward",
    "dropout_backward",
    "dropout_mask",
    "variational_rnn_forward",
    "variational_rnn_backward",
    "DROPOUT_MODES",
]

DROPOUT_MODES = ("standard", "variational")


class DropoutCache(NamedTuple):
    """What :func:`dropout_backward` needs from :func:`dropout_forward`."""

    mask: np.ndarray | None  # (T, N, D) or (1, N, D) already scaled by 1/(1-p); None: identity
    shape: tuple  # (T, N, D)


def _check_p(p, where):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)):
        raise TypeError(f"{where}: p must be a number in [0, 1), got {type(p).__name__}")
    if not 0 <= p < 1:
        raise ValueError(f"{where}: p must lie in [0, 1) (the probability of dropping), got {p}")


def _mask(shape, p, rng, dtype):
    keep = rng.random(shape) >= p  # each unit survives with probability 1 - p
    return keep.astype(dtype) / dtype.type(1 - p)


def dropout_mask(shape, p, rng, dtype=np.float64):
    """An inverted-dropout mask: 0 with probability ``p``, else ``1 / (1 - p)``.

    Taught in chapter 10, Training RNNs in practice: draw one of shape (N, H)
    per batch and multiply ``h_prev`` by it at every step for variational
    dropout on the recurrent connections (Gal & Ghahramani 2016).

    Parameters
    ----------
    shape : tuple of int
        e.g. (N, H).
    p : float
        Drop probability in [0, 1).
    rng : numpy.random.Generator
    dtype : floating dtype

    Returns
    -------
    mask : ndarray of the given shape
        Its expectation is 1 in every entry.
    """
    guard("dropout_mask")
    _check_p(p, "dropout_mask")
    check_rng(rng, "dropout_mask")
    if not (isinstance(shape, tuple) and all(isinstance(s, (int, np.integer)) for s in shape)):
        raise TypeError(f"dropout_mask: shape must be a tuple of ints, got {shape!r}")
    return _mask(shape, p, rng, np.dtype(dtype))


def dropout_forward(X, p, rng, mode="standard", train=True):
    """Inverted dropout on a sequence of activations, standard or variational.

    Taught in chapter 10, Training RNNs in practice.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Activations, time-major (the inputs of a layer, or its outputs before
        the output layer).
    p : float
        Drop probability in [0, 1).
    rng : numpy.random.Generator
        Draws the mask (only when training with ``p > 0``).
    mode : {"standard", "variational"}
        A new mask per step (Zaremba et al. 2014), or one (N, D) mask shared
        by every step of each sequence (Gal & Ghahramani 2016).
    train : bool
        False: the identity (the scaling during training makes this right).

    Returns
    -------
    out : ndarray of shape (T, N, D)
    cache : DropoutCache
        Opaque; pass it to :func:`dropout_backward`.
    """
    guard("dropout_forward")
    where = "dropout_forward"
    check_array("X", X, ("T", "N", "D"), where=where)
    _check_p(p, where)
    check_choice("mode", mode, DROPOUT_MODES)
    if not isinstance(train, bool):
        raise TypeError(f"{where}: train must be True or False, got {train!r}")
    if not train or p == 0:
        return X.copy(), DropoutCache(None, X.shape)
    check_rng(rng, where)
    T, N, D = X.shape
    shape = (T, N, D) if mode == "standard" else (1, N, D)  # variational: broadcast over time
    mask = _mask(shape, p, rng, X.dtype)
    return X * mask, DropoutCache(mask, X.shape)


def dropout_backward(dout, cache):
    """Backward pass of :func:`dropout_forward`: the same mask, applied to the gradient.

    A dropped unit passed nothing forward and receives nothing back; a kept
    one passes its gradient scaled by ``1 / (1 - p)``. Taught in chapter 10,
    Training RNNs in practice.

    Parameters
    ----------
    dout : ndarray of shape (T, N, D)
    cache : DropoutCache
        From :func:`dropout_forward`.

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    """
    guard("dropout_backward")
    if not isinstance(cache, DropoutCache):
        raise TypeError(
            "cache must be the DropoutCache returned by dropout_forward, got "
            f"{type(cache).__name__}"
        )
    T, N, D = cache.shape
    check_array("dout", dout, ("T", "N", "D"), Sizes(T=T, N=N, D=D), where="dropout_backward")
    return dout.copy() if cache.mask is None else dout * cache.mask


class VariationalRNNCache(NamedTuple):
    """What :func:`variational_rnn_backward` needs from :func:`variational_rnn_forward`."""

    steps: list  # one RNNCellCache per step
    mask_x: np.ndarray  # (N, D)
    mask_h: np.ndarray  # (N, H)


def variational_rnn_forward(X, h0, params, mask_x, mask_h, activation="tanh"):
    """A vanilla RNN with variational dropout on its inputs and on its recurrent state.

    ``h_t = tanh((x_t ⊙ m_x) W_xh + (h_{t-1} ⊙ m_h) W_hh + b_h)`` with the same
    masks at every step (Gal & Ghahramani 2016); the returned states are the
    undropped ``h_t``. Written as a loop of :func:`rnncore.rnn_cell_forward`,
    to be read beside chapter 10, Training RNNs in practice. Masks of ones
    give :func:`rnncore.rnn_forward`.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
    h0 : ndarray of shape (N, H) or None
        None means zeros.
    params : dict
        ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,).
    mask_x : ndarray of shape (N, D)
        Input mask, e.g. ``dropout_mask((N, D), p, rng)``.
    mask_h : ndarray of shape (N, H)
        Recurrent mask, applied to ``h_{t-1}`` before ``W_hh``.
    activation : {"tanh", "relu"}

    Returns
    -------
    H : ndarray of shape (T, N, H)
    cache : VariationalRNNCache
        Opaque; pass it to :func:`variational_rnn_backward`.
    """
    guard("variational_rnn_forward")
    where = "variational_rnn_forward"
    check_choice("activation", activation, ACTIVATIONS)
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where=where)
    check_params("params", params, PARAM_SHAPES, sizes, where=where)
    check_array("mask_x", mask_x, ("N", "D"), sizes, where=where)
    check_array("mask_h", mask_h, ("N", "H"), sizes, where=where)
    if h0 is not None:
        check_array("h0", h0, ("N", "H"), sizes, where=where)
    h = np.zeros_like(mask_h, dtype=X.dtype) if h0 is None else h0
    states, steps = [], []
    for x in X:
        # the same units of x and of h_prev are dropped at every step of a sequence
        h, cache = rnn_cell_forward(x * mask_x, h * mask_h, params, activation=activation)
        states.append(h)
        steps.append(cache)
    return np.stack(states), VariationalRNNCache(steps, mask_x, mask_h)


def variational_rnn_backward(dH, cache):
    """Backpropagation through time for :func:`variational_rnn_forward`.

    Each step's input and state gradients pass back through the same masks
    that scaled them going forward. Taught in chapter 10, Training RNNs in
    practice.

    Parameters
    ----------
    dH : ndarray of shape (T, N, H)
    cache : VariationalRNNCache

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    dh0 : ndarray of shape (N, H)
    grads : dict
        ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,), summed over time.
    """
    guard("variational_rnn_backward")
    if not isinstance(cache, VariationalRNNCache):
        raise TypeError(
            "cache must be the VariationalRNNCache returned by variational_rnn_forward, got "
            f"{type(cache).__name__}"
        )
    (N, D), H = cache.mask_x.shape, cache.mask_h.shape[1]
    sizes = Sizes(T=len(cache.steps), N=N, H=H)
    check_array("dH", dH, ("T", "N", "H"), sizes, where="variational_rnn_backward")
    dX = np.empty(dH.shape[:2] + (D,), dtype=dH.dtype)
    dh_next = np.zeros((N, H), dtype=dH.dtype)
    grads = None
    for t in range(len(cache.steps) - 1, -1, -1):
        dx, dh_prev, step = rnn_cell_backward(dH[t] + dh_next, cache.steps[t])
        dX[t] = dx * cache.mask_x  # through the input mask
        dh_next = dh_prev * cache.mask_h  # through the recurrent mask, to step t-1
        grads = step if grads is None else {k: grads[k] + step[k] for k in grads}  # accumulate
    return dX, dh_next, grads
