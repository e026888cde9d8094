"""Typical wrong minibatchers and variational-dropout RNNs (exercise 10; chapter 10).

The minibatcher's mistakes return ``(X, Y)`` like the student's function; the
backward pass's are ``(forward, backward)`` pairs whose forward is right.
"""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _windows(ids, seq_len, batch_size, offset, *, order="columns", shift=1, use_offset=True,
             stride=None, drop_last=False, batch_major=False):  # fmt: skip
    """The stream cut into windows, with one knob per mistake (the defaults are right)."""
    guard("_windows")
    start = offset if use_offset else 0
    steps = (len(ids) - 1 - start) // batch_size  # predictions per column
    stop = start + steps * batch_size
    inputs = ids[start:stop]  # (steps * N,)
    targets = ids[start + shift : stop + shift]
    if order == "columns":  # column n is one contiguous piece of the stream
        inputs, targets = (a.reshape(batch_size, steps).T for a in (inputs, targets))
    elif order == "rows":  # consecutive tokens side by side in neighbouring columns
        inputs, targets = (a.reshape(steps, batch_size) for a in (inputs, targets))
    stride = stride or seq_len
    last = steps - seq_len + (0 if drop_last else 1)
    if order == "dealt":  # windows of T dealt out N at a time (d2l's random partition, unshuffled)
        count = (len(ids) - 1 - start) // seq_len
        starts = start + seq_len * np.arange(count // batch_size * batch_size)
        starts = starts.reshape(-1, batch_size)  # (K, N)
        X = np.stack([ids[s[None, :] + np.arange(seq_len)[:, None]] for s in starts])
        Y = np.stack([ids[s[None, :] + np.arange(seq_len)[:, None] + 1] for s in starts])
    else:
        X = np.stack([inputs[t : t + seq_len] for t in range(0, last, stride)])  # (K, T, N)
        Y = np.stack([targets[t : t + seq_len] for t in range(0, last, stride)])
    if batch_major:
        X, Y = X.transpose(0, 2, 1), Y.transpose(0, 2, 1)
    return X, Y


def solution_sequential_minibatches(ids, seq_len, batch_size, offset):
    guard("solution_sequential_minibatches")
    return _windows(ids, seq_len, batch_size, offset)


def _mb(**kw):
    guard("_mb")
    return lambda ids, T, N, offset: _windows(ids, T, N, offset, **kw)


SEQUENTIAL_MINIBATCHES = (
    Mistake(
        "Y not shifted: Y[k, t, n] must be the token after X[k, t, n] in the stream",
        10,
        _mb(shift=0),
    ),
    Mistake(
        "the stream reshaped to (steps, N), so that consecutive tokens sit side by side in "
        "neighbouring columns; reshape it to (N, steps) and transpose, so that each column is "
        "one contiguous piece of the stream",
        10,
        _mb(order="rows"),
    ),
    Mistake(
        "windows of T tokens dealt out N at a time (random partitioning without the shuffle): "
        "column n of window k + 1 does not continue column n of window k, so the carried state "
        "would be wrong",
        10,
        _mb(order="dealt"),
    ),
    Mistake(
        "offset ignored: skip the first offset tokens of the stream before cutting it",
        10,
        _mb(use_offset=False),
    ),
    Mistake(
        "X and Y swapped: X holds the tokens and Y the ones before them; Y is X one step later",
        10,
        lambda ids, T, N, offset: _windows(ids, T, N, offset)[::-1],
    ),
    Mistake(
        "the last whole window dropped (range(0, steps - T, T) stops one window early; "
        "range(0, steps - T + 1, T) keeps every whole window)",
        10,
        _mb(drop_last=True),
    ),
    Mistake(
        "windows that overlap (a new window at every step); windows follow each other "
        "without overlap, T steps apart",
        10,
        _mb(stride=1),
    ),
    Mistake(
        "batch-major windows of shape (N, T); the book's windows are time-major, (T, N)",
        10,
        _mb(batch_major=True),
    ),
)


def _rnn(X, h0, params, mask_x, mask_h, *, drop_x=True, drop_h=True, where="h_prev",
         first_only=False, drop_h0=True):  # fmt: skip
    """A vanilla RNN with the masks applied, one knob per mistake (the defaults are right)."""
    guard("_rnn")
    h = np.zeros(mask_h.shape, dtype=X.dtype) if h0 is None else h0
    states = []
    for t, x in enumerate(X):
        active = not first_only or t == 0
        x_in = x * mask_x if drop_x and active else x  # (N, D)
        dropping = drop_h and active and where != "after" and (drop_h0 or t > 0)
        h_in = h * mask_h if dropping and where == "h_prev" else h  # (N, H)
        recurrent = h_in @ params["W_hh"]  # (N, H)
        if dropping and where == "product":
            recurrent = recurrent * mask_h
        h = np.tanh(x_in @ params["W_xh"] + recurrent + params["b_h"])  # (N, H)
        if drop_h and where == "after":
            h = h * mask_h
        states.append(h)
    return np.stack(states)


def solution_variational_rnn_forward(X, h0, params, mask_x, mask_h):
    guard("solution_variational_rnn_forward")
    H = _rnn(X, h0, params, mask_x, mask_h)
    return H, (X, h0, H, params, mask_x, mask_h)


def _fwd(**kw):
    guard("_fwd")
    return lambda X, h0, p, mx, mh: (_rnn(X, h0, p, mx, mh, **kw), None)


VARIATIONAL_RNN_FORWARD = (
    Mistake(
        "the recurrent mask mask_h left out: multiply h_prev by it before W_hh",
        10,
        _fwd(drop_h=False),
    ),
    Mistake(
        "the input mask mask_x left out: multiply x_t by it before W_xh", 10, _fwd(drop_x=False)
    ),
    Mistake(
        "mask_h applied to the new state after the tanh, so H holds dropped states; drop "
        "h_prev where it enters the next step and return the states undropped",
        10,
        _fwd(where="after"),
    ),
    Mistake(
        "mask_h applied to h_prev @ W_hh; it drops units of the state, h_prev ⊙ mask_h, "
        "before the product",
        10,
        _fwd(where="product"),
    ),
    Mistake(
        "the masks applied at the first step only; variational dropout uses the same masks at "
        "every step",
        10,
        _fwd(first_only=True),
    ),
    Mistake(
        "the initial state h0 left undropped; mask_h multiplies h_prev at every step, the "
        "first one included",
        10,
        _fwd(drop_h0=False),
    ),
)


def _bptt(dH, cache, *, mask_dx=True, mask_dh=True, raw_x=False, raw_h=False, mask_dh0=True,
          mask_incoming=False, accumulate=True):  # fmt: skip
    """Backpropagation through the masked RNN, one knob per mistake (the defaults are right)."""
    guard("_bptt")
    X, h0, H, params, mask_x, mask_h = cache
    T = len(X)
    H_prev = [np.zeros_like(H[0]) if h0 is None else h0] + list(H[:-1])
    grads = {k: np.zeros_like(params[k]) for k in ("W_xh", "W_hh", "b_h")}
    dX = np.empty_like(X)
    dh_next = np.zeros_like(H[0])
    for t in range(T - 1, -1, -1):
        dh = dH[t] + dh_next  # (N, H)
        if mask_incoming:
            dh = dh * mask_h
        da = dh * (1 - H[t] ** 2)  # through tanh
        x_in = X[t] if raw_x else X[t] * mask_x  # what the cell saw
        h_in = H_prev[t] if raw_h else H_prev[t] * mask_h
        step = {"W_xh": x_in.T @ da, "W_hh": h_in.T @ da, "b_h": da.sum(axis=0)}
        grads = {k: grads[k] + step[k] if accumulate else step[k] for k in grads}
        dX[t] = da @ params["W_xh"].T * (mask_x if mask_dx else 1)  # through the input mask
        dh_prev = da @ params["W_hh"].T  # (N, H)
        masked = mask_dh and not mask_incoming and (mask_dh0 or t > 0)
        dh_next = dh_prev * mask_h if masked else dh_prev  # through the recurrent mask
    return dX, dh_next, grads


def solution_variational_rnn_backward(dH, cache):
    guard("solution_variational_rnn_backward")
    return _bptt(dH, cache)


def _pair(**kw):
    guard("_pair")
    return (solution_variational_rnn_forward, lambda dH, cache: _bptt(dH, cache, **kw))


VARIATIONAL_RNN_BACKWARD = (
    Mistake(
        "dX not passed back through mask_x: dX[t] = (da @ W_xh.T) ⊙ mask_x",
        10,
        _pair(mask_dx=False),
    ),
    Mistake(
        "the gradient to the previous step not passed back through mask_h: "
        "dh_prev = (da @ W_hh.T) ⊙ mask_h",
        10,
        _pair(mask_dh=False),
    ),
    Mistake(
        "dW_xh computed from the undropped x_t; the cell saw x_t ⊙ mask_x, so "
        "dW_xh sums (x_t ⊙ mask_x).T @ da",
        10,
        _pair(raw_x=True),
    ),
    Mistake(
        "dW_hh computed from the undropped h_prev; the cell saw h_prev ⊙ mask_h, so "
        "dW_hh sums (h_prev ⊙ mask_h).T @ da",
        10,
        _pair(raw_h=True),
    ),
    Mistake(
        "the gradient reaching h0 not passed back through mask_h (the forward pass drops h0 too)",
        10,
        _pair(mask_dh0=False),
    ),
    Mistake(
        "mask_h applied to the gradient arriving at h_t; it belongs to the gradient leaving "
        "for h_(t-1), where the forward pass applied it",
        10,
        _pair(mask_incoming=True),
    ),
    Mistake(
        "parameter gradients not accumulated over time (each step overwrites them; they must "
        "be summed over all steps)",
        10,
        _pair(accumulate=False),
    ),
)
