"""Training and decoding the encoder-decoder of :mod:`rnncore.seq2seq`.

Taught in chapter 11, Sequence to sequence and attention. Training draws a
fresh padded batch every step and runs the update loop of
:mod:`rnncore.training` (optimisers, clipping by global norm, a tqdm progress
bar, the same history); decoding wraps one encoded source in a step function
for :func:`rnncore.greedy_decode` and :func:`rnncore.beam_search`.

Letters in shapes: T_s source positions, B hypotheses, V_t target vocabulary
size, E encoder state size.
"""

from __future__ import annotations

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_choice, check_ids, check_int, check_positive, check_rng
from .decoding import beam_search, greedy_decode
from .encoder import _encoder_forward
from .functional import _log_softmax
from .layers import embedding_forward
from .recurrent import CELLS
from .seq2seq import _ATTENTION, _cell_forward, _check_batch, _check_targets, _seq2seq_loss
from .seq2seq_params import _check_model, _sub
from .tasks_seq2seq import BOS_ID, EOS_ID
from .training import OPTIMIZERS, _fit

__all__ = ["train_seq2seq", "seq2seq_step_fn", "translate"]


def seq2seq_step_fn(params, src_ids, cell="gru"):
    """Encode one source sequence and return a step function for :mod:`rnncore.decoding`.

    The state carries the decoder's state and the encoder's states (batch
    first, so that beam search can re-index them by hypothesis). Taught in
    chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    params : dict
        From :func:`init_seq2seq_params` (or training).
    src_ids : ndarray of shape (T_s,), integer
        One source sequence, no padding.
    cell : {"rnn", "gru", "lstm"}

    Returns
    -------
    step_fn : callable
        ``step_fn(tokens, state) -> (log_probs, new_state)``, tokens of shape
        (B,), log_probs of shape (B, V_t).
    state0 : tuple of ndarrays
        Leading size 1: ``(s, [c,] H_enc, summary)`` with ``H_enc`` of shape
        (1, T_s, E).
    """
    guard("seq2seq_step_fn")
    where = "seq2seq_step_fn"
    sizes, kind, bidirectional = _check_model(params, cell, where)
    check_ids("src_ids", src_ids, sizes["V_s"], ("T_s",), sizes, where=where)
    ids = src_ids[:, None]  # (T_s, 1)
    X, _ = embedding_forward(ids, params["src_embed.W"])
    lengths = np.array([len(src_ids)])
    H_enc, summary, _ = _encoder_forward(X, lengths, _sub(params, "enc."), cell, bidirectional)
    s0 = np.tanh(summary @ params["bridge.W"] + params["bridge.b"])  # (1, S)
    decoder_state = (s0, np.zeros_like(s0)) if cell == "lstm" else (s0,)
    state0 = decoder_state + (H_enc.transpose(1, 0, 2).copy(), summary)  # H_enc (1, T_s, E)
    dec, att, V_t = _sub(params, "dec."), _sub(params, "att."), sizes["V_t"]
    W_tgt, W_out, b_out = params["tgt_embed.W"], params["out.W"], params["out.b"]

    def step_fn(tokens, state):
        check_ids("tokens", tokens, V_t, ("B",), where="seq2seq step_fn")
        *decoder, H_bf, summary = state
        if kind is None:
            context = summary  # (B, E)
        else:
            H = H_bf.transpose(1, 0, 2)  # (T_s, B, E) time-major again
            context, _, _ = _ATTENTION[kind][0](decoder[0], H, att)
        x = np.concatenate([W_tgt[tokens], context], axis=1)  # (B, M + E)
        decoder, _ = _cell_forward(cell, x, tuple(decoder), dec)
        logits = np.concatenate([decoder[0], context], axis=1) @ W_out + b_out  # (B, V_t)
        return _log_softmax(logits, axis=-1), decoder + (H_bf, summary)

    return step_fn, state0


def translate(params, sources, cell="gru", beam_width=1, max_len=None, length_penalty=0.0):
    """Decode each source with greedy search (``beam_width=1``) or beam search.

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    params : dict
        From :func:`init_seq2seq_params` (or training).
    sources : list of list of int
        Source id sequences, each non-empty.
    cell : {"rnn", "gru", "lstm"}
    beam_width : int
        1 for greedy decoding.
    max_len : int, optional
        Longest output; default twice the source's length plus 2.
    length_penalty : float
        GNMT's alpha for beam search.

    Returns
    -------
    outputs : list of list of int
        The best output of each source, without its final ``EOS_ID``.
    """
    guard("translate")
    where = "translate"
    beam_width = check_int("beam_width", beam_width, 1, where)
    if max_len is not None:
        max_len = check_int("max_len", max_len, 1, where)
    outputs = []
    for source in sources:
        step_fn, state0 = seq2seq_step_fn(params, np.asarray(source, dtype=np.int64), cell)
        limit = 2 * len(source) + 2 if max_len is None else max_len
        if beam_width == 1:
            tokens, _ = greedy_decode(step_fn, state0, BOS_ID, EOS_ID, limit)
        else:
            results = beam_search(
                step_fn, state0, BOS_ID, EOS_ID, beam_width, limit, length_penalty
            )
            tokens = results[0][0]
        outputs.append(tokens[:-1] if tokens and tokens[-1] == EOS_ID else tokens)
    return outputs


def train_seq2seq(
    params,
    make_batch,
    cell="gru",
    *,
    steps,
    lr,
    rng,
    clip=5.0,
    optimizer="adam",
    progress=True,
    callback=None,
):
    """Train an encoder-decoder with teacher forcing on a fresh batch every step.

    Every step draws ``batch = make_batch(rng)``, computes the masked mean
    cross-entropy per target token (:func:`seq2seq_loss`), clips the gradients
    to a global norm of ``clip`` and takes one optimiser step, in the loop of
    :mod:`rnncore.training`. Taught in chapter 11, Sequence to sequence and
    attention.

    Parameters
    ----------
    params : dict
        From :func:`init_seq2seq_params`; not modified.
    make_batch : callable
        ``make_batch(rng) -> Seq2SeqBatch`` (or the same five arrays as a
        tuple), e.g. ``lambda rng: seq2seq_batch("reverse", 32, 3, 8, 10, rng)``.
    cell : {"rnn", "gru", "lstm"}
    steps : int
    lr : float
    rng : numpy.random.Generator
        Passed to ``make_batch``.
    clip : float or None
        Maximum global gradient norm; None disables clipping.
    optimizer : {"adam", "sgd", "adagrad"}
    progress : bool
        Show a tqdm progress bar.
    callback : callable, optional
        ``callback(step, params, history)`` every 50 steps and after the last.

    Returns
    -------
    params : dict
        The trained parameters (new arrays).
    history : dict of lists
        ``"train_loss"`` and ``"grad_norm"`` (before clipping) per step,
        ``"seconds"`` the wall time.
    """
    guard("train_seq2seq")
    where = "train_seq2seq"
    check_choice("cell", cell, CELLS)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if not callable(make_batch):
        raise TypeError(f"{where}: make_batch must be callable, got {type(make_batch).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"{where}: callback must be callable, got {type(callback).__name__}")
    steps = check_int("steps", steps, 1, where)
    check_positive("lr", lr)
    if clip is not None:
        check_positive("clip", clip)
    check_rng(rng, where)
    sizes, kind, bidirectional = _check_model(params, cell, where)

    def batch_loss(step, params, rng):
        batch = make_batch(rng)
        if not (isinstance(batch, tuple) and len(batch) == 5):
            raise TypeError(
                f"{where}: make_batch must return a Seq2SeqBatch (src_ids, src_mask, tgt_in, "
                f"tgt_out, tgt_mask), got {type(batch).__name__}"
            )
        src_ids, src_mask, tgt_in, tgt_out, tgt_mask = batch
        batch_sizes = Sizes(V_s=sizes["V_s"], V_t=sizes["V_t"])  # lengths vary batch to batch
        keep, lengths = _check_batch(src_ids, src_mask, tgt_in, batch_sizes, where)
        _check_targets(tgt_out, tgt_mask, batch_sizes, where)
        return _seq2seq_loss(
            src_ids, keep, lengths, tgt_in, tgt_out, tgt_mask, params, cell, kind, bidirectional
        )

    return _fit(params, batch_loss, steps, lr, rng, clip, optimizer, progress, "loss", callback)
