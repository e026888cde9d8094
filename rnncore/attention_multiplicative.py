"""Multiplicative attention scores: Luong's "general" form and the (scaled) dot product.

Taught in chapter 11, Sequence to sequence and attention. Luong, Pham &
Manning (2015) replace the additive score's hidden layer by one bilinear form::

    general:      e[n, t] = s_prev[n] W_a · H_enc[t, n]
    dot product:  e[n, t] = s_prev[n] · H_enc[t, n]      (divided by √E when scaled)

The masked softmax over t and the weighted sum are those of
:mod:`rnncore.attention`. Scaling the dot product by 1/√E is Vaswani et al.'s
(2017) "scaled dot-product attention": for unit-variance entries the score's
variance is E, so without the factor the softmax saturates as E grows.

Letters in shapes: N batch size, T source positions, S decoder state size,
E encoder state size.
"""

from __future__ import annotations

import math

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_int, check_params, check_rng
from .attention import (
    AttentionCache,
    _check_dtype,
    _check_inputs,
    _check_upstream,
    _masked_softmax,
    _scores_gradient,
    _uniform,
    _weighted_sum,
)

__all__ = [
    "general_attention_forward",
    "general_attention_backward",
    "dot_attention_forward",
    "dot_attention_backward",
    "init_general_attention_params",
]

GENERAL_SHAPES = {"W_a": ("S", "E")}


def general_attention_forward(s_prev, H_enc, params, mask=None):
    """Luong's "general" multiplicative attention: ``e[n, t] = s_prev[n] W_a · H_enc[t, n]``.

    Luong, Pham & Manning (2015). One matrix replaces the additive score's
    hidden layer; the softmax and the context are as in
    :func:`additive_attention_forward`. Taught in chapter 11, Sequence to
    sequence and attention.

    Parameters
    ----------
    s_prev : ndarray of shape (N, S)
    H_enc : ndarray of shape (T, N, E)
    params : dict
        ``W_a`` of shape (S, E) (:func:`init_general_attention_params`).
    mask : ndarray of shape (T, N), bool or 0/1, optional
        True for real positions; every column needs one.

    Returns
    -------
    context : ndarray of shape (N, E)
    alpha : ndarray of shape (N, T)
        Exactly 0 at masked positions.
    cache : AttentionCache
        Opaque; pass it to :func:`general_attention_backward`.
    """
    guard("general_attention_forward")
    where = "general_attention_forward"
    sizes, keep = _check_inputs(s_prev, H_enc, mask, where)
    check_params("params", params, GENERAL_SHAPES, sizes, where=where)
    query = s_prev @ params["W_a"]  # (N, E)
    scores = np.einsum("ne,tne->nt", query, H_enc)  # (N, T)
    alpha = _masked_softmax(scores, keep)
    context = _weighted_sum(alpha, H_enc)
    cache = AttentionCache("general", s_prev, H_enc, alpha, {"W_a": params["W_a"]}, None, 1.0)
    return context, alpha, cache


def general_attention_backward(dcontext, dalpha, cache):
    """Backward pass of :func:`general_attention_forward`.

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    dcontext : ndarray of shape (N, E)
    dalpha : ndarray of shape (N, T) or None
    cache : AttentionCache
        From :func:`general_attention_forward`.

    Returns
    -------
    ds_prev : ndarray of shape (N, S)
    dH_enc : ndarray of shape (T, N, E)
    grads : dict
        ``W_a`` of shape (S, E).
    """
    guard("general_attention_backward")
    _check_upstream(dcontext, dalpha, cache, "general", "general_attention_backward")
    W_a, H_enc, s_prev = cache.params["W_a"], cache.H_enc, cache.s_prev
    dH_enc, de = _scores_gradient(dcontext, dalpha, cache)
    query = s_prev @ W_a  # (N, E)
    dH_enc += de.T[:, :, None] * query[None, :, :]  # (T, N, E) each position met the query
    dquery = np.einsum("nt,tne->ne", de, H_enc)  # (N, E)
    return dquery @ W_a.T, dH_enc, {"W_a": s_prev.T @ dquery}


def dot_attention_forward(s_prev, H_enc, mask=None, scaled=True):
    """Dot-product attention, ``e[n, t] = s_prev[n] · H_enc[t, n]``, scaled by 1/√E by default.

    No parameters; the decoder state and the encoder states must have the same
    size (S = E). ``scaled=True`` is the scaled dot product of Vaswani et al.
    (2017), ``scaled=False`` Luong et al.'s (2015) "dot" score. Taught in
    chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    s_prev : ndarray of shape (N, E)
    H_enc : ndarray of shape (T, N, E)
    mask : ndarray of shape (T, N), bool or 0/1, optional
        True for real positions; every column needs one.
    scaled : bool
        Divide the scores by √E.

    Returns
    -------
    context : ndarray of shape (N, E)
    alpha : ndarray of shape (N, T)
    cache : AttentionCache
        Opaque; pass it to :func:`dot_attention_backward`.
    """
    guard("dot_attention_forward")
    where = "dot_attention_forward"
    if not isinstance(scaled, bool):
        raise TypeError(f"{where}: scaled must be True or False, got {scaled!r}")
    sizes = Sizes()
    check_array("s_prev", s_prev, ("N", "E"), sizes, where=where)
    _, keep = _check_inputs(s_prev, H_enc, mask, where)
    check_array("H_enc", H_enc, ("T", "N", "E"), sizes, where=where)  # E must match s_prev
    scale = 1 / math.sqrt(H_enc.shape[-1]) if scaled else 1.0  # a Python float keeps float32
    scores = scale * np.einsum("ne,tne->nt", s_prev, H_enc)  # (N, T)
    alpha = _masked_softmax(scores, keep)
    context = _weighted_sum(alpha, H_enc)
    return context, alpha, AttentionCache("dot", s_prev, H_enc, alpha, {}, None, float(scale))


def dot_attention_backward(dcontext, dalpha, cache):
    """Backward pass of :func:`dot_attention_forward`.

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    dcontext : ndarray of shape (N, E)
    dalpha : ndarray of shape (N, T) or None
    cache : AttentionCache
        From :func:`dot_attention_forward`.

    Returns
    -------
    ds_prev : ndarray of shape (N, E)
    dH_enc : ndarray of shape (T, N, E)
    grads : dict
        Empty: the score has no parameters.
    """
    guard("dot_attention_backward")
    _check_upstream(dcontext, dalpha, cache, "dot", "dot_attention_backward")
    H_enc, s_prev = cache.H_enc, cache.s_prev
    dH_enc, de = _scores_gradient(dcontext, dalpha, cache)
    de = cache.scale * de  # (N, T) through the 1/√E factor
    dH_enc += de.T[:, :, None] * s_prev[None, :, :]  # (T, N, E)
    ds_prev = np.einsum("nt,tne->ne", de, H_enc)  # (N, E)
    return ds_prev, dH_enc, {}


def init_general_attention_params(S, E, rng, dtype=np.float64):
    """Random parameters of Luong's general attention, Uniform(−1/√S, 1/√S).

    Taught in chapter 11, Sequence to sequence and attention.

    Parameters
    ----------
    S : int
        Decoder state size.
    E : int
        Encoder state size.
    rng : numpy.random.Generator
    dtype : floating dtype

    Returns
    -------
    params : dict
        ``W_a`` of shape (S, E).
    """
    guard("init_general_attention_params")
    where = "init_general_attention_params"
    S, E = check_int("S", S, 1, where), check_int("E", E, 1, where)
    check_rng(rng, where)
    _check_dtype(dtype, where)
    return {"W_a": _uniform((S, E), S, rng, dtype)}
