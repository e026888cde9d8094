"""Typical wrong additive attention, its backward pass and beam search (exercise 11; chapter 11).

The beam-search catalogue lives in :mod:`.ex11_beam_search`; it is imported
here so that the assignment's three catalogues sit under one name.
"""

from __future__ import annotations

import numpy as np

from ..._guard import guard
from .._compare import Mistake
from .ex11_beam_search import BEAM_SEARCH as BEAM_SEARCH
from .ex11_beam_search import solution_beam_search as solution_beam_search

__all__: list[str] = []


def _attend(
    s_prev,
    H_enc,
    p,
    mask=None,
    *,
    axis=1,
    use_mask=True,
    mask_after=False,
    over_batch=False,
    use_v=True,
    use_tanh=True,
    use_bias=True,
    shift=True,
    alpha_tn=False,
):
    guard("_attend")
    bias = p["b_a"] if use_bias else 0.0
    pre = H_enc @ p["W_ea"] + (s_prev @ p["W_sa"])[None, :, :] + bias  # (T, N, A)
    act = np.tanh(pre) if use_tanh else pre  # (T, N, A)
    scores = (act @ p["v_a"] if use_v else act.sum(axis=-1)).T  # (N, T)
    keep = None if mask is None or not use_mask else np.asarray(mask, dtype=bool).T  # (N, T)
    masked = scores if keep is None or mask_after else np.where(keep, scores, -np.inf)
    if shift:
        masked = masked - masked.max(axis=axis, keepdims=True)
    weights = np.exp(masked)  # (N, T)
    alpha = weights / weights.sum(axis=axis, keepdims=True)  # (N, T)
    if keep is not None and mask_after:
        alpha = alpha * keep  # zeroed, never renormalised
    context = (alpha.T[:, :, None] * H_enc).sum(axis=1 if over_batch else 0)  # (N, E)
    cache = {"s_prev": s_prev, "H_enc": H_enc, "p": p, "act": act, "alpha": alpha,
             "scores": scores}  # fmt: skip
    return context, (alpha.T if alpha_tn else alpha), cache


def solution_additive_attention_forward(s_prev, H_enc, params, mask=None):
    guard("solution_additive_attention_forward")
    return _attend(s_prev, H_enc, params, mask)


def _fwd(**kw):
    guard("_fwd")
    return lambda s, H, p, mask=None: _attend(s, H, p, mask, **kw)


ADDITIVE_ATTENTION_FORWARD = (
    Mistake(
        "the softmax taken over the batch axis; alpha[n] is a softmax over the source "
        "positions t (axis 1 of the (N, T) scores)",
        11,
        _fwd(axis=0),
    ),
    Mistake(
        "the mask applied after the softmax (padding zeroed, the rest not renormalised); "
        "set the padded scores to -inf before the softmax",
        11,
        _fwd(mask_after=True),
    ),
    Mistake("the mask ignored: padded positions got weight", 11, _fwd(use_mask=False)),
    Mistake(
        "the context summed over the batch instead of over the source positions; "
        "context[n] = Σ_t alpha[n, t] H_enc[t, n]",
        11,
        _fwd(over_batch=True),
    ),
    Mistake(
        "the score summed over the hidden layer without v_a; e = v_a · tanh(...)",
        11,
        _fwd(use_v=False),
    ),
    Mistake("the tanh of the score's hidden layer left out", 11, _fwd(use_tanh=False)),
    Mistake("the bias b_a left out of the score", 11, _fwd(use_bias=False)),
    Mistake(
        "a softmax that does not subtract the largest score first (exp overflows on large scores)",
        11,
        _fwd(shift=False),
    ),
    Mistake(
        "alpha returned as (T, N); it is (N, T), one row of weights per sequence",
        11,
        _fwd(alpha_tn=True),
    ),
)


def _attend_back(
    dcontext,
    dalpha,
    cache,
    *,
    jacobian=True,
    use_dalpha=True,
    context_path=True,
    masked=True,
    direct=True,
    sum_t=True,
    sum_batch=True,
    tanh_square=True,
):
    guard("_attend_back")
    H_enc, p, act, s_prev, alpha = (cache[k] for k in ("H_enc", "p", "act", "s_prev", "alpha"))
    if not masked:  # the weights recomputed from the raw scores, padding and all
        weights = np.exp(cache["scores"] - cache["scores"].max(axis=1, keepdims=True))
        alpha = weights / weights.sum(axis=1, keepdims=True)  # (N, T)
    dH_enc = alpha.T[:, :, None] * dcontext[None, :, :]  # (T, N, E) through the weighted sum
    da = np.zeros_like(alpha)  # (N, T)
    if context_path:
        da = da + np.einsum("tne,ne->nt", H_enc, dcontext)
    if use_dalpha:
        da = da + dalpha
    if jacobian:
        de = alpha * (da - (alpha * da).sum(axis=1, keepdims=True))  # (N, T)
    else:
        de = alpha * (1 - alpha) * da  # the Jacobian's diagonal only
    de = de.T  # (T, N)
    dv_a = np.einsum("tna,tn->a", act, de)  # (A,)
    slope = 1 - act**2 if tanh_square else 1 - act
    dpre = de[:, :, None] * p["v_a"] * slope  # (T, N, A)
    dW_ea = np.einsum("tne,tna->ea", H_enc, dpre)  # (E, A)
    score_path = dpre @ p["W_ea"].T  # (T, N, E)
    dH_enc = dH_enc + score_path if direct else score_path
    dproj = dpre.sum(axis=0) if sum_t else dpre[-1]  # (N, A)
    db_a = dpre.sum(axis=(0, 1)) if sum_batch else dpre.sum(axis=0)
    grads = {"W_sa": s_prev.T @ dproj, "W_ea": dW_ea, "b_a": db_a, "v_a": dv_a}
    return dproj @ p["W_sa"].T, dH_enc, grads


def solution_additive_attention_backward(dcontext, dalpha, cache):
    guard("solution_additive_attention_backward")
    return _attend_back(dcontext, dalpha, cache)


def _bwd(**kw):
    guard("_bwd")
    return (
        solution_additive_attention_forward,
        lambda dc, da, cache: _attend_back(dc, da, cache, **kw),
    )


ADDITIVE_ATTENTION_BACKWARD = (
    Mistake(
        "the softmax's Jacobian replaced by its diagonal, de = alpha ⊙ (1 − alpha) ⊙ dalpha; "
        "every weight depends on every score: de = alpha ⊙ (dalpha − Σ_t alpha dalpha)",
        11,
        _bwd(jacobian=False),
    ),
    Mistake("the upstream dalpha ignored", 11, _bwd(use_dalpha=False)),
    Mistake(
        "the path from the context to the weights left out; the context depends on alpha, "
        "so dalpha gains H_enc[t, n] · dcontext[n]",
        11,
        _bwd(context_path=False),
    ),
    Mistake(
        "the mask forgotten in the backward pass (the weights recomputed without it)",
        11,
        _bwd(masked=False),
    ),
    Mistake(
        "dH_enc missing the direct path through the context, alpha[n, t] · dcontext[n]",
        11,
        _bwd(direct=False),
    ),
    Mistake(
        "the gradient of s_prev W_sa taken from the last position only; it was broadcast "
        "over every t, so sum it over t",
        11,
        _bwd(sum_t=False),
    ),
    Mistake("db_a summed over t but not over the batch", 11, _bwd(sum_batch=False)),
    Mistake(
        "1 − tanh used for the derivative of tanh; it is 1 − tanh²", 11, _bwd(tanh_square=False)
    ),
)
