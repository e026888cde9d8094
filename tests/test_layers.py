"""Tests for rnncore.layers: the affine output layer and the embedding layer."""

from __future__ import annotations

import numpy as np
import pytest

from rnncore.gradcheck import gradcheck
from rnncore.layers import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
)
from rnncore.vocab import one_hot

TOL = 1e-7


@pytest.mark.parametrize(
    "lead,H,V", [((1,), 3, 3), ((4,), 3, 5), ((1, 1), 2, 1), ((3, 2), 4, 6), ((2, 2, 3), 3, 2)]
)
def test_affine_forward_matches_a_loop_over_rows(lead, H, V):
    rng = np.random.default_rng(len(lead) * 10 + H)
    X = rng.normal(size=lead + (H,))
    W = rng.normal(size=(H, V))
    b = rng.normal(size=V)
    out, _ = affine_forward(X, W, b)
    assert out.shape == lead + (V,)
    for index in np.ndindex(*lead):
        expected = sum(X[index][h] * W[h] for h in range(H)) + b
        np.testing.assert_allclose(out[index], expected, rtol=1e-12, atol=1e-14)


def test_affine_forward_one_dimensional_input():
    X = np.array([1.0, 2.0])
    W = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, -1.0]])
    out, _ = affine_forward(X, W, np.array([0.5, 0.0, 0.0]))
    np.testing.assert_array_equal(out, [1.5, 2.0, 1.0])


@pytest.mark.parametrize("lead,H,V", [((1,), 1, 1), ((5,), 3, 4), ((1, 1), 2, 3), ((4, 3), 5, 2)])
def test_affine_gradients(lead, H, V):
    rng = np.random.default_rng(sum(lead) + H * V)
    inputs = {
        "X": rng.normal(size=lead + (H,)),
        "W": rng.normal(size=(H, V)),
        "b": rng.normal(size=V),
    }
    _, cache = affine_forward(inputs["X"], inputs["W"], inputs["b"])
    dout = rng.normal(size=lead + (V,))
    dX, dW, db = affine_backward(dout, cache)
    errors = gradcheck(
        lambda a: affine_forward(a["X"], a["W"], a["b"])[0],
        inputs,
        {"X": dX, "W": dW, "b": db},
        dout=dout,
    )
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("T,N,V,E", [(1, 1, 1, 1), (1, 3, 5, 2), (4, 1, 3, 4), (5, 3, 4, 3)])
def test_embedding_forward_equals_one_hot_times_W(T, N, V, E):
    rng = np.random.default_rng(T * N + V)
    W = rng.normal(size=(V, E))
    ids = rng.integers(0, V, size=(T, N))
    X, _ = embedding_forward(ids, W)
    assert X.shape == (T, N, E)
    np.testing.assert_allclose(X, one_hot(ids, V) @ W, rtol=1e-15, atol=0)


@pytest.mark.parametrize("T,N,V,E", [(1, 1, 1, 1), (1, 3, 5, 2), (4, 1, 3, 4), (5, 3, 4, 3)])
def test_embedding_gradient(T, N, V, E):
    rng = np.random.default_rng(100 + T * N + V)
    W = rng.normal(size=(V, E))
    ids = rng.integers(0, V, size=(T, N))
    _, cache = embedding_forward(ids, W)
    dX = rng.normal(size=(T, N, E))
    dW = embedding_backward(dX, cache)
    errors = gradcheck(lambda a: embedding_forward(ids, a["W"])[0], {"W": W}, {"W": dW}, dout=dX)
    assert errors["W"] < TOL, errors


def test_embedding_backward_accumulates_repeated_ids():
    W = np.zeros((4, 2))
    ids = np.array([[1, 1], [3, 1]])  # token 1 three times, token 3 once, 0 and 2 never
    _, cache = embedding_forward(ids, W)
    dX = np.array([[[1.0, 2.0], [10.0, 20.0]], [[5.0, 6.0], [100.0, 200.0]]])
    dW = embedding_backward(dX, cache)
    np.testing.assert_array_equal(dW, [[0, 0], [111, 222], [0, 0], [5, 6]])


def test_embedding_backward_is_the_transpose_of_the_one_hot_product():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 6, size=(4, 3))
    _, cache = embedding_forward(ids, rng.normal(size=(6, 5)))
    dX = rng.normal(size=(4, 3, 5))
    # X = one_hot(ids) @ W, so dW = one_hot(ids)^T @ dX summed over positions
    expected = one_hot(ids, 6).reshape(-1, 6).T @ dX.reshape(-1, 5)
    np.testing.assert_allclose(embedding_backward(dX, cache), expected, rtol=1e-13)


def test_layers_keep_float32():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2, 3, 4)).astype(np.float32)
    W = rng.normal(size=(4, 5)).astype(np.float32)
    out, cache = affine_forward(X, W, np.zeros(5, np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in affine_backward(out, cache))
    E, cache = embedding_forward(np.array([[0, 1]]), W)
    assert E.dtype == np.float32
    assert embedding_backward(E, cache).dtype == np.float32


def test_nothing_mutates_its_inputs():
    rng = np.random.default_rng(5)
    X, W, b = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 6)), rng.normal(size=6)
    ids = rng.integers(0, 4, size=(3, 2))
    dout, dE = rng.normal(size=(3, 2, 6)), rng.normal(size=(3, 2, 6))
    keep = [a.copy() for a in (X, W, b, ids, dout, dE)]
    _, cache = affine_forward(X, W, b)
    affine_backward(dout, cache)
    _, cache = embedding_forward(ids, W)
    ids[0, 0] = 3 - ids[0, 0]  # the cache keeps its own copy of the ids ...
    dW = embedding_backward(dE, cache)
    ids[0, 0] = keep[3][0, 0]
    expected = one_hot(keep[3], 4).reshape(-1, 4).T @ dE.reshape(-1, 6)
    np.testing.assert_allclose(dW, expected, rtol=1e-13)  # ... so a later edit cannot leak in
    for before, after in zip(keep, (X, W, b, ids, dout, dE)):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------- bad input


def test_bad_input_wrong_shape():
    with pytest.raises(
        ValueError,
        match=r"W has shape \(3, 5\) but affine_forward needs "
        r"\(H, V\) = \(4, V\) \(H = 4 from X\)",
    ):
        affine_forward(np.zeros((2, 4)), np.zeros((3, 5)), np.zeros(5))
    with pytest.raises(ValueError, match=r"b has shape \(4,\) but affine_forward needs"):
        affine_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4))
    with pytest.raises(ValueError, match=r"X has shape \(\) but affine_forward needs"):
        affine_forward(np.array(1.0), np.zeros((1, 5)), np.zeros(5))
    _, cache = affine_forward(np.zeros((2, 3, 4)), np.zeros((4, 5)), np.zeros(5))
    with pytest.raises(
        ValueError,
        match=r"dout has shape \(2, 3, 4\) but affine_backward needs "
        r"\(T, N, V\) = \(2, 3, 5\)",
    ):
        affine_backward(np.zeros((2, 3, 4)), cache)
    with pytest.raises(ValueError, match=r"ids has shape \(3,\) but embedding_forward needs"):
        embedding_forward(np.zeros(3, np.int64), np.zeros((4, 2)))
    _, cache = embedding_forward(np.zeros((3, 2), np.int64), np.zeros((4, 2)))
    with pytest.raises(
        ValueError,
        match=r"dX has shape \(3, 2, 5\) but embedding_backward "
        r"needs \(T, N, E\) = \(3, 2, 2\)",
    ):
        embedding_backward(np.zeros((3, 2, 5)), cache)


def test_bad_input_wrong_type():
    with pytest.raises(TypeError, match="X must be a NumPy array"):
        affine_forward([[1.0]], np.zeros((1, 1)), np.zeros(1))
    with pytest.raises(TypeError, match="cache must be the AffineCache"):
        affine_backward(np.zeros((1, 1)), (np.zeros((1, 1)), np.zeros((1, 1))))
    with pytest.raises(TypeError, match="cache must be the EmbeddingCache"):
        embedding_backward(np.zeros((1, 1, 1)), None)
    with pytest.raises(TypeError, match="ids must hold integer token ids"):
        embedding_forward(np.zeros((1, 1)), np.zeros((2, 2)))


def test_bad_input_out_of_range_and_not_finite():
    with pytest.raises(ValueError, match=r"ids holds the id 4, outside the vocabulary's range"):
        embedding_forward(np.array([[4]]), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="W passed to affine_forward contains NaN or inf"):
        affine_forward(np.zeros((1, 2)), np.full((2, 2), np.nan), np.zeros(2))
