"""Parameters of the encoder-decoder of :mod:`rnncore.seq2seq`: their names, shapes and start.

Taught in chapter 11, Sequence to sequence and attention. One flat dict holds
the whole model::

    src_embed.W (V_s, M)   tgt_embed.W (V_t, M)        embeddings
    enc.fwd.*  [enc.bwd.*]                              encoder cell(s), reading M features
    bridge.W (E, S)   bridge.b (S,)                    s_0 = tanh(summary W + b)
    att.W_sa, att.W_ea, att.b_a, att.v_a  or  att.W_a  additive or general attention (or none)
    dec.*                                               decoder cell, reading M + E features
    out.W (S + E, V_t)   out.b (V_t,)                   logits from [s_t, context_t]

The encoder's directions and the kind of attention are read from the keys, so
a dict describes its model completely (only the cell type is passed along).

Letters in shapes: M embedding size, E encoder state size (H or 2H), S
decoder state size, A attention size, V_s and V_t the vocabulary sizes.
"""

from __future__ import annotations

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_int, check_rng
from .attention import init_additive_attention_params
from .attention_multiplicative import init_general_attention_params
from .bidirectional import init_bidirectional_params
from .recurrent import CELLS, _param_specs, init_params

__all__ = ["ATTENTIONS", "init_seq2seq_params"]

ATTENTIONS = ("additive", "general", None)


def _sub(params, prefix):
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _attention_kind(params):
    if "att.W_sa" in params:
        return "additive"
    return "general" if "att.W_a" in params else None


def _renamed(specs, letters):
    return {k: tuple(letters.get(x, x) for x in spec) for k, spec in specs.items()}


def _model_specs(params, cell):
    """Shape spec of every parameter, in an order where each letter is fixed before it is summed."""
    bidirectional = any(k.startswith("enc.bwd.") for k in params)
    specs = {"src_embed.W": ("V_s", "M"), "tgt_embed.W": ("V_t", "M")}
    for d in ("fwd", "bwd") if bidirectional else ("fwd",):
        after = cell == "gru" and f"enc.{d}.b_hn" in params
        enc = _renamed(_param_specs(cell, after), {"D": "M", "H": "H_enc"})
        specs.update({f"enc.{d}.{k}": v for k, v in enc.items()})
    specs.update({"bridge.W": ("E", "S"), "bridge.b": ("S",)})
    kind = _attention_kind(params)
    if kind == "additive":
        specs.update(
            {"att.W_sa": ("S", "A"), "att.W_ea": ("E", "A"), "att.b_a": ("A",), "att.v_a": ("A",)}
        )
    elif kind == "general":
        specs["att.W_a"] = ("S", "E")
    dec = _renamed(
        _param_specs(cell, cell == "gru" and "dec.b_hn" in params), {"D": "M+E", "H": "S"}
    )
    specs.update({f"dec.{k}": v for k, v in dec.items()})
    specs.update({"out.W": ("S+E", "V_t"), "out.b": ("V_t",)})
    return specs, kind, bidirectional


def _check_model(params, cell, where):
    """Every part's shapes, checked against each other: (sizes, attention, bidirectional)."""
    check_choice("cell", cell, CELLS)
    if not isinstance(params, dict):
        raise TypeError(
            f"{where}: params must be a dict of named arrays, got {type(params).__name__}"
        )
    specs, kind, bidirectional = _model_specs(params, cell)
    sizes = Sizes()
    for key, spec in specs.items():
        if key not in params:
            raise ValueError(
                f"{where}: params is missing {key!r}; make params with init_seq2seq_params"
            )
        if key == "bridge.W":  # E follows from the encoder, M+E and S+E from E
            sizes.bind("E", sizes["H_enc"] * (2 if bidirectional else 1), "the encoder")
            sizes.bind("M+E", sizes["M"] + sizes["E"], "the embedding and the encoder")
        if key == "out.W":
            sizes.bind("S+E", sizes["S"] + sizes["E"], "the decoder and the encoder")
        check_array(f"params[{key!r}]", params[key], spec, sizes, where=where)
    return sizes, kind, bidirectional


def init_seq2seq_params(
    src_vocab_size,
    tgt_vocab_size,
    embed_size,
    hidden_size,
    rng,
    cell="gru",
    bidirectional=True,
    attention="additive",
    attention_size=None,
    dtype=np.float64,
):
    """Random parameters of an encoder-decoder (with or without attention).

    Taught in chapter 11, Sequence to sequence and attention. Recurrent and
    attention weights are Uniform(−1/√fan_in, 1/√fan_in) as in PyTorch;
    embeddings are N(0, 1) as ``torch.nn.Embedding``.

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size : int
        V_s and V_t.
    embed_size : int
        M, for both embedding tables.
    hidden_size : int
        Hidden units of the decoder (S) and of each encoder direction.
    rng : numpy.random.Generator
    cell : {"rnn", "gru", "lstm"}
        The cell of the encoder and the decoder.
    bidirectional : bool
        Encoder in both directions (E = 2 hidden_size) or left to right (E = hidden_size).
    attention : {"additive", "general", None}
        Bahdanau's additive score, Luong's general score, or no attention.
    attention_size : int, optional
        A, the additive score's hidden size (default hidden_size).
    dtype : floating dtype

    Returns
    -------
    params : dict of str to ndarray
        ``src_embed.W`` (V_s, M), ``tgt_embed.W`` (V_t, M), ``enc.fwd.*`` (and
        ``enc.bwd.*``) reading M features, ``bridge.W`` (E, S), ``bridge.b``
        (S,), ``att.*``, ``dec.*`` reading M + E features, ``out.W`` (S + E,
        V_t), ``out.b`` (V_t,).
    """
    guard("init_seq2seq_params")
    where = "init_seq2seq_params"
    V_s = check_int("src_vocab_size", src_vocab_size, 1, where)
    V_t = check_int("tgt_vocab_size", tgt_vocab_size, 1, where)
    M = check_int("embed_size", embed_size, 1, where)
    S = check_int("hidden_size", hidden_size, 1, where)
    A = S if attention_size is None else check_int("attention_size", attention_size, 1, where)
    check_choice("cell", cell, CELLS)
    check_choice("attention", attention, ATTENTIONS)
    if not isinstance(bidirectional, bool):
        raise TypeError(f"{where}: bidirectional must be True or False, got {bidirectional!r}")
    check_rng(rng, where)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"{where}: dtype must be a floating dtype, got {dtype!r}")
    E = 2 * S if bidirectional else S
    params = {
        "src_embed.W": rng.standard_normal((V_s, M)),
        "tgt_embed.W": rng.standard_normal((V_t, M)),
    }
    if bidirectional:
        encoder = init_bidirectional_params(cell, M, S, rng)
    else:
        encoder = {f"fwd.{k}": v for k, v in init_params(cell, M, S, rng).items()}
    params.update({f"enc.{k}": v for k, v in encoder.items()})
    bound = 1 / np.sqrt(E)
    params["bridge.W"] = rng.uniform(-bound, bound, size=(E, S))
    params["bridge.b"] = rng.uniform(-bound, bound, size=S)
    if attention == "additive":
        att = init_additive_attention_params(S, E, A, rng)
    elif attention == "general":
        att = init_general_attention_params(S, E, rng)
    else:
        att = {}
    params.update({f"att.{k}": v for k, v in att.items()})
    params.update({f"dec.{k}": v for k, v in init_params(cell, M + E, S, rng).items()})
    bound = 1 / np.sqrt(S + E)
    params["out.W"] = rng.uniform(-bound, bound, size=(S + E, V_t))
    params["out.b"] = rng.uniform(-bound, bound, size=V_t)
    return {k: v.astype(dtype) for k, v in params.items()}
