"""Every check passes rnncore's reference and a plain-NumPy solution, and fails every mutant.

The mutants are the exercises' catalogues of typical mistakes
(``rnncore.grading.mistakes``): each must lose points, with a message that
names it and points to the chapter that teaches the right way.
"""

from __future__ import annotations

import re

import pytest
from _grading_table import ROWS, student_copies, trusted_reference  # noqa: F401

from rnncore import grading
from rnncore.grading._compare import CHAPTERS

MUTANTS = [(name, k) for name, row in ROWS.items() for k in range(len(row.mistakes))]

pytestmark = pytest.mark.usefixtures("student_copies")


def test_every_check_in_the_contract_exists_and_is_tabled():
    names = {f"check_{name}" for name in ROWS}
    assert names == set(grading.__all__)
    assert len(names) == 28


@pytest.mark.usefixtures("trusted_reference")
@pytest.mark.parametrize("name", ROWS)
def test_reference_passes_every_part_and_hidden(name):
    row = ROWS[name]
    assert row.check(*row.reference) is None
    assert row.check(*row.reference, hidden=True) is None
    for part in row.parts:
        assert row.check(*row.reference, part=part) is None


@pytest.mark.parametrize("name", ROWS)
def test_plain_numpy_solution_passes_hidden(name):
    """A careful student's answer (no rnncore inside) passes while rnncore is refused."""
    row = ROWS[name]
    assert row.check(*row.solution, hidden=True) is None


@pytest.mark.parametrize("name", ROWS)
def test_catalogue_has_at_least_five_distinct_mistakes(name):
    mistakes = ROWS[name].mistakes
    assert len(mistakes) >= 5
    assert len({m.description for m in mistakes}) == len(mistakes)
    assert all(m.chapter in CHAPTERS for m in mistakes)


@pytest.mark.parametrize("name,k", MUTANTS, ids=[f"{n}-{k}" for n, k in MUTANTS])
def test_every_mutant_fails_and_is_named(name, k):
    row = ROWS[name]
    mistake = row.mistakes[k]
    fns = mistake.fn if isinstance(mistake.fn, tuple) else (mistake.fn,)
    with pytest.raises(AssertionError) as info:
        row.check(*fns)
    message = str(info.value)
    assert message.split(":")[0] in (name, name.replace("backward", "forward"))
    assert f"This looks like {mistake.description}" in message
    assert f"see chapter {mistake.chapter}, {CHAPTERS[mistake.chapter]}" in message


@pytest.mark.usefixtures("trusted_reference")
@pytest.mark.parametrize("name", ROWS)
def test_unknown_part_is_an_author_error(name):
    row = ROWS[name]
    with pytest.raises(ValueError, match=re.escape("part must be one of")):
        row.check(*row.reference, part="colour")


def test_backward_check_reports_a_wrong_forward_first():
    row = ROWS["rnn_cell_backward"]
    sigmoid_cell = ROWS["rnn_cell_forward"].mistakes[0]
    with pytest.raises(AssertionError, match="fix your forward pass") as info:
        row.check(sigmoid_cell.fn, row.solution[1])
    assert "sigmoid used instead of tanh" in str(info.value)


def test_gradcheck_part_names_the_mistake_without_the_reference_values():
    row = ROWS["rnn_cell_backward"]
    one_minus_h = row.mistakes[0]
    with pytest.raises(AssertionError, match="disagrees with finite differences") as info:
        row.check(*one_minus_h.fn, part="gradcheck")
    assert "1 − h used for the derivative of tanh" in str(info.value)


def test_shapes_part_passes_a_mistake_with_right_shapes():
    """Partial credit: a wrong activation still has the right shapes."""
    row = ROWS["rnn_cell_forward"]
    assert row.check(row.mistakes[0].fn, part="shapes") is None
    with pytest.raises(AssertionError):
        row.check(row.mistakes[0].fn, part="values")


def test_stability_part_only_grades_large_logits():
    row = ROWS["softmax"]
    no_shift = row.mistakes[0].fn
    assert row.check(no_shift, part="values") is None
    with pytest.raises(AssertionError, match="NaN or inf"):
        row.check(no_shift, part="stability")


def test_chapter_titles_match_the_books_headings():
    """Messages name chapters by their titles; the written chapters must agree."""
    import pathlib

    book = pathlib.Path(__file__).resolve().parents[1] / "book"
    headings = {
        int(path.name[2:4]): next(
            line[2:].strip() for line in path.read_text().splitlines() if line.startswith("# ")
        )
        for path in sorted(book.glob("ch[0-9][0-9]_*.md"))
    }
    for number, title in CHAPTERS.items():
        assert headings.get(number) == title, number


def test_sampling_stopping_part_is_independent_of_the_draws():
    row = ROWS["sample_text"]
    greedy = next(m for m in row.mistakes if "greedy" in m.description)
    assert row.check(greedy.fn, part="stopping") is None
    never_stops = next(m for m in row.mistakes if "not stopped" in m.description)
    with pytest.raises(AssertionError, match="generation not stopped at <eos>"):
        row.check(never_stops.fn, part="stopping")


def _ng_backward(dh, cache):
    """The exact backward pass of Ng's convention, h = (1 − z) ⊙ h_prev + z ⊙ h̃.

    With z' = 1 − z it is the book's cell; z' = σ(−a) flips the sign of the
    update gate's pre-activation gradient.
    """
    from rnncore.grading.mistakes import ex06_gru

    return ex06_gru._gru_back(dh, {**cache, "z": 1 - cache["z"]}, dz_sign=-1)


def test_a_wrong_forward_only_costs_the_backward_values_part():
    """Finite differences use the student's own forward; only "values" needs the right one."""
    row = ROWS["gru_cell_backward"]
    ng_forward = ROWS["gru_cell_forward"].mistakes[0].fn  # Ng's convention
    assert row.check(ng_forward, _ng_backward, part="shapes") is None
    assert row.check(ng_forward, _ng_backward, part="gradcheck") is None
    with pytest.raises(AssertionError, match="fix your forward pass") as info:
        row.check(ng_forward, _ng_backward, part="values")
    assert "Andrew Ng's update-gate convention" in str(info.value)
