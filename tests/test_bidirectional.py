"""Tests for rnncore.bidirectional: two recurrent passes, one per direction in time."""

from __future__ import annotations

import numpy as np
import pytest

from rnncore.bidirectional import (
    bidirectional_backward,
    bidirectional_forward,
    init_bidirectional_params,
)
from rnncore.gradcheck import gradcheck
from rnncore.recurrent import param_names, recurrent_forward

TOL = 1e-7
SHAPES = [(1, 1, 2, 3), (3, 2, 4, 3), (4, 1, 3, 2)]  # (T, N, D, H)
VARIANTS = [("rnn", {}), ("gru", {}), ("gru", {"reset_after": True}), ("lstm", {})]


def _case(cell, kw, T, N, D, H, seed, with_state=False):
    rng = np.random.default_rng(seed)
    params = {k: 2 * v for k, v in init_bidirectional_params(cell, D, H, rng, **kw).items()}
    X = rng.normal(size=(T, N, D))
    state0 = None
    if with_state:

        def state():
            if cell == "lstm":
                return rng.normal(size=(N, H)), rng.normal(size=(N, H))
            return rng.normal(size=(N, H))

        state0 = (state(), state())
    return X, params, state0


def _direction(params, prefix):
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


@pytest.mark.parametrize("cell,kw", VARIANTS)
@pytest.mark.parametrize("T,N,D,H", SHAPES)
@pytest.mark.parametrize("with_state", [False, True])
def test_halves_are_the_two_plain_passes(cell, kw, T, N, D, H, with_state):
    X, params, state0 = _case(cell, kw, T, N, D, H, seed=T + 10 * N + D, with_state=with_state)
    H_bi, _ = bidirectional_forward(X, params, cell, state0, **kw)
    assert H_bi.shape == (T, N, 2 * H)
    s_fwd, s_bwd = state0 if with_state else (None, None)
    H_fwd, _, _ = recurrent_forward(cell, X, s_fwd, _direction(params, "fwd."), **kw)
    H_rev, _, _ = recurrent_forward(cell, X[::-1].copy(), s_bwd, _direction(params, "bwd."), **kw)
    np.testing.assert_allclose(H_bi[..., :H], H_fwd, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(H_bi[..., H:], H_rev[::-1], rtol=1e-13, atol=1e-15)


def test_backward_direction_reads_the_future():
    X, params, _ = _case("rnn", {}, 4, 1, 2, 3, seed=1)
    H_bi, _ = bidirectional_forward(X, params)
    changed = X.copy()
    changed[-1] += 1.0  # only the last input changes
    H_new, _ = bidirectional_forward(changed, params)
    # forward half: steps before T-1 cannot know; backward half: every step knows
    np.testing.assert_array_equal(H_new[:-1, :, :3], H_bi[:-1, :, :3])
    assert (np.abs(H_new[:, :, 3:] - H_bi[:, :, 3:]).max(axis=(1, 2)) > 0).all()


@pytest.mark.parametrize("cell,kw", VARIANTS)
@pytest.mark.parametrize("T,N,D,H", SHAPES)
def test_gradients(cell, kw, T, N, D, H):
    seed = 100 + T + 10 * N + D
    X, params, state0 = _case(cell, kw, T, N, D, H, seed, with_state=True)
    _, cache = bidirectional_forward(X, params, cell, state0, **kw)
    dH = np.random.default_rng(seed).normal(size=(T, N, 2 * H))
    dX, grads = bidirectional_backward(dH, cache)
    assert grads.keys() == params.keys()
    errors = gradcheck(
        lambda a: bidirectional_forward(a["X"], {k: a[k] for k in params}, cell, state0, **kw)[0],
        {"X": X, **params},
        {"X": dX, **grads},
        dout=dH,
    )
    assert max(errors.values()) < TOL, errors


def test_init_bidirectional_params():
    params = init_bidirectional_params("lstm", 3, 4, np.random.default_rng(2), forget_bias=1.0)
    names = param_names("lstm")
    assert set(params) == {f"{d}.{n}" for d in ("fwd", "bwd") for n in names}
    assert params["fwd.W_xi"].shape == (3, 4) and params["bwd.W_hi"].shape == (4, 4)
    assert not np.array_equal(params["fwd.W_xi"], params["bwd.W_xi"])  # independent draws
    gru = init_bidirectional_params("gru", 2, 2, np.random.default_rng(3), reset_after=True)
    assert "fwd.b_hn" in gru and "bwd.b_hn" in gru


def test_gru_reset_after_is_inferred():
    X, params, _ = _case("gru", {"reset_after": True}, 3, 2, 2, 3, seed=4)
    a, _ = bidirectional_forward(X, params, "gru")
    b, _ = bidirectional_forward(X, params, "gru", reset_after=True)
    c, _ = bidirectional_forward(X, params, "gru", reset_after=False)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_float32_stays_float32():
    rng = np.random.default_rng(5)
    params = init_bidirectional_params("gru", 2, 3, rng, dtype=np.float32)
    X = rng.normal(size=(2, 2, 2)).astype(np.float32)
    H_bi, cache = bidirectional_forward(X, params, "gru")
    dX, grads = bidirectional_backward(np.ones_like(H_bi), cache)
    assert H_bi.dtype == dX.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_nothing_mutates_its_inputs(cell):
    X, params, state0 = _case(cell, {}, 3, 2, 2, 2, seed=6, with_state=True)
    dH = np.random.default_rng(7).normal(size=(3, 2, 4))
    flat_states = [a for s in state0 for a in (s if isinstance(s, tuple) else (s,))]
    watched = [X, dH, *params.values(), *flat_states]
    keep = [a.copy() for a in watched]
    _, cache = bidirectional_forward(X, params, cell, state0)
    bidirectional_backward(dH, cache)
    for before, after in zip(keep, watched):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- bad input


def test_bad_input_missing_direction():
    X, params, _ = _case("rnn", {}, 2, 1, 2, 3, seed=8)
    del params["bwd.W_hh"]
    with pytest.raises(ValueError, match="params is missing 'bwd.W_hh'"):
        bidirectional_forward(X, params)


def test_bad_input_wrong_shape():
    X, params, _ = _case("rnn", {}, 2, 1, 2, 3, seed=9)
    params["fwd.W_hh"] = np.zeros((3, 4))
    with pytest.raises(
        ValueError, match=r"params\['fwd.W_hh'\] has shape \(3, 4\) but bidirectional_forward"
    ):
        bidirectional_forward(X, params)
    X, params, _ = _case("rnn", {}, 2, 1, 2, 3, seed=9)
    _, cache = bidirectional_forward(X, params)
    with pytest.raises(
        ValueError,
        match=r"dH has shape \(2, 1, 3\) but bidirectional_backward needs "
        r"\(T, N, 2H\) = \(2, 1, 6\)",
    ):
        bidirectional_backward(np.zeros((2, 1, 3)), cache)


def test_bad_input_wrong_type():
    X, params, _ = _case("rnn", {}, 2, 1, 2, 3, seed=10)
    with pytest.raises(TypeError, match="state0 is a pair"):
        bidirectional_forward(X, params, "rnn", np.zeros((1, 3)))
    with pytest.raises(TypeError, match="cache must be the BidirectionalCache"):
        bidirectional_backward(np.zeros((2, 1, 6)), None)
    with pytest.raises(TypeError, match="X must be a NumPy array"):
        bidirectional_forward(X.tolist(), params)
    with pytest.raises(TypeError, match="params must be a dict"):
        bidirectional_forward(X, list(params.values()))


def test_bad_input_unknown_cell_or_option():
    X, params, _ = _case("rnn", {}, 2, 1, 2, 3, seed=11)
    with pytest.raises(ValueError, match="cell must be one of"):
        bidirectional_forward(X, params, "transformer")
    with pytest.raises(TypeError, match="unexpected option 'reset_after' for cell='rnn'"):
        bidirectional_forward(X, params, "rnn", reset_after=True)


def test_bad_input_not_finite():
    X, params, _ = _case("rnn", {}, 2, 1, 2, 3, seed=12)
    X[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="X passed to bidirectional_forward contains NaN"):
        bidirectional_forward(X, params)
