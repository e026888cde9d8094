"""Checks of exercise 9: temperature, one draw, a whole sampled text (chapter 9).

Draws are compared exactly: the student's function and the reference get
generators in the same state, and the book asks for ``rng.choice(V, p=probs)``,
so a right answer makes the same draws. The student's ``sample_text`` gets a
small character model as ``step_fn`` (plain NumPy, part of this check) and an
``rnncore.Vocab`` of the characters "abcdefg".
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import __all__ as _PUBLIC
from ._cases import Case, label, rng_for, with_variants
from ._driver import Out, reference
from ._table import Spec, build
from .mistakes import ex09_sampling as catalogue

# The vocabulary's own methods stay usable inside sample_text; everything else is refused:
# rnncore's public functions and the model answers of this catalogue.
REFUSE_BUT_VOCAB = tuple(name for name in _PUBLIC if name != "Vocab") + tuple(
    name for name, value in vars(catalogue).items() if inspect.isfunction(value)
)


def _temperature_cases(hidden, draws):
    rng = rng_for("sample_next" if draws else "softmax_with_temperature", hidden)
    temperatures = (1.0, 0.5, 2.0, 0.1, 5.0, 1.0, 0.7, 3.0) + ((0.05, 10.0, 1.3) if hidden else ())
    for k, temperature in enumerate(temperatures):
        V = (6, 1, 9, 4, 12, 5, 7, 3, 30, 8, 10)[k]
        logits = rng.normal(0.0, 2.0, size=V)
        extra = {}
        if not draws and k == 3:  # 40 / 0.1 = 400: fine; 100 / 0.1 overflows exp
            logits = logits * 50.0
            extra = {"part": "stability"}
        args = (logits, temperature, np.random.default_rng(int(rng.integers(2**31))))
        yield Case(args if draws else args[:2], label(V=V, temperature=temperature), extra)


def _char_model(V, H, rng):
    """A small random character RNN: ``step_fn(token_id, state) -> (logits (V,), state)``."""
    W_xh = rng.normal(0.0, 1.0, size=(V, H))
    W_hh = rng.normal(0.0, 0.5, size=(H, H))
    W_hq = rng.normal(0.0, 1.5, size=(H, V))
    b_q = np.zeros(V)
    b_q[[0, 2]] = -50.0  # <unk> and <pad> never come out of a trained model either
    b_q[1] = 1.0  # <eos> (id 1) likely enough that most texts end before max_len

    def step_fn(token_id, state):
        h = np.zeros(H) if state is None else state
        h = np.tanh(W_xh[int(token_id)] + h @ W_hh)  # (H,)
        return h @ W_hq + b_q, h

    return step_fn


def _scripted_model(vocab, prompt, script):
    """A model that is sure of its next token: after the prompt it spells out ``script``.

    Every sampler that follows the book draws the same tokens from it, so it
    grades stopping (at ``<eos>``, or after ``max_len`` new characters) apart
    from the draws themselves.
    """
    fed = max(len(prompt), 1)  # an empty prompt feeds <eos>

    def step_fn(token_id, state):
        calls = (0 if state is None else state) + 1
        k = calls - fed  # 0 for the logits right after the prompt
        target = script[k] if 0 <= k < len(script) else "g"  # after the script: more text
        logits = np.full(len(vocab), -50.0)  # (V,)
        logits[vocab.token_to_idx[target]] = 50.0
        return logits, calls

    return step_fn


def _text_cases(hidden):
    vocab = reference("Vocab", list("abcdefg"))
    runs = [("ab", 12, 1.0), ("", 6, 1.0), ("c", 1, 0.5), ("gad", 15, 0.8), ("e", 20, 2.0)]
    if hidden:
        runs += [("", 40, 1.5), ("fab", 30, 0.3), ("b", 25, 1.0)]
    for k, (prompt, max_len, temperature) in enumerate(runs):
        step_fn = _char_model(len(vocab), 6, np.random.default_rng(100 + k))
        args = (step_fn, vocab, prompt, max_len, temperature, np.random.default_rng(k))
        yield Case(
            args, f" (for prompt {prompt!r}, max_len={max_len}, temperature={temperature})", {}
        )
    scripts = [("ab", list("cde") + ["<eos>"], 10), ("", ["f", "a", "<eos>"], 10),
               ("g", list("ab"), 5), ("cc", ["<eos>"], 3), ("d", list("efg"), 3)]  # fmt: skip
    if hidden:
        scripts += [("abc", ["d"], 30), ("", ["<eos>"], 1)]
    for k, (prompt, script, max_len) in enumerate(scripts):
        args = (_scripted_model(vocab, prompt, script), vocab, prompt, max_len, 1.0,
                np.random.default_rng(50 + k))  # fmt: skip
        yield Case(args, f" (for prompt {prompt!r}, max_len={max_len} and a model that is "
                         f"sure to write {''.join(script)!r})", {"part": "stopping"})  # fmt: skip


def _softmax_cases(hidden):
    cases = list(_temperature_cases(hidden, False))
    return with_variants(cases, (0, 8) if hidden else (0,), float32=True)  # dtype comes back


CHECKS = (
    Spec(
        "softmax_with_temperature",
        "probs",
        "For logits (V,), in the logits' dtype. Cases: eight logit vectors (V from 1 to 12) "
        "with temperatures 0.1 to 5, one with logits of about ±100 at temperature 0.1 (part "
        '``"stability"``), and the first as float32; hidden adds three more, the first of '
        "them as float32 too.",
        _softmax_cases,
        ("logits", "temperature"),
        (Out("probs", ("V",)),),
        lambda z, T: reference("softmax_with_temperature", z, T),
        catalogue.SOFTMAX_WITH_TEMPERATURE,
        parts=("shapes", "values", "stability"),
        float32=True,
    ),
    Spec(
        "sample_next",
        "token_id",
        "On each case the student's function and ``rnncore.sample_next`` get generators in "
        "the same state and must draw the same id (an int). Cases: those of "
        ":func:`check_softmax_with_temperature` with a generator each.",
        lambda hidden: _temperature_cases(hidden, True),
        ("logits", "temperature", "rng"),
        (Out("token_id", kind="int"),),
        lambda z, T, rng: reference("sample_next", z, T, rng),
        catalogue.SAMPLE_NEXT,
        part_text={"shapes": "returns an int", "values": "the same draw as the reference"},
        keep=("rng",),
    ),
    Spec(
        "sample_text",
        "text",
        "The text is the prompt followed by the sampled characters, without ``<eos>``; "
        "generation stops at ``<eos>`` or after ``max_len`` new characters (see "
        "``rnncore.sample_text``). Cases: prompts '', 'c', 'ab', 'gad', 'e' with max_len 1 to 20 "
        'and temperatures 0.5 to 2, and five scripted models (part ``"stopping"``); hidden '
        "adds five more runs.",
        _text_cases,
        ("step_fn", "vocab", "prompt", "max_len", "temperature", "rng"),
        (Out("text", kind="str"),),
        lambda *args: reference("sample_text", *args),
        catalogue.SAMPLE_TEXT,
        parts=("shapes", "values", "stopping"),
        part_text={
            "shapes": "returns a str",
            "values": "the same text as the reference from the same generator",
            "stopping": "models that are sure of every next token, so only the prompt "
            "handling and the stops (at ``<eos>``, after ``max_len``) matter",
        },
        refuse=REFUSE_BUT_VOCAB,
        refuse_text="every rnncore function but the methods of ``vocab``",
        keep=("rng",),
        allow_files=("vocab.py",),
    ),
)

check_softmax_with_temperature, check_sample_next, check_sample_text = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
