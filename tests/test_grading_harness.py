"""Each failure class of a student's function has its own message; nothing but AssertionError."""

from __future__ import annotations

import numpy as np
import pytest
from _grading_table import ROWS, student_copies  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncore import _guard, grading
from rnncore.grading.mistakes import ex01_vocabulary as m01
from rnncore.grading.mistakes import ex02_rnn_cell as m02
from rnncore.grading.mistakes import ex04_bptt as m04
from rnncore.grading.mistakes import ex05_clipping as m05

good_cell = m02.solution_rnn_cell_forward
good_cell_backward = m04.solution_rnn_cell_backward

pytestmark = pytest.mark.usefixtures("student_copies")


def message(check, *fns, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        check(*fns, **kw)
    return str(info.value)


def test_not_implemented_yet():
    def stub(x, h_prev, params):
        raise NotImplementedError()

    text = message(grading.check_rnn_cell_forward, stub)
    assert text == (
        "rnn_cell_forward: not implemented yet: replace `raise NotImplementedError()` "
        "with your code."
    )


def test_none_returned_reads_as_not_implemented():
    def forgot_return(x, h_prev, params):
        np.tanh(x @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])

    assert "returned None: it looks not implemented yet" in message(
        grading.check_rnn_cell_forward, forgot_return
    )


def test_backward_stub_and_none_are_named_for_the_backward():
    def stub(dh, cache):
        raise NotImplementedError

    assert message(grading.check_rnn_cell_backward, good_cell, stub).startswith(
        "rnn_cell_backward: not implemented yet"
    )
    assert message(grading.check_rnn_cell_backward, good_cell, lambda dh, c: None).startswith(
        "rnn_cell_backward: returned None"
    )


def test_list_instead_of_array():
    def as_list(x, h_prev, params):
        return good_cell(x, h_prev, params)[0].tolist(), None

    text = message(grading.check_rnn_cell_forward, as_list)
    assert "h should be a NumPy array of shape (N, H) = (3, 5), got a list" in text
    assert "np.array" in text


def test_wrong_return_type_and_tuple_length():
    h_only = message(grading.check_rnn_cell_forward, lambda x, h, p: good_cell(x, h, p)[0])
    assert (
        "rnn_cell_forward: should return a tuple (h, cache), got an array of shape (3, 5)" in h_only
    )
    three = message(grading.check_rnn_cell_forward, lambda x, h, p: (*good_cell(x, h, p), 1))
    assert "should return a tuple (h, cache) of 2 values, got 3 values" in three
    lstm = message(grading.check_lstm_cell_forward, lambda x, h, c, p: (h, None))
    assert "should return a tuple (h, c, cache) of 3 values, got 2" in lstm
    backward = message(
        grading.check_rnn_cell_backward, good_cell, lambda dh, c: good_cell_backward(dh, c)[:2]
    )
    assert "rnn_cell_backward: should return a tuple (dx, dh_prev, grads) of 3 values" in backward


def test_wrong_shape_says_got_and_expected():
    def transposed(x, h_prev, params):
        return good_cell(x, h_prev, params)[0].T, None

    text = message(grading.check_rnn_cell_forward, transposed)
    assert "h has shape (5, 3) but should have shape (N, H) = (3, 5)" in text


def test_integer_dtype():
    text = message(grading.check_one_hot, lambda ids, V: np.eye(V, dtype=np.int64)[ids])
    assert "should hold floating-point numbers, got dtype int64" in text


def test_nan_and_inf():
    def nan_cell(x, h_prev, params):
        h = good_cell(x, h_prev, params)[0]
        h[1, 2] = np.nan
        return h, None

    text = message(grading.check_rnn_cell_forward, nan_cell)
    assert "h contains NaN or inf (first at index (1, 2))" in text
    loss_inf = message(grading.check_softmax_cross_entropy, lambda z, t: (np.inf, np.zeros_like(z)))
    assert "loss is inf" in loss_inf


def test_inputs_modified_in_place():
    def adds_in_place(x, h_prev, params):
        h, cache = good_cell(x, h_prev, params)
        params["b_h"] += 0  # harmless
        params["W_hh"] *= 1.5  # not harmless
        return h, cache

    text = message(grading.check_rnn_cell_forward, adds_in_place)
    assert "changed its input `params` in place (the array under key 'W_hh')" in text

    def adds_key(x, h_prev, params):
        params["cache"] = 1
        return good_cell(x, h_prev, params)

    assert "`params` in place (its keys" in message(grading.check_rnn_cell_forward, adds_key)

    def sorts_tokens(tokens, min_freq=1):
        tokens.sort()
        return m01.solution_build_vocab(tokens, min_freq)

    assert "changed its input `tokens` in place" in message(grading.check_build_vocab, sorts_tokens)

    def clips_in_place(grads, max_norm):
        clipped, norm = m05.solution_clip_grad_norm(grads, max_norm)
        for k in grads:
            grads[k][...] = clipped[k]
        return grads, norm

    assert "changed its input `grads` in place" in message(
        grading.check_clip_grad_norm, clips_in_place
    )

    def backward_changes_dh(dh, cache):
        out = good_cell_backward(dh, cache)
        dh *= 2
        return out

    assert "changed its input `dh` in place" in message(
        grading.check_rnn_cell_backward, good_cell, backward_changes_dh
    )


def test_exception_inside_student_code_names_the_line():
    def broken(x, h_prev, params):
        a = x @ params["W_hh"]  # the wrong matrix: shapes do not fit
        return np.tanh(a), None

    text = message(grading.check_rnn_cell_forward, broken)
    assert text.startswith("rnn_cell_forward: your function raised ValueError (for N=3, D=4, H=5)")
    assert 'of your code: `a = x @ params["W_hh"]  # the wrong matrix' in text
    line = broken.__code__.co_firstlineno + 1
    assert f" at line {line} of your code" in text
    # NumPy's gufunc jargon is replaced by the operands and their shapes
    assert "gufunc" not in text
    assert "`x @ params['W_hh']` multiplies shapes (3, 4) and (5, 5)" in text


def test_exception_in_a_helper_of_the_student_names_the_helper_line():
    def helper(x):
        raise KeyError("W_xz")

    text = message(grading.check_gru_cell_forward, lambda x, h, p: helper(x))
    assert "your function raised KeyError (for N=3, D=4, H=5) at line" in text
    assert text.endswith("""of your code: `raise KeyError("W_xz")`\nKeyError: 'W_xz'""")


def test_exit_is_an_exception_too():
    def leaves(x, h_prev, params):
        raise SystemExit(3)

    text = message(grading.check_rnn_cell_forward, leaves)
    assert "your function raised SystemExit (for N=3, D=4, H=5) at line" in text
    assert text.endswith("\nSystemExit: 3")


def test_not_a_function():
    text = message(grading.check_rnn_cell_forward, 42)
    assert "expected a function, got int; pass rnn_cell_forward itself" in text


def test_values_message_shows_slices_side_by_side():
    def off(x, h_prev, params):
        h = good_cell(x, h_prev, params)[0].copy()
        h[2, 3] += 0.5
        return h, None

    text = message(grading.check_rnn_cell_forward, off)
    assert "wrong values in h (for N=3, D=4, H=5): max abs error 0.5, first at index (2, 3)" in text
    assert "yours[2, 1:5]" in text and "expected[2, 1:5]" in text
    assert "This looks like" not in text  # no catalogued mistake adds 0.5 to one entry


def test_gradient_dict_keys_and_shapes():
    def missing_bias(dh, cache):
        dx, dh_prev, grads = good_cell_backward(dh, cache)
        return dx, dh_prev, {"W_xh": grads["W_xh"], "W_hh": grads["W_hh"], "db_h": 0}

    text = message(grading.check_rnn_cell_backward, good_cell, missing_bias)
    assert "grads should have the keys W_xh, W_hh, b_h: missing 'b_h'; unexpected 'db_h'" in text

    def transposed_dw(dh, cache):
        dx, dh_prev, grads = good_cell_backward(dh, cache)
        return dx, dh_prev, {**grads, "W_xh": grads["W_xh"].T}

    text = message(grading.check_rnn_cell_backward, good_cell, transposed_dw)
    assert "grads['W_xh'] has shape (5, 4) but should have shape (4, 5)" in text


def test_list_answer_messages():
    text = message(grading.check_build_vocab, lambda tokens, min_freq=1: ("<unk>",))
    assert "idx_to_token should be a list of str, got tuple" in text
    text = message(grading.check_build_vocab, lambda tokens, min_freq=1: [1, 2])
    assert "holding non-str items" in text


def test_int_and_str_answers():
    assert "token_id should be an int, got ndarray" in message(
        grading.check_sample_next, lambda z, T, rng: np.array([0])
    )
    assert "text should be a str, got list" in message(
        grading.check_sample_text, lambda *args: ["a"]
    )


def test_guard_state_is_restored_after_every_check():
    for fn in (good_cell, lambda *a: 1 / 0, lambda *a: None):
        try:
            grading.check_rnn_cell_forward(fn)
        except AssertionError:
            pass
        assert _guard._refused == frozenset()


def test_global_random_state_is_left_as_it_was():
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    grading.check_sample_next(ROWS["sample_next"].solution[0])
    assert np.array_equal(np.random.get_state()[1], before)


class Evil:
    """An object that breaks every protocol a careless check might use."""

    def _boom(self, *args, **kwargs):
        raise RuntimeError("evil")

    __eq__ = __ne__ = __lt__ = __len__ = __iter__ = __getitem__ = __float__ = __int__ = _boom
    __array__ = __bool__ = __index__ = __str__ = __format__ = _boom
    __hash__ = object.__hash__

    def __repr__(self):
        return "Evil()"


arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6),
)


def evil_array():
    out = np.empty(2, dtype=object)
    out[0] = Evil()
    return out


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.just(Evil()),
    st.builds(evil_array),
)
garbage = st.recursive(
    st.one_of(scalars, arrays),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.tuples(inner, inner, inner),
        st.dictionaries(st.sampled_from(["W_xh", "W_hh", "b_h", "W", 3]), inner, max_size=3),
    ),
    max_leaves=8,
)

GARBAGE_CHECKS = [
    ("rnn_cell_forward", lambda g: (lambda x, h, p: g,)),
    ("rnn_cell_backward", lambda g: (good_cell, lambda dh, c: g)),
    ("lstm_cell_backward", lambda g: (lambda x, h, c, p: g, lambda dh, dc, cache: g)),
    ("softmax_cross_entropy", lambda g: (lambda z, t: g,)),
    ("clip_grad_norm", lambda g: (lambda grads, m: g,)),
    ("build_vocab", lambda g: (lambda tokens, min_freq=1: g,)),
    ("sample_next", lambda g: (lambda z, T, rng: g,)),
    ("sample_text", lambda g: (lambda *args: g,)),
]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=garbage, which=st.sampled_from(range(len(GARBAGE_CHECKS))))
def test_garbage_return_values_give_only_assertion_errors(value, which):
    name, make = GARBAGE_CHECKS[which]
    try:
        ROWS[name].check(*make(value))
    except AssertionError as err:
        assert str(err).startswith(name.split("_backward")[0]) or str(err).startswith(name)
    else:  # pragma: no cover - garbage never passes
        pytest.fail(f"{name} accepted {value!r}")
