"""rnncore.rnn: tuned RNN sequences against a loop of the cells and finite differences."""

import warnings

import numpy as np
import pytest
from _seqcases import (
    KEYS,
    SHAPES,
    assert_close_dicts,
    assert_unchanged,
    cell_loop,
    make_case,
    snapshot,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import ReferenceCallRefused, rnn_backward, rnn_forward
from rnncore._guard import refusing
from rnncore.gradcheck import gradcheck

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
# Centred differences with eps = 1e-5: truncation error ~eps² stays far below 1e-7, while
# round-off (~1e-16 / eps) no longer swamps the smallest gradients (a reset gate at T = N = 1).
EPS = 1e-5


def run(X, h0, params, dH, **finals):
    H, cache = rnn_forward(X, h0, params)
    return (H, *rnn_backward(dH, cache, **finals))


def reference(X, h0, params, dH, **finals):
    H, _, dX, dh0, _, grads = cell_loop("rnn", X, h0, None, params, dH, **finals)
    return H, dX, dh0, grads


def assert_same(got, expected, **tol):
    for a, b in zip(got[:3], expected[:3]):
        np.testing.assert_allclose(a, b, **tol)
    assert_close_dicts(got[3], expected[3], **tol)


# --- equal to an explicit loop of the cells ---------------------------------------------------


@pytest.mark.parametrize("with_state", [True, False], ids=["h0", "zeros"])
@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_matches_cell_loop(T, N, D, H, with_state):
    X, h0, _, params, dH = make_case(
        "rnn", T, N, D, H, seed=T + 10 * N + 100 * D, with_state=with_state
    )
    assert_same(run(X, h0, params, dH), reference(X, h0, params, dH), **TIGHT)


@settings(max_examples=25, deadline=None)
@given(
    T=st.integers(1, 6),
    N=st.integers(1, 4),
    D=st.integers(1, 5),
    H=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    with_state=st.booleans(),
)
def test_matches_cell_loop_for_any_shape(T, N, D, H, seed, with_state):
    X, h0, _, params, dH = make_case("rnn", T, N, D, H, seed=seed, with_state=with_state)
    assert_same(run(X, h0, params, dH), reference(X, h0, params, dH), **TIGHT)


def test_saturated_units_are_exact_and_silent():
    X, h0, _, params, dH = make_case("rnn", 3, 2, 3, 4, seed=5)
    X = X * 500.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(X, h0, params, dH)
    assert_same(got, reference(X, h0, params, dH), **TIGHT)


# --- against finite differences ----------------------------------------------------------------


def forward_outputs(arrays):
    return rnn_forward(arrays["X"], arrays["h0"], {k: arrays[k] for k in KEYS["rnn"]})[0]


@pytest.mark.parametrize("T, N, D, H", [(1, 1, 3, 3), (3, 1, 2, 4), (4, 3, 3, 2), (6, 2, 4, 4)])
def test_backward_matches_finite_differences(T, N, D, H):
    X, h0, _, params, dH = make_case("rnn", T, N, D, H, seed=7 + T)
    _, cache = rnn_forward(X, h0, params)
    dX, dh0, grads = rnn_backward(dH, cache)
    errors = gradcheck(
        forward_outputs,
        {"X": X, "h0": h0, **params},
        {"X": dX, "h0": dh0, **grads},
        dout=dH,
        eps=EPS,
    )
    assert max(errors.values()) < 1e-7, errors


def test_final_state_gradient_matches_finite_differences():
    """dh_T: a loss that uses the final state on top of every output."""
    T, N, D, H = 4, 2, 3, 3
    X, h0, _, params, dH = make_case("rnn", T, N, D, H, seed=11)
    dh_T = np.random.default_rng(12).normal(size=(N, H))
    _, cache = rnn_forward(X, h0, params)
    dX, dh0, grads = rnn_backward(dH, cache, dh_T=dh_T)

    def f(arrays):
        H_all = forward_outputs(arrays)
        return H_all, H_all[-1]

    errors = gradcheck(
        f, {"X": X, "h0": h0, **params}, {"X": dX, "h0": dh0, **grads}, dout=(dH, dh_T), eps=EPS
    )
    assert max(errors.values()) < 1e-7, errors


def test_chained_chunks_equal_one_sequence():
    """Truncated-BPTT style: two chunks chained through dh_T equal the whole sequence."""
    X, h0, _, params, dH = make_case("rnn", 6, 3, 4, 5, seed=13)
    whole = run(X, h0, params, dH)
    H1, cache1 = rnn_forward(X[:4], h0, params)
    H2, cache2 = rnn_forward(X[4:], H1[-1], params)
    dX2, dh_mid, grads2 = rnn_backward(dH[4:], cache2)
    dX1, dh0, grads1 = rnn_backward(dH[:4], cache1, dh_T=dh_mid)
    np.testing.assert_allclose(np.concatenate([H1, H2]), whole[0], **TIGHT)
    np.testing.assert_allclose(np.concatenate([dX1, dX2]), whole[1], **TIGHT)
    np.testing.assert_allclose(dh0, whole[2], **TIGHT)
    assert_close_dicts({k: grads1[k] + grads2[k] for k in grads1}, whole[3], **TIGHT)


def test_one_step_is_hand_computable():
    """T = N = D = H = 1: h = tanh(x w + h0 u + b), dh/dw = (1 - h²) x."""
    params = {"W_xh": np.array([[0.5]]), "W_hh": np.array([[-0.3]]), "b_h": np.array([0.1])}
    X, h0 = np.array([[[2.0]]]), np.array([[0.4]])
    H, cache = rnn_forward(X, h0, params)
    h = np.tanh(2.0 * 0.5 + 0.4 * -0.3 + 0.1)
    np.testing.assert_allclose(H[0, 0, 0], h, rtol=1e-15)
    dX, dh0, grads = rnn_backward(np.ones((1, 1, 1)), cache)
    np.testing.assert_allclose(grads["W_xh"][0, 0], (1 - h**2) * 2.0, rtol=1e-14)
    np.testing.assert_allclose(dh0[0, 0], (1 - h**2) * -0.3, rtol=1e-14)


# --- dtypes, purity, cache ---------------------------------------------------------------------


def test_float32_end_to_end():
    X, h0, _, params, dH = make_case("rnn", 5, 3, 4, 6, seed=3)
    cast = lambda a: a.astype(np.float32)  # noqa: E731
    got = run(cast(X), cast(h0), {k: cast(v) for k, v in params.items()}, cast(dH))
    expected = run(X, h0, params, dH)
    for a, b in zip(got[:3], expected[:3]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for k in KEYS["rnn"]:
        assert got[3][k].dtype == np.float32
        np.testing.assert_allclose(got[3][k], expected[3][k], rtol=1e-4, atol=1e-4)


def test_mixed_dtypes_compute_in_the_wider_one():
    X, h0, _, params, dH = make_case("rnn", 3, 2, 3, 4, seed=9)
    H, cache = rnn_forward(X.astype(np.float32), h0, params)
    assert H.dtype == np.float64
    assert rnn_backward(dH.astype(np.float32), cache)[0].dtype == np.float64


def test_inputs_are_never_modified():
    X, h0, _, params, dH = make_case("rnn", 4, 2, 3, 5, seed=4)
    dh_T = np.random.default_rng(0).normal(size=(2, 5))
    before = snapshot(X, h0, params, dH, dh_T)
    run(X, h0, params, dH, dh_T=dh_T)
    assert_unchanged(before, X, h0, params, dH, dh_T)


def test_backward_can_be_repeated_and_outputs_protect_the_cache():
    X, h0, _, params, dH = make_case("rnn", 3, 2, 3, 4, seed=6)
    H, cache = rnn_forward(X, h0, params)
    first, second = rnn_backward(dH, cache), rnn_backward(dH, cache)
    for a, b in zip(first[:2], second[:2]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="read-only"):
        H[-1] += 1.0


def test_no_initial_state_means_zeros():
    X, h0, _, params, dH = make_case("rnn", 4, 2, 3, 4, seed=8)
    np.testing.assert_array_equal(
        rnn_forward(X, None, params)[0], rnn_forward(X, np.zeros_like(h0), params)[0]
    )


# --- bad input ---------------------------------------------------------------------------------


def test_wrong_shapes_name_argument_and_shapes():
    X, h0, _, params, _ = make_case("rnn", 3, 2, 4, 5)
    with pytest.raises(ValueError, match=r"X has shape \(2, 4\) but rnn_forward needs \(T, N, D\)"):
        rnn_forward(X[0], h0, params)
    with pytest.raises(
        ValueError,
        match=r"h0 has shape \(2, 4\) but rnn_forward needs "
        r"\(N, H\) = \(2, 5\)",
    ):
        rnn_forward(X, h0[:, :4], params)
    with pytest.raises(
        ValueError,
        match=r"params\['W_xh'\] has shape \(3, 5\) but "
        r"rnn_forward needs \(D, H\) = \(4, H\)",
    ):
        rnn_forward(X, h0, dict(params, W_xh=params["W_xh"][:3]))


def test_missing_parameter_is_named():
    X, h0, _, params, _ = make_case("rnn", 3, 2, 4, 5)
    del params["W_hh"]
    with pytest.raises(ValueError, match="params is missing 'W_hh'"):
        rnn_forward(X, h0, params)


def test_wrong_types_raise_type_error():
    X, h0, _, params, _ = make_case("rnn", 3, 2, 4, 5)
    with pytest.raises(TypeError, match="h0 must hold floating-point"):
        rnn_forward(X, h0.astype(np.int32), params)
    with pytest.raises(TypeError, match="params must be a dict"):
        rnn_forward(X, h0, None)


def test_non_finite_input_is_rejected():
    X, h0, _, params, _ = make_case("rnn", 3, 2, 4, 5)
    params["b_h"][0] = np.inf
    with pytest.raises(ValueError, match=r"params\['b_h'\] passed to rnn_forward contains NaN"):
        rnn_forward(X, h0, params)


def test_backward_rejects_bad_cache_and_gradient_shapes():
    X, h0, _, params, dH = make_case("rnn", 3, 2, 4, 5)
    _, cache = rnn_forward(X, h0, params)
    with pytest.raises(TypeError, match="cache must be the RNNCache returned by rnn_forward"):
        rnn_backward(dH, {"cache": cache})
    with pytest.raises(
        ValueError,
        match=r"dH has shape \(3, 2, 4\) but rnn_backward needs "
        r"\(T, N, H\) = \(3, 2, 5\)",
    ):
        rnn_backward(dH[..., :4], cache)
    with pytest.raises(ValueError, match=r"dh_T has shape \(1, 5\) but rnn_backward needs"):
        rnn_backward(dH, cache, dh_T=np.zeros((1, 5)))
    bad = dH.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="dH passed to rnn_backward contains NaN"):
        rnn_backward(bad, cache)


def test_reference_refuses_while_grading():
    X, h0, _, params, dH = make_case("rnn", 2, 1, 2, 2)
    _, cache = rnn_forward(X, h0, params)
    with refusing(["rnn_forward", "rnn_backward"]):
        with pytest.raises(ReferenceCallRefused):
            rnn_forward(X, h0, params)
        with pytest.raises(ReferenceCallRefused):
            rnn_backward(dH, cache)
