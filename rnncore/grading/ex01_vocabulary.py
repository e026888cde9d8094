"""Checks of exercise 1: vocabularies, one-hot vectors and embedding lookups (chapter 1)."""

from __future__ import annotations

from ._cases import Case, label, rng_for
from ._driver import Out, check_function, reference
from ._harness import student_facing
from .mistakes import ex01_vocabulary as catalogue

__all__ = ["check_build_vocab", "check_one_hot", "check_embedding_lookup"]


def _vocab_cases(hidden):
    yield Case((list("hello world"), 1), " (for the characters of 'hello world')", {})
    words = "the cat sat on the mat and the dog sat on the log".split()
    yield Case((words, 1), " (for the words of 'the cat sat on the mat ...')", {})
    yield Case((words, 2), " (for the same words with min_freq=2)", {})
    yield Case(([], 1), " (for an empty list of tokens)", {})
    if hidden:
        rng = rng_for("build_vocab", True)
        letters = list("abcdefghijkl")
        tokens = [letters[i] for i in rng.integers(12, size=200)]
        for min_freq in (1, 3, 18):
            yield Case((tokens, min_freq), f" (for 200 random letters, min_freq={min_freq})", {})


def _expected_vocab(tokens, min_freq):
    return reference("Vocab", tokens, min_freq=min_freq).idx_to_token


@student_facing
def check_build_vocab(student_fn, hidden=False, part=None):
    """Check ``build_vocab(tokens, min_freq=1) -> idx_to_token`` (a list of str).

    Expected: ``<unk>, <eos>, <pad>`` first, then the tokens seen at least
    ``min_freq`` times by descending frequency, ties alphabetical (as
    ``rnncore.Vocab``). Cases: the characters of "hello world", a short text's
    words with min_freq 1 and 2, an empty list; hidden adds 200 random letters
    with min_freq 1, 3 and 18.

    Parameters
    ----------
    student_fn : callable
        The student's ``build_vocab``.
    hidden : bool
        Run the hidden cases too.
    part : {None, "shapes", "values"}
        ``"shapes"``: a list of str of the right length; ``"values"``: the
        order too (None: all).

    Returns
    -------
    None
    """
    check_function(
        "build_vocab",
        student_fn,
        _vocab_cases(hidden),
        arg_names=("tokens", "min_freq"),
        outs=(Out("idx_to_token", kind="list"),),
        expected_fn=_expected_vocab,
        part=part,
        mistakes=catalogue.BUILD_VOCAB,
    )


def _id_cases(name, hidden, with_W):
    rng = rng_for(name, hidden)
    sizes = [((5,), 7), ((3, 4), 6), ((1,), 1)] + ([((2, 3, 4), 10), ((20,), 50)] if hidden else [])
    for shape, V in sizes:
        ids = rng.integers(max(V - 2, 1), size=shape)  # the last ids unused: V is not max + 1
        if with_W:
            E = 3 if V > 1 else 1
            yield Case((ids, rng.normal(size=(V, E))), label(ids=shape, V=V, E=E), {})
        else:
            yield Case((ids, V), label(ids=shape, V=V), {})


@student_facing
def check_one_hot(student_fn, hidden=False, part=None):
    """Check ``one_hot(ids, vocab_size) -> (..., V)`` floats.

    Cases: ids of shapes (5,), (3, 4), (1,) with V = 7, 6, 1; hidden adds
    (2, 3, 4) with V = 10 and (20,) with V = 50.

    Parameters
    ----------
    student_fn : callable
        The student's ``one_hot``.
    hidden : bool
        Run the hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "one_hot",
        student_fn,
        _id_cases("one_hot", hidden, False),
        arg_names=("ids", "vocab_size"),
        outs=(Out("the result", ("...", "V")),),
        expected_fn=lambda ids, V: reference("one_hot", ids, V),
        part=part,
        mistakes=catalogue.ONE_HOT,
    )


@student_facing
def check_embedding_lookup(student_fn, hidden=False, part=None):
    """Check ``embedding_lookup(ids, W) -> (..., E)``, the rows of W picked by ids.

    Cases: ids of shapes (5,), (3, 4), (1,) with W of shapes (7, 3), (6, 3),
    (1, 1); hidden adds (2, 3, 4) with (10, 3) and (20,) with (50, 3).

    Parameters
    ----------
    student_fn : callable
        The student's ``embedding_lookup``.
    hidden : bool
        Run the hidden cases too.
    part : {None, "shapes", "values"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "embedding_lookup",
        student_fn,
        _id_cases("embedding_lookup", hidden, True),
        arg_names=("ids", "W"),
        outs=(Out("the result", ("...", "E")),),
        expected_fn=lambda ids, W: reference("embedding_lookup", ids, W),
        part=part,
        mistakes=catalogue.EMBEDDING_LOOKUP,
    )
