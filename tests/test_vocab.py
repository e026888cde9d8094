"""Tests for rnncore.vocab: tokenizers, Vocab, one-hot vectors, embedding lookup."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore.vocab import Vocab, embedding_lookup, one_hot, tokenize_chars, tokenize_words

# ---------------------------------------------------------------- tokenizers


def test_tokenize_chars_keeps_every_character():
    text = "Hi, you!\n a"
    tokens = tokenize_chars(text)
    assert tokens == ["H", "i", ",", " ", "y", "o", "u", "!", "\n", " ", "a"]
    assert tokenize_chars("") == []


def test_tokenize_words_splits_punctuation():
    assert tokenize_words("Don't panic, Arthur!") == ["don't", "panic", ",", "arthur", "!"]
    assert tokenize_words("The cat.\nThe END", lower=False) == ["The", "cat", ".", "The", "END"]
    assert tokenize_words("  \n ") == []
    assert tokenize_words("a--b 42") == ["a", "-", "-", "b", "42"]


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=40))
def test_tokenize_chars_round_trip(text):
    assert "".join(tokenize_chars(text)) == text


# ---------------------------------------------------------------- Vocab


def test_vocab_order_reserved_then_frequency_then_alphabetical():
    tokens = ["b", "a", "c", "a", "b", "d", "a"]  # a:3, b:2, c:1, d:1
    vocab = Vocab(tokens)
    assert vocab.idx_to_token == ["<unk>", "<eos>", "<pad>", "a", "b", "c", "d"]
    assert vocab.token_to_idx == {t: i for i, t in enumerate(vocab.idx_to_token)}
    assert (vocab.unk, vocab.eos, vocab.pad) == (0, 1, 2)
    assert len(vocab) == 7
    assert "a" in vocab and "z" not in vocab
    assert "Vocab(size=7" in repr(vocab)


def test_vocab_is_deterministic_whatever_the_input_order():
    tokens = list("the quick brown fox jumps over the lazy dog")
    shuffled = list(np.random.default_rng(0).permutation(tokens))
    assert Vocab(tokens).idx_to_token == Vocab(shuffled).idx_to_token


def test_vocab_min_freq_sends_rare_tokens_to_unk():
    vocab = Vocab(["x", "x", "y", "z", "z"], min_freq=2)
    assert vocab.idx_to_token == ["<unk>", "<eos>", "<pad>", "x", "z"]
    np.testing.assert_array_equal(vocab.encode(["x", "y", "z", "never"]), [3, 0, 4, 0])


def test_vocab_custom_reserved_and_lines():
    vocab = Vocab([["a", "b"], ["b", "<bos>"]], reserved=("<unk>", "<bos>"))
    assert vocab.idx_to_token == ["<unk>", "<bos>", "b", "a"]  # <bos> is not counted twice
    with pytest.raises(ValueError, match="this vocabulary has no <pad> token"):
        _ = vocab.pad


def test_vocab_without_unk_refuses_unknown_tokens():
    vocab = Vocab(list("abc"), reserved=())
    np.testing.assert_array_equal(vocab.encode(list("cab")), [2, 0, 1])
    with pytest.raises(ValueError, match="no <unk> token"):
        vocab.encode(["z"])


def test_encode_returns_int64_and_decode_inverts():
    vocab = Vocab(tokenize_chars("hello world"))
    ids = vocab.encode(tokenize_chars("low"))
    assert ids.dtype == np.int64 and ids.shape == (3,)
    assert [vocab.idx_to_token[i] for i in ids] == ["l", "o", "w"]
    assert vocab.decode(ids) == ["l", "o", "w"]
    assert vocab.decode([int(i) for i in ids]) == ["l", "o", "w"]
    assert vocab.decode([]) == []
    assert vocab.encode([]).dtype == np.int64


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(list("abcdefg ")), max_size=30), st.text("abcdefgh ", max_size=30))
def test_encode_decode_round_trip(corpus, text):
    vocab = Vocab(corpus)
    tokens = tokenize_chars(text)
    decoded = vocab.decode(vocab.encode(tokens))
    assert decoded == [t if t in vocab else "<unk>" for t in tokens]
    ids = np.arange(len(vocab), dtype=np.int64)
    np.testing.assert_array_equal(vocab.encode(vocab.decode(ids)), ids)


# ---------------------------------------------------------------- one-hot and embeddings


def test_one_hot_volunteer_example():
    # chapter 1: a 20,000-word vocabulary in which "volunteer" has id 19
    e = one_hot(np.array([19]), 20000)
    assert e.shape == (1, 20000) and e.dtype == np.float64
    assert e[0, 19] == 1.0 and e.sum() == 1.0


def test_one_hot_shape_and_entries():
    ids = np.array([[0, 2], [1, 2], [2, 0]])  # (T, N) = (3, 2)
    e = one_hot(ids, 4, dtype=np.float32)
    assert e.shape == (3, 2, 4) and e.dtype == np.float32
    for t in range(3):
        for n in range(2):
            expected = np.zeros(4)
            expected[ids[t, n]] = 1
            np.testing.assert_array_equal(e[t, n], expected)
    assert one_hot(np.array(3), 5).tolist() == [0, 0, 0, 1, 0]


@pytest.mark.parametrize("shape", [(5,), (3, 2), (1, 1), (2, 3, 4)])
def test_embedding_lookup_equals_one_hot_times_W(shape):
    rng = np.random.default_rng(1)
    V, E = 7, 3
    W = rng.normal(size=(V, E))
    ids = rng.integers(0, V, size=shape)
    X = embedding_lookup(ids, W)
    assert X.shape == shape + (E,)
    np.testing.assert_allclose(X, one_hot(ids, V) @ W, rtol=1e-15, atol=0)
    X[...] = 0  # a new array: writing to it leaves W alone
    assert np.abs(W).sum() > 0


def test_nothing_mutates_its_inputs():
    W = np.random.default_rng(2).normal(size=(4, 3))
    ids = np.array([[0, 3], [3, 1]])
    tokens = ["a", "b", "a"]
    keep = (W.copy(), ids.copy(), list(tokens))
    embedding_lookup(ids, W)
    one_hot(ids, 4)
    Vocab(tokens).encode(tokens)
    np.testing.assert_array_equal(W, keep[0])
    np.testing.assert_array_equal(ids, keep[1])
    assert tokens == keep[2]


# ---------------------------------------------------------------- bad input


def test_bad_input_wrong_type():
    with pytest.raises(TypeError, match="tokenize_chars: text must be a str"):
        tokenize_chars(["a"])
    with pytest.raises(TypeError, match="tokenize_words: text must be a str"):
        tokenize_words(None)
    with pytest.raises(TypeError, match="Vocab needs a list of tokens"):
        Vocab("hello")
    with pytest.raises(TypeError, match="Vocab tokens must be strings, got int"):
        Vocab(["a", 3])
    with pytest.raises(TypeError, match="encode needs a list of tokens, got a str"):
        Vocab(["a"]).encode("a")
    with pytest.raises(TypeError, match="ids must be a NumPy array of integer ids"):
        one_hot([1, 2], 3)
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        one_hot(np.array([1]), 3.0)
    with pytest.raises(TypeError, match="min_freq must be an int"):
        Vocab(["a"], min_freq=1.5)


def test_bad_input_wrong_dtype():
    with pytest.raises(TypeError, match="ids must hold integer token ids, got dtype float64"):
        embedding_lookup(np.array([0.0]), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="ids must hold integer token ids"):
        Vocab(["a"]).decode([0.5])
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        one_hot(np.array([0]), 2, dtype=np.int64)
    with pytest.raises(TypeError, match="W must hold floating-point numbers"):
        embedding_lookup(np.array([0]), np.zeros((2, 3), np.int64))


def test_bad_input_out_of_range():
    with pytest.raises(
        ValueError, match=r"ids holds the id 5, outside the vocabulary's range 0\.\.4"
    ):
        one_hot(np.array([0, 5]), 5)
    with pytest.raises(ValueError, match=r"ids holds the id -1"):
        embedding_lookup(np.array([-1]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"ids holds the id 4, outside .* 0\.\.3"):
        Vocab(["a"]).decode([4])
    with pytest.raises(ValueError, match="vocab_size must be at least 1"):
        one_hot(np.array([0]), 0)
    with pytest.raises(ValueError, match="min_freq must be at least 1"):
        Vocab(["a"], min_freq=0)
    with pytest.raises(ValueError, match="reserved tokens must be distinct"):
        Vocab(["a"], reserved=("<unk>", "<unk>"))


def test_bad_input_wrong_shape():
    with pytest.raises(ValueError, match=r"W has shape \(3,\) but embedding_lookup needs \(V, E\)"):
        embedding_lookup(np.array([0]), np.zeros(3))
    with pytest.raises(ValueError, match=r"ids has shape \(1, 2\) but Vocab.decode needs \(L,\)"):
        Vocab(["a"]).decode(np.zeros((1, 2), np.int64))


def test_bad_input_not_finite():
    with pytest.raises(
        ValueError, match="rows of W selected by ids passed to embedding_lookup contains NaN"
    ):
        embedding_lookup(np.array([0]), np.array([[np.nan]]))
    # only the rows read are scanned: a NaN elsewhere in W does not reach the output
    W = np.array([[1.0], [np.nan]])
    np.testing.assert_array_equal(embedding_lookup(np.array([0, 0]), W), [[1.0], [1.0]])
