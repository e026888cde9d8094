"""Typical wrong GRU cells and GRU backward passes (exercise 6; chapter 6, Gated recurrent units).

The book's convention: ``h = z ⊙ h_prev + (1 − z) ⊙ h̃`` with the reset gate
applied to ``h_prev`` before ``W_hh``.
"""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _sigmoid(a):
    guard("_sigmoid")
    return 1 / (1 + np.exp(-a))


def _gru(
    x, h_prev, p, gate=_sigmoid, cand=np.tanh, ng=False, swap=False, reset="before", update=True
):
    guard("_gru")
    z = gate(x @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])  # (N, H)
    r = gate(x @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])  # (N, H)
    if swap:
        z, r = r, z
    if reset == "before":
        h_tilde = cand(x @ p["W_xh"] + (r * h_prev) @ p["W_hh"] + p["b_h"])  # (N, H)
    elif reset == "after":
        h_tilde = cand(x @ p["W_xh"] + r * (h_prev @ p["W_hh"]) + p["b_h"])
    else:
        h_tilde = cand(x @ p["W_xh"] + h_prev @ p["W_hh"] + p["b_h"])
    if not update:
        return h_tilde, None
    h = (1 - z) * h_prev + z * h_tilde if ng else z * h_prev + (1 - z) * h_tilde
    return h, {"x": x, "h_prev": h_prev, "z": z, "r": r, "h_tilde": h_tilde, "p": p}


def solution_gru_cell_forward(x, h_prev, params):
    guard("solution_gru_cell_forward")
    return _gru(x, h_prev, params)


GRU_CELL_FORWARD = (
    Mistake(
        "Andrew Ng's update-gate convention, h = (1 − z) ⊙ h_prev + z ⊙ h̃; the book's is "
        "h = z ⊙ h_prev + (1 − z) ⊙ h̃",
        6,
        lambda x, h, p: _gru(x, h, p, ng=True),
    ),
    Mistake(
        "the reset gate applied after the matrix product, r ⊙ (h_prev @ W_hh); the book "
        "applies it before: (r ⊙ h_prev) @ W_hh",
        6,
        lambda x, h, p: _gru(x, h, p, reset="after"),
    ),
    Mistake(
        "the reset and update gates mixed up (z used where r belongs and r where z belongs)",
        6,
        lambda x, h, p: _gru(x, h, p, swap=True),
    ),
    Mistake(
        "tanh used for the gates; gates use the sigmoid, so they lie in (0, 1)",
        6,
        lambda x, h, p: _gru(x, h, p, gate=np.tanh),
    ),
    Mistake(
        "sigmoid used for the candidate h̃; the candidate uses tanh",
        6,
        lambda x, h, p: _gru(x, h, p, cand=_sigmoid),
    ),
    Mistake(
        "the reset gate left out of the candidate", 6, lambda x, h, p: _gru(x, h, p, reset="none")
    ),
    Mistake("the update gate left out (h = h̃)", 6, lambda x, h, p: _gru(x, h, p, update=False)),
)


def _gru_back(
    dh,
    c,
    dz_sign=1,
    direct=True,
    dsig=lambda s: s * (1 - s),
    dtanh=lambda t: 1 - t**2,
    dw_hh_reset=True,
    reset_path=True,
    average=False,
):
    guard("_gru_back")
    x, h_prev, z, r, h_tilde, p = (c[k] for k in ("x", "h_prev", "z", "r", "h_tilde", "p"))
    dh_prev = dh * z if direct else 0 * dh  # (N, H)
    dz = dz_sign * dh * (h_prev - h_tilde)  # (N, H)
    da_h = dh * (1 - z) * dtanh(h_tilde)  # (N, H)
    d_reset_h = da_h @ p["W_hh"].T  # (N, H)
    dW_hh = ((r * h_prev) if dw_hh_reset else h_prev).T @ da_h  # (H, H)
    dr = d_reset_h * h_prev
    if reset_path:
        dh_prev = dh_prev + d_reset_h * r
    da_z, da_r = dz * dsig(z), dr * dsig(r)
    dx = da_z @ p["W_xz"].T + da_r @ p["W_xr"].T + da_h @ p["W_xh"].T  # (N, D)
    dh_prev = dh_prev + da_z @ p["W_hz"].T + da_r @ p["W_hr"].T  # (N, H)
    s = 1 / dh.shape[0] if average else 1
    grads = {
        "W_xz": x.T @ da_z,
        "W_hz": h_prev.T @ da_z,
        "b_z": da_z.sum(0) * s,
        "W_xr": x.T @ da_r,
        "W_hr": h_prev.T @ da_r,
        "b_r": da_r.sum(0) * s,
        "W_xh": x.T @ da_h,
        "W_hh": dW_hh,
        "b_h": da_h.sum(0) * s,
    }
    return dx, dh_prev, grads


def solution_gru_cell_backward(dh, cache):
    guard("solution_gru_cell_backward")
    return _gru_back(dh, cache)


def _pair(**kw):
    guard("_pair")
    return (solution_gru_cell_forward, lambda dh, cache: _gru_back(dh, cache, **kw))


GRU_CELL_BACKWARD = (
    Mistake(
        "dz with the wrong sign: h = z ⊙ h_prev + (1 − z) ⊙ h̃ gives dz = dh ⊙ (h_prev − h̃)",
        6,
        _pair(dz_sign=-1),
    ),
    Mistake(
        "the direct path dh ⊙ z left out of dh_prev (h_prev reaches h through z ⊙ h_prev too)",
        6,
        _pair(direct=False),
    ),
    Mistake(
        "σ' written as σ; the derivative of the sigmoid is σ (1 − σ)", 6, _pair(dsig=lambda s: s)
    ),
    Mistake("1 − h̃ used for the derivative of tanh; it is 1 − h̃²", 6, _pair(dtanh=lambda t: 1 - t)),
    Mistake(
        "dW_hh computed from h_prev; the candidate multiplies W_hh by r ⊙ h_prev",
        6,
        _pair(dw_hh_reset=False),
    ),
    Mistake(
        "the path from h_prev through the reset product r ⊙ h_prev left out of dh_prev",
        6,
        _pair(reset_path=False),
    ),
    Mistake("bias gradients averaged over the batch instead of summed", 6, _pair(average=True)),
)
