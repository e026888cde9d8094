"""A GRU over a whole sequence: forward, and backward through time (tuned).

Taught in chapter 6, Gated recurrent units. ``rnncore.gru_cell`` holds the
readable one-step version; these functions compute exactly a loop of it (the
tests check that) but are arranged for speed:

* the input projections of all T steps are one matmul call with the gates
  stacked in the order z, r, h (``W_x = [W_xz | W_xr | W_xh]``, (D, 3H));
* each step does only the recurrent products (one for both gates and one for
  the candidate, which needs ``r`` first; one for all three with
  ``reset_after=True``) and evaluates both gates with one ``exp`` (see
  ``rnncore._seqkit``), in preallocated buffers;
* the forward pass keeps the gates gate-major, ``(3, T, N, H)``, so that every
  per-gate operation runs on a contiguous block;
* backward fills a ``(T, N, 3H)`` buffer of pre-activation gradients, runs only
  the recurrent products per step and gets ``dW_x``, ``dW_h``, ``dX`` and the
  biases from one GEMM (or sum) each over all steps. With ``reset_after`` the
  buffer is ``[hn | z | r | h]``, (T, N, 4H), so that the recurrent gradients
  ``[hn | z | r]`` and the input ones ``[z | r | h]`` are both contiguous
  column ranges; the recurrent weights are then kept as ``[W_hh | W_hz | W_hr]``.

Letters in shapes: T time steps, N batch size, D input features, H hidden units.
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
    split_gates,
    stack_gates,
    stacked_input_grads,
)
from ._validate import Sizes, check_array, check_params

__all__ = ["gru_forward", "gru_backward"]

_X_KEYS = ("W_xz", "W_xr", "W_xh")
_H_KEYS = ("W_hz", "W_hr", "W_hh")
_H_KEYS_AFTER = ("W_hh", "W_hz", "W_hr")  # reset_after: hn first (see module docstring)
_B_KEYS = ("b_z", "b_r", "b_h")
_SPECS = {
    **{k: ("D", "H") for k in _X_KEYS},
    **{k: ("H", "H") for k in _H_KEYS},
    **{k: ("H",) for k in _B_KEYS},
}


class GRUCache(NamedTuple):
    """What ``gru_backward`` needs from ``gru_forward``."""

    X: np.ndarray  # (T, N, D) the inputs, in the computation dtype
    W_x: np.ndarray  # (D, 3H) stacked z, r, h
    W_h: np.ndarray  # (H, 3H) stacked z, r, h (reset_after: h, z, r)
    HS: np.ndarray  # (T+1, N, H) h0 followed by every hidden state
    gates: np.ndarray  # (3, T, N, H) z, r and the candidate h̃, after their nonlinearities
    reset_term: np.ndarray  # (T, N, H) r ⊙ h_prev (reset_after: h_prev W_hh + b_hn)
    reset_after: bool


def gru_forward(X, h0, params, reset_after=False):
    """Run a GRU over a sequence.

    Taught in chapter 6, Gated recurrent units. Per step:
    ``z = σ(x W_xz + h_prev W_hz + b_z)``, ``r = σ(x W_xr + h_prev W_hr + b_r)``,
    ``h̃ = tanh(x W_xh + (r ⊙ h_prev) W_hh + b_h)``, ``h = z ⊙ h_prev + (1 − z) ⊙ h̃``.
    With ``reset_after=True`` (PyTorch's and cuDNN's variant)
    ``h̃ = tanh(x W_xh + b_h + r ⊙ (h_prev W_hh + b_hn))``.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major.
    h0 : ndarray of shape (N, H) or None
        Initial hidden state; None means zeros.
    params : dict
        ``W_xz, W_xr, W_xh`` of shape (D, H), ``W_hz, W_hr, W_hh`` of shape
        (H, H), ``b_z, b_r, b_h`` of shape (H,); with ``reset_after`` also
        ``b_hn`` of shape (H,).
    reset_after : bool
        Apply the reset gate after the recurrent product (torch.nn.GRU).

    Returns
    -------
    H : ndarray of shape (T, N, H)
        Every hidden state; the final one is ``H[-1]``. Read-only: it shares
        memory with the cache.
    cache : GRUCache
        For ``gru_backward``.
    """
    guard("gru_forward")
    if not isinstance(reset_after, (bool, np.bool_)):
        raise TypeError(f"reset_after must be True or False, got {reset_after!r}")
    specs = {**_SPECS, "b_hn": ("H",)} if reset_after else _SPECS
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where="gru_forward")
    check_params("params", params, specs, sizes, where="gru_forward")
    if h0 is not None:
        check_array("h0", h0, ("N", "H"), sizes, where="gru_forward")
    T, N, D, H = sizes["T"], sizes["N"], sizes["D"], sizes["H"]
    dtype = common_dtype(X, h0, *(params[k] for k in specs))
    X = X.astype(dtype, copy=False)
    W_x = stack_gates(params, _X_KEYS, dtype)  # (D, 3H) z, r, h
    W_h = stack_gates(params, _H_KEYS_AFTER if reset_after else _H_KEYS, dtype)  # (H, 3H)
    # Gate-major folded copies: -1 on the gates so that one exp gives exp(-a) (see _seqkit).
    fold = np.asarray((-1.0, -1.0, 1.0), dtype=dtype)[:, None, None]  # (3, 1, 1) z, r, h
    W_x_folded = W_x.reshape(D, 3, H).transpose(1, 0, 2) * fold  # (3, D, H)
    W_h_folded = np.stack([params[k] for k in _H_KEYS]).astype(dtype) * fold  # (3, H, H)

    HS = np.empty((T + 1, N, H), dtype=dtype)
    HS[0] = initial_state(h0, N, H, dtype)
    gates = np.empty((3, T, N, H), dtype=dtype)
    np.matmul(X.reshape(T * N, D), W_x_folded, out=gates.reshape(3, T * N, H))  # (3, T*N, H)
    gates.reshape(3, T * N, H)[...] += stack_gates(params, _B_KEYS, dtype).reshape(3, 1, H) * fold
    reset_term = np.empty((T, N, H), dtype=dtype)
    scratch = np.empty((N, H), dtype=dtype)
    with np.errstate(over="ignore"):  # exp(-a) -> inf means σ(a) = 0 exactly
        if reset_after:
            b_hn = params["b_hn"].astype(dtype, copy=False)
            recurrent = np.empty((3, N, H), dtype=dtype)
            for t in range(T):
                h_prev, zr = HS[t], gates[:2, t]  # (2, N, H) folded x W_x + b of z, r
                np.matmul(h_prev, W_h_folded, out=recurrent)  # (3, N, H) -z, -r, hn
                zr += recurrent[:2]
                np.exp(zr, out=zr)
                zr += 1
                np.reciprocal(zr, out=zr)  # (2, N, H) z, r
                hn = reset_term[t]
                np.add(recurrent[2], b_hn, out=hn)  # (N, H) h_prev W_hh + b_hn
                np.multiply(zr[1], hn, out=scratch)
                h_cand = gates[2, t]
                h_cand += scratch
                np.tanh(h_cand, out=h_cand)  # (N, H) h̃
                _mix(HS[t + 1], h_prev, zr[0], h_cand)
        else:
            W_hzr_folded, W_hh = W_h_folded[:2], W_h_folded[2]  # (2, H, H), (H, H)
            recurrent = np.empty((2, N, H), dtype=dtype)
            for t in range(T):
                h_prev, zr = HS[t], gates[:2, t]
                np.matmul(h_prev, W_hzr_folded, out=recurrent)  # (2, N, H) -z, -r
                zr += recurrent
                np.exp(zr, out=zr)
                zr += 1
                np.reciprocal(zr, out=zr)  # (2, N, H) z, r
                r_h = reset_term[t]
                np.multiply(zr[1], h_prev, out=r_h)  # (N, H) r ⊙ h_prev
                np.matmul(r_h, W_hh, out=scratch)
                h_cand = gates[2, t]
                h_cand += scratch
                np.tanh(h_cand, out=h_cand)  # (N, H) h̃
                _mix(HS[t + 1], h_prev, zr[0], h_cand)
    cache = GRUCache(X, W_x, W_h, HS, gates, reset_term, bool(reset_after))
    return read_only(HS[1:]), cache


def _mix(h, h_prev, z, h_cand):
    """``h = z ⊙ h_prev + (1 − z) ⊙ h̃``, written as ``h̃ + z ⊙ (h_prev − h̃)`` into ``h``."""
    np.subtract(h_prev, h_cand, out=h)
    h *= z
    h += h_cand


def gru_backward(dH, cache, dh_T=None):
    """Backpropagation through time for ``gru_forward``.

    Taught in chapter 6, Gated recurrent units: ``h = z ⊙ h_prev + …`` gives the
    gradient a direct path ``dh_prev = dh ⊙ z`` that skips the squashing.

    Parameters
    ----------
    dH : ndarray of shape (T, N, H)
        Gradient of the loss with respect to every hidden state (a loss on the
        final state ``H[-1]`` contributes to ``dH[-1]``).
    cache : GRUCache
        From ``gru_forward``.
    dh_T : ndarray of shape (N, H), optional
        Extra gradient on the final state, added to ``dH[-1]`` (for callers that
        pass the final state on: stacked layers, truncated BPTT).

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    dh0 : ndarray of shape (N, H)
    grads : dict
        Same keys and shapes as the forward's ``params`` (``b_hn`` when
        ``reset_after``).
    """
    guard("gru_backward")
    check_cache(cache, GRUCache, "gru_backward")
    X, W_x, W_h, HS, gates, reset_term, reset_after = cache
    T, N, H = reset_term.shape
    check_backward_inputs("gru_backward", dH, T, N, H, dh_T=dh_T)
    dtype = HS.dtype
    dH = dH.astype(dtype, copy=False)
    Z, R, H_cand = gates  # (T, N, H) each, contiguous
    H_prev = HS[:-1]  # (T, N, H)
    # Pre-activation gradients: default [z | r | h]; reset_after [hn | z | r | h].
    first = 1 if reset_after else 0  # block of z
    n_blocks = 3 + first
    dA = np.empty((T, N, n_blocks * H), dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype) if dh_T is None else dh_T.astype(dtype)
    dh = np.empty((N, H), dtype=dtype)
    scratch = np.empty((N, H), dtype=dtype)
    step = np.empty((n_blocks, N, H), dtype=dtype)  # gate-major, copied into dA[t]
    steps = _chunk_steps(N, H, dtype)
    local = np.empty((n_blocks, steps, N, H), dtype=dtype)
    squares = np.empty((steps, N, H), dtype=dtype)
    if reset_after:
        W_h_T = W_h.T  # (3H, H) rows hn, z, r
    else:
        W_hzr_T, W_hh_T = W_h[:, : 2 * H].T, W_h[:, 2 * H :].T  # (2H, H), (H, H)
        d_rh = np.empty((N, H), dtype=dtype)
    for end in range(T, 0, -steps):
        start = max(0, end - steps)
        k = end - start
        # Local derivatives of this chunk: the factors that turn dh (for z, h̃) or the
        # gradient reaching the reset (for r, hn) into pre-activation gradients.
        factor = local[:, :k]  # (n_blocks, k, N, H)
        d_z, d_r, d_h = factor[first:]
        zr, q = gates[:2, start:end], squares[:k]
        np.square(zr, out=factor[first : first + 2])
        np.subtract(zr, factor[first : first + 2], out=factor[first : first + 2])  # σ(1 - σ)
        np.subtract(H_prev[start:end], H_cand[start:end], out=d_h)
        d_z *= d_h  # dh -> dz_pre: (h_prev - h̃) σ'(a_z)
        np.subtract(1, Z[start:end], out=d_h)
        np.square(H_cand[start:end], out=q)
        np.subtract(1, q, out=q)
        d_h *= q  # dh -> dh̃_pre: (1 - z)(1 - h̃²)
        # default: d(r ⊙ h_prev) -> dr_pre is h_prev σ'(a_r);
        # reset_after: dh̃_pre -> dr_pre is hn σ'(a_r), and dh̃_pre -> d hn is r
        d_r *= reset_term[start:end] if reset_after else H_prev[start:end]
        if reset_after:
            np.copyto(factor[0], R[start:end])
        for t in range(end - 1, start - 1, -1):
            j = t - start
            np.add(dH[t], dh_next, out=dh)  # (N, H) loss at step t + flow from step t+1
            if reset_after:
                np.multiply(factor[1::2, j], dh, out=step[1::2])  # (2, N, H) z, h̃ pre-activations
                np.multiply(factor[0::2, j], step[3], out=step[0::2])  # (2, N, H) hn, r
                np.copyto(dA[t].reshape(N, 4, H), step.transpose(1, 0, 2))
                np.matmul(dA[t, :, : 3 * H], W_h_T, out=dh_next)  # (N, H) through hn, z, r
            else:
                np.multiply(factor[0::2, j], dh, out=step[0::2])  # (2, N, H) z, h̃ pre-activations
                np.matmul(step[2], W_hh_T, out=d_rh)  # (N, H) gradient of r ⊙ h_prev
                np.multiply(factor[1, j], d_rh, out=step[1])  # (N, H) r pre-activation
                np.copyto(dA[t].reshape(N, 3, H), step.transpose(1, 0, 2))
                np.matmul(dA[t, :, : 2 * H], W_hzr_T, out=dh_next)  # (N, H) through z, r
                np.multiply(d_rh, R[t], out=scratch)
                dh_next += scratch  # through r ⊙ h_prev
            np.multiply(dh, Z[t], out=scratch)
            dh_next += scratch  # the direct path z ⊙ h_prev

    if reset_after:
        dW_h = H_prev.reshape(T * N, H).T @ dA[..., : 3 * H].reshape(T * N, 3 * H)  # (H, 3H)
        grads = split_gates(dW_h, _H_KEYS_AFTER)
        grads["b_hn"] = dA[..., :H].reshape(T * N, H).sum(axis=0)  # (H,)
    else:
        dW_hzr = H_prev.reshape(T * N, H).T @ dA[..., : 2 * H].reshape(T * N, 2 * H)  # (H, 2H)
        dW_hh = reset_term.reshape(T * N, H).T @ dA[..., 2 * H :].reshape(T * N, H)  # (H, H)
        grads = {**split_gates(dW_hzr, _H_KEYS[:2]), "W_hh": dW_hh}

    # Accumulate the input side over time: one GEMM each for all steps.
    dX, dW_x, db = stacked_input_grads(X, dA[..., first * H :], W_x)
    grads.update(split_gates(dW_x, _X_KEYS))
    grads.update(split_gates(db, _B_KEYS))
    return dX, dh_next, grads


def _chunk_steps(N, H, dtype, cache_bytes=1 << 20):
    """How many steps of local derivatives to compute at once (about 14 N×H arrays per step)."""
    return max(1, cache_bytes // max(1, 14 * N * H * np.dtype(dtype).itemsize))
