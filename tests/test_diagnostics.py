"""gradient_norms_over_time and jacobian_product_norms against independent routes.

Expected values come from finite differences through a loop of reference
cells restarted at H[t], and from analytic facts (a linear regime where every
step multiplies the gradient by exactly the same factor).
"""

from __future__ import annotations

import numpy as np
import pytest

from rnncore import ReferenceCallRefused, numerical_gradient, rnn_cell_forward
from rnncore._guard import refusing
from rnncore.diagnostics import gradient_norms_over_time, jacobian_product_norms


def make(T, N, D, H, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    params = {
        "W_xh": rng.normal(0, 0.6, (D, H)),
        "W_hh": scale * rng.normal(0, 0.6, (H, H)),
        "b_h": rng.normal(0, 0.3, H),
    }
    return rng.normal(size=(T, N, D)), rng.normal(0, 0.5, (N, H)), params


def states(X, h0, params):
    H, h = [], h0
    for x in X:
        h = rnn_cell_forward(x, h, params)[0]
        H.append(h)
    return H


def final_from(X_rest, h, params):
    for x in X_rest:
        h = rnn_cell_forward(x, h, params)[0]
    return h


SIZES = [(5, 3, 4, 6), (1, 2, 3, 4), (4, 1, 3, 3), (6, 2, 2, 5)]


@pytest.mark.parametrize("T,N,D,H", SIZES)
def test_gradient_norms_match_finite_differences(T, N, D, H):
    X, h0, params = make(T, N, D, H)
    HS = states(X, h0, params)
    expected = []
    for t in range(T):
        f = lambda a, t=t: final_from(X[t + 1 :], a["h"], params).sum()  # noqa: E731
        grad = numerical_gradient(lambda a, f=f: np.array(f(a)), {"h": HS[t]}, "h")
        expected.append(np.linalg.norm(grad))
    norms = gradient_norms_over_time(X, h0, params)
    assert norms.shape == (T,)
    np.testing.assert_allclose(norms, expected, rtol=1e-6)
    assert norms[-1] == pytest.approx(np.sqrt(N * H))


@pytest.mark.parametrize("T,N,D,H", SIZES)
def test_jacobian_norms_match_explicit_jacobians(T, N, D, H):
    X, h0, params = make(T, N, D, H, seed=1)
    HS = states(X, h0, params)
    norms = jacobian_product_norms(X, h0, params)
    assert norms.shape == (T, N)
    eps = 1e-6
    for t in range(T):
        for n in range(N):
            J = np.empty((H, H))
            for j in range(H):
                plus, minus = HS[t].copy(), HS[t].copy()
                plus[n, j] += eps
                minus[n, j] -= eps
                J[:, j] = (
                    final_from(X[t + 1 :], plus, params)[n]
                    - final_from(X[t + 1 :], minus, params)[n]
                ) / (2 * eps)
            assert norms[t, n] == pytest.approx(np.linalg.norm(J, 2), rel=1e-6)
    np.testing.assert_allclose(norms[-1], 1.0)


@pytest.mark.parametrize("gain", [0.5, 3.0])
def test_linear_regime_multiplies_by_the_gain_each_step(gain):
    """X = 0, h0 = 0, b = 0 keep h = 0, so tanh' = 1: each step back multiplies by gain·Q."""
    T, N, H = 6, 2, 4
    Q = np.linalg.qr(np.random.default_rng(3).normal(size=(H, H)))[0]
    params = {"W_xh": np.ones((3, H)), "W_hh": gain * Q, "b_h": np.zeros(H)}
    X = np.zeros((T, N, 3))
    expected = np.sqrt(N * H) * gain ** np.arange(T - 1, -1, -1)
    np.testing.assert_allclose(gradient_norms_over_time(X, None, params), expected, rtol=1e-12)
    np.testing.assert_allclose(
        jacobian_product_norms(X, None, params),
        np.repeat(gain ** np.arange(T - 1, -1, -1)[:, None], N, 1),
        rtol=1e-12,
    )


def test_h0_none_means_zeros_and_float32_is_kept():
    X, h0, params = make(4, 2, 3, 5)
    zeros = np.zeros_like(h0)
    np.testing.assert_allclose(
        gradient_norms_over_time(X, None, params), gradient_norms_over_time(X, zeros, params)
    )
    X32 = X.astype(np.float32)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    norms = gradient_norms_over_time(X32, None, p32)
    assert norms.dtype == np.float32
    np.testing.assert_allclose(norms, gradient_norms_over_time(X, None, params), rtol=1e-4)
    assert jacobian_product_norms(X32, None, p32).dtype == np.float32


def test_inputs_are_not_modified():
    X, h0, params = make(3, 2, 3, 4)
    copies = X.copy(), h0.copy(), {k: v.copy() for k, v in params.items()}
    gradient_norms_over_time(X, h0, params)
    jacobian_product_norms(X, h0, params)
    assert np.array_equal(X, copies[0]) and np.array_equal(h0, copies[1])
    assert all(np.array_equal(params[k], copies[2][k]) for k in params)


@pytest.mark.parametrize("fn", [gradient_norms_over_time, jacobian_product_norms])
def test_bad_inputs_are_named(fn):
    X, h0, params = make(3, 2, 3, 4)
    name = fn.__name__
    with pytest.raises(ValueError, match=rf"h0 has shape \(2, 5\) but {name} needs"):
        fn(X, np.zeros((2, 5)), params)
    with pytest.raises(ValueError, match="params is missing 'b_h'"):
        fn(X, h0, {"W_xh": params["W_xh"], "W_hh": params["W_hh"]})
    with pytest.raises(TypeError, match="X must hold floating-point numbers"):
        fn(X.astype(int), h0, params)
    with pytest.raises(ValueError, match="X has no time steps"):
        fn(X[:0], h0, params)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="X passed to .* contains NaN"):
        fn(bad, h0, params)


@pytest.mark.parametrize("fn", [gradient_norms_over_time, jacobian_product_norms])
def test_guarded(fn):
    X, h0, params = make(2, 1, 2, 2)
    with refusing([fn.__name__]), pytest.raises(ReferenceCallRefused):
        fn(X, h0, params)
