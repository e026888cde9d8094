"""Typical wrong RNN cells and RNN sequences (exercise 2; chapter 2, The RNN cell)."""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _sigmoid(a):
    guard("_sigmoid")
    return 1 / (1 + np.exp(-a))


def solution_rnn_cell_forward(x, h_prev, params):
    guard("solution_rnn_cell_forward")
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])  # (N, H)
    return h, (x, h_prev, h, params["W_xh"], params["W_hh"])


def _start(X, h0, params):
    """h0, or a state of zeros in X's dtype when h0 is None."""
    guard("_start")
    return np.zeros((X.shape[1], params["W_hh"].shape[0]), X.dtype) if h0 is None else h0


def solution_rnn_forward(X, h0, params):
    guard("solution_rnn_forward")
    H, h, caches = [], _start(X, h0, params), []
    for x in X:  # one step per time step, the state carried over
        h, cache = solution_rnn_cell_forward(x, h, params)
        H.append(h)
        caches.append(cache)
    return np.stack(H), caches


def _cell(x, h_prev, p, act=np.tanh):
    guard("_cell")
    return act(x @ p["W_xh"] + h_prev @ p["W_hh"] + p["b_h"])


def sigmoid_cell(x, h_prev, params):
    guard("sigmoid_cell")
    h = _cell(x, h_prev, params, _sigmoid)
    return h, None


def linear_cell(x, h_prev, params):
    guard("linear_cell")
    h = x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]
    return h, None


def relu_cell(x, h_prev, params):
    guard("relu_cell")
    h = np.maximum(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"], 0)
    return h, None


def no_bias_cell(x, h_prev, params):
    guard("no_bias_cell")
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"])
    return h, None


def transposed_cell(x, h_prev, params):
    guard("transposed_cell")
    h = np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"].T + params["b_h"])
    return h, None


def memoryless_cell(x, h_prev, params):
    guard("memoryless_cell")
    h = np.tanh(x @ params["W_xh"] + params["b_h"])
    return h, None


RNN_CELL_FORWARD = (
    Mistake("sigmoid used instead of tanh for the hidden state", 2, sigmoid_cell),
    Mistake("the tanh left out (the hidden state is the raw pre-activation)", 2, linear_cell),
    Mistake("ReLU used instead of tanh for the hidden state", 2, relu_cell),
    Mistake("the bias b_h left out", 2, no_bias_cell),
    Mistake("a transposed weight: h_prev @ W_hh.T instead of h_prev @ W_hh", 2, transposed_cell),
    Mistake("the previous hidden state ignored (no h_prev @ W_hh term)", 2, memoryless_cell),
)


def state_not_carried(X, h0, params):
    guard("state_not_carried")
    h0 = _start(X, h0, params)
    return np.stack([_cell(x, h0, params) for x in X]), None


def stores_previous_state(X, h0, params):
    guard("stores_previous_state")
    H, h = [], _start(X, h0, params)
    for x in X:
        H.append(h)  # stored before the update: off by one step
        h = _cell(x, h, params)
    return np.stack(H), None


def reversed_outputs(X, h0, params):
    guard("reversed_outputs")
    H = solution_rnn_forward(X, h0, params)[0]
    return H[::-1], None


def ignores_h0(X, h0, params):
    guard("ignores_h0")
    return solution_rnn_forward(X, np.zeros_like(_start(X, h0, params)), params)[0], None


def sigmoid_sequence(X, h0, params):
    guard("sigmoid_sequence")
    H, h = [], _start(X, h0, params)
    for x in X:
        h = _cell(x, h, params, _sigmoid)
        H.append(h)
    return np.stack(H), None


def batch_major(X, h0, params):
    guard("batch_major")
    return solution_rnn_forward(X, h0, params)[0].transpose(1, 0, 2), None


RNN_FORWARD = (
    Mistake(
        "the hidden state not carried from one step to the next (every step starts from h0)",
        2,
        state_not_carried,
    ),
    Mistake("H[t] holding the state *before* step t (off by one step)", 2, stores_previous_state),
    Mistake("the outputs stored in reversed time order", 2, reversed_outputs),
    Mistake("h0 ignored (the sequence starts from zeros)", 2, ignores_h0),
    Mistake("sigmoid used instead of tanh for the hidden state", 2, sigmoid_sequence),
    Mistake(
        "a batch-major result (N, T, H); the book's sequences are time-major (T, N, H)",
        2,
        batch_major,
    ),
)
