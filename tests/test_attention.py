"""rnncore.attention: the three scores against loops over (n, t) and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnncore import ReferenceCallRefused
from rnncore._guard import refusing
from rnncore.attention import (
    additive_attention_backward,
    additive_attention_forward,
    init_additive_attention_params,
)
from rnncore.attention_multiplicative import (
    dot_attention_backward,
    dot_attention_forward,
    general_attention_backward,
    general_attention_forward,
    init_general_attention_params,
)
from rnncore.gradcheck import gradcheck

TOL = 1e-7
SHAPES = [(1, 1, 2, 3, 4), (3, 2, 4, 3, 5), (1, 4, 3, 3, 2)]  # (T, N, S, E, A): T=1, N=1, S≠E
KINDS = ("additive", "general", "dot")


def _case(kind, T, N, S, E, A, seed, masked=False, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if kind == "dot":
        S = E
    s_prev = rng.normal(size=(N, S)).astype(dtype)
    H_enc = rng.normal(size=(T, N, E)).astype(dtype)
    if kind == "additive":
        params = init_additive_attention_params(S, E, A, rng, dtype=dtype)
        params = {k: (3 * v).astype(dtype) for k, v in params.items()}  # scores far from uniform
    elif kind == "general":
        params = init_general_attention_params(S, E, rng, dtype=dtype)
    else:
        params = {}
    mask = None
    if masked:
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = T  # one full sequence, the others padded
        mask = np.arange(T)[:, None] < lengths[None, :]  # (T, N)
    return s_prev, H_enc, params, mask


def _forward(kind, s_prev, H_enc, params, mask):
    if kind == "additive":
        return additive_attention_forward(s_prev, H_enc, params, mask)
    if kind == "general":
        return general_attention_forward(s_prev, H_enc, params, mask)
    return dot_attention_forward(s_prev, H_enc, mask)


def _backward(kind, dcontext, dalpha, cache):
    backward = {
        "additive": additive_attention_backward,
        "general": general_attention_backward,
        "dot": dot_attention_backward,
    }[kind]
    return backward(dcontext, dalpha, cache)


def _loop_reference(kind, s_prev, H_enc, params, mask):
    """The definitions, one (n, t) at a time, with Python floats for the softmax."""
    T, N, E = H_enc.shape
    alpha = np.zeros((N, T))
    context = np.zeros((N, E))
    for n in range(N):
        real = [t for t in range(T) if mask is None or mask[t, n]]
        scores = {}
        for t in real:
            if kind == "additive":
                hidden = np.tanh(
                    s_prev[n] @ params["W_sa"] + H_enc[t, n] @ params["W_ea"] + params["b_a"]
                )
                scores[t] = float(params["v_a"] @ hidden)
            elif kind == "general":
                scores[t] = float(s_prev[n] @ params["W_a"] @ H_enc[t, n])
            else:
                scores[t] = float(s_prev[n] @ H_enc[t, n]) / math.sqrt(E)
        top = max(scores.values())
        total = sum(math.exp(v - top) for v in scores.values())
        for t in real:
            alpha[n, t] = math.exp(scores[t] - top) / total
            context[n] += alpha[n, t] * H_enc[t, n]
    return context, alpha


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T,N,S,E,A", SHAPES)
@pytest.mark.parametrize("masked", [False, True])
def test_forward_matches_the_definition(kind, T, N, S, E, A, masked):
    s_prev, H_enc, params, mask = _case(kind, T, N, S, E, A, seed=T + 7 * N, masked=masked)
    context, alpha, _ = _forward(kind, s_prev, H_enc, params, mask)
    context_ref, alpha_ref = _loop_reference(kind, s_prev, H_enc, params, mask)
    np.testing.assert_allclose(alpha, alpha_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(context, context_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T,N,S,E,A", SHAPES)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("with_dalpha", [False, True])
def test_backward_matches_finite_differences(kind, T, N, S, E, A, masked, with_dalpha):
    seed = 50 + T + 7 * N + 3 * masked
    s_prev, H_enc, params, mask = _case(kind, T, N, S, E, A, seed=seed, masked=masked)
    context, alpha, cache = _forward(kind, s_prev, H_enc, params, mask)
    rng = np.random.default_rng(seed)
    dcontext = rng.normal(size=context.shape)
    dalpha = rng.normal(size=alpha.shape) if with_dalpha else None
    ds_prev, dH_enc, grads = _backward(kind, dcontext, dalpha, cache)
    assert grads.keys() == params.keys()

    def f(a):
        out = _forward(kind, a["s_prev"], a["H_enc"], {k: a[k] for k in params}, mask)
        return out[:2] if with_dalpha else out[0]

    errors = gradcheck(
        f,
        {"s_prev": s_prev, "H_enc": H_enc, **params},
        {"s_prev": ds_prev, "H_enc": dH_enc, **grads},
        dout=(dcontext, dalpha) if with_dalpha else dcontext,
    )
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("kind", KINDS)
def test_padding_gets_exactly_zero_weight_and_cannot_leak(kind):
    s_prev, H_enc, params, _ = _case(kind, 5, 3, 4, 3, 2, seed=3)
    mask = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]], dtype=bool)
    context, alpha, cache = _forward(kind, s_prev, H_enc, params, mask)
    assert (alpha[~mask.T] == 0.0).all()  # exactly 0, not merely small
    garbage = H_enc.copy()
    garbage[~mask] = 1e3  # huge values at padding must change nothing
    context2, alpha2, _ = _forward(kind, s_prev, garbage, params, mask)
    np.testing.assert_array_equal(alpha2, alpha)
    np.testing.assert_allclose(context2, context, rtol=1e-13)
    # and receive no gradient
    _, dH_enc, _ = _backward(kind, np.ones_like(context), np.ones_like(alpha), cache)
    assert (dH_enc[~mask] == 0).all()
    # a 0/1 integer mask means the same
    _, alpha_int, _ = _forward(kind, s_prev, H_enc, params, mask.astype(int))
    np.testing.assert_array_equal(alpha_int, alpha)


def test_softmax_is_over_time_not_the_batch():
    s_prev, H_enc, params, _ = _case("additive", 4, 3, 2, 2, 2, seed=4)
    _, alpha, _ = additive_attention_forward(s_prev, H_enc, params)
    assert alpha.shape == (3, 4)
    np.testing.assert_allclose(alpha.sum(axis=1), np.ones(3), rtol=1e-14)
    # sequence n's weights depend on sequence n alone
    other = H_enc.copy()
    other[:, 1] += 1.0
    _, alpha2, _ = additive_attention_forward(s_prev, other, params)
    np.testing.assert_array_equal(alpha2[[0, 2]], alpha[[0, 2]])


def test_uniform_scores_give_the_mean():
    """v_a = 0 makes every score 0: the context is the plain mean of the real states."""
    s_prev, H_enc, params, _ = _case("additive", 4, 2, 3, 3, 2, seed=5)
    params = {**params, "v_a": np.zeros(2)}
    mask = np.array([[1, 1], [1, 1], [1, 0], [1, 0]], dtype=bool)
    context, alpha, _ = additive_attention_forward(s_prev, H_enc, params, mask)
    np.testing.assert_allclose(alpha[0], 0.25)
    np.testing.assert_allclose(alpha[1], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(context[1], H_enc[:2, 1].mean(axis=0), rtol=1e-14)


def test_scaled_dot_equals_general_with_scaled_identity():
    s_prev, H_enc, _, mask = _case("dot", 3, 2, 4, 4, 2, seed=6, masked=True)
    c_dot, a_dot, _ = dot_attention_forward(s_prev, H_enc, mask, scaled=True)
    c_gen, a_gen, _ = general_attention_forward(s_prev, H_enc, {"W_a": np.eye(4) / 2.0}, mask)
    np.testing.assert_allclose(a_dot, a_gen, rtol=1e-13)
    np.testing.assert_allclose(c_dot, c_gen, rtol=1e-13)
    _, a_raw, _ = dot_attention_forward(s_prev, H_enc, mask, scaled=False)
    _, a_gen1, _ = general_attention_forward(s_prev, H_enc, {"W_a": np.eye(4)}, mask)
    np.testing.assert_allclose(a_raw, a_gen1, rtol=1e-13)
    assert not np.allclose(a_raw, a_dot)  # the √E scaling changes the weights


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(kind):
    s_prev, H_enc, params, mask = _case(kind, 3, 2, 3, 3, 2, seed=7, masked=True, dtype=np.float32)
    context, alpha, cache = _forward(kind, s_prev, H_enc, params, mask)
    ds_prev, dH_enc, grads = _backward(kind, np.ones_like(context), None, cache)
    for a in (context, alpha, ds_prev, dH_enc, *grads.values()):
        assert a.dtype == np.float32


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_mutates_its_inputs(kind):
    s_prev, H_enc, params, mask = _case(kind, 3, 2, 3, 3, 2, seed=8, masked=True)
    watched = [s_prev, H_enc, mask, *params.values()]
    keep = [a.copy() for a in watched]
    context, alpha, cache = _forward(kind, s_prev, H_enc, params, mask)
    dcontext, dalpha = np.ones_like(context), np.ones_like(alpha)
    _backward(kind, dcontext, dalpha, cache)
    for a, b in zip(watched, keep):
        np.testing.assert_array_equal(a, b)


def test_init_shapes_and_scale():
    rng = np.random.default_rng(9)
    p = init_additive_attention_params(3, 5, 4, rng, dtype=np.float32)
    assert {k: v.shape for k, v in p.items()} == {
        "W_sa": (3, 4),
        "W_ea": (5, 4),
        "b_a": (4,),
        "v_a": (4,),
    }
    assert all(v.dtype == np.float32 for v in p.values())
    assert np.abs(p["W_ea"]).max() <= 1 / math.sqrt(5)
    g = init_general_attention_params(3, 5, rng)
    assert g["W_a"].shape == (3, 5) and np.abs(g["W_a"]).max() <= 1 / math.sqrt(3)
    with pytest.raises(ValueError, match="A must be at least 1"):
        init_additive_attention_params(3, 5, 0, rng)
    with pytest.raises(TypeError, match="rng"):
        init_general_attention_params(3, 5, 0)
    with pytest.raises(TypeError, match="floating"):
        init_general_attention_params(3, 5, rng, dtype=int)


# --- bad input --------------------------------------------------------------------------


def test_bad_shapes_are_named():
    s_prev, H_enc, params, _ = _case("additive", 3, 2, 4, 3, 2, seed=10)
    with pytest.raises(ValueError, match=r"H_enc has shape \(3, 5, 3\).*\(T, N, E\) = \(T, 2, E\)"):
        additive_attention_forward(s_prev, np.zeros((3, 5, 3)), params)
    with pytest.raises(ValueError, match=r"params\['W_sa'\] has shape \(3, 2\).*\(S, A\)"):
        additive_attention_forward(s_prev, H_enc, {**params, "W_sa": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="missing 'v_a'"):
        additive_attention_forward(s_prev, H_enc, {k: params[k] for k in ("W_sa", "W_ea", "b_a")})
    with pytest.raises(ValueError, match=r"mask has shape \(2, 3\)"):
        additive_attention_forward(s_prev, H_enc, params, np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"H_enc has shape \(3, 2, 3\).*E = 4 from s_prev"):
        dot_attention_forward(s_prev, H_enc)
    with pytest.raises(ValueError, match=r"params\['W_a'\] has shape \(4, 2\)"):
        general_attention_forward(s_prev, H_enc, {"W_a": np.zeros((4, 2))})


def test_bad_values_and_types():
    s_prev, H_enc, params, _ = _case("additive", 3, 2, 4, 3, 2, seed=11)
    with pytest.raises(ValueError, match=r"mask\[:, 1\] is all False"):
        additive_attention_forward(s_prev, H_enc, params, np.array([[1, 0]] * 3, dtype=bool))
    bad = H_enc.copy()
    bad[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match="H_enc passed to additive_attention_forward contains NaN"):
        additive_attention_forward(s_prev, bad, params)
    with pytest.raises(TypeError, match="floating-point"):
        additive_attention_forward(s_prev.astype(int), H_enc, params)
    with pytest.raises(TypeError, match="mask must hold booleans"):
        additive_attention_forward(s_prev, H_enc, params, np.full((3, 2), "x"))
    with pytest.raises(TypeError, match="scaled must be True or False"):
        dot_attention_forward(H_enc[0], H_enc, scaled=1)


def test_backward_checks_its_inputs():
    s_prev, H_enc, params, _ = _case("additive", 3, 2, 4, 3, 2, seed=12)
    context, alpha, cache = additive_attention_forward(s_prev, H_enc, params)
    with pytest.raises(ValueError, match=r"dcontext has shape \(2, 4\).*\(N, E\) = \(2, 3\)"):
        additive_attention_backward(np.zeros((2, 4)), None, cache)
    with pytest.raises(ValueError, match=r"dalpha has shape \(3, 2\).*\(N, T\) = \(2, 3\)"):
        additive_attention_backward(context, np.zeros((3, 2)), cache)
    with pytest.raises(TypeError, match="AttentionCache returned by additive_attention_forward"):
        additive_attention_backward(context, None, (1, 2))
    _, _, general_cache = general_attention_forward(s_prev, H_enc, {"W_a": np.zeros((4, 3))})
    with pytest.raises(TypeError, match="of 'general' attention"):
        additive_attention_backward(context, None, general_cache)


def test_guarded_while_grading():
    s_prev, H_enc, params, _ = _case("additive", 2, 1, 2, 2, 2, seed=13)
    with refusing(["additive_attention_forward"]), pytest.raises(ReferenceCallRefused):
        additive_attention_forward(s_prev, H_enc, params)
