"""Exercise 10's checks: parts that grade one property each, integer windows, fixed masks.

The generic suites (test_grading_checks, test_grading_messages) run every catalogued
mistake; these tests pin what is particular to exercise 10: the minibatcher's
``"targets"`` and ``"continuity"`` parts grade properties of the student's own
windows (partial credit that the reference comparison alone could not give), the
windows must be integer arrays, the variational RNN's ``"ones"`` part separates the
loop from the masks, and the backward check's finite differences hold the masks fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from _grading_table import ROWS, student_copies  # noqa: F401

from rnncore import grading, lm_batches, stream_minibatches
from rnncore._guard import allowing
from rnncore.grading._harness import CheckFailed
from rnncore.grading.mistakes import ex10_training_practice as m10

pytestmark = pytest.mark.usefixtures("student_copies")


def _mistake(catalogue, start):
    (mistake,) = [m for m in catalogue if m.description.startswith(start)]
    return mistake.fn


def _passes(check, *fns, part):
    try:
        check(*fns, part=part)
    except CheckFailed:
        return False
    return True


# which parts each minibatcher mistake keeps: its windows' properties, by the definitions
# (a wrong reshape keeps every target right but breaks the columns, and so on)
MINIBATCH_PARTS = {
    "Y not shifted": {"shapes", "continuity"},
    "X and Y swapped": {"shapes", "continuity"},
    "the stream reshaped to (steps, N)": {"shapes", "targets"},
    "windows of T tokens dealt out": {"shapes", "targets"},
    "offset ignored": {"shapes", "targets", "continuity"},
    "batch-major windows": set(),
}


@pytest.mark.parametrize("start", MINIBATCH_PARTS)
def test_minibatch_parts_grade_one_property_each(start):
    fn = _mistake(m10.SEQUENTIAL_MINIBATCHES, start)
    kept = {
        part
        for part in ("shapes", "targets", "continuity", "values")
        if _passes(grading.check_sequential_minibatches, fn, part=part)
    }
    assert kept == MINIBATCH_PARTS[start]


def test_continuity_names_the_window_border_it_breaks():
    dealt = _mistake(m10.SEQUENTIAL_MINIBATCHES, "windows of T tokens dealt out")
    with pytest.raises(CheckFailed) as info:
        grading.check_sequential_minibatches(dealt, part="continuity")
    text = str(info.value)
    # (L, T, N) = (25, 3, 2): window 0's column 0 holds positions 0-2, window 1's starts at 6
    assert "column 0 of X does not read the stream contiguously" in text
    assert "from window 0 to window 1" in text
    assert "should be the one at position 3, but it is at position 6" in text


def test_windows_must_be_integer_ids():
    def as_floats(ids, seq_len, batch_size, offset):
        X, Y = m10.solution_sequential_minibatches(ids, seq_len, batch_size, offset)
        return X.astype(float), Y.astype(float)

    with pytest.raises(
        CheckFailed,
        match=r"X should hold integer token ids \(the dtype of ids\), got dtype float64",
    ):
        grading.check_sequential_minibatches(as_floats, part="shapes")


def test_a_list_of_window_pairs_is_told_to_stack_them():
    def pairs(ids, seq_len, batch_size, offset):
        X, Y = m10.solution_sequential_minibatches(ids, seq_len, batch_size, offset)
        return list(zip(X, Y))  # (x, y) per window, as stream_minibatches yields them

    with pytest.raises(CheckFailed) as info:
        grading.check_sequential_minibatches(pairs, part="shapes")
    assert str(info.value) == (
        "sequential_minibatches: should return a tuple (X, Y) of 2 values, got 4 values, each "
        "itself 2 values (a list of pieces?): return the 2 values once, each piece stacked "
        "into one array (np.stack)."
    )


def test_the_expected_windows_are_chapter_9s_batcher_too():
    """stream_minibatches after the offset and lm_batches with it: the same windows."""
    ids = np.random.default_rng(3).integers(0, 50, size=97)
    for T, N, offset in ((5, 3, 2), (1, 4, 0), (8, 2, 7)):
        with allowing():
            ours = list(
                stream_minibatches(
                    ids[offset:], T, N, np.random.default_rng(0), random_offset=False
                )
            )
            theirs = list(lm_batches(ids, T, N, offset))
        assert len(ours) == len(theirs) == (96 - offset) // N // T
        for a, (x, y) in zip(ours, theirs):
            assert np.array_equal(a.ids_in, x) and np.array_equal(a.ids_target, y)
        # by hand: column n of window k starts at offset + n * steps + k * T
        steps = (len(ids) - 1 - offset) // N
        assert ours[1].ids_in[0, 1] == ids[offset + steps + T]
        assert ours[1].ids_target[0, 1] == ids[offset + steps + T + 1]


def test_masks_of_ones_grade_the_loop_apart_from_the_masks():
    for mistake in m10.VARIATIONAL_RNN_FORWARD:
        assert _passes(grading.check_variational_rnn_forward, mistake.fn, part="ones")
        assert not _passes(grading.check_variational_rnn_forward, mistake.fn, part="values")

    def sigmoid_rnn(X, h0, params, mask_x, mask_h):
        H, cache = m10.solution_variational_rnn_forward(X, h0, params, mask_x, mask_h)
        return np.arctanh(H), cache  # the pre-activations: no tanh at all

    with pytest.raises(
        CheckFailed, match="masks of ones: nothing dropped, so H is exercise 2's plain RNN"
    ):
        grading.check_variational_rnn_forward(sigmoid_rnn, part="ones")


def test_finite_differences_hold_the_masks_fixed():
    """The right pair passes gradcheck (so the forward got the same masks every time);
    a backward that skips mask_x disagrees with finite differences of the right forward."""
    row = ROWS["variational_rnn_backward"]
    assert row.check(*row.solution, part="gradcheck") is None
    forward, no_mask = _mistake(m10.VARIATIONAL_RNN_BACKWARD, "dX not passed back")
    with pytest.raises(CheckFailed, match="dX disagrees with finite differences") as info:
        grading.check_variational_rnn_backward(forward, no_mask, part="gradcheck")
    assert "dX not passed back through mask_x" in str(info.value)


def test_a_forward_that_draws_its_own_masks_fails_with_masks_of_ones():
    """Ignoring the masks given (a new mask at every step) shows even without dropout."""

    def own_masks(X, h0, params, mask_x, mask_h):
        rng = np.random.default_rng(0)
        h, H = h0 if h0 is not None else np.zeros(mask_h.shape), []
        for x in X:
            step_x = (rng.random(x.shape) >= 0.5) * 2.0
            step_h = (rng.random(h.shape) >= 0.5) * 2.0
            h = np.tanh((x * step_x) @ params["W_xh"] + (h * step_h) @ params["W_hh"])
            H.append(h)
        return np.stack(H).astype(X.dtype), None

    assert _passes(grading.check_variational_rnn_forward, own_masks, part="shapes")
    assert not _passes(grading.check_variational_rnn_forward, own_masks, part="ones")
