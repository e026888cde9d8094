"""Typical wrong vocabularies, one-hot vectors and embedding lookups (exercise 1; chapter 1)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []

RESERVED = ["<unk>", "<eos>", "<pad>"]


def _vocab(tokens, min_freq=1, key=None, reserved_first=True, keep=None):
    guard("_vocab")
    counts = Counter(tokens)
    keep = keep or (lambda n: n >= min_freq)
    kept = [t for t in counts if keep(counts[t]) and t not in RESERVED]  # first-appearance order
    if key is not None:
        kept = sorted(kept, key=lambda t: key(t, counts))
    return RESERVED + kept if reserved_first else kept + RESERVED


def solution_build_vocab(tokens, min_freq=1):
    guard("solution_build_vocab")
    return _vocab(tokens, min_freq, key=lambda t, c: (-c[t], t))


BUILD_VOCAB = (
    Mistake(
        "the reserved tokens <unk>, <eos>, <pad> left out (they come first)",
        1,
        lambda tokens, min_freq=1: _vocab(tokens, min_freq, lambda t, c: (-c[t], t))[3:],
    ),
    Mistake(
        "tokens in order of first appearance; sort them by frequency, most frequent first",
        1,
        lambda tokens, min_freq=1: _vocab(tokens, min_freq),
    ),
    Mistake(
        "tokens sorted by ascending frequency; the most frequent come first",
        1,
        lambda tokens, min_freq=1: _vocab(tokens, min_freq, lambda t, c: (c[t], t)),
    ),
    Mistake(
        "ties in frequency kept in order of first appearance; break them by code-point "
        "order (sorted)",
        1,
        lambda tokens, min_freq=1: _vocab(tokens, min_freq, lambda t, c: -c[t]),
    ),
    Mistake(
        "min_freq ignored (rare tokens must be left out)",
        1,
        lambda tokens, min_freq=1: _vocab(tokens, 1, lambda t, c: (-c[t], t)),
    ),
    Mistake(
        "count > min_freq; a token seen exactly min_freq times is kept",
        1,
        lambda tokens, min_freq=1: _vocab(
            tokens, key=lambda t, c: (-c[t], t), keep=lambda n: n > min_freq
        ),
    ),
    Mistake(
        "tokens sorted alphabetically only; sort by frequency first",
        1,
        lambda tokens, min_freq=1: _vocab(tokens, min_freq, lambda t, c: t),
    ),
    Mistake(
        "the reserved tokens put last; they come first",
        1,
        lambda tokens, min_freq=1: _vocab(
            tokens, min_freq, lambda t, c: (-c[t], t), reserved_first=False
        ),
    ),
)


def solution_one_hot(ids, vocab_size):
    guard("solution_one_hot")
    return np.eye(vocab_size)[ids]  # (..., V): row i of the identity is e_i


ONE_HOT = (
    Mistake(
        "a transposed one-hot matrix (V, ...); each id gives a row vector, so the "
        "result is (..., V)",
        1,
        lambda ids, V: np.eye(V)[:, ids],
    ),
    Mistake(
        "ids shifted by one (the 1 at position id − 1); ids count from 0",
        1,
        lambda ids, V: np.eye(V)[ids - 1],
    ),
    Mistake(
        "the length taken from ids.max() + 1 instead of vocab_size",
        1,
        lambda ids, V: np.eye(int(ids.max()) + 1)[ids],
    ),
    Mistake(
        "the leading axes flattened; ids of shape (T, N) give (T, N, V)",
        1,
        lambda ids, V: np.eye(V)[ids.reshape(-1)],
    ),
    Mistake(
        "integer one-hot vectors; they must be floats (np.zeros gives float64)",
        1,
        lambda ids, V: np.eye(V, dtype=np.int64)[ids],
    ),
)


def solution_embedding_lookup(ids, W):
    guard("solution_embedding_lookup")
    return W[ids]  # (..., E): row ids[...] of W


EMBEDDING_LOOKUP = (
    Mistake("ids shifted by one (row id − 1); ids count from 0", 1, lambda ids, W: W[ids - 1]),
    Mistake(
        "the leading axes flattened; ids of shape (T, N) give (T, N, E)",
        1,
        lambda ids, W: W[ids.reshape(-1)],
    ),
    Mistake(
        "the one-hot vectors returned without multiplying by W",
        1,
        lambda ids, W: np.eye(W.shape[0])[ids],
    ),
    Mistake(
        "the embeddings summed over the tokens; each token keeps its own row",
        1,
        lambda ids, W: W[ids].sum(axis=0),
    ),
    Mistake(
        "a transposed result; the embedding of ids[...] is out[..., :]", 1, lambda ids, W: W[ids].T
    ),
    Mistake(
        "W's columns picked instead of its rows (W.T[ids])", 1, lambda ids, W: W.T[ids % W.shape[1]]
    ),
)
