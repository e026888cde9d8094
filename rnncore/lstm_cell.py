"""One step of a long short-term memory (LSTM) cell, forward and backward.

Written to be read beside chapter 7: one equation a line. The sequence version
(``rnncore.lstm``) is tuned for speed and is tested against this one.

Letters in shapes: N batch size, D input features, H hidden units.

    i  = σ(x W_xi + h_prev W_hi + b_i)          input gate
    f  = σ(x W_xf + h_prev W_hf + b_f)          forget gate
    o  = σ(x W_xo + h_prev W_ho + b_o)          output gate
    c̃  = tanh(x W_xc + h_prev W_hc + b_c)       candidate cell
    c  = f ⊙ c_prev + i ⊙ c̃
    h  = o ⊙ tanh(c)

This is ``torch.nn.LSTMCell``: torch stacks the gates in the order i, f, g, o
(g is our c̃), so ``W_xi = weight_ih[0:H].T``, ``W_xf = weight_ih[H:2H].T``,
``W_xc = weight_ih[2H:3H].T``, ``W_xo = weight_ih[3H:4H].T``, the same for
``weight_hh`` and ``W_h*``, and each bias is ``bias_ih[...] + bias_hh[...]``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._activations import sigmoid
from ._guard import guard
from ._validate import Sizes, check_array, check_params

__all__ = ["lstm_cell_forward", "lstm_cell_backward"]

GATES = ("i", "f", "o", "c")
PARAM_SHAPES = {
    "W_xi": ("D", "H"), "W_hi": ("H", "H"), "b_i": ("H",),  # input gate
    "W_xf": ("D", "H"), "W_hf": ("H", "H"), "b_f": ("H",),  # forget gate
    "W_xo": ("D", "H"), "W_ho": ("H", "H"), "b_o": ("H",),  # output gate
    "W_xc": ("D", "H"), "W_hc": ("H", "H"), "b_c": ("H",),  # candidate cell
}  # fmt: skip


class LSTMCellCache(NamedTuple):
    """What :func:`lstm_cell_backward` needs from the forward pass."""

    x: np.ndarray  # (N, D) input
    h_prev: np.ndarray  # (N, H) previous hidden state
    c_prev: np.ndarray  # (N, H) previous cell state
    i: np.ndarray  # (N, H) input gate
    f: np.ndarray  # (N, H) forget gate
    o: np.ndarray  # (N, H) output gate
    c_tilde: np.ndarray  # (N, H) candidate cell
    tanh_c: np.ndarray  # (N, H) tanh of the new cell state
    params: dict  # the weights used (the caller's arrays, not copies)


def lstm_cell_forward(x, h_prev, c_prev, params):
    """One step of an LSTM.

    Taught in chapter 7, Long short-term memory. See the module docstring for
    the equations and the mapping to ``torch.nn.LSTMCell``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
        Inputs at this time step.
    h_prev : ndarray of shape (N, H)
        Hidden state from the previous step.
    c_prev : ndarray of shape (N, H)
        Cell state from the previous step.
    params : dict
        For each gate g in i, f, o, c: ``W_xg`` of shape (D, H), ``W_hg`` of
        shape (H, H), ``b_g`` of shape (H,).

    Returns
    -------
    h : ndarray of shape (N, H)
        The new hidden state.
    c : ndarray of shape (N, H)
        The new cell state.
    cache : LSTMCellCache
        Opaque; pass it to :func:`lstm_cell_backward`.
    """
    guard("lstm_cell_forward")
    where = "lstm_cell_forward"
    sizes = Sizes()
    check_array("x", x, ("N", "D"), sizes, where=where)
    check_array("h_prev", h_prev, ("N", "H"), sizes, where=where)
    check_array("c_prev", c_prev, ("N", "H"), sizes, where=where)
    check_params("params", params, PARAM_SHAPES, sizes, where=where)
    p = {key: params[key] for key in PARAM_SHAPES}  # a new dict; the arrays are not copied

    i = sigmoid(x @ p["W_xi"] + h_prev @ p["W_hi"] + p["b_i"])  # (N, H)
    f = sigmoid(x @ p["W_xf"] + h_prev @ p["W_hf"] + p["b_f"])  # (N, H)
    o = sigmoid(x @ p["W_xo"] + h_prev @ p["W_ho"] + p["b_o"])  # (N, H)
    c_tilde = np.tanh(x @ p["W_xc"] + h_prev @ p["W_hc"] + p["b_c"])  # (N, H)
    c = f * c_prev + i * c_tilde  # (N, H)
    tanh_c = np.tanh(c)  # (N, H)
    h = o * tanh_c  # (N, H)

    return h, c, LSTMCellCache(x, h_prev, c_prev, i, f, o, c_tilde, tanh_c, p)


def lstm_cell_backward(dh, dc, cache):
    """Backward pass of one LSTM step.

    Taught in chapter 7, Long short-term memory.

    Parameters
    ----------
    dh : ndarray of shape (N, H)
        Gradient of the loss with respect to this step's output ``h``.
    dc : ndarray of shape (N, H) or None
        Gradient with respect to this step's cell state ``c`` arriving from the
        next time step; None means zeros (the last step of a sequence).
    cache : LSTMCellCache
        From :func:`lstm_cell_forward`.

    Returns
    -------
    dx : ndarray of shape (N, D)
        Gradient with respect to ``x``.
    dh_prev : ndarray of shape (N, H)
        Gradient with respect to ``h_prev``.
    dc_prev : ndarray of shape (N, H)
        Gradient with respect to ``c_prev``.
    grads : dict
        One gradient per parameter (``W_xi, W_hi, b_i, ...``), with the
        parameter's shape.
    """
    guard("lstm_cell_backward")
    _check_upstream(dh, dc, cache)
    x, h_prev, c_prev, i, f, o, c_tilde, tanh_c, p = cache

    # through h = o ⊙ tanh(c): to the output gate, and through tanh (1 − tanh²) to c
    do = dh * tanh_c  # (N, H)
    dc_from_h = dh * o * (1 - tanh_c**2)  # (N, H)
    # c feeds both h and the next step's cell: add the two gradients
    dc_total = dc_from_h if dc is None else dc_from_h + dc  # (N, H)

    # through c = f ⊙ c_prev + i ⊙ c̃
    dc_prev = dc_total * f  # (N, H) through the forget gate: the cell's highway back in time
    df = dc_total * c_prev  # (N, H)
    di = dc_total * c_tilde  # (N, H)
    dc_tilde = dc_total * i  # (N, H)

    # through the squashing functions: σ' = σ (1 − σ), tanh' = 1 − tanh²
    da = {
        "i": di * i * (1 - i),  # (N, H)
        "f": df * f * (1 - f),  # (N, H)
        "o": do * o * (1 - o),  # (N, H)
        "c": dc_tilde * (1 - c_tilde**2),  # (N, H)
    }

    # through the four affine maps, which all read the same x and h_prev
    dx = sum(da[g] @ p[f"W_x{g}"].T for g in GATES)  # (N, D)
    dh_prev = sum(da[g] @ p[f"W_h{g}"].T for g in GATES)  # (N, H)
    grads = {}
    for g in GATES:
        grads[f"W_x{g}"] = x.T @ da[g]  # (D, H)
        grads[f"W_h{g}"] = h_prev.T @ da[g]  # (H, H)
        grads[f"b_{g}"] = da[g].sum(axis=0)  # (H,)

    return dx, dh_prev, dc_prev, grads


def _check_upstream(dh, dc, cache) -> None:
    where = "lstm_cell_backward"
    if not isinstance(cache, LSTMCellCache):
        raise TypeError(
            f"cache must be the LSTMCellCache returned by lstm_cell_forward, got "
            f"{type(cache).__name__}; pass the third value lstm_cell_forward returned"
        )
    sizes = Sizes()
    sizes.bind("N", cache.i.shape[0], "the forward pass")
    sizes.bind("H", cache.i.shape[1], "the forward pass")
    check_array("dh", dh, ("N", "H"), sizes, where=where)
    if dc is not None:
        check_array("dc", dc, ("N", "H"), sizes, where=where)
