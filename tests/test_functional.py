"""Tests for rnncore.functional: activations, softmax, cross-entropy, sequence loss."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnncore import _activations
from rnncore.functional import (
    cross_entropy,
    log_softmax,
    perplexity,
    sequence_loss,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    tanh,
)
from rnncore.gradcheck import gradcheck

TOL = 1e-7

finite_floats = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
logit_arrays = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 6)),
    elements=finite_floats,
)


def _naive_cross_entropy(logits, targets):
    """Per-row -log p_target from the textbook formula (fine for moderate logits)."""
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return -np.log(probs[np.arange(len(targets)), targets])


# ---------------------------------------------------------------- activations


def test_sigmoid_matches_formula_in_the_safe_range():
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-13, atol=0)


def test_sigmoid_is_the_one_shared_implementation():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_array_equal(sigmoid(x), _activations.sigmoid(x))


def test_sigmoid_extremes_do_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail the test
        s = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])


def test_sigmoid_symmetry_and_tanh_identity():
    x = np.random.default_rng(1).normal(scale=3, size=(5, 7))
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), atol=1e-15)
    # tanh(x) = 2 sigmoid(2x) - 1: an independent route to tanh
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-14)


@pytest.mark.parametrize("fn", [sigmoid, tanh, softmax, log_softmax])
def test_activations_keep_float32(fn):
    x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    out = fn(x)
    assert out.dtype == np.float32
    assert out.shape == x.shape


# ---------------------------------------------------------------- softmax


@settings(max_examples=60, deadline=None)
@given(logit_arrays)
def test_softmax_rows_sum_to_one_and_are_probabilities(z):
    p = softmax(z)
    assert (p >= 0).all() and (p <= 1).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(logit_arrays, st.floats(-1e3, 1e3))
def test_softmax_is_shift_invariant(z, c):
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(log_softmax(z + c), log_softmax(z), rtol=1e-9, atol=1e-9)


def test_softmax_hand_computed_case():
    # logits (0, log 3): probabilities 1/4 and 3/4
    p = softmax(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(p, [[0.25, 0.75]], rtol=1e-14)


def test_softmax_axis_argument():
    z = np.random.default_rng(3).normal(size=(4, 5))
    np.testing.assert_allclose(softmax(z, axis=0), softmax(z.T).T, rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z, axis=0), log_softmax(z.T).T, rtol=1e-14)


def test_softmax_and_log_softmax_of_plus_minus_1000_are_finite():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(z)
        lp = log_softmax(z)
    assert np.isfinite(p).all() and np.isfinite(lp).all()
    np.testing.assert_allclose(p[0], [1.0, 0.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-14)
    # log_softmax(z)_i = z_i - logsumexp(z); logsumexp(1000, -1000, 0) = 1000 (to 1e-434)
    np.testing.assert_allclose(lp[0], [0.0, -2000.0, -1000.0], rtol=1e-14)
    np.testing.assert_allclose(lp[1], [-np.log(3)] * 3, rtol=1e-14)


def test_log_softmax_equals_log_of_softmax_in_the_safe_range():
    z = np.random.default_rng(4).normal(size=(3, 2, 6))
    np.testing.assert_allclose(log_softmax(z), np.log(softmax(z)), rtol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)).sum(-1), 1.0, atol=1e-13)


# ---------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("V", [1, 2, 7, 100])
def test_uniform_logits_give_log_V(V):
    N = 3
    logits = np.full((N, V), 0.37)
    targets = np.arange(N) % V
    loss, _ = softmax_cross_entropy(logits, targets)
    assert loss == pytest.approx(np.log(V), abs=1e-14)
    assert softmax_cross_entropy(logits, targets, "sum")[0] == pytest.approx(N * np.log(V))
    np.testing.assert_allclose(cross_entropy(logits, targets, "none"), np.log(V), atol=1e-14)


def test_cross_entropy_hand_computed_and_matches_naive_formula():
    logits = np.array([[0.0, np.log(3.0)], [0.0, np.log(3.0)]])
    targets = np.array([1, 0])
    np.testing.assert_allclose(
        cross_entropy(logits, targets, "none"), [-np.log(0.75), -np.log(0.25)], rtol=1e-14
    )
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(6, 5))
    targets = rng.integers(0, 5, size=6)
    naive = _naive_cross_entropy(logits, targets)
    assert cross_entropy(logits, targets) == pytest.approx(naive.mean(), rel=1e-13)
    assert cross_entropy(logits, targets, "sum") == pytest.approx(naive.sum(), rel=1e-13)
    loss, _ = softmax_cross_entropy(logits, targets, "mean")
    assert loss == pytest.approx(naive.mean(), rel=1e-13)


def test_cross_entropy_of_extreme_logits_is_finite_and_right():
    logits = np.array([[1000.0, -1000.0], [1000.0, -1000.0]])
    targets = np.array([0, 1])
    losses, dlogits = softmax_cross_entropy(logits, targets, "none")
    np.testing.assert_allclose(losses, [0.0, 2000.0], rtol=1e-14)
    np.testing.assert_allclose(dlogits, [[0.0, 0.0], [1.0, -1.0]], atol=1e-300)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("N,V", [(1, 1), (1, 5), (4, 3), (6, 11)])
def test_softmax_cross_entropy_gradient(reduction, N, V):
    rng = np.random.default_rng(N * 100 + V)
    logits = rng.normal(scale=2, size=(N, V))
    targets = rng.integers(0, V, size=N)
    loss, dlogits = softmax_cross_entropy(logits, targets, reduction)
    # with reduction="none" dlogits is the gradient of loss.sum(): weights of ones
    errors = gradcheck(
        lambda a: softmax_cross_entropy(a["logits"], targets, reduction)[0],
        {"logits": logits},
        {"logits": dlogits},
    )
    assert errors["logits"] < TOL, errors


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = np.array([[0.0, np.log(3.0)]])
    _, dlogits = softmax_cross_entropy(logits, np.array([1]), "sum")
    np.testing.assert_allclose(dlogits, [[0.25, -0.25]], rtol=1e-14)


def test_softmax_cross_entropy_float32():
    logits = np.random.default_rng(6).normal(size=(3, 4)).astype(np.float32)
    loss, dlogits = softmax_cross_entropy(logits, np.array([0, 1, 2]))
    assert loss.dtype == np.float32 and dlogits.dtype == np.float32
    assert cross_entropy(logits, np.array([0, 1, 2]), "none").dtype == np.float32


# ---------------------------------------------------------------- sequence loss


def _loop_sequence_loss(logits, targets, mask):
    """The definition: sum over time of each step's cross-entropy, padding left out."""
    total = 0.0
    for t in range(logits.shape[0]):
        per_row = _naive_cross_entropy(logits[t], targets[t])
        total += float((per_row * mask[t]).sum())
    return total


def _random_sequence_case(T, N, V, seed, with_mask=True):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=1.5, size=(T, N, V))
    targets = rng.integers(0, V, size=(T, N))
    mask = None
    if with_mask:
        lengths = rng.integers(1, T + 1, size=N)  # every sequence keeps >= 1 token
        mask = np.arange(T)[:, None] < lengths[None, :]  # (T, N) padded at the end
    return logits, targets, mask


@pytest.mark.parametrize("reduction", ["sum", "mean", "batch_mean"])
@pytest.mark.parametrize("T,N,V", [(1, 1, 3), (1, 4, 5), (5, 1, 2), (4, 3, 6)])
@pytest.mark.parametrize("with_mask", [False, True])
def test_sequence_loss_value_and_gradient(reduction, T, N, V, with_mask):
    logits, targets, mask = _random_sequence_case(T, N, V, 7 * T + N, with_mask)
    loss, dlogits = sequence_loss(logits, targets, mask, reduction)

    full = np.ones((T, N), bool) if mask is None else mask
    total = _loop_sequence_loss(logits, targets, full)
    divisor = {"sum": 1, "mean": full.sum(), "batch_mean": N}[reduction]
    assert loss == pytest.approx(total / divisor, rel=1e-12)

    errors = gradcheck(
        lambda a: sequence_loss(a["logits"], targets, mask, reduction)[0],
        {"logits": logits},
        {"logits": dlogits},
    )
    assert errors["logits"] < TOL, errors


def test_sequence_loss_masked_positions_have_zero_gradient_and_no_effect():
    logits, targets, _ = _random_sequence_case(4, 3, 5, 11, with_mask=False)
    mask = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    loss, dlogits = sequence_loss(logits, targets, mask, "mean")
    np.testing.assert_array_equal(dlogits[mask == 0], 0.0)
    assert (np.abs(dlogits[mask == 1]).sum(axis=-1) > 0).all()
    # whatever sits at padded positions cannot change the loss
    scrambled = logits.copy()
    scrambled[mask == 0] = 1e3
    assert sequence_loss(scrambled, targets, mask, "mean")[0] == loss


def test_sequence_loss_bool_and_float_masks_agree():
    logits, targets, mask = _random_sequence_case(3, 4, 5, 12)
    for reduction in ("sum", "mean", "batch_mean"):
        a = sequence_loss(logits, targets, mask, reduction)
        b = sequence_loss(logits, targets, mask.astype(np.float64), reduction)
        c = sequence_loss(logits, targets, mask.astype(np.int8), reduction)
        assert a[0] == b[0] == c[0]
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[1], c[1])


def test_sequence_loss_uniform_logits():
    T, N, V = 3, 2, 8
    logits = np.zeros((T, N, V))
    targets = np.zeros((T, N), dtype=np.int64)
    assert sequence_loss(logits, targets)[0] == pytest.approx(T * N * np.log(V))
    assert sequence_loss(logits, targets, reduction="mean")[0] == pytest.approx(np.log(V))
    assert sequence_loss(logits, targets, reduction="batch_mean")[0] == pytest.approx(T * np.log(V))


def test_sequence_loss_all_masked_mean_is_zero():
    logits, targets, _ = _random_sequence_case(2, 2, 3, 13)
    loss, dlogits = sequence_loss(logits, targets, np.zeros((2, 2), bool), "mean")
    assert loss == 0.0
    np.testing.assert_array_equal(dlogits, 0.0)


def test_sequence_loss_float32():
    logits, targets, mask = _random_sequence_case(3, 2, 4, 14)
    loss, dlogits = sequence_loss(logits.astype(np.float32), targets, mask, "mean")
    assert loss.dtype == np.float32 and dlogits.dtype == np.float32


# ---------------------------------------------------------------- perplexity


def test_perplexity_of_uniform_model_is_V():
    V = 27
    logits = np.zeros((5, 2, V))
    loss, _ = sequence_loss(logits, np.ones((5, 2), np.int64), reduction="mean")
    assert perplexity(loss) == pytest.approx(V)
    assert perplexity(0.0) == 1.0
    assert isinstance(perplexity(1), float)
    np.testing.assert_allclose(perplexity(np.array([0.0, np.log(2.0)])), [1.0, 2.0])


# ---------------------------------------------------------------- purity


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5), st.integers(0, 2**31))
def test_nothing_mutates_its_inputs(T, N, V, seed):
    logits, targets, mask = _random_sequence_case(T, N, V, seed)
    keep = (logits.copy(), targets.copy(), mask.copy())
    sequence_loss(logits, targets, mask, "mean")
    softmax_cross_entropy(logits[0], targets[0])
    cross_entropy(logits[0], targets[0])
    softmax(logits)
    log_softmax(logits)
    sigmoid(logits)
    tanh(logits)
    for before, after in zip(keep, (logits, targets, mask)):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- bad input


def test_bad_input_wrong_shape():
    with pytest.raises(ValueError, match=r"logits has shape \(2, 3\) but sequence_loss needs"):
        sequence_loss(np.zeros((2, 3)), np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"targets has shape \(4,\) but softmax_cross_entropy"):
        softmax_cross_entropy(np.zeros((3, 5)), np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=r"mask has shape \(3, 2\) but sequence_loss needs"):
        sequence_loss(np.zeros((2, 3, 4)), np.zeros((2, 3), np.int64), np.ones((3, 2), bool))


def test_bad_input_not_an_array():
    with pytest.raises(TypeError, match="logits must be a NumPy array"):
        softmax([[1.0, 2.0]])
    with pytest.raises(TypeError, match="mask must be a NumPy array"):
        sequence_loss(np.zeros((1, 1, 2)), np.zeros((1, 1), np.int64), [[1]])
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        sigmoid(0.5)


def test_bad_input_wrong_dtype():
    with pytest.raises(TypeError, match="logits must hold floating-point numbers"):
        cross_entropy(np.zeros((2, 3), np.int64), np.zeros(2, np.int64))
    with pytest.raises(TypeError, match="targets must hold integer token ids"):
        softmax_cross_entropy(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(TypeError, match="mask must hold booleans or the numbers 0 and 1"):
        sequence_loss(np.zeros((1, 1, 2)), np.zeros((1, 1), np.int64), np.array([["a"]]))


def test_bad_input_not_finite():
    with pytest.raises(ValueError, match="logits passed to softmax contains NaN or inf"):
        softmax(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="x passed to tanh contains NaN or inf"):
        tanh(np.array([np.inf]))


def test_bad_input_out_of_range_values():
    with pytest.raises(ValueError, match=r"targets holds the id 3, outside .* 0\.\.2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="mask must hold only 0 and 1"):
        sequence_loss(np.zeros((1, 2, 2)), np.zeros((1, 2), np.int64), np.array([[1.0, 0.5]]))
    with pytest.raises(ValueError, match="mean_token_loss must be non-negative"):
        perplexity(np.array([-0.1]))
    with pytest.raises(ValueError, match="mean_token_loss must be a finite non-negative number"):
        perplexity(-1.0)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        log_softmax(np.zeros((2, 3)), axis=1.0)


def test_bad_input_unknown_option():
    with pytest.raises(ValueError, match="reduction must be one of 'sum', 'mean', 'batch_mean'"):
        sequence_loss(np.zeros((1, 1, 2)), np.zeros((1, 1), np.int64), reduction="none")
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none'"):
        cross_entropy(np.zeros((1, 2)), np.zeros(1, np.int64), reduction="avg")
