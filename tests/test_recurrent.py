"""Tests for rnncore.recurrent: one interface over the RNN, GRU and LSTM sequences."""

from __future__ import annotations

import numpy as np
import pytest

from rnncore.gradcheck import gradcheck
from rnncore.gru_cell import gru_cell_forward
from rnncore.init import init_gru_params, init_lstm_params, init_rnn_params
from rnncore.lstm_cell import lstm_cell_forward
from rnncore.recurrent import (
    CELLS,
    init_params,
    param_names,
    recurrent_backward,
    recurrent_forward,
)
from rnncore.rnn_cell import rnn_cell_forward

TOL = 1e-7
SHAPES = [(1, 1, 2, 3), (3, 2, 4, 3), (4, 1, 3, 5), (2, 3, 3, 2)]  # (T, N, D, H)
VARIANTS = [("rnn", {}), ("gru", {}), ("gru", {"reset_after": True}), ("lstm", {})]


def _case(cell, kw, T, N, D, H, seed, with_state=True):
    rng = np.random.default_rng(seed)
    params = init_params(cell, D, H, rng, **kw)
    params = {k: v * 2 for k, v in params.items()}  # larger weights: saturation is exercised
    X = rng.normal(size=(T, N, D))
    if not with_state:
        return X, None, params
    if cell == "lstm":
        return X, (rng.normal(size=(N, H)), rng.normal(size=(N, H))), params
    return X, rng.normal(size=(N, H)), params


def _cell_loop(cell, X, state0, params, reset_after=False):
    """The definition: one cell step per time step, written out."""
    T, N, _ = X.shape
    H_size = params["W_hh" if cell != "lstm" else "W_hi"].shape[0]
    zeros = np.zeros((N, H_size))
    if cell == "lstm":
        h, c = (zeros, zeros) if state0 is None else state0
    else:
        h = zeros if state0 is None else state0
    outputs = []
    for t in range(T):
        if cell == "rnn":
            h, _ = rnn_cell_forward(X[t], h, params)
        elif cell == "gru":
            h, _ = gru_cell_forward(X[t], h, params, reset_after=reset_after)
        else:
            h, c, _ = lstm_cell_forward(X[t], h, c, params)
        outputs.append(h)
    return np.stack(outputs), ((h, c) if cell == "lstm" else h)


def _flatten_state(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("cell,kw", VARIANTS)
@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_forward_equals_a_loop_of_cells(cell, kw, T, N, D, H):
    X, state0, params = _case(cell, kw, T, N, D, H, seed=T + 10 * N + 100 * D)
    H_seq, state_T, _ = recurrent_forward(cell, X, state0, params, **kw)
    H_loop, state_loop = _cell_loop(cell, X, state0, params, **kw)
    assert H_seq.shape == (T, N, H)
    np.testing.assert_allclose(H_seq, H_loop, rtol=1e-12, atol=1e-14)
    for got, expected in zip(_flatten_state(state_T), _flatten_state(state_loop)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert isinstance(state_T, tuple) == (cell == "lstm")


@pytest.mark.parametrize("cell,kw", VARIANTS)
def test_state0_none_means_zeros(cell, kw):
    X, _, params = _case(cell, kw, 3, 2, 3, 4, seed=1, with_state=False)
    zeros = np.zeros((2, 4))
    state0 = (zeros, zeros) if cell == "lstm" else zeros
    a = recurrent_forward(cell, X, None, params, **kw)
    b = recurrent_forward(cell, X, state0, params, **kw)
    np.testing.assert_array_equal(a[0], b[0])
    if cell == "lstm":  # either half of the pair may be None
        c = recurrent_forward(cell, X, (None, zeros), params)
        np.testing.assert_array_equal(a[0], c[0])


@pytest.mark.parametrize("cell,kw", VARIANTS)
@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_gradients_including_the_final_state(cell, kw, T, N, D, H):
    seed = 7 + T + 10 * N + 100 * D
    X, state0, params = _case(cell, kw, T, N, D, H, seed)
    rng = np.random.default_rng(seed + 1)
    state_names = ["h0", "c0"] if cell == "lstm" else ["h0"]
    inputs = {"X": X, **params, **dict(zip(state_names, _flatten_state(state0)))}

    def f(a):
        state = tuple(a[n] for n in state_names) if cell == "lstm" else a["h0"]
        H_seq, state_T, _ = recurrent_forward(cell, a["X"], state, {k: a[k] for k in params}, **kw)
        return (H_seq, *_flatten_state(state_T))

    H_seq, state_T, cache = recurrent_forward(cell, X, state0, params, **kw)
    dH = rng.normal(size=H_seq.shape)
    dstate_T = [rng.normal(size=(N, H)) for _ in state_names]
    dX, dstate0, grads = recurrent_backward(
        cell, dH, cache, tuple(dstate_T) if cell == "lstm" else dstate_T[0]
    )
    analytic = {"X": dX, **grads, **dict(zip(state_names, _flatten_state(dstate0)))}
    assert set(grads) == set(params)
    errors = gradcheck(f, inputs, analytic, dout=(dH, *dstate_T))
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("cell", CELLS)
def test_backward_without_final_state_gradient(cell):
    X, state0, params = _case(cell, {}, 3, 2, 2, 3, seed=5)
    H_seq, _, cache = recurrent_forward(cell, X, state0, params)
    dH = np.random.default_rng(6).normal(size=H_seq.shape)
    dX, _, grads = recurrent_backward(cell, dH, cache)
    errors = gradcheck(
        lambda a: recurrent_forward(cell, a["X"], state0, {k: a[k] for k in params})[0],
        {"X": X, **params},
        {"X": dX, **grads},
        dout=dH,
    )
    assert max(errors.values()) < TOL, errors


def test_gru_reset_after_is_inferred_from_b_hn():
    X, h0, params = _case("gru", {"reset_after": True}, 3, 2, 3, 4, seed=8)
    inferred = recurrent_forward("gru", X, h0, params)[0]
    explicit = recurrent_forward("gru", X, h0, params, reset_after=True)[0]
    expected, _ = _cell_loop("gru", X, h0, params, reset_after=True)
    np.testing.assert_array_equal(inferred, explicit)
    np.testing.assert_allclose(inferred, expected, rtol=1e-12, atol=1e-14)
    # asking for the d2l variant explicitly ignores b_hn
    plain = recurrent_forward("gru", X, h0, params, reset_after=False)[0]
    np.testing.assert_allclose(plain, _cell_loop("gru", X, h0, params)[0], rtol=1e-12)


def test_param_names_and_init_params():
    rng = np.random.default_rng(9)
    assert param_names("rnn") == ("W_xh", "W_hh", "b_h")
    assert param_names("gru") == (
        "W_xz",
        "W_hz",
        "b_z",
        "W_xr",
        "W_hr",
        "b_r",
        "W_xh",
        "W_hh",
        "b_h",
    )
    assert param_names("gru", reset_after=True)[-1] == "b_hn"
    assert len(param_names("lstm")) == 12
    assert param_names("lstm", forget_bias=1.0, dtype=np.float32) == param_names("lstm")
    for cell, kw in VARIANTS:
        params = init_params(cell, 3, 5, rng, **kw)
        assert set(params) == set(param_names(cell, **kw))
        for name, value in params.items():
            expected = {"W_x": (3, 5), "W_h": (5, 5)}.get(name[:3], (5,))
            assert value.shape == expected, name
    # dispatch: the same draws as the cell's own init function
    reference = {"rnn": init_rnn_params, "gru": init_gru_params, "lstm": init_lstm_params}
    for cell in CELLS:
        a = init_params(cell, 2, 3, np.random.default_rng(10), dtype=np.float32)
        b = reference[cell](2, 3, np.random.default_rng(10), dtype=np.float32)
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
            assert a[k].dtype == np.float32
    lstm = init_params("lstm", 2, 3, np.random.default_rng(11), forget_bias=1.0)
    assert (lstm["b_f"] > 0).all()


@pytest.mark.parametrize("cell", CELLS)
def test_float32_stays_float32(cell):
    rng = np.random.default_rng(12)
    params = init_params(cell, 3, 4, rng, dtype=np.float32)
    X = rng.normal(size=(2, 2, 3)).astype(np.float32)
    H_seq, state_T, cache = recurrent_forward(cell, X, None, params)
    assert H_seq.dtype == np.float32
    dX, _, grads = recurrent_backward(cell, np.ones_like(H_seq), cache)
    assert dX.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("cell", CELLS)
def test_nothing_mutates_its_inputs(cell):
    X, state0, params = _case(cell, {}, 3, 2, 3, 2, seed=13)
    dH = np.random.default_rng(14).normal(size=(3, 2, 2))
    dstate = (np.ones((2, 2)), np.ones((2, 2))) if cell == "lstm" else np.ones((2, 2))
    watched = [X, dH, *params.values(), *_flatten_state(state0), *_flatten_state(dstate)]
    keep = [a.copy() for a in watched]
    _, _, cache = recurrent_forward(cell, X, state0, params)
    recurrent_backward(cell, dH, cache, dstate)
    for before, after in zip(keep, watched):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- bad input


def test_bad_input_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of 'rnn', 'gru', 'lstm', got 'elman'"):
        recurrent_forward("elman", np.zeros((1, 1, 1)), None, {})
    with pytest.raises(ValueError, match="cell must be one of"):
        param_names("LSTM")


def test_bad_input_unknown_option():
    with pytest.raises(TypeError, match="unexpected option 'reset_after' for cell='rnn'"):
        recurrent_forward("rnn", np.zeros((1, 1, 1)), None, {}, reset_after=True)
    with pytest.raises(TypeError, match="unexpected option 'forget_bias' for cell='gru'"):
        init_params("gru", 2, 2, np.random.default_rng(0), forget_bias=1.0)


def test_bad_input_lstm_state_not_a_pair():
    X, _, params = _case("lstm", {}, 2, 1, 2, 2, seed=15, with_state=False)
    with pytest.raises(TypeError, match=r"an LSTM's state0 is a pair \(h, c\)"):
        recurrent_forward("lstm", X, np.zeros((1, 2)), params)
    _, _, cache = recurrent_forward("lstm", X, None, params)
    with pytest.raises(TypeError, match=r"an LSTM's dstate_T is a pair \(h, c\)"):
        recurrent_backward("lstm", np.zeros((2, 1, 2)), cache, np.zeros((1, 2)))


def test_bad_input_wrong_cache():
    X, _, params = _case("rnn", {}, 2, 1, 2, 2, seed=16, with_state=False)
    _, _, cache = recurrent_forward("rnn", X, None, params)
    with pytest.raises(ValueError, match="cell='gru' but the cache comes from a 'rnn' forward"):
        recurrent_backward("gru", np.zeros((2, 1, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the RecurrentCache"):
        recurrent_backward("rnn", np.zeros((2, 1, 2)), cache.inner)


def test_bad_input_shapes_are_reported_by_the_sequence_functions():
    X, _, params = _case("gru", {}, 2, 1, 2, 3, seed=17, with_state=False)
    with pytest.raises(ValueError, match=r"h0 has shape \(1, 2\) but gru_forward needs"):
        recurrent_forward("gru", X, np.zeros((1, 2)), params)
    _, _, cache = recurrent_forward("gru", X, None, params)
    with pytest.raises(ValueError, match=r"dH has shape \(2, 1, 2\) but gru_backward needs"):
        recurrent_backward("gru", np.zeros((2, 1, 2)), cache)


@pytest.mark.parametrize("cell", CELLS)
def test_final_state_is_an_independent_copy(cell):
    X, state0, params = _case(cell, {}, 3, 2, 3, 2, seed=18)
    H_seq, state_T, _ = recurrent_forward(cell, X, state0, params)
    keep = H_seq.copy()
    for s in _flatten_state(state_T):
        s += 1.0  # writeable, and not a view of H
    np.testing.assert_array_equal(H_seq, keep)
