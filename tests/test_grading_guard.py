"""While a check runs a student's function, rnncore's reference refuses to answer.

However the student reaches the reference, the answer scores 0 with a plain
message. What the guard cannot stop is written in ``rnncore.grading``'s
docstring.
"""

from __future__ import annotations

import functools
import importlib

import numpy as np
import pytest
from _grading_table import ROWS, student_copies  # noqa: F401

import rnncore
from rnncore import grading
from rnncore.grading.mistakes import ex02_rnn_cell as m02
from rnncore.rnn_cell import rnn_cell_forward as imported_cell

SAVED_ALIAS = rnncore.rnn_cell_backward  # saved at import time, before any check ran


def _decorated(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)

    return wrapper


DECORATED = _decorated(rnncore.rnn_cell_forward)
FROM_CLOSURE = DECORATED.__closure__[0].cell_contents  # the undecorated original

CHEATS = {
    "module attribute": lambda x, h, p: rnncore.rnn_cell_forward(x, h, p),
    "from ... import": lambda x, h, p: imported_cell(x, h, p),
    "importlib": lambda x, h, p: importlib.import_module("rnncore.rnn_cell").rnn_cell_forward(
        x, h, p
    ),
    "__wrapped__": lambda x, h, p: DECORATED.__wrapped__(x, h, p),
    "closure": lambda x, h, p: FROM_CLOSURE(x, h, p),
    "the sequence instead": lambda x, h, p: (rnncore.rnn_forward(x[None], h, p)[0][0], None),
    "recurrent dispatch": lambda x, h, p: (
        rnncore.recurrent_forward("rnn", x[None], h, p)[0][0],
        None,
    ),
}


@pytest.mark.parametrize("route", CHEATS)
def test_calling_the_reference_scores_zero(route):
    with pytest.raises(AssertionError) as info:
        grading.check_rnn_cell_forward(CHEATS[route])
    text = str(info.value)
    assert text.startswith("rnn_cell_forward: scores 0: your code calls rnncore's reference")
    assert "Write it yourself with NumPy." in text


def test_the_message_names_the_refused_function():
    with pytest.raises(AssertionError, match="reference `rnn_forward`"):
        grading.check_rnn_cell_forward(CHEATS["the sequence instead"])


@pytest.mark.usefixtures("student_copies")
def test_a_saved_alias_of_the_backward_is_refused():
    with pytest.raises(AssertionError, match="scores 0: .* `rnn_cell_backward`"):
        grading.check_rnn_cell_backward(
            m02.solution_rnn_cell_forward, lambda dh, cache: SAVED_ALIAS(dh, cache)
        )


@pytest.mark.usefixtures("student_copies")
def test_the_backward_check_refuses_the_reference_forward():
    with pytest.raises(AssertionError, match="scores 0"):
        grading.check_rnn_cell_backward(
            lambda x, h, p: rnncore.rnn_cell_forward(x, h, p), ROWS["rnn_cell_backward"].solution[1]
        )


def test_helpers_that_compute_the_answer_are_refused_too():
    """softmax through log_softmax, sample_next through softmax_with_temperature, ..."""
    with pytest.raises(AssertionError, match="`log_softmax`"):
        grading.check_softmax(lambda z: np.exp(rnncore.log_softmax(z)))
    with pytest.raises(AssertionError, match="`softmax`"):
        grading.check_softmax_with_temperature(lambda z, T: rnncore.softmax(z / T))
    with pytest.raises(AssertionError, match="`global_norm`"):
        grading.check_clip_grad_norm(
            lambda g, m: (
                {k: v * min(1, m / rnncore.global_norm(g)) for k, v in g.items()},
                rnncore.global_norm(g),
            )
        )
    with pytest.raises(AssertionError, match="`sigmoid`"):
        grading.check_gru_cell_forward(lambda x, h, p: (rnncore.sigmoid(x @ p["W_xz"]), None))
    with pytest.raises(AssertionError, match="`sample_next`"):
        grading.check_sample_text(
            lambda step_fn, vocab, prompt, max_len, T, rng: str(
                rnncore.sample_next(step_fn(1, None)[0], T, rng)
            )
        )
    with pytest.raises(AssertionError, match="`Vocab`"):
        grading.check_build_vocab(lambda tokens, min_freq=1: rnncore.Vocab(tokens).idx_to_token)


@pytest.mark.usefixtures("student_copies")
def test_sample_text_may_use_the_vocabulary_methods():
    solution = ROWS["sample_text"].solution[0]

    def with_encode(step_fn, vocab, prompt, max_len, temperature, rng):
        vocab.encode(list(prompt))
        vocab.decode([vocab.eos])
        return solution(step_fn, vocab, prompt, max_len, temperature, rng)

    assert grading.check_sample_text(with_encode) is None


def test_the_reference_runs_again_after_a_check():
    with pytest.raises(AssertionError):
        grading.check_rnn_cell_forward(CHEATS["module attribute"])
    x, h = np.ones((1, 2)), np.zeros((1, 3))
    params = {"W_xh": np.ones((2, 3)), "W_hh": np.eye(3), "b_h": np.zeros(3)}
    h_next, _ = rnncore.rnn_cell_forward(x, h, params)
    assert np.allclose(h_next, np.tanh(2.0))


@pytest.mark.parametrize(
    "name", ["rnn_cell_forward", "rnn_backward", "softmax_cross_entropy", "sample_text"]
)
def test_the_graders_own_model_answers_are_refused(name):
    """rnncore.grading.mistakes holds plain-NumPy solutions; importing them scores 0 too."""
    row = ROWS[name]
    with pytest.raises(
        AssertionError, match="scores 0: your code calls rnncore's reference `(solution_|_)"
    ):
        row.check(*row.solution)


def test_a_private_helper_of_the_catalogue_is_refused():
    from rnncore.grading.mistakes import ex04_bptt

    def uses_bptt(dH, caches):
        return ex04_bptt._bptt(dH, caches)

    def forward(X, h0, params):
        with pytest.MonkeyPatch.context() as mp:  # the forward is the student's own
            mp.setattr(m02, "guard", lambda name: None)
            mp.setattr(grading._watch, "catalogue_is_student_code", True)
            return m02.solution_rnn_forward(X, h0, params)

    with pytest.raises(AssertionError, match="reference `_bptt`"):
        grading.check_rnn_backward(forward, uses_bptt)


# The watcher (rnncore.grading._watch) closes what the guard alone cannot see.


def test_a_private_helper_of_rnncore_scores_zero():
    from rnncore import functional

    with pytest.raises(
        AssertionError, match="scores 0: your code runs rnncore's own `functional._softmax`"
    ):
        grading.check_softmax(lambda z: functional._softmax(z, -1))


def test_lifting_the_guard_scores_zero():
    from rnncore import _guard

    def lifts(x, h, p):
        with _guard.allowing():
            return rnncore.rnn_cell_forward(x, h, p)

    with pytest.raises(AssertionError, match="`_guard.allowing`"):
        grading.check_rnn_cell_forward(lifts)

    def empties(x, h, p):
        saved, _guard._refused = _guard._refused, frozenset()
        try:
            return rnncore.rnn_cell_forward(x, h, p)
        finally:
            _guard._refused = saved

    with pytest.raises(AssertionError, match="`rnn_cell.rnn_cell_forward`"):
        grading.check_rnn_cell_forward(empties)


def test_a_guard_replaced_by_a_no_op_scores_zero(monkeypatch):
    from rnncore import rnn_cell

    def patches(x, h, p):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(rnn_cell, "guard", lambda name: None)
            return rnncore.rnn_cell_forward(x, h, p)

    with pytest.raises(AssertionError, match="scores 0: your code runs rnncore's own"):
        grading.check_rnn_cell_forward(patches)


def test_catalogue_answers_with_the_guard_lifted_score_zero():
    from rnncore import _guard

    def lifted_solution(x, h, p):
        saved, _guard._refused = _guard._refused, frozenset()
        try:
            return m02.solution_rnn_cell_forward(x, h, p)
        finally:
            _guard._refused = saved

    with pytest.raises(AssertionError, match="`grading.mistakes.ex02_rnn_cell.solution_rnn"):
        grading.check_rnn_cell_forward(lifted_solution)


def test_a_refused_call_that_is_caught_is_not_held_against_the_student():
    """Trying the reference, catching the refusal and then doing the work is not cheating."""
    solution = ROWS["rnn_cell_forward"].solution[0]

    def tries_first(x, h, p):
        try:
            return rnncore.rnn_cell_forward(x, h, p)
        except rnncore.ReferenceCallRefused:
            pass
        with pytest.MonkeyPatch.context() as mp:  # its own copy of the model answer
            mp.setattr(m02, "guard", lambda name: None)
            mp.setattr(grading._watch, "catalogue_is_student_code", True)
            return solution(x, h, p)

    assert grading.check_rnn_cell_forward(tries_first) is None


def test_the_watcher_leaves_the_profiler_as_it_was():
    import sys

    def profiler(frame, event, arg):
        return None

    sys.setprofile(profiler)
    try:
        with pytest.raises(AssertionError):
            grading.check_rnn_cell_forward(CHEATS["module attribute"])
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_switching_the_watcher_off_scores_zero():
    import sys

    def switches_off(x, h, p):
        sys.setprofile(None)
        return ROWS["rnn_cell_forward"].reference[0](x, h, p)

    with pytest.raises(AssertionError, match=r"scores 0: your code switches off the grader's"):
        grading.check_rnn_cell_forward(switches_off)
    assert sys.getprofile() is None
