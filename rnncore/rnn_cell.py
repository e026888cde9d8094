"""One step of a vanilla (Elman) recurrent network, forward and backward.

The cell is written to be read beside chapter 2: one equation a line, as in
the book. The sequence version (``rnncore.rnn``) is tuned for speed and is
tested against this one.

Letters in shapes: N batch size, D input features, H hidden units.

    h = tanh(x W_xh + h_prev W_hh + b_h)

``activation="relu"`` gives ``h = max(0, x W_xh + h_prev W_hh + b_h)``, the
cell of Le, Jaitly & Hinton's (2015) identity-initialised RNN (chapter 10).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_params

__all__ = ["rnn_cell_forward", "rnn_cell_backward"]

PARAM_SHAPES = {"W_xh": ("D", "H"), "W_hh": ("H", "H"), "b_h": ("H",)}
ACTIVATIONS = ("tanh", "relu")


class RNNCellCache(NamedTuple):
    """What :func:`rnn_cell_backward` needs from the forward pass."""

    x: np.ndarray  # (N, D) input
    h_prev: np.ndarray  # (N, H) previous hidden state
    h: np.ndarray  # (N, H) new hidden state (the activation's output, reused for its slope)
    W_xh: np.ndarray  # (D, H)
    W_hh: np.ndarray  # (H, H)
    activation: str = "tanh"


def rnn_cell_forward(x, h_prev, params, activation="tanh"):
    """One step of a vanilla RNN: ``h = tanh(x W_xh + h_prev W_hh + b_h)``.

    Taught in chapter 2, The RNN cell (the ReLU variant in chapter 10).

    Parameters
    ----------
    x : ndarray of shape (N, D)
        Inputs at this time step, one row per sequence in the batch.
    h_prev : ndarray of shape (N, H)
        Hidden state from the previous step.
    params : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,).
    activation : {"tanh", "relu"}
        The nonlinearity; ``"relu"`` is ``max(0, a)``.

    Returns
    -------
    h : ndarray of shape (N, H)
        The new hidden state.
    cache : RNNCellCache
        Opaque; pass it to :func:`rnn_cell_backward`.
    """
    guard("rnn_cell_forward")
    where = "rnn_cell_forward"
    check_choice("activation", activation, ACTIVATIONS)
    sizes = Sizes()
    check_array("x", x, ("N", "D"), sizes, where=where)
    check_array("h_prev", h_prev, ("N", "H"), sizes, where=where)
    check_params("params", params, PARAM_SHAPES, sizes, where=where)
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]

    a = x @ W_xh + h_prev @ W_hh + b_h  # (N, H) pre-activation
    h = np.tanh(a) if activation == "tanh" else np.maximum(a, 0)  # (N, H)

    return h, RNNCellCache(x, h_prev, h, W_xh, W_hh, activation)


def rnn_cell_backward(dh, cache):
    """Backward pass of one vanilla RNN step.

    Taught in chapter 4, Backpropagation through time (the single step is
    derived in chapter 2).

    Parameters
    ----------
    dh : ndarray of shape (N, H)
        Gradient of the loss with respect to this step's output ``h`` (from the
        output layer and from the next time step, already added together).
    cache : RNNCellCache
        From :func:`rnn_cell_forward`.

    Returns
    -------
    dx : ndarray of shape (N, D)
        Gradient with respect to ``x``.
    dh_prev : ndarray of shape (N, H)
        Gradient with respect to ``h_prev``, to be passed one step back in time.
    grads : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,).
    """
    guard("rnn_cell_backward")
    _check_dh(dh, cache)
    x, h_prev, h, W_xh, W_hh, activation = cache

    if activation == "tanh":
        # through tanh: d tanh(a) / da = 1 - tanh(a)^2 = 1 - h^2
        da = dh * (1 - h**2)  # (N, H)
    else:
        # through relu: slope 1 where a > 0 (exactly where h > 0), else 0
        da = dh * (h > 0)  # (N, H)

    # through the affine map a = x W_xh + h_prev W_hh + b_h
    dx = da @ W_xh.T  # (N, D)
    dh_prev = da @ W_hh.T  # (N, H)
    dW_xh = x.T @ da  # (D, H)
    dW_hh = h_prev.T @ da  # (H, H)
    db_h = da.sum(axis=0)  # (H,) the bias is shared by every row of the batch

    return dx, dh_prev, {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h}


def _check_dh(dh, cache) -> None:
    where = "rnn_cell_backward"
    if not isinstance(cache, RNNCellCache):
        raise TypeError(
            f"cache must be the RNNCellCache returned by rnn_cell_forward, got "
            f"{type(cache).__name__}; pass the second value rnn_cell_forward returned"
        )
    sizes = Sizes()
    sizes.bind("N", cache.h.shape[0], "the forward pass")
    sizes.bind("H", cache.h.shape[1], "the forward pass")
    check_array("dh", dh, ("N", "H"), sizes, where=where)
