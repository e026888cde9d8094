"""Tests of rnncore.sampling: temperature softmax, one draw, whole continuations.

Expected values come from independent routes: ``exp(z / T) / sum exp(z / T)``
written out here, ``rng.choice`` called directly with the same seed, a
chi-square bound on observed frequencies, and toy step functions whose
continuation is known by construction.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnncore.functional import softmax
from rnncore.sampling import sample_next, sample_text, softmax_with_temperature
from rnncore.vocab import Vocab


def _independent(logits, temperature):
    e = np.exp(np.asarray(logits, dtype=np.float64) / temperature)  # no shift: small logits only
    return e / e.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- softmax_with_temperature


@pytest.mark.parametrize("temperature", [0.25, 0.5, 1.0, 2.0, 7.5])
@pytest.mark.parametrize("shape", [(1,), (6,), (3, 6), (2, 3, 4)])
def test_softmax_with_temperature_equals_softmax_of_scaled_logits(temperature, shape):
    logits = np.random.default_rng(0).normal(size=shape)
    probs = softmax_with_temperature(logits, temperature)
    assert probs.shape == shape and probs.dtype == np.float64
    np.testing.assert_allclose(probs, _independent(logits, temperature), rtol=1e-12, atol=1e-15)


def test_temperature_one_is_plain_softmax_and_float32_stays_float32():
    logits = np.random.default_rng(1).normal(size=(4, 9)).astype(np.float32)
    probs = softmax_with_temperature(logits, 1.0)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, softmax(logits), rtol=1e-6)


def test_large_temperature_is_near_uniform():
    logits = np.array([3.0, -2.0, 0.5, 10.0, 1.0])
    probs = softmax_with_temperature(logits, 1e6)
    np.testing.assert_allclose(probs, np.full(5, 0.2), atol=1e-5)


def test_small_temperature_concentrates_on_the_argmax():
    logits = np.array([0.3, 1.2, -0.7, 1.1])
    probs = softmax_with_temperature(logits, 1e-3)
    assert probs[1] > 1 - 1e-12
    # an extreme temperature must not overflow into NaN: the limit is one-hot
    extreme = softmax_with_temperature(logits * 1e300, 1e-300)
    np.testing.assert_array_equal(extreme, [0.0, 1.0, 0.0, 0.0])


def test_huge_logits_do_not_overflow():
    probs = softmax_with_temperature(np.array([1000.0, 1000.0, -1000.0]), 0.5)
    np.testing.assert_allclose(probs, [0.5, 0.5, 0.0], atol=1e-300)


def test_input_is_not_modified():
    logits = np.array([[1.0, 2.0, 3.0]])
    saved = logits.copy()
    softmax_with_temperature(logits, 0.3)
    np.testing.assert_array_equal(logits, saved)


finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    logits=arrays(np.float64, st.integers(2, 8), elements=finite),
    t1=st.floats(0.05, 20),
    t2=st.floats(0.05, 20),
)
def test_hotter_means_flatter(logits, t1, t2):
    """The top probability never grows with temperature; log-odds scale as 1/T."""
    low, high = sorted((t1, t2))
    p_low = softmax_with_temperature(logits, low)
    p_high = softmax_with_temperature(logits, high)
    assert p_high.max() <= p_low.max() + 1e-12
    np.testing.assert_allclose(p_low.sum(), 1.0, rtol=1e-12)
    i, j = int(np.argmax(logits)), int(np.argmin(logits))
    if p_low[j] > 1e-250:  # log-odds between the top and bottom entries
        np.testing.assert_allclose(
            np.log(p_low[i] / p_low[j]), (logits[i] - logits[j]) / low, rtol=1e-8, atol=1e-8
        )


@pytest.mark.parametrize(
    "temperature, error, message",
    [
        (0.0, ValueError, "temperature must be a finite positive number"),
        (-1.0, ValueError, "temperature must be a finite positive number"),
        (np.inf, ValueError, "temperature must be a finite positive number"),
        ("hot", TypeError, "temperature must be a number"),
    ],
)
def test_bad_temperature(temperature, error, message):
    with pytest.raises(error, match=message):
        softmax_with_temperature(np.zeros(3), temperature)


def test_bad_logits():
    with pytest.raises(TypeError, match="logits must be a NumPy array"):
        softmax_with_temperature([1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        softmax_with_temperature(np.array([1, 2]), 1.0)
    with pytest.raises(ValueError, match="NaN or inf"):
        softmax_with_temperature(np.array([1.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="at least one axis"):
        softmax_with_temperature(np.array(1.0), 1.0)


# ---------------------------------------------------------------- sample_next


def test_sample_next_is_rng_choice_with_the_same_generator():
    logits = np.random.default_rng(3).normal(size=7)
    for temperature in (0.5, 1.0, 3.0):
        ours, theirs = np.random.default_rng(11), np.random.default_rng(11)
        draws = [sample_next(logits, temperature, ours) for _ in range(50)]
        expected = [int(theirs.choice(7, p=_independent(logits, temperature))) for _ in range(50)]
        assert draws == expected
        assert all(type(d) is int for d in draws)


def test_sample_next_frequencies_match_probabilities():
    """Pearson chi-square over 10,000 draws, below the 0.999 quantile of chi2(df=5) = 20.52."""
    logits = np.array([2.0, 1.0, 0.0, -1.0, 0.5, 1.5])
    temperature = 1.3
    probs = _independent(logits, temperature)
    rng = np.random.default_rng(2024)
    n = 10_000
    draws = np.array([sample_next(logits, temperature, rng) for _ in range(n)])
    observed = np.bincount(draws, minlength=6)
    chi2 = ((observed - n * probs) ** 2 / (n * probs)).sum()
    assert chi2 < 20.52


def test_sample_next_float32_logits():
    logits = np.array([0.1, 5.0, 0.2], dtype=np.float32)
    assert sample_next(logits, 0.01, np.random.default_rng(0)) == 1


def test_sample_next_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"logits has shape \(2, 3\) but sample_next needs \(V,\)"):
        sample_next(np.zeros((2, 3)), 1.0, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sample_next(np.zeros(3), 1.0, np.random.RandomState(0))
    with pytest.raises(ValueError, match="temperature must be a finite positive"):
        sample_next(np.zeros(3), 0, rng)


# ---------------------------------------------------------------- sample_text


VOCAB = Vocab(list("abc"))  # ids: <unk> 0, <eos> 1, <pad> 2, then a, b, c


def _successor_model(successor, calls=None):
    """A step function that puts (almost) all mass on ``successor[token]``."""

    def step_fn(token_id, state):
        if calls is not None:
            calls.append((token_id, state))
        logits = np.full(len(VOCAB), -1e3)
        logits[VOCAB.token_to_idx[successor[VOCAB.idx_to_token[token_id]]]] = 0.0
        return logits, (0 if state is None else state + 1)

    return step_fn


def test_sample_text_stops_at_eos_and_keeps_the_prompt():
    calls = []
    model = _successor_model({"a": "b", "b": "c", "c": "<eos>", "<eos>": "a"}, calls)
    text = sample_text(model, VOCAB, "ab", 20, 1.0, np.random.default_rng(0))
    assert text == "abc"
    # fed a, b (the prompt), then c; the state is threaded through: None, 0, 1
    assert calls == [
        (VOCAB.token_to_idx["a"], None),
        (VOCAB.token_to_idx["b"], 0),
        (VOCAB.token_to_idx["c"], 1),
    ]


def test_sample_text_respects_max_len():
    model = _successor_model({"a": "b", "b": "c", "c": "a", "<eos>": "a"})
    rng = np.random.default_rng(0)
    assert sample_text(model, VOCAB, "c", 7, 1.0, rng) == "c" + "abcabca"
    assert sample_text(model, VOCAB, "c", 1, 1.0, rng) == "ca"


def test_empty_prompt_starts_from_eos():
    calls = []
    model = _successor_model({"a": "c", "b": "c", "c": "<eos>", "<eos>": "b"}, calls)
    assert sample_text(model, VOCAB, "", 10, 1.0, np.random.default_rng(0)) == "bc"
    assert calls[0] == (VOCAB.eos, None)


def test_sample_text_equals_a_hand_written_loop_with_the_same_rng():
    """A random bigram model: the result and the rng's final state match a plain loop."""
    table = np.random.default_rng(5).normal(size=(len(VOCAB), len(VOCAB)))

    def step_fn(token_id, state):
        return table[token_id].copy(), state

    for seed in range(20):
        for temperature in (0.7, 1.5):
            ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
            got = sample_text(step_fn, VOCAB, "ba", 12, temperature, ours)
            text, token = "ba", VOCAB.token_to_idx["a"]
            for _ in range(12):
                token = int(theirs.choice(len(VOCAB), p=_independent(table[token], temperature)))
                if token == VOCAB.eos:
                    break
                text += VOCAB.idx_to_token[token]
            assert got == text
            assert ours.random() == theirs.random()  # the same number of draws was used


def test_sample_text_rejects_bad_input():
    model = _successor_model({"a": "b", "b": "c", "c": "<eos>", "<eos>": "a"})
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        sample_text(model, VOCAB, "az", 5, 1.0, rng)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        sample_text(model, VOCAB, "a", 0, 1.0, rng)
    with pytest.raises(TypeError, match="max_len must be an int"):
        sample_text(model, VOCAB, "a", 2.0, 1.0, rng)
    with pytest.raises(TypeError, match="step_fn must be callable"):
        sample_text(None, VOCAB, "a", 5, 1.0, rng)
    with pytest.raises(TypeError, match="vocab must be an rnncore.Vocab"):
        sample_text(model, ["a", "b"], "a", 5, 1.0, rng)
    with pytest.raises(TypeError, match="prompt must be a str"):
        sample_text(model, VOCAB, ["a"], 5, 1.0, rng)
    with pytest.raises(ValueError, match="temperature must be a finite positive"):
        sample_text(model, VOCAB, "a", 5, -1.0, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sample_text(model, VOCAB, "a", 5, 1.0, 0)
    with pytest.raises(ValueError, match="has no <eos> token"):
        sample_text(model, Vocab(list("abc"), reserved=("<unk>",)), "a", 5, 1.0, rng)


def test_sample_text_checks_the_logits_of_step_fn():
    def wrong(token_id, state):
        return np.zeros(len(VOCAB) + 1), state

    with pytest.raises(ValueError, match=r"logits has shape \(7,\)"):
        sample_text(wrong, VOCAB, "a", 5, 1.0, np.random.default_rng(0))
