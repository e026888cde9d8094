"""rnncore.decoding: greedy and beam search against brute-force enumeration of every output."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rnncore.decoding import beam_search, greedy_decode, length_penalty

BOS, EOS = 0, 1


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def random_rnn_model(seed, V=4, H=3, scale=2.0, tuple_state=False):
    """A tiny random RNN language model: its next-token law depends on the whole prefix."""
    rng = np.random.default_rng(seed)
    embed = rng.normal(scale=scale, size=(V, H))
    W = rng.normal(scale=scale, size=(H, H))
    U = rng.normal(scale=scale, size=(H, V))

    def step_fn(tokens, state):
        h = state[0] if tuple_state else state
        h_new = np.tanh(embed[tokens] + h @ W)  # (B, H)
        log_probs = _log_softmax(h_new @ U)  # (B, V)
        if tuple_state:  # a second array that must travel with its hypothesis
            return log_probs, (h_new, state[1] + 1)
        return log_probs, h_new

    state0 = (np.zeros((1, H)), np.zeros((1, 1))) if tuple_state else np.zeros((1, H))
    return step_fn, state0


def all_outputs(step_fn, state0, V, max_len, alpha):
    """Every output (ends with EOS, or stops at max_len) with its exact score."""
    outputs = []
    for length in range(1, max_len + 1):
        for body in itertools.product([v for v in range(V) if v != EOS], repeat=length - 1):
            endings = [EOS] + ([v for v in range(V) if v != EOS] if length == max_len else [])
            for last in endings:
                tokens = list(body) + [last]
                state, total, previous = state0, 0.0, BOS
                for token in tokens:
                    log_probs, state = step_fn(np.array([previous]), state)
                    total += float(log_probs[0, token])
                    previous = token
                outputs.append((tokens, total / ((5 + len(tokens)) / 6) ** alpha))
    return sorted(outputs, key=lambda item: -item[1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_finds_every_output_exactly(seed, alpha):
    step_fn, state0 = random_rnn_model(seed)
    max_len = 4
    truth = all_outputs(step_fn, state0, 4, max_len, alpha)
    assert len(truth) == 1 + 3 + 9 + 27 + 81  # EOS at 1..4, or four tokens and no EOS
    results = beam_search(step_fn, state0, BOS, EOS, len(truth), max_len, length_penalty=alpha)
    assert [tokens for tokens, _ in results] == [tokens for tokens, _ in truth]
    np.testing.assert_allclose([s for _, s in results], [s for _, s in truth], rtol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_width_one_is_greedy(seed):
    step_fn, state0 = random_rnn_model(seed + 10, V=5)
    tokens, logprob = greedy_decode(step_fn, state0, BOS, EOS, 6)
    results = beam_search(step_fn, state0, BOS, EOS, 1, 6)
    assert len(results) == 1
    assert results[0][0] == tokens
    assert results[0][1] == pytest.approx(logprob, rel=1e-14)


def test_tuple_state_is_reindexed_with_its_hypothesis():
    step_fn, state0 = random_rnn_model(3, tuple_state=True)
    plain_fn, plain0 = random_rnn_model(3)
    a = beam_search(step_fn, state0, BOS, EOS, 5, 4)
    b = beam_search(plain_fn, plain0, BOS, EOS, 5, 4)
    assert [t for t, _ in a] == [t for t, _ in b]
    seen_steps = []

    def counting(tokens, state):
        seen_steps.append(state[1][:, 0].copy())  # every hypothesis has taken the same steps
        return step_fn(tokens, state)

    beam_search(counting, state0, BOS, EOS, 5, 4)
    for k, steps in enumerate(seen_steps):
        np.testing.assert_array_equal(steps, k)


def markov_model(table):
    """log P(next | last token) from a table (V, V) of probabilities; the state is unused."""
    log_table = np.log(np.maximum(table, 1e-300))

    def step_fn(tokens, state):
        return log_table[tokens], state

    return step_fn, np.zeros((1, 1))


def test_beam_beats_greedy_where_greedy_is_provably_suboptimal():
    # tokens: 0 BOS, 1 EOS, 2 "a", 3 "b". "a" is the likelier first token, but after "a"
    # the model hesitates, while "b" is almost surely followed by EOS.
    table = np.array(
        [
            [0.0, 0.0, 0.55, 0.45],  # after BOS
            [0.25, 0.25, 0.25, 0.25],  # after EOS (never used)
            [0.0, 0.5, 0.25, 0.25],  # after "a"
            [0.0, 0.9, 0.05, 0.05],  # after "b"
        ]
    )
    step_fn, state0 = markov_model(table)
    tokens, logprob = greedy_decode(step_fn, state0, BOS, EOS, 5)
    assert tokens == [2, EOS]
    assert logprob == pytest.approx(math.log(0.55 * 0.5))  # 0.275
    best_tokens, best_score = beam_search(step_fn, state0, BOS, EOS, 2, 5)[0]
    assert best_tokens == [3, EOS]
    assert best_score == pytest.approx(math.log(0.45 * 0.9))  # 0.405 > 0.275


def test_finished_hypotheses_are_never_extended():
    step_fn, state0 = random_rnn_model(5, V=4)
    fed = []

    def recording(tokens, state):
        fed.extend(tokens.tolist())
        return step_fn(tokens, state)

    results = beam_search(recording, state0, BOS, EOS, 6, 5)
    assert EOS not in fed  # nothing that ended with EOS was fed to the model again
    for tokens, _ in results:
        assert EOS not in tokens[:-1]
        assert tokens[-1] == EOS or len(tokens) == 5


def test_length_penalty_turns_the_ranking_towards_longer_outputs():
    # after BOS: EOS 0.4 or "a" 0.6; after "a": "a" 0.8 or EOS 0.2. Six a's (max_len, no EOS)
    # have probability 0.6 * 0.8**5 = 0.197 < 0.4, but win once length is rewarded.
    table = np.array(
        [
            [0.0, 0.4, 0.6, 0.0],
            [0.25, 0.25, 0.25, 0.25],
            [0.0, 0.2, 0.8, 0.0],
            [0.25, 0.25, 0.25, 0.25],
        ]
    )
    step_fn, state0 = markov_model(table)
    plain = beam_search(step_fn, state0, BOS, EOS, 4, 6, length_penalty=0.0)
    assert plain[0][0] == [EOS]  # log 0.4 = -0.92 is the best plain sum
    strong = beam_search(step_fn, state0, BOS, EOS, 4, 6, length_penalty=2.0)
    assert len(strong[0][0]) == 6  # log 0.197 / (11/6)**2 = -0.48 > -0.92
    for tokens, score in strong:  # the penalty divides the whole sum once, not every step
        total = sum(math.log(table[a, b]) for a, b in zip([BOS] + tokens[:-1], tokens))
        assert score == pytest.approx(total / ((5 + len(tokens)) / 6) ** 2.0, rel=1e-12)


def test_length_penalty_values():
    assert length_penalty(1, 0.7) == 1.0  # ((5 + 1) / 6) ** alpha
    assert length_penalty(7, 1.0) == pytest.approx(2.0)
    assert length_penalty(13, 0.5) == pytest.approx(math.sqrt(3.0))
    assert length_penalty(9, 0.0) == 1.0
    with pytest.raises(ValueError, match="alpha must be a finite non-negative"):
        length_penalty(3, -1.0)


def test_greedy_stops_at_max_len_without_eos():
    table = np.array([[0, 0, 1.0, 0], [0.25] * 4, [0, 0, 1.0, 0], [0.25] * 4])
    step_fn, state0 = markov_model(table)
    assert greedy_decode(step_fn, state0, BOS, EOS, 3) == ([2, 2, 2], 0.0)
    results = beam_search(step_fn, state0, BOS, EOS, 3, 3)
    assert results[0] == ([2, 2, 2], 0.0)


def test_bad_input():
    step_fn, state0 = random_rnn_model(0)
    with pytest.raises(ValueError, match="state0 must have leading size 1"):
        beam_search(step_fn, np.zeros((2, 3)), BOS, EOS, 2, 3)
    with pytest.raises(TypeError, match="state0 must be an ndarray or a tuple"):
        greedy_decode(step_fn, [0.0], BOS, EOS, 3)
    with pytest.raises(ValueError, match="beam_width must be at least 1"):
        beam_search(step_fn, state0, BOS, EOS, 0, 3)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        greedy_decode(step_fn, state0, BOS, EOS, 0)
    with pytest.raises(ValueError, match="eos_id 7 .* below the vocabulary size V = 4"):
        greedy_decode(step_fn, state0, BOS, 7, 3)
    with pytest.raises(TypeError, match="step_fn must be callable"):
        beam_search(None, state0, BOS, EOS, 2, 3)

    def logits_fn(tokens, state):
        return np.ones((len(tokens), 4)), state

    with pytest.raises(ValueError, match="log_softmax of the logits"):
        beam_search(logits_fn, state0, BOS, EOS, 2, 3)

    def flat_fn(tokens, state):
        return np.zeros(4), state

    with pytest.raises(ValueError, match=r"must return an ndarray of shape \(B, V\) = \(1, V\)"):
        greedy_decode(flat_fn, state0, BOS, EOS, 3)

    def lost_state(tokens, state):
        return np.log(np.full((len(tokens), 4), 0.25)), state[:0]

    with pytest.raises(ValueError, match="new state must have leading size B = 1"):
        greedy_decode(lost_state, state0, BOS, EOS, 3)


def test_impossible_tokens_are_never_proposed():
    table = np.array([[0, 0.5, 0.5, 0], [0.25] * 4, [0, 1.0, 0, 0], [0.25] * 4])
    log_table = np.log(table, where=table > 0, out=np.full_like(table, -np.inf))

    def step_fn(tokens, state):
        return log_table[tokens], state

    results = beam_search(step_fn, np.zeros((1, 1)), BOS, EOS, 10, 4)
    assert [tokens for tokens, _ in results] == [[EOS], [2, EOS]]  # the only two outputs
    assert all(np.isfinite(score) for _, score in results)
