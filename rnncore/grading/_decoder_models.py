"""Small decoders a beam search is graded on: ``step_fn(tokens, state) -> (log_probs, state)``.

They are the grader's own objects, in plain NumPy: at grading time the
student's ``beam_search`` runs in the sandbox and calls them back across the
process boundary (:mod:`rnncore.grading.sandbox`), so each checks what it is
given (token ids in range, a state with one row per hypothesis, at most
:data:`MAX_BEAM` rows) and raises a ``ValueError`` that names the argument.
Every model is a pure function of its arguments: the reference, the student and
each catalogued mistake can run it on the same case.

* :func:`rnn_model`: a small random RNN, its state an ndarray ``h`` (B, H) or a
  tuple ``(h, c)``; the next token depends on the whole prefix through the
  state, so a state given to the wrong hypothesis changes the result.
* :func:`prefix_model`: the state is the prefix itself (an int array (B, L),
  -1 past its end), and the log-probabilities are a random function of the
  prefix: a probability tree small enough to search exhaustively in the tests.
* :func:`table_model`: the next token depends on the last token only (a table,
  as chapter 11's model on which greedy decoding is provably wrong).
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

MAX_BEAM = 64  # more hypotheses than any case's beam: refused before any work is done


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)  # (B, V)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _tokens(tokens, V: int) -> np.ndarray:
    """``tokens`` as a 1-D int array of ids below V, or a ValueError for the student's code."""
    array = np.asarray(tokens) if isinstance(tokens, (np.ndarray, list, tuple)) else None
    if array is None or array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(
            "step_fn: tokens must be a 1-D integer array (B,) holding the last token of each "
            f"hypothesis, got {_what(tokens)}"
        )
    if not 1 <= array.size <= MAX_BEAM:
        raise ValueError(f"step_fn: tokens must hold 1 to {MAX_BEAM} ids, got {array.size}")
    if array.min() < 0 or array.max() >= V:
        raise ValueError(f"step_fn: token ids must lie in 0..{V - 1}, got {array.tolist()}")
    return array.astype(np.int64)


def _what(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def _rows(state, B: int, shape: tuple, kind: str) -> np.ndarray:
    """One array of the state: shape (B, *shape), as float or int."""
    if not isinstance(state, np.ndarray) or state.shape != (B, *shape):
        raise ValueError(
            f"step_fn: the state must be {kind} of shape {(B, *shape)} (one row per "
            f"hypothesis, B = {B} = len(tokens)), got {_what(state)}; pass the state step_fn "
            "returned, re-indexed by the parents"
        )
    if state.dtype.kind not in ("iu" if kind.startswith("an int") else "f"):
        raise ValueError(f"step_fn: the state must be {kind}, got dtype {state.dtype}")
    return state


def rnn_model(V: int, H: int, rng, *, pair=False, eos_id=1, eos_bias=0.0, scale=1.5):
    """A random RNN decoder, its state ``h`` or (``pair``) ``(h, c)``: (step_fn, state0)."""
    W_xh = rng.normal(0.0, 1.0, size=(V, H))
    W_hh = rng.normal(0.0, 0.6, size=(H, H))
    W_hq = rng.normal(0.0, scale, size=(H, V))
    b_q = np.zeros(V)
    b_q[eos_id] += eos_bias
    h0 = rng.normal(0.0, 0.5, size=(1, H))

    def step_fn(tokens, state):
        ids = _tokens(tokens, V)
        B = len(ids)
        if pair:
            if not isinstance(state, tuple) or len(state) != 2:
                raise ValueError(
                    f"step_fn: the state must be a tuple (h, c) of two arrays, got {_what(state)}"
                )
            h, c = (_rows(a, B, (H,), "a float array") for a in state)
            c = 0.5 * c + np.tanh(W_xh[ids] + h @ W_hh)  # (B, H)
            h = np.tanh(c)  # (B, H)
            return _log_softmax(h @ W_hq + b_q), (h, c)
        h = np.tanh(W_xh[ids] + _rows(state, B, (H,), "a float array") @ W_hh)  # (B, H)
        return _log_softmax(h @ W_hq + b_q), h

    return step_fn, ((h0, 0.5 * h0) if pair else h0)


def prefix_model(V: int, L: int, seed: int, *, eos_id=1, eos_bias=0.0, scale=2.0):
    """Log-probabilities a random function of the whole prefix; the state is the prefix.

    Returns (step_fn, state0): state0 is ``-1`` everywhere, shape (1, L); a
    prefix longer than L keeps its first L tokens (L > max_len: never here).
    """

    def step_fn(tokens, state):
        ids = _tokens(tokens, V)
        B = len(ids)
        history = _rows(state, B, (L,), "an int array")
        lengths = (history >= 0).sum(axis=1)  # (B,)
        new = history.copy()
        logits = np.empty((B, V))
        for b in range(B):
            prefix = [int(t) for t in history[b, : lengths[b]] if t >= 0] + [int(ids[b])]
            logits[b] = np.random.default_rng([seed, *prefix]).normal(0.0, scale, size=V)
            if lengths[b] < L:
                new[b, lengths[b]] = ids[b]
        logits[:, eos_id] += eos_bias
        return _log_softmax(logits), new

    return step_fn, np.full((1, L), -1, dtype=np.int64)


def table_model(probs):
    """Next-token probabilities ``probs[last]`` (V, V); the state (B, 1) is unused."""
    log_table = np.log(np.asarray(probs, dtype=np.float64))
    V = log_table.shape[0]

    def step_fn(tokens, state):
        ids = _tokens(tokens, V)
        return log_table[ids], _rows(state, len(ids), (1,), "a float array").copy()

    return step_fn, np.zeros((1, 1))


# Chapter 11's models, with 0 replaced by a small probability (every log-probability finite).
GREEDY_TRAP = (  # after <bos>: a 0.55, b 0.45; a hesitates, b is followed by <eos>
    (0.0, 0.0, 0.55, 0.45),
    (0.25, 0.25, 0.25, 0.25),
    (0.0, 0.5, 0.25, 0.25),
    (0.0, 0.9, 0.05, 0.05),
)
LIKES_TO_STOP = (  # <eos> at once 0.4; a, then a again 0.8
    (0.0, 0.4, 0.6, 0.0),
    (0.25, 0.25, 0.25, 0.25),
    (0.0, 0.2, 0.8, 0.0),
    (0.25, 0.25, 0.25, 0.25),
)


def finite(table, floor: float = 1e-3) -> np.ndarray:
    """``table`` with every 0 raised to ``floor`` and its rows renormalised.

    No two entries of a row stay equal: a tie would make the answer depend on how a
    search breaks ties, which the exercise does not grade.
    """
    probs = np.maximum(np.asarray(table, dtype=np.float64), floor)
    probs = probs + floor * np.arange(probs.shape[1]) / probs.shape[1]  # (V, V) distinct
    return probs / probs.sum(axis=1, keepdims=True)
