"""Numerical gradient checking by centred differences.

Taught in chapter 4, Backpropagation through time: every backward pass in the
book is compared with these numbers before it is trusted.

A function under test is written as ``f(arrays) -> output`` over a dict of
named arrays, so one checker serves a cell (``x``, ``h_prev``, ``W_xh`` ...), a
whole sequence or a loss. The scalar that is differentiated is
``sum(f(arrays) * dout)``; with ``dout`` drawn at random, every entry of the
output takes part, which catches a backward pass that is right only for a
gradient of ones.

Unlike CS231n's checker, nothing here modifies the caller's arrays: each
probe perturbs a private float64 copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ._validate import check_array, check_positive

__all__ = ["numerical_gradient", "relative_error", "gradcheck"]


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _scalar(f, arrays, dout) -> float:
    outputs = _as_tuple(f(arrays))
    if len(outputs) != len(dout):
        raise ValueError(f"f returned {len(outputs)} outputs but dout has {len(dout)} arrays")
    return float(sum(np.sum(np.asarray(o, dtype=np.float64) * d) for o, d in zip(outputs, dout)))


def _prepare(f, inputs, dout):
    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be a dict of named arrays, got {type(inputs).__name__}")
    arrays = {}
    for key, value in inputs.items():
        check_array(f"inputs[{key!r}]", value, tuple(f"d{i}" for i in range(np.ndim(value))))
        arrays[key] = np.array(value, dtype=np.float64, copy=True)
    if dout is None:
        dout = tuple(np.ones_like(np.asarray(o, dtype=np.float64)) for o in _as_tuple(f(arrays)))
    return arrays, tuple(np.asarray(d, dtype=np.float64) for d in _as_tuple(dout))


def _numeric_entries(f, arrays, dout, name, indices, eps):
    """Centred differences of the scalar at the given flat indices of ``arrays[name]``."""
    flat = arrays[name].reshape(-1)  # a view: the probe writes into the private copy
    grad = np.zeros(len(indices))
    for k, i in enumerate(indices):
        saved = flat[i]
        flat[i] = saved + eps
        plus = _scalar(f, arrays, dout)
        flat[i] = saved - eps
        minus = _scalar(f, arrays, dout)
        flat[i] = saved  # restore before the next probe: later entries see the original point
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def numerical_gradient(
    f: Callable, inputs: Mapping[str, np.ndarray], name: str, dout=None, eps: float = 1e-6
) -> np.ndarray:
    """Gradient of ``sum(f(arrays) * dout)`` with respect to ``inputs[name]``.

    Parameters
    ----------
    f : callable
        ``f(arrays) -> ndarray`` or a tuple of ndarrays.
    inputs : dict of str to ndarray
        The point at which to differentiate; never modified.
    name : str
        Which array to differentiate with respect to.
    dout : ndarray or tuple of ndarray, optional
        Weights of each output (shapes of f's outputs); ones when omitted.
    eps : float
        Half the width of the centred difference.

    Returns
    -------
    grad : ndarray of the shape of ``inputs[name]``, float64
    """
    check_positive("eps", eps)
    arrays, dout = _prepare(f, inputs, dout)
    if name not in arrays:
        raise ValueError(f"name {name!r} is not one of the inputs: {', '.join(arrays)}")
    indices = np.arange(arrays[name].size)
    grad = _numeric_entries(f, arrays, dout, name, indices, eps)
    return grad.reshape(arrays[name].shape)


def relative_error(a, b) -> float:
    """``‖a − b‖ / max(‖a‖ + ‖b‖, 1e-12)`` with Frobenius norms.

    Norms rather than entry by entry, so that entries that are zero up to
    rounding (a gradient of 1e-13 against 0) do not dominate.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def gradcheck(
    f: Callable,
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    dout=None,
    sparse: int | None = None,
    rng: np.random.Generator | None = None,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Relative error between analytic and numerical gradients, one number per array.

    Parameters
    ----------
    f : callable
        ``f(arrays) -> ndarray`` or a tuple of ndarrays.
    inputs : dict of str to ndarray
        The point of the check; never modified.
    analytic : dict of str to ndarray
        The gradients your backward pass computed, keyed like ``inputs``; each
        has the shape of the input it belongs to.
    dout : ndarray or tuple of ndarray, optional
        The upstream gradient your backward pass was given; ones when omitted.
    sparse : int, optional
        Check only this many randomly chosen entries of each array (large
        arrays); all entries when omitted.
    rng : numpy.random.Generator, optional
        Chooses the sparse entries; required with ``sparse``.
    eps : float
        Half the width of the centred difference.

    Returns
    -------
    errors : dict of str to float
        ``relative_error`` for each name in ``analytic``; below 1e-7 in float64
        means the backward pass is right.
    """
    check_positive("eps", eps)
    if sparse is not None:
        check_positive("sparse", sparse)
        if not isinstance(rng, np.random.Generator):
            raise TypeError("gradcheck(sparse=k) needs rng=np.random.default_rng(seed)")
    arrays, dout = _prepare(f, inputs, dout)
    errors = {}
    for name, grad in analytic.items():
        if name not in arrays:
            raise ValueError(f"analytic gradient {name!r} has no matching input")
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != arrays[name].shape:
            raise ValueError(
                f"analytic gradient {name!r} has shape {grad.shape} but the input has "
                f"shape {arrays[name].shape}"
            )
        size = arrays[name].size
        if sparse is None or sparse >= size:
            indices = np.arange(size)
        else:
            indices = rng.choice(size, size=int(sparse), replace=False)
        numeric = _numeric_entries(f, arrays, dout, name, indices, eps)
        errors[name] = relative_error(grad.reshape(-1)[indices], numeric)
    return errors
