"""Tokens, vocabularies, one-hot vectors and embedding lookups.

Taught in chapter 1, One-hot vocabularies: text becomes a list of tokens
(characters or words), a vocabulary numbers them, and a token with id ``i``
becomes the one-hot row vector ``e_i`` of length V. Multiplying ``e_i`` by a
matrix ``W`` of shape (V, E) picks out row ``i``, which is why an embedding
layer is a table lookup.

Letters in shapes: V vocabulary size, E embedding size; ``...`` any leading
shape of an id array (``(T, N)`` for a batch of sequences).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_ids

__all__ = ["tokenize_chars", "tokenize_words", "Vocab", "one_hot", "embedding_lookup"]

# A word is a run of letters/digits, optionally with inner apostrophes ("don't");
# every other non-space character (punctuation) is a token on its own.
_WORD_OR_PUNCT = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def _check_text(text, where: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{where}: text must be a str, got {type(text).__name__}")


def tokenize_chars(text):
    """Split text into characters, spaces and newlines included.

    Taught in chapter 1, One-hot vocabularies (the character models of
    chapter 9 use it).

    Parameters
    ----------
    text : str

    Returns
    -------
    tokens : list of str
        One single-character string per character; ``"".join(tokens) == text``.
    """
    guard("tokenize_chars")
    _check_text(text, "tokenize_chars")
    return list(text)


def tokenize_words(text, lower=True):
    """Split text into words and punctuation marks; whitespace is dropped.

    ``"Don't panic, Arthur!"`` gives ``["don't", "panic", ",", "arthur", "!"]``.
    Taught in chapter 1, One-hot vocabularies.

    Parameters
    ----------
    text : str
    lower : bool
        Lower-case the text first, so that "The" and "the" are one token.

    Returns
    -------
    tokens : list of str
    """
    guard("tokenize_words")
    _check_text(text, "tokenize_words")
    if lower:
        text = text.lower()
    return _WORD_OR_PUNCT.findall(text)


def _flatten_tokens(tokens) -> list[str]:
    """A flat list of str from a list of tokens or a list of token lists (lines)."""
    if isinstance(tokens, str) or not isinstance(tokens, Iterable):
        raise TypeError(
            f"Vocab needs a list of tokens (e.g. tokenize_chars(text)), got {type(tokens).__name__}"
        )
    flat = []
    for item in tokens:
        if isinstance(item, str):
            flat.append(item)
        elif isinstance(item, (list, tuple)) and all(isinstance(t, str) for t in item):
            flat.extend(item)
        else:
            raise TypeError(f"Vocab tokens must be strings, got {type(item).__name__}")
    return flat


class Vocab:
    """A numbering of tokens: reserved tokens first, then by descending frequency.

    Ties in frequency are broken by code-point order (as ``sorted`` orders
    strings: "Z" before "a"), so the same text always gives the same numbering.
    Tokens seen fewer than ``min_freq`` times are left out and encode as
    ``<unk>``. Taught in chapter 1, One-hot vocabularies.

    Parameters
    ----------
    tokens : list of str, or list of lists of str
        The training text, already tokenized (lines are flattened).
    min_freq : int
        Keep only tokens seen at least this often.
    reserved : sequence of str
        Special tokens numbered first, in this order (``<unk>`` = 0,
        ``<eos>`` = 1, ``<pad>`` = 2 by default).

    Attributes
    ----------
    idx_to_token : list of str
        ``idx_to_token[i]`` is the token with id ``i``.
    token_to_idx : dict of str to int
        The inverse map.
    token_freqs : dict of str to int
        How often each token occurred in ``tokens`` (rare ones included).
    """

    def __init__(self, tokens, min_freq=1, reserved=("<unk>", "<eos>", "<pad>")):
        guard("Vocab")
        if isinstance(min_freq, bool) or not isinstance(min_freq, (int, np.integer)):
            raise TypeError(f"min_freq must be an int, got {type(min_freq).__name__}")
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}")
        reserved = list(_flatten_tokens(reserved))
        if len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved tokens must be distinct, got {reserved}")
        counts = Counter(_flatten_tokens(tokens))
        kept = sorted(
            (tok for tok, n in counts.items() if n >= min_freq and tok not in reserved),
            key=lambda tok: (-counts[tok], tok),
        )
        self.idx_to_token: list[str] = reserved + kept
        self.token_to_idx: dict[str, int] = {tok: i for i, tok in enumerate(self.idx_to_token)}
        self.token_freqs: dict[str, int] = dict(counts)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token) -> bool:
        return token in self.token_to_idx

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Vocab(size={len(self)}: {head}{more})"

    def _reserved_id(self, token: str) -> int:
        if token not in self.token_to_idx:
            raise ValueError(f"this vocabulary has no {token} token; add it to reserved")
        return self.token_to_idx[token]

    @property
    def unk(self) -> int:
        """Id of ``<unk>``, the stand-in for tokens outside the vocabulary."""
        return self._reserved_id("<unk>")

    @property
    def eos(self) -> int:
        """Id of ``<eos>``, the end-of-sequence marker."""
        return self._reserved_id("<eos>")

    @property
    def pad(self) -> int:
        """Id of ``<pad>``, the filler that makes sequences of a batch equally long."""
        return self._reserved_id("<pad>")

    def encode(self, tokens):
        """Ids of a list of tokens; unknown tokens become ``<unk>``.

        Taught in chapter 1, One-hot vocabularies.

        Parameters
        ----------
        tokens : list of str
            Pass ``tokenize_chars(text)`` rather than the string itself.

        Returns
        -------
        ids : ndarray of shape (len(tokens),), int64
        """
        guard("Vocab.encode")
        if isinstance(tokens, str):
            raise TypeError(
                "encode needs a list of tokens, got a str; pass tokenize_chars(text) or "
                "tokenize_words(text)"
            )
        tokens = _flatten_tokens(tokens)
        lookup = self.token_to_idx
        if all(tok in lookup for tok in tokens):
            return np.array([lookup[tok] for tok in tokens], dtype=np.int64)
        unk = self.unk  # raises if some token is unknown and there is no <unk>
        return np.array([lookup.get(tok, unk) for tok in tokens], dtype=np.int64)

    def decode(self, ids):
        """Tokens of a sequence of ids (join them with ``"".join`` for characters).

        Taught in chapter 1, One-hot vocabularies.

        Parameters
        ----------
        ids : ndarray of shape (L,), integer, or list of int

        Returns
        -------
        tokens : list of str of length L
        """
        guard("Vocab.decode")
        if isinstance(ids, (list, tuple)):
            ids = np.asarray(ids, dtype=np.int64 if len(ids) == 0 else None)
        check_ids("ids", ids, len(self), ("L",), where="Vocab.decode")
        return [self.idx_to_token[i] for i in ids.tolist()]


def _check_vocab_size(vocab_size) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be at least 1, got {vocab_size}")
    return int(vocab_size)


def one_hot(ids, vocab_size, dtype=np.float64):
    """One-hot vectors: ``out[..., i] = 1`` where ``i = ids[...]``, 0 elsewhere.

    Taught in chapter 1, One-hot vocabularies. With a vocabulary of 20,000
    words in which "volunteer" has id 19, ``one_hot(np.array([19]), 20000)`` is
    a row of 20,000 numbers with a single 1 at position 19.

    Parameters
    ----------
    ids : ndarray of any shape (...), integer
        Token ids, ``0 <= ids < vocab_size``.
    vocab_size : int
        V, the length of each one-hot vector.
    dtype : floating dtype
        float64 by default; float32 also works.

    Returns
    -------
    out : ndarray of shape (..., V)
    """
    guard("one_hot")
    vocab_size = _check_vocab_size(vocab_size)
    check_ids("ids", ids, vocab_size, where="one_hot")
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating-point type, got {dtype}")
    out = np.zeros((ids.size, vocab_size), dtype=dtype)  # (..., V) flattened to (L, V)
    out[np.arange(ids.size), ids.reshape(-1)] = 1
    return out.reshape(ids.shape + (vocab_size,))


def embedding_lookup(ids, W):
    """Rows of ``W`` picked by ``ids``: the same numbers as ``one_hot(ids, V) @ W``.

    Taught in chapter 1, One-hot vocabularies: multiplying a one-hot row by a
    matrix selects one row, so real code indexes instead of multiplying.

    Parameters
    ----------
    ids : ndarray of any shape (...), integer
        Token ids, ``0 <= ids < V``.
    W : ndarray of shape (V, E)
        One row (embedding) per token.

    Returns
    -------
    X : ndarray of shape (..., E)
        A new array (never a view of ``W``), in ``W``'s dtype.
    """
    guard("embedding_lookup")
    sizes = Sizes()
    # Scanning all of W for NaN costs ~400x the lookup at V = 20,000: check only the
    # rows that are read.
    check_array("W", W, ("V", "E"), sizes, where="embedding_lookup", finite=False)
    check_ids("ids", ids, sizes["V"], where="embedding_lookup")
    X = W[ids]  # fancy indexing copies
    check_array("the rows of W selected by ids", X, X.shape, where="embedding_lookup")
    return X
