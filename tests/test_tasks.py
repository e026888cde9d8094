"""Tests of rnncore.tasks: the sequence-to-one regressor used on the adding problem.

Independent routes: a plain loop of the RNN equations for the forward pass,
finite differences (rnncore.gradcheck) for every gradient, the definition of
the mean squared error for the loss.
"""

import numpy as np
import pytest

from rnncore.gradcheck import gradcheck
from rnncore.tasks import (
    init_regressor_params,
    mse_loss,
    regressor_backward,
    regressor_forward,
    regressor_loss,
)

CELLS = ("rnn", "gru", "lstm")


def _params(cell, D, H, L, seed=0):
    rng = np.random.default_rng(seed)
    base = init_regressor_params(D, H, rng, cell=cell, num_layers=L)
    return {k: rng.normal(0, 0.6, size=v.shape) for k, v in base.items()}


def test_forward_of_a_one_layer_rnn_matches_a_loop():
    rng = np.random.default_rng(1)
    params = _params("rnn", 2, 5, 1)
    X = rng.normal(size=(6, 3, 2))
    h = np.zeros((3, 5))
    for t in range(6):
        h = np.tanh(X[t] @ params["layer0.W_xh"] + h @ params["layer0.W_hh"] + params["layer0.b_h"])
    expected = (h @ params["out.W_hq"] + params["out.b_q"])[:, 0]
    y_hat, _ = regressor_forward(X, params, "rnn")
    assert y_hat.shape == (3,)
    np.testing.assert_allclose(y_hat, expected, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("T, N, D, H, L", [(5, 3, 2, 4, 1), (1, 1, 3, 2, 1), (4, 2, 2, 3, 2)])
def test_backward_matches_finite_differences(cell, T, N, D, H, L):
    rng = np.random.default_rng(2)
    params = _params(cell, D, H, L)
    X = rng.normal(size=(T, N, D))
    y_hat, cache = regressor_forward(X, params, cell)
    dy = rng.normal(size=y_hat.shape)
    grads = regressor_backward(dy, cache)
    assert set(grads) == set(params)
    errors = gradcheck(lambda a: regressor_forward(X, a, cell)[0], params, grads, dout=dy)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
def test_loss_and_its_gradient(cell):
    rng = np.random.default_rng(3)
    params = _params(cell, 2, 3, 1)
    X, y = rng.normal(size=(4, 5, 2)), rng.normal(size=5)
    loss, grads = regressor_loss(X, y, params, cell)
    y_hat, _ = regressor_forward(X, params, cell)
    assert loss == pytest.approx(np.mean((y_hat - y) ** 2), rel=1e-12)
    errors = gradcheck(lambda a: np.array(regressor_loss(X, y, a, cell)[0]), params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_mse_loss_gradient_and_value():
    rng = np.random.default_rng(4)
    y_hat, y = rng.normal(size=6), rng.normal(size=6)
    loss, dy_hat = mse_loss(y_hat, y)
    assert loss == pytest.approx(((y_hat - y) ** 2).sum() / 6, rel=1e-12)
    errors = gradcheck(
        lambda a: np.array(mse_loss(a["y_hat"], y)[0]), {"y_hat": y_hat}, {"y_hat": dy_hat}
    )
    assert errors["y_hat"] < 1e-9
    assert mse_loss(np.ones(3), np.ones(3))[0] == 0.0


def test_init_shapes_forget_bias_and_dtype():
    rng = np.random.default_rng(0)
    params = init_regressor_params(
        2, 8, rng, cell="lstm", num_layers=2, forget_bias=1.0, dtype=np.float32
    )
    assert params["layer0.W_xf"].shape == (2, 8) and params["layer1.W_xf"].shape == (8, 8)
    assert params["out.W_hq"].shape == (8, 1) and params["out.b_q"].shape == (1,)
    bound = 1 / np.sqrt(8)
    for layer in range(2):  # Uniform(-1/sqrt(H), 1/sqrt(H)) shifted by the forget bias
        b_f = params[f"layer{layer}.b_f"]
        assert (b_f >= 1 - bound).all() and (b_f <= 1 + bound).all()
    assert all(v.dtype == np.float32 for v in params.values())
    X = np.zeros((3, 2, 2), dtype=np.float32)
    assert regressor_forward(X, params, "lstm")[0].dtype == np.float32


def test_inputs_are_not_modified():
    rng = np.random.default_rng(5)
    params = _params("gru", 2, 3, 1)
    saved = {k: v.copy() for k, v in params.items()}
    X, y = rng.normal(size=(3, 2, 2)), rng.normal(size=2)
    X0, y0 = X.copy(), y.copy()
    regressor_loss(X, y, params, "gru")
    for k in params:
        np.testing.assert_array_equal(params[k], saved[k])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# ---------------------------------------------------------------- bad input


def test_bad_input_messages():
    rng = np.random.default_rng(0)
    params = init_regressor_params(2, 3, rng, cell="rnn")
    X = np.zeros((4, 2, 2))
    with pytest.raises(ValueError, match=r"X has shape \(4, 2\) but regressor_forward needs"):
        regressor_forward(np.zeros((4, 2)), params, "rnn")
    with pytest.raises(ValueError, match="cell must be one of"):
        regressor_forward(X, params, "tcn")
    with pytest.raises(TypeError, match="params must be a dict"):
        regressor_forward(X, None, "rnn")
    with pytest.raises(ValueError, match="params is missing 'out.W_hq'"):
        regressor_forward(X, {k: v for k, v in params.items() if k != "out.W_hq"}, "rnn")
    with pytest.raises(ValueError, match="no recurrent layer"):
        regressor_forward(X, {k: v for k, v in params.items() if k.startswith("out")}, "rnn")
    with pytest.raises(ValueError, match=r"y has shape \(3,\) but regressor_loss needs"):
        regressor_loss(X, np.zeros(3), params, "rnn")
    with pytest.raises(ValueError, match=r"y has shape \(2, 1\) but mse_loss needs"):
        mse_loss(np.zeros(2), np.zeros((2, 1)))
    _, cache = regressor_forward(X, params, "rnn")
    with pytest.raises(ValueError, match=r"dy_hat has shape \(3,\) but regressor_backward needs"):
        regressor_backward(np.zeros(3), cache)
    with pytest.raises(TypeError, match="cache must be the RegressorCache"):
        regressor_backward(np.zeros(2), ())
    with pytest.raises(ValueError, match="forget_bias only applies to cell='lstm'"):
        init_regressor_params(2, 3, rng, cell="gru", forget_bias=1.0)
    with pytest.raises(ValueError, match="input_size must be at least 1"):
        init_regressor_params(0, 3, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        init_regressor_params(2, 3, "seed")
