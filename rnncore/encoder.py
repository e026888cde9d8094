"""The encoder of a sequence-to-sequence model: padded batches read in both directions.

Taught in chapter 11, Sequence to sequence and attention. The encoder runs any
recurrent cell (through :mod:`rnncore.recurrent`) over a batch of source
sequences of different lengths, padded at the end. A left-to-right pass is
unaffected by the padding that follows a sequence, but a right-to-left pass
over the padded array would read the padding *first*. So the backward
direction reverses each sequence within its own length (``x_{L-1}, ..., x_0``
followed by the padding), as PyTorch's packed sequences do, and its states are
put back in source order afterwards::

    H_fwd = recurrent(X)
    H_bwd = unreverse(recurrent(reverse_within_length(X)))
    H_enc[t] = [H_fwd[t], H_bwd[t]]                            (T, N, 2H)
    summary = [H_fwd[L_n - 1, n], H_bwd[0, n]]  for each n     (N, 2H)

``summary`` holds each direction's state after reading the whole real
sequence: the fixed-size vector an encoder-decoder without attention must
squeeze the source into (Sutskever, Vinyals & Le 2014; Cho et al. 2014).
States at padded positions are computed but meaningless; attention masks them.

Letters in shapes: T source positions, N batch size, D input features, H
hidden units per direction, E = H or 2H the encoder state size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_params
from .functional import _check_mask
from .recurrent import _backward, _check_cell, _forward, _param_specs, _reset_after

__all__ = ["encoder_forward", "encoder_backward"]


class EncoderCache(NamedTuple):
    """What :func:`encoder_backward` needs from :func:`encoder_forward`."""

    fwd: tuple  # RecurrentCache of the left-to-right pass
    bwd: tuple | None  # RecurrentCache of the within-length reversed pass, or None
    order: np.ndarray  # (T, N) reversal index: position t of column n reads X[order[t, n], n]
    lengths: np.ndarray  # (N,) real positions per sequence
    hidden: int  # H per direction
    x_shape: tuple  # (T, N, D)


def check_prefix_mask(mask, sizes, where, name="mask"):
    """A (T, N) mask whose True entries come first in every column, at least one of them."""
    keep = _check_mask(mask, sizes, where)
    if (keep[1:] & ~keep[:-1]).any():
        column = int(np.flatnonzero((keep[1:] & ~keep[:-1]).any(axis=0))[0])
        raise ValueError(
            f"{where}: {name}[:, {column}] has a real position after a padding one; pad each "
            "sequence at its end only (True entries first, then False)"
        )
    lengths = keep.sum(axis=0)  # (N,)
    if (lengths == 0).any():
        raise ValueError(
            f"{where}: {name}[:, {int(np.flatnonzero(lengths == 0)[0])}] is all False: every "
            "sequence needs at least one real token"
        )
    return keep, lengths


def _reversal_order(lengths, T):
    """(T, N) index reversing each column within its length; an involution (its own inverse)."""
    t = np.arange(T)[:, None]  # (T, 1)
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (T, N)


def _gather(A, order):
    """``out[t, n] = A[order[t, n], n]`` for A of shape (T, N, ...)."""
    return np.take_along_axis(A, order[:, :, None], axis=0)


def _encoder_forward(X, lengths, params, cell, bidirectional):
    """Unguarded: X (T, N, D) and lengths (N,) already checked."""
    T, N, _ = X.shape
    kw = {"reset_after": _reset_after(params, {}, "fwd.b_hn")} if cell == "gru" else {}
    fwd = {k[4:]: v for k, v in params.items() if k.startswith("fwd.")}
    H_fwd, _, cache_fwd = _forward(cell, X, None, fwd, kw)  # (T, N, H)
    hidden = H_fwd.shape[-1]
    columns = np.arange(N)
    last = lengths - 1  # (N,)
    order = _reversal_order(lengths, T)
    if not bidirectional:
        summary = H_fwd[last, columns]  # (N, H) state after the last real token
        cache = EncoderCache(cache_fwd, None, order, lengths, hidden, X.shape)
        return np.array(H_fwd), summary, cache
    bwd = {k[4:]: v for k, v in params.items() if k.startswith("bwd.")}
    H_rev, _, cache_bwd = _forward(cell, _gather(X, order), None, bwd, kw)  # (T, N, H)
    H_bwd = _gather(H_rev, order)  # (T, N, H) back in source order
    H_enc = np.concatenate([H_fwd, H_bwd], axis=-1)  # (T, N, 2H)
    summary = np.concatenate([H_fwd[last, columns], H_bwd[0]], axis=-1)  # (N, 2H)
    return H_enc, summary, EncoderCache(cache_fwd, cache_bwd, order, lengths, hidden, X.shape)


def _encoder_backward(dH_enc, dsummary, cache):
    """Unguarded: gradients already checked against the cache."""
    H = cache.hidden
    N = cache.x_shape[1]
    columns, last = np.arange(N), cache.lengths - 1
    dH_fwd = np.array(dH_enc[..., :H])  # (T, N, H) a copy: the summary's gradient is added
    dH_fwd[last, columns] += dsummary[:, :H]
    dX, _, grads_fwd = _backward(dH_fwd, cache.fwd, None)
    grads = {f"fwd.{k}": g for k, g in grads_fwd.items()}
    if cache.bwd is None:
        return dX, grads
    dH_bwd = np.array(dH_enc[..., H:])
    dH_bwd[0] += dsummary[:, H:]
    dX_rev, _, grads_bwd = _backward(_gather(dH_bwd, cache.order), cache.bwd, None)
    dX = dX + _gather(dX_rev, cache.order)  # each input fed both directions
    grads.update({f"bwd.{k}": g for k, g in grads_bwd.items()})
    return dX, grads


def _check_encoder_params(params, cell, sizes, where):
    bidirectional = isinstance(params, dict) and any(k.startswith("bwd.") for k in params)
    reset_after = _reset_after(params, {}, "fwd.b_hn") if cell == "gru" else False
    specs = {}
    for direction in ("fwd", "bwd") if bidirectional else ("fwd",):
        for name, spec in _param_specs(cell, reset_after).items():
            specs[f"{direction}.{name}"] = spec
    check_params("params", params, specs, sizes, where=where)
    return bidirectional


def encoder_forward(X, mask, params, cell="gru"):
    """Encode a padded batch of source sequences, in one direction or both.

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Embedded source tokens, time-major, padded at the end.
    mask : ndarray of shape (T, N), bool or 0/1
        True at real positions, which come first in every column (at least one).
    params : dict of str to ndarray
        ``fwd.<name>`` for every name of ``param_names(cell)``, and ``bwd.<name>``
        too for a bidirectional encoder: ``W_x*`` (D, H), ``W_h*`` (H, H),
        biases (H,).
    cell : {"rnn", "gru", "lstm"}

    Returns
    -------
    H_enc : ndarray of shape (T, N, E)
        Encoder states (E = 2H when bidirectional, else H); at padded
        positions they carry no meaning.
    summary : ndarray of shape (N, E)
        Each direction's state after the whole real sequence.
    cache : EncoderCache
        Opaque; pass it to :func:`encoder_backward`.
    """
    guard("encoder_forward")
    where = "encoder_forward"
    _check_cell(cell)
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where=where)
    _, lengths = check_prefix_mask(mask, sizes, where)
    bidirectional = _check_encoder_params(params, cell, sizes, where)
    return _encoder_forward(X, lengths, params, cell, bidirectional)


def encoder_backward(dH_enc, dsummary, cache):
    """Backward pass of :func:`encoder_forward`.

    The summary's gradient joins the state gradient at the position it was
    read from (``L_n - 1`` forward, 0 backward); the backward direction's
    gradients are reversed within each length, as its inputs were. Taught in
    chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    dH_enc : ndarray of shape (T, N, E)
    dsummary : ndarray of shape (N, E)
    cache : EncoderCache
        From :func:`encoder_forward`.

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    grads : dict of str to ndarray
        Keyed like the parameters (``fwd.*`` and ``bwd.*``).
    """
    guard("encoder_backward")
    where = "encoder_backward"
    if not isinstance(cache, EncoderCache):
        raise TypeError(
            "cache must be the EncoderCache returned by encoder_forward, got "
            f"{type(cache).__name__}"
        )
    T, N, _ = cache.x_shape
    E = cache.hidden * (1 if cache.bwd is None else 2)
    sizes = Sizes(T=T, N=N, E=E)
    check_array("dH_enc", dH_enc, ("T", "N", "E"), sizes, where=where)
    check_array("dsummary", dsummary, ("N", "E"), sizes, where=where)
    return _encoder_backward(dH_enc, dsummary, cache)
