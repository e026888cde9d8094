"""Attention over the encoder's states: additive (Bahdanau), general and dot-product (Luong).

Taught in chapter 11, Sequence to sequence and attention. At every decoder
step the previous decoder state ``s_prev`` scores each encoder state
``H_enc[t]``; a softmax over the source positions turns the scores into
weights ``alpha`` and the context is the weighted sum of the encoder states::

    additive (Bahdanau et al. 2015):
        e[n, t] = v_a · tanh(s_prev[n] W_sa + H_enc[t, n] W_ea + b_a)
    general (Luong et al. 2015):
        e[n, t] = s_prev[n] W_a · H_enc[t, n]
    dot product (Luong et al. 2015):
        e[n, t] = s_prev[n] · H_enc[t, n]        (divided by √E when scaled)

    alpha[n] = softmax(e[n])  over t, padding masked out (weight exactly 0)
    context[n] = Σ_t alpha[n, t] H_enc[t, n]

The three forms share the masked softmax and the weighted sum, written here
once; only the score differs. The multiplicative scores (and the 1/√E
scaling of Vaswani et al. 2017) live in :mod:`rnncore.attention_multiplicative`.

Letters in shapes: N batch size, T source positions, S decoder state size,
E encoder state size, A attention (hidden) size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_int, check_params, check_rng
from .functional import _check_mask

__all__ = [
    "additive_attention_forward",
    "additive_attention_backward",
    "init_additive_attention_params",
]

ADDITIVE_SHAPES = {"W_sa": ("S", "A"), "W_ea": ("E", "A"), "b_a": ("A",), "v_a": ("A",)}


class AttentionCache(NamedTuple):
    """What the attention backward passes need from their forward pass."""

    kind: str  # "additive", "general" or "dot"
    s_prev: np.ndarray  # (N, S) decoder state that scored the positions
    H_enc: np.ndarray  # (T, N, E) encoder states
    alpha: np.ndarray  # (N, T) attention weights, 0 at padding
    params: dict  # the score's parameters (empty for "dot")
    act: np.ndarray | None  # (T, N, A) tanh of the additive score's hidden layer, else None
    scale: float  # factor on the score (1/√E for scaled dot products, else 1)


# --- the parts every form shares --------------------------------------------------------


def _check_inputs(s_prev, H_enc, mask, where):
    sizes = Sizes()
    check_array("s_prev", s_prev, ("N", "S"), sizes, where=where)
    check_array("H_enc", H_enc, ("T", "N", "E"), sizes, where=where)
    keep = None
    if mask is not None:
        keep = _check_mask(mask, sizes, where)  # (T, N) bool
        empty = np.flatnonzero(~keep.any(axis=0))
        if empty.size:
            raise ValueError(
                f"{where}: mask[:, {int(empty[0])}] is all False: sequence {int(empty[0])} has "
                "no real position to attend to (every column needs at least one True)"
            )
    return sizes, keep


def _masked_softmax(scores, keep):
    """Softmax over t of ``scores`` (N, T); positions where ``keep`` (T, N) is False get 0."""
    if keep is not None:
        scores = np.where(keep.T, scores, -np.inf)  # (N, T) exp(-inf) = 0: exactly no weight
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))  # (N, T)
    return exp / exp.sum(axis=1, keepdims=True)


def _weighted_sum(alpha, H_enc):
    """``context[n] = Σ_t alpha[n, t] H_enc[t, n]`` (summed over time, never over the batch)."""
    return np.einsum("nt,tne->ne", alpha, H_enc)  # (N, E)


def _scores_gradient(dcontext, dalpha, cache):
    """Back through the weighted sum and the softmax: ``dH_enc`` from the sum, and ``de`` (N, T)."""
    alpha, H_enc = cache.alpha, cache.H_enc
    dH_enc = alpha.T[:, :, None] * dcontext[None, :, :]  # (T, N, E)
    dalpha_total = np.einsum("tne,ne->nt", H_enc, dcontext)  # (N, T) context depends on alpha
    if dalpha is not None:
        dalpha_total = dalpha_total + dalpha
    # through the softmax: de_t = alpha_t (dalpha_t - Σ_u alpha_u dalpha_u); 0 where alpha = 0
    weighted = (alpha * dalpha_total).sum(axis=1, keepdims=True)  # (N, 1)
    de = alpha * (dalpha_total - weighted)  # (N, T)
    return dH_enc, de


def _check_upstream(dcontext, dalpha, cache, kind, where):
    if not isinstance(cache, AttentionCache) or cache.kind != kind:
        forward = where.replace("backward", "forward")
        got = type(cache).__name__
        if isinstance(cache, AttentionCache):
            got += f" of {cache.kind!r} attention"
        raise TypeError(f"cache must be the AttentionCache returned by {forward}, got {got}")
    T, N, E = cache.H_enc.shape
    sizes = Sizes()
    for letter, size in (("T", T), ("N", N), ("E", E)):
        sizes.bind(letter, size, "the forward pass (cache)")
    check_array("dcontext", dcontext, ("N", "E"), sizes, where=where)
    if dalpha is not None:
        check_array("dalpha", dalpha, ("N", "T"), sizes, where=where)


# --- additive attention ------------------------------------------------------------------


def additive_attention_forward(s_prev, H_enc, params, mask=None):
    """Additive attention (Bahdanau, Cho & Bengio 2015): weights and context for one decoder step.

    ``e[n, t] = v_a · tanh(s_prev[n] W_sa + H_enc[t, n] W_ea + b_a)``, ``alpha[n]``
    the softmax of ``e[n]`` over t with padding masked out, and ``context[n] =
    Σ_t alpha[n, t] H_enc[t, n]``. Taught in chapter 11, Sequence to sequence
    and attention.

    Parameters
    ----------
    s_prev : ndarray of shape (N, S)
        The decoder's previous state, one row per sequence.
    H_enc : ndarray of shape (T, N, E)
        Encoder states, time-major.
    params : dict
        ``W_sa`` of shape (S, A), ``W_ea`` of shape (E, A), ``b_a`` of shape
        (A,), ``v_a`` of shape (A,) (:func:`init_additive_attention_params`).
    mask : ndarray of shape (T, N), bool or 0/1, optional
        True for real source positions, False for padding; every column needs
        at least one True. None: every position is real.

    Returns
    -------
    context : ndarray of shape (N, E)
    alpha : ndarray of shape (N, T)
        Non-negative, each row summing to 1; exactly 0 at masked positions.
    cache : AttentionCache
        Opaque; pass it to :func:`additive_attention_backward`.
    """
    guard("additive_attention_forward")
    where = "additive_attention_forward"
    sizes, keep = _check_inputs(s_prev, H_enc, mask, where)
    check_params("params", params, ADDITIVE_SHAPES, sizes, where=where)
    W_sa, W_ea, b_a, v_a = (params[k] for k in ADDITIVE_SHAPES)

    pre = H_enc @ W_ea + (s_prev @ W_sa)[None, :, :] + b_a  # (T, N, A) s_prev broadcast over t
    act = np.tanh(pre)  # (T, N, A)
    scores = (act @ v_a).T  # (N, T)
    alpha = _masked_softmax(scores, keep)  # (N, T)
    context = _weighted_sum(alpha, H_enc)  # (N, E)
    used = {k: params[k] for k in ADDITIVE_SHAPES}
    return context, alpha, AttentionCache("additive", s_prev, H_enc, alpha, used, act, 1.0)


def additive_attention_backward(dcontext, dalpha, cache):
    """Backward pass of :func:`additive_attention_forward`.

    Back through the weighted sum (``H_enc`` gets ``alpha``-weighted copies of
    ``dcontext``), through the softmax, through ``v_a ·``, through tanh, and
    into both projections; ``s_prev W_sa`` was shared by every position, so
    its gradient sums over t. Taught in chapter 11, Sequence to sequence and
    attention.

    Parameters
    ----------
    dcontext : ndarray of shape (N, E)
        Gradient of the loss with respect to ``context``.
    dalpha : ndarray of shape (N, T) or None
        Gradient with respect to ``alpha`` when the loss also reads the weights
        directly (a coverage penalty, say); None means zero.
    cache : AttentionCache
        From :func:`additive_attention_forward`.

    Returns
    -------
    ds_prev : ndarray of shape (N, S)
    dH_enc : ndarray of shape (T, N, E)
    grads : dict
        ``W_sa`` (S, A), ``W_ea`` (E, A), ``b_a`` (A,), ``v_a`` (A,).
    """
    guard("additive_attention_backward")
    where = "additive_attention_backward"
    _check_upstream(dcontext, dalpha, cache, "additive", where)
    p, act, H_enc, s_prev = cache.params, cache.act, cache.H_enc, cache.s_prev
    T, N, E = H_enc.shape
    A = act.shape[-1]
    dH_enc, de = _scores_gradient(dcontext, dalpha, cache)  # (T, N, E), (N, T)

    de = de.T  # (T, N)
    dv_a = np.einsum("tna,tn->a", act, de)  # (A,)
    dpre = de[:, :, None] * p["v_a"] * (1 - act**2)  # (T, N, A) through v_a, then through tanh
    dpre_rows = dpre.reshape(T * N, A)
    dW_ea = H_enc.reshape(T * N, E).T @ dpre_rows  # (E, A)
    dH_enc += dpre @ p["W_ea"].T  # (T, N, E) H_enc also fed the score
    dproj_s = dpre.sum(axis=0)  # (N, A) s_prev W_sa was broadcast over t: accumulate
    ds_prev = dproj_s @ p["W_sa"].T  # (N, S)
    grads = {"W_sa": s_prev.T @ dproj_s, "W_ea": dW_ea, "b_a": dpre_rows.sum(axis=0), "v_a": dv_a}
    return ds_prev, dH_enc, grads


# --- initial parameters ------------------------------------------------------------------


def _uniform(shape, fan_in, rng, dtype):
    bound = 1 / np.sqrt(fan_in)  # as torch.nn.Linear: Uniform(-1/√fan_in, 1/√fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _check_dtype(dtype, where):
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"{where}: dtype must be a floating dtype, got {dtype!r}")


def init_additive_attention_params(S, E, A, rng, dtype=np.float64):
    """Random parameters of additive attention, each Uniform(−1/√fan_in, 1/√fan_in).

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    S : int
        Decoder state size.
    E : int
        Encoder state size.
    A : int
        Attention hidden size.
    rng : numpy.random.Generator
    dtype : floating dtype

    Returns
    -------
    params : dict
        ``W_sa`` (S, A), ``W_ea`` (E, A), ``b_a`` (A,), ``v_a`` (A,).
    """
    guard("init_additive_attention_params")
    where = "init_additive_attention_params"
    S, E, A = (check_int(n, v, 1, where) for n, v in (("S", S), ("E", E), ("A", A)))
    check_rng(rng, where)
    _check_dtype(dtype, where)
    return {
        "W_sa": _uniform((S, A), S, rng, dtype),
        "W_ea": _uniform((E, A), E, rng, dtype),
        "b_a": _uniform((A,), E, rng, dtype),
        "v_a": _uniform((A,), A, rng, dtype),
    }
