"""Typical wrong softmaxes and cross-entropy losses (exercise 3; chapter 3)."""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def solution_softmax(logits):
    guard("solution_softmax")
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))  # (..., V) no overflow
    return exp / exp.sum(axis=-1, keepdims=True)


def _xent(logits, targets):
    """Per-row losses (N,) and the gradient of their sum (N, V)."""
    guard("_xent")
    rows = np.arange(logits.shape[0])
    shifted = logits - logits.max(axis=-1, keepdims=True)  # (N, V)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # never log(0)
    dlogits = np.exp(log_probs)  # (N, V) softmax
    dlogits[rows, targets] -= 1
    return -log_probs[rows, targets], dlogits


def solution_softmax_cross_entropy(logits, targets):
    guard("solution_softmax_cross_entropy")
    losses, dlogits = _xent(logits, targets)
    N = logits.shape[0]
    return losses.sum() / N, dlogits / N


def solution_sequence_loss(logits, targets):
    guard("solution_sequence_loss")
    T, N, V = logits.shape
    losses, dlogits = _xent(logits.reshape(T * N, V), targets.reshape(T * N))
    return losses.sum() / N, dlogits.reshape(T, N, V) / N  # sum over time, mean over batch


def no_max_shift(logits):
    guard("no_max_shift")
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def wrong_axis(logits):
    guard("wrong_axis")
    exp = np.exp(logits - logits.max(axis=0, keepdims=True))
    return exp / exp.sum(axis=0, keepdims=True)


def normalised_over_everything(logits):
    guard("normalised_over_everything")
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum()


def global_max_shift(logits):
    guard("global_max_shift")
    exp = np.exp(logits - logits.max())
    return exp / exp.sum(axis=-1, keepdims=True)


def no_exp(logits):
    guard("no_exp")
    return logits / logits.sum(axis=-1, keepdims=True)


def log_softmax_returned(logits):
    guard("log_softmax_returned")
    return np.log(solution_softmax(logits))


SOFTMAX = (
    Mistake(
        "softmax without subtracting the row maximum first (exp overflows on large logits)",
        3,
        no_max_shift,
    ),
    Mistake(
        "softmax over the wrong axis (axis 0); the classes are on the last axis", 3, wrong_axis
    ),
    Mistake(
        "dividing by the sum over the whole array instead of each row's sum",
        3,
        normalised_over_everything,
    ),
    Mistake(
        "the maximum of the whole array subtracted instead of each row's maximum "
        "(rows far below it underflow to 0/0)",
        3,
        global_max_shift,
    ),
    Mistake("the exponential left out (logits divided by their sum)", 3, no_exp),
    Mistake("log-probabilities returned instead of probabilities", 3, log_softmax_returned),
)


def summed_over_batch(logits, targets):
    guard("summed_over_batch")
    losses, dlogits = _xent(logits, targets)
    return losses.sum(), dlogits


def gradient_not_averaged(logits, targets):
    guard("gradient_not_averaged")
    losses, dlogits = _xent(logits, targets)
    return losses.mean(), dlogits


def one_hot_not_subtracted(logits, targets):
    guard("one_hot_not_subtracted")
    return _xent(logits, targets)[0].mean(), solution_softmax(logits) / logits.shape[0]


def gradient_sign_flipped(logits, targets):
    guard("gradient_sign_flipped")
    loss, dlogits = solution_softmax_cross_entropy(logits, targets)
    return loss, -dlogits


def columns_indexed(logits, targets):
    guard("columns_indexed")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -log_probs[:, targets].mean(), solution_softmax_cross_entropy(logits, targets)[1]


def log_of_softmax(logits, targets):
    guard("log_of_softmax")
    rows = np.arange(logits.shape[0])
    probs = solution_softmax(logits)
    return (
        -np.log(probs[rows, targets]).mean(),
        solution_softmax_cross_entropy(logits, targets)[1],
    )


def unshifted_log(logits, targets):
    guard("unshifted_log")
    rows = np.arange(logits.shape[0])
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    dlogits = probs.copy()
    dlogits[rows, targets] -= 1
    return -np.log(probs[rows, targets]).mean(), dlogits / logits.shape[0]


def minus_sign_forgotten(logits, targets):
    guard("minus_sign_forgotten")
    loss, dlogits = solution_softmax_cross_entropy(logits, targets)
    return -loss, dlogits


SOFTMAX_CROSS_ENTROPY = (
    Mistake(
        "the loss and gradient summed over the batch instead of averaged (divide by N)",
        3,
        summed_over_batch,
    ),
    Mistake(
        "a gradient that is not divided by N although the loss is a mean", 3, gradient_not_averaged
    ),
    Mistake(
        "a gradient of softmax(logits) without subtracting the one-hot targets",
        3,
        one_hot_not_subtracted,
    ),
    Mistake(
        "a gradient with the wrong sign (one_hot − p instead of p − one_hot)",
        3,
        gradient_sign_flipped,
    ),
    Mistake(
        "probs[:, targets] used to pick the targets' probabilities; it makes an N × N "
        "array, use probs[np.arange(N), targets]",
        3,
        columns_indexed,
    ),
    Mistake(
        "softmax computed without subtracting the row maximum (exp overflows on large logits)",
        3,
        unshifted_log,
    ),
    Mistake(
        "log(softmax(logits)): a probability that underflows to 0 gives log(0) = −inf; "
        "use log-softmax, z − max z − log Σ exp(z − max z)",
        3,
        log_of_softmax,
    ),
    Mistake(
        "the minus sign of −log p forgotten (the loss must be positive)", 3, minus_sign_forgotten
    ),
)


def mean_over_tokens(logits, targets):
    guard("mean_over_tokens")
    T, N, V = logits.shape
    loss, dlogits = solution_sequence_loss(logits, targets)
    return loss / T, dlogits / T


def summed_over_everything(logits, targets):
    guard("summed_over_everything")
    loss, dlogits = solution_sequence_loss(logits, targets)
    return loss * logits.shape[1], dlogits * logits.shape[1]


def mean_over_time(logits, targets):
    guard("mean_over_time")
    T, N, V = logits.shape
    loss, dlogits = solution_sequence_loss(logits, targets)
    return loss * N / T, dlogits * N / T


def sequence_gradient_not_scaled(logits, targets):
    guard("sequence_gradient_not_scaled")
    loss, dlogits = solution_sequence_loss(logits, targets)
    return loss, dlogits * logits.shape[1]


def softmax_over_time(logits, targets):
    guard("softmax_over_time")
    T, N, V = logits.shape
    exp = np.exp(logits - logits.max(axis=0, keepdims=True))
    probs = exp / exp.sum(axis=0, keepdims=True)
    t, n = np.meshgrid(np.arange(T), np.arange(N), indexing="ij")
    dlogits = probs.copy()
    dlogits[t, n, targets] -= 1
    return -np.log(probs[t, n, targets]).sum() / N, dlogits / N


def sequence_one_hot_not_subtracted(logits, targets):
    guard("sequence_one_hot_not_subtracted")
    return solution_sequence_loss(logits, targets)[0], solution_softmax(logits) / logits.shape[1]


SEQUENCE_LOSS = (
    Mistake(
        "the mean over all T·N tokens; the sequence loss sums over time and averages "
        "over the batch only",
        3,
        mean_over_tokens,
    ),
    Mistake(
        "the sum over the batch too; the sequence loss averages over the batch (divide by N)",
        3,
        summed_over_everything,
    ),
    Mistake(
        "the mean over time and the sum over the batch, the wrong way round", 3, mean_over_time
    ),
    Mistake(
        "a gradient that is not divided by N although the loss is", 3, sequence_gradient_not_scaled
    ),
    Mistake(
        "softmax over the time axis (axis 0); the classes are on the last axis",
        3,
        softmax_over_time,
    ),
    Mistake(
        "a gradient of softmax(logits) without subtracting the one-hot targets",
        3,
        sequence_one_hot_not_subtracted,
    ),
)
