"""rnncore.gru_cell: both GRU variants, proven against independent routes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import ReferenceCallRefused, gru_cell_backward, gru_cell_forward, init_gru_params
from rnncore._guard import refusing
from rnncore.gradcheck import gradcheck

BOOK_KEYS = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")
AFTER_KEYS = (*BOOK_KEYS, "b_hn")
SHAPES = [(1, 3, 3), (1, 2, 5), (3, 4, 2), (4, 5, 6), (2, 1, 1)]  # (N, D, H), N=1 and D≠H


def keys(reset_after):
    return AFTER_KEYS if reset_after else BOOK_KEYS


def make_case(N, D, H, seed=0, reset_after=False, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype(dtype)
    h_prev = rng.uniform(-1, 1, size=(N, H)).astype(dtype)
    params = {}
    for k in keys(reset_after):
        shape = (H,) if k.startswith("b") else (D, H) if k.startswith("W_x") else (H, H)
        params[k] = rng.normal(scale=0.5, size=shape).astype(dtype)
    return x, h_prev, params


def sigma(a):
    return 1 / (1 + np.exp(-a))


def book_gru(x, h_prev, p):
    """The book's equations, written out again independently of rnncore."""
    z = sigma(x @ p["W_xz"] + h_prev @ p["W_hz"] + p["b_z"])
    r = sigma(x @ p["W_xr"] + h_prev @ p["W_hr"] + p["b_r"])
    h_tilde = np.tanh(x @ p["W_xh"] + (r * h_prev) @ p["W_hh"] + p["b_h"])
    # Andrew Ng's form: Γu = 1 − z keeps the candidate, c = Γu c̃ + (1 − Γu) c_prev
    gamma_u = 1 - z
    return gamma_u * h_tilde + (1 - gamma_u) * h_prev


def torch_gru(x, h_prev, p, rng):
    """torch.nn.GRUCell's documented equations on torch's stacked (r, z, n) weight layout.

    The biases are split at random between bias_ih and bias_hh: only their sum
    may matter for b_r and b_z, and b_in / b_hn must stay apart.
    """
    weight_ih = np.concatenate([p["W_xr"].T, p["W_xz"].T, p["W_xh"].T])  # (3H, D)
    weight_hh = np.concatenate([p["W_hr"].T, p["W_hz"].T, p["W_hh"].T])  # (3H, H)
    split_r, split_z = rng.normal(size=(2, len(p["b_r"])))
    bias_ih = np.concatenate([p["b_r"] - split_r, p["b_z"] - split_z, p["b_h"]])
    bias_hh = np.concatenate([split_r, split_z, p["b_hn"]])
    gi = x @ weight_ih.T + bias_ih  # (N, 3H)
    gh = h_prev @ weight_hh.T + bias_hh  # (N, 3H)
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    r = sigma(i_r + h_r)
    z = sigma(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h_prev


# --- gradients against finite differences -------------------------------------------------


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("N, D, H", SHAPES)
def test_backward_matches_finite_differences(N, D, H, reset_after):
    x, h_prev, params = make_case(N, D, H, seed=N * 100 + D * 10 + H, reset_after=reset_after)
    dh = np.random.default_rng(1).normal(size=(N, H))
    _, cache = gru_cell_forward(x, h_prev, params, reset_after=reset_after)
    dx, dh_prev, grads = gru_cell_backward(dh, cache)

    def forward_of(a):
        p = {k: a[k] for k in keys(reset_after)}
        return gru_cell_forward(a["x"], a["h_prev"], p, reset_after=reset_after)[0]

    errors = gradcheck(
        forward_of,
        {"x": x, "h_prev": h_prev, **params},
        {"x": dx, "h_prev": dh_prev, **grads},
        dout=dh,
    )

    assert set(grads) == set(keys(reset_after))
    assert max(errors.values()) < 1e-7, errors


# --- forward against independent routes ----------------------------------------------------


@pytest.mark.parametrize("N, D, H", SHAPES)
def test_book_convention_matches_its_equations(N, D, H):
    x, h_prev, params = make_case(N, D, H, seed=3)
    h, _ = gru_cell_forward(x, h_prev, params)
    np.testing.assert_allclose(h, book_gru(x, h_prev, params), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("N, D, H", SHAPES)
def test_reset_after_matches_torch_equations_and_weight_mapping(N, D, H):
    x, h_prev, params = make_case(N, D, H, seed=4, reset_after=True)
    h, _ = gru_cell_forward(x, h_prev, params, reset_after=True)
    expected = torch_gru(x, h_prev, params, np.random.default_rng(5))
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-14)


def test_reset_after_differs_from_book_when_W_hh_is_nonzero():
    x, h_prev, params = make_case(3, 4, 5, seed=6, reset_after=True)
    params["b_hn"] = np.zeros(5)
    h_book, _ = gru_cell_forward(x, h_prev, params)
    h_after, _ = gru_cell_forward(x, h_prev, params, reset_after=True)
    assert np.abs(h_book - h_after).max() > 1e-3
    # with W_hh = 0 (and b_hn = 0) the reset gate has nothing to act on: the variants agree
    params["W_hh"] = np.zeros((5, 5))
    h_book, _ = gru_cell_forward(x, h_prev, params)
    h_after, _ = gru_cell_forward(x, h_prev, params, reset_after=True)
    np.testing.assert_allclose(h_book, h_after, rtol=0, atol=1e-15)


@pytest.mark.parametrize("reset_after", [False, True])
def test_update_gate_saturated_at_one_copies_h_prev(reset_after):
    x, h_prev, params = make_case(3, 4, 5, seed=7, reset_after=reset_after)
    params.update(W_xz=np.zeros((4, 5)), W_hz=np.zeros((5, 5)), b_z=np.full(5, 50.0))
    h, cache = gru_cell_forward(x, h_prev, params, reset_after=reset_after)
    np.testing.assert_array_equal(h, h_prev)
    # and backward: the whole gradient takes the copy path, nothing reaches the weights
    dh = np.random.default_rng(8).normal(size=(3, 5))
    dx, dh_prev, grads = gru_cell_backward(dh, cache)
    np.testing.assert_array_equal(dh_prev, dh)
    assert not dx.any() and not any(g.any() for g in grads.values())


def test_one_unit_by_hand_with_update_gate_closed():
    # z = σ(−50) = 0 (to double precision), r = σ(0) = 1/2: h is the candidate
    p = {k: np.zeros((1, 1)) if k.startswith("W") else np.zeros(1) for k in AFTER_KEYS}
    p.update(
        b_z=np.array([-50.0]),
        W_xh=np.array([[0.3]]),
        W_hh=np.array([[2.0]]),
        b_h=np.array([0.1]),
        b_hn=np.array([0.2]),
    )
    x, h_prev = np.array([[1.0]]), np.array([[0.5]])
    h_book, _ = gru_cell_forward(x, h_prev, p)
    h_after, _ = gru_cell_forward(x, h_prev, p, reset_after=True)
    assert h_book[0, 0] == pytest.approx(math.tanh(0.3 + (0.5 * 0.5) * 2.0 + 0.1), abs=1e-15)
    assert h_after[0, 0] == pytest.approx(math.tanh(0.3 + 0.1 + 0.5 * (0.5 * 2.0 + 0.2)), abs=1e-15)


def test_zero_weights_average_h_prev_and_tanh_of_bias():
    x, h_prev, params = make_case(2, 3, 4, seed=9)
    params = {k: np.zeros_like(v) if k != "b_h" else v for k, v in params.items()}
    h, _ = gru_cell_forward(x, h_prev, params)  # z = r = 1/2
    np.testing.assert_allclose(h, 0.5 * h_prev + 0.5 * np.tanh(params["b_h"]), atol=1e-15)


# --- bad input ------------------------------------------------------------------------------


def test_wrong_shape_names_argument_got_and_needed():
    x, h_prev, params = make_case(3, 2, 4)
    with pytest.raises(
        ValueError,
        match=r"params\['W_xr'\] has shape \(4, 4\) but gru_cell_forward "
        r"needs \(D, H\) = \(2, 4\) \(D = 2 from x, H = 4 from h_prev\)",
    ):
        gru_cell_forward(x, h_prev, {**params, "W_xr": np.zeros((4, 4))})


def test_missing_key_is_named():
    x, h_prev, params = make_case(3, 2, 4)
    with pytest.raises(ValueError, match=r"params is missing 'b_hn'"):
        gru_cell_forward(x, h_prev, params, reset_after=True)
    del params["W_hz"]
    with pytest.raises(ValueError, match=r"params is missing 'W_hz'"):
        gru_cell_forward(x, h_prev, params)


def test_integer_dtype_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    params["b_r"] = np.array([0, 1, 2, 3])
    with pytest.raises(TypeError, match=r"params\['b_r'\] must hold floating-point numbers"):
        gru_cell_forward(x, h_prev, params)


def test_nan_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    x[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"x passed to gru_cell_forward contains NaN or inf"):
        gru_cell_forward(x, h_prev, params)


def test_list_instead_of_array_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    with pytest.raises(
        TypeError, match=r"h_prev must be a NumPy array of shape \(N, H\), got list"
    ):
        gru_cell_forward(x, h_prev.tolist(), params)


def test_reset_after_must_be_a_bool():
    x, h_prev, params = make_case(3, 2, 4, reset_after=True)
    with pytest.raises(TypeError, match=r"reset_after must be True or False, got 'yes'"):
        gru_cell_forward(x, h_prev, params, reset_after="yes")


def test_wrong_cache_type_is_refused():
    x, h_prev, params = make_case(3, 2, 4)
    _, cache = gru_cell_forward(x, h_prev, params)
    with pytest.raises(TypeError, match=r"cache must be the GRUCellCache .* got dict"):
        gru_cell_backward(np.ones((3, 4)), cache._asdict())


def test_dh_shape_checked_against_cache():
    x, h_prev, params = make_case(3, 2, 4)
    _, cache = gru_cell_forward(x, h_prev, params)
    with pytest.raises(
        ValueError,
        match=r"dh has shape \(3,\) but gru_cell_backward needs "
        r"\(N, H\) = \(3, 4\) \(N = 3 from the forward pass",
    ):
        gru_cell_backward(np.ones(3), cache)


def test_guarded_while_grading():
    x, h_prev, params = make_case(1, 1, 1)
    with refusing(["gru_cell_forward"]), pytest.raises(ReferenceCallRefused):
        gru_cell_forward(x, h_prev, params)
    _, cache = gru_cell_forward(x, h_prev, params)
    with refusing(["gru_cell_backward"]), pytest.raises(ReferenceCallRefused):
        gru_cell_backward(np.ones((1, 1)), cache)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    N=st.integers(1, 4),
    D=st.integers(1, 4),
    H=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    reset_after=st.booleans(),
)
def test_inputs_never_mutated(N, D, H, seed, reset_after):
    x, h_prev, params = make_case(N, D, H, seed, reset_after=reset_after)
    dh = np.random.default_rng(seed + 1).normal(size=(N, H))
    copies = [a.copy() for a in (x, h_prev, dh, *params.values())]
    _, cache = gru_cell_forward(x, h_prev, params, reset_after=reset_after)
    gru_cell_backward(dh, cache)
    for before, after in zip(copies, (x, h_prev, dh, *params.values())):
        np.testing.assert_array_equal(before, after)
    assert list(params) == list(keys(reset_after))


@pytest.mark.parametrize("reset_after", [False, True])
def test_float32_in_float32_out(reset_after):
    x, h_prev, params = make_case(3, 2, 4, reset_after=reset_after, dtype=np.float32)
    h, cache = gru_cell_forward(x, h_prev, params, reset_after=reset_after)
    dx, dh_prev, grads = gru_cell_backward(np.ones((3, 4), dtype=np.float32), cache)
    assert h.dtype == dx.dtype == dh_prev.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    h64, _ = gru_cell_forward(
        x.astype(np.float64),
        h_prev.astype(np.float64),
        {k: v.astype(np.float64) for k, v in params.items()},
        reset_after=reset_after,
    )
    np.testing.assert_allclose(h, h64, atol=1e-6)


@pytest.mark.parametrize("reset_after", [False, True])
def test_initialised_params_fit_the_cell(reset_after):
    params = init_gru_params(3, 5, np.random.default_rng(0), reset_after=reset_after)
    h, _ = gru_cell_forward(np.ones((2, 3)), np.zeros((2, 5)), params, reset_after=reset_after)
    assert h.shape == (2, 5)
