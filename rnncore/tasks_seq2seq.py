"""Synthetic sequence-to-sequence tasks, generated offline, and padded batches of them.

Taught in chapter 11, Sequence to sequence and attention. Each task maps a
random string of symbols to another string, with a rule whose difficulty for a
fixed-size encoding grows with the length:

* ``"copy"``: the source itself;
* ``"reverse"``: the source backwards (the first output token depends on the
  last input token: the hardest case for an encoder read left to right
  without attention, and the reason Sutskever, Vinyals & Le (2014) fed their
  sources reversed);
* ``"sort"``: the source's symbols in increasing order.

Ids 0, 1 and 2 are reserved: ``PAD_ID`` (padding), ``BOS_ID`` (the decoder's
first input) and ``EOS_ID`` (end of the target); the symbols are the ids
3 .. 3 + K - 1, so both vocabularies have V = K + 3 tokens.

Letters in shapes: T_s and T_t source and target positions, N batch size, K
number of symbols.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import check_choice, check_int, check_rng

__all__ = [
    "PAD_ID",
    "BOS_ID",
    "EOS_ID",
    "SEQ2SEQ_TASKS",
    "Seq2SeqBatch",
    "seq2seq_examples",
    "pad_seq2seq_batch",
    "seq2seq_batch",
    "exact_match",
]

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
FIRST_SYMBOL = 3
SEQ2SEQ_TASKS = ("copy", "reverse", "sort")


class Seq2SeqBatch(NamedTuple):
    """A padded batch, time-major, as :func:`rnncore.seq2seq_loss` takes it."""

    src_ids: np.ndarray  # (T_s, N) source ids, PAD_ID after each sequence's end
    src_mask: np.ndarray  # (T_s, N) bool, True at real source tokens
    tgt_in: np.ndarray  # (T_t, N) BOS_ID, then the target without its EOS
    tgt_out: np.ndarray  # (T_t, N) the target, then EOS_ID
    tgt_mask: np.ndarray  # (T_t, N) bool, True at real target positions (EOS included)


_RULES = {
    "copy": lambda s: list(s),
    "reverse": lambda s: list(s[::-1]),
    "sort": lambda s: sorted(s),
}


def seq2seq_examples(task, N, min_len, max_len, num_symbols, rng):
    """Random source strings and their targets, as lists of ids.

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    task : {"copy", "reverse", "sort"}
    N : int
        Number of examples.
    min_len, max_len : int
        Source lengths are drawn uniformly from ``min_len .. max_len``.
    num_symbols : int
        K; symbols are drawn uniformly from the ids 3 .. K + 2.
    rng : numpy.random.Generator

    Returns
    -------
    sources : list of list of int
    targets : list of list of int
        Without BOS or EOS (:func:`pad_seq2seq_batch` adds them).
    """
    guard("seq2seq_examples")
    where = "seq2seq_examples"
    check_choice("task", task, SEQ2SEQ_TASKS)
    N = check_int("N", N, 1, where)
    min_len = check_int("min_len", min_len, 1, where)
    max_len = check_int("max_len", max_len, min_len, where)
    K = check_int("num_symbols", num_symbols, 1, where)
    check_rng(rng, where)
    lengths = rng.integers(min_len, max_len + 1, size=N)  # (N,)
    sources = [(FIRST_SYMBOL + rng.integers(0, K, size=L)).tolist() for L in lengths]
    return sources, [_RULES[task](s) for s in sources]


def _check_sequences(name, sequences, where):
    if isinstance(sequences, (str, np.ndarray)) or not isinstance(sequences, Sequence):
        raise TypeError(f"{where}: {name} must be a list of lists of int ids")
    for k, seq in enumerate(sequences):
        if not isinstance(seq, (list, tuple)) or not all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) and i >= 0 for i in seq
        ):
            raise TypeError(f"{where}: {name}[{k}] must be a list of non-negative int ids")


def pad_seq2seq_batch(sources, targets):
    """Pad lists of source and target ids into one time-major :class:`Seq2SeqBatch`.

    The decoder reads ``BOS, y_1, ..., y_L`` and must predict ``y_1, ...,
    y_L, EOS`` (teacher forcing: each input is the true previous token).
    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    sources : list of list of int
        Each non-empty.
    targets : list of list of int
        As many as ``sources``; may be empty (the target is then just EOS).

    Returns
    -------
    batch : Seq2SeqBatch
        ``src_ids`` and ``src_mask`` of shape (T_s, N) with T_s the longest
        source; ``tgt_in``, ``tgt_out`` and ``tgt_mask`` of shape (T_t, N) with
        T_t the longest target plus one; int64 ids, bool masks.
    """
    guard("pad_seq2seq_batch")
    where = "pad_seq2seq_batch"
    _check_sequences("sources", sources, where)
    _check_sequences("targets", targets, where)
    if len(sources) != len(targets) or not sources:
        raise ValueError(
            f"{where}: sources and targets must be non-empty lists of the same length, got "
            f"{len(sources)} and {len(targets)}"
        )
    if any(len(s) == 0 for s in sources):
        raise ValueError(f"{where}: every source needs at least one token")
    N = len(sources)
    T_s = max(len(s) for s in sources)
    T_t = max(len(t) for t in targets) + 1
    src_ids = np.full((T_s, N), PAD_ID, dtype=np.int64)
    tgt_in = np.full((T_t, N), PAD_ID, dtype=np.int64)
    tgt_out = np.full((T_t, N), PAD_ID, dtype=np.int64)
    for n, (source, target) in enumerate(zip(sources, targets)):
        src_ids[: len(source), n] = source
        tgt_in[: len(target) + 1, n] = [BOS_ID, *target]
        tgt_out[: len(target) + 1, n] = [*target, EOS_ID]
    src_lengths = np.array([len(s) for s in sources])
    tgt_lengths = np.array([len(t) + 1 for t in targets])
    src_mask = np.arange(T_s)[:, None] < src_lengths[None, :]  # (T_s, N)
    tgt_mask = np.arange(T_t)[:, None] < tgt_lengths[None, :]  # (T_t, N)
    return Seq2SeqBatch(src_ids, src_mask, tgt_in, tgt_out, tgt_mask)


def seq2seq_batch(task, N, min_len, max_len, num_symbols, rng):
    """A fresh padded batch of a synthetic task: :func:`seq2seq_examples`, then padding.

    Taught in chapter 11, Sequence to sequence and attention. Use it as the
    batch maker of :func:`rnncore.train_seq2seq`::

        make_batch = lambda rng: seq2seq_batch("reverse", 32, 3, 8, 10, rng)

    Parameters
    ----------
    task : {"copy", "reverse", "sort"}
    N : int
    min_len, max_len : int
    num_symbols : int
    rng : numpy.random.Generator

    Returns
    -------
    batch : Seq2SeqBatch
    """
    guard("seq2seq_batch")
    return pad_seq2seq_batch(*seq2seq_examples(task, N, min_len, max_len, num_symbols, rng))


def exact_match(predictions, targets):
    """Share of predictions equal to their target, token for token.

    A trailing ``EOS_ID`` is ignored on either side, so the lists that
    :func:`rnncore.translate` returns compare with the raw targets. Taught in
    chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    predictions : list of list of int
    targets : list of list of int

    Returns
    -------
    accuracy : float
        In [0, 1].
    """
    guard("exact_match")
    _check_sequences("predictions", predictions, "exact_match")
    _check_sequences("targets", targets, "exact_match")
    if len(predictions) != len(targets) or not targets:
        raise ValueError(
            "exact_match: predictions and targets must be non-empty lists of the same length, "
            f"got {len(predictions)} and {len(targets)}"
        )

    def strip(seq):
        return list(seq[:-1]) if seq and seq[-1] == EOS_ID else list(seq)

    hits = sum(strip(p) == strip(t) for p, t in zip(predictions, targets))
    return hits / len(targets)
