"""Grading checks for the rnnbook exercises: ``check_<function>(student_fn, ...)``.

Each check runs a student's function on random cases and edge cases (N = 1,
T = 1, D ≠ H, large logits, float32 inputs and ``h0 = None`` where the
exercise promises them), compares every output with rnncore's reference and
raises ``CheckFailed`` (an ``AssertionError``) with a short message the student
can act on; IPython shows that message alone, without a traceback. A check
that passes prints one line (``✓ rnn_cell_forward: shapes and values right on
4 cases``) and returns None: nbgrader would read a returned number or bool as
partial credit.

Every check is made from one row of a table (:class:`~rnncore.grading._table.Spec`
in each exercise module's ``CHECKS``): its cases, outputs, tolerances,
catalogue of mistakes, parts and refusals; its docstring below is written
from that row.

Use in an nbgrader test cell::

    from rnncore.grading import check_rnn_cell_forward
    check_rnn_cell_forward(rnn_cell_forward)               # visible cases
    ### BEGIN HIDDEN TESTS
    check_rnn_cell_forward(rnn_cell_forward, hidden=True)  # more cases
    ### END HIDDEN TESTS

Backward checks take the student's forward and backward together
(``check_rnn_cell_backward(rnn_cell_forward, rnn_cell_backward)``): the cache is
the student's own design. They compare with the reference *and* with centred
finite differences of the student's own forward pass.

``part=`` grades one property per cell: forward checks ``"shapes"`` and
``"values"``; softmax-like checks also ``"stability"`` (logits of ±1000 or a
tiny temperature); the losses ``"shapes"``, ``"loss"``, ``"gradient"``,
``"stability"`` (``"values"`` = loss and gradient); backward checks
``"shapes"``, ``"values"``, ``"gradcheck"`` (``"gradients"`` = both);
``check_sample_text`` also ``"stopping"`` (models sure of every token, so only
the prompt and the stops matter); ``check_sequential_minibatches`` also
``"targets"`` and ``"continuity"``, properties of the student's own windows
(every target one token ahead; each column reading the stream without a jump);
``check_variational_rnn_forward`` also ``"ones"`` (masks of ones: the plain
RNN); ``check_additive_attention_forward`` also ``"mask"`` (padded batches:
weight exactly 0 at padding) and ``"stability"``; ``check_beam_search`` grades
``"shapes"``, ``"best"`` (the first hypothesis), ``"values"`` (the whole ranked
list), ``"stopping"``, ``"length_penalty"`` and ``"greedy"`` (a beam of one is
greedy decoding). ``None`` checks everything.

Tolerances (float64 cases): values ``|yours − expected| <= 1e-8 + 1e-6·|expected|``
(clipping: ``1e-5`` relative); float32 cases ``1e-5 + 1e-4·|expected|``, and the
result must be float32; finite differences (always float64): relative error
``‖a − n‖ / (‖a‖ + ‖n‖) < 1e-6`` with ``eps = 1e-6``.

Failure classes, one message each: not implemented yet (``NotImplementedError``
or ``None`` returned); scores 0 for calling rnncore's reference; an exception
in the student's code (with its line; NumPy's shape errors name the operands
and their shapes); inputs changed in place; wrong return type or tuple length;
wrong shape; float64 returned for float32 inputs; NaN or inf; wrong values
(max abs error, first index, a slice of yours and the expected side by side;
backward checks name the first gradient that differs in the order of the
backward pass). When the
student's output equals one of the exercise's catalogued mistakes
(:mod:`rnncore.grading.mistakes`) on every case, the message names it and the
chapter that teaches the right way.

The reference guard
-------------------
While a student's function runs, rnncore's public functions refuse to run
(``rnncore._guard.refusing``; every check refuses all of them, except that
``check_sample_text`` leaves the ``Vocab`` methods usable). The refusal lives
inside each reference function, so it holds whether the reference is reached as
``rnncore.f``, ``from rnncore.m import f``, through ``importlib``, an alias
saved before grading, or a function fished out of a closure.

Behind it, a watcher (:mod:`rnncore.grading._watch`, a ``sys.setprofile`` hook
active only during the student's call) records any call into rnncore's own
files: private helpers that do not guard (``rnncore.functional._softmax``,
``rnncore.optim._global_norm``, ...), ``rnncore._guard.allowing()``, a
reference run after the student emptied ``rnncore._guard._refused`` or replaced
a module's ``guard`` with a no-op, and the model answers of
:mod:`rnncore.grading.mistakes`. Either way the answer scores 0 with a plain
message. A refused call the student catches and then does the work anyway is
not held against them.

In the student's kernel, then, the guard and the watcher deter the easy
shortcut and no more: a student's code there can patch the checks, copy the
reference's source or read the answers from the grader's frames. None of that
reaches a grade. At grading time (:mod:`rnncore.grading.autograde`) the
student's code runs in a sandbox where rnncore does not exist, the checks run
in the grader's process and call the student's functions across the process
boundary, hidden cases are drawn from the instructor's secret, and every score
is sealed (:mod:`rnncore.grading.seal`). What remains possible is copying,
which ``make grade``'s similarity report flags.
"""

import importlib as _importlib

# The course's assignments, in the book's order: one module of checks each. scripts.course
# (release, grading, the hub) reads its assignment list from here.
EXERCISE_NAMES = (
    "ex01_vocabulary",
    "ex02_rnn_cell",
    "ex03_softmax_loss",
    "ex04_bptt",
    "ex05_clipping",
    "ex06_gru",
    "ex07_lstm",
    "ex08_bidirectional_deep",
    "ex09_sampling",
    "ex10_training_practice",
    "ex11_seq2seq_attention",
)
_EXERCISES = tuple(
    _importlib.import_module(f"{__name__}.{module}")  # also binds rnncore.grading.<module>
    for module in EXERCISE_NAMES
)
__all__ = [name for module in _EXERCISES for name in module.__all__]
globals().update({name: getattr(module, name) for module in _EXERCISES for name in module.__all__})
