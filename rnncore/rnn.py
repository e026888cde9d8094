"""A vanilla RNN over a whole sequence: forward, and backward through time (tuned).

Taught in chapter 4, Backpropagation through time. ``rnncore.rnn_cell`` holds the
readable one-step version; these functions compute exactly a loop of it (the
tests check that) but are arranged for speed:

* the input projections of all T steps are one GEMM, ``X (T*N, D) @ W_xh``;
* each step does only the recurrent GEMM ``h_prev @ W_hh`` and in-place work
  in preallocated buffers;
* backward runs one GEMM per step (``dA_t @ W_hh.T``) and gets ``dW_xh``,
  ``dW_hh``, ``dX`` and ``db_h`` from one GEMM (or sum) each over all steps.

Letters in shapes: T time steps, N batch size, D input features, H hidden units.
Sequences are time-major: ``X[t]`` is the batch at step t.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._seqkit import (
    check_backward_inputs,
    check_cache,
    common_dtype,
    initial_state,
    read_only,
    stacked_input_grads,
)
from ._validate import Sizes, check_array, check_choice, check_params

__all__ = ["rnn_forward", "rnn_backward"]

_SPECS = {"W_xh": ("D", "H"), "W_hh": ("H", "H"), "b_h": ("H",)}
ACTIVATIONS = ("tanh", "relu")


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward``."""

    X: np.ndarray  # (T, N, D) the inputs, in the computation dtype
    W_xh: np.ndarray  # (D, H)
    W_hh: np.ndarray  # (H, H)
    HS: np.ndarray  # (T+1, N, H) h0 followed by every hidden state
    activation: str = "tanh"


def rnn_forward(X, h0, params, activation="tanh"):
    """Run a vanilla RNN over a sequence, ``h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)``.

    Taught in chapter 4, Backpropagation through time (the cell in chapter 2;
    the ReLU variant of Le, Jaitly & Hinton 2015 in chapter 10).

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major.
    h0 : ndarray of shape (N, H) or None
        Initial hidden state; None means zeros.
    params : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,).
    activation : {"tanh", "relu"}
        The nonlinearity; ``"relu"`` is ``max(0, a)``.

    Returns
    -------
    H : ndarray of shape (T, N, H)
        Every hidden state; the final state is ``H[-1]``. Read-only: it shares
        memory with the cache (copy it before writing into it).
    cache : RNNCache
        For ``rnn_backward``.
    """
    guard("rnn_forward")
    check_choice("activation", activation, ACTIVATIONS)
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where="rnn_forward")
    check_params("params", params, _SPECS, sizes, where="rnn_forward")
    if h0 is not None:
        check_array("h0", h0, ("N", "H"), sizes, where="rnn_forward")
    T, N, D, H = sizes["T"], sizes["N"], sizes["D"], sizes["H"]
    dtype = common_dtype(X, h0, *(params[k] for k in _SPECS))
    X = X.astype(dtype, copy=False)
    W_xh = params["W_xh"].astype(dtype, copy=False)
    W_hh = params["W_hh"].astype(dtype, copy=False)

    HS = np.empty((T + 1, N, H), dtype=dtype)  # h0, h_1, ..., h_T
    HS[0] = initial_state(h0, N, H, dtype)
    # All input projections at once; the loop then adds the recurrent term in place.
    np.matmul(X.reshape(T * N, D), W_xh, out=HS[1:].reshape(T * N, H))  # (T*N, H)
    HS[1:] += params["b_h"].astype(dtype, copy=False)
    recurrent = np.empty((N, H), dtype=dtype)
    squash = np.tanh if activation == "tanh" else _relu
    for t in range(T):
        h = HS[t + 1]  # (N, H) holds x_t W_xh + b_h
        np.matmul(HS[t], W_hh, out=recurrent)  # (N, H)
        h += recurrent
        squash(h, out=h)
    return read_only(HS[1:]), RNNCache(X, W_xh, W_hh, HS, activation)


def _relu(a, out):
    return np.maximum(a, 0, out=out)


def rnn_backward(dH, cache, dh_T=None):
    """Backpropagation through time for ``rnn_forward``.

    Taught in chapter 4, Backpropagation through time: the gradient reaching
    ``h_t`` is the loss's own ``dH[t]`` plus what flows back from step t+1;
    parameter gradients are accumulated over all steps.

    Parameters
    ----------
    dH : ndarray of shape (T, N, H)
        Gradient of the loss with respect to every hidden state. The final state
        is ``H[-1]``, so a loss on it contributes to ``dH[-1]``.
    cache : RNNCache
        From ``rnn_forward``.
    dh_T : ndarray of shape (N, H), optional
        Extra gradient on the final state, added to ``dH[-1]``: for callers that
        pass the final state on (stacked layers, truncated BPTT across chunks).

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    dh0 : ndarray of shape (N, H)
        Gradient with respect to ``h0`` (also when ``h0`` was None).
    grads : dict
        ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,).
    """
    guard("rnn_backward")
    check_cache(cache, RNNCache, "rnn_backward")
    X, W_xh, W_hh, HS, activation = cache
    T, N, H = HS.shape[0] - 1, HS.shape[1], HS.shape[2]
    check_backward_inputs("rnn_backward", dH, T, N, H, dh_T=dh_T)
    dtype = HS.dtype
    dH = dH.astype(dtype, copy=False)

    if activation == "tanh":
        # Through tanh for all steps at once: dA_t = dh_t * (1 - h_t^2); dA starts as 1 - h^2.
        dA = np.square(HS[1:])  # (T, N, H)
        np.subtract(1, dA, out=dA)
    else:
        dA = (HS[1:] > 0).astype(dtype)  # (T, N, H) relu's slope: 1 where h > 0, else 0
    dh_next = np.zeros((N, H), dtype=dtype) if dh_T is None else dh_T.astype(dtype)
    dh = np.empty((N, H), dtype=dtype)
    W_hh_T = W_hh.T
    for t in range(T - 1, -1, -1):
        np.add(dH[t], dh_next, out=dh)  # (N, H) loss at step t + flow from step t+1
        dA_t = dA[t]
        dA_t *= dh
        np.matmul(dA_t, W_hh_T, out=dh_next)  # (N, H) becomes dh for step t-1

    # Accumulate over time: one GEMM each for all steps.
    dA2 = dA.reshape(T * N, H)
    dW_hh = HS[:-1].reshape(T * N, H).T @ dA2  # (H, H)
    dX, dW_xh, db_h = stacked_input_grads(X, dA, W_xh)
    return dX, dh_next, {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h}
