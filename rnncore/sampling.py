"""Sampling text from a language model: temperature, one draw, a whole continuation.

Taught in chapter 9, Character language models and sampling.

A language model gives logits over the vocabulary for the next token. Dividing
the logits by a *temperature* before the softmax reshapes the distribution:
temperature 1 keeps the model's own probabilities, a large temperature
flattens them towards uniform (more surprising text), and a small one
sharpens them towards the most likely token; as the temperature goes to 0 the
draw approaches greedy decoding (argmax). The temperature must stay positive.

Letters in shapes: V vocabulary size.
"""

from __future__ import annotations

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_positive, check_rng

__all__ = ["softmax_with_temperature", "sample_next", "sample_text"]


def _softmax_with_temperature(logits, temperature):
    # Shift before dividing: the largest entry becomes exactly 0, so a tiny
    # temperature sends the others to -inf (exp -> 0) instead of overflowing.
    with np.errstate(over="ignore"):  # -inf is the right answer for a hopeless token
        shifted = (logits - logits.max(axis=-1, keepdims=True)) / temperature  # (..., V) all <= 0
    exp = np.exp(shifted)  # (..., V) in [0, 1], the largest entry exactly 1
    return exp / exp.sum(axis=-1, keepdims=True)


def softmax_with_temperature(logits, temperature):
    """Probabilities ``softmax(logits / temperature)`` along the last axis.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    logits : ndarray of shape (..., V)
        Unnormalised scores of the next token.
    temperature : float
        Positive. 1 leaves the model's distribution unchanged; larger values
        flatten it towards uniform; smaller values concentrate it on the
        largest logit (the argmax in the limit temperature -> 0).

    Returns
    -------
    probs : ndarray of the same shape and dtype as logits
        Non-negative, summing to 1 along the last axis.
    """
    guard("softmax_with_temperature")
    check_positive("temperature", temperature)
    if isinstance(logits, np.ndarray) and logits.ndim == 0:
        raise ValueError("logits must have at least one axis (the V scores), got a 0-d array")
    check_array(
        "logits",
        logits,
        tuple(f"d{i}" for i in range(np.ndim(logits))),
        where="softmax_with_temperature",
    )
    return _softmax_with_temperature(logits, temperature).astype(logits.dtype, copy=False)


def _sample_next(logits, temperature, rng) -> int:
    # float64 probabilities: rng.choice checks that p sums to 1 within ~1e-8.
    probs = _softmax_with_temperature(logits.astype(np.float64), temperature)  # (V,)
    return int(rng.choice(logits.shape[0], p=probs))


def sample_next(logits, temperature, rng):
    """Draw the id of the next token from ``softmax(logits / temperature)``.

    The draw is exactly ``rng.choice(V, p=probs)`` with the probabilities in
    float64, so the same generator state always gives the same id.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    logits : ndarray of shape (V,)
        Scores of the next token.
    temperature : float
        Positive; see :func:`softmax_with_temperature`.
    rng : numpy.random.Generator
        Source of the draw; one call uses it once.

    Returns
    -------
    token_id : int
        In ``0 .. V-1``.
    """
    guard("sample_next")
    check_positive("temperature", temperature)
    check_array("logits", logits, ("V",), Sizes(), where="sample_next")
    check_rng(rng, "sample_next")
    return _sample_next(logits, temperature, rng)


def sample_text(step_fn, vocab, prompt, max_len, temperature, rng):
    """Continue ``prompt`` character by character until ``<eos>`` or ``max_len`` new ones.

    The model is fed the prompt's characters one at a time (starting from the
    state ``None``); the logits after the last one give the first new
    character, which is fed back in, and so on. An empty prompt starts from
    ``<eos>``, the token that precedes every name in the training stream of
    chapter 9. Each new token costs one call to :func:`sample_next` (so one
    use of ``rng``), the final ``<eos>`` included.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(token_id: int, state) -> (logits, state)`` with logits an
        ndarray of shape (V,) for the token after ``token_id``; ``state`` is
        ``None`` on the first call and whatever the previous call returned
        afterwards (see :func:`rnncore.lm_step_fn`).
    vocab : rnncore.Vocab
        Character vocabulary with an ``<eos>`` token; ``len(vocab) == V``.
    prompt : str
        The text to continue; every character must be in ``vocab``.
    max_len : int
        Most new characters to generate, at least 1.
    temperature : float
        Positive; see :func:`softmax_with_temperature`.
    rng : numpy.random.Generator

    Returns
    -------
    text : str
        ``prompt`` followed by the generated characters, without ``<eos>``.
    """
    guard("sample_text")
    where = "sample_text"
    if not callable(step_fn):
        raise TypeError(f"{where}: step_fn must be callable, got {type(step_fn).__name__}")
    if not hasattr(vocab, "token_to_idx") or not hasattr(vocab, "idx_to_token"):
        raise TypeError(f"{where}: vocab must be an rnncore.Vocab, got {type(vocab).__name__}")
    if not isinstance(prompt, str):
        raise TypeError(f"{where}: prompt must be a str, got {type(prompt).__name__}")
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)):
        raise TypeError(f"{where}: max_len must be an int, got {type(max_len).__name__}")
    if max_len < 1:
        raise ValueError(f"{where}: max_len must be at least 1, got {max_len}")
    check_positive("temperature", temperature)
    check_rng(rng, where)
    eos = vocab.eos  # raises a clear ValueError if the vocabulary has no <eos>
    for char in prompt:
        if char not in vocab.token_to_idx:
            raise ValueError(f"{where}: the prompt's character {char!r} is not in the vocabulary")

    V = len(vocab)
    prompt_ids = [vocab.token_to_idx[char] for char in prompt] or [eos]
    state = None
    for token_id in prompt_ids:  # only the last logits matter; the rest builds up the state
        logits, state = step_fn(token_id, state)
    generated = []
    for step in range(int(max_len)):
        check_array("logits", logits, (V,), where="sample_text (returned by step_fn)")
        token_id = _sample_next(logits, temperature, rng)
        if token_id == eos:
            break
        generated.append(vocab.idx_to_token[token_id])
        if step + 1 < max_len:  # the last token's successor is never needed
            logits, state = step_fn(token_id, state)
    return prompt + "".join(generated)
