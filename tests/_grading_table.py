"""The graded functions, their references, plain-NumPy solutions and catalogues (for the tests)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

import rnncore
from rnncore import grading
from rnncore._guard import allowing
from rnncore.grading import _watch
from rnncore.grading.mistakes import (
    ex01_vocabulary as m01,
)
from rnncore.grading.mistakes import (
    ex02_rnn_cell as m02,
)
from rnncore.grading.mistakes import (
    ex03_softmax_loss as m03,
)
from rnncore.grading.mistakes import (
    ex04_bptt as m04,
)
from rnncore.grading.mistakes import (
    ex05_clipping as m05,
)
from rnncore.grading.mistakes import (
    ex06_gru as m06,
)
from rnncore.grading.mistakes import (
    ex07_lstm as m07,
)
from rnncore.grading.mistakes import (
    ex08_bidirectional_deep as m08,
)
from rnncore.grading.mistakes import (
    ex09_sampling as m09,
)
from rnncore.grading.mistakes import (
    ex10_training_practice as m10,
)
from rnncore.grading.mistakes import (
    ex11_beam_search as m11_beam,
)
from rnncore.grading.mistakes import (
    ex11_seq2seq_attention as m11,
)


def allowed(fn, **kw):
    """The reference as a student's function: refusals lifted while it runs."""

    def run(*args):
        with allowing():
            return fn(*args, **kw)

    return run


def first(fn, **kw):
    """The reference's first output only (bidirectional/stacked return more)."""

    def run(*args):
        with allowing():
            return fn(*args, **kw)[0]

    return run


def vocab_reference(tokens, min_freq=1):
    with allowing():
        return rnncore.Vocab(tokens, min_freq=min_freq).idx_to_token


def windows_reference(ids, seq_len, batch_size, offset):
    """rnncore.lm_batches (chapter 9's batcher, a fixed offset) as a student's answer."""
    with allowing():
        windows = list(rnncore.lm_batches(ids, seq_len, batch_size, offset))
    return np.stack([x for x, _ in windows]), np.stack([y for _, y in windows])


FORWARD = ("shapes", "values")
BACKWARD = ("shapes", "values", "gradcheck", "gradients")
STABLE = ("shapes", "values", "stability")
LOSS = ("shapes", "loss", "gradient", "stability", "values", "gradients")


class Row(NamedTuple):
    check: object
    reference: tuple
    solution: tuple
    mistakes: tuple
    parts: tuple


R = rnncore
ROWS = {
    "build_vocab": Row(
        grading.check_build_vocab,
        (vocab_reference,),
        (m01.solution_build_vocab,),
        m01.BUILD_VOCAB,
        FORWARD,
    ),
    "one_hot": Row(
        grading.check_one_hot, (allowed(R.one_hot),), (m01.solution_one_hot,), m01.ONE_HOT, FORWARD
    ),
    "embedding_lookup": Row(
        grading.check_embedding_lookup,
        (allowed(R.embedding_lookup),),
        (m01.solution_embedding_lookup,),
        m01.EMBEDDING_LOOKUP,
        FORWARD,
    ),
    "rnn_cell_forward": Row(
        grading.check_rnn_cell_forward,
        (allowed(R.rnn_cell_forward),),
        (m02.solution_rnn_cell_forward,),
        m02.RNN_CELL_FORWARD,
        FORWARD,
    ),
    "rnn_forward": Row(
        grading.check_rnn_forward,
        (allowed(R.rnn_forward),),
        (m02.solution_rnn_forward,),
        m02.RNN_FORWARD,
        FORWARD,
    ),
    "softmax": Row(
        grading.check_softmax, (allowed(R.softmax),), (m03.solution_softmax,), m03.SOFTMAX, STABLE
    ),
    "softmax_cross_entropy": Row(
        grading.check_softmax_cross_entropy,
        (allowed(R.softmax_cross_entropy),),
        (m03.solution_softmax_cross_entropy,),
        m03.SOFTMAX_CROSS_ENTROPY,
        LOSS,
    ),
    "sequence_loss": Row(
        grading.check_sequence_loss,
        (allowed(R.sequence_loss, reduction="batch_mean"),),
        (m03.solution_sequence_loss,),
        m03.SEQUENCE_LOSS,
        LOSS,
    ),
    "rnn_cell_backward": Row(
        grading.check_rnn_cell_backward,
        (allowed(R.rnn_cell_forward), allowed(R.rnn_cell_backward)),
        (m02.solution_rnn_cell_forward, m04.solution_rnn_cell_backward),
        m04.RNN_CELL_BACKWARD,
        BACKWARD,
    ),
    "rnn_backward": Row(
        grading.check_rnn_backward,
        (allowed(R.rnn_forward), allowed(R.rnn_backward)),
        (m02.solution_rnn_forward, m04.solution_rnn_backward),
        m04.RNN_BACKWARD,
        BACKWARD,
    ),
    "clip_grad_norm": Row(
        grading.check_clip_grad_norm,
        (allowed(R.clip_grad_norm),),
        (m05.solution_clip_grad_norm,),
        m05.CLIP_GRAD_NORM,
        FORWARD,
    ),
    "clip_grad_value": Row(
        grading.check_clip_grad_value,
        (allowed(R.clip_grad_value),),
        (m05.solution_clip_grad_value,),
        m05.CLIP_GRAD_VALUE,
        FORWARD,
    ),
    "gradient_norms_over_time": Row(
        grading.check_gradient_norms_over_time,
        (allowed(R.gradient_norms_over_time),),
        (m05.solution_gradient_norms_over_time,),
        m05.GRADIENT_NORMS_OVER_TIME,
        FORWARD,
    ),
    "gru_cell_forward": Row(
        grading.check_gru_cell_forward,
        (allowed(R.gru_cell_forward),),
        (m06.solution_gru_cell_forward,),
        m06.GRU_CELL_FORWARD,
        FORWARD,
    ),
    "gru_cell_backward": Row(
        grading.check_gru_cell_backward,
        (allowed(R.gru_cell_forward), allowed(R.gru_cell_backward)),
        (m06.solution_gru_cell_forward, m06.solution_gru_cell_backward),
        m06.GRU_CELL_BACKWARD,
        BACKWARD,
    ),
    "lstm_cell_forward": Row(
        grading.check_lstm_cell_forward,
        (allowed(R.lstm_cell_forward),),
        (m07.solution_lstm_cell_forward,),
        m07.LSTM_CELL_FORWARD,
        FORWARD,
    ),
    "lstm_cell_backward": Row(
        grading.check_lstm_cell_backward,
        (allowed(R.lstm_cell_forward), allowed(R.lstm_cell_backward)),
        (m07.solution_lstm_cell_forward, m07.solution_lstm_cell_backward),
        m07.LSTM_CELL_BACKWARD,
        BACKWARD,
    ),
    "bidirectional_rnn_forward": Row(
        grading.check_bidirectional_rnn_forward,
        (first(R.bidirectional_forward, cell="rnn"),),
        (m08.solution_bidirectional_rnn_forward,),
        m08.BIDIRECTIONAL_RNN_FORWARD,
        FORWARD,
    ),
    "stacked_rnn_forward": Row(
        grading.check_stacked_rnn_forward,
        (lambda X, p, L: first(R.stacked_forward, cell="rnn", num_layers=L)(X, p),),
        (m08.solution_stacked_rnn_forward,),
        m08.STACKED_RNN_FORWARD,
        FORWARD,
    ),
    "softmax_with_temperature": Row(
        grading.check_softmax_with_temperature,
        (allowed(R.softmax_with_temperature),),
        (m09.solution_softmax_with_temperature,),
        m09.SOFTMAX_WITH_TEMPERATURE,
        STABLE,
    ),
    "sample_next": Row(
        grading.check_sample_next,
        (allowed(R.sample_next),),
        (m09.solution_sample_next,),
        m09.SAMPLE_NEXT,
        FORWARD,
    ),
    "sample_text": Row(
        grading.check_sample_text,
        (allowed(R.sample_text),),
        (m09.solution_sample_text,),
        m09.SAMPLE_TEXT,
        ("shapes", "values", "stopping"),
    ),
    "sequential_minibatches": Row(
        grading.check_sequential_minibatches,
        (windows_reference,),
        (m10.solution_sequential_minibatches,),
        m10.SEQUENTIAL_MINIBATCHES,
        ("shapes", "targets", "continuity", "values"),
    ),
    "variational_rnn_forward": Row(
        grading.check_variational_rnn_forward,
        (allowed(R.variational_rnn_forward),),
        (m10.solution_variational_rnn_forward,),
        m10.VARIATIONAL_RNN_FORWARD,
        ("shapes", "values", "ones"),
    ),
    "variational_rnn_backward": Row(
        grading.check_variational_rnn_backward,
        (allowed(R.variational_rnn_forward), allowed(R.variational_rnn_backward)),
        (m10.solution_variational_rnn_forward, m10.solution_variational_rnn_backward),
        m10.VARIATIONAL_RNN_BACKWARD,
        BACKWARD,
    ),
    "additive_attention_forward": Row(
        grading.check_additive_attention_forward,
        (allowed(R.additive_attention_forward),),
        (m11.solution_additive_attention_forward,),
        m11.ADDITIVE_ATTENTION_FORWARD,
        ("shapes", "values", "mask", "stability"),
    ),
    "additive_attention_backward": Row(
        grading.check_additive_attention_backward,
        (allowed(R.additive_attention_forward), allowed(R.additive_attention_backward)),
        (m11.solution_additive_attention_forward, m11.solution_additive_attention_backward),
        m11.ADDITIVE_ATTENTION_BACKWARD,
        BACKWARD,
    ),
    "beam_search": Row(
        grading.check_beam_search,
        (allowed(R.beam_search),),
        (m11.solution_beam_search,),
        m11.BEAM_SEARCH,
        ("shapes", "best", "values", "stopping", "length_penalty", "greedy"),
    ),
}


MISTAKE_MODULES = (m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m11_beam)


@pytest.fixture
def student_copies(monkeypatch):
    """The catalogue's functions as a student's own code.

    In rnncore they guard themselves (a student must not import the model
    answers); source copied into a notebook would not, which is what the tests
    of the checks need.
    """
    for module in MISTAKE_MODULES:
        monkeypatch.setattr(module, "guard", lambda name: None)
    monkeypatch.setattr(_watch, "catalogue_is_student_code", True)


@pytest.fixture
def trusted_reference(monkeypatch):
    """Run rnncore's reference as a "student": the watcher of rnncore's code stands down.

    The reference wrappers lift the guard with ``allowing()``; that alone
    would score 0 under the watcher, as it must for a student.
    """
    monkeypatch.setattr(_watch, "enabled", False)
