"""Learning-rate schedules: plain functions of the update's number.

Taught in chapter 10, Training RNNs in practice. Each function maps the number
``step`` of an update (0 for the first) to a **factor** that multiplies the base
learning rate, as ``torch.optim.lr_scheduler.LambdaLR`` does; the trainers take
one as ``lr_schedule`` and use ``lr * lr_schedule(step)`` at update ``step``::

    from functools import partial
    schedule = partial(warmup_cosine, warmup_steps=50, total_steps=1000)
    params, history = train_lm(..., lr=0.01, lr_schedule=schedule)

* :func:`step_decay`: multiply by ``factor`` every ``every`` updates (the
  schedule of Zaremba, Sutskever & Vinyals 2014, who halved the rate every epoch
  after the first few).
* :func:`cosine_decay`: half a cosine from 1 down to ``final`` over
  ``total_steps`` updates (Loshchilov & Hutter 2017, without restarts).
* :func:`linear_warmup`: grow linearly from ``1 / warmup_steps`` to 1, then stay.
* :func:`warmup_cosine`: warm-up, then cosine decay over the remaining updates.

No function has state, so a schedule can be plotted, tested and restarted by
calling it on any step number.
"""

from __future__ import annotations

import math

import numpy as np

from ._guard import guard

__all__ = ["step_decay", "cosine_decay", "linear_warmup", "warmup_cosine"]


def _check_step(step, where):
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"{where}: step must be an int (the update's number), got {step!r}")
    if step < 0:
        raise ValueError(f"{where}: step must be >= 0 (0 is the first update), got {step}")
    return int(step)


def _check_count(name, value, where):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value}")
    return int(value)


def _check_fraction(name, value, where, low_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    if not (0 < value <= 1 if low_open else 0 <= value <= 1):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{where}: {name} must lie in {interval}, got {value}")
    return float(value)


def step_decay(step, every, factor=0.5):
    """Multiply the learning rate by ``factor`` every ``every`` updates.

    ``factor ** (step // every)``: 1 for updates 0 .. every - 1, then ``factor``, ...

    Parameters
    ----------
    step : int
        The update's number, >= 0.
    every : int
        Updates between two decays (e.g. the updates of one epoch).
    factor : float
        In (0, 1].

    Returns
    -------
    float
        The multiplier of the base learning rate at ``step``.
    """
    guard("step_decay")
    where = "step_decay"
    step = _check_step(step, where)
    every = _check_count("every", every, where)
    factor = _check_fraction("factor", factor, where, low_open=True)
    return factor ** (step // every)


def cosine_decay(step, total_steps, final=0.0):
    """Half a cosine from 1 at step 0 to ``final`` at ``total_steps``, then ``final``.

    ``final + (1 - final) * (1 + cos(pi * step / total_steps)) / 2``.

    Parameters
    ----------
    step : int
        The update's number, >= 0.
    total_steps : int
        Updates over which the rate decays.
    final : float
        The multiplier at and after ``total_steps``, in [0, 1].

    Returns
    -------
    float
    """
    guard("cosine_decay")
    where = "cosine_decay"
    step = _check_step(step, where)
    total_steps = _check_count("total_steps", total_steps, where)
    final = _check_fraction("final", final, where)
    return _cosine(step, total_steps, final)


def _cosine(step, total_steps, final):
    progress = min(step, total_steps) / total_steps  # in [0, 1]
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def linear_warmup(step, warmup_steps):
    """Grow linearly over the first ``warmup_steps`` updates, then stay at 1.

    ``min(1, (step + 1) / warmup_steps)``: the first update already moves (by
    ``1 / warmup_steps`` of the base rate), update ``warmup_steps - 1`` uses the
    full rate. Adam's early steps are large relative to its poor estimates of
    the gradient's scale; a warm-up keeps them small.

    Parameters
    ----------
    step : int
        The update's number, >= 0.
    warmup_steps : int

    Returns
    -------
    float
    """
    guard("linear_warmup")
    where = "linear_warmup"
    step = _check_step(step, where)
    warmup_steps = _check_count("warmup_steps", warmup_steps, where)
    return min(1.0, (step + 1) / warmup_steps)


def warmup_cosine(step, warmup_steps, total_steps, final=0.0):
    """A linear warm-up, then a cosine decay to ``final`` at ``total_steps``.

    Parameters
    ----------
    step : int
        The update's number, >= 0.
    warmup_steps : int
        Updates of the warm-up (:func:`linear_warmup`), fewer than ``total_steps``.
    total_steps : int
        The update at which the decay reaches ``final``.
    final : float
        In [0, 1].

    Returns
    -------
    float
    """
    guard("warmup_cosine")
    where = "warmup_cosine"
    step = _check_step(step, where)
    warmup_steps = _check_count("warmup_steps", warmup_steps, where)
    total_steps = _check_count("total_steps", total_steps, where)
    final = _check_fraction("final", final, where)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"{where}: warmup_steps ({warmup_steps}) must be smaller than total_steps "
            f"({total_steps})"
        )
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return _cosine(step - warmup_steps, total_steps - warmup_steps, final)
