"""A recurrent network that reads a whole sequence and predicts one number.

Used in chapters 5 and 7 on the adding problem (:func:`rnncore.adding_problem`):
the network reads T steps and its last hidden state, through a linear output
unit, predicts the sum of the two marked values. Whether it can beat the
baseline MSE of 1/6 shows whether gradients reach back T/2 steps.

Parameters are a flat dict: ``layer0.*`` (``layer1.*`` ...) as in
:mod:`rnncore.stacked`, and the output unit ``out.W_hq`` of shape (H, 1),
``out.b_q`` of shape (1,).

Letters in shapes: T time steps, N batch size, D input features, H hidden units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_int, check_rng
from .init import init_output_params
from .lm import _num_layers
from .recurrent import CELLS
from .stacked import init_stacked_params, stacked_backward, stacked_forward

__all__ = [
    "init_regressor_params",
    "regressor_forward",
    "regressor_backward",
    "mse_loss",
    "regressor_loss",
]


class RegressorCache(NamedTuple):
    """What :func:`regressor_backward` needs from :func:`regressor_forward`."""

    recurrent: object  # the cache of stacked_forward
    h_last: np.ndarray  # (N, H) the top layer's final hidden state
    W_hq: np.ndarray  # (H, 1)
    H_shape: tuple  # (T, N, H)


def init_regressor_params(
    input_size, hidden_size, rng, cell="lstm", num_layers=1, forget_bias=0.0, dtype=np.float64
):
    """Random parameters of a sequence-to-one regressor.

    Used in chapters 5 and 7 (the adding problem).

    Parameters
    ----------
    input_size : int
        D, features per step (2 for the adding problem).
    hidden_size : int
        H, hidden units of every layer.
    rng : numpy.random.Generator
    cell : {"rnn", "gru", "lstm"}
    num_layers : int
        Stacked recurrent layers.
    forget_bias : float
        Added to every LSTM layer's ``b_f`` (Gers et al. 2000): the cell starts
        out remembering. Only allowed with ``cell="lstm"`` when non-zero.
    dtype : floating dtype

    Returns
    -------
    params : dict
        ``layer{l}.*`` as :func:`rnncore.init_stacked_params` makes them, then
        ``out.W_hq`` of shape (H, 1) and ``out.b_q`` of shape (1,).
    """
    guard("init_regressor_params")
    where = "init_regressor_params"
    D = check_int("input_size", input_size, 1, where)
    H = check_int("hidden_size", hidden_size, 1, where)
    num_layers = check_int("num_layers", num_layers, 1, where)
    check_choice("cell", cell, CELLS)
    check_rng(rng, where)
    if forget_bias and cell != "lstm":
        raise ValueError(f"{where}: forget_bias only applies to cell='lstm', got cell={cell!r}")
    params = dict(init_stacked_params(cell, D, H, num_layers, rng))
    for layer in range(num_layers):
        if cell == "lstm":
            params[f"layer{layer}.b_f"] = params[f"layer{layer}.b_f"] + forget_bias
    params.update({f"out.{k}": v for k, v in init_output_params(H, 1, rng).items()})
    return {k: np.asarray(v).astype(dtype) for k, v in params.items()}


def _check_activation(cell, activation, where) -> None:
    check_choice("activation", activation, ("tanh", "relu"))
    if activation != "tanh" and cell != "rnn":
        raise ValueError(f"{where}: activation={activation!r} needs cell='rnn', got {cell!r}")


def _check_regressor(params, X, cell, where) -> tuple[Sizes, int]:
    check_choice("cell", cell, CELLS)
    if not isinstance(params, dict):
        raise TypeError(
            f"{where}: params must be a dict of named arrays, got {type(params).__name__}"
        )
    for key in ("out.W_hq", "out.b_q"):
        if key not in params:
            raise ValueError(
                f"{where}: params is missing {key!r}; make params with init_regressor_params"
            )
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where=where)
    check_array("params['out.W_hq']", params["out.W_hq"], ("H", 1), sizes, where=where)
    check_array("params['out.b_q']", params["out.b_q"], (1,), sizes, where=where)
    num_layers = _num_layers(params)
    if num_layers == 0:
        raise ValueError(f"{where}: params has no recurrent layer (keys 'layer0.*')")
    return sizes, num_layers


def _regressor_forward(X, params, cell, num_layers, activation="tanh"):
    kw = {"activation": activation} if cell == "rnn" else {}
    H_top, _, rnn_cache = stacked_forward(X, params, cell, num_layers, **kw)  # (T, N, H)
    h_last = H_top[-1]  # (N, H) only the final state is read out
    y_hat = (h_last @ params["out.W_hq"] + params["out.b_q"])[:, 0]  # (N,)
    return y_hat, RegressorCache(rnn_cache, h_last, params["out.W_hq"], H_top.shape)


def regressor_forward(X, params, cell, activation="tanh"):
    """Predict one number per sequence from the top layer's last hidden state.

    Used in chapters 5, 7 and 10 (the adding problem).

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
    params : dict
        From :func:`init_regressor_params`.
    cell : {"rnn", "gru", "lstm"}
    activation : {"tanh", "relu"}
        The RNN's nonlinearity (``"relu"`` for the IRNN of chapter 10; rnn only).

    Returns
    -------
    y_hat : ndarray of shape (N,)
    cache : RegressorCache
        Opaque; pass it to :func:`regressor_backward`.
    """
    guard("regressor_forward")
    _, num_layers = _check_regressor(params, X, cell, "regressor_forward")
    _check_activation(cell, activation, "regressor_forward")
    return _regressor_forward(X, params, cell, num_layers, activation)


def _regressor_backward(dy_hat, cache):
    dh_last = dy_hat[:, None] * cache.W_hq[:, 0]  # (N, H)
    dH_top = np.zeros(cache.H_shape, dtype=dh_last.dtype)  # (T, N, H) no loss on earlier steps
    dH_top[-1] = dh_last
    _, grads = stacked_backward(dH_top, cache.recurrent)
    grads = dict(grads)
    grads["out.W_hq"] = cache.h_last.T @ dy_hat[:, None]  # (H, 1)
    grads["out.b_q"] = np.array([dy_hat.sum()], dtype=dy_hat.dtype)  # (1,)
    return grads


def regressor_backward(dy_hat, cache):
    """Gradients of every parameter of the regressor.

    Used in chapters 5 and 7; the gradient enters at the last step only and
    must travel back through time to reach the marked inputs.

    Parameters
    ----------
    dy_hat : ndarray of shape (N,)
        Gradient of the loss with respect to the predictions.
    cache : RegressorCache
        From :func:`regressor_forward`.

    Returns
    -------
    grads : dict
        Same keys and shapes as ``params``.
    """
    guard("regressor_backward")
    if not isinstance(cache, RegressorCache):
        raise TypeError(
            f"cache must be the RegressorCache returned by regressor_forward, got "
            f"{type(cache).__name__}"
        )
    check_array("dy_hat", dy_hat, ("N",), Sizes(N=cache.H_shape[1]), where="regressor_backward")
    return _regressor_backward(dy_hat, cache)


def _mse_loss(y_hat, y):
    diff = y_hat - y  # (N,)
    return float(np.mean(diff**2)), (2 / y.shape[0]) * diff


def mse_loss(y_hat, y):
    """Mean squared error ``mean((y_hat - y)²)`` and its gradient.

    Used in chapters 5 and 7 (the adding problem, whose constant baseline
    scores 1/6).

    Parameters
    ----------
    y_hat : ndarray of shape (N,)
        Predictions.
    y : ndarray of shape (N,)
        Targets.

    Returns
    -------
    loss : float
    dy_hat : ndarray of shape (N,)
        ``2 (y_hat - y) / N``.
    """
    guard("mse_loss")
    sizes = Sizes()
    check_array("y_hat", y_hat, ("N",), sizes, where="mse_loss")
    check_array("y", y, ("N",), sizes, where="mse_loss")
    return _mse_loss(y_hat, y)


def _regressor_loss(X, y, params, cell, num_layers, activation="tanh"):
    y_hat, cache = _regressor_forward(X, params, cell, num_layers, activation)
    loss, dy_hat = _mse_loss(y_hat, y)
    return loss, _regressor_backward(dy_hat.astype(y_hat.dtype, copy=False), cache)


def regressor_loss(X, y, params, cell, activation="tanh"):
    """Mean squared error of the regressor on a batch, and its gradients.

    Used in chapters 5, 7 and 10 (the adding problem).

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
    y : ndarray of shape (N,)
    params : dict
        From :func:`init_regressor_params`.
    cell : {"rnn", "gru", "lstm"}
    activation : {"tanh", "relu"}
        The RNN's nonlinearity (rnn only).

    Returns
    -------
    loss : float
    grads : dict
        Keyed like ``params``.
    """
    guard("regressor_loss")
    sizes, num_layers = _check_regressor(params, X, cell, "regressor_loss")
    check_array("y", y, ("N",), sizes, where="regressor_loss")
    _check_activation(cell, activation, "regressor_loss")
    return _regressor_loss(X, y, params, cell, num_layers, activation)
