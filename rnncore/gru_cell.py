"""One step of a gated recurrent unit (GRU), forward and backward.

Written to be read beside chapter 6: one equation a line. The sequence version
(``rnncore.gru``) is tuned for speed and is tested against this one.

Letters in shapes: N batch size, D input features, H hidden units.

The book's convention (Cho et al. 2014, as in d2l)::

    z  = σ(x W_xz + h_prev W_hz + b_z)              update gate
    r  = σ(x W_xr + h_prev W_hr + b_r)              reset gate
    h̃  = tanh(x W_xh + (r ⊙ h_prev) W_hh + b_h)     candidate
    h  = z ⊙ h_prev + (1 − z) ⊙ h̃

``reset_after=True`` applies the reset gate *after* the recurrent matrix
product, as PyTorch and cuDNN do; it needs one more bias, ``b_hn``::

    h̃  = tanh(x W_xh + b_h + r ⊙ (h_prev W_hh + b_hn))

Andrew Ng's notation (deeplearning.ai) writes the same cell with
Γu = 1 − z (his update gate keeps the *candidate*), Γr = r and c̃ = h̃:
``c = Γu ⊙ c̃ + (1 − Γu) ⊙ c_prev``.

``torch.nn.GRU`` (and ``GRUCell``) is the ``reset_after=True`` cell. Its
weights map to ours as ``W_xr = W_ir.T``, ``W_xz = W_iz.T``, ``W_xh = W_in.T``,
``W_hr = W_hr.T``, ``W_hz = W_hz.T``, ``W_hh = W_hn.T`` (torch stacks them
in the gate order r, z, n in ``weight_ih``/``weight_hh``), and its biases as
``b_r = b_ir + b_hr``, ``b_z = b_iz + b_hz``, ``b_h = b_in``, ``b_hn = b_hn``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._activations import sigmoid
from ._guard import guard
from ._validate import Sizes, check_array, check_params

__all__ = ["gru_cell_forward", "gru_cell_backward"]

PARAM_SHAPES = {
    "W_xz": ("D", "H"), "W_hz": ("H", "H"), "b_z": ("H",),  # update gate
    "W_xr": ("D", "H"), "W_hr": ("H", "H"), "b_r": ("H",),  # reset gate
    "W_xh": ("D", "H"), "W_hh": ("H", "H"), "b_h": ("H",),  # candidate
}  # fmt: skip
RESET_AFTER_SHAPES = {**PARAM_SHAPES, "b_hn": ("H",)}


class GRUCellCache(NamedTuple):
    """What :func:`gru_cell_backward` needs from the forward pass."""

    x: np.ndarray  # (N, D) input
    h_prev: np.ndarray  # (N, H) previous hidden state
    z: np.ndarray  # (N, H) update gate
    r: np.ndarray  # (N, H) reset gate
    h_tilde: np.ndarray  # (N, H) candidate state
    n: np.ndarray | None  # (N, H) h_prev W_hh + b_hn (reset_after only), else None
    params: dict  # the weights used (the caller's arrays, not copies)
    reset_after: bool


def gru_cell_forward(x, h_prev, params, reset_after=False):
    """One step of a GRU.

    Taught in chapter 6, Gated recurrent units. See the module docstring for
    the equations, Andrew Ng's notation and the mapping to ``torch.nn.GRU``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
        Inputs at this time step.
    h_prev : ndarray of shape (N, H)
        Hidden state from the previous step.
    params : dict
        ``W_xz, W_xr, W_xh`` of shape (D, H); ``W_hz, W_hr, W_hh`` of shape
        (H, H); ``b_z, b_r, b_h`` of shape (H,); with ``reset_after`` also
        ``b_hn`` of shape (H,).
    reset_after : bool
        False: the book's cell, reset gate applied to ``h_prev`` before
        ``W_hh``. True: PyTorch's/cuDNN's cell, reset gate applied after it.

    Returns
    -------
    h : ndarray of shape (N, H)
        The new hidden state.
    cache : GRUCellCache
        Opaque; pass it to :func:`gru_cell_backward`.
    """
    guard("gru_cell_forward")
    where = "gru_cell_forward"
    if not isinstance(reset_after, (bool, np.bool_)):
        raise TypeError(f"reset_after must be True or False, got {reset_after!r}")
    reset_after = bool(reset_after)
    sizes = Sizes()
    check_array("x", x, ("N", "D"), sizes, where=where)
    check_array("h_prev", h_prev, ("N", "H"), sizes, where=where)
    shapes = RESET_AFTER_SHAPES if reset_after else PARAM_SHAPES
    check_params("params", params, shapes, sizes, where=where)
    p = {key: params[key] for key in shapes}  # a new dict; the arrays are not copied

    z = sigmoid(x @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])  # (N, H)
    r = sigmoid(x @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])  # (N, H)
    if reset_after:
        n = h_prev @ p["W_hh"] + p["b_hn"]  # (N, H) recurrent part, before the reset
        h_tilde = np.tanh(x @ p["W_xh"] + p["b_h"] + r * n)  # (N, H)
    else:
        n = None
        h_tilde = np.tanh(x @ p["W_xh"] + (r * h_prev) @ p["W_hh"] + p["b_h"])  # (N, H)
    h = z * h_prev + (1 - z) * h_tilde  # (N, H)

    return h, GRUCellCache(x, h_prev, z, r, h_tilde, n, p, reset_after)


def gru_cell_backward(dh, cache):
    """Backward pass of one GRU step.

    Taught in chapter 6, Gated recurrent units.

    Parameters
    ----------
    dh : ndarray of shape (N, H)
        Gradient of the loss with respect to this step's output ``h``.
    cache : GRUCellCache
        From :func:`gru_cell_forward`.

    Returns
    -------
    dx : ndarray of shape (N, D)
        Gradient with respect to ``x``.
    dh_prev : ndarray of shape (N, H)
        Gradient with respect to ``h_prev``.
    grads : dict
        One gradient per parameter, with the parameter's shape: the nine
        weights and biases, plus ``b_hn`` when the forward pass used
        ``reset_after=True``.
    """
    guard("gru_cell_backward")
    _check_dh(dh, cache)
    x, h_prev, z, r, h_tilde, n, p, reset_after = cache

    # through the interpolation h = z ⊙ h_prev + (1 − z) ⊙ h̃
    dh_prev = dh * z  # (N, H) the direct path: z copies h_prev forward
    dh_tilde = dh * (1 - z)  # (N, H)
    dz = dh * (h_prev - h_tilde)  # (N, H)

    # through tanh: 1 − h̃²
    da_h = dh_tilde * (1 - h_tilde**2)  # (N, H)

    # through the candidate's affine map, where the reset gate meets h_prev
    if reset_after:
        # a_h = x W_xh + b_h + r ⊙ n,  n = h_prev W_hh + b_hn
        dr = da_h * n  # (N, H)
        dn = da_h * r  # (N, H)
        dW_hh = h_prev.T @ dn  # (H, H)
        db_hn = dn.sum(axis=0)  # (H,)
        dh_prev = dh_prev + dn @ p["W_hh"].T  # (N, H)
    else:
        # a_h = x W_xh + (r ⊙ h_prev) W_hh + b_h
        d_reset_h = da_h @ p["W_hh"].T  # (N, H) gradient of r ⊙ h_prev
        dW_hh = (r * h_prev).T @ da_h  # (H, H)
        dr = d_reset_h * h_prev  # (N, H)
        dh_prev = dh_prev + d_reset_h * r  # (N, H)

    # through the gates' sigmoids: σ' = σ (1 − σ)
    da_z = dz * z * (1 - z)  # (N, H)
    da_r = dr * r * (1 - r)  # (N, H)

    # through the input and recurrent matrices of all three pre-activations
    dx = da_z @ p["W_xz"].T + da_r @ p["W_xr"].T + da_h @ p["W_xh"].T  # (N, D)
    dh_prev = dh_prev + da_z @ p["W_hz"].T + da_r @ p["W_hr"].T  # (N, H)

    grads = {
        "W_xz": x.T @ da_z, "W_hz": h_prev.T @ da_z, "b_z": da_z.sum(axis=0),
        "W_xr": x.T @ da_r, "W_hr": h_prev.T @ da_r, "b_r": da_r.sum(axis=0),
        "W_xh": x.T @ da_h, "W_hh": dW_hh, "b_h": da_h.sum(axis=0),
    }  # fmt: skip
    if reset_after:
        grads["b_hn"] = db_hn
    return dx, dh_prev, grads


def _check_dh(dh, cache) -> None:
    if not isinstance(cache, GRUCellCache):
        raise TypeError(
            f"cache must be the GRUCellCache returned by gru_cell_forward, got "
            f"{type(cache).__name__}; pass the second value gru_cell_forward returned"
        )
    sizes = Sizes()
    sizes.bind("N", cache.z.shape[0], "the forward pass")
    sizes.bind("H", cache.z.shape[1], "the forward pass")
    check_array("dh", dh, ("N", "H"), sizes, where="gru_cell_backward")
