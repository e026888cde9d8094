"""rnncore.lstm_cell: the LSTM step, proven against independent routes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import ReferenceCallRefused, init_lstm_params, lstm_cell_backward, lstm_cell_forward
from rnncore._guard import refusing
from rnncore.gradcheck import gradcheck

KEYS = tuple(f"{kind}{gate}" for gate in "ifoc" for kind in ("W_x", "W_h", "b_"))
SHAPES = [(1, 3, 3), (1, 2, 5), (3, 4, 2), (4, 5, 6), (2, 1, 1)]  # (N, D, H), N=1 and D≠H


def make_case(N, D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype(dtype)
    h_prev = rng.uniform(-1, 1, size=(N, H)).astype(dtype)
    c_prev = rng.normal(size=(N, H)).astype(dtype)
    params = {}
    for k in KEYS:
        shape = (H,) if k.startswith("b") else (D, H) if k.startswith("W_x") else (H, H)
        params[k] = rng.normal(scale=0.5, size=shape).astype(dtype)
    return x, h_prev, c_prev, params


def sigma(a):
    return 1 / (1 + np.exp(-a))


def torch_lstm(x, h_prev, c_prev, p, rng):
    """torch.nn.LSTMCell's documented equations on torch's stacked (i, f, g, o) layout.

    Each bias is split at random between bias_ih and bias_hh (only the sum matters).
    """
    order = ("i", "f", "c", "o")  # torch calls the candidate g
    weight_ih = np.concatenate([p[f"W_x{g}"].T for g in order])  # (4H, D)
    weight_hh = np.concatenate([p[f"W_h{g}"].T for g in order])  # (4H, H)
    bias = np.concatenate([p[f"b_{g}"] for g in order])  # (4H,)
    bias_hh = rng.normal(size=bias.shape)
    gates = x @ weight_ih.T + (bias - bias_hh) + h_prev @ weight_hh.T + bias_hh  # (N, 4H)
    i, f, g, o = np.split(gates, 4, axis=1)
    c = sigma(f) * c_prev + sigma(i) * np.tanh(g)
    return sigma(o) * np.tanh(c), c


# --- gradients against finite differences -------------------------------------------------


def forward_of(a):
    return lstm_cell_forward(a["x"], a["h_prev"], a["c_prev"], {k: a[k] for k in KEYS})


@pytest.mark.parametrize("N, D, H", SHAPES)
def test_backward_matches_finite_differences(N, D, H):
    x, h_prev, c_prev, params = make_case(N, D, H, seed=N * 100 + D * 10 + H)
    rng = np.random.default_rng(1)
    dh, dc = rng.normal(size=(2, N, H))  # both outputs take part in the scalar
    _, _, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    dx, dh_prev, dc_prev, grads = lstm_cell_backward(dh, dc, cache)

    errors = gradcheck(
        lambda a: forward_of(a)[:2],
        {"x": x, "h_prev": h_prev, "c_prev": c_prev, **params},
        {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads},
        dout=(dh, dc),
    )

    assert set(grads) == set(KEYS)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("N, D, H", [(1, 2, 3), (3, 3, 1)])
def test_dc_none_means_only_h_is_used(N, D, H):
    x, h_prev, c_prev, params = make_case(N, D, H, seed=2)
    dh = np.random.default_rng(3).normal(size=(N, H))
    _, _, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    dx, dh_prev, dc_prev, grads = lstm_cell_backward(dh, None, cache)

    errors = gradcheck(
        lambda a: forward_of(a)[0],
        {"x": x, "h_prev": h_prev, "c_prev": c_prev, **params},
        {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **grads},
        dout=dh,
    )

    assert max(errors.values()) < 1e-7, errors


# --- forward against independent routes ----------------------------------------------------


@pytest.mark.parametrize("N, D, H", SHAPES)
def test_forward_matches_torch_equations_and_weight_mapping(N, D, H):
    x, h_prev, c_prev, params = make_case(N, D, H, seed=4)
    h, c, _ = lstm_cell_forward(x, h_prev, c_prev, params)
    h_expected, c_expected = torch_lstm(x, h_prev, c_prev, params, np.random.default_rng(5))
    np.testing.assert_allclose(h, h_expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c, c_expected, rtol=1e-12, atol=1e-14)


def test_forget_gate_open_and_input_gate_closed_keep_the_cell():
    x, h_prev, c_prev, params = make_case(3, 4, 5, seed=6)
    zeros_x, zeros_h = np.zeros((4, 5)), np.zeros((5, 5))
    params.update(
        W_xf=zeros_x,
        W_hf=zeros_h,
        b_f=np.full(5, 50.0),  # f = 1
        W_xi=zeros_x,
        W_hi=zeros_h,
        b_i=np.full(5, -50.0),
    )  # i = 0
    h, c, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    np.testing.assert_array_equal(c, c_prev)
    o = sigma(x @ params["W_xo"] + h_prev @ params["W_ho"] + params["b_o"])
    np.testing.assert_allclose(h, o * np.tanh(c_prev), rtol=1e-13)
    # backward: a gradient on c flows back unchanged along the cell's highway
    dc = np.random.default_rng(7).normal(size=(3, 5))
    _, _, dc_prev, _ = lstm_cell_backward(np.zeros((3, 5)), dc, cache)
    np.testing.assert_array_equal(dc_prev, dc)


def test_one_unit_by_hand():
    p = {k: np.array([[0.0]]) if k.startswith("W") else np.array([0.0]) for k in KEYS}
    p.update(W_xc=np.array([[1.5]]), W_hf=np.array([[-2.0]]), b_o=np.array([0.7]))
    x, h_prev, c_prev = np.array([[0.4]]), np.array([[0.3]]), np.array([[-0.8]])
    h, c, _ = lstm_cell_forward(x, h_prev, c_prev, p)

    def s(a):
        return 1 / (1 + math.exp(-a))

    c_expected = s(-2.0 * 0.3) * -0.8 + s(0.0) * math.tanh(1.5 * 0.4)
    assert c[0, 0] == pytest.approx(c_expected, abs=1e-15)
    assert h[0, 0] == pytest.approx(s(0.7) * math.tanh(c_expected), abs=1e-15)


def test_zero_weights_and_biases_halve_the_cell():
    x, h_prev, c_prev, params = make_case(2, 3, 4, seed=8)
    params = {k: np.zeros_like(v) for k, v in params.items()}  # every gate 1/2, candidate 0
    h, c, _ = lstm_cell_forward(x, h_prev, c_prev, params)
    np.testing.assert_allclose(c, 0.5 * c_prev, rtol=0, atol=1e-15)
    np.testing.assert_allclose(h, 0.5 * np.tanh(0.5 * c_prev), rtol=0, atol=1e-15)


# --- bad input ------------------------------------------------------------------------------


def test_wrong_shape_names_argument_got_and_needed():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    with pytest.raises(
        ValueError,
        match=r"c_prev has shape \(3, 5\) but lstm_cell_forward needs "
        r"\(N, H\) = \(3, 4\) \(N = 3 from x, H = 4 from h_prev\)",
    ):
        lstm_cell_forward(x, h_prev, np.zeros((3, 5)), params)


def test_missing_key_is_named():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    del params["b_o"], params["W_xc"]
    with pytest.raises(ValueError, match=r"params is missing 'b_o', 'W_xc'"):
        lstm_cell_forward(x, h_prev, c_prev, params)


def test_integer_dtype_is_refused():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    with pytest.raises(TypeError, match=r"c_prev must hold floating-point numbers.*int32"):
        lstm_cell_forward(x, h_prev, c_prev.astype(np.int32), params)


def test_nan_is_refused():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    params["W_hf"] = params["W_hf"].copy()
    params["W_hf"][0, 1] = np.nan
    with pytest.raises(
        ValueError,
        match=r"params\['W_hf'\] passed to lstm_cell_forward contains"
        r" NaN or inf \(first at index \(0, 1\)\)",
    ):
        lstm_cell_forward(x, h_prev, c_prev, params)


def test_list_instead_of_array_is_refused():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    with pytest.raises(
        TypeError, match=r"c_prev must be a NumPy array of shape \(N, H\), got list"
    ):
        lstm_cell_forward(x, h_prev, c_prev.tolist(), params)


def test_wrong_cache_type_is_refused():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    h, c, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    with pytest.raises(TypeError, match=r"cache must be the LSTMCellCache .* got ndarray"):
        lstm_cell_backward(np.ones((3, 4)), np.ones((3, 4)), c)  # c passed where cache belongs


def test_upstream_shapes_checked_against_cache():
    x, h_prev, c_prev, params = make_case(3, 2, 4)
    _, _, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    with pytest.raises(
        ValueError,
        match=r"dh has shape \(3, 2\) but lstm_cell_backward needs "
        r"\(N, H\) = \(3, 4\)",
    ):
        lstm_cell_backward(np.ones((3, 2)), np.ones((3, 4)), cache)
    with pytest.raises(
        ValueError,
        match=r"dc has shape \(1, 4\) but lstm_cell_backward needs "
        r"\(N, H\) = \(3, 4\)",
    ):
        lstm_cell_backward(np.ones((3, 4)), np.ones((1, 4)), cache)


def test_guarded_while_grading():
    x, h_prev, c_prev, params = make_case(1, 1, 1)
    with refusing(["lstm_cell_forward"]), pytest.raises(ReferenceCallRefused):
        lstm_cell_forward(x, h_prev, c_prev, params)
    _, _, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    with refusing(["lstm_cell_backward"]), pytest.raises(ReferenceCallRefused):
        lstm_cell_backward(np.ones((1, 1)), None, cache)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 4), D=st.integers(1, 4), H=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_inputs_never_mutated(N, D, H, seed):
    x, h_prev, c_prev, params = make_case(N, D, H, seed)
    dh, dc = np.random.default_rng(seed + 1).normal(size=(2, N, H))
    inputs = (x, h_prev, c_prev, dh, dc, *params.values())
    copies = [a.copy() for a in inputs]
    _, _, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    lstm_cell_backward(dh, dc, cache)
    for before, after in zip(copies, inputs):
        np.testing.assert_array_equal(before, after)
    assert list(params) == list(KEYS)


def test_float32_in_float32_out():
    x, h_prev, c_prev, params = make_case(3, 2, 4, dtype=np.float32)
    h, c, cache = lstm_cell_forward(x, h_prev, c_prev, params)
    ones = np.ones((3, 4), dtype=np.float32)
    for dc in (ones, None):
        dx, dh_prev, dc_prev, grads = lstm_cell_backward(ones, dc, cache)
        assert h.dtype == c.dtype == dx.dtype == dh_prev.dtype == dc_prev.dtype == np.float32
        assert all(g.dtype == np.float32 for g in grads.values())
    h64, c64, _ = lstm_cell_forward(
        x.astype(np.float64),
        h_prev.astype(np.float64),
        c_prev.astype(np.float64),
        {k: v.astype(np.float64) for k, v in params.items()},
    )
    np.testing.assert_allclose(h, h64, atol=1e-6)
    np.testing.assert_allclose(c, c64, atol=1e-6)


def test_initialised_params_fit_the_cell():
    params = init_lstm_params(3, 5, np.random.default_rng(0), forget_bias=1.0)
    h, c, _ = lstm_cell_forward(np.ones((2, 3)), np.zeros((2, 5)), np.zeros((2, 5)), params)
    assert h.shape == c.shape == (2, 5)
