"""Tests for rnncore.optim: gradient clipping and the SGD, Adagrad and Adam steps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnncore.optim import (
    adagrad_init,
    adagrad_step,
    adam_init,
    adam_step,
    clip_grad_norm,
    clip_grad_value,
    global_norm,
    sgd_step,
)

entries = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
grad_dicts = st.fixed_dictionaries(
    {
        "W_xh": arrays(np.float64, (3, 2), elements=entries),
        "b_h": arrays(np.float64, (2,), elements=entries),
    }
)


def _params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {
        "W_xh": rng.normal(size=(3, 4)).astype(dtype),
        "W_hh": rng.normal(size=(4, 4)).astype(dtype),
        "b_h": rng.normal(size=(4,)).astype(dtype),
    }


def _copy(d):
    return {k: (_copy(v) if isinstance(v, dict) else np.copy(v)) for k, v in d.items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):
            _assert_same(a[k], b[k])
        else:
            np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------- norms and clipping


def test_global_norm_is_the_norm_of_the_concatenation():
    grads = _params(1)
    flat = np.concatenate([g.ravel() for g in grads.values()])
    assert global_norm(grads) == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    assert global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])}) == 5.0


def test_clip_grad_norm_hand_computed():
    grads = {"a": np.array([3.0]), "b": np.array([[4.0]])}  # norm 5
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(clipped["a"], [0.6], rtol=1e-15)
    np.testing.assert_allclose(clipped["b"], [[0.8]], rtol=1e-15)


@settings(max_examples=80, deadline=None)
@given(grad_dicts, st.floats(1e-3, 1e3))
def test_clip_grad_norm_caps_norm_and_keeps_direction(grads, max_norm):
    keep = _copy(grads)
    clipped, norm = clip_grad_norm(grads, max_norm)
    _assert_same(grads, keep)  # the caller's gradients are untouched
    assert norm == pytest.approx(global_norm(grads))
    new_norm = global_norm(clipped)
    assert new_norm <= max_norm * (1 + 1e-12)
    if norm <= max_norm:
        _assert_same(clipped, grads)  # unchanged below the threshold
    else:
        assert new_norm == pytest.approx(max_norm, rel=1e-12)
        # same direction: every array is the original times one common positive factor
        scale = max_norm / norm
        for k in grads:
            np.testing.assert_allclose(clipped[k], scale * grads[k], rtol=1e-12, atol=1e-300)


def test_clip_grad_norm_returns_new_arrays():
    grads = {"a": np.array([0.1, 0.2])}
    clipped, _ = clip_grad_norm(grads, 10.0)
    clipped["a"][0] = 99.0
    assert grads["a"][0] == 0.1


@settings(max_examples=60, deadline=None)
@given(grad_dicts, st.floats(1e-3, 50))
def test_clip_grad_value_bounds_entries(grads, clip_value):
    keep = _copy(grads)
    clipped = clip_grad_value(grads, clip_value)
    _assert_same(grads, keep)
    for k, g in grads.items():
        assert (np.abs(clipped[k]) <= clip_value).all()
        inside = np.abs(g) <= clip_value
        np.testing.assert_array_equal(clipped[k][inside], g[inside])
        np.testing.assert_array_equal(clipped[k][~inside], np.sign(g[~inside]) * clip_value)


def test_clipping_keeps_float32():
    grads = _params(2, np.float32)
    clipped, _ = clip_grad_norm(grads, 0.1)
    assert all(g.dtype == np.float32 for g in clipped.values())
    assert all(g.dtype == np.float32 for g in clip_grad_value(grads, 0.1).values())


# ---------------------------------------------------------------- one step, analytically


def test_sgd_step_is_exact():
    params = {"w": np.array([1.0, -2.0, 0.5])}
    grads = {"w": np.array([0.5, 0.25, -4.0])}
    new = sgd_step(params, grads, lr=0.5)
    np.testing.assert_array_equal(new["w"], [0.75, -2.125, 2.5])
    np.testing.assert_array_equal(params["w"], [1.0, -2.0, 0.5])


def test_adagrad_first_step():
    params, grads = _params(3), _params(4)
    lr, eps = 0.1, 1e-8
    keep_p, keep_g = _copy(params), _copy(grads)
    state = adagrad_init(params)
    new, new_state = adagrad_step(params, grads, state, lr, eps)
    for k in params:
        g = grads[k]
        np.testing.assert_allclose(new[k], params[k] - lr * g / (np.abs(g) + eps), rtol=1e-14)
        np.testing.assert_allclose(new_state["sum_sq"][k], g**2, rtol=1e-15)
        np.testing.assert_array_equal(state["sum_sq"][k], 0.0)  # old state untouched
    _assert_same(params, keep_p)
    _assert_same(grads, keep_g)


def test_adagrad_second_step_uses_the_history():
    params = {"w": np.array([0.0])}
    state = adagrad_init(params)
    params, state = adagrad_step(params, {"w": np.array([3.0])}, state, lr=1.0, eps=1e-300)
    params, state = adagrad_step(params, {"w": np.array([4.0])}, state, lr=1.0, eps=1e-300)
    # -1 (first step) then -4 / sqrt(9 + 16) = -0.8
    np.testing.assert_allclose(params["w"], [-1.8], rtol=1e-15)


def test_adam_first_step_moves_by_lr_times_sign():
    params, grads = _params(5), _params(6)
    lr = 1e-3
    state = adam_init(params)
    keep_state = _copy(state["m"]), _copy(state["v"])
    new, new_state = adam_step(params, grads, state, lr=lr)
    for k in params:
        # bias correction makes m_hat = g and v_hat = g^2: step = lr * g / (|g| + eps)
        np.testing.assert_allclose(new[k] - params[k], -lr * np.sign(grads[k]), rtol=1e-6, atol=0)
    assert new_state["t"] == 1 and state["t"] == 0
    _assert_same(state["m"], keep_state[0])
    _assert_same(state["v"], keep_state[1])


def test_adam_second_step_hand_computed():
    beta1, beta2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    params = {"w": np.array([0.0])}
    state = adam_init(params)
    params, state = adam_step(params, {"w": np.array([1.0])}, state, lr, beta1, beta2, eps)
    params, state = adam_step(params, {"w": np.array([-2.0])}, state, lr, beta1, beta2, eps)
    m = beta1 * (1 - beta1) * 1.0 + (1 - beta1) * -2.0
    v = beta2 * (1 - beta2) * 1.0 + (1 - beta2) * 4.0
    m_hat, v_hat = m / (1 - beta1**2), v / (1 - beta2**2)
    expected = -lr * 1.0 / (1 + eps) - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(params["w"], [expected], rtol=1e-13)
    assert state["t"] == 2


def test_optimisers_keep_float32():
    params, grads = _params(7, np.float32), _params(8, np.float32)
    assert all(p.dtype == np.float32 for p in sgd_step(params, grads, 0.1).values())
    new, state = adagrad_step(params, grads, adagrad_init(params), 0.1)
    assert all(p.dtype == np.float32 for p in new.values())
    new, state = adam_step(params, grads, adam_init(params))
    assert all(p.dtype == np.float32 for p in new.values())
    assert all(m.dtype == np.float32 for m in state["m"].values())


# ---------------------------------------------------------------- minimising a convex quadratic


def _quadratic(seed=0):
    """f(w) = 1/2 (w - w*)^T A (w - w*) with A symmetric positive definite."""
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(4, 4))
    A = Q @ Q.T + np.eye(4)
    target = rng.normal(size=4)

    def loss_and_grads(params):
        r = params["w"] - target
        return 0.5 * r @ A @ r, {"w": A @ r}

    return loss_and_grads, target, 1 / np.linalg.eigvalsh(A).max()


@pytest.mark.parametrize("method", ["sgd", "adagrad", "adam"])
def test_each_optimiser_minimises_a_convex_quadratic(method):
    loss_and_grads, target, safe_lr = _quadratic()
    params = {"w": np.zeros(4)}
    start, _ = loss_and_grads(params)
    state = {"adagrad": adagrad_init, "adam": adam_init}.get(method, lambda p: None)(params)
    for _ in range(3000):
        _, grads = loss_and_grads(params)
        if method == "sgd":
            params = sgd_step(params, grads, lr=safe_lr)
        elif method == "adagrad":
            params, state = adagrad_step(params, grads, state, lr=0.5)
        else:
            params, state = adam_step(params, grads, state, lr=0.05)
    end, _ = loss_and_grads(params)
    assert end < 1e-6 * start
    np.testing.assert_allclose(params["w"], target, atol=1e-3)


# ---------------------------------------------------------------- bad input


def test_bad_input_keys_do_not_match():
    params = _params()
    grads = _copy(params)
    del grads["b_h"]
    grads["b_q"] = np.zeros(2)
    with pytest.raises(
        ValueError,
        match=r"sgd_step: grads is missing 'b_h' and has keys not in "
        r"params: 'b_q'",
    ):
        sgd_step(params, grads, 0.1)


def test_bad_input_shapes_do_not_match():
    params = _params()
    grads = _copy(params)
    grads["W_hh"] = np.zeros((4, 3))
    with pytest.raises(
        ValueError,
        match=r"grads\['W_hh'\] has shape \(4, 3\) but "
        r"params\['W_hh'\] has shape \(4, 4\)",
    ):
        adam_step(params, grads, adam_init(params))


def test_bad_input_not_finite():
    grads = {"w": np.array([1.0, np.inf])}
    with pytest.raises(ValueError, match=r"grads\['w'\] passed to clip_grad_norm contains NaN"):
        clip_grad_norm(grads, 1.0)


def test_bad_input_not_a_dict_or_not_an_array():
    with pytest.raises(TypeError, match="grads must be a dict of named arrays, got list"):
        global_norm([np.zeros(2)])
    with pytest.raises(TypeError, match=r"params\['w'\] must be a NumPy array"):
        adagrad_init({"w": [1.0]})
    with pytest.raises(TypeError, match="state must be the dict returned by adam_init"):
        adam_step({"w": np.zeros(1)}, {"w": np.zeros(1)}, adagrad_init({"w": np.zeros(1)}))


def test_bad_input_bad_hyperparameters():
    params = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="lr must be a finite positive number, got -0.1"):
        sgd_step(params, params, -0.1)
    with pytest.raises(ValueError, match="lr must be a finite positive number, got 0"):
        adagrad_step(params, params, adagrad_init(params), 0)
    with pytest.raises(ValueError, match="max_norm must be a finite positive number"):
        clip_grad_norm(params, 0.0)
    with pytest.raises(ValueError, match="clip_value must be a finite positive number"):
        clip_grad_value(params, float("nan"))
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\), got 1.0"):
        adam_step(params, params, adam_init(params), beta1=1.0)
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        sgd_step(params, params, "0.1")


def test_bad_input_corrupt_state():
    params = {"w": np.zeros(2)}
    state = adam_init(params)
    state["t"] = -1
    with pytest.raises(ValueError, match=r"state\['t'\] must be a step count >= 0"):
        adam_step(params, params, state)
    state = adagrad_init({"w": np.zeros(3)})
    with pytest.raises(ValueError, match=r"state\['sum_sq'\]\['w'\] has shape \(3,\)"):
        adagrad_step(params, params, state, 0.1)
