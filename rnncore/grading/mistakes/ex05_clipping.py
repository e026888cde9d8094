"""Typical wrong gradient clipping and gradient-norm measurements (exercise 5; chapter 5)."""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake

__all__: list[str] = []


def _norm(grads):
    guard("_norm")
    return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))


def solution_clip_grad_norm(grads, max_norm):
    guard("solution_clip_grad_norm")
    norm = _norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}, norm


def per_array(grads, max_norm):
    guard("per_array")
    clipped = {k: solution_clip_grad_norm({k: g}, max_norm)[0][k] for k, g in grads.items()}
    return clipped, _norm(grads)


def always_rescaled(grads, max_norm):
    guard("always_rescaled")
    norm = _norm(grads)
    return {k: g * max_norm / norm for k, g in grads.items()}, norm


def sum_of_norms(grads, max_norm):
    guard("sum_of_norms")
    norm = float(sum(np.linalg.norm(g) for g in grads.values()))
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}, norm


def squared_norm(grads, max_norm):
    guard("squared_norm")
    norm = _norm(grads) ** 2
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}, norm


def inverted_scale(grads, max_norm):
    guard("inverted_scale")
    norm = _norm(grads)
    return {k: g * (norm / max_norm if norm > max_norm else 1.0) for k, g in grads.items()}, norm


def norm_after_clipping(grads, max_norm):
    guard("norm_after_clipping")
    clipped, _ = solution_clip_grad_norm(grads, max_norm)
    return clipped, _norm(clipped)


def values_clipped(grads, max_norm):
    guard("values_clipped")
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, _norm(grads)


CLIP_GRAD_NORM = (
    Mistake(
        "each array clipped by its own norm; clip_grad_norm scales all of them by one "
        "factor computed from the global norm",
        5,
        per_array,
    ),
    Mistake(
        "gradients rescaled even when their norm is below max_norm (only larger ones are clipped)",
        5,
        always_rescaled,
    ),
    Mistake(
        "the global norm computed as the sum of the arrays' norms; it is the square "
        "root of the sum of all squared entries",
        5,
        sum_of_norms,
    ),
    Mistake("the squared norm used (the square root forgotten)", 5, squared_norm),
    Mistake(
        "the scale factor inverted: multiply by max_norm / norm, not norm / max_norm",
        5,
        inverted_scale,
    ),
    Mistake(
        "the norm returned after clipping; return the norm before clipping", 5, norm_after_clipping
    ),
    Mistake(
        "entries clipped to [−max_norm, max_norm] one by one (that is clip_grad_value)",
        5,
        values_clipped,
    ),
)


def solution_clip_grad_value(grads, clip_value):
    guard("solution_clip_grad_value")
    return {k: np.clip(g, -clip_value, clip_value) for k, g in grads.items()}


CLIP_GRAD_VALUE = (
    Mistake(
        "only the upper bound applied; entries below −clip_value must be raised to it",
        5,
        lambda grads, c: {k: np.minimum(g, c) for k, g in grads.items()},
    ),
    Mistake(
        "entries clipped to [0, clip_value]; the range is [−clip_value, clip_value]",
        5,
        lambda grads, c: {k: np.clip(g, 0, c) for k, g in grads.items()},
    ),
    Mistake(
        "every entry replaced by ±clip_value; entries inside the range stay as they are",
        5,
        lambda grads, c: {k: np.sign(g) * c for k, g in grads.items()},
    ),
    Mistake(
        "each array rescaled to norm clip_value; clip_grad_value caps entries one by one",
        5,
        lambda grads, c: {k: g * min(1.0, c / np.linalg.norm(g)) for k, g in grads.items()},
    ),
    Mistake(
        "absolute values clipped (the signs lost)",
        5,
        lambda grads, c: {k: np.clip(np.abs(g), -c, c) for k, g in grads.items()},
    ),
    Mistake(
        "global-norm clipping (that is clip_grad_norm)",
        5,
        lambda grads, c: solution_clip_grad_norm(grads, c)[0],
    ),
)


def _norms(
    X, h0, p, dtanh=lambda h: 1 - h**2, transpose=True, shift=0, per_sequence=False, recurse=True
):
    guard("_norms")
    H, h = [], np.zeros((X.shape[1], p["W_hh"].shape[0]), X.dtype) if h0 is None else h0
    for x in X:
        h = np.tanh(x @ p["W_xh"] + h @ p["W_hh"] + p["b_h"])  # (N, H)
        H.append(h)
    T = len(H)
    W = p["W_hh"].T if transpose else p["W_hh"]
    grad, norms = np.ones_like(H[-1]), [None] * T
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(grad, axis=1).mean() if per_sequence else np.linalg.norm(grad)
        if t > 0 and recurse:
            grad = (grad * dtanh(H[t - shift])) @ W  # (N, H)
    return np.array(norms)


def solution_gradient_norms_over_time(X, h0, params):
    guard("solution_gradient_norms_over_time")
    return _norms(X, h0, params)


GRADIENT_NORMS_OVER_TIME = (
    Mistake(
        "the derivative of tanh (1 − H[t]²) left out of the recursion",
        5,
        lambda X, h0, p: _norms(X, h0, p, dtanh=lambda h: 1),
    ),
    Mistake(
        "1 − H[t] used for the derivative of tanh; it is 1 − H[t]²",
        5,
        lambda X, h0, p: _norms(X, h0, p, dtanh=lambda h: 1 - h),
    ),
    Mistake(
        "W_hh not transposed; the gradient flows back through W_hh.T",
        5,
        lambda X, h0, p: _norms(X, h0, p, transpose=False),
    ),
    Mistake(
        "the norms in reversed time order; norms[t] belongs to H[t], so the last entry "
        "is sqrt(N·H)",
        5,
        lambda X, h0, p: _norms(X, h0, p)[::-1],
    ),
    Mistake(
        "tanh' taken at H[t-1] instead of H[t] (off by one step)",
        5,
        lambda X, h0, p: _norms(X, h0, p, shift=1),
    ),
    Mistake(
        "the mean of each sequence's norm; take one norm over the whole (N, H) gradient",
        5,
        lambda X, h0, p: _norms(X, h0, p, per_sequence=True),
    ),
    Mistake(
        "the gradient not propagated back (the same norm at every step)",
        5,
        lambda X, h0, p: _norms(X, h0, p, recurse=False),
    ),
)
