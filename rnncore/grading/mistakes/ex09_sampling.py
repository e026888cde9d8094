"""Typical wrong temperature softmaxes and samplers (exercise 9; chapter 9)."""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _softmax(z):
    guard("_softmax")
    exp = np.exp(z - z.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def solution_softmax_with_temperature(logits, temperature):
    guard("solution_softmax_with_temperature")
    return _softmax(logits / temperature)


SOFTMAX_WITH_TEMPERATURE = (
    Mistake(
        "the logits multiplied by the temperature; divide them by it",
        9,
        lambda z, T: _softmax(z * T),
    ),
    Mistake("the temperature ignored", 9, lambda z, T: _softmax(z)),
    Mistake(
        "softmax without subtracting the maximum (z / T overflows exp at low temperature)",
        9,
        lambda z, T: np.exp(z / T) / np.exp(z / T).sum(axis=-1, keepdims=True),
    ),
    Mistake(
        "the probabilities divided by the temperature; divide the logits before the softmax",
        9,
        lambda z, T: _softmax(z) / T,
    ),
    Mistake(
        "softmax(z) ** (1 / T) without normalising again (rows must sum to 1)",
        9,
        lambda z, T: _softmax(z) ** (1 / T),
    ),
)


def solution_sample_next(logits, temperature, rng):
    guard("solution_sample_next")
    probs = _softmax(logits / temperature)  # (V,)
    return int(rng.choice(len(probs), p=probs))


SAMPLE_NEXT = (
    Mistake(
        "the most likely token taken (greedy argmax) instead of a random draw",
        9,
        lambda z, T, rng: int(np.argmax(z)),
    ),
    Mistake(
        "NumPy's global generator (np.random) used instead of rng; draw with "
        "rng.choice(V, p=probs)",
        9,
        lambda z, T, rng: int(np.random.choice(len(z), p=_softmax(z / T))),
    ),
    Mistake("the temperature ignored", 9, lambda z, T, rng: int(rng.choice(len(z), p=_softmax(z)))),
    Mistake(
        "the logits multiplied by the temperature; divide them by it",
        9,
        lambda z, T, rng: int(rng.choice(len(z), p=_softmax(z * T))),
    ),
    Mistake(
        "a token drawn uniformly at random, ignoring the probabilities",
        9,
        lambda z, T, rng: int(rng.integers(len(z))),
    ),
)


def _text(
    step_fn,
    vocab,
    prompt,
    max_len,
    temperature,
    rng,
    keep_prompt=True,
    eos_text=False,
    stop=True,
    reset=False,
    last_only=False,
    greedy=False,
    count_prompt=False,
):
    guard("_text")
    eos = vocab.token_to_idx["<eos>"]
    ids = [vocab.token_to_idx[ch] for ch in prompt] or [eos]
    state = None
    for token_id in ids[-1:] if last_only else ids:
        logits, state = step_fn(token_id, None if reset else state)
    out = []
    budget = max_len - len(prompt) if count_prompt else max_len
    for _ in range(budget):
        token_id = (
            int(np.argmax(logits)) if greedy else solution_sample_next(logits, temperature, rng)
        )
        if token_id == eos and stop:
            out.append("<eos>" if eos_text else "")
            break
        if token_id != eos:
            out.append(vocab.idx_to_token[token_id])
        logits, state = step_fn(token_id, None if reset else state)
    return (prompt if keep_prompt else "") + "".join(out)


def solution_sample_text(step_fn, vocab, prompt, max_len, temperature, rng):
    guard("solution_sample_text")
    return _text(step_fn, vocab, prompt, max_len, temperature, rng)


def _m(**kw):
    guard("_m")
    return lambda *args: _text(*args, **kw)


SAMPLE_TEXT = (
    Mistake(
        "the prompt left out of the returned text (return prompt + the new characters)",
        9,
        _m(keep_prompt=False),
    ),
    Mistake("'<eos>' written into the text; stop before it", 9, _m(eos_text=True)),
    Mistake("generation not stopped at <eos>", 9, _m(stop=False)),
    Mistake(
        "the state reset to None at every step; pass the state step_fn returned back in",
        9,
        _m(reset=True),
    ),
    Mistake(
        "only the prompt's last character fed to the model; feed all of them, in order",
        9,
        _m(last_only=True),
    ),
    Mistake(
        "the most likely token taken (greedy argmax) instead of a draw with sample_next",
        9,
        _m(greedy=True),
    ),
    Mistake(
        "max_len counted with the prompt; it counts the new characters only",
        9,
        _m(count_prompt=True),
    ),
)
