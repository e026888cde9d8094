"""A recurrent language model as plain functions over a flat parameter dict.

Taught in chapter 9, Character language models and sampling.

The model reads token ids, turns them into vectors (one-hot, or rows of an
embedding table ``embed.W``), runs one or more recurrent layers (``layer0.*``,
``layer1.*``, ... as in :mod:`rnncore.stacked`) and maps every hidden state to
logits over the vocabulary with the output layer ``out.W_hq``, ``out.b_q``::

    ids (T, N) -> X (T, N, V or E) -> H (T, N, H) -> logits (T, N, V)

With tied weights (chapter 10; Press & Wolf 2017, Inan, Khosravi & Socher
2017) there is no ``out.W_hq``: the output layer uses the transposed
embedding table, ``logits = H embed.W^T + out.b_q``, so E must equal H, and the
gradient of ``embed.W`` is the sum of what reaches it from both uses.

Training (truncated BPTT, clipping, optimisers) lives in
:mod:`rnncore.training`; sampling in :mod:`rnncore.sampling`.

Letters in shapes: T time steps, N batch size (parallel streams), V
vocabulary size, E embedding size, H hidden units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._guard import guard
from ._validate import Sizes, check_array, check_choice, check_ids, check_int, check_rng
from .functional import sequence_loss
from .init import init_output_params
from .layers import affine_backward, affine_forward, embedding_backward, embedding_forward
from .recurrent import CELLS
from .stacked import init_stacked_params, stacked_backward, stacked_forward
from .vocab import one_hot

__all__ = ["init_lm_params", "lm_forward", "lm_backward", "lm_loss", "lm_step_fn", "is_tied"]


class LMCache(NamedTuple):
    """What :func:`lm_backward` needs from :func:`lm_forward`."""

    embed: object  # EmbeddingCache, or None for one-hot input
    recurrent: object  # the cache of stacked_forward
    out: object  # AffineCache of the output layer
    logits_shape: tuple  # (T, N, V), to check dlogits
    tied: bool = False  # the output layer is embed.W transposed


def _num_layers(params) -> int:
    count = 0
    while any(key.startswith(f"layer{count}.") for key in params):
        count += 1
    return count


def _check_lm_params(params, where: str) -> tuple[Sizes, int]:
    """Check the output layer (and embedding); return sizes with H, V (E) bound and the depth."""
    if not isinstance(params, dict):
        raise TypeError(
            f"{where}: params must be a dict of named arrays, got {type(params).__name__}"
        )
    sizes = Sizes()
    tied = _is_tied(params)
    for key in ("out.b_q",) if tied else ("out.W_hq", "out.b_q"):
        if key not in params:
            raise ValueError(f"{where}: params is missing {key!r}; make params with init_lm_params")
    if not tied:
        check_array("params['out.W_hq']", params["out.W_hq"], ("H", "V"), sizes, where=where)
    check_array("params['out.b_q']", params["out.b_q"], ("V",), sizes, where=where)
    if "embed.W" in params:
        check_array("params['embed.W']", params["embed.W"], ("V", "E"), sizes, where=where)
    num_layers = _num_layers(params)
    if num_layers == 0:
        raise ValueError(
            f"{where}: params has no recurrent layer (keys 'layer0.*'); make params "
            "with init_lm_params"
        )
    if tied:  # the top layer's width must be E, the width of the shared table
        top = f"layer{num_layers - 1}."
        W_top = next(v for k, v in params.items() if k.startswith(top + "W_h"))
        if np.shape(W_top)[0] != sizes["E"]:
            raise ValueError(
                f"{where}: params has tied weights (embed.W, no out.W_hq), so the top layer's "
                f"hidden size must equal the embedding size E = {sizes['E']}; "
                f"{top}W_h* has shape {np.shape(W_top)}"
            )
    return sizes, num_layers


def _is_tied(params) -> bool:
    return "out.W_hq" not in params and "embed.W" in params


def is_tied(params) -> bool:
    """True if the model's output layer is its transposed embedding table (no ``out.W_hq``).

    Taught in chapter 10, Training RNNs in practice (weight tying).

    Parameters
    ----------
    params : dict
        From :func:`init_lm_params`.

    Returns
    -------
    bool
    """
    guard("is_tied")
    if not isinstance(params, dict):
        raise TypeError(
            f"is_tied: params must be a dict of named arrays, got {type(params).__name__}"
        )
    return _is_tied(params)


def init_lm_params(
    vocab_size,
    hidden_size,
    rng,
    cell="lstm",
    embed_size=None,
    num_layers=1,
    dtype=np.float64,
    tie_weights=False,
):
    """Random parameters of a recurrent language model.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    vocab_size : int
        V, the number of tokens (inputs and outputs).
    hidden_size : int
        H, hidden units of every recurrent layer.
    rng : numpy.random.Generator
    cell : {"rnn", "gru", "lstm"}
    embed_size : int, optional
        E. None feeds one-hot vectors (no ``embed.W``); an int adds an
        embedding table drawn from N(0, 1), as ``torch.nn.Embedding`` does.
    num_layers : int
        Recurrent layers stacked on top of each other (chapter 8).
    dtype : floating dtype
        float64 (default) or float32.
    tie_weights : bool
        Share one matrix between the input embedding and the output layer
        (Press & Wolf 2017; Inan et al. 2017; chapter 10): ``embed.W`` of
        shape (V, H) and no ``out.W_hq``; the logits are ``h embed.W^T + b_q``.
        Needs an embedding with ``embed_size`` equal to ``hidden_size`` (None
        means ``hidden_size`` here). The table is drawn from
        Uniform(−1/√H, 1/√H), the output layer's scale, so that the first
        logits are as small as an untied model's.

    Returns
    -------
    params : dict
        ``embed.W`` of shape (V, E) (only with ``embed_size`` or
        ``tie_weights``); ``layer{l}.*`` as :func:`rnncore.init_stacked_params`
        makes them (layer 0 reads V or E features, the others H); ``out.W_hq``
        of shape (H, V) (untied only), ``out.b_q`` of shape (V,).
    """
    guard("init_lm_params")
    where = "init_lm_params"
    V = check_int("vocab_size", vocab_size, 1, where)
    H = check_int("hidden_size", hidden_size, 1, where)
    num_layers = check_int("num_layers", num_layers, 1, where)
    check_choice("cell", cell, CELLS)
    check_rng(rng, where)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"{where}: dtype must be a floating dtype, got {dtype!r}")
    if not isinstance(tie_weights, (bool, np.bool_)):
        raise TypeError(f"{where}: tie_weights must be True or False, got {tie_weights!r}")
    if tie_weights:
        E = H if embed_size is None else check_int("embed_size", embed_size, 1, where)
        if E != H:
            raise ValueError(
                f"{where}: tie_weights=True shares embed.W (V, E) with the output layer (H, V) "
                f"transposed, so embed_size must equal hidden_size; got embed_size={E}, "
                f"hidden_size={H}"
            )
        params = dict(init_stacked_params(cell, H, H, num_layers, rng))
        out = init_output_params(H, V, rng)  # (H, V), Uniform(-1/sqrt(H), 1/sqrt(H))
        params["embed.W"] = out["W_hq"].T.copy()  # (V, H) one matrix for both ends
        params["out.b_q"] = out["b_q"]
        return {k: v.astype(dtype) for k, v in params.items()}
    params = {}
    if embed_size is not None:
        E = check_int("embed_size", embed_size, 1, where)
        params["embed.W"] = rng.standard_normal((V, E))  # (V, E)
    D = V if embed_size is None else E
    params.update(init_stacked_params(cell, D, H, num_layers, rng))
    params.update({f"out.{k}": v for k, v in init_output_params(H, V, rng).items()})
    return {k: v.astype(dtype) for k, v in params.items()}


def _output_weight(params):
    """The (H, V) output matrix: ``out.W_hq``, or the tied embedding transposed."""
    return params["embed.W"].T if _is_tied(params) else params["out.W_hq"]


def _lm_forward(ids, params, cell, num_layers, state0):
    T, N = ids.shape
    W_out = _output_weight(params)  # (H, V)
    V = W_out.shape[1]
    if "embed.W" in params:
        X, embed_cache = embedding_forward(ids, params["embed.W"])  # (T, N, E)
    else:
        X, embed_cache = one_hot(ids, V, dtype=W_out.dtype), None  # (T, N, V)
    H_top, state_T, rnn_cache = stacked_forward(
        X, params, cell=cell, num_layers=num_layers, states0=state0
    )  # (T, N, H)
    logits, out_cache = affine_forward(H_top, W_out, params["out.b_q"])  # (T, N, V)
    return logits, state_T, LMCache(embed_cache, rnn_cache, out_cache, (T, N, V), _is_tied(params))


def lm_forward(ids, params, cell, state0=None):
    """Logits for the next token at every position of a batch of id sequences.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    ids : ndarray of shape (T, N), integer
        Input token ids, ``0 <= ids < V``.
    params : dict
        From :func:`init_lm_params`.
    cell : {"rnn", "gru", "lstm"}
        The cell the parameters were made for.
    state0 : list, optional
        Initial state of every layer, as returned (``state_T``) by a previous
        call; None starts from zeros.

    Returns
    -------
    logits : ndarray of shape (T, N, V)
        ``logits[t]`` scores the token at position t + 1.
    state_T : list
        The state of every layer after the last step (``h`` of shape (N, H)
        for rnn/gru, ``(h, c)`` for lstm); pass it as ``state0`` to continue.
    cache : LMCache
        Opaque; pass it to :func:`lm_backward`.
    """
    guard("lm_forward")
    where = "lm_forward"
    check_choice("cell", cell, CELLS)
    sizes, num_layers = _check_lm_params(params, where)
    check_ids("ids", ids, sizes["V"], ("T", "N"), sizes, where=where)
    return _lm_forward(ids, params, cell, num_layers, state0)


def _lm_backward(dlogits, cache):
    dH_top, dW_hq, db_q = affine_backward(dlogits, cache.out)  # (T, N, H)
    dX, grads = stacked_backward(dH_top, cache.recurrent)  # (T, N, V or E)
    grads = dict(grads)
    grads["out.b_q"] = db_q
    if cache.embed is not None:
        grads["embed.W"] = embedding_backward(dX, cache.embed)  # (V, E)
    if cache.tied:  # one matrix used twice: the gradients of both uses add up
        grads["embed.W"] = grads["embed.W"] + dW_hq.T  # (V, H)
    else:
        grads["out.W_hq"] = dW_hq
    return grads  # one-hot inputs are data, not parameters: their gradient dX is dropped


def lm_backward(dlogits, cache):
    """Gradients of every parameter of the language model.

    Taught in chapter 9, Character language models and sampling (the pieces
    are the backward passes of chapters 3, 4 and 8).

    Parameters
    ----------
    dlogits : ndarray of shape (T, N, V)
        Gradient of the loss with respect to the logits.
    cache : LMCache
        From :func:`lm_forward`.

    Returns
    -------
    grads : dict
        Same keys and shapes as ``params``.
    """
    guard("lm_backward")
    if not isinstance(cache, LMCache):
        raise TypeError(
            f"cache must be the LMCache returned by lm_forward, got {type(cache).__name__}"
        )
    sizes = Sizes(T=cache.logits_shape[0], N=cache.logits_shape[1], V=cache.logits_shape[2])
    check_array("dlogits", dlogits, ("T", "N", "V"), sizes, where="lm_backward")
    return _lm_backward(dlogits, cache)


def _lm_loss(ids_in, ids_target, params, cell, num_layers, state0, mask):
    logits, state_T, cache = _lm_forward(ids_in, params, cell, num_layers, state0)
    loss, dlogits = sequence_loss(logits, ids_target, mask=mask, reduction="mean")
    return float(loss), _lm_backward(dlogits, cache), state_T


def lm_loss(ids_in, ids_target, params, cell, state0=None, mask=None):
    """Mean cross-entropy per token of the next-token predictions, and its gradients.

    The loss is in nats per token; ``exp(loss)`` is the perplexity. A model
    that knows nothing scores ``log V``; one that knows only how often each
    token occurs scores the unigram entropy of the text.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    ids_in : ndarray of shape (T, N), integer
        Input ids.
    ids_target : ndarray of shape (T, N), integer
        The token that follows each input (``ids_in`` shifted by one).
    params : dict
        From :func:`init_lm_params`.
    cell : {"rnn", "gru", "lstm"}
    state0 : list, optional
        Initial state (see :func:`lm_forward`); no gradient flows into it.
    mask : ndarray of shape (T, N), bool or 0/1, optional
        0 at padding positions, which add nothing to the loss.

    Returns
    -------
    loss : float
        Mean cross-entropy over the unmasked tokens.
    grads : dict
        Gradient of ``loss`` for every parameter, keyed like ``params``.
    state_T : list
        The final state, for the next window of truncated BPTT.
    """
    guard("lm_loss")
    where = "lm_loss"
    check_choice("cell", cell, CELLS)
    sizes, num_layers = _check_lm_params(params, where)
    check_ids("ids_in", ids_in, sizes["V"], ("T", "N"), sizes, where=where)
    check_ids("ids_target", ids_target, sizes["V"], ("T", "N"), sizes, where=where)
    return _lm_loss(ids_in, ids_target, params, cell, num_layers, state0, mask)


def lm_step_fn(params, cell):
    """A one-token step function for :func:`rnncore.sample_text`.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    params : dict
        From :func:`init_lm_params` (or :func:`train_lm`).
    cell : {"rnn", "gru", "lstm"}

    Returns
    -------
    step_fn : callable
        ``step_fn(token_id, state) -> (logits, state)``: logits an ndarray of
        shape (V,) for the token after ``token_id``; ``state`` None at first.
    """
    guard("lm_step_fn")
    check_choice("cell", cell, CELLS)
    sizes, num_layers = _check_lm_params(params, "lm_step_fn")
    V = sizes["V"]

    def step_fn(token_id, state):
        if isinstance(token_id, bool) or not isinstance(token_id, (int, np.integer)):
            raise TypeError(f"step_fn: token_id must be an int, got {type(token_id).__name__}")
        if not 0 <= token_id < V:
            raise ValueError(f"step_fn: token_id {token_id} is outside 0..{V - 1}")
        ids = np.array([[token_id]], dtype=np.int64)  # (1, 1) one step of one sequence
        logits, state, _ = _lm_forward(ids, params, cell, num_layers, state)  # (1, 1, V)
        return logits[0, 0], state

    return step_fn
