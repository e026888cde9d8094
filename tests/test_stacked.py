"""Tests for rnncore.stacked: deep recurrent networks, one layer feeding the next."""

from __future__ import annotations

import numpy as np
import pytest

from rnncore.bidirectional import bidirectional_forward
from rnncore.gradcheck import gradcheck
from rnncore.recurrent import recurrent_forward
from rnncore.stacked import init_stacked_params, stacked_backward, stacked_forward

TOL = 1e-7
VARIANTS = [("rnn", {}), ("gru", {}), ("gru", {"reset_after": True}), ("lstm", {})]


def _case(cell, kw, T, N, D, H, L, seed, bidirectional=False):
    rng = np.random.default_rng(seed)
    params = init_stacked_params(cell, D, H, L, rng, bidirectional=bidirectional, **kw)
    return rng.normal(size=(T, N, D)), params


def _layer(params, layer):
    prefix = f"layer{layer}."
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _random_state(cell, N, H, rng):
    if cell == "lstm":
        return rng.normal(size=(N, H)), rng.normal(size=(N, H))
    return rng.normal(size=(N, H))


@pytest.mark.parametrize("cell,kw", VARIANTS)
def test_one_layer_is_the_plain_forward(cell, kw):
    X, params = _case(cell, kw, 3, 2, 4, 3, L=1, seed=1)
    state0 = _random_state(cell, 2, 3, np.random.default_rng(2))
    H_top, states_T, _ = stacked_forward(X, params, cell, states0=[state0], **kw)
    H_plain, state_T, _ = recurrent_forward(cell, X, state0, _layer(params, 0), **kw)
    np.testing.assert_array_equal(H_top, H_plain)
    assert len(states_T) == 1
    for a, b in zip(np.atleast_1d(states_T[0]), np.atleast_1d(state_T)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_one_bidirectional_layer_is_the_plain_bidirectional_forward(cell):
    X, params = _case(cell, {}, 3, 2, 4, 3, L=1, seed=3, bidirectional=True)
    H_top, _, _ = stacked_forward(X, params, cell, bidirectional=True)
    H_plain, _ = bidirectional_forward(X, _layer(params, 0), cell)
    np.testing.assert_array_equal(H_top, H_plain)


@pytest.mark.parametrize("cell,kw", VARIANTS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_compose(cell, kw, bidirectional):
    T, N, D, H, L = 4, 2, 3, 5, 3
    X, params = _case(cell, kw, T, N, D, H, L, seed=4, bidirectional=bidirectional)
    rng = np.random.default_rng(5)
    if bidirectional:
        states0 = [(_random_state(cell, N, H, rng), None) for _ in range(L)]
    else:
        states0 = [_random_state(cell, N, H, rng), None, _random_state(cell, N, H, rng)]
    H_top, states_T, _ = stacked_forward(
        X, params, cell, bidirectional=bidirectional, states0=states0, **kw
    )
    inputs = X
    for layer in range(L):
        layer_params = _layer(params, layer)
        if bidirectional:
            fwd = {k[4:]: v for k, v in layer_params.items() if k.startswith("fwd.")}
            bwd = {k[4:]: v for k, v in layer_params.items() if k.startswith("bwd.")}
            H_f, s_f, _ = recurrent_forward(cell, inputs, states0[layer][0], fwd, **kw)
            H_b, s_b, _ = recurrent_forward(cell, inputs[::-1].copy(), None, bwd, **kw)
            inputs = np.concatenate([H_f, H_b[::-1]], axis=-1)
            expected_states = (s_f, s_b)
        else:
            inputs, expected_states, _ = recurrent_forward(
                cell, inputs, states0[layer], layer_params, **kw
            )
        got = states_T[layer]
        np.testing.assert_allclose(
            np.concatenate([np.ravel(s) for s in _leaves(got)]),
            np.concatenate([np.ravel(s) for s in _leaves(expected_states)]),
            rtol=1e-13,
        )
    np.testing.assert_allclose(H_top, inputs, rtol=1e-13, atol=1e-15)
    assert H_top.shape == (T, N, 2 * H if bidirectional else H)


def _leaves(state):
    if isinstance(state, tuple):
        return [leaf for s in state for leaf in _leaves(s)]
    return [state]


GRAD_CASES = [
    # (T, N, D, H, L, bidirectional)
    (1, 1, 2, 3, 2, False),
    (3, 2, 3, 2, 2, False),
    (2, 1, 3, 2, 3, False),
    (3, 2, 2, 3, 2, True),
    (1, 1, 3, 2, 3, True),
]


@pytest.mark.parametrize("cell,kw", VARIANTS)
@pytest.mark.parametrize("T,N,D,H,L,bidirectional", GRAD_CASES)
def test_gradients(cell, kw, T, N, D, H, L, bidirectional):
    seed = T + 10 * N + 100 * D + 1000 * L
    X, params = _case(cell, kw, T, N, D, H, L, seed, bidirectional)
    rng = np.random.default_rng(seed)
    if bidirectional:
        states0 = [(_random_state(cell, N, H, rng), _random_state(cell, N, H, rng))] * L
    else:
        states0 = [_random_state(cell, N, H, rng) for _ in range(L)]
    H_top, _, cache = stacked_forward(X, params, cell, None, bidirectional, states0, **kw)
    dH = rng.normal(size=H_top.shape)
    dX, grads = stacked_backward(dH, cache)
    assert set(grads) == set(params)
    assert [k.split(".")[0] for k in grads] == sorted(
        k.split(".")[0] for k in grads
    )  # bottom first

    def f(a):
        p = {k: a[k] for k in params}
        return stacked_forward(a["X"], p, cell, None, bidirectional, states0, **kw)[0]

    # Gradients reaching the bottom layer through two or three layers can be ~1e-4; with
    # eps=1e-6 the rounding error of the centred difference (~1e-16 |f| / eps) is then
    # visible at the 1e-7 level, so use eps=1e-5 (truncation error ~eps^2, still negligible).
    # Bidirectional stacks have many parameters; every array is still checked, at 6 random
    # entries each (test_bidirectional checks a single bidirectional layer entry by entry).
    errors = gradcheck(
        f,
        {"X": X, **params},
        {"X": dX, **grads},
        dout=dH,
        eps=1e-5,
        sparse=6 if bidirectional else None,
        rng=np.random.default_rng(seed),
    )
    assert max(errors.values()) < TOL, errors


def test_num_layers_is_inferred_and_other_keys_are_ignored():
    X, params = _case("rnn", {}, 2, 1, 3, 2, L=3, seed=6)
    model = {**params, "embed.W": np.zeros((7, 3)), "out.W_hq": np.zeros((2, 7))}
    H_all, states_T, _ = stacked_forward(X, model)
    assert len(states_T) == 3
    H_explicit, _, _ = stacked_forward(X, params, num_layers=3)
    np.testing.assert_array_equal(H_all, H_explicit)


def test_gru_reset_after_is_inferred():
    for bidirectional in (False, True):
        X, params = _case("gru", {"reset_after": True}, 3, 2, 2, 3, 2, 7, bidirectional)
        a = stacked_forward(X, params, "gru", bidirectional=bidirectional)[0]
        b = stacked_forward(X, params, "gru", bidirectional=bidirectional, reset_after=True)[0]
        c = stacked_forward(X, params, "gru", bidirectional=bidirectional, reset_after=False)[0]
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, c)


def test_init_stacked_params_shapes():
    params = init_stacked_params("lstm", 5, 4, 3, np.random.default_rng(8), bidirectional=True)
    assert params["layer0.fwd.W_xi"].shape == (5, 4)
    assert params["layer1.bwd.W_xi"].shape == (8, 4)  # reads both directions below
    assert params["layer2.fwd.W_hc"].shape == (4, 4)
    assert len(params) == 3 * 2 * 12
    params = init_stacked_params("rnn", 5, 4, 2, np.random.default_rng(8), dtype=np.float32)
    assert params["layer1.W_xh"].shape == (4, 4) and params["layer1.W_xh"].dtype == np.float32


def test_float32_stays_float32():
    rng = np.random.default_rng(9)
    params = init_stacked_params("lstm", 2, 3, 2, rng, bidirectional=True, dtype=np.float32)
    X = rng.normal(size=(2, 2, 2)).astype(np.float32)
    H_top, _, cache = stacked_forward(X, params, "lstm", bidirectional=True)
    dX, grads = stacked_backward(np.ones_like(H_top), cache)
    assert H_top.dtype == dX.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


def test_nothing_mutates_its_inputs():
    X, params = _case("gru", {}, 3, 2, 2, 3, 2, seed=10, bidirectional=True)
    states0 = [(np.ones((2, 3)), None), None]
    dH = np.random.default_rng(11).normal(size=(3, 2, 6))
    watched = [X, dH, states0[0][0], *params.values()]
    keep = [a.copy() for a in watched]
    _, _, cache = stacked_forward(X, params, "gru", bidirectional=True, states0=states0)
    stacked_backward(dH, cache)
    for before, after in zip(keep, watched):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- bad input


def test_bad_input_layer_keys():
    X, params = _case("rnn", {}, 2, 1, 2, 3, L=3, seed=12)
    with pytest.raises(ValueError, match="num_layers=2 but params also holds layer2"):
        stacked_forward(X, params, num_layers=2)
    gappy = {k: v for k, v in params.items() if not k.startswith("layer1.")}
    with pytest.raises(ValueError, match="without gaps \\(missing layer1\\)"):
        stacked_forward(X, gappy)
    with pytest.raises(ValueError, match="params has no 'layer0.' keys"):
        stacked_forward(X, {"W_xh": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="num_layers must be a positive int, got 0"):
        stacked_forward(X, params, num_layers=0)
    with pytest.raises(ValueError, match="params is missing 'layer0.fwd.W_xh'"):
        stacked_forward(X, params, bidirectional=True)


def test_bad_input_wrong_shape():
    X, params = _case("rnn", {}, 2, 1, 2, 3, L=2, seed=13)
    params["layer1.W_xh"] = np.zeros((2, 3))
    with pytest.raises(
        ValueError,
        match=r"params\['layer1.W_xh'\] has shape \(2, 3\) but stacked_forward needs "
        r"\(3, H\) = \(3, 3\)",
    ):
        stacked_forward(X, params)
    X, params = _case("rnn", {}, 2, 1, 2, 3, L=2, seed=13, bidirectional=True)
    _, _, cache = stacked_forward(X, params, bidirectional=True)
    with pytest.raises(
        ValueError, match=r"dH_top has shape \(2, 1, 3\) but stacked_backward needs \(T, N, 2H\)"
    ):
        stacked_backward(np.zeros((2, 1, 3)), cache)


def test_bad_input_wrong_type_or_length():
    X, params = _case("rnn", {}, 2, 1, 2, 3, L=2, seed=14)
    with pytest.raises(TypeError, match="params must be a dict"):
        stacked_forward(X, list(params.values()))
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        stacked_forward(X, params, bidirectional="yes")
    with pytest.raises(
        ValueError,
        match="states0 must be None or a list with one initial state "
        "per layer \\(2\\), got list of length 1",
    ):
        stacked_forward(X, params, states0=[None])
    with pytest.raises(TypeError, match="cache must be the StackedCache"):
        stacked_backward(np.zeros((2, 1, 3)), None)
    with pytest.raises(ValueError, match="init_stacked_params: num_layers must be a positive int"):
        init_stacked_params("rnn", 2, 3, 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="bidirectional must be True or False"):
        init_stacked_params("rnn", 2, 3, 1, np.random.default_rng(0), bidirectional=1)


def test_bad_input_unknown_cell():
    X, params = _case("rnn", {}, 2, 1, 2, 3, L=2, seed=15)
    with pytest.raises(ValueError, match="cell must be one of 'rnn', 'gru', 'lstm'"):
        stacked_forward(X, params, cell="cnn")


@pytest.mark.parametrize("cell,kw", VARIANTS)
def test_carrying_states_across_chunks_equals_one_long_run(cell, kw):
    # what truncated BPTT relies on: states_T of one chunk start the next chunk
    X, params = _case(cell, kw, 5, 2, 3, 4, L=2, seed=16)
    H_all, states_all, _ = stacked_forward(X, params, cell, **kw)
    H_a, states_a, _ = stacked_forward(X[:2], params, cell, **kw)
    H_b, states_b, _ = stacked_forward(X[2:], params, cell, states0=states_a, **kw)
    np.testing.assert_allclose(np.concatenate([H_a, H_b]), H_all, rtol=1e-13, atol=1e-15)
    for got, expected in zip(_leaves(tuple(states_b)), _leaves(tuple(states_all))):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
