"""Deep (stacked) recurrent networks: the hidden states of one layer are the next one's inputs.

Taught in chapter 8, Bidirectional and deep RNNs::

    H_0 = X
    H_l = recurrent_l(H_{l-1})      for l = 1 .. L  (stored as layer0 .. layer{L-1})

Each layer may be bidirectional, in which case it outputs 2H features and the
next layer reads 2H. Parameters live in one flat dict with a prefix per layer:
``layer0.W_xh``, ``layer1.W_xh`` ..., or ``layer0.fwd.W_xh``,
``layer0.bwd.W_xh`` ... when bidirectional. Other keys (a language model's
``embed.W`` or ``out.W_hq``) are ignored, so a whole model's dict can be passed.

Letters in shapes: T time steps, N batch size, D input features, H hidden
units (per direction), L number of layers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from ._guard import guard
from ._validate import Sizes, check_array, check_params
from .bidirectional import (
    _bidirectional_backward,
    _bidirectional_forward,
    _check_directions,
    _sub_params,
)
from .bidirectional import init_bidirectional_params as _init_bidirectional_params
from .recurrent import (
    _RUN_OPTIONS,
    _backward,
    _check_cell,
    _check_options,
    _forward,
    _param_specs,
    _reset_after,
    init_params,
)

__all__ = ["stacked_forward", "stacked_backward", "init_stacked_params"]

_LAYER_KEY = re.compile(r"^layer(\d+)\.")


class StackedCache(NamedTuple):
    """What :func:`stacked_backward` needs from the forward pass."""

    layers: list  # one RecurrentCache or BidirectionalCache per layer, bottom first
    bidirectional: bool
    out_shape: tuple  # (T, N, H) or (T, N, 2H) of the top layer's output


def _infer_num_layers(params, num_layers, where: str) -> int:
    """L from the ``layer<k>.`` keys: they must be layer0 .. layer{L-1}, no gaps."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of named arrays, got {type(params).__name__}")
    found = {int(m.group(1)) for k in params if (m := _LAYER_KEY.match(k))}
    if num_layers is not None:
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{where}: num_layers must be a positive int, got {num_layers!r}")
        extra = sorted(k for k in found if k >= num_layers)
        if extra:
            raise ValueError(
                f"{where}: num_layers={num_layers} but params also holds layer{extra[0]}.* keys"
            )
        return num_layers
    if not found:
        raise ValueError(
            f"{where}: params has no 'layer0.' keys; a stacked network's parameters are named "
            "layer0.W_xh, layer1.W_xh, ... (see init_stacked_params)"
        )
    expected = set(range(max(found) + 1))
    if found != expected:
        raise ValueError(
            f"{where}: params has layers {sorted(found)}; layers must be numbered 0, 1, 2, ... "
            f"without gaps (missing layer{min(expected - found)})"
        )
    return len(found)


def _check_layers(X, params, cell, L, bidirectional, reset_after, where) -> None:
    """X and every layer's parameters, with each layer's input width (D, then H or 2H)."""
    sizes = Sizes()
    check_array("X", X, ("T", "N", "D"), sizes, where=where)
    for layer in range(L):
        D = "D" if layer == 0 else (2 if bidirectional else 1) * sizes["H"]
        if bidirectional:
            _check_directions(params, cell, reset_after, sizes, where, f"layer{layer}.", D)
        else:
            specs = {
                f"layer{layer}.{name}": spec
                for name, spec in _param_specs(cell, reset_after, D).items()
            }
            check_params("params", params, specs, sizes, where=where)


def _states_list(states0, L: int, where: str) -> list:
    if states0 is None:
        return [None] * L
    if not isinstance(states0, (list, tuple)) or len(states0) != L:
        raise ValueError(
            f"{where}: states0 must be None or a list with one initial state per layer "
            f"({L}), got {type(states0).__name__}"
            + (f" of length {len(states0)}" if isinstance(states0, (list, tuple)) else "")
        )
    return list(states0)


def stacked_forward(
    X, params, cell="rnn", num_layers=None, bidirectional=False, states0=None, **kw
):
    """Run a deep recurrent network: each layer reads the hidden states of the one below.

    Taught in chapter 8, Bidirectional and deep RNNs. With one layer this is
    exactly ``recurrent_forward`` (or ``bidirectional_forward``).

    Parameters
    ----------
    X : ndarray of shape (T, N, D)
        Inputs, time-major.
    params : dict of str to ndarray
        ``layer<l>.<name>`` (or ``layer<l>.fwd.<name>`` and
        ``layer<l>.bwd.<name>`` when bidirectional) for each layer l and each
        name of ``param_names(cell)``. Layer 0's ``W_x*`` have shape (D, H),
        higher layers' (H, H), or (2H, H) when bidirectional. Other keys are
        ignored.
    cell : {"rnn", "gru", "lstm"}
    num_layers : int, optional
        L; inferred from the ``layer<l>.`` keys when omitted.
    bidirectional : bool
        Every layer is bidirectional.
    states0 : None or list of length L
        Initial state per layer (as in ``recurrent_forward``; a pair
        ``(state0_fwd, state0_bwd)`` for a bidirectional layer), None entries
        meaning zeros; None means zeros everywhere.
    **kw
        ``reset_after`` for ``"gru"`` (inferred from ``b_hn`` keys when omitted);
        ``activation`` (``"tanh"`` or ``"relu"``) for ``"rnn"``.

    Returns
    -------
    H_top : ndarray of shape (T, N, H), or (T, N, 2H) when bidirectional
        Hidden states of the top layer.
    states_T : list of length L
        Final state of each layer, bottom first (a pair per bidirectional layer),
        to start the next chunk of truncated BPTT from.
    cache : StackedCache
        Opaque; pass it to :func:`stacked_backward`.
    """
    guard("stacked_forward")
    where = "stacked_forward"
    _check_cell(cell)
    _check_options(cell, kw, _RUN_OPTIONS, where)
    if not isinstance(bidirectional, bool):
        raise TypeError(f"{where}: bidirectional must be True or False, got {bidirectional!r}")
    L = _infer_num_layers(params, num_layers, where)
    first = "layer0.fwd.b_hn" if bidirectional else "layer0.b_hn"
    kw = {"reset_after": _reset_after(params, kw, first)} if cell == "gru" else dict(kw)
    _check_layers(X, params, cell, L, bidirectional, kw.get("reset_after", False), where)
    states0 = _states_list(states0, L, where)

    inputs, states_T, caches = X, [], []
    for layer in range(L):
        layer_params = _sub_params(params, f"layer{layer}.")
        if bidirectional:
            H, state_T, cache = _bidirectional_forward(
                inputs, layer_params, cell, states0[layer], kw
            )
        else:
            H, state_T, cache = _forward(cell, inputs, states0[layer], layer_params, kw)
        states_T.append(state_T)
        caches.append(cache)
        inputs = H  # (T, N, H) or (T, N, 2H): the next layer's input sequence
    return H, states_T, StackedCache(caches, bidirectional, H.shape)


def stacked_backward(dH_top, cache):
    """Backward pass of :func:`stacked_forward`, from the top layer down.

    Each layer's input gradient is the output gradient of the layer below.
    Taught in chapter 8, Bidirectional and deep RNNs.

    Parameters
    ----------
    dH_top : ndarray of shape (T, N, H), or (T, N, 2H) when bidirectional
        Gradient of the loss with respect to the top layer's hidden states.
    cache : StackedCache
        From :func:`stacked_forward`.

    Returns
    -------
    dX : ndarray of shape (T, N, D)
    grads : dict of str to ndarray
        Keyed like the parameters (``layer<l>.<name>`` or
        ``layer<l>.fwd.<name>``), one entry per parameter the layers used.
    """
    guard("stacked_backward")
    where = "stacked_backward"
    if not isinstance(cache, StackedCache):
        raise TypeError(
            "cache must be the StackedCache returned by stacked_forward, got "
            f"{type(cache).__name__}"
        )
    sizes = Sizes()
    spec = ("T", "N", "2H" if cache.bidirectional else "H")
    for letter, size in zip(spec, cache.out_shape):
        sizes.bind(letter, size, "the forward pass (cache)")
    check_array("dH_top", dH_top, spec, sizes, where=where)

    per_layer, dH = [], dH_top
    for layer_cache in reversed(cache.layers):
        if cache.bidirectional:
            dH, layer_grads = _bidirectional_backward(dH, layer_cache)
        else:
            dH, _, layer_grads = _backward(dH, layer_cache, None)
        per_layer.append(layer_grads)  # dH is now the gradient of the layer below's output
    grads = {}
    for layer, layer_grads in enumerate(reversed(per_layer)):  # bottom layer first
        grads.update({f"layer{layer}.{k}": g for k, g in layer_grads.items()})
    return dH, grads


def init_stacked_params(cell, D, H, num_layers, rng, bidirectional=False, **kw):
    """Random initial parameters of a deep recurrent network, bottom layer first.

    Taught in chapter 8, Bidirectional and deep RNNs.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    D : int
        Input features of the bottom layer.
    H : int
        Hidden units of every layer (per direction).
    num_layers : int
        L, at least 1.
    rng : numpy.random.Generator
    bidirectional : bool
        Make every layer bidirectional (higher layers then read 2H features).
    **kw
        Options of :func:`rnncore.recurrent.init_params` (``dtype``,
        ``reset_after``, ``forget_bias``).

    Returns
    -------
    params : dict of str to ndarray
        ``layer<l>.<name>`` (or ``layer<l>.fwd.<name>``, ``layer<l>.bwd.<name>``)
        for l = 0 .. L-1.
    """
    guard("init_stacked_params")
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(
            f"init_stacked_params: num_layers must be a positive int, got {num_layers!r}"
        )
    if not isinstance(bidirectional, bool):
        raise TypeError(f"bidirectional must be True or False, got {bidirectional!r}")
    params = {}
    for layer in range(num_layers):
        D_in = D if layer == 0 else (2 * H if bidirectional else H)
        make = _init_bidirectional_params if bidirectional else init_params
        params.update({f"layer{layer}.{k}": v for k, v in make(cell, D_in, H, rng, **kw).items()})
    return params
