"""rnncore.gru: tuned GRU sequences (both variants) against the cells and finite differences."""

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

from rnncore import ReferenceCallRefused, gru_backward, gru_forward
from rnncore._guard import refusing
from rnncore.gradcheck import gradcheck

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
# Centred differences with eps = 1e-5: truncation error ~eps² stays far below 1e-7, while
# round-off (~1e-16 / eps) no longer swamps the smallest gradients (a reset gate at T = N = 1).
EPS = 1e-5
KINDS = ["gru", "gru_after"]  # reset_after False (the book's GRU) and True (torch.nn.GRU)


def run(kind, X, h0, params, dH, **finals):
    H, cache = gru_forward(X, h0, params, reset_after=kind == "gru_after")
    return (H, *gru_backward(dH, cache, **finals))


def reference(kind, X, h0, params, dH, **finals):
    H, _, dX, dh0, _, grads = cell_loop(kind, X, h0, None, params, dH, **finals)
    return H, dX, dh0, grads


def assert_same(got, expected, **tol):
    for a, b in zip(got[:3], expected[:3]):
        np.testing.assert_allclose(a, b, **tol)
    assert_close_dicts(got[3], expected[3], **tol)


# --- equal to an explicit loop of the cells ---------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_state", [True, False], ids=["h0", "zeros"])
@pytest.mark.parametrize("T, N, D, H", SHAPES)
def test_matches_cell_loop(kind, T, N, D, H, with_state):
    X, h0, _, params, dH = make_case(
        kind, T, N, D, H, seed=T + 10 * N + 100 * D, with_state=with_state
    )
    assert_same(run(kind, X, h0, params, dH), reference(kind, X, h0, params, dH), **TIGHT)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    T=st.integers(1, 6),
    N=st.integers(1, 4),
    D=st.integers(1, 5),
    H=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    with_state=st.booleans(),
)
def test_matches_cell_loop_for_any_shape(kind, T, N, D, H, seed, with_state):
    X, h0, _, params, dH = make_case(kind, T, N, D, H, seed=seed, with_state=with_state)
    assert_same(run(kind, X, h0, params, dH), reference(kind, X, h0, params, dH), **TIGHT)


@pytest.mark.parametrize("kind", KINDS)
def test_saturated_gates_stay_exact_and_silent(kind):
    X, h0, _, params, dH = make_case(kind, 3, 2, 3, 4, seed=5)
    X = X * 500.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(kind, X, h0, params, dH)
    assert_same(got, reference(kind, X, h0, params, dH), **TIGHT)


def test_reset_after_differs_from_default_and_ignores_nothing():
    """The two variants are different functions; b_hn matters only with reset_after."""
    X, h0, _, params, _ = make_case("gru_after", 4, 2, 3, 4, seed=2)
    H_default, _ = gru_forward(X, h0, params)
    H_after, _ = gru_forward(X, h0, params, reset_after=True)
    assert np.abs(H_default - H_after).max() > 1e-3
    shifted = dict(params, b_hn=params["b_hn"] + 1.0)
    np.testing.assert_array_equal(gru_forward(X, h0, shifted)[0], H_default)
    assert np.abs(gru_forward(X, h0, shifted, reset_after=True)[0] - H_after).max() > 1e-3


# --- against finite differences ----------------------------------------------------------------


def forward_outputs(kind):
    def f(arrays):
        params = {k: arrays[k] for k in KEYS[kind]}
        return gru_forward(arrays["X"], arrays["h0"], params, reset_after=kind == "gru_after")[0]

    return f


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T, N, D, H", [(1, 1, 3, 3), (3, 1, 2, 4), (4, 3, 3, 2)])
def test_backward_matches_finite_differences(kind, T, N, D, H):
    X, h0, _, params, dH = make_case(kind, T, N, D, H, seed=7 + T)
    _, cache = gru_forward(X, h0, params, reset_after=kind == "gru_after")
    dX, dh0, grads = gru_backward(dH, cache)
    assert set(grads) == set(KEYS[kind])
    errors = gradcheck(
        forward_outputs(kind),
        {"X": X, "h0": h0, **params},
        {"X": dX, "h0": dh0, **grads},
        dout=dH,
        eps=EPS,
    )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("kind", KINDS)
def test_final_state_gradient_matches_finite_differences(kind):
    """dh_T: a loss that uses the final state on top of every output."""
    T, N, D, H = 4, 2, 3, 3
    X, h0, _, params, dH = make_case(kind, T, N, D, H, seed=11)
    dh_T = np.random.default_rng(12).normal(size=(N, H))
    _, cache = gru_forward(X, h0, params, reset_after=kind == "gru_after")
    dX, dh0, grads = gru_backward(dH, cache, dh_T=dh_T)
    forward = forward_outputs(kind)

    def f(arrays):
        H_all = forward(arrays)
        return H_all, H_all[-1]

    errors = gradcheck(
        f, {"X": X, "h0": h0, **params}, {"X": dX, "h0": dh0, **grads}, dout=(dH, dh_T), eps=EPS
    )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("kind", KINDS)
def test_chained_chunks_equal_one_sequence(kind):
    """Truncated-BPTT style: two chunks chained through dh_T equal the whole sequence."""
    X, h0, _, params, dH = make_case(kind, 6, 3, 4, 5, seed=13)
    ra = kind == "gru_after"
    whole = run(kind, X, h0, params, dH)
    H1, cache1 = gru_forward(X[:3], h0, params, reset_after=ra)
    H2, cache2 = gru_forward(X[3:], H1[-1], params, reset_after=ra)
    dX2, dh_mid, grads2 = gru_backward(dH[3:], cache2)
    dX1, dh0, grads1 = gru_backward(dH[:3], cache1, dh_T=dh_mid)
    np.testing.assert_allclose(np.concatenate([H1, H2]), whole[0], **TIGHT)
    np.testing.assert_allclose(np.concatenate([dX1, dX2]), whole[1], **TIGHT)
    np.testing.assert_allclose(dh0, whole[2], **TIGHT)
    assert_close_dicts({k: grads1[k] + grads2[k] for k in grads1}, whole[3], **TIGHT)


# --- dtypes, purity, cache ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_float32_end_to_end(kind):
    X, h0, _, params, dH = make_case(kind, 5, 3, 4, 6, seed=3)
    cast = lambda a: a.astype(np.float32)  # noqa: E731
    got = run(kind, cast(X), cast(h0), {k: cast(v) for k, v in params.items()}, cast(dH))
    expected = run(kind, X, h0, params, dH)
    for a, b in zip(got[:3], expected[:3]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for k in KEYS[kind]:
        assert got[3][k].dtype == np.float32
        np.testing.assert_allclose(got[3][k], expected[3][k], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_are_never_modified(kind):
    X, h0, _, params, dH = make_case(kind, 4, 2, 3, 5, seed=4)
    dh_T = np.random.default_rng(0).normal(size=(2, 5))
    before = snapshot(X, h0, params, dH, dh_T)
    run(kind, X, h0, params, dH, dh_T=dh_T)
    assert_unchanged(before, X, h0, params, dH, dh_T)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_can_be_repeated_and_outputs_protect_the_cache(kind):
    X, h0, _, params, dH = make_case(kind, 3, 2, 3, 4, seed=6)
    H, cache = gru_forward(X, h0, params, reset_after=kind == "gru_after")
    first, second = gru_backward(dH, cache), gru_backward(dH, cache)
    for a, b in zip(first[:2], second[:2]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="read-only"):
        H[0] -= 1.0


def test_no_initial_state_means_zeros():
    X, h0, _, params, _ = make_case("gru", 4, 2, 3, 4, seed=8)
    np.testing.assert_array_equal(
        gru_forward(X, None, params)[0], gru_forward(X, np.zeros_like(h0), params)[0]
    )


# --- bad input ---------------------------------------------------------------------------------


def test_wrong_shapes_name_argument_and_shapes():
    X, h0, _, params, _ = make_case("gru", 3, 2, 4, 5)
    with pytest.raises(ValueError, match=r"X has shape \(3, 2, 4, 1\) but gru_forward needs"):
        gru_forward(X[..., None], h0, params)
    with pytest.raises(
        ValueError,
        match=r"h0 has shape \(3, 5\) but gru_forward needs "
        r"\(N, H\) = \(2, 5\)",
    ):
        gru_forward(X, np.zeros((3, 5)), params)
    with pytest.raises(ValueError, match=r"params\['W_hr'\] has shape \(4, 5\)"):
        gru_forward(X, h0, dict(params, W_hr=params["W_hr"][:4]))


def test_missing_parameter_is_named():
    X, h0, _, params, _ = make_case("gru", 3, 2, 4, 5)
    with pytest.raises(ValueError, match="params is missing 'b_hn'"):
        gru_forward(X, h0, params, reset_after=True)
    del params["W_xz"]
    with pytest.raises(ValueError, match="params is missing 'W_xz'"):
        gru_forward(X, h0, params)


def test_wrong_types_raise_type_error():
    X, h0, _, params, _ = make_case("gru", 3, 2, 4, 5)
    with pytest.raises(TypeError, match="reset_after must be True or False"):
        gru_forward(X, h0, params, reset_after="yes")
    with pytest.raises(TypeError, match=r"params\['b_z'\] must hold floating-point"):
        gru_forward(X, h0, dict(params, b_z=np.zeros(5, dtype=int)))


def test_non_finite_input_is_rejected():
    X, h0, _, params, _ = make_case("gru", 3, 2, 4, 5)
    h0[1, 1] = -np.inf
    with pytest.raises(ValueError, match="h0 passed to gru_forward contains NaN or inf"):
        gru_forward(X, h0, params)


def test_backward_rejects_bad_cache_and_gradient_shapes():
    X, h0, _, params, dH = make_case("gru", 3, 2, 4, 5)
    _, cache = gru_forward(X, h0, params)
    with pytest.raises(TypeError, match="cache must be the GRUCache returned by gru_forward"):
        gru_backward(dH, cache[:3])
    with pytest.raises(
        ValueError,
        match=r"dH has shape \(3, 1, 5\) but gru_backward needs "
        r"\(T, N, H\) = \(3, 2, 5\)",
    ):
        gru_backward(dH[:, :1], cache)
    with pytest.raises(TypeError, match="dh_T must be a NumPy array"):
        gru_backward(dH, cache, dh_T=0.0)


def test_reference_refuses_while_grading():
    X, h0, _, params, dH = make_case("gru", 2, 1, 2, 2)
    _, cache = gru_forward(X, h0, params)
    with refusing(["gru_forward", "gru_backward"]):
        with pytest.raises(ReferenceCallRefused):
            gru_forward(X, h0, params)
        with pytest.raises(ReferenceCallRefused):
            gru_backward(dH, cache)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("steps", [1, 2])
def test_backward_in_small_chunks_matches_cell_loop(monkeypatch, kind, steps):
    """Big sizes compute local derivatives a few steps at a time; force that on a small case."""
    import rnncore.gru

    monkeypatch.setattr(rnncore.gru, "_chunk_steps", lambda *args: steps)
    X, h0, _, params, dH = make_case(kind, 5, 3, 4, 6, seed=21)
    got = run(kind, X, h0, params, dH, dh_T=dH[0])
    assert_same(got, reference(kind, X, h0, params, dH, dh_T=dH[0]), **TIGHT)
