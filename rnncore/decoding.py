"""Decoding a sequence model: greedy search and beam search with GNMT's length penalty.

Taught in chapter 11, Sequence to sequence and attention. Both searches talk to
the model through one function::

    step_fn(tokens, state) -> (log_probs, new_state)

``tokens`` of shape (B,) holds the last token of each of B hypotheses,
``log_probs`` of shape (B, V) the model's log-probabilities of the next token,
and ``state`` is an ndarray, or a tuple of ndarrays, whose leading axis is the
hypothesis (B). ``state0`` has leading size 1. Beam search re-indexes every
array of the state by the hypothesis each survivor came from (its parent), so
a step function never needs to know about beams.

A hypothesis ends when it emits ``eos_id`` (which it keeps as its last token)
or when it reaches ``max_len`` tokens. Its score is the sum of its
log-probabilities divided by the length penalty of Wu et al. (2016),
``((5 + |Y|) / 6) ** alpha``; ``alpha = 0`` gives the plain sum, which favours
short outputs because every extra token adds a negative term.

Letters in shapes: B hypotheses (beam), V vocabulary size.
"""

from __future__ import annotations

import numpy as np

from ._guard import guard
from ._validate import check_int, check_positive

__all__ = ["greedy_decode", "beam_search", "length_penalty"]


def length_penalty(length, alpha):
    """GNMT's length normaliser ``((5 + length) / 6) ** alpha`` (Wu et al. 2016).

    Taught in chapter 11, Sequence to sequence and attention. It is 1 for a
    one-token output whatever ``alpha``, and grows with the length, so dividing
    a (negative) log-probability by it favours longer outputs more as
    ``alpha`` grows.

    Parameters
    ----------
    length : int
        ``|Y|``, the number of generated tokens (EOS included).
    alpha : float
        Non-negative strength; 0 switches the penalty off.

    Returns
    -------
    penalty : float
    """
    guard("length_penalty")
    length = check_int("length", length, 0, "length_penalty")
    check_positive("alpha", alpha, allow_zero=True)
    return ((5 + length) / 6) ** float(alpha)


def _check_common(bos_id, eos_id, max_len, where):
    bos_id = check_int("bos_id", bos_id, 0, where)
    eos_id = check_int("eos_id", eos_id, 0, where)
    max_len = check_int("max_len", max_len, 1, where)
    return bos_id, eos_id, max_len


def _check_state(state, name, where):
    arrays = state if isinstance(state, tuple) else (state,)
    if not arrays or not all(isinstance(a, np.ndarray) and a.ndim >= 1 for a in arrays):
        raise TypeError(
            f"{where}: {name} must be an ndarray or a tuple of ndarrays whose leading axis is "
            f"the hypothesis, got {type(state).__name__}"
        )
    return {a.shape[0] for a in arrays}


def _check_state0(state0, where):
    if _check_state(state0, "state0", where) != {1}:
        raise ValueError(
            f"{where}: state0 must have leading size 1 (one hypothesis to start from); "
            "add an axis with state[None] if needed"
        )


def _reindex(state, parents):
    """Each survivor inherits the state of the hypothesis it extends."""
    if isinstance(state, tuple):
        return tuple(a[parents] for a in state)
    return state[parents]


def _call(step_fn, tokens, state, eos_id, bos_id, where):
    """One model step, with its output checked: (B, V) finite log-probabilities."""
    log_probs, new_state = step_fn(tokens, state)
    B = tokens.shape[0]
    if not isinstance(log_probs, np.ndarray) or log_probs.ndim != 2 or log_probs.shape[0] != B:
        shape = getattr(log_probs, "shape", type(log_probs).__name__)
        raise ValueError(
            f"{where}: step_fn returned log_probs of shape {shape} for {B} tokens; it must "
            f"return an ndarray of shape (B, V) = ({B}, V)"
        )
    V = log_probs.shape[1]
    if max(eos_id, bos_id) >= V:
        raise ValueError(
            f"{where}: eos_id {eos_id} and bos_id {bos_id} must be below the vocabulary size "
            f"V = {V} of step_fn's log_probs"
        )
    if np.isnan(log_probs).any() or (log_probs > 1e-6).any():
        raise ValueError(
            f"{where}: step_fn returned log_probs with NaN or positive entries; pass "
            "log-probabilities (log_softmax of the logits), not logits or probabilities"
        )
    if _check_state(new_state, "the state step_fn returned", where) != {B}:
        raise ValueError(f"{where}: step_fn's new state must have leading size B = {B}")
    return log_probs, new_state


def greedy_decode(step_fn, state0, bos_id, eos_id, max_len):
    """Decode by always taking the most probable next token.

    Taught in chapter 11, Sequence to sequence and attention. Greedy decoding
    is beam search with a beam of one; it can miss the most probable sequence
    when a likely first token leads only to unlikely continuations.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(tokens, state) -> (log_probs, new_state)``, see the module docstring.
    state0 : ndarray or tuple of ndarrays
        The model's state before the first token, leading size 1.
    bos_id : int
        The token fed first (beginning of sequence); not part of the output.
    eos_id : int
        The token that ends the output.
    max_len : int
        At most this many tokens are generated.

    Returns
    -------
    tokens : list of int
        The generated ids without BOS, ending with ``eos_id`` if it was generated.
    logprob : float
        The sum of the chosen tokens' log-probabilities.
    """
    guard("greedy_decode")
    where = "greedy_decode"
    _check_callable(step_fn, where)
    bos_id, eos_id, max_len = _check_common(bos_id, eos_id, max_len, where)
    _check_state0(state0, where)
    tokens, logprob, state, last = [], 0.0, state0, bos_id
    for _ in range(max_len):
        log_probs, state = _call(step_fn, np.array([last]), state, eos_id, bos_id, where)
        last = int(np.argmax(log_probs[0]))  # the first of equally likely tokens
        logprob += float(log_probs[0, last])
        tokens.append(last)
        if last == eos_id:
            break
    return tokens, logprob


def _check_callable(step_fn, where):
    if not callable(step_fn):
        raise TypeError(f"{where}: step_fn must be callable, got {type(step_fn).__name__}")


def beam_search(step_fn, state0, bos_id, eos_id, beam_width, max_len, length_penalty=0.0):
    """Keep the ``beam_width`` most probable partial outputs at every step.

    At each step every live hypothesis is extended by every token; of these
    candidates the ``k`` with the highest log-probability survive, where ``k``
    is ``beam_width`` minus the number of hypotheses already finished (all
    candidates have the same length, so the length penalty cannot change this
    ranking). A survivor ending in ``eos_id`` is finished and never extended
    again; the others continue, each with the state of its parent. At
    ``max_len`` the live hypotheses end where they are. Finished hypotheses
    are ranked by their score, ``sum of log-probabilities / ((5 + |Y|) / 6) **
    length_penalty`` (Wu et al. 2016), computed once, on the whole output.

    With ``beam_width`` at least the number of possible outputs nothing is ever
    pruned and the first result is the best output exactly; with
    ``beam_width=1`` the result is :func:`greedy_decode`'s. Taught in chapter
    11, Sequence to sequence and attention.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(tokens, state) -> (log_probs, new_state)``: tokens of shape
        (B,), log_probs of shape (B, V), state with leading axis B.
    state0 : ndarray or tuple of ndarrays
        State before the first token, leading size 1.
    bos_id : int
        The first input token; not part of the outputs.
    eos_id : int
        The end token.
    beam_width : int
        Hypotheses kept, at least 1.
    max_len : int
        Longest output, in tokens.
    length_penalty : float
        GNMT's alpha, non-negative (0.6 to 1.0 in their experiments).

    Returns
    -------
    results : list of (tokens, score)
        At most ``beam_width`` finished hypotheses, best score first: tokens a
        list of int (no BOS; ending with ``eos_id`` when it was generated),
        score a float.
    """
    guard("beam_search")
    where = "beam_search"
    _check_callable(step_fn, where)
    bos_id, eos_id, max_len = _check_common(bos_id, eos_id, max_len, where)
    beam_width = check_int("beam_width", beam_width, 1, where)
    check_positive("length_penalty", length_penalty, allow_zero=True)
    _check_state0(state0, where)
    alpha = float(length_penalty)

    live = [[]]  # token lists of the live hypotheses
    live_logprob = np.zeros(1)  # (B,)
    last, state = np.array([bos_id]), state0
    finished = []  # (tokens, summed log-probability)
    for _ in range(max_len):
        log_probs, state = _call(step_fn, last, state, eos_id, bos_id, where)
        B, V = log_probs.shape
        candidates = (live_logprob[:, None] + log_probs).reshape(B * V)  # (B*V,) b-major order
        keep = beam_width - len(finished)
        # stable sort: among equal scores the lower (parent, token) wins, as np.argmax does
        best = np.argsort(-candidates, kind="stable")[:keep]
        best = best[np.isfinite(candidates[best])]  # probability 0: not a hypothesis at all
        parents, words = best // V, best % V
        survivors = []
        for b, w, total in zip(parents, words, candidates[best]):
            tokens = live[b] + [int(w)]
            if w == eos_id:
                finished.append((tokens, float(total)))  # never extended past EOS
            else:
                survivors.append((int(b), tokens, float(total)))
        if not survivors:
            break
        live = [tokens for _, tokens, _ in survivors]
        live_logprob = np.array([total for _, _, total in survivors])
        index = np.array([b for b, _, _ in survivors])
        last, state = np.array([tokens[-1] for tokens in live]), _reindex(state, index)
    else:
        finished.extend(zip(live, live_logprob.tolist()))  # max_len reached: they end here

    scored = [(tokens, total / ((5 + len(tokens)) / 6) ** alpha) for tokens, total in finished]
    scored.sort(key=lambda item: -item[1])  # stable: ties keep the order they finished in
    return scored
