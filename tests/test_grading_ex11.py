"""Exercise 11's checks beyond the shared table: the grader's decoders and what the parts grade.

The decoders a beam search is graded on are checked against exhaustive search (a property
independent of any beam search), greedy decoding is shown to be wrong on chapter 11's model,
and the partial-credit parts are shown to separate what they promise to separate.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _grading_table import student_copies  # noqa: F401

import rnncore
from rnncore import grading
from rnncore._guard import allowing
from rnncore.grading import _decoder_models as models
from rnncore.grading._harness import CheckFailed
from rnncore.grading.mistakes import ex11_seq2seq_attention as m11

pytestmark = pytest.mark.usefixtures("student_copies")


def _log_prob(step_fn, state0, bos, tokens):
    """log P(tokens) under a decoder, one hypothesis fed token by token."""
    total, state, last = 0.0, state0, bos
    for token in tokens:
        log_probs, state = step_fn(np.array([last]), state)
        total += float(log_probs[0, token])
        last = token
    return total


def _every_output(V, eos, max_len):
    """Every output of at most max_len tokens: ending at its first eos, or cut at max_len."""
    body = [t for t in range(V) if t != eos]
    for n in range(max_len):
        for prefix in itertools.product(body, repeat=n):
            yield [*prefix, eos]
    yield from (list(p) for p in itertools.product(body, repeat=max_len))


def _exhaustive(step_fn, state0, bos, eos, max_len, alpha=0.0):
    """Every output scored as the book defines it, best first."""
    V = step_fn(np.array([bos]), state0)[0].shape[1]
    scored = []
    for tokens in _every_output(V, eos, max_len):
        lp = _log_prob(step_fn, state0, bos, tokens)
        scored.append((tokens, lp / ((5 + len(tokens)) / 6) ** alpha))
    return sorted(scored, key=lambda item: -item[1])


def test_greedy_is_provably_wrong_on_the_trap_and_beam_two_finds_the_best():
    step_fn, state0 = models.table_model(models.finite(models.GREEDY_TRAP))
    best = _exhaustive(step_fn, state0, 0, 1, 3)
    # by hand: b <eos> has 0.45 * 0.9 = 0.405 (floored table: within 1%), a <eos> 0.275
    assert best[0][0] == [3, 1] and abs(np.exp(best[0][1]) - 0.405) < 0.01
    with allowing():
        greedy, logprob = rnncore.greedy_decode(step_fn, state0, 0, 1, 3)
    assert greedy == [2, 1] and logprob < best[0][1] - 0.3
    assert m11.solution_beam_search(step_fn, state0, 0, 1, 2, 3)[0][0] == [3, 1]


@pytest.mark.parametrize("table", [models.GREEDY_TRAP, models.LIKES_TO_STOP])
def test_the_graded_tables_are_distributions_without_ties(table):
    probs = models.finite(table)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs.min() > 0 and all(len(set(row)) == len(row) for row in probs.tolist())
    assert np.abs(probs - np.asarray(table)).max() < 0.005  # still chapter 11's model


@pytest.mark.parametrize("seed, eos_bias, alpha", [(1, 0.0, 0.0), (2, 1.5, 0.0), (3, 0.5, 1.0)])
def test_a_beam_as_wide_as_every_output_is_exhaustive_search(seed, eos_bias, alpha):
    """With nothing pruned the ranked list is every output, scored and sorted exactly."""
    step_fn, state0 = models.prefix_model(4, 6, seed, eos_bias=eos_bias)
    exact = _exhaustive(step_fn, state0, 0, 1, 3, alpha)
    got = m11.solution_beam_search(step_fn, state0, 0, 1, len(exact), 3, alpha)
    assert [tokens for tokens, _ in got] == [tokens for tokens, _ in exact]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in exact], rtol=1e-12)


def test_the_prefix_model_depends_on_the_whole_prefix_through_its_state():
    step_fn, state0 = models.prefix_model(5, 4, 7)
    lp_a, state_a = step_fn(np.array([0]), state0)
    state_ab = step_fn(np.array([2]), state_a)[1]
    state_cb = step_fn(np.array([2]), step_fn(np.array([3]), state_a)[1])[1]
    last_ab = step_fn(np.array([4]), state_ab)[0]
    last_cb = step_fn(np.array([4]), state_cb)[0]
    assert not np.allclose(last_ab, last_cb)  # same last token, other prefix: other answer
    np.testing.assert_allclose(np.exp(lp_a).sum(), 1.0)
    assert state0.tolist() == [[-1, -1, -1, -1]]  # never changed in place


@pytest.mark.parametrize(
    "tokens, state, message",
    [
        (np.array([0.5]), None, "tokens must be a 1-D integer array"),
        (np.array([[0]]), None, "tokens must be a 1-D integer array"),
        (np.array([9]), None, "token ids must lie in 0..5"),
        (np.arange(100) % 6, None, "tokens must hold 1 to 64 ids, got 100"),
        ("a", None, "got str"),
        (np.array([0, 1]), "first", "the state must be a float array of shape (2, 4)"),
    ],
)
def test_the_graders_decoders_refuse_bad_arguments_by_name(tokens, state, message):
    step_fn, state0 = models.rnn_model(6, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="^step_fn: ") as info:
        step_fn(tokens, state0 if state == "first" or state is None else state)
    assert message in str(info.value)


def _answer_best_only(*args):
    return m11.solution_beam_search(*args)[:1]


def test_the_best_part_gives_credit_for_the_best_hypothesis_alone():
    assert grading.check_beam_search(_answer_best_only, part="best") is None
    with pytest.raises(CheckFailed, match=r"holds 1 hypotheses .* but should hold"):
        grading.check_beam_search(_answer_best_only, part="values")


def test_a_wrong_parent_state_is_explained_when_it_scores_above_the_best():
    (no_reindex,) = [m for m in m11.BEAM_SEARCH if "re-indexed" in m.description]
    with pytest.raises(CheckFailed) as info:
        grading.check_beam_search(no_reindex.fn, part="best")
    text = str(info.value)
    assert "Yours scores higher than the best output does" in text
    assert "0: yours    [" in text and "expected [" in text


@pytest.mark.parametrize(
    "result, message",
    [
        ((([1], 0.0),), "should be a list of (tokens, score) pairs"),
        ([[1]], "results[0] should be a pair (tokens, score)"),
        ([([1.0], -1.0)], "the tokens of results[0] should be a list of int"),
        ([([1], "x")], "the score of results[0] should be a float"),
        ([([1], np.nan)], "NaN or inf"),
    ],
)
def test_malformed_ranked_lists_get_their_own_messages(result, message):
    with pytest.raises(CheckFailed) as info:
        grading.check_beam_search(lambda *args: result, part="shapes")
    assert message in str(info.value)


def test_token_arrays_and_numpy_scores_are_read_as_lists_and_floats():
    def arrays(*args):
        return [(np.array(t), np.float64(s)) for t, s in m11.solution_beam_search(*args)]

    assert grading.check_beam_search(arrays) is None
    (with_bos,) = [m for m in m11.BEAM_SEARCH if m.description.startswith("BOS")]

    def arrays_with_bos(*args):
        return [(np.array(t), np.float64(s)) for t, s in with_bos.fn(*args)]

    with pytest.raises(CheckFailed, match="This looks like BOS included"):
        grading.check_beam_search(arrays_with_bos)


def _finite_penalty(s_prev, H_enc, params, mask=None):
    """Padding pushed down by 100 instead of -inf: within the tolerance, but not exactly 0."""
    soft = None if mask is None else np.where(mask, 0.0, -100.0)
    pre = H_enc @ params["W_ea"] + (s_prev @ params["W_sa"])[None] + params["b_a"]
    scores = (np.tanh(pre) @ params["v_a"]).T + (0.0 if soft is None else soft.T)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    alpha = weights / weights.sum(axis=1, keepdims=True)
    return np.einsum("nt,tne->ne", alpha, H_enc), alpha, None


def test_padding_must_get_weight_exactly_zero():
    assert grading.check_additive_attention_forward(_finite_penalty, part="values") is None
    with pytest.raises(CheckFailed) as info:
        grading.check_additive_attention_forward(_finite_penalty, part="mask")
    text = str(info.value)
    assert "alpha must be exactly 0 where mask is False (padding)" in text
    assert "score of -inf before the softmax" in text


def test_the_stability_part_alone_catches_an_unshifted_softmax():
    (unshifted,) = [m for m in m11.ADDITIVE_ATTENTION_FORWARD if "subtract" in m.description]
    for part in ("shapes", "values", "mask"):
        assert grading.check_additive_attention_forward(unshifted.fn, part=part) is None
    with pytest.raises(CheckFailed, match="NaN or inf"):
        grading.check_additive_attention_forward(unshifted.fn, part="stability")


def test_forgetting_the_mask_in_backward_is_found_on_a_padded_case_at_the_score_vector():
    (forgot,) = [m for m in m11.ADDITIVE_ATTENTION_BACKWARD if "mask forgotten" in m.description]
    with pytest.raises(CheckFailed) as info:
        grading.check_additive_attention_backward(*forgot.fn, part="values")
    text = str(info.value)
    assert "lengths (5, 2, 3)" in text and "grads['v_a'] is the first gradient that differs" in text


def test_every_padded_backward_case_gives_padding_no_gradient():
    """The reference's dH_enc is exactly 0 at padding on the check's own cases."""
    cases = [c for c in grading.check_additive_attention_backward.spec.cases(True) if c.args[3]
             is not None]  # fmt: skip
    assert len(cases) >= 4
    for case in cases:
        s_prev, H_enc, params, mask = case.args
        with allowing():
            cache = rnncore.additive_attention_forward(s_prev, H_enc, params, mask)[2]
            dH_enc = rnncore.additive_attention_backward(*case.extra["upstream"], cache)[1]
        assert not dH_enc[~mask].any()
