"""Minibatches of a long token stream: sequential or random partitioning, fixed or random length.

Taught in chapter 10, Training RNNs in practice, after d2l's treatment of the
two ways to cut a stream of L tokens into windows of T steps for N parallel
sequences:

* **sequential**: the stream (after a random offset) is cut into N contiguous
  pieces, one per batch column, read window after window. Column n of a
  window continues column n of the previous one, so the final state of one
  window is the right initial state of the next (``carry_state`` is True
  from the second window on); gradients still stop at the window border.
* **random**: the stream is cut into windows of T tokens, which are shuffled
  and dealt out N at a time. Neighbouring windows in a batch are unrelated,
  so every window starts from a zero state (``carry_state`` is always False).

With ``random_lengths=True`` (sequential only) every position ends a window
with probability 1/T, so window lengths are geometric with mean T: the
randomised truncation of Tallec & Ollivier (2017), which removes the fixed
horizon beyond which truncated BPTT never looks. (Their method also rescales
gradients to make them unbiased; that compensation is not done here.)

Letters in shapes: L stream length, T window length, N batch size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import check_choice, check_ids, check_int, check_rng

__all__ = ["StreamBatch", "PARTITIONS", "stream_minibatches"]

PARTITIONS = ("sequential", "random")


class StreamBatch(NamedTuple):
    """One window of a stream, for truncated BPTT."""

    ids_in: np.ndarray  # (T, N) inputs
    ids_target: np.ndarray  # (T, N) the next token of each input
    carry_state: bool  # True: start from the previous window's final state


def _stream_columns(ids, batch_size, offset):
    """The stream after ``offset`` cut into N contiguous columns, inputs and next tokens.

    Returns two arrays of shape (P, N), P = (L - 1 - offset) // N predictions per column;
    the few tokens that do not fill the columns evenly are dropped. Chapter 9's
    ``lm_batches`` reads its windows from the same columns.
    """
    per_stream = (len(ids) - 1 - offset) // batch_size  # predictions per column
    stop = offset + per_stream * batch_size
    inputs = ids[offset:stop].reshape(batch_size, per_stream).T  # (P, N)
    targets = ids[offset + 1 : stop + 1].reshape(batch_size, per_stream).T  # (P, N)
    return inputs, targets


def _sequential(ids, seq_len, batch_size, offset, random_lengths, rng):
    inputs, targets = _stream_columns(ids, batch_size, offset)
    per_stream = len(inputs)
    start, first = 0, True
    while start < per_stream:
        if random_lengths:
            length = int(rng.geometric(1 / seq_len))  # >= 1, mean seq_len
        else:
            length = seq_len
            if start + length > per_stream:  # a short last window is dropped
                return
        stop_t = min(start + length, per_stream)
        yield StreamBatch(inputs[start:stop_t], targets[start:stop_t], not first)
        start, first = stop_t, False


def _random(ids, seq_len, batch_size, offset, rng):
    count = (len(ids) - 1 - offset) // seq_len  # whole windows after the offset
    starts = offset + seq_len * rng.permutation(count)  # (count,) shuffled
    steps = np.arange(seq_len)[:, None]  # (T, 1)
    for k in range(0, count - batch_size + 1, batch_size):
        chosen = starts[k : k + batch_size][None, :]  # (1, N)
        yield StreamBatch(ids[chosen + steps], ids[chosen + steps + 1], False)


def stream_minibatches(
    ids, seq_len, batch_size, rng, partition="sequential", random_offset=True, random_lengths=False
):
    """Windows of a long id stream for truncated BPTT, each saying whether to carry the state.

    Taught in chapter 10, Training RNNs in practice. One call reads the
    stream once (an epoch); a random offset in ``0 .. seq_len - 1`` shows the
    model different window borders each epoch. A training loop reads::

        state = None
        for ids_in, ids_target, carry in stream_minibatches(ids, 35, 32, rng):
            loss, grads, state = lm_loss(ids_in, ids_target, params, cell,
                                         state if carry else None)

    Parameters
    ----------
    ids : ndarray of shape (L,), integer
    seq_len : int
        T, or the mean window length with ``random_lengths``.
    batch_size : int
        N.
    rng : numpy.random.Generator
        Draws the offset, the shuffle and the lengths.
    partition : {"sequential", "random"}
    random_offset : bool
        Skip a random number of tokens (fewer than T) at the start.
    random_lengths : bool
        Geometric window lengths of mean T (sequential partitioning only).

    Returns
    -------
    batches : iterator of StreamBatch
        ``ids_in`` and ``ids_target`` of shape (T, N) (T varies with
        ``random_lengths``), and ``carry_state``.
    """
    guard("stream_minibatches")
    where = "stream_minibatches"
    check_ids("ids", ids, spec=("L",), where=where)
    seq_len = check_int("seq_len", seq_len, 1, where)
    batch_size = check_int("batch_size", batch_size, 1, where)
    check_rng(rng, where)
    check_choice("partition", partition, PARTITIONS)
    if random_lengths and partition == "random":
        raise ValueError(f"{where}: random_lengths needs partition='sequential'")
    if len(ids) < seq_len * batch_size + 1:
        raise ValueError(
            f"{where}: ids has {len(ids)} tokens, fewer than seq_len * batch_size + 1 = "
            f"{seq_len * batch_size + 1} needed for one batch"
        )
    spare = len(ids) - 1 - seq_len * batch_size  # tokens an offset may skip
    offset = int(rng.integers(0, min(seq_len - 1, spare) + 1)) if random_offset else 0
    if partition == "random":
        return _random(ids, seq_len, batch_size, offset, rng)
    return _sequential(ids, seq_len, batch_size, offset, bool(random_lengths), rng)
