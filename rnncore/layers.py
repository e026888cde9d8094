"""The layers around a recurrent core: the output (affine) layer and the embedding.

Taught in chapter 3, Softmax and the loss (the output layer ``o = h W_hq +
b_q`` applied at every time step) and chapter 1, One-hot vocabularies (the
embedding as a row lookup), both used by the language models of chapter 9.

Letters in shapes: T time steps, N batch size, H hidden units, V vocabulary
size (outputs), E embedding size; ``...`` any leading shape, usually (T, N).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_ids

__all__ = ["affine_forward", "affine_backward", "embedding_forward", "embedding_backward"]

# Letters for the leading axes of an input, by its number of dimensions, so that a
# wrong shape is reported as "(T, N, H)" rather than in anonymous letters.
_LEADING = {1: (), 2: ("N",), 3: ("T", "N")}


def _leading(ndim: int) -> tuple:
    return _LEADING.get(ndim, tuple(f"d{i}" for i in range(ndim - 1)))


def _from_forward(spec: tuple, shape: tuple) -> Sizes:
    """Sizes bound from the forward pass, for checking an upstream gradient."""
    sizes = Sizes()
    for letter, size in zip(spec, shape):
        sizes.bind(letter, int(size), "the forward pass")
    return sizes


class AffineCache(NamedTuple):
    """What :func:`affine_backward` needs from the forward pass."""

    X: np.ndarray  # (..., H) input, kept by reference (never written to)
    W: np.ndarray  # (H, V)


class EmbeddingCache(NamedTuple):
    """What :func:`embedding_backward` needs from the forward pass."""

    ids: np.ndarray  # (T, N) token ids
    W_shape: tuple  # (V, E)
    dtype: np.dtype  # W's dtype, so that dW matches it


def affine_forward(X, W, b):
    """An affine map over the last axis: ``out = X W + b``, at every position at once.

    For the output layer of a recurrent network ``X`` is the hidden states
    ``H`` of shape (T, N, H) and ``out`` the logits of shape (T, N, V): one
    matrix product covers every time step. Taught in chapter 3, Softmax and the
    loss.

    Parameters
    ----------
    X : ndarray of shape (..., H)
        Inputs, features along the last axis (``(T, N, H)``, ``(N, H)`` ...).
    W : ndarray of shape (H, V)
    b : ndarray of shape (V,)

    Returns
    -------
    out : ndarray of shape (..., V)
    cache : AffineCache
        Opaque; pass it to :func:`affine_backward`.
    """
    guard("affine_forward")
    where = "affine_forward"
    sizes = Sizes()
    if not isinstance(X, np.ndarray) or X.ndim == 0:
        check_array("X", X, ("N", "H"), sizes, where=where)  # raises with the expected shape
    check_array("X", X, _leading(X.ndim) + ("H",), sizes, where=where)
    check_array("W", W, ("H", "V"), sizes, where=where)
    check_array("b", b, ("V",), sizes, where=where)
    out = X @ W + b  # (..., V) matmul broadcasts over the leading axes
    return out, AffineCache(X, W)


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    The weights are shared by every position, so their gradient sums the
    contributions of all of them (all time steps and all sequences). Taught
    in chapter 4, Backpropagation through time.

    Parameters
    ----------
    dout : ndarray of shape (..., V)
        Gradient of the loss with respect to ``out``.
    cache : AffineCache
        From :func:`affine_forward`.

    Returns
    -------
    dX : ndarray of shape (..., H)
    dW : ndarray of shape (H, V)
    db : ndarray of shape (V,)
    """
    guard("affine_backward")
    if not isinstance(cache, AffineCache):
        raise TypeError(
            f"cache must be the AffineCache returned by affine_forward, got {type(cache).__name__}"
        )
    X, W = cache
    out_shape = X.shape[:-1] + (W.shape[1],)
    spec = _leading(X.ndim) + ("V",)
    check_array("dout", dout, spec, _from_forward(spec, out_shape), where="affine_backward")

    dX = dout @ W.T  # (..., H)
    X_rows = X.reshape(-1, W.shape[0])  # (L, H) every position is one row
    dout_rows = dout.reshape(-1, W.shape[1])  # (L, V)
    dW = X_rows.T @ dout_rows  # (H, V) summed over all positions
    db = dout_rows.sum(axis=0)  # (V,)
    return dX, dW, db


def embedding_forward(ids, W):
    """Embed a batch of token sequences: ``X[t, n] = W[ids[t, n]]``.

    The same as ``one_hot(ids, V) @ W`` without building the one-hot vectors.
    Taught in chapter 1, One-hot vocabularies (used by the word models of
    chapter 9).

    Parameters
    ----------
    ids : ndarray of shape (T, N), integer
        Token ids, ``0 <= ids < V``.
    W : ndarray of shape (V, E)
        The embedding table, one row per token.

    Returns
    -------
    X : ndarray of shape (T, N, E)
    cache : EmbeddingCache
        Opaque; pass it to :func:`embedding_backward`.
    """
    guard("embedding_forward")
    where = "embedding_forward"
    sizes = Sizes()
    check_array("W", W, ("V", "E"), sizes, where=where)
    check_ids("ids", ids, sizes["V"], ("T", "N"), sizes, where=where)
    X = W[ids]  # (T, N, E) fancy indexing copies the rows
    return X, EmbeddingCache(ids.copy(), W.shape, W.dtype)


def embedding_backward(dX, cache):
    """Gradient of the embedding table.

    Row ``v`` of ``dW`` is the sum of ``dX[t, n]`` over every position where
    token ``v`` occurs; a token that occurs twice gets both contributions
    (``np.add.at`` accumulates repeated indices, ``dW[ids] += dX`` would not).
    Taught in chapter 4, Backpropagation through time.

    Parameters
    ----------
    dX : ndarray of shape (T, N, E)
        Gradient of the loss with respect to the embedded inputs.
    cache : EmbeddingCache
        From :func:`embedding_forward`.

    Returns
    -------
    dW : ndarray of shape (V, E)
        Zero in the rows of tokens that did not occur.
    """
    guard("embedding_backward")
    if not isinstance(cache, EmbeddingCache):
        raise TypeError(
            "cache must be the EmbeddingCache returned by embedding_forward, got "
            f"{type(cache).__name__}"
        )
    spec = ("T", "N", "E")
    sizes = _from_forward(spec, cache.ids.shape + cache.W_shape[1:])
    check_array("dX", dX, spec, sizes, where="embedding_backward")
    dW = np.zeros(cache.W_shape, dtype=cache.dtype)  # (V, E)
    np.add.at(dW, cache.ids, dX)  # repeated ids accumulate
    return dW
