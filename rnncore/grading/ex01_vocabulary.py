"""Checks of exercise 1: vocabularies, one-hot vectors and embedding lookups (chapter 1)."""

from __future__ import annotations

from ._cases import Case, label, rng_for, with_variants
from ._driver import Out, reference
from ._table import Spec, build
from .mistakes import ex01_vocabulary as catalogue


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


def _id_cases(name, hidden, with_W):
    cases = list(_draw_ids(name, hidden, with_W))
    return with_variants(cases, (0, 3), float32=with_W)  # W as float32: its dtype comes back


def _draw_ids(name, hidden, with_W):
    rng = rng_for(name, hidden)
    sizes = [((5,), 7), ((3, 4), 6), ((1,), 1)] + ([((2, 3, 4), 10), ((20,), 50)] if hidden else [])
    for shape, V in sizes:
        ids = rng.integers(max(V - 2, 1), size=shape)  # the last ids unused: V is not max + 1
        if with_W:
            E = 3 if V > 1 else 1
            yield Case((ids, rng.normal(size=(V, E))), label(ids=shape, V=V, E=E), {})
        else:
            yield Case((ids, V), label(ids=shape, V=V), {})


CHECKS = (
    Spec(
        "build_vocab",
        "idx_to_token",
        "Expected: ``<unk>, <eos>, <pad>`` first, then the tokens seen at least ``min_freq`` "
        "times by descending frequency, ties in code-point order (as ``rnncore.Vocab``), "
        "as a list of "
        'str. Cases: the characters of "hello world", a short text\'s words with min_freq 1 and '
        "2, an empty list; hidden adds 200 random letters with min_freq 1, 3 and 18.",
        _vocab_cases,
        ("tokens", "min_freq"),
        (Out("idx_to_token", kind="list"),),
        _expected_vocab,
        catalogue.BUILD_VOCAB,
        part_text={
            "shapes": "a list of str of the right length",
            "values": "the order of the tokens too",
        },
        refuse_text="every rnncore function (``rnncore.Vocab`` included)",
    ),
    Spec(
        "one_hot",
        "(..., V) floats",
        "A float array with a single 1 per id, as ``rnncore.one_hot``. Cases: ids of shapes "
        "(5,), (3, 4), (1,) with V = 7, 6, 1; hidden adds (2, 3, 4) with V = 10 and (20,) "
        "with V = 50. The last ids are never drawn, so V is not ``ids.max() + 1``.",
        lambda hidden: _id_cases("one_hot", hidden, False),
        ("ids", "vocab_size"),
        (Out("the result", ("...", "V")),),
        mistakes=catalogue.ONE_HOT,
    ),
    Spec(
        "embedding_lookup",
        "(..., E)",
        "The rows of W picked by ids, in W's dtype, as ``rnncore.embedding_lookup``. Cases: "
        "ids of shapes (5,), (3, 4), (1,) with W of shapes (7, 3), (6, 3), (1, 1), and the "
        "first with W as float32; hidden adds (2, 3, 4) with (10, 3) and (20,) with (50, 3), "
        "and (2, 3, 4) with W as float32.",
        lambda hidden: _id_cases("embedding_lookup", hidden, True),
        ("ids", "W"),
        (Out("the result", ("...", "E")),),
        mistakes=catalogue.EMBEDDING_LOOKUP,
        float32=True,
        dtype_from="W",
    ),
)

check_build_vocab, check_one_hot, check_embedding_lookup = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
