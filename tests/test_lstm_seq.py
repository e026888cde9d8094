"""rnncore.lstm: tuned LSTM sequences against a loop of the cells and finite differences."""

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

from rnncore import ReferenceCallRefused, lstm_backward, lstm_forward
from rnncore._guard import refusing
from rnncore.gradcheck import gradcheck

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
# Centred differences with eps = 1e-5: truncation error ~eps² stays far below 1e-7, while
# round-off (~1e-16 / eps) no longer swamps the smallest gradients (a reset gate at T = N = 1).
EPS = 1e-5


def run(X, h0, c0, params, dH, **finals):
    H, C, cache = lstm_forward(X, h0, c0, params)
    return (H, C, *lstm_backward(dH, cache, **finals))


# --- equal to an explicit loop of the cells ---------------------------------------------------


@pytest.mark.parametrize("with_state", [True, False], ids=["h0,c0", "zeros"])
@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_matches_cell_loop(T, N, D, H, with_state):
    X, h0, c0, params, dH = make_case(
        "lstm", T, N, D, H, seed=T + 10 * N + 100 * D, with_state=with_state
    )
    H_seq, C_seq, dX, dh0, dc0, grads = run(X, h0, c0, params, dH)
    H_ref, C_ref, dX_ref, dh0_ref, dc0_ref, grads_ref = cell_loop("lstm", X, h0, c0, params, dH)
    np.testing.assert_allclose(H_seq, H_ref, **TIGHT)
    np.testing.assert_allclose(C_seq, C_ref, **TIGHT)
    np.testing.assert_allclose(dX, dX_ref, **TIGHT)
    np.testing.assert_allclose(dh0, dh0_ref, **TIGHT)
    np.testing.assert_allclose(dc0, dc0_ref, **TIGHT)
    assert_close_dicts(grads, grads_ref, **TIGHT)


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
    X, h0, c0, params, dH = make_case("lstm", T, N, D, H, seed=seed, with_state=with_state)
    got = run(X, h0, c0, params, dH)
    expected = cell_loop("lstm", X, h0, c0, params, dH)
    for a, b in zip(got[:5], expected[:5]):
        np.testing.assert_allclose(a, b, **TIGHT)
    assert_close_dicts(got[5], expected[5], **TIGHT)


def test_saturated_gates_stay_exact_and_silent():
    """Huge pre-activations: exp overflows to inf inside, σ must come out 0 or 1, no warning."""
    X, h0, c0, params, dH = make_case("lstm", 3, 2, 3, 4, seed=5)
    X = X * 500.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(X, h0, c0, params, dH)
    expected = cell_loop("lstm", X, h0, c0, params, dH)
    for a, b in zip(got[:5], expected[:5]):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, **TIGHT)


# --- against finite differences ----------------------------------------------------------------


def forward_outputs(arrays, with_final_cell=False):
    H, C, _ = lstm_forward(
        arrays["X"], arrays["h0"], arrays["c0"], {k: arrays[k] for k in KEYS["lstm"]}
    )
    return (H, C[-1]) if with_final_cell else H


@pytest.mark.parametrize("T, N, D, H", [(1, 1, 3, 3), (3, 1, 2, 4), (4, 3, 3, 2)])
def test_backward_matches_finite_differences(T, N, D, H):
    X, h0, c0, params, dH = make_case("lstm", T, N, D, H, seed=7 + T)
    _, _, cache = lstm_forward(X, h0, c0, params)
    dX, dh0, dc0, grads = lstm_backward(dH, cache)
    inputs = {"X": X, "h0": h0, "c0": c0, **params}
    analytic = {"X": dX, "h0": dh0, "c0": dc0, **grads}
    errors = gradcheck(forward_outputs, inputs, analytic, dout=dH, eps=EPS)
    assert max(errors.values()) < 1e-7, errors


def test_final_state_gradients_match_finite_differences():
    """dh_T and dc_T: a loss that also uses the final hidden and cell states."""
    T, N, D, H = 4, 2, 3, 3
    X, h0, c0, params, dH = make_case("lstm", T, N, D, H, seed=11)
    rng = np.random.default_rng(12)
    dh_T, dc_T = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    _, _, cache = lstm_forward(X, h0, c0, params)
    dX, dh0, dc0, grads = lstm_backward(dH, cache, dh_T=dh_T, dc_T=dc_T)

    def f(arrays):
        H_all, C_final = forward_outputs(arrays, with_final_cell=True)
        return H_all, H_all[-1], C_final

    inputs = {"X": X, "h0": h0, "c0": c0, **params}
    errors = gradcheck(
        f, inputs, {"X": dX, "h0": dh0, "c0": dc0, **grads}, dout=(dH, dh_T, dc_T), eps=EPS
    )
    assert max(errors.values()) < 1e-7, errors


def test_chained_chunks_equal_one_sequence():
    """Truncated-BPTT style: two chunks chained through dh_T, dc_T equal the whole sequence."""
    X, h0, c0, params, dH = make_case("lstm", 6, 3, 4, 5, seed=13)
    whole = run(X, h0, c0, params, dH)
    H1, C1, cache1 = lstm_forward(X[:2], h0, c0, params)
    H2, C2, cache2 = lstm_forward(X[2:], H1[-1], C1[-1], params)
    dX2, dh_mid, dc_mid, grads2 = lstm_backward(dH[2:], cache2)
    dX1, dh0, dc0, grads1 = lstm_backward(dH[:2], cache1, dh_T=dh_mid, dc_T=dc_mid)
    np.testing.assert_allclose(np.concatenate([H1, H2]), whole[0], **TIGHT)
    np.testing.assert_allclose(np.concatenate([dX1, dX2]), whole[2], **TIGHT)
    np.testing.assert_allclose(dh0, whole[3], **TIGHT)
    np.testing.assert_allclose(dc0, whole[4], **TIGHT)
    assert_close_dicts({k: grads1[k] + grads2[k] for k in grads1}, whole[5], **TIGHT)


# --- dtypes, purity, cache ---------------------------------------------------------------------


def test_float32_end_to_end():
    X, h0, c0, params, dH = make_case("lstm", 5, 3, 4, 6, seed=3)
    cast = lambda a: a.astype(np.float32)  # noqa: E731
    got = run(cast(X), cast(h0), cast(c0), {k: cast(v) for k, v in params.items()}, cast(dH))
    expected = run(X, h0, c0, params, dH)
    for a, b in zip(got[:5], expected[:5]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for k in KEYS["lstm"]:
        assert got[5][k].dtype == np.float32
        np.testing.assert_allclose(got[5][k], expected[5][k], rtol=1e-4, atol=1e-4)


def test_inputs_are_never_modified():
    X, h0, c0, params, dH = make_case("lstm", 4, 2, 3, 5, seed=4)
    rng = np.random.default_rng(0)
    dh_T, dc_T = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    before = snapshot(X, h0, c0, params, dH, dh_T, dc_T)
    run(X, h0, c0, params, dH, dh_T=dh_T, dc_T=dc_T)
    assert_unchanged(before, X, h0, c0, params, dH, dh_T, dc_T)


def test_backward_can_be_repeated_and_outputs_protect_the_cache():
    X, h0, c0, params, dH = make_case("lstm", 3, 2, 3, 4, seed=6)
    H, C, cache = lstm_forward(X, h0, c0, params)
    first = lstm_backward(dH, cache)
    second = lstm_backward(dH, cache)
    for a, b in zip(first[:3], second[:3]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="read-only"):
        H[0] += 1.0  # H shares memory with the cache; writing would corrupt backward
    with pytest.raises(ValueError, match="read-only"):
        C[-1] *= 2.0


def test_final_states_are_last_outputs_and_zero_states_match_none():
    X, h0, c0, params, dH = make_case("lstm", 4, 2, 3, 4, seed=8)
    zeros = np.zeros_like(h0)
    H_none, C_none, _ = lstm_forward(X, None, None, params)
    H_zero, C_zero, _ = lstm_forward(X, zeros, zeros, params)
    np.testing.assert_array_equal(H_none, H_zero)
    np.testing.assert_array_equal(C_none, C_zero)


# --- bad input ---------------------------------------------------------------------------------


def test_wrong_input_shape_names_argument_and_shapes():
    X, h0, c0, params, _ = make_case("lstm", 3, 2, 4, 5)
    with pytest.raises(ValueError, match=r"X has shape \(2, 4\) but lstm_forward needs"):
        lstm_forward(X[0], h0, c0, params)
    with pytest.raises(
        ValueError,
        match=r"h0 has shape \(2, 4\) but lstm_forward needs "
        r"\(N, H\) = \(2, 5\)",
    ):
        lstm_forward(X, h0[:, :4], c0, params)
    with pytest.raises(ValueError, match=r"c0 has shape \(3, 5\) but lstm_forward needs"):
        lstm_forward(X, h0, np.zeros((3, 5)), params)
    bad = dict(params, W_hf=params["W_hf"][:, :4])
    with pytest.raises(ValueError, match=r"params\['W_hf'\] has shape \(5, 4\)"):
        lstm_forward(X, h0, c0, bad)


def test_missing_parameter_is_named():
    X, h0, c0, params, _ = make_case("lstm", 3, 2, 4, 5)
    del params["b_o"]
    with pytest.raises(ValueError, match="params is missing 'b_o'"):
        lstm_forward(X, h0, c0, params)


def test_wrong_types_raise_type_error():
    X, h0, c0, params, _ = make_case("lstm", 3, 2, 4, 5)
    with pytest.raises(TypeError, match="X must hold floating-point"):
        lstm_forward(X.astype(np.int64), h0, c0, params)
    with pytest.raises(TypeError, match="X must be a NumPy array"):
        lstm_forward(X.tolist(), h0, c0, params)
    with pytest.raises(TypeError, match="params must be a dict"):
        lstm_forward(X, h0, c0, list(params.values()))


def test_non_finite_input_is_rejected():
    X, h0, c0, params, _ = make_case("lstm", 3, 2, 4, 5)
    X[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match=r"X passed to lstm_forward contains NaN"):
        lstm_forward(X, h0, c0, params)


def test_backward_rejects_bad_cache_and_gradient_shapes():
    X, h0, c0, params, dH = make_case("lstm", 3, 2, 4, 5)
    _, _, cache = lstm_forward(X, h0, c0, params)
    with pytest.raises(TypeError, match="cache must be the LSTMCache returned by lstm_forward"):
        lstm_backward(dH, tuple(cache))
    with pytest.raises(
        ValueError,
        match=r"dH has shape \(2, 2, 5\) but lstm_backward needs "
        r"\(T, N, H\) = \(3, 2, 5\)",
    ):
        lstm_backward(dH[:2], cache)
    with pytest.raises(ValueError, match=r"dc_T has shape \(2, 4\) but lstm_backward needs"):
        lstm_backward(dH, cache, dc_T=np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"dh_T has shape \(5,\)"):
        lstm_backward(dH, cache, dh_T=np.zeros(5))


def test_reference_refuses_while_grading():
    X, h0, c0, params, dH = make_case("lstm", 2, 1, 2, 2)
    _, _, cache = lstm_forward(X, h0, c0, params)
    with refusing(["lstm_forward", "lstm_backward"]):
        with pytest.raises(ReferenceCallRefused):
            lstm_forward(X, h0, c0, params)
        with pytest.raises(ReferenceCallRefused):
            lstm_backward(dH, cache)


@pytest.mark.parametrize("steps", [1, 2])
def test_backward_in_small_chunks_matches_cell_loop(monkeypatch, steps):
    """Big sizes compute local derivatives a few steps at a time; force that on a small case."""
    import rnncore.lstm

    monkeypatch.setattr(rnncore.lstm, "_chunk_steps", lambda *args: steps)
    X, h0, c0, params, dH = make_case("lstm", 5, 3, 4, 6, seed=21)
    got = run(X, h0, c0, params, dH, dh_T=dH[0], dc_T=dH[1])
    expected = cell_loop("lstm", X, h0, c0, params, dH, dh_T=dH[0], dc_T=dH[1])
    for a, b in zip(got[:5], expected[:5]):
        np.testing.assert_allclose(a, b, **TIGHT)
    assert_close_dicts(got[5], expected[5], **TIGHT)
