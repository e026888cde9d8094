"""Typical wrong beam searches (exercise 11; chapter 11, Sequence to sequence and attention)."""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _penalty(length, alpha):
    guard("_penalty")
    return ((5 + length) / 6) ** alpha


def _beam(
    step_fn,
    state0,
    bos_id,
    eos_id,
    beam_width,
    max_len,
    alpha=0.0,
    *,
    reindex=True,
    stop_at_eos=True,
    per_step=False,
    over_all=True,
    with_bos=False,
    with_eos=True,
    probs=False,
    ranked=True,
    shrink=True,
):
    guard("_beam")
    live = [[]]  # token lists of the live hypotheses
    totals = np.zeros(1)  # (B,) their summed log-probabilities
    last, state, finished = np.array([bos_id]), state0, []
    for step in range(max_len):
        log_probs, state = step_fn(last, state)
        log_probs = np.asarray(log_probs, dtype=np.float64)  # (B, V)
        B, V = log_probs.shape
        gain = np.exp(log_probs) if probs else log_probs
        candidates = totals[:, None] + gain  # (B, V)
        if per_step:
            candidates = candidates / _penalty(step + 1, alpha)
        flat = candidates.reshape(B * V)
        k = beam_width - len(finished) if shrink else beam_width
        if over_all or B == 1:
            best = np.argsort(-flat, kind="stable")[:k]
        else:  # each hypothesis keeps its own best token
            best = (np.arange(B) * V + np.argmax(candidates, axis=1))[:k]
        survivors = []
        for index in best:
            b, w = divmod(int(index), V)
            tokens = live[b] + [w]
            if w == eos_id and stop_at_eos:
                finished.append((tokens, float(flat[index])))
            else:
                survivors.append((b, tokens, float(flat[index])))
        if not survivors or (not shrink and len(finished) >= beam_width):
            break
        live = [tokens for _, tokens, _ in survivors]
        totals = np.array([total for _, _, total in survivors])
        parents = np.array([b for b, _, _ in survivors])
        if not reindex:  # position i keeps the state of whoever sat at position i before
            parents = np.minimum(np.arange(len(survivors)), B - 1)
        last = np.array([tokens[-1] for tokens in live])
        state = tuple(a[parents] for a in state) if isinstance(state, tuple) else state[parents]
    else:
        finished += list(zip(live, totals.tolist()))  # max_len reached
    results = []
    for tokens, total in finished:
        score = total if per_step else total / _penalty(len(tokens), alpha)
        if not with_eos and tokens[-1] == eos_id:
            tokens = tokens[:-1]
        results.append(([bos_id] + tokens if with_bos else tokens, score))
    if ranked:
        results.sort(key=lambda item: -item[1])
    return results[:beam_width] if not shrink else results


def solution_beam_search(step_fn, state0, bos_id, eos_id, beam_width, max_len, length_penalty=0.0):
    guard("solution_beam_search")
    return _beam(step_fn, state0, bos_id, eos_id, beam_width, max_len, length_penalty)


def _m(**kw):
    guard("_m")
    return lambda f, s, bos, eos, k, n, alpha=0.0: _beam(f, s, bos, eos, k, n, alpha, **kw)


BEAM_SEARCH = (
    Mistake(
        "the state not re-indexed by each survivor's parent (a hypothesis got the state of "
        "whoever sat at its position before); index every array of the state with the parents",
        11,
        _m(reindex=False),
    ),
    Mistake(
        "finished hypotheses extended past <eos>; a hypothesis that emits eos_id is set "
        "aside and never extended again",
        11,
        _m(stop_at_eos=False),
    ),
    Mistake(
        "the length penalty applied at every step; divide the summed log-probability of a "
        "finished hypothesis by lp(|Y|) once, at the end",
        11,
        _m(per_step=True),
    ),
    Mistake(
        "the best k taken within each hypothesis (each keeps its own best token) instead of "
        "over all B·V candidates together",
        11,
        _m(over_all=False),
    ),
    Mistake("BOS included in the output tokens", 11, _m(with_bos=True)),
    Mistake("eos_id dropped from the end of the output tokens", 11, _m(with_eos=False)),
    Mistake(
        "probabilities summed instead of log-probabilities (the score of a hypothesis is "
        "the sum of the log-probabilities of its tokens)",
        11,
        _m(probs=True),
    ),
    Mistake(
        "the results returned in the order they finished, not sorted by score",
        11,
        _m(ranked=False),
    ),
    Mistake(
        "beam_width hypotheses kept alive after some finished; the beam keeps beam_width "
        "minus the number already finished",
        11,
        _m(shrink=False),
    ),
)
