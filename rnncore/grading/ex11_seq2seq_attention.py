"""Checks of exercise 11: additive attention forward and backward, and beam search (chapter 11).

Attention cases are time-major, ``H_enc`` (T, N, E) and ``s_prev`` (N, S),
with S, E and A all different where the sizes allow, N = 1 and T = 1 among
them, and padded batches (a mask (T, N), True for real positions). Beam search
runs on the grader's own small decoders (:mod:`._decoder_models`): random RNNs
whose state is an array or a tuple, probability trees whose state is the
prefix (a state handed to the wrong hypothesis changes the answer), and
chapter 11's table models, among them the one on which greedy decoding is
provably wrong.
"""

from __future__ import annotations

import numpy as np

from . import _decoder_models as models
from ._backward import Pair
from ._cases import Case, label, rng_for, with_variants
from ._driver import Out, reference
from ._table import Spec, build
from .mistakes import ex11_seq2seq_attention as catalogue

# (T, N, S, E, A): T = 1, N = 1, N = T (a softmax over the wrong axis keeps its shape)
SIZES = ((5, 3, 4, 6, 3), (1, 2, 3, 3, 4), (4, 1, 2, 5, 3), (3, 3, 4, 2, 5))
SIZES_HIDDEN = ((9, 5, 6, 7, 4), (1, 1, 1, 1, 1), (6, 4, 3, 8, 5))
# (T, lengths): padded batches; the last visible one is not padded at all
MASKS = ((5, (5, 2, 3)), (4, (1, 4)), (3, (3,)), (4, (4, 4)))
MASKS_HIDDEN = ((8, (8, 1, 5, 3, 7)), (6, (2, 6, 6)))


def _attention_case(rng, T, N, S, E, A, lengths=None, v_scale=1.0, upstream=False):
    s_prev = rng.normal(size=(N, S))
    H_enc = rng.normal(size=(T, N, E))
    params = {
        "W_sa": rng.normal(0.0, 2.0 / np.sqrt(S), size=(S, A)),
        "W_ea": rng.normal(0.0, 2.0 / np.sqrt(E), size=(E, A)),
        "b_a": rng.normal(0.0, 0.5, size=A),
        "v_a": v_scale * rng.normal(0.0, 2.0, size=A),
    }
    mask = None if lengths is None else np.arange(T)[:, None] < np.array(lengths)[None, :]
    extra = {"sizes": {"T": T, "N": N, "S": S, "E": E, "A": A}}
    if upstream:
        extra["upstream"] = (rng.normal(size=(N, E)), rng.normal(size=(N, T)))
    if mask is not None:
        extra["zeros"] = {1: (~mask.T, "where mask is False (padding)")}
    text = label(T=T, N=N, S=S, E=E, A=A)
    if lengths is not None:
        text = text[:-1] + f", lengths {tuple(lengths)})"
    return Case((s_prev, H_enc, params, mask), text, extra)


def _forward_cases(hidden):
    rng = rng_for("additive_attention_forward", hidden)
    sizes = SIZES + (SIZES_HIDDEN if hidden else ())
    cases = [_attention_case(rng, *size) for size in sizes]
    cases = with_variants(cases, (0, len(SIZES)) if hidden else (0,), float32=True)
    for T, lengths in MASKS + (MASKS_HIDDEN if hidden else ()):
        case = _attention_case(rng, T, len(lengths), 3, 4, 2, lengths)
        cases.append(case._replace(extra={**case.extra, "part": "mask"}))
    big = _attention_case(rng, 4, 3, 3, 5, 4, (4, 2, 3), v_scale=1000.0)  # scores near ±2000
    cases.append(big._replace(label=big.label[:-1] + ", scores of about ±2000)",
                              extra={**big.extra, "part": "stability"}))  # fmt: skip
    return cases


def _backward_cases(hidden):
    rng = rng_for("additive_attention_backward", hidden)
    cases = [_attention_case(rng, *size, upstream=True) for size in SIZES]
    cases += [_attention_case(rng, T, len(lengths), 3, 4, 2, lengths, upstream=True)
              for T, lengths in MASKS[:2]]  # fmt: skip
    if hidden:
        cases += [_attention_case(rng, *size, upstream=True) for size in SIZES_HIDDEN]
        cases += [_attention_case(rng, T, len(lengths), 4, 3, 5, lengths, upstream=True)
                  for T, lengths in MASKS_HIDDEN]  # fmt: skip
    return cases


ATTENTION = Pair(
    "additive_attention_forward",
    "additive_attention_backward",
    ("s_prev", "H_enc"),
    (("context", ("N", "E")), ("alpha", ("N", "T"))),
    ("ds_prev", "dH_enc"),
    ("dcontext", "dalpha"),
    (("N", "S"), ("T", "N", "E")),
    order=(
        ("score vector", ("v_a",)),
        ("score's hidden layer", ("b_a", "W_ea", "W_sa")),
        ("ds_prev", ("ds_prev",)),
        ("dH_enc", ("dH_enc",)),
    ),
    fixed=("mask",),
)


# --- beam search --------------------------------------------------------------------------
def _beam_case(model, text, bos, eos, width, max_len, alpha=0.0, part=None):
    step_fn, state0 = model
    label_text = f" (for {text}, beam_width={width}, max_len={max_len}"
    label_text += f", length_penalty={alpha})" if alpha else ")"
    return Case((step_fn, state0, bos, eos, width, max_len, alpha), label_text,
                {"part": part} if part else {})  # fmt: skip


def _beam_cases(hidden):
    rng = rng_for("beam_search", hidden)
    seed = int(rng.integers(2**31))
    trap, stop = models.finite(models.GREEDY_TRAP), models.finite(models.LIKES_TO_STOP)
    rnn = "a random RNN decoder (V={}, state {})"
    wrong = "chapter 11's model where greedy is wrong"
    cases = [
        _beam_case(models.rnn_model(6, 5, rng), rnn.format(6, "h"), 0, 1, 3, 6),
        _beam_case(models.rnn_model(5, 4, rng, pair=True), rnn.format(5, "(h, c)"), 0, 1, 2, 5),
        _beam_case(models.prefix_model(5, 8, seed), "a random probability tree (V=5)", 0, 1, 4, 5),
        _beam_case(models.table_model(trap), wrong, 0, 1, 2, 3),
        _beam_case(models.rnn_model(7, 6, rng, eos_bias=1.0), rnn.format(7, "h"), 0, 1, 5, 7),
        # stopping: EOS likely at once, never, at max_len 1, and other ids for BOS and EOS
        _beam_case(models.prefix_model(5, 9, seed + 1, eos_bias=2.5),
                   "a tree that likes <eos> (V=5)", 0, 1, 3, 8, part="stopping"),
        _beam_case(models.prefix_model(4, 5, seed + 2, eos_bias=-9.0),
                   "a tree that never ends (V=4)", 0, 1, 3, 4, part="stopping"),
        _beam_case(models.rnn_model(6, 4, rng), rnn.format(6, "h"), 0, 1, 3, 1, part="stopping"),
        _beam_case(models.prefix_model(6, 7, seed + 3, eos_id=0, eos_bias=1.0),
                   "a tree with bos_id=3, eos_id=0 (V=6)", 3, 0, 2, 6, part="stopping"),
        # length penalty: chapter 11's model that likes to stop, and an RNN
        _beam_case(models.table_model(stop), "chapter 11's model that likes to stop", 0, 1, 4, 6,
                   0.6, part="length_penalty"),
        _beam_case(models.table_model(stop), "chapter 11's model that likes to stop", 0, 1, 4, 6,
                   2.0, part="length_penalty"),
        _beam_case(models.rnn_model(6, 5, rng, eos_bias=1.0), rnn.format(6, "h"), 0, 1, 3, 6, 1.0,
                   part="length_penalty"),
        # a beam of one is greedy decoding
        _beam_case(models.rnn_model(6, 5, rng), rnn.format(6, "h"), 0, 1, 1, 6, part="greedy"),
        _beam_case(models.table_model(trap), wrong, 0, 1, 1, 3, part="greedy"),
        _beam_case(models.prefix_model(5, 8, seed + 4), "a random probability tree (V=5)", 0, 1,
                   1, 6, part="greedy"),
    ]  # fmt: skip
    if hidden:
        cases += [
            _beam_case(models.rnn_model(9, 6, rng, pair=True), rnn.format(9, "(h, c)"), 0, 1, 6,
                       9),
            _beam_case(models.prefix_model(4, 7, seed + 5, eos_bias=0.5),
                       "a random probability tree (V=4)", 0, 1, 8, 6),
            _beam_case(models.prefix_model(7, 12, seed + 6, eos_bias=1.5),
                       "a tree that likes <eos> (V=7)", 0, 1, 4, 10, part="stopping"),
            _beam_case(models.rnn_model(8, 5, rng, eos_id=2), "an RNN with eos_id=2 (V=8)", 1,
                       2, 3, 7, 0.8, part="length_penalty"),
            _beam_case(models.rnn_model(7, 5, rng, pair=True), rnn.format(7, "(h, c)"), 0, 1, 1,
                       8, part="greedy"),
        ]  # fmt: skip
    return cases


def _beam_expected(step_fn, state0, bos_id, eos_id, beam_width, max_len, length_penalty):
    """The reference's ranked list; a beam of one must be greedy decoding, so greedy gives it."""
    if beam_width == 1 and length_penalty == 0:
        tokens, logprob = reference("greedy_decode", step_fn, state0, bos_id, eos_id, max_len)
        return [(tokens, logprob)]
    args = (step_fn, state0, bos_id, eos_id, beam_width, max_len, length_penalty)
    return reference("beam_search", *args)


CHECKS = (
    Spec(
        "additive_attention_forward",
        "(context, alpha, cache)",
        "Additive (Bahdanau) attention, as ``rnncore.additive_attention_forward``, ``context`` "
        "(N, E) and ``alpha`` (N, T) in the inputs' dtype. Cases: four batches (T = 1, N = 1 "
        "and N = T among them) with mask=None, the first as float32 too; padded batches with a "
        'mask (part ``"mask"``: alpha exactly 0 at padding); scores of about ±2000 with a '
        'mask (part ``"stability"``). Hidden adds three batches (one of size 1 everywhere), '
        "a float32 copy and two padded batches.",
        _forward_cases,
        ("s_prev", "H_enc", "params", "mask"),
        (Out("context", ("N", "E")), Out("alpha", ("N", "T")), Out("cache", kind="cache")),
        mistakes=catalogue.ADDITIVE_ATTENTION_FORWARD,
        parts=("shapes", "values", "mask", "stability"),
        part_text={
            "mask": "padded batches: alpha exactly 0 where the mask is False, the real "
            "positions' weights summing to 1, and the context of those weights",
            "stability": "scores of about ±2000: no overflow, no NaN",
        },
        float32=True,
    ),
    Spec(
        "additive_attention_backward",
        "(ds_prev, dH_enc, grads)",
        "``dcontext`` (N, E) and ``dalpha`` (N, T) are random upstream gradients; finite "
        "differences weight the forward's ``context`` and ``alpha`` by them. Runs on the "
        "forward's four unpadded batches and two padded ones (float64); hidden adds five more.",
        _backward_cases,
        mistakes=catalogue.ADDITIVE_ATTENTION_BACKWARD,
        pair=ATTENTION,
        forward_mistakes=catalogue.ADDITIVE_ATTENTION_FORWARD,
    ),
    Spec(
        "beam_search",
        "results",
        "The ranked list of finished hypotheses ``(tokens, score)``, best first, as "
        "``rnncore.beam_search``. Cases: random RNN decoders (state an array or a tuple), "
        "a random probability tree whose state is the prefix, and chapter 11's model on "
        'which greedy decoding is wrong (parts ``"best"``: the first hypothesis, ``"values"``: '
        "the whole list and its scores); models that like, or never emit, <eos> and other "
        'ids for BOS and EOS (``"stopping"``); length penalties 0.6 to 2 '
        '(``"length_penalty"``); beams of one, which must give greedy decoding '
        '(``"greedy"``, compared with ``rnncore.greedy_decode``). Hidden adds five more.',
        _beam_cases,
        ("step_fn", "state0", "bos_id", "eos_id", "beam_width", "max_len", "length_penalty"),
        (Out("results", kind="ranked", part=("values", "best")),),
        _beam_expected,
        catalogue.BEAM_SEARCH,
        parts=("shapes", "best", "values", "stopping", "length_penalty", "greedy"),
        part_text={
            "shapes": "returns a list of (tokens, score) pairs: tokens a list of int, "
            "score a float",
            "best": "the best hypothesis (the first of the list)",
            "values": "the whole ranked list, tokens and scores",
            "stopping": "models that like, or never emit, <eos>: hypotheses end at eos_id "
            "or after max_len tokens",
            "length_penalty": "scores divided by ``((5 + |Y|) / 6) ** length_penalty``",
            "greedy": "beam_width=1 gives greedy decoding's output and log-probability",
        },
    ),
)

check_additive_attention_forward, check_additive_attention_backward, check_beam_search = build(
    __name__, CHECKS
)
__all__ = [f"check_{spec.name}" for spec in CHECKS]
