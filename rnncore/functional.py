"""Activations, softmax and the cross-entropy losses of a recurrent network.

Taught in chapter 3, Softmax and the loss (``sigmoid`` and ``tanh`` appear
first in chapters 2 and 6).

Letters in shapes: T time steps, N batch size, V vocabulary size (number of
classes). Logits are unnormalised scores; every function here subtracts the
row maximum before exponentiating, so logits of +-1000 give finite results
(``softmax(z) = softmax(z - max z)``, the shift invariance of chapter 3).

The sequence loss the book teaches is the *sum* over time steps of the
per-step cross-entropy; ``sequence_loss`` offers that and two averages.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _activations
from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_ids, check_positive, check_shape

__all__ = [
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy",
    "cross_entropy",
    "sequence_loss",
    "perplexity",
]

REDUCTIONS = ("mean", "sum", "none")
SEQUENCE_REDUCTIONS = ("sum", "mean", "batch_mean")


def _any_shape(x) -> tuple:
    """A spec that accepts any shape (letters d0, d1, ... bound to x's own sizes)."""
    return tuple(f"d{i}" for i in range(np.ndim(x)))


def _check_axis(axis, ndim: int, where: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{where}: axis {axis} is out of range for an array with {ndim} dimensions"
        )
    return int(axis)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for any finite ``x``.

    Taught in chapter 6, Gated recurrent units (gates squash to (0, 1)). The
    same implementation serves the cells (``rnncore._activations``).

    Parameters
    ----------
    x : ndarray of any shape
        Floating-point pre-activations.

    Returns
    -------
    s : ndarray of the same shape and dtype as x
        Values in [0, 1].
    """
    guard("sigmoid")
    check_array("x", x, _any_shape(x), where="sigmoid")
    return _activations.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent, the squashing function of the vanilla RNN cell.

    Taught in chapter 2, The RNN cell.

    Parameters
    ----------
    x : ndarray of any shape
        Floating-point pre-activations.

    Returns
    -------
    t : ndarray of the same shape and dtype as x
        Values in [-1, 1].
    """
    guard("tanh")
    check_array("x", x, _any_shape(x), where="tanh")
    return np.tanh(x)


def _log_softmax(logits, axis):
    shifted = logits - logits.max(axis=axis, keepdims=True)  # largest entry 0: exp cannot overflow
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(logits, axis):
    exp = np.exp(logits - logits.max(axis=axis, keepdims=True))  # entries in (0, 1]
    return exp / exp.sum(axis=axis, keepdims=True)


def softmax(logits, axis=-1):
    """Turn scores into probabilities: ``exp(z_i) / sum_j exp(z_j)`` along ``axis``.

    Taught in chapter 3, Softmax and the loss. The maximum is subtracted first
    (softmax is invariant to adding a constant), so no ``exp`` overflows.

    Parameters
    ----------
    logits : ndarray of shape (..., V)
        Unnormalised scores (``V`` along ``axis``).
    axis : int
        The axis that holds the classes.

    Returns
    -------
    probs : ndarray of the same shape and dtype as logits
        Non-negative, summing to 1 along ``axis``.
    """
    guard("softmax")
    check_array("logits", logits, _any_shape(logits), where="softmax")
    axis = _check_axis(axis, logits.ndim, "softmax")
    return _softmax(logits, axis)


def log_softmax(logits, axis=-1):
    """Log-probabilities ``z_i - log sum_j exp(z_j)``, computed without overflow.

    Taught in chapter 3, Softmax and the loss. Computing ``log(softmax(z))``
    instead would give ``log(0) = -inf`` for very negative scores.

    Parameters
    ----------
    logits : ndarray of shape (..., V)
        Unnormalised scores (``V`` along ``axis``).
    axis : int
        The axis that holds the classes.

    Returns
    -------
    log_probs : ndarray of the same shape and dtype as logits
        Non-positive; ``exp`` of them sums to 1 along ``axis``.
    """
    guard("log_softmax")
    check_array("logits", logits, _any_shape(logits), where="log_softmax")
    axis = _check_axis(axis, logits.ndim, "log_softmax")
    return _log_softmax(logits, axis)


class _TokenLoss(NamedTuple):
    losses: np.ndarray  # (N,) cross-entropy of each row
    dlogits: np.ndarray  # (N, V) gradient of losses.sum(): softmax - one_hot(targets)


def _token_losses(logits, targets) -> _TokenLoss:
    """Per-row cross-entropy and the gradient of their sum (``p - y``)."""
    rows = np.arange(logits.shape[0])
    log_probs = _log_softmax(logits, axis=-1)  # (N, V)
    losses = -log_probs[rows, targets]  # (N,)
    dlogits = np.exp(log_probs)  # (N, V) softmax; a new array, safe to write into
    dlogits[rows, targets] -= 1  # d(-log p_y)/dz = p - one_hot(y)
    return _TokenLoss(losses, dlogits)


def _check_loss_inputs(logits, targets, where):
    sizes = Sizes()
    check_array("logits", logits, ("N", "V"), sizes, where=where)
    check_ids("targets", targets, sizes["V"], ("N",), sizes, where=where)


def softmax_cross_entropy(logits, targets, reduction="mean"):
    """Cross-entropy of softmax probabilities against integer targets, and its gradient.

    ``loss_n = -log softmax(logits_n)[targets_n]``; the gradient with respect
    to the logits is ``softmax(logits_n) - one_hot(targets_n)`` per row.

    Taught in chapter 3, Softmax and the loss.

    Parameters
    ----------
    logits : ndarray of shape (N, V)
        Unnormalised scores, one row per example.
    targets : ndarray of shape (N,), integer
        The correct class of each row, ``0 <= targets < V``.
    reduction : {"mean", "sum", "none"}
        Average over the N rows, sum over them, or return every row's loss.

    Returns
    -------
    loss : scalar of logits' dtype, or ndarray of shape (N,) when reduction="none"
    dlogits : ndarray of shape (N, V)
        Gradient of ``loss`` with respect to ``logits`` (of ``loss.sum()`` when
        reduction="none").
    """
    guard("softmax_cross_entropy")
    where = "softmax_cross_entropy"
    check_choice("reduction", reduction, REDUCTIONS)
    _check_loss_inputs(logits, targets, where)
    losses, dlogits = _token_losses(logits, targets)
    if reduction == "none":
        return losses, dlogits
    if reduction == "sum":
        return losses.sum(), dlogits
    n = logits.shape[0]
    return losses.sum() / n, dlogits / n  # the mean divides every row's gradient by N


def cross_entropy(logits, targets, reduction="mean"):
    """Cross-entropy of softmax probabilities against integer targets (loss only).

    Taught in chapter 3, Softmax and the loss. Use
    :func:`softmax_cross_entropy` when you also need the gradient.

    Parameters
    ----------
    logits : ndarray of shape (N, V)
        Unnormalised scores, one row per example.
    targets : ndarray of shape (N,), integer
        The correct class of each row, ``0 <= targets < V``.
    reduction : {"mean", "sum", "none"}
        Average over the N rows, sum over them, or return every row's loss.

    Returns
    -------
    loss : scalar of logits' dtype, or ndarray of shape (N,) when reduction="none"
    """
    guard("cross_entropy")
    check_choice("reduction", reduction, REDUCTIONS)
    _check_loss_inputs(logits, targets, "cross_entropy")
    rows = np.arange(logits.shape[0])
    losses = -_log_softmax(logits, axis=-1)[rows, targets]  # (N,)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / logits.shape[0]


def _check_mask(mask, sizes, where) -> np.ndarray:
    """A (T, N) mask of 0/1 (bool, integer or float) as a boolean array."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(
            f"mask must be a NumPy array of shape (T, N) holding True/False or 0/1, "
            f"got {type(mask).__name__}"
        )
    if not (mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.number)):
        raise TypeError(f"mask must hold booleans or the numbers 0 and 1, got dtype {mask.dtype}")
    check_shape("mask", mask.shape, ("T", "N"), sizes, where=where)
    if mask.dtype != np.bool_ and not np.isin(mask, (0, 1)).all():
        raise ValueError(
            "mask must hold only 0 and 1 (or False and True): 1 marks a real token, "
            "0 a padding position"
        )
    return mask.astype(bool)


def sequence_loss(logits, targets, mask=None, reduction="sum"):
    """Cross-entropy over a whole sequence, padding masked out, and its gradient.

    The loss of a sequence is the sum over time steps of the per-step
    cross-entropy, the quantity backpropagation through time differentiates.
    Positions where ``mask`` is 0 (padding) add nothing to the loss and get a
    zero gradient.

    Taught in chapter 3, Softmax and the loss (used from chapter 4 on).

    Parameters
    ----------
    logits : ndarray of shape (T, N, V)
        Scores at every time step for every sequence of the batch.
    targets : ndarray of shape (T, N), integer
        The correct next token at every position, ``0 <= targets < V`` (the
        value at masked positions is ignored but must still be a valid id).
    mask : ndarray of shape (T, N), bool or 0/1, optional
        1 (True) for real tokens, 0 (False) for padding; all ones when omitted.
    reduction : {"sum", "mean", "batch_mean"}
        ``"sum"``: sum over every unmasked token (the book's sequence loss);
        ``"mean"``: that sum divided by the number of unmasked tokens (the mean
        token loss whose ``exp`` is the perplexity; 0 when every token is
        masked); ``"batch_mean"``: the sum divided by N, the sequence loss
        averaged over the batch.

    Returns
    -------
    loss : scalar of logits' dtype
    dlogits : ndarray of shape (T, N, V)
        Gradient of ``loss`` with respect to ``logits``; zero at masked positions.
    """
    guard("sequence_loss")
    where = "sequence_loss"
    check_choice("reduction", reduction, SEQUENCE_REDUCTIONS)
    sizes = Sizes()
    check_array("logits", logits, ("T", "N", "V"), sizes, where=where)
    check_ids("targets", targets, sizes["V"], ("T", "N"), sizes, where=where)
    keep = None if mask is None else _check_mask(mask, sizes, where)

    T, N, V = logits.shape
    losses, dlogits = _token_losses(logits.reshape(T * N, V), targets.reshape(T * N))
    losses = losses.reshape(T, N)  # (T, N)
    dlogits = dlogits.reshape(T, N, V)  # (T, N, V)
    if keep is not None:
        losses = np.where(keep, losses, 0)  # (T, N) padding adds nothing ...
        dlogits *= keep[:, :, None]  # ... and receives no gradient
    count = T * N if keep is None else int(keep.sum())
    total = losses.sum()
    if reduction == "sum":
        scale = 1
    elif reduction == "mean":
        scale = 1 / max(count, 1)  # all-padding batch: loss 0, gradient 0
    else:
        scale = 1 / N
    return (total * scale).astype(logits.dtype), (dlogits * scale).astype(logits.dtype, copy=False)


def perplexity(mean_token_loss):
    """Perplexity ``exp(mean token cross-entropy)``: the effective branching factor.

    A model that is uniform over V tokens has a mean token loss of ``log V`` and
    a perplexity of exactly V. Taught in chapter 3, Softmax and the loss (used
    in chapter 9 to compare language models).

    Parameters
    ----------
    mean_token_loss : float or ndarray of any shape
        Cross-entropy per token in nats (natural logarithm), non-negative.

    Returns
    -------
    ppl : float, or ndarray of the same shape as mean_token_loss
        At least 1.
    """
    guard("perplexity")
    if isinstance(mean_token_loss, np.ndarray):
        check_array(
            "mean_token_loss", mean_token_loss, _any_shape(mean_token_loss), where="perplexity"
        )
        if (mean_token_loss < 0).any():
            raise ValueError(
                "mean_token_loss must be non-negative (a cross-entropy), got a negative entry"
            )
        return np.exp(mean_token_loss)
    check_positive("mean_token_loss", mean_token_loss, allow_zero=True)
    return float(np.exp(mean_token_loss))
