"""Tests of rnncore.data: the census names corpus and the synthetic long-range tasks.

Expected values come from the files themselves (read here independently), from
the definitions of the tasks and from analytic facts (E[u1 + u2] = 1,
Var(u1 + u2) = 1/6 for u1, u2 ~ U(0, 1)).
"""

import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore.data import (
    adding_problem,
    copy_task,
    encode_names,
    load_names,
    names_text,
    names_vocab,
    split_train_valid,
)


def _census_file(filename):
    import names

    path = os.path.join(os.path.dirname(names.__file__), filename)
    with open(path) as handle:
        return [line.split()[0] for line in handle if line.strip()]


# ---------------------------------------------------------------- names corpus


def test_female_names_are_the_census_list_in_frequency_order():
    expected = [n.lower() for n in _census_file("dist.female.first")]
    got = load_names("female")
    assert got == expected  # the file is already unique
    assert len(got) == 4275 and got[0] == "mary"


def test_kinds_have_documented_sizes_and_are_unique():
    sizes = {"female": 4275, "male": 1219, "first": 5163, "last": 88799}
    for kind, size in sizes.items():
        names = load_names(kind)
        assert len(names) == size, kind
        assert len(set(names)) == len(names), kind
    first = set(load_names("female")) | set(load_names("male"))
    assert set(load_names("first")) == first
    every = load_names("all")
    assert set(every) == first | set(load_names("last"))
    assert len(every) == len(set(every))


def test_names_are_lowercase_letters_or_uppercase_when_asked():
    lower = load_names("first")
    assert all(n.isascii() and n.isalpha() and n == n.lower() for n in lower)
    upper = load_names("male", lowercase=False)
    assert upper[0] == "JAMES" and all(n.isupper() for n in upper)


def test_load_names_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        load_names("pets")


def test_split_is_a_partition_of_the_requested_size():
    items = load_names("male")
    train, valid = split_train_valid(items, 0.1, np.random.default_rng(0))
    assert len(valid) == round(0.1 * len(items))
    assert sorted(train + valid) == sorted(items)
    assert not set(train) & set(valid)
    # the caller's list is untouched and the split is shuffled, not a prefix
    assert items == load_names("male")
    assert valid != items[: len(valid)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**31))
def test_split_partitions_any_list(n, fraction, seed):
    items = list(range(n))
    train, valid = split_train_valid(items, fraction, np.random.default_rng(seed))
    assert sorted(train + valid) == items
    assert len(valid) == round(fraction * n)


def test_split_same_seed_same_split():
    items = list("abcdefghij")
    a = split_train_valid(items, 0.3, np.random.default_rng(5))
    b = split_train_valid(items, 0.3, np.random.default_rng(5))
    assert a == b


@pytest.mark.parametrize(
    "args, error, message",
    [
        (("abc", 0.5), TypeError, "items must be a list or tuple"),
        (([1, 2], "half"), TypeError, "valid_fraction must be a number"),
        (([1, 2], 1.0), ValueError, "strictly between 0 and 1"),
        (([1, 2], 0), ValueError, "strictly between 0 and 1"),
    ],
)
def test_split_rejects_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        split_train_valid(*args, np.random.default_rng(0))


def test_split_needs_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        split_train_valid([1, 2, 3], 0.5, 42)


def test_names_text_is_one_name_per_line():
    assert names_text(["ann", "bob"]) == "ann\nbob\n"
    assert names_text([]) == ""
    with pytest.raises(ValueError, match="non-empty str without a newline"):
        names_text(["ann", ""])
    with pytest.raises(ValueError, match="non-empty str without a newline"):
        names_text(["a\nb"])
    with pytest.raises(TypeError, match="names must be a list of str"):
        names_text("ann")


def test_encode_names_puts_eos_after_every_name():
    names = ["ann", "bo"]
    vocab = names_vocab(names)
    assert vocab.idx_to_token[:3] == ["<unk>", "<eos>", "<pad>"]
    assert sorted(vocab.idx_to_token[3:]) == ["a", "b", "n", "o"]
    ids = encode_names(names, vocab)
    expected = [vocab.token_to_idx[c] for c in "ann"] + [vocab.eos]
    expected += [vocab.token_to_idx[c] for c in "bo"] + [vocab.eos]
    assert ids.dtype == np.int64 and ids.tolist() == expected
    assert encode_names([], vocab).shape == (0,)


def test_names_vocab_covers_the_alphabet():
    vocab = names_vocab(load_names("first"))
    assert len(vocab) == 3 + 26


# ---------------------------------------------------------------- adding problem


def test_adding_problem_structure():
    T, N = 11, 500
    X, y = adding_problem(T, N, np.random.default_rng(1))
    assert X.shape == (T, N, 2) and y.shape == (N,) and X.dtype == np.float64
    values, markers = X[:, :, 0], X[:, :, 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers.sum(axis=0) == 2).all()  # exactly two markers per sequence
    half = T // 2
    assert (markers[:half].sum(axis=0) == 1).all()  # one in the first half
    assert (markers[half:].sum(axis=0) == 1).all()  # one in the second half
    for n in range(N):  # target = the sum of the two marked values, by a plain loop
        marked = [values[t, n] for t in range(T) if markers[t, n] == 1]
        assert len(marked) == 2
        assert y[n] == pytest.approx(marked[0] + marked[1], abs=1e-15)


def test_adding_problem_baseline_mse_is_one_sixth():
    """E[y] = 1 and Var(y) = 2 * (1/12): predicting 1 scores MSE 1/6 (Le et al. 2015)."""
    _, y = adding_problem(20, 200_000, np.random.default_rng(2))
    assert y.mean() == pytest.approx(1.0, abs=0.005)  # std error 0.0009
    assert np.mean((1.0 - y) ** 2) == pytest.approx(1 / 6, abs=0.002)  # std error ~0.0004


def test_adding_problem_marker_positions_cover_each_half():
    T = 8
    X, _ = adding_problem(T, 4000, np.random.default_rng(3))
    counts = X[:, :, 1].sum(axis=1)  # (T,) how often each step is marked
    assert (counts > 0).all()  # every position of each half can be chosen
    assert counts[: T // 2].sum() == counts[T // 2 :].sum() == 4000


def test_adding_problem_float32_and_smallest_length():
    X, y = adding_problem(2, 3, np.random.default_rng(0), dtype=np.float32)
    assert X.dtype == y.dtype == np.float32
    assert (X[:, :, 1] == 1).all()  # T = 2: both steps are marked
    np.testing.assert_allclose(y, X[:, :, 0].sum(axis=0), rtol=1e-6)


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((1, 4), ValueError, "T must be at least 2"),
        ((10, 0), ValueError, "N must be at least 1"),
        ((10.0, 4), TypeError, "T must be an int"),
        ((True, 4), TypeError, "T must be an int"),
    ],
)
def test_adding_problem_rejects_bad_sizes(args, error, message):
    with pytest.raises(error, match=message):
        adding_problem(*args, np.random.default_rng(0))


def test_adding_problem_needs_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        adding_problem(10, 4, None)


# ---------------------------------------------------------------- copy task


def test_copy_task_structure():
    T_memory, T_delay, N, K = 5, 7, 50, 8
    ids_in, targets = copy_task(T_memory, T_delay, N, K, np.random.default_rng(4))
    L = 2 * T_memory + T_delay
    assert ids_in.shape == targets.shape == (L, N)
    assert ids_in.dtype == targets.dtype == np.int64
    symbols = ids_in[:T_memory]
    assert ((symbols >= 1) & (symbols <= K)).all()
    delimiter = T_memory + T_delay - 1
    assert (ids_in[T_memory:delimiter] == 0).all()
    assert (ids_in[delimiter] == K + 1).all()
    assert (ids_in[delimiter + 1 :] == 0).all()
    assert (targets[: T_memory + T_delay] == 0).all()
    np.testing.assert_array_equal(targets[T_memory + T_delay :], symbols)  # recall in order
    assert set(np.unique(symbols)) == set(range(1, K + 1))  # all symbols used


def test_copy_task_baseline_matches_arjovsky_formula():
    """The memoryless baseline of the docstring: T_memory log K / (2 T_memory + T_delay).

    Computed here as the cross-entropy of an explicit predictor (blank with
    probability 1 until the recall phase, then uniform over the K symbols),
    which for T_memory=10, K=8 must equal Arjovsky et al.'s 10 log 8 / (T + 20).
    """
    T_memory, K = 10, 8
    for T in (1, 5, 100):
        ids_in, targets = copy_task(T_memory, T, 3, K, np.random.default_rng(T))
        L = ids_in.shape[0]
        probs = np.zeros((L, K + 2))
        probs[: T_memory + T, 0] = 1.0
        probs[T_memory + T :, 1 : K + 1] = 1.0 / K
        picked = np.take_along_axis(probs[:, None, :].repeat(3, 1), targets[:, :, None], 2)
        ce = -np.log(picked).mean()
        assert ce == pytest.approx(10 * math.log(8) / (T + 20), rel=1e-12)


def test_copy_task_delay_one_puts_the_delimiter_right_after_the_symbols():
    ids_in, _ = copy_task(3, 1, 2, 4, np.random.default_rng(0))
    assert (ids_in[3] == 5).all() and (ids_in[4:] == 0).all()


@pytest.mark.parametrize("bad", ["T_memory", "T_delay", "N", "n_symbols"])
def test_copy_task_rejects_sizes_below_one(bad):
    sizes = {"T_memory": 2, "T_delay": 2, "N": 2, "n_symbols": 2, bad: 0}
    with pytest.raises(ValueError, match=f"{bad} must be at least 1"):
        copy_task(rng=np.random.default_rng(0), **sizes)


def test_missing_names_package_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "names", None)  # makes `import names` raise ImportError
    with pytest.raises(ImportError, match=r"pip install names==0\.3\.0"):
        load_names("female")
