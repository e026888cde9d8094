"""float32 inputs give float32 outputs, and ``h0 = None`` is a state of zeros: checked."""

from __future__ import annotations

import numpy as np
import pytest
from _grading_table import ROWS, student_copies  # noqa: F401

from rnncore import grading
from rnncore.grading.mistakes import ex02_rnn_cell as m02

pytestmark = pytest.mark.usefixtures("student_copies")

FLOAT32_CHECKS = [name for name in ROWS if getattr(grading, f"check_{name}").spec.float32]


def message(check, *fns, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        check(*fns, **kw)
    return str(info.value)


def _as_float64(out):
    if isinstance(out, np.ndarray) and out.dtype == np.float32:
        return out.astype(np.float64)
    if isinstance(out, tuple):
        return tuple(_as_float64(o) for o in out)
    return out


def test_the_float32_checks_are_the_promised_ones():
    assert set(FLOAT32_CHECKS) == {
        "embedding_lookup",
        "rnn_cell_forward",
        "rnn_forward",
        "softmax",
        "gradient_norms_over_time",
        "gru_cell_forward",
        "lstm_cell_forward",
        "bidirectional_rnn_forward",
        "softmax_with_temperature",
        "variational_rnn_forward",
        "additive_attention_forward",
    }


@pytest.mark.parametrize("name", FLOAT32_CHECKS)
@pytest.mark.parametrize("hidden", [False, True])
def test_float64_answer_to_float32_inputs_fails_the_shapes_part_with_its_own_message(name, hidden):
    """A right answer that upcasts (np.zeros without dtype=...) loses the shapes part only there."""
    solution = ROWS[name].solution[0]

    def upcasts(*args):
        return _as_float64(solution(*args))

    text = message(getattr(grading, f"check_{name}"), upcasts, part="shapes", hidden=hidden)
    assert "is float64 (for " in text and "float32) but the inputs were float32: " in text
    assert "build new arrays with the input's dtype" in text
    source = "W" if name == "embedding_lookup" else ROWS[name].check.spec.arg_names[0]
    assert f"(np.zeros(..., dtype={source}.dtype))" in text


def test_float32_values_are_compared_loosely_enough_for_float32_and_no_looser():
    check = grading.check_rnn_cell_forward
    good = m02.solution_rnn_cell_forward

    def in_float64_then_back(x, h_prev, params):
        """float32 in and out, computed in float64: differs from float32 arithmetic by ~1e-7."""
        p = {k: v.astype(np.float64) for k, v in params.items()}
        h, cache = good(x.astype(np.float64), h_prev.astype(np.float64), p)
        return h.astype(x.dtype), cache

    assert check(in_float64_then_back, hidden=True) is None

    def off_on_float32(x, h_prev, params):
        h, cache = good(x, h_prev, params)
        return (h + np.float32(1e-3) if h.dtype == np.float32 else h), cache

    text = message(check, off_on_float32)
    assert "wrong values in h (for N=3, D=4, H=5, float32)" in text


def _uses_none_as_it_is(X, h0, params):
    """The book's loop, but h0 = None is used as it is."""
    H, h = [], h0
    for x in X:
        h = np.tanh(x @ params["W_xh"] + h @ params["W_hh"] + params["b_h"])
        H.append(h)
    return np.stack(H), None


def _ones_when_none(X, h0, params):
    if h0 is None:  # a state of ones instead of zeros
        return np.ones((X.shape[1], params["W_hh"].shape[0]), X.dtype)
    return h0


def test_h0_none_used_as_an_array_is_explained():
    text = message(grading.check_rnn_forward, _uses_none_as_it_is)
    assert "your function raised ValueError (for T=4, N=3, D=4, H=5, h0=None) at line" in text
    assert "`h @ params['W_hh']` uses `h`, which is None, as an array" in text


def test_h0_none_must_be_a_state_of_zeros():
    def ones_state(X, h0, params):
        return m02.solution_rnn_forward(X, _ones_when_none(X, h0, params), params)

    text = message(grading.check_rnn_forward, ones_state)
    assert text.startswith("rnn_forward: wrong values in H (for T=4, N=3, D=4, H=5, h0=None)")

    norms = ROWS["gradient_norms_over_time"].solution[0]

    def ones_norms(X, h0, params):
        return norms(X, _ones_when_none(X, h0, params), params)

    text = message(grading.check_gradient_norms_over_time, ones_norms)
    assert "wrong values in norms (for T=4, N=3, D=4, H=5, h0=None)" in text
