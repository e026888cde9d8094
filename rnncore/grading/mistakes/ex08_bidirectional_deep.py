"""Typical wrong bidirectional and stacked RNNs (exercise 8; chapter 8, Bidirectional and deep).

All of them use vanilla RNN cells and zero initial states, like the exercise.
"""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _rnn(X, p, prefix="", h0=None):
    guard("_rnn")
    W_xh, W_hh, b_h = (p[prefix + k] for k in ("W_xh", "W_hh", "b_h"))
    h = np.zeros((X.shape[1], W_hh.shape[0]), X.dtype) if h0 is None else h0
    H = []
    for x in X:
        h = np.tanh(x @ W_xh + h @ W_hh + b_h)  # (N, H)
        H.append(h)
    return np.stack(H)  # (T, N, H)


def solution_bidirectional_rnn_forward(X, params):
    guard("solution_bidirectional_rnn_forward")
    H_fwd = _rnn(X, params, "fwd.")  # (T, N, H)
    H_bwd = _rnn(X[::-1], params, "bwd.")[::-1]  # (T, N, H) re-aligned with X in time
    return np.concatenate([H_fwd, H_bwd], axis=-1)  # (T, N, 2H)


BIDIRECTIONAL_RNN_FORWARD = (
    Mistake(
        "the backward direction's outputs left in reversed time order; flip them back "
        "so that H[t] belongs to x_t",
        8,
        lambda X, p: np.concatenate([_rnn(X, p, "fwd."), _rnn(X[::-1], p, "bwd.")], -1),
    ),
    Mistake(
        "the directions concatenated the wrong way round; the forward direction comes first",
        8,
        lambda X, p: np.concatenate([_rnn(X[::-1], p, "bwd.")[::-1], _rnn(X, p, "fwd.")], -1),
    ),
    Mistake(
        "the forward direction's parameters used for both directions (use bwd.*)",
        8,
        lambda X, p: np.concatenate([_rnn(X, p, "fwd."), _rnn(X[::-1], p, "fwd.")[::-1]], -1),
    ),
    Mistake(
        "the backward direction reading the sequence forwards (reverse X first)",
        8,
        lambda X, p: np.concatenate([_rnn(X, p, "fwd."), _rnn(X, p, "bwd.")], -1),
    ),
    Mistake(
        "the two directions added instead of concatenated",
        8,
        lambda X, p: _rnn(X, p, "fwd.") + _rnn(X[::-1], p, "bwd.")[::-1],
    ),
    Mistake(
        "the directions concatenated along the time axis; concatenate the features (axis -1)",
        8,
        lambda X, p: np.concatenate([_rnn(X, p, "fwd."), _rnn(X[::-1], p, "bwd.")[::-1]], 0),
    ),
)


def _stack(X, p, L, carry=False, last_only=False, residual=False, collect=False):
    guard("_stack")
    inputs, h_last, outputs = X, None, []
    for layer in range(L):
        H = _rnn(inputs, p, f"layer{layer}.", h_last if carry else None)  # (T, N, H)
        if residual and layer > 0:
            H = H + inputs
        outputs.append(H)
        h_last = H[-1]
        inputs = np.broadcast_to(H[-1], H.shape) if last_only else H
    return np.concatenate(outputs, axis=-1) if collect else outputs[-1]


def solution_stacked_rnn_forward(X, params, num_layers):
    guard("solution_stacked_rnn_forward")
    return _stack(X, params, num_layers)


STACKED_RNN_FORWARD = (
    Mistake(
        "only the first layer's output returned; each layer reads the one below and "
        "the top layer's states are the result",
        8,
        lambda X, p, L: _rnn(X, p, "layer0."),
    ),
    Mistake(
        "each layer started from the final state of the layer below; every layer starts from zeros",
        8,
        lambda X, p, L: _stack(X, p, L, carry=True),
    ),
    Mistake(
        "one layer too few (range(num_layers - 1))",
        8,
        lambda X, p, L: _stack(X, p, L - 1) if L > 1 else X,
    ),
    Mistake(
        "only the last hidden state passed up; the next layer reads the whole sequence "
        "H of the layer below",
        8,
        lambda X, p, L: _stack(X, p, L, last_only=True),
    ),
    Mistake(
        "residual connections added between the layers; the exercise's stack has none",
        8,
        lambda X, p, L: _stack(X, p, L, residual=True),
    ),
    Mistake(
        "every layer's states concatenated; return the top layer's only",
        8,
        lambda X, p, L: _stack(X, p, L, collect=True),
    ),
)
