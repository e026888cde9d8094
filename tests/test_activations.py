"""rnncore._activations.sigmoid: the one stable sigmoid every gated cell uses."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnncore._activations import sigmoid


def test_matches_the_formula():
    x = np.linspace(-30, 30, 121)
    expected = np.array([1 / (1 + math.exp(-v)) for v in x])
    np.testing.assert_allclose(sigmoid(x), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extremes_without_overflow_or_warning(dtype):
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(x)
    assert s.dtype == dtype
    np.testing.assert_array_equal(s[[0, 2, 4]], np.array([0.0, 0.5, 1.0], dtype=dtype))
    assert 0 <= s[1] < 1e-40  # exp(−100) ≈ 3.7e−44: tiny, never negative


def test_tiny_values_keep_relative_precision():
    # the naive 1 − σ(−x) form would give 0 here; e / (1 + e) keeps ~e^−700
    assert sigmoid(np.array([-700.0]))[0] == pytest.approx(math.exp(-700), rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-800, 800)))
def test_symmetry_and_range(x):
    s = sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + sigmoid(-x), 1.0, rtol=0, atol=1e-15)
    assert s.shape == x.shape
