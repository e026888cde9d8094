"""Measuring vanishing and exploding gradients in a vanilla RNN.

Taught in chapter 5, Gradient pathologies. Backpropagation through time
multiplies the gradient by one Jacobian per step,

    ∂h_t/∂h_{t-1} = diag(1 − h_t²) W_hhᵀ     (for one sequence, h_t a column),

so the gradient that reaches an early state shrinks or grows geometrically
with the distance, depending on the singular values of ``W_hh`` and on how
saturated tanh is. The two functions here measure that on a concrete
sequence, without any loss function of a real task:

* :func:`gradient_norms_over_time` follows one gradient back in time, for the
  loss ``L = sum(H[T-1])`` (every unit of the last hidden state, every
  sequence of the batch);
* :func:`jacobian_product_norms` measures the worst case over all directions,
  the spectral norm of ``∂H[T-1]/∂H[t]`` per sequence.

Indices refer to the hidden states of ``rnn_forward``: ``H[t]`` is the state
after step t, t = 0 .. T-1. Letters in shapes: T time steps, N batch size,
D input features, H hidden units.
"""

from __future__ import annotations

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_params

__all__ = ["gradient_norms_over_time", "jacobian_product_norms"]

PARAM_SHAPES = {"W_xh": ("D", "H"), "W_hh": ("H", "H"), "b_h": ("H",)}


def _states(X, h0, params, where):
    """Validate the arguments and return every hidden state H (T, N, H)."""
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where=where)
    check_params("params", params, PARAM_SHAPES, sizes, where=where)
    if h0 is not None:
        check_array("h0", h0, ("N", "H"), sizes, where=where)
    if sizes["T"] == 0:
        raise ValueError(f"{where}: X has no time steps (T = 0); it needs T >= 1")
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    h = np.zeros((sizes["N"], sizes["H"]), dtype=X.dtype) if h0 is None else h0
    H = []
    for x in X:
        h = np.tanh(x @ W_xh + h @ W_hh + b_h)  # (N, H)
        H.append(h)
    return np.stack(H)  # (T, N, H)


def gradient_norms_over_time(X, h0, params):
    """Norms ``‖∂L/∂H[t]‖`` for ``L = sum(H[T-1])``, by the BPTT recursion.

    Taught in chapter 5, Gradient pathologies. Starting from
    ``∂L/∂H[T-1] = 1`` (an array of ones of shape (N, H)), each step back is

        ∂L/∂H[t-1] = (∂L/∂H[t] ⊙ (1 − H[t]²)) W_hhᵀ,

    and the Frobenius norm is taken over the whole batch. A curve that falls
    (rises) geometrically towards t = 0 shows vanishing (exploding) gradients.
    The last entry is always ``sqrt(N * H)``.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major; T >= 1.
    h0 : ndarray of shape (N, H) or None
        Initial hidden state; None means zeros.
    params : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,).

    Returns
    -------
    norms : ndarray of shape (T,)
        ``norms[t] = ‖∂L/∂H[t]‖``, in X's dtype.
    """
    guard("gradient_norms_over_time")
    H = _states(X, h0, params, "gradient_norms_over_time")
    W_hh = params["W_hh"]
    T = H.shape[0]
    norms = np.empty(T, dtype=H.dtype)
    grad = np.ones_like(H[-1])  # (N, H) ∂L/∂H[T-1] for L = sum(H[T-1])
    norms[T - 1] = np.linalg.norm(grad)
    for t in range(T - 1, 0, -1):
        grad = (grad * (1 - H[t] ** 2)) @ W_hh.T  # (N, H) through tanh, then W_hh
        norms[t - 1] = np.linalg.norm(grad)
    return norms


def jacobian_product_norms(X, h0, params):
    """Spectral norms ``‖∂H[T-1]/∂H[t]‖₂`` for each sequence of the batch.

    Taught in chapter 5, Gradient pathologies. For one sequence the Jacobian
    of the last state with respect to ``H[t]`` is the product of the step
    Jacobians ``J_s = diag(1 − H[s]²) W_hhᵀ`` for s = T-1 down to t+1; its
    largest singular value bounds how much any gradient can grow on the way
    from step T-1 back to step t. The last entry (the identity) is 1.

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major; T >= 1.
    h0 : ndarray of shape (N, H) or None
        Initial hidden state; None means zeros.
    params : dict
        ``W_xh`` of shape (D, H), ``W_hh`` of shape (H, H), ``b_h`` of shape (H,).

    Returns
    -------
    norms : ndarray of shape (T, N)
        ``norms[t, n]`` for sequence n.
    """
    guard("jacobian_product_norms")
    H = _states(X, h0, params, "jacobian_product_norms")
    W_hh = params["W_hh"]
    T, N, Hs = H.shape
    norms = np.empty((T, N), dtype=H.dtype)
    product = np.broadcast_to(np.eye(Hs, dtype=H.dtype), (N, Hs, Hs))  # (N, H, H) ∂H[T-1]/∂H[T-1]
    norms[T - 1] = np.linalg.norm(product, ord=2, axis=(1, 2))
    for t in range(T - 1, 0, -1):
        step = (1 - H[t] ** 2)[:, :, None] * W_hh.T  # (N, H, H) diag(1 − H[t]²) W_hhᵀ
        product = product @ step  # (N, H, H) ∂H[T-1]/∂H[t-1]
        norms[t - 1] = np.linalg.norm(product, ord=2, axis=(1, 2))
    return norms
