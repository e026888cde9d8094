"""rnncore.rnn_cell: the vanilla RNN step, proven against independent routes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import ReferenceCallRefused, init_rnn_params, rnn_cell_backward, rnn_cell_forward
from rnncore._guard import refusing
from rnncore.gradcheck import gradcheck

KEYS = ("W_xh", "W_hh", "b_h")
SHAPES = [(1, 3, 3), (1, 2, 5), (3, 4, 2), (4, 5, 6), (2, 1, 1)]  # (N, D, H), N=1 and D≠H


def make_case(N, D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype(dtype)
    h_prev = rng.uniform(-1, 1, size=(N, H)).astype(dtype)
    params = {
        "W_xh": rng.normal(scale=0.5, size=(D, H)).astype(dtype),
        "W_hh": rng.normal(scale=0.5, size=(H, H)).astype(dtype),
        "b_h": rng.normal(scale=0.5, size=(H,)).astype(dtype),
    }
    return x, h_prev, params


def forward_of(arrays):
    return rnn_cell_forward(arrays["x"], arrays["h_prev"], {k: arrays[k] for k in KEYS})[0]


# --- gradients against finite differences -------------------------------------------------


@pytest.mark.parametrize("N, D, H", SHAPES)
def test_backward_matches_finite_differences(N, D, H):
    x, h_prev, params = make_case(N, D, H, seed=N * 100 + D * 10 + H)
    dh = np.random.default_rng(1).normal(size=(N, H))  # random, not ones: every entry counts
    _, cache = rnn_cell_forward(x, h_prev, params)
    dx, dh_prev, grads = rnn_cell_backward(dh, cache)

    errors = gradcheck(
        forward_of,
        {"x": x, "h_prev": h_prev, **params},
        {"x": dx, "h_prev": dh_prev, **grads},
        dout=dh,
    )

    assert set(grads) == set(KEYS)
    assert max(errors.values()) < 1e-7, errors


# --- forward against hand-computed cases ---------------------------------------------------


def test_zero_weights_give_tanh_of_bias():
    x, h_prev, params = make_case(3, 4, 5)
    params = {**params, "W_xh": np.zeros((4, 5)), "W_hh": np.zeros((5, 5))}
    h, _ = rnn_cell_forward(x, h_prev, params)
    np.testing.assert_allclose(h, np.tile(np.tanh(params["b_h"]), (3, 1)), rtol=0, atol=1e-15)


def test_one_unit_by_hand():
    params = {"W_xh": np.array([[2.0]]), "W_hh": np.array([[0.5]]), "b_h": np.array([0.25])}
    h, _ = rnn_cell_forward(np.array([[0.5]]), np.array([[-1.0]]), params)
    assert h[0, 0] == pytest.approx(math.tanh(2.0 * 0.5 + 0.5 * -1.0 + 0.25), abs=1e-15)


def test_forward_matches_scalar_loops():
    x, h_prev, params = make_case(2, 3, 4, seed=7)
    h, _ = rnn_cell_forward(x, h_prev, params)
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    for n in range(2):
        for j in range(4):
            a = b_h[j] + sum(x[n, d] * W_xh[d, j] for d in range(3))
            a += sum(h_prev[n, k] * W_hh[k, j] for k in range(4))
            assert h[n, j] == pytest.approx(math.tanh(a), abs=1e-14)


def test_backward_of_a_saturated_unit_is_zero():
    # tanh(±40) is ±1 to machine precision, so 1 − h² = 0 and no gradient passes
    params = {"W_xh": np.zeros((2, 3)), "W_hh": np.zeros((3, 3)), "b_h": np.array([40.0, -40, 40])}
    _, cache = rnn_cell_forward(np.ones((1, 2)), np.zeros((1, 3)), params)
    dx, dh_prev, grads = rnn_cell_backward(np.ones((1, 3)), cache)
    assert not dx.any() and not dh_prev.any() and not grads["b_h"].any()


# --- bad input ------------------------------------------------------------------------------


def test_wrong_shape_names_argument_got_and_needed():
    x, h_prev, params = make_case(3, 2, 4)
    with pytest.raises(
        ValueError,
        match=r"h_prev has shape \(2, 4\) but rnn_cell_forward needs"
        r" \(N, H\) = \(3, H\) \(N = 3 from x\)",
    ):
        rnn_cell_forward(x, np.zeros((2, 4)), params)
    with pytest.raises(
        ValueError,
        match=r"params\['W_xh'\] has shape \(3, 4\) but rnn_cell_forward "
        r"needs \(D, H\) = \(2, 4\)",
    ):
        rnn_cell_forward(x, h_prev, {**params, "W_xh": np.zeros((3, 4))})
    # a non-square W_hh must not slip through as long as H is already bound by h_prev
    with pytest.raises(ValueError, match=r"params\['W_hh'\] has shape \(4, 5\)"):
        rnn_cell_forward(x, h_prev, {**params, "W_hh": np.zeros((4, 5))})


def test_missing_key_is_named():
    x, h_prev, params = make_case(3, 2, 4)
    del params["W_hh"]
    with pytest.raises(ValueError, match=r"params is missing 'W_hh'"):
        rnn_cell_forward(x, h_prev, params)


def test_integer_dtype_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers.*int64"):
        rnn_cell_forward(np.ones((3, 2), dtype=np.int64), h_prev, params)


def test_nan_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    h_prev[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"h_prev passed to rnn_cell_forward contains NaN"):
        rnn_cell_forward(x, h_prev, params)


def test_list_instead_of_array_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    with pytest.raises(TypeError, match=r"x must be a NumPy array of shape \(N, D\), got list"):
        rnn_cell_forward(x.tolist(), h_prev, params)
    with pytest.raises(TypeError, match=r"params must be a dict"):
        rnn_cell_forward(x, h_prev, list(params.values()))


def test_wrong_cache_type_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    _, cache = rnn_cell_forward(x, h_prev, params)
    with pytest.raises(TypeError, match=r"cache must be the RNNCellCache .* got tuple"):
        rnn_cell_backward(np.ones((3, 4)), tuple(cache))


def test_dh_shape_checked_against_cache():
    x, h_prev, params = make_case(3, 2, 4)
    _, cache = rnn_cell_forward(x, h_prev, params)
    with pytest.raises(
        ValueError,
        match=r"dh has shape \(4, 3\) but rnn_cell_backward needs "
        r"\(N, H\) = \(3, 4\)",
    ):
        rnn_cell_backward(np.ones((4, 3)), cache)


def test_guarded_while_grading():
    x, h_prev, params = make_case(1, 1, 1)
    with refusing(["rnn_cell_forward"]), pytest.raises(ReferenceCallRefused):
        rnn_cell_forward(x, h_prev, params)
    _, cache = rnn_cell_forward(x, h_prev, params)
    with refusing(["rnn_cell_backward"]), pytest.raises(ReferenceCallRefused):
        rnn_cell_backward(np.ones((1, 1)), cache)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 4), D=st.integers(1, 4), H=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_inputs_never_mutated(N, D, H, seed):
    x, h_prev, params = make_case(N, D, H, seed)
    dh = np.random.default_rng(seed + 1).normal(size=(N, H))
    copies = [a.copy() for a in (x, h_prev, dh, *params.values())]
    _, cache = rnn_cell_forward(x, h_prev, params)
    rnn_cell_backward(dh, cache)
    for before, after in zip(copies, (x, h_prev, dh, *params.values())):
        np.testing.assert_array_equal(before, after)
    assert list(params) == list(KEYS)


def test_float32_in_float32_out():
    x, h_prev, params = make_case(3, 2, 4, dtype=np.float32)
    h, cache = rnn_cell_forward(x, h_prev, params)
    dx, dh_prev, grads = rnn_cell_backward(np.ones((3, 4), dtype=np.float32), cache)
    assert h.dtype == dx.dtype == dh_prev.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    h64, _ = rnn_cell_forward(
        x.astype(np.float64),
        h_prev.astype(np.float64),
        {k: v.astype(np.float64) for k, v in params.items()},
    )
    np.testing.assert_allclose(h, h64, atol=1e-6)


def test_initialised_params_fit_the_cell():
    params = init_rnn_params(3, 5, np.random.default_rng(0))
    h, _ = rnn_cell_forward(np.ones((2, 3)), np.zeros((2, 5)), params)
    assert h.shape == (2, 5)
