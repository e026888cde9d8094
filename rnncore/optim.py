"""Gradient clipping and the optimisers used to train the book's networks.

Taught in chapter 4, Backpropagation through time (plain gradient descent)
and chapter 5, Gradient pathologies (clipping, Adagrad and Adam).

Parameters and gradients are flat dicts of named arrays (``W_xh``,
``layer0.fwd.W_hh``, ``out.b_q`` ...), gradients keyed like the parameters.
Every function here is pure: it returns new dicts of new arrays and leaves the
caller's parameters, gradients and optimiser state untouched, so a notebook
cell can be re-run without corrupting the model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._guard import guard
from ._validate import check_array, check_positive

__all__ = [
    "global_norm",
    "clip_grad_norm",
    "clip_grad_value",
    "sgd_step",
    "adagrad_init",
    "adagrad_step",
    "adam_init",
    "adam_step",
]


def _spec(x) -> tuple:
    return tuple(f"d{i}" for i in range(np.ndim(x)))


def _check_dict(name: str, arrays, where: str) -> Mapping[str, np.ndarray]:
    """A dict of finite floating-point arrays of any shapes."""
    if not isinstance(arrays, Mapping):
        raise TypeError(f"{name} must be a dict of named arrays, got {type(arrays).__name__}")
    for key, value in arrays.items():
        check_array(f"{name}[{key!r}]", value, _spec(value), where=where)
    return arrays


def _check_like(name: str, arrays, params, where: str, ref: str = "params") -> None:
    """``arrays`` has exactly the keys of ``params``, each with the same shape."""
    _check_dict(name, arrays, where)
    missing = [k for k in params if k not in arrays]
    extra = [k for k in arrays if k not in params]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"is missing {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"has keys not in {ref}: {', '.join(map(repr, extra))}")
        raise ValueError(f"{where}: {name} {' and '.join(parts)}; it needs the keys of {ref}")
    for key, value in arrays.items():
        if value.shape != params[key].shape:
            raise ValueError(
                f"{where}: {name}[{key!r}] has shape {value.shape} but {ref}[{key!r}] has "
                f"shape {params[key].shape}"
            )


def _check_grads(params, grads, where: str) -> None:
    _check_dict("params", params, where)
    _check_like("grads", grads, params, where)


def _global_norm(grads) -> float:
    # accumulate in float64 so that a float32 model does not lose the small terms
    return float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads.values())))


def global_norm(grads):
    """The norm of all gradients taken together as one long vector.

    ``sqrt(sum over arrays of sum of squares)``; this is the norm that
    :func:`clip_grad_norm` caps. Taught in chapter 5, Gradient pathologies
    (watching it explode).

    Parameters
    ----------
    grads : dict of str to ndarray
        Arrays of any shapes.

    Returns
    -------
    norm : float
    """
    guard("global_norm")
    _check_dict("grads", grads, "global_norm")
    return _global_norm(grads)


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    If ``norm = global_norm(grads) > max_norm``, every gradient is multiplied by
    ``max_norm / norm``: the update keeps its direction and only its length is
    capped (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training
    recurrent neural networks"). Below the threshold nothing changes.

    Taught in chapter 5, Gradient pathologies.

    Parameters
    ----------
    grads : dict of str to ndarray
        Arrays of any shapes.
    max_norm : float
        The largest global norm allowed, positive.

    Returns
    -------
    clipped : dict of str to ndarray
        New arrays, keyed and shaped like ``grads``.
    total_norm : float
        The global norm before clipping (worth logging: spikes show explosions).
    """
    guard("clip_grad_norm")
    _check_dict("grads", grads, "clip_grad_norm")
    check_positive("max_norm", max_norm)
    total_norm = _global_norm(grads)
    if total_norm <= max_norm:
        return {k: g.copy() for k, g in grads.items()}, total_norm
    scale = max_norm / total_norm
    return {k: g * g.dtype.type(scale) for k, g in grads.items()}, total_norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry to ``[-clip_value, clip_value]``.

    Simpler than norm clipping but it changes the direction of the update
    (each entry is capped on its own). Taught in chapter 5, Gradient
    pathologies (min-char-rnn clips at 5 this way).

    Parameters
    ----------
    grads : dict of str to ndarray
        Arrays of any shapes.
    clip_value : float
        Positive bound.

    Returns
    -------
    clipped : dict of str to ndarray
        New arrays, keyed and shaped like ``grads``.
    """
    guard("clip_grad_value")
    _check_dict("grads", grads, "clip_grad_value")
    check_positive("clip_value", clip_value)
    return {
        k: np.clip(g, -clip_value, clip_value).astype(g.dtype, copy=False) for k, g in grads.items()
    }


def sgd_step(params, grads, lr):
    """One step of gradient descent: ``p <- p - lr * g`` for every parameter.

    Taught in chapter 4, Backpropagation through time.

    Parameters
    ----------
    params : dict of str to ndarray
    grads : dict of str to ndarray
        Same keys and shapes as ``params``.
    lr : float
        Learning rate, positive.

    Returns
    -------
    new_params : dict of str to ndarray
        New arrays; ``params`` is unchanged.
    """
    guard("sgd_step")
    _check_grads(params, grads, "sgd_step")
    check_positive("lr", lr)
    return {k: p - p.dtype.type(lr) * grads[k] for k, p in params.items()}


def _check_state(state, keys: tuple[str, ...], params, where: str, maker: str) -> None:
    if not isinstance(state, Mapping) or any(k not in state for k in keys):
        raise TypeError(
            f"{where}: state must be the dict returned by {maker}(params) or by the previous "
            f"step, got {type(state).__name__}"
        )
    for key in keys:
        if key != "t":
            _check_like(f"state[{key!r}]", state[key], params, where)
    if "t" in keys:
        t = state["t"]
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
            raise ValueError(f"{where}: state['t'] must be a step count >= 0, got {t!r}")


def adagrad_init(params):
    """Fresh Adagrad state: a zero sum of squared gradients per parameter.

    Taught in chapter 5, Gradient pathologies.

    Parameters
    ----------
    params : dict of str to ndarray

    Returns
    -------
    state : dict
        ``{"sum_sq": {name: zeros like params[name]}}``.
    """
    guard("adagrad_init")
    _check_dict("params", params, "adagrad_init")
    return {"sum_sq": {k: np.zeros_like(p) for k, p in params.items()}}


def adagrad_step(params, grads, state, lr, eps=1e-8):
    """One Adagrad step: each entry's step shrinks with its own gradient history.

    ``G <- G + g^2``, ``p <- p - lr * g / (sqrt(G) + eps)`` (Duchi, Hazan &
    Singer 2011; min-char-rnn trains with it). The first step moves every
    entry by ``lr * g / (|g| + eps)``, almost ``lr`` in the direction of
    ``-g``. Taught in chapter 5, Gradient pathologies.

    Parameters
    ----------
    params : dict of str to ndarray
    grads : dict of str to ndarray
        Same keys and shapes as ``params``.
    state : dict
        From :func:`adagrad_init` or the previous step.
    lr : float
        Learning rate, positive.
    eps : float
        Keeps the division finite where ``G`` is 0.

    Returns
    -------
    new_params : dict of str to ndarray
    new_state : dict
        The caller's ``state`` is unchanged.
    """
    guard("adagrad_step")
    where = "adagrad_step"
    _check_grads(params, grads, where)
    _check_state(state, ("sum_sq",), params, where, "adagrad_init")
    check_positive("lr", lr)
    check_positive("eps", eps)
    new_params, sum_sq = {}, {}
    for k, p in params.items():
        g = grads[k]
        sum_sq[k] = state["sum_sq"][k] + g * g
        new_params[k] = p - p.dtype.type(lr) * g / (np.sqrt(sum_sq[k]) + p.dtype.type(eps))
    return new_params, {"sum_sq": sum_sq}


def adam_init(params):
    """Fresh Adam state: zero moments and a step count of 0.

    Taught in chapter 5, Gradient pathologies.

    Parameters
    ----------
    params : dict of str to ndarray

    Returns
    -------
    state : dict
        ``{"t": 0, "m": {name: zeros}, "v": {name: zeros}}``.
    """
    guard("adam_init")
    _check_dict("params", params, "adam_init")
    return {
        "t": 0,
        "m": {k: np.zeros_like(p) for k, p in params.items()},
        "v": {k: np.zeros_like(p) for k, p in params.items()},
    }


def _check_beta(name: str, value) -> None:
    check_positive(name, value, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step with bias-corrected moment estimates (Kingma & Ba 2015).

    ``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g^2``,
    ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)``,
    ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)``. Thanks to the bias
    correction the first step moves every entry by almost exactly ``lr``
    against the sign of its gradient. Taught in chapter 5, Gradient pathologies.

    Parameters
    ----------
    params : dict of str to ndarray
    grads : dict of str to ndarray
        Same keys and shapes as ``params``.
    state : dict
        From :func:`adam_init` or the previous step.
    lr : float
        Learning rate (step size), positive.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float
        Keeps the division finite where ``v_hat`` is 0.

    Returns
    -------
    new_params : dict of str to ndarray
    new_state : dict
        The caller's ``state`` is unchanged.
    """
    guard("adam_step")
    where = "adam_step"
    _check_grads(params, grads, where)
    _check_state(state, ("t", "m", "v"), params, where, "adam_init")
    check_positive("lr", lr)
    _check_beta("beta1", beta1)
    _check_beta("beta2", beta2)
    check_positive("eps", eps)
    t = int(state["t"]) + 1
    correction1 = 1 - beta1**t  # m starts at 0, so early averages are biased towards 0
    correction2 = 1 - beta2**t
    new_params, m, v = {}, {}, {}
    for k, p in params.items():
        g, cast = grads[k], p.dtype.type
        m[k] = cast(beta1) * state["m"][k] + cast(1 - beta1) * g
        v[k] = cast(beta2) * state["v"][k] + cast(1 - beta2) * g * g
        m_hat = m[k] / cast(correction1)
        v_hat = v[k] / cast(correction2)
        new_params[k] = p - cast(lr) * m_hat / (np.sqrt(v_hat) + cast(eps))
    return new_params, {"t": t, "m": m, "v": v}
