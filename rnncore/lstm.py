"""An LSTM over a whole sequence: forward, and backward through time (tuned).

Taught in chapter 7, Long short-term memory. ``rnncore.lstm_cell`` holds the
readable one-step version; these functions compute exactly a loop of it (the
tests check that) but are arranged for speed:

* the four gates are stacked in PyTorch's order i, f, g, o (g is the candidate
  c̃): ``W_x = [W_xi | W_xf | W_xc | W_xo]`` of shape (D, 4H), ``W_h`` (H, 4H);
* the input projections of all T steps are one matmul call; each step adds
  one recurrent matmul ``h_prev @ W_h`` and evaluates all four gates with one
  ``exp`` (see ``rnncore._seqkit``), in preallocated buffers;
* the forward pass keeps the gates gate-major, ``(4, T, N, H)``, so that every
  per-gate operation runs on a contiguous block (NumPy is several times slower
  on the strided column slices of a ``(N, 4H)`` array);
* backward runs one GEMM per step (``dA_t @ W_h.T``) on a ``(T, N, 4H)``
  buffer, and ``dW_x``, ``dW_h``, ``dX``, ``db`` come from one GEMM (or sum)
  each over all steps. The local derivatives of the gates are computed a few
  steps at a time, a chunk small enough to stay in the CPU's cache.

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

__all__ = ["lstm_forward", "lstm_backward"]

_GATES = ("i", "f", "c", "o")  # stacking order i, f, g(=c̃), o, as torch.nn.LSTM
_X_KEYS = tuple(f"W_x{g}" for g in _GATES)
_H_KEYS = tuple(f"W_h{g}" for g in _GATES)
_B_KEYS = tuple(f"b_{g}" for g in _GATES)
_SPECS = {
    **{k: ("D", "H") for k in _X_KEYS},
    **{k: ("H", "H") for k in _H_KEYS},
    **{k: ("H",) for k in _B_KEYS},
}
_FOLD = (-1.0, -1.0, -2.0, -1.0)  # exp(-a) for the sigmoid gates, exp(-2a) for g


class LSTMCache(NamedTuple):
    """What ``lstm_backward`` needs from ``lstm_forward``."""

    X: np.ndarray  # (T, N, D) the inputs, in the computation dtype
    W_x: np.ndarray  # (D, 4H) stacked i, f, g, o
    W_h: np.ndarray  # (H, 4H) stacked i, f, g, o
    HS: np.ndarray  # (T+1, N, H) h0 followed by every hidden state
    CS: np.ndarray  # (T+1, N, H) c0 followed by every cell state
    gates: np.ndarray  # (4, T, N, H) i, f, g, o after their nonlinearities
    tanh_C: np.ndarray  # (T, N, H) tanh of every cell state


def lstm_forward(X, h0, c0, params):
    """Run an LSTM over a sequence.

    Taught in chapter 7, Long short-term memory. Per step:
    ``i, f, o = σ(x W_x* + h_prev W_h* + b_*)``, ``g = tanh(x W_xc + h_prev W_hc + b_c)``,
    ``c = f ⊙ c_prev + i ⊙ g``, ``h = o ⊙ tanh(c)``.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major.
    h0 : ndarray of shape (N, H) or None
        Initial hidden state; None means zeros.
    c0 : ndarray of shape (N, H) or None
        Initial cell state; None means zeros.
    params : dict
        ``W_xi, W_xf, W_xo, W_xc`` of shape (D, H), ``W_hi, W_hf, W_ho, W_hc``
        of shape (H, H), ``b_i, b_f, b_o, b_c`` of shape (H,).

    Returns
    -------
    H : ndarray of shape (T, N, H)
        Every hidden state; the final one is ``H[-1]``.
    C : ndarray of shape (T, N, H)
        Every cell state; the final one is ``C[-1]``.
        H and C are read-only: they share memory with the cache.
    cache : LSTMCache
        For ``lstm_backward``.
    """
    guard("lstm_forward")
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where="lstm_forward")
    check_params("params", params, _SPECS, sizes, where="lstm_forward")
    for name, state0 in (("h0", h0), ("c0", c0)):
        if state0 is not None:
            check_array(name, state0, ("N", "H"), sizes, where="lstm_forward")
    T, N, D, H = sizes["T"], sizes["N"], sizes["D"], sizes["H"]
    dtype = common_dtype(X, h0, c0, *(params[k] for k in _SPECS))
    X = X.astype(dtype, copy=False)
    W_x = stack_gates(params, _X_KEYS, dtype)  # (D, 4H)
    W_h = stack_gates(params, _H_KEYS, dtype)  # (H, 4H)
    # Gate-major folded copies (see _seqkit): exp of a folded pre-activation is
    # exp(-a) for i, f, o and exp(-2a) for g.
    fold = np.asarray(_FOLD, dtype=dtype)[:, None, None]  # (4, 1, 1)
    W_x_folded = W_x.reshape(D, 4, H).transpose(1, 0, 2) * fold  # (4, D, H)
    W_h_folded = W_h.reshape(H, 4, H).transpose(1, 0, 2) * fold  # (4, H, H)
    b_folded = stack_gates(params, _B_KEYS, dtype).reshape(4, 1, H) * fold  # (4, 1, H)

    HS = np.empty((T + 1, N, H), dtype=dtype)
    CS = np.empty((T + 1, N, H), dtype=dtype)
    HS[0] = initial_state(h0, N, H, dtype)
    CS[0] = initial_state(c0, N, H, dtype)
    tanh_C = np.empty((T, N, H), dtype=dtype)
    gates = np.empty((4, T, N, H), dtype=dtype)
    np.matmul(X.reshape(T * N, D), W_x_folded, out=gates.reshape(4, T * N, H))  # (4, T*N, H)
    gates.reshape(4, T * N, H)[...] += b_folded
    recurrent = np.empty((4, N, H), dtype=dtype)
    i_g = np.empty((N, H), dtype=dtype)
    with np.errstate(over="ignore"):  # exp(-a) -> inf means σ(a) = 0 exactly
        for t in range(T):
            a = gates[:, t]  # (4, N, H) folded x_t W_x + b, each gate contiguous
            np.matmul(HS[t], W_h_folded, out=recurrent)  # (4, N, H)
            a += recurrent
            np.exp(a, out=a)
            a += 1
            np.reciprocal(a, out=a)  # σ(a) for i, f, o; σ(2a) for g
            i, f, g, o = a
            g *= 2
            g -= 1  # tanh(a) = 2 σ(2a) - 1
            c = CS[t + 1]
            np.multiply(f, CS[t], out=c)  # (N, H) keep part of the old memory
            np.multiply(i, g, out=i_g)
            c += i_g  # (N, H) write the new candidate
            np.tanh(c, out=tanh_C[t])
            np.multiply(o, tanh_C[t], out=HS[t + 1])  # (N, H)
    cache = LSTMCache(X, W_x, W_h, HS, CS, gates, tanh_C)
    return read_only(HS[1:]), read_only(CS[1:]), cache


def lstm_backward(dH, cache, dh_T=None, dc_T=None):
    """Backpropagation through time for ``lstm_forward``.

    Taught in chapter 7, Long short-term memory: the cell state carries the
    gradient back through ``dc_prev = dc ⊙ f``, the path that lets LSTMs learn
    long dependencies.

    Parameters
    ----------
    dH : ndarray of shape (T, N, H)
        Gradient of the loss with respect to every hidden state (a loss on the
        final state ``H[-1]`` contributes to ``dH[-1]``).
    cache : LSTMCache
        From ``lstm_forward``.
    dh_T : ndarray of shape (N, H), optional
        Extra gradient on the final hidden state, added to ``dH[-1]`` (for
        callers that pass the final state on: stacked layers, truncated BPTT).
    dc_T : ndarray of shape (N, H), optional
        Gradient on the final cell state ``C[-1]``, for the same callers. The
        cell states returned in ``C`` take no other gradient.

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    dh0 : ndarray of shape (N, H)
    dc0 : ndarray of shape (N, H)
    grads : dict
        Same keys and shapes as the forward's ``params``.
    """
    guard("lstm_backward")
    check_cache(cache, LSTMCache, "lstm_backward")
    X, W_x, W_h, HS, CS, gates, tanh_C = cache
    T, N, H = tanh_C.shape
    check_backward_inputs("lstm_backward", dH, T, N, H, dh_T=dh_T, dc_T=dc_T)
    dtype = HS.dtype
    dH = dH.astype(dtype, copy=False)

    I, F, G, O = gates  # (T, N, H) each, contiguous
    dA = np.empty((T, N, 4 * H), dtype=dtype)  # pre-activation gradients, i, f, g, o
    dh_next = np.zeros((N, H), dtype=dtype) if dh_T is None else dh_T.astype(dtype)
    dc = np.zeros((N, H), dtype=dtype) if dc_T is None else dc_T.astype(dtype)
    dh = np.empty((N, H), dtype=dtype)
    scratch = np.empty((N, H), dtype=dtype)
    dA_step = np.empty((4, N, H), dtype=dtype)  # gate-major, copied into dA[t]
    W_h_T = W_h.T
    steps = _chunk_steps(N, H, dtype)
    local = np.empty((4, steps, N, H), dtype=dtype)
    dh_to_dc = np.empty((steps, N, H), dtype=dtype)
    for end in range(T, 0, -steps):
        start = max(0, end - steps)
        k = end - start
        # Local derivatives of this chunk: the factor that turns the incoming
        # gradient (dc for i, f, g; dh for o) into each gate's pre-activation gradient.
        gate_chunk, factor = gates[:, start:end], local[:, :k]  # (4, k, N, H)
        np.square(gate_chunk, out=factor)
        np.subtract(gate_chunk, factor, out=factor)  # σ'(a) = σ(1 - σ) for i, f, o
        np.square(G[start:end], out=factor[2])
        np.subtract(1, factor[2], out=factor[2])  # tanh'(a) = 1 - g² for g
        factor[0] *= G[start:end]  # dc -> di_pre: g σ'(a_i)
        factor[1] *= CS[start:end]  # dc -> df_pre: c_prev σ'(a_f)
        factor[2] *= I[start:end]  # dc -> dg_pre: i tanh'(a_g)
        factor[3] *= tanh_C[start:end]  # dh -> do_pre: tanh(c) σ'(a_o)
        q = dh_to_dc[:k]
        np.square(tanh_C[start:end], out=q)
        np.subtract(1, q, out=q)
        q *= O[start:end]  # dh -> dc: o (1 - tanh²(c))
        for t in range(end - 1, start - 1, -1):
            j = t - start
            np.add(dH[t], dh_next, out=dh)  # (N, H) loss at step t + flow from step t+1
            np.multiply(dh, q[j], out=scratch)
            dc += scratch  # (N, H) through h = o tanh(c), plus the flow along the cell
            np.multiply(factor[:3, j], dc, out=dA_step[:3])  # (3, N, H) i, f, g pre-activations
            np.multiply(factor[3, j], dh, out=dA_step[3])  # (N, H) o pre-activation
            np.copyto(dA[t].reshape(N, 4, H), dA_step.transpose(1, 0, 2))
            dc *= F[t]  # (N, H) becomes dc for step t-1
            np.matmul(dA[t], W_h_T, out=dh_next)  # (N, H) becomes dh for step t-1

    # Accumulate over time: one GEMM each for all steps.
    dW_h = HS[:-1].reshape(T * N, H).T @ dA.reshape(T * N, 4 * H)  # (H, 4H)
    dX, dW_x, db = stacked_input_grads(X, dA, W_x)
    grads = {
        **split_gates(dW_x, _X_KEYS),
        **split_gates(dW_h, _H_KEYS),
        **split_gates(db, _B_KEYS),
    }
    return dX, dh_next, dc, grads


def _chunk_steps(N, H, dtype, cache_bytes=1 << 20):
    """How many steps of local derivatives to compute at once (about 16 N×H arrays per step)."""
    return max(1, cache_bytes // max(1, 16 * N * H * np.dtype(dtype).itemsize))
