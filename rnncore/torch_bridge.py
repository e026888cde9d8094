"""Carry rnncore parameters to and from PyTorch's ``nn.RNN``, ``nn.GRU`` and ``nn.LSTM``.

Taught in chapter 10, Training RNNs in practice ("From rnncore to PyTorch").
Nothing here imports torch: a state dict is a plain ``dict`` of NumPy arrays in
PyTorch's names and shapes, which torch loads with::

    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})

and which comes back with ``{k: v.numpy() for k, v in module.state_dict().items()}``.

The mapping, for layer k (``_lk``; ``_lk_reverse`` for the backward direction):

* rnncore multiplies row vectors from the left (``x @ W_xh`` with ``W_xh`` of
  shape (D, H)); torch stores ``weight_ih_lk`` of shape (G·H, D) and computes
  ``W x``. Every weight is therefore transposed.
* torch stacks the G gates along the rows in its own order: RNN (G = 1); GRU
  r, z, n (n is rnncore's candidate h̃); LSTM i, f, g, o (g is rnncore's
  candidate c).
* torch has two biases per gate, ``bias_ih`` and ``bias_hh``, that are only
  ever added, except in the GRU's candidate, where ``bias_hh``'s n-part sits
  inside the reset gate: that part is rnncore's ``b_hn``
  (``reset_after=True``, the only GRU torch implements). Going to torch, each
  sum goes into ``bias_ih`` and ``bias_hh`` gets zeros; coming back, the two are
  added.
* Names: a single layer's plain keys (``W_xh``), a bidirectional layer's
  ``fwd.``/``bwd.`` keys, and :mod:`rnncore.stacked`'s ``layer{k}.`` and
  ``layer{k}.fwd.``/``layer{k}.bwd.`` prefixes.

Letters in shapes: D input features, H hidden units, G gates (1, 3 or 4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_params
from .recurrent import CELLS, _param_specs

__all__ = ["to_torch_state_dict", "from_torch_state_dict", "TORCH_GATE_ORDER"]

TORCH_GATE_ORDER = {"rnn": ("h",), "gru": ("r", "z", "h"), "lstm": ("i", "f", "c", "o")}
"""rnncore's gate letters in the order torch stacks them (``h``/``c``: the candidate)."""

_TORCH_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")
_STACKED_KEY = re.compile(r"^layer(\d+)\.")


def _units(params: Mapping) -> tuple[list[tuple[int, str, str]], str]:
    """(layer, direction, prefix) of every recurrent unit in the dict, and the layout's name."""
    layers = sorted({int(m.group(1)) for k in params if (m := _STACKED_KEY.match(k))})
    if layers:
        if layers != list(range(len(layers))):
            raise ValueError(
                f"to_torch_state_dict: params has layers {layers}; they must be numbered 0, 1, "
                "2, ... without gaps"
            )
        bidirectional = any(k.startswith("layer0.fwd.") for k in params)
        prefixes = [f"layer{k}." for k in layers]
        layout = "stacked"
    else:
        bidirectional = any(k.startswith("fwd.") for k in params)
        prefixes, layout = [""], "single"
    directions = ("fwd", "bwd") if bidirectional else ("",)
    units = [
        (layer, d, prefix + (f"{d}." if d else ""))
        for layer, prefix in enumerate(prefixes)
        for d in directions
    ]
    return units, layout


def _gru_reset_after(params, first_prefix, reset_after, where):
    has_b_hn = f"{first_prefix}b_hn" in params
    wanted = has_b_hn if reset_after is None else bool(reset_after)
    if not wanted or not has_b_hn:
        raise ValueError(
            f"{where}: torch.nn.GRU computes the reset_after=True cell (the reset gate applied "
            f"to h_prev W_hh + b_hn); these parameters {'have' if has_b_hn else 'lack'} "
            f"'{first_prefix}b_hn' and reset_after={reset_after!r}. Train with "
            "init_params('gru', ..., reset_after=True) to move a GRU to PyTorch"
        )
    return True


def to_torch_state_dict(params, cell, reset_after=None):
    """rnncore recurrent parameters as a PyTorch ``nn.RNN``/``nn.GRU``/``nn.LSTM`` state dict.

    Taught in chapter 10, Training RNNs in practice. Load the result into a
    module built with the same sizes (``num_layers`` = L, ``bidirectional``
    as the parameters, ``batch_first=False`` for rnncore's time-major
    sequences; ``nonlinearity="relu"`` for an RNN trained with
    ``activation="relu"``).

    Parameters
    ----------
    params : dict of str to ndarray
        One layer (keys ``param_names(cell)``), a bidirectional layer
        (``fwd.``/``bwd.``) or a stacked network (``layer{k}.``, possibly
        ``layer{k}.fwd.``); other keys (an embedding, an output layer) are
        ignored. ``W_x*`` of shape (D, H), ``W_h*`` (H, H), biases (H,).
    cell : {"rnn", "gru", "lstm"}
    reset_after : bool, optional
        GRU only: must be True (or None, meaning "the parameters hold
        ``b_hn``"); torch has no GRU with the reset gate before the product.

    Returns
    -------
    state_dict : dict of str to ndarray
        For each layer k and direction (suffix ``_lk`` or ``_lk_reverse``):
        ``weight_ih`` of shape (G·H, D_k), ``weight_hh`` (G·H, H), ``bias_ih``
        and ``bias_hh`` (G·H,), gates in :data:`TORCH_GATE_ORDER`; new arrays
        of the parameters' dtype.
    """
    guard("to_torch_state_dict")
    where = "to_torch_state_dict"
    check_choice("cell", cell, CELLS)
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of named arrays, got {type(params).__name__}")
    units, _ = _units(params)
    if cell == "gru":
        _gru_reset_after(params, units[0][2], reset_after, where)
    elif reset_after:
        raise ValueError(f"{where}: reset_after is a GRU option, not one of {cell!r}")
    gates = TORCH_GATE_ORDER[cell]
    state = {}
    for layer, direction, prefix in units:
        sizes = Sizes()
        specs = _param_specs(cell, cell == "gru")
        check_params(
            "params", params, {prefix + k: s for k, s in specs.items()}, sizes, where=where
        )
        p = {k: params[prefix + k] for k in specs}
        suffix = f"_l{layer}" + ("_reverse" if direction == "bwd" else "")
        zeros = np.zeros_like(p[f"b_{gates[0]}"])  # (H,)
        state["weight_ih" + suffix] = np.concatenate([p[f"W_x{g}"].T for g in gates])  # (GH, D)
        state["weight_hh" + suffix] = np.concatenate([p[f"W_h{g}"].T for g in gates])  # (GH, H)
        state["bias_ih" + suffix] = np.concatenate([p[f"b_{g}"] for g in gates])  # (GH,)
        hh = [zeros] * len(gates)
        if cell == "gru":
            hh[2] = p["b_hn"]  # the part of bias_hh that the reset gate multiplies
        state["bias_hh" + suffix] = np.concatenate(hh)  # (GH,)
    return state


def _parse_torch_keys(state_dict, where):
    found = {}
    for key in state_dict:
        m = _TORCH_KEY.match(key) if isinstance(key, str) else None
        if m is None:
            raise ValueError(
                f"{where}: unexpected key {key!r}; a state dict of torch.nn.RNN/GRU/LSTM holds "
                "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0 (and _l1, ..., _reverse)"
            )
        found.setdefault((int(m.group(2)), m.group(3) is not None), set()).add(m.group(1))
    if not found:
        raise ValueError(f"{where}: state_dict is empty")
    layers = sorted({layer for layer, _ in found})
    bidirectional = any(rev for _, rev in found)
    if layers != list(range(len(layers))):
        raise ValueError(f"{where}: state_dict has layers {layers}; expected 0, 1, 2, ...")
    for layer in layers:
        for rev in (False, True) if bidirectional else (False,):
            missing = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"} - found.get(
                (layer, rev), set()
            )
            if missing:
                name = sorted(missing)[0] + f"_l{layer}" + ("_reverse" if rev else "")
                raise ValueError(
                    f"{where}: state_dict is missing {name!r} (a module built with bias=False "
                    "has no rnncore counterpart)"
                )
    return len(layers), bidirectional


def from_torch_state_dict(state_dict, cell, stacked=None):
    """A PyTorch ``nn.RNN``/``nn.GRU``/``nn.LSTM`` state dict as rnncore parameters.

    The inverse of :func:`to_torch_state_dict` (up to how the two biases are
    split, which only their sum decides). Taught in chapter 10, Training RNNs
    in practice.

    Parameters
    ----------
    state_dict : dict of str to array
        ``weight_ih_lk`` (G·H, D_k), ``weight_hh_lk`` (G·H, H), ``bias_ih_lk``
        and ``bias_hh_lk`` (G·H,), and the ``_reverse`` keys of a bidirectional
        module; NumPy arrays, or anything ``np.asarray`` reads (a CPU tensor
        without gradient, e.g. ``v.numpy()``).
    cell : {"rnn", "gru", "lstm"}
    stacked : bool, optional
        Name the result with :mod:`rnncore.stacked`'s ``layer{k}.`` prefixes.
        None: only when there is more than one layer (one layer gets plain or
        ``fwd.``/``bwd.`` keys, as :mod:`rnncore.recurrent` and
        :mod:`rnncore.bidirectional` expect).

    Returns
    -------
    params : dict of str to ndarray
        ``W_x*`` (D, H), ``W_h*`` (H, H), biases (H,), for each layer and
        direction; a GRU gets ``b_hn`` (run it with ``reset_after=True``, which
        :func:`rnncore.recurrent_forward` infers from that key).
    """
    guard("from_torch_state_dict")
    where = "from_torch_state_dict"
    check_choice("cell", cell, CELLS)
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
    if stacked is not None and not isinstance(stacked, bool):
        raise TypeError(f"{where}: stacked must be True, False or None, got {stacked!r}")
    num_layers, bidirectional = _parse_torch_keys(state_dict, where)
    use_layers = num_layers > 1 if stacked is None else stacked
    if num_layers > 1 and not use_layers:
        raise ValueError(f"{where}: {num_layers} layers need stacked=True (or None)")
    gates = TORCH_GATE_ORDER[cell]
    G = len(gates)
    params = {}
    for layer in range(num_layers):
        for rev in (False, True) if bidirectional else (False,):
            suffix = f"_l{layer}" + ("_reverse" if rev else "")
            arrays = {}
            sizes = Sizes()
            for name, spec in (
                ("weight_ih", ("GH", "D")),
                ("weight_hh", ("GH", "H")),
                ("bias_ih", ("GH",)),
                ("bias_hh", ("GH",)),
            ):
                value = np.asarray(state_dict[name + suffix])
                arrays[name] = check_array(name + suffix, value, spec, sizes, where=where)
            H = sizes["H"]
            if sizes["GH"] != G * H:
                raise ValueError(
                    f"{where}: weight_hh{suffix} has shape {arrays['weight_hh'].shape}, but a "
                    f"{cell!r} stacks {G} gate(s) of H = {H} rows: expected ({G * H}, {H})"
                )
            prefix = (f"layer{layer}." if use_layers else "") + (
                ("bwd." if rev else "fwd.") if bidirectional else ""
            )
            for j, g in enumerate(gates):
                rows = slice(j * H, (j + 1) * H)
                params[f"{prefix}W_x{g}"] = np.ascontiguousarray(arrays["weight_ih"][rows].T)
                params[f"{prefix}W_h{g}"] = np.ascontiguousarray(arrays["weight_hh"][rows].T)
                if cell == "gru" and g == "h":  # the candidate's hh bias sits inside r ⊙ (...)
                    params[f"{prefix}b_h"] = arrays["bias_ih"][rows].copy()
                    params[f"{prefix}b_hn"] = arrays["bias_hh"][rows].copy()
                else:
                    params[f"{prefix}b_{g}"] = arrays["bias_ih"][rows] + arrays["bias_hh"][rows]
    return params
