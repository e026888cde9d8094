"""Typical wrong RNN backward passes (exercise 4; chapter 4, Backpropagation through time).

Each mistake is a ``(forward, backward)`` pair; the forward passes are right.
"""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake
from .ex02_rnn_cell import solution_rnn_cell_forward as cell_forward
from .ex02_rnn_cell import solution_rnn_forward as forward

__all__: list[str] = []


def _affine_back(da, cache, average=False):
    guard("_affine_back")
    x, h_prev, h, W_xh, W_hh = cache
    scale = 1 / da.shape[0] if average else 1
    grads = {"W_xh": x.T @ da * scale, "W_hh": h_prev.T @ da * scale, "b_h": da.sum(axis=0) * scale}
    return da @ W_xh.T, da @ W_hh.T, grads


def solution_rnn_cell_backward(dh, cache):
    guard("solution_rnn_cell_backward")
    h = cache[2]
    return _affine_back(dh * (1 - h**2), cache)  # through tanh, then the affine map


def one_minus_h(dh, cache):
    guard("one_minus_h")
    return _affine_back(dh * (1 - cache[2]), cache)


def no_tanh_derivative(dh, cache):
    guard("no_tanh_derivative")
    return _affine_back(dh, cache)


def derivative_of_preactivation(dh, cache):
    guard("derivative_of_preactivation")
    x, h_prev, h, W_xh, W_hh = cache
    a = np.arctanh(np.clip(h, -1 + 1e-15, 1 - 1e-15))  # the pre-activation again
    return _affine_back(dh * (1 - a**2), cache)


def untransposed_w_hh(dh, cache):
    guard("untransposed_w_hh")
    dx, _, grads = solution_rnn_cell_backward(dh, cache)
    da = dh * (1 - cache[2] ** 2)
    return dx, da @ cache[4], grads


def new_state_in_dw_hh(dh, cache):
    guard("new_state_in_dw_hh")
    dx, dh_prev, grads = solution_rnn_cell_backward(dh, cache)
    da = dh * (1 - cache[2] ** 2)
    return dx, dh_prev, {**grads, "W_hh": cache[2].T @ da}


def averaged_over_batch(dh, cache):
    guard("averaged_over_batch")
    return _affine_back(dh * (1 - cache[2] ** 2), cache, average=True)


RNN_CELL_BACKWARD = (
    Mistake("1 − h used for the derivative of tanh; it is 1 − h²", 4, (cell_forward, one_minus_h)),
    Mistake("the derivative of tanh (1 − h²) left out", 4, (cell_forward, no_tanh_derivative)),
    Mistake(
        "tanh' computed from the pre-activation a (1 − a²) instead of h (1 − h²)",
        4,
        (cell_forward, derivative_of_preactivation),
    ),
    Mistake(
        "dh_prev = da @ W_hh; the gradient flows back through the transpose, da @ W_hh.T",
        4,
        (cell_forward, untransposed_w_hh),
    ),
    Mistake(
        "dW_hh computed from the new state h; it is h_prev.T @ da",
        4,
        (cell_forward, new_state_in_dw_hh),
    ),
    Mistake(
        "parameter gradients averaged over the batch instead of summed",
        4,
        (cell_forward, averaged_over_batch),
    ),
)


def _bptt(
    dH,
    caches,
    carry=True,
    every_step=True,
    accumulate=True,
    average=False,
    cell_backward=solution_rnn_cell_backward,
):
    guard("_bptt")
    T = len(caches)
    grads = {k: 0.0 for k in ("W_xh", "W_hh", "b_h")}
    dX = [None] * T
    dh_next = np.zeros_like(dH[0])
    for t in reversed(range(T)):
        upstream = dH[t] if every_step or t == T - 1 else np.zeros_like(dH[t])
        dX[t], dh_prev, step = cell_backward(upstream + (dh_next if carry else 0), caches[t])
        dh_next = dh_prev
        for k in grads:
            grads[k] = grads[k] + step[k] if accumulate else step[k]
    if average:
        grads = {k: g / T for k, g in grads.items()}
    return np.stack(dX), dh_next, grads


def solution_rnn_backward(dH, caches):
    guard("solution_rnn_backward")
    return _bptt(dH, caches)


def not_accumulated(dH, caches):
    guard("not_accumulated")
    return _bptt(dH, caches, accumulate=False)


def not_carried(dH, caches):
    guard("not_carried")
    return _bptt(dH, caches, carry=False)


def last_step_only(dH, caches):
    guard("last_step_only")
    return _bptt(dH, caches, every_step=False)


def averaged_over_time(dH, caches):
    guard("averaged_over_time")
    return _bptt(dH, caches, average=True)


def forward_in_time(dH, caches):
    guard("forward_in_time")
    dX, dh_next = [], np.zeros_like(dH[0])
    grads = {k: 0.0 for k in ("W_xh", "W_hh", "b_h")}
    for t in range(len(caches)):
        dx, dh_next, step = solution_rnn_cell_backward(dH[t] + dh_next, caches[t])
        dX.append(dx)
        grads = {k: grads[k] + step[k] for k in grads}
    return np.stack(dX), dh_next, grads


def one_minus_h_sequence(dH, caches):
    guard("one_minus_h_sequence")
    return _bptt(dH, caches, cell_backward=one_minus_h)


RNN_BACKWARD = (
    Mistake(
        "parameter gradients not accumulated over time (each step overwrites them; "
        "they must be summed over all steps)",
        4,
        (forward, not_accumulated),
    ),
    Mistake(
        "dh_next not carried back: each step must add the gradient arriving from "
        "step t + 1 to dH[t]",
        4,
        (forward, not_carried),
    ),
    Mistake(
        "only the last step's dH used; every step's output has a gradient, dH[t]",
        4,
        (forward, last_step_only),
    ),
    Mistake(
        "parameter gradients averaged over time instead of summed", 4, (forward, averaged_over_time)
    ),
    Mistake(
        "the time loop running forwards; backpropagation goes from t = T − 1 down to 0",
        4,
        (forward, forward_in_time),
    ),
    Mistake(
        "1 − h used for the derivative of tanh; it is 1 − h²", 4, (forward, one_minus_h_sequence)
    ),
)
