"""Checks of exercise 3: softmax and the cross-entropy losses (chapter 3).

Every check has a large-logits case (entries of ±1000, where ``exp``
overflows float64) graded as part ``"stability"``; the other cases are graded
as ``"values"`` (or ``"loss"`` and ``"gradient"`` for the losses).
Tolerances: rtol 1e-6, atol 1e-8 against rnncore's reference.
"""

from __future__ import annotations

import numpy as np

from ._cases import Case, label, logits_cases, rng_for
from ._driver import Out, check_function, reference
from ._harness import student_facing
from .mistakes import ex03_softmax_loss as catalogue

__all__ = ["check_softmax", "check_softmax_cross_entropy", "check_sequence_loss"]

LOSS_PARTS = ("shapes", "loss", "gradient", "stability")
LOSS_ALIASES = {"values": ("loss", "gradient"), "gradients": ("gradient",)}
# softmax refuses everything, and so in particular log_softmax and the losses


def _tagged(logits_list):
    for logits in logits_list:
        big = np.abs(logits).max() >= 1000
        shape = dict(zip("NV" if logits.ndim == 2 else "TNV"[-logits.ndim :], logits.shape))
        yield Case(
            (logits,),
            label(**shape) + (" with large logits" if big else ""),
            {"part": "stability"} if big else {},
        )


@student_facing
def check_softmax(student_fn, hidden=False, part=None):
    """Check ``softmax(logits) -> probs`` over the last axis.

    Cases: logits of shapes (4, 6), (1, 5), (3, 1), (2, 7) and a (3, 5) case
    with entries of ±1000 (part ``"stability"``); hidden adds (9, 30),
    (2, 3, 5) and (6,).

    Parameters
    ----------
    student_fn : callable
        The student's ``softmax``.
    hidden : bool
        Run the hidden cases too.
    part : {None, "shapes", "values", "stability"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "softmax",
        student_fn,
        _tagged(logits_cases("softmax", hidden)),
        arg_names=("logits",),
        outs=(Out("probs", ()),),
        expected_fn=lambda logits: reference("softmax", logits),
        part=part,
        allowed=("shapes", "values", "stability"),
        mistakes=catalogue.SOFTMAX,
    )


def _loss_cases(name, hidden, shapes):
    rng = rng_for(name, hidden)
    for case in _tagged(logits_cases(name, False, shapes)):
        logits = case.args[0]
        if logits.ndim != len(shapes[0]):  # the large-logits case, reshaped for sequences
            logits = logits.reshape((1,) * (len(shapes[0]) - 2) + logits.shape)
            case = Case((logits,), case.label, case.extra)
        targets = rng.integers(logits.shape[-1], size=logits.shape[:-1])
        yield Case((logits, targets), case.label, case.extra)
    if hidden:
        more = (9, 12) if len(shapes[0]) == 2 else (7, 4, 11)
        logits = rng.normal(0.0, 3.0, size=more)
        yield Case((logits, rng.integers(more[-1], size=more[:-1])), label(shape=more), {})


@student_facing
def check_softmax_cross_entropy(student_fn, hidden=False, part=None):
    """Check ``softmax_cross_entropy(logits, targets) -> (loss, dlogits)``, mean over N.

    Cases: logits (N, V) = (4, 6), (1, 5), (3, 1), (2, 7), and (3, 5) with
    entries of ±1000 (part ``"stability"``); hidden adds (9, 12).

    Parameters
    ----------
    student_fn : callable
        The student's ``softmax_cross_entropy``.
    hidden : bool
        Run the hidden cases too.
    part : {None, "shapes", "loss", "gradient", "stability", "values", "gradients"}
        Which property to grade; ``"values"`` is loss and gradient,
        ``"gradients"`` the gradient (None: all).

    Returns
    -------
    None
    """
    check_function(
        "softmax_cross_entropy",
        student_fn,
        _loss_cases("softmax_cross_entropy", hidden, ((4, 6), (1, 5), (3, 1), (2, 7))),
        arg_names=("logits", "targets"),
        outs=(Out("loss", kind="number", part="loss"), Out("dlogits", ("N", "V"), part="gradient")),
        expected_fn=lambda *a: reference("softmax_cross_entropy", *a, reduction="mean"),
        part=part,
        allowed=LOSS_PARTS,
        aliases=LOSS_ALIASES,
        mistakes=catalogue.SOFTMAX_CROSS_ENTROPY,
    )


@student_facing
def check_sequence_loss(student_fn, hidden=False, part=None):
    """Check ``sequence_loss(logits, targets) -> (loss, dlogits)``.

    The loss sums the cross-entropy over time and averages it over the batch
    (rnncore's ``reduction="batch_mean"``). Cases: logits (T, N, V) =
    (4, 3, 6), (1, 2, 5), (5, 1, 4), (2, 4, 3) and a (1, 3, 5) case with
    entries of ±1000 (part ``"stability"``); hidden adds (7, 4, 11).

    Parameters
    ----------
    student_fn : callable
        The student's ``sequence_loss``.
    hidden : bool
        Run the hidden cases too.
    part : {None, "shapes", "loss", "gradient", "stability", "values", "gradients"}
        Which property to grade (None: all).

    Returns
    -------
    None
    """
    check_function(
        "sequence_loss",
        student_fn,
        _loss_cases("sequence_loss", hidden, ((4, 3, 6), (1, 2, 5), (5, 1, 4), (2, 4, 3))),
        arg_names=("logits", "targets"),
        outs=(
            Out("loss", kind="number", part="loss"),
            Out("dlogits", ("T", "N", "V"), part="gradient"),
        ),
        expected_fn=lambda *a: reference("sequence_loss", *a, reduction="batch_mean"),
        part=part,
        allowed=LOSS_PARTS,
        aliases=LOSS_ALIASES,
        mistakes=catalogue.SEQUENCE_LOSS,
    )
