"""Checks of exercise 3: softmax and the cross-entropy losses (chapter 3).

Every check has a large-logits case (entries of ±1000, where ``exp``
overflows float64) graded as part ``"stability"``; the other cases are graded
as ``"values"`` (or ``"loss"`` and ``"gradient"`` for the losses).
Tolerances: rtol 1e-6, atol 1e-8 against rnncore's reference.
"""

from __future__ import annotations

import numpy as np

from ._cases import Case, label, logits_cases, rng_for, with_variants
from ._driver import Out, reference
from ._table import Spec, build
from .mistakes import ex03_softmax_loss as catalogue

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


def _softmax_cases(hidden):
    cases = list(_tagged(logits_cases("softmax", hidden)))
    return with_variants(cases, (0, 4) if hidden else (0,), float32=True)  # dtype comes back


STABLE = ("shapes", "values", "stability")
CHECKS = (
    Spec(
        "softmax",
        "probs",
        "Softmax over the last axis, in the logits' dtype, as ``rnncore.softmax``. Cases: "
        "logits of shapes (4, 6), (1, 5), (3, 1), (2, 7), the first as float32, and a (3, 5) "
        'case with entries of ±1000 (part ``"stability"``); hidden adds (9, 30), (2, 3, 5) '
        "and (6,), and (9, 30) as float32.",
        _softmax_cases,
        ("logits",),
        (Out("probs", ()),),
        mistakes=catalogue.SOFTMAX,
        parts=STABLE,
        float32=True,
    ),
    Spec(
        "softmax_cross_entropy",
        "(loss, dlogits)",
        "The mean cross-entropy over N and its gradient, as "
        '``rnncore.softmax_cross_entropy(..., reduction="mean")``. Cases: logits (N, V) = '
        '(4, 6), (1, 5), (3, 1), (2, 7), and (3, 5) with entries of ±1000 (part ``"stability"``); '
        "hidden adds (9, 12).",
        lambda hidden: _loss_cases(
            "softmax_cross_entropy", hidden, ((4, 6), (1, 5), (3, 1), (2, 7))
        ),
        ("logits", "targets"),
        (Out("loss", kind="number", part="loss"), Out("dlogits", ("N", "V"), part="gradient")),
        lambda *a: reference("softmax_cross_entropy", *a, reduction="mean"),
        catalogue.SOFTMAX_CROSS_ENTROPY,
        parts=LOSS_PARTS,
        aliases=LOSS_ALIASES,
    ),
    Spec(
        "sequence_loss",
        "(loss, dlogits)",
        "The cross-entropy summed over time and averaged over the batch (rnncore's "
        '``reduction="batch_mean"``) and its gradient. Cases: logits (T, N, V) = (4, 3, 6), '
        "(1, 2, 5), (5, 1, 4), (2, 4, 3) and a (1, 3, 5) case with entries of ±1000 (part "
        '``"stability"``); hidden adds (7, 4, 11).',
        lambda hidden: _loss_cases(
            "sequence_loss", hidden, ((4, 3, 6), (1, 2, 5), (5, 1, 4), (2, 4, 3))
        ),
        ("logits", "targets"),
        (
            Out("loss", kind="number", part="loss"),
            Out("dlogits", ("T", "N", "V"), part="gradient"),
        ),
        lambda *a: reference("sequence_loss", *a, reduction="batch_mean"),
        catalogue.SEQUENCE_LOSS,
        parts=LOSS_PARTS,
        aliases=LOSS_ALIASES,
    ),
)

check_softmax, check_softmax_cross_entropy, check_sequence_loss = build(__name__, CHECKS)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
