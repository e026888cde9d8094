"""Training loops: truncated BPTT for language models, and sequence regression.

Taught in chapter 9, Character language models and sampling (``train_lm``)
and used in chapters 5 and 7 (``train_regressor`` on the adding problem).

Truncated backpropagation through time (chapter 4): a long id stream is cut
into N parallel streams read window by window; the state at the end of one
window is the initial state of the next (so the model sees context beyond the
window), but gradients stop at the window's start. In NumPy that "detach" is
free: nothing flows back into a state passed in as ``state0``. Every update
clips the gradients by their global norm (chapter 5) before the optimiser step.

Letters in shapes: T time steps (window length), N batch size (parallel
streams), L length of an id stream.
"""

from __future__ import annotations

import time

import numpy as np

from ._guard import guard
from ._validate import check_array, check_choice, check_ids, check_int, check_positive, check_rng
from .batching import _stream_columns
from .functional import sequence_loss
from .lm import CELLS, _check_lm_params, _lm_forward, _lm_loss, _num_layers
from .optim import (
    adagrad_init,
    adagrad_step,
    adam_init,
    adam_step,
    clip_grad_norm,
    global_norm,
    sgd_step,
)
from .tasks import _check_activation, _check_regressor, _regressor_loss

__all__ = ["lm_batches", "evaluate_lm", "train_lm", "train_regressor"]

OPTIMIZERS = ("adam", "sgd", "adagrad")


def _windows(ids, seq_len, batch_size, offset, drop_last):
    streams_in, streams_out = _stream_columns(ids, batch_size, offset)  # (P, N) each
    per_stream = len(streams_in)
    last = per_stream - seq_len + 1 if drop_last else per_stream
    for start in range(0, max(last, 0), seq_len):
        yield streams_in[start : start + seq_len], streams_out[start : start + seq_len]


def lm_batches(ids, seq_len, batch_size, offset=0, drop_last=True):
    """Windows of a long id stream for truncated BPTT (sequential partitioning).

    The stream (from ``offset`` on) is cut into ``batch_size`` contiguous
    pieces of equal length, one per batch column; window k holds steps
    ``k * seq_len .. (k + 1) * seq_len - 1`` of every piece. Column n of one
    window therefore continues column n of the previous window, so the final
    state of one window is the right initial state for the next (d2l's
    sequential partitioning). Tokens that do not fill the pieces evenly are
    dropped (fewer than ``batch_size``).

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    ids : ndarray of shape (L,), integer
        The id stream.
    seq_len : int
        T, steps per window.
    batch_size : int
        N, parallel streams.
    offset : int
        Tokens skipped at the start (a random offset per epoch shows the model
        different window boundaries).
    drop_last : bool
        Drop the final window when it is shorter than ``seq_len``.

    Returns
    -------
    windows : iterator of (ids_in, ids_target)
        Each of shape (T, N), ``ids_target`` the stream shifted by one step.
    """
    guard("lm_batches")
    where = "lm_batches"
    check_ids("ids", ids, spec=("L",), where=where)
    seq_len = check_int("seq_len", seq_len, 1, where)
    batch_size = check_int("batch_size", batch_size, 1, where)
    offset = check_int("offset", offset, 0, where)
    return _windows(ids, seq_len, batch_size, offset, bool(drop_last))


def _evaluate(params, ids, cell, num_layers, seq_len, batch_size):
    total, count, state = 0.0, 0, None
    for ids_in, ids_target in _windows(ids, seq_len, batch_size, 0, drop_last=False):
        logits, state, _ = _lm_forward(ids_in, params, cell, num_layers, state)
        loss, _ = sequence_loss(logits, ids_target, reduction="sum")
        total += float(loss)
        count += ids_target.size
    return total / count


def evaluate_lm(params, ids, cell, seq_len=256, batch_size=1):
    """Mean cross-entropy per token of a model on an id stream (no training).

    The state is carried from window to window, so every prediction sees the
    whole stream before it. With ``batch_size=1`` every token after the first
    is scored exactly once; a larger batch is faster and drops at most
    ``batch_size - 1`` tokens at the end.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    params : dict
        From :func:`init_lm_params`.
    ids : ndarray of shape (L,), integer
        At least ``batch_size + 1`` tokens.
    cell : {"rnn", "gru", "lstm"}
    seq_len : int
        Steps per forward call (memory, not the result, depends on it).
    batch_size : int
        Parallel streams.

    Returns
    -------
    loss : float
        Nats per token; ``exp(loss)`` is the perplexity.
    """
    guard("evaluate_lm")
    where = "evaluate_lm"
    check_choice("cell", cell, CELLS)
    sizes, num_layers = _check_lm_params(params, where)
    check_ids("ids", ids, sizes["V"], ("L",), sizes, where=where)
    seq_len = check_int("seq_len", seq_len, 1, where)
    batch_size = check_int("batch_size", batch_size, 1, where)
    if len(ids) < batch_size + 1:
        raise ValueError(
            f"{where}: ids has {len(ids)} tokens, fewer than batch_size + 1 = {batch_size + 1}"
        )
    return _evaluate(params, ids, cell, num_layers, seq_len, batch_size)


def _optimizer(name, params):
    """A (state, step) pair for the named optimiser; step(params, grads, state, lr)."""
    if name == "adam":
        return adam_init(params), lambda p, g, s, lr: adam_step(p, g, s, lr=lr)
    if name == "adagrad":
        return adagrad_init(params), lambda p, g, s, lr: adagrad_step(p, g, s, lr=lr)
    return None, lambda p, g, s, lr: (sgd_step(p, g, lr), s)


def _check_schedule(lr_schedule, where):
    """Check that ``lr_schedule`` is None or a callable giving a factor > 0 at step 0."""
    if lr_schedule is None:
        return
    if not callable(lr_schedule):
        raise TypeError(
            f"{where}: lr_schedule must be callable (step -> factor), "
            f"got {type(lr_schedule).__name__}"
        )
    _scheduled_lr(1.0, lr_schedule, 0, where)


def _scheduled_lr(lr, lr_schedule, step, where="train"):
    """The learning rate of update ``step``: ``lr * lr_schedule(step)`` (or ``lr``)."""
    if lr_schedule is None:
        return lr
    factor = lr_schedule(step)
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.floating)):
        raise TypeError(
            f"{where}: lr_schedule({step}) must return a number, got {type(factor).__name__}"
        )
    if not (np.isfinite(factor) and factor >= 0):
        raise ValueError(f"{where}: lr_schedule({step}) must be finite and >= 0, got {factor}")
    return lr * float(factor)


def _clip(grads, clip):
    """Clip by global norm (chapter 5); return the gradients and their norm before clipping."""
    if clip is None:
        return grads, global_norm(grads)
    return clip_grad_norm(grads, clip)


def _progress_bar(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="step", leave=True)


def train_lm(
    params,
    train_ids,
    cell,
    *,
    seq_len,
    batch_size,
    steps,
    lr,
    rng,
    clip=5.0,
    optimizer="adam",
    valid_ids=None,
    eval_every=100,
    progress=True,
    callback=None,
    lr_schedule=None,
):
    """Train a language model with truncated BPTT, gradient clipping and an optimiser.

    Each epoch starts at a random offset in ``train_ids`` with a zero state
    and reads the stream window by window (:func:`lm_batches`); the state is
    carried from one window to the next and gradients stop at window borders.
    Every update clips the gradients to a global norm of ``clip`` (chapter 5).

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    params : dict
        Initial parameters (:func:`init_lm_params`); not modified.
    train_ids : ndarray of shape (L,), integer
        The training stream, at least ``seq_len * batch_size + 1`` tokens.
    cell : {"rnn", "gru", "lstm"}
    seq_len : int
        T, steps per window (how far back gradients reach).
    batch_size : int
        N, parallel streams.
    steps : int
        Parameter updates.
    lr : float
        Learning rate.
    rng : numpy.random.Generator
        Chooses each epoch's offset.
    clip : float or None
        Maximum global gradient norm; None disables clipping.
    optimizer : {"adam", "sgd", "adagrad"}
    valid_ids : ndarray of shape (L_valid,), integer, optional
        Validation stream, scored every ``eval_every`` steps and after the last.
    eval_every : int
        Steps between validation scores.
    progress : bool
        Show a tqdm progress bar.
    callback : callable, optional
        ``callback(step, params, history)`` after every validation score (or
        every ``eval_every`` steps without validation data), e.g. to print a
        sample; its return value is ignored.
    lr_schedule : callable, optional
        ``lr_schedule(step) -> factor``: update ``step`` (0 for the first)
        uses the learning rate ``lr * factor`` (:mod:`rnncore.schedules`,
        chapter 10); a factor of 0 skips the update. None keeps ``lr`` constant.

    Returns
    -------
    params : dict
        The trained parameters (new arrays).
    history : dict of lists
        ``"train_loss"``, ``"grad_norm"`` (before clipping) and ``"lr"`` per step;
        ``"valid_step"`` and ``"valid_loss"`` per validation; ``"seconds"``,
        the wall time of the whole run (a list of one number).
    """
    guard("train_lm")
    where = "train_lm"
    check_choice("cell", cell, CELLS)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    sizes, num_layers = _check_lm_params(params, where)
    check_ids("train_ids", train_ids, sizes["V"], ("L",), where=where)
    if valid_ids is not None:
        check_ids("valid_ids", valid_ids, sizes["V"], ("L_valid",), where=where)
        if len(valid_ids) < 2:
            raise ValueError(f"{where}: valid_ids needs at least 2 tokens, got {len(valid_ids)}")
    seq_len = check_int("seq_len", seq_len, 1, where)
    batch_size = check_int("batch_size", batch_size, 1, where)
    steps = check_int("steps", steps, 1, where)
    eval_every = check_int("eval_every", eval_every, 1, where)
    check_positive("lr", lr)
    if clip is not None:
        check_positive("clip", clip)
    check_rng(rng, where)
    if callback is not None and not callable(callback):
        raise TypeError(f"{where}: callback must be callable, got {type(callback).__name__}")
    _check_schedule(lr_schedule, where)
    if len(train_ids) < seq_len * batch_size + 1:
        raise ValueError(
            f"{where}: train_ids has {len(train_ids)} tokens, too few for one window of "
            f"seq_len * batch_size + 1 = {seq_len * batch_size + 1}"
        )

    start_time = time.perf_counter()
    params = dict(params)  # the caller's dict is never touched; the optimisers return new arrays
    opt_state, opt_step = _optimizer(optimizer, params)
    history = {"train_loss": [], "grad_norm": [], "lr": [], "valid_step": [], "valid_loss": []}
    # The largest offset that still leaves one full window in the stream.
    max_offset = min(seq_len, len(train_ids) - 1 - seq_len * batch_size)
    step = 0
    with _progress_bar(steps, progress) as bar:
        while step < steps:
            offset = int(rng.integers(0, max_offset + 1))
            state = None  # a new epoch reads the stream from a new place: start from zeros
            for ids_in, ids_target in _windows(train_ids, seq_len, batch_size, offset, True):
                loss, grads, state = _lm_loss(
                    ids_in, ids_target, params, cell, num_layers, state, None
                )
                grads, norm = _clip(grads, clip)
                step_lr = _scheduled_lr(lr, lr_schedule, step, where)
                if step_lr > 0:  # a schedule at 0 (the end of a cosine) leaves params as they are
                    params, opt_state = opt_step(params, grads, opt_state, step_lr)
                step += 1
                history["train_loss"].append(loss)
                history["grad_norm"].append(float(norm))
                history["lr"].append(step_lr)
                bar.update(1)
                if step % eval_every == 0 or step == steps:
                    if valid_ids is not None:
                        valid = _evaluate(params, valid_ids, cell, num_layers, 256, 1)
                        history["valid_step"].append(step)
                        history["valid_loss"].append(valid)
                        bar.set_postfix(loss=f"{loss:.3f}", valid=f"{valid:.3f}")
                    else:
                        bar.set_postfix(loss=f"{loss:.3f}")
                    if callback is not None:
                        callback(step, params, history)
                if step == steps:
                    break
    history["seconds"] = [time.perf_counter() - start_time]
    return params, history


def train_regressor(
    params,
    make_batch,
    cell,
    *,
    steps,
    lr,
    rng,
    clip=1.0,
    optimizer="adam",
    progress=True,
    activation="tanh",
    lr_schedule=None,
):
    """Train a sequence regressor on fresh batches, with clipping and an optimiser.

    Every step draws a new batch ``X, y = make_batch(rng)``, so the training
    loss is also an unbiased estimate of the error on unseen sequences (no
    batch is seen twice). Used in chapters 5 and 7 on the adding problem::

        make_batch = lambda rng: adding_problem(T=20, N=64, rng=rng)

    Parameters
    ----------
    params : dict
        From :func:`rnncore.init_regressor_params`; not modified.
    make_batch : callable
        ``make_batch(rng) -> (X, y)`` with X of shape (T, N, D), y of shape (N,).
    cell : {"rnn", "gru", "lstm"}
    steps : int
        Parameter updates.
    lr : float
        Learning rate.
    rng : numpy.random.Generator
        Passed to ``make_batch``.
    clip : float or None
        Maximum global gradient norm; None disables clipping.
    optimizer : {"adam", "sgd", "adagrad"}
    progress : bool
        Show a tqdm progress bar.
    activation : {"tanh", "relu"}
        The RNN's nonlinearity: ``"relu"`` with :func:`rnncore.init_irnn_params`
        weights is the IRNN of chapter 10 (rnn only).
    lr_schedule : callable, optional
        ``lr_schedule(step) -> factor``: update ``step`` (0 for the first)
        uses the learning rate ``lr * factor`` (:mod:`rnncore.schedules`,
        chapter 10); a factor of 0 skips the update. None keeps ``lr`` constant.

    Returns
    -------
    params : dict
        The trained parameters (new arrays).
    history : dict of lists
        ``"train_loss"`` (MSE of each step's batch, before the update),
        ``"grad_norm"`` (before clipping) and ``"lr"`` per step; ``"seconds"``,
        the wall time.
    """
    guard("train_regressor")
    where = "train_regressor"
    check_choice("cell", cell, CELLS)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if not callable(make_batch):
        raise TypeError(f"{where}: make_batch must be callable, got {type(make_batch).__name__}")
    steps = check_int("steps", steps, 1, where)
    check_positive("lr", lr)
    if clip is not None:
        check_positive("clip", clip)
    check_rng(rng, where)
    _check_activation(cell, activation, where)
    _check_schedule(lr_schedule, where)

    def batch_loss(step, params, rng):
        X, y = make_batch(rng)
        if step == 0:  # validate once: every batch comes from the same maker
            sizes, _ = _check_regressor(params, X, cell, where)
            check_array("y", y, ("N",), sizes, where=where)
        return _regressor_loss(X, y, params, cell, _num_layers(params), activation)

    return _fit(
        params, batch_loss, steps, lr, rng, clip, optimizer, progress, "mse",
        lr_schedule=lr_schedule,
    )  # fmt: skip


def _fit(
    params,
    batch_loss,
    steps,
    lr,
    rng,
    clip,
    optimizer,
    progress,
    label,
    callback=None,
    lr_schedule=None,
):
    """The update loop shared by the trainers that draw a fresh batch every step.

    ``batch_loss(step, params, rng) -> (loss, grads)``; every step clips the
    gradients by their global norm, takes one optimiser step and records the
    loss and the norm before clipping; the progress bar shows the mean loss of
    the last 50 steps as ``label``. ``callback(step, params, history)``, if
    given, runs every 50 steps and after the last. ``lr_schedule(step)``, if
    given, multiplies ``lr`` at every step.
    """
    start_time = time.perf_counter()
    params = dict(params)  # the caller's dict is never touched; the optimisers return new arrays
    opt_state, opt_step = _optimizer(optimizer, params)
    history = {"train_loss": [], "grad_norm": [], "lr": []}
    with _progress_bar(steps, progress) as bar:
        for step in range(steps):
            loss, grads = batch_loss(step, params, rng)
            grads, norm = _clip(grads, clip)
            step_lr = _scheduled_lr(lr, lr_schedule, step)
            if step_lr > 0:  # a schedule at 0 (the end of a cosine) leaves params as they are
                params, opt_state = opt_step(params, grads, opt_state, step_lr)
            history["train_loss"].append(loss)
            history["grad_norm"].append(float(norm))
            history["lr"].append(step_lr)
            bar.update(1)
            if (step + 1) % 50 == 0 or step + 1 == steps:
                bar.set_postfix({label: f"{np.mean(history['train_loss'][-50:]):.4f}"})
                if callback is not None:
                    callback(step + 1, params, history)
    history["seconds"] = [time.perf_counter() - start_time]
    return params, history
