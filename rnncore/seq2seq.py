"""An encoder-decoder with attention over padded batches of token ids, forward and backward.

Taught in chapter 11, Sequence to sequence and attention. The model of
Bahdanau, Cho & Bengio (2015), with any recurrent cell::

    X = src_embed[src_ids]                                   (T_s, N, M)
    H_enc, summary = encoder(X, src_mask)                     (T_s, N, E), (N, E)
    s_0 = tanh(summary W_bridge + b_bridge)                   (N, S)
    for every target step t (teacher forcing: the input is the true previous token):
        context_t, alpha_t = attention(s_{t-1}, H_enc, src_mask)      (N, E), (N, T_s)
        s_t = cell([tgt_embed[tgt_in[t]], context_t], s_{t-1})        (N, S)
        logits_t = [s_t, context_t] W_out + b_out                      (N, V)

Without attention (``attention=None``) every step's context is the encoder's
``summary``: the fixed-size bottleneck of Cho et al. (2014). Parameters live in
one flat dict: ``src_embed.W``, ``tgt_embed.W``, ``enc.fwd.*`` (and
``enc.bwd.*``), ``bridge.W``, ``bridge.b``, ``att.*``, ``dec.*``, ``out.W``,
``out.b``; the kind of attention and the encoder's directions are read from
the keys (:mod:`rnncore.seq2seq_params`). Training lives in
:mod:`rnncore.seq2seq_train`.

Letters in shapes: T_s source and T_t target positions, N batch size, M
embedding size, E encoder state size, S decoder state size, A attention size,
V_s and V_t the vocabulary sizes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_ids, check_shape
from .attention import additive_attention_backward, additive_attention_forward
from .attention_multiplicative import general_attention_backward, general_attention_forward
from .encoder import _encoder_backward, _encoder_forward, check_prefix_mask
from .functional import sequence_loss
from .gru_cell import gru_cell_backward, gru_cell_forward
from .layers import affine_backward, affine_forward, embedding_backward, embedding_forward
from .lstm_cell import lstm_cell_backward, lstm_cell_forward
from .rnn_cell import rnn_cell_backward, rnn_cell_forward
from .seq2seq_params import _check_model, _sub

__all__ = [
    "seq2seq_forward",
    "seq2seq_backward",
    "seq2seq_loss",
]

_ATTENTION = {
    "additive": (additive_attention_forward, additive_attention_backward),
    "general": (general_attention_forward, general_attention_backward),
}


class Seq2SeqCache(NamedTuple):
    """What :func:`seq2seq_backward` needs from :func:`seq2seq_forward`."""

    cell: str
    attention: str | None
    src_embed: tuple  # EmbeddingCache
    tgt_embed: tuple  # EmbeddingCache
    encoder: tuple  # EncoderCache
    summary: np.ndarray  # (N, E)
    s0: np.ndarray  # (N, S) tanh of the bridge
    bridge_W: np.ndarray  # (E, S)
    steps: list  # per target step: (attention cache or None, cell cache)
    out: tuple  # AffineCache of the output layer
    embed_size: int  # M, where the context starts in the decoder's input
    logits_shape: tuple  # (T_t, N, V_t)


def _cell_forward(cell, x, state, p):
    if cell == "lstm":
        h, c, cache = lstm_cell_forward(x, state[0], state[1], p)
        return (h, c), cache
    if cell == "gru":
        h, cache = gru_cell_forward(x, state[0], p, reset_after="b_hn" in p)
    else:
        h, cache = rnn_cell_forward(x, state[0], p)
    return (h,), cache


def _cell_backward(cell, dstate, cache):
    if cell == "lstm":
        dx, dh, dc, grads = lstm_cell_backward(dstate[0], dstate[1], cache)
        return dx, (dh, dc), grads
    backward = gru_cell_backward if cell == "gru" else rnn_cell_backward
    dx, dh, grads = backward(dstate[0], cache)
    return dx, (dh,), grads


def _check_batch(src_ids, src_mask, tgt_in, sizes, where):
    check_ids("src_ids", src_ids, sizes["V_s"], ("T_s", "N"), sizes, where=where)
    keep, lengths = check_prefix_mask(src_mask, sizes, where, name="src_mask")
    check_ids("tgt_in", tgt_in, sizes["V_t"], ("T_t", "N"), sizes, where=where)
    return keep, lengths


def _check_targets(tgt_out, tgt_mask, sizes, where):
    """tgt_out (T_t, N) ids and tgt_mask (T_t, N), named as the caller named them."""
    check_ids("tgt_out", tgt_out, sizes["V_t"], ("T_t", "N"), sizes, where=where)
    if not isinstance(tgt_mask, np.ndarray):
        raise TypeError(
            f"{where}: tgt_mask must be a NumPy array of shape (T_t, N) holding True/False, "
            f"got {type(tgt_mask).__name__}"
        )
    check_shape("tgt_mask", tgt_mask.shape, ("T_t", "N"), sizes, where=where)


def _seq2seq_forward(src_ids, keep, lengths, tgt_in, params, cell, kind, bidirectional):
    X, src_cache = embedding_forward(src_ids, params["src_embed.W"])  # (T_s, N, M)
    H_enc, summary, enc_cache = _encoder_forward(
        X, lengths, _sub(params, "enc."), cell, bidirectional
    )
    s0 = np.tanh(summary @ params["bridge.W"] + params["bridge.b"])  # (N, S)
    Y, tgt_cache = embedding_forward(tgt_in, params["tgt_embed.W"])  # (T_t, N, M)
    T_t, N, M = Y.shape
    state = (s0, np.zeros_like(s0)) if cell == "lstm" else (s0,)
    dec, att = _sub(params, "dec."), _sub(params, "att.")
    outputs, alphas, steps = [], [], []
    for t in range(T_t):
        if kind is None:
            context, att_cache = summary, None  # the fixed-size bottleneck
        else:
            context, alpha, att_cache = _ATTENTION[kind][0](state[0], H_enc, att, keep)
            alphas.append(alpha)  # (N, T_s)
        x = np.concatenate([Y[t], context], axis=1)  # (N, M + E)
        state, cell_cache = _cell_forward(cell, x, state, dec)
        outputs.append(np.concatenate([state[0], context], axis=1))  # (N, S + E)
        steps.append((att_cache, cell_cache))
    O = np.stack(outputs)  # (T_t, N, S + E)
    logits, out_cache = affine_forward(O, params["out.W"], params["out.b"])  # (T_t, N, V_t)
    alphas = np.stack(alphas) if alphas else None  # (T_t, N, T_s)
    cache = Seq2SeqCache(
        cell,
        kind,
        src_cache,
        tgt_cache,
        enc_cache,
        summary,
        s0,
        params["bridge.W"],
        steps,
        out_cache,
        M,
        logits.shape,
    )
    return logits, alphas, cache


def seq2seq_forward(src_ids, src_mask, tgt_in, params, cell="gru"):
    """Logits of every target token under teacher forcing, and the attention weights.

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    src_ids : ndarray of shape (T_s, N), integer
        Source tokens, padded at the end (any valid id at padding).
    src_mask : ndarray of shape (T_s, N), bool or 0/1
        True at real source positions, which come first in every column.
    tgt_in : ndarray of shape (T_t, N), integer
        Decoder inputs: BOS followed by the target shifted right.
    params : dict
        From :func:`init_seq2seq_params`.
    cell : {"rnn", "gru", "lstm"}

    Returns
    -------
    logits : ndarray of shape (T_t, N, V_t)
        ``logits[t]`` scores the target token that follows ``tgt_in[t]``.
    alphas : ndarray of shape (T_t, N, T_s), or None without attention
        Attention weights of every step (0 at padding): ``alphas[:, n]`` is
        sequence n's alignment matrix, target by source.
    cache : Seq2SeqCache
        Opaque; pass it to :func:`seq2seq_backward`.
    """
    guard("seq2seq_forward")
    where = "seq2seq_forward"
    sizes, kind, bidirectional = _check_model(params, cell, where)
    keep, lengths = _check_batch(src_ids, src_mask, tgt_in, sizes, where)
    return _seq2seq_forward(src_ids, keep, lengths, tgt_in, params, cell, kind, bidirectional)


def _seq2seq_backward(dlogits, cache):
    dO, dW_out, db_out = affine_backward(dlogits, cache.out)  # (T_t, N, S + E)
    S = cache.s0.shape[1]
    M = cache.embed_size
    enc = cache.encoder
    dH_enc = np.zeros(enc.x_shape[:2] + (cache.summary.shape[1],), dtype=dO.dtype)  # (T_s, N, E)
    dsummary = np.zeros_like(cache.summary)  # (N, E)
    dY = np.zeros(dO.shape[:2] + (M,), dtype=dO.dtype)  # (T_t, N, M)
    dstate = tuple(np.zeros_like(cache.s0) for _ in range(2 if cache.cell == "lstm" else 1))
    grads = {}

    def accumulate(prefix, part):
        for k, g in part.items():
            key = prefix + k
            grads[key] = g if key not in grads else grads[key] + g  # shared over time steps

    for t in range(len(cache.steps) - 1, -1, -1):
        att_cache, cell_cache = cache.steps[t]
        dstate = (dstate[0] + dO[t, :, :S],) + dstate[1:]  # the output layer read s_t too
        dcontext = dO[t, :, S:].copy()  # (N, E) the output layer read the context
        dx, dstate, dcell = _cell_backward(cache.cell, dstate, cell_cache)
        accumulate("dec.", dcell)
        dY[t] = dx[:, :M]
        dcontext += dx[:, M:]  # ... and so did the cell's input
        if att_cache is None:
            dsummary += dcontext
            continue
        ds_prev, dH_t, datt = _ATTENTION[cache.attention][1](dcontext, None, att_cache)
        accumulate("att.", datt)
        dH_enc += dH_t
        dstate = (dstate[0] + ds_prev,) + dstate[1:]  # s_{t-1} also chose where to look
    # through the bridge s_0 = tanh(summary W + b); an LSTM's c_0 = 0 is no parameter
    da = dstate[0] * (1 - cache.s0**2)  # (N, S)
    grads["bridge.W"] = cache.summary.T @ da  # (E, S)
    grads["bridge.b"] = da.sum(axis=0)  # (S,)
    dsummary += da @ cache.bridge_W.T  # (N, E)
    dX, enc_grads = _encoder_backward(dH_enc, dsummary, enc)  # (T_s, N, M)
    grads.update({f"enc.{k}": g for k, g in enc_grads.items()})
    grads["src_embed.W"] = embedding_backward(dX, cache.src_embed)
    grads["tgt_embed.W"] = embedding_backward(dY, cache.tgt_embed)
    grads["out.W"], grads["out.b"] = dW_out, db_out
    return grads


def seq2seq_backward(dlogits, cache):
    """Gradients of every parameter of the encoder-decoder.

    Backpropagation through the decoder's time steps (each step's state
    gradient comes from its logits, from the next step's cell and from the
    next step's attention score), then through the bridge, the encoder and
    the embeddings. Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    dlogits : ndarray of shape (T_t, N, V_t)
        Gradient of the loss with respect to the logits.
    cache : Seq2SeqCache
        From :func:`seq2seq_forward`.

    Returns
    -------
    grads : dict of str to ndarray
        Same keys and shapes as the parameters.
    """
    guard("seq2seq_backward")
    if not isinstance(cache, Seq2SeqCache):
        raise TypeError(
            "cache must be the Seq2SeqCache returned by seq2seq_forward, got "
            f"{type(cache).__name__}"
        )
    T_t, N, V_t = cache.logits_shape
    sizes = Sizes(T_t=T_t, N=N, V_t=V_t)
    check_array("dlogits", dlogits, ("T_t", "N", "V_t"), sizes, where="seq2seq_backward")
    return _seq2seq_backward(dlogits, cache)


def seq2seq_loss(src_ids, src_mask, tgt_in, tgt_out, tgt_mask, params, cell="gru"):
    """Mean cross-entropy per real target token under teacher forcing, and its gradients.

    The padding of the targets is masked out with
    :func:`rnncore.sequence_loss` (``reduction="mean"``): a model that knows
    nothing scores ``log V_t``. Taught in chapter 11, Sequence to sequence and
    attention.

    Parameters
    ----------
    src_ids : ndarray of shape (T_s, N), integer
    src_mask : ndarray of shape (T_s, N), bool or 0/1
    tgt_in : ndarray of shape (T_t, N), integer
        BOS, then the target without its last token.
    tgt_out : ndarray of shape (T_t, N), integer
        The target, ending with EOS.
    tgt_mask : ndarray of shape (T_t, N), bool or 0/1
        True at real target positions.
    params : dict
        From :func:`init_seq2seq_params`.
    cell : {"rnn", "gru", "lstm"}

    Returns
    -------
    loss : float
    grads : dict of str to ndarray
        Gradient of ``loss``, keyed like ``params``.
    """
    guard("seq2seq_loss")
    where = "seq2seq_loss"
    sizes, kind, bidirectional = _check_model(params, cell, where)
    keep, lengths = _check_batch(src_ids, src_mask, tgt_in, sizes, where)
    _check_targets(tgt_out, tgt_mask, sizes, where)
    return _seq2seq_loss(
        src_ids, keep, lengths, tgt_in, tgt_out, tgt_mask, params, cell, kind, bidirectional
    )


def _seq2seq_loss(
    src_ids, keep, lengths, tgt_in, tgt_out, tgt_mask, params, cell, kind, bidirectional
):
    logits, _, cache = _seq2seq_forward(
        src_ids, keep, lengths, tgt_in, params, cell, kind, bidirectional
    )
    loss, dlogits = sequence_loss(logits, tgt_out, mask=tgt_mask, reduction="mean")
    return float(loss), _seq2seq_backward(dlogits, cache)
