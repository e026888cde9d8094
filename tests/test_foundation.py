"""The shared machinery: input validation, the reference guard, gradient checking."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnncore import _guard
from rnncore._validate import (
    Sizes,
    check_array,
    check_choice,
    check_ids,
    check_params,
    check_positive,
)
from rnncore.gradcheck import gradcheck, numerical_gradient, relative_error

# --- validation ------------------------------------------------------------------------------


def test_shape_message_names_argument_got_needed_and_source_of_each_letter():
    sizes = Sizes()
    check_array("x", np.zeros((3, 4)), ("N", "D"), sizes, where="rnn_cell_forward")
    with pytest.raises(ValueError) as err:
        check_array("h_prev", np.zeros((2, 5)), ("N", "H"), sizes, where="rnn_cell_forward")
    assert str(err.value) == (
        "h_prev has shape (2, 5) but rnn_cell_forward needs (N, H) = (3, H) (N = 3 from x)"
    )


def test_wrong_number_of_dimensions_is_a_shape_error():
    with pytest.raises(ValueError, match=r"x has shape \(4,\) but f needs \(N, D\)"):
        check_array("x", np.zeros(4), ("N", "D"), where="f")


def test_letters_bind_once_and_later_arrays_must_agree():
    sizes = Sizes()
    check_array("W_xh", np.zeros((4, 6)), ("D", "H"), sizes)
    check_array("b_h", np.zeros(6), ("H",), sizes)
    assert sizes["D"] == 4 and sizes["H"] == 6
    with pytest.raises(ValueError, match=r"needs \(H,\) = \(6,\) \(H = 6 from W_xh\)"):
        check_array("b_h", np.zeros(5), ("H",), sizes)


def test_non_array_is_a_type_error_with_a_fix():
    with pytest.raises(TypeError, match=r"x must be a NumPy array .* got list; convert it"):
        check_array("x", [[1.0]], ("N", "D"))


def test_integer_dtype_is_a_type_error():
    with pytest.raises(TypeError, match=r"x must hold floating-point numbers .* got dtype int64"):
        check_array("x", np.zeros((2, 2), dtype=np.int64), ("N", "D"))


def test_nan_and_inf_are_located():
    x = np.zeros((2, 3))
    x[1, 2] = np.inf
    with pytest.raises(
        ValueError, match=r"x passed to f contains NaN or inf \(first at index \(1, 2\)\)"
    ):
        check_array("x", x, ("N", "D"), where="f")
    check_array("x", x, ("N", "D"), finite=False)  # callers may opt out (e.g. masked logits)


def test_params_missing_key_and_not_a_dict():
    specs = {"W_xh": ("D", "H"), "W_hh": ("H", "H"), "b_h": ("H",)}
    with pytest.raises(ValueError, match=r"params is missing 'W_hh', 'b_h'; f needs the keys"):
        check_params("params", {"W_xh": np.zeros((2, 3))}, specs, where="f")
    with pytest.raises(TypeError, match=r"params must be a dict of named arrays, got list"):
        check_params("params", [np.zeros(2)], specs)
    with pytest.raises(ValueError, match=r"params\['b_h'\] has shape \(4,\)"):
        check_params(
            "params",
            {"W_xh": np.zeros((2, 3)), "W_hh": np.zeros((3, 3)), "b_h": np.zeros(4)},
            specs,
        )


def test_ids_checks():
    check_ids("ids", np.array([[0, 4]]), 5, ("T", "N"))
    with pytest.raises(TypeError, match="integer token ids, got dtype float64"):
        check_ids("ids", np.array([0.0]), 5)
    with pytest.raises(TypeError, match="NumPy array of integer ids, got list"):
        check_ids("ids", [0], 5)
    with pytest.raises(ValueError, match=r"holds the id 5, outside the vocabulary's range 0..4"):
        check_ids("ids", np.array([0, 5]), 5)
    with pytest.raises(ValueError, match=r"holds the id -1"):
        check_ids("ids", np.array([-1, 2]), 5)


def test_choice_and_positive():
    check_choice("reduction", "sum", ("sum", "mean"))
    with pytest.raises(ValueError, match=r"reduction must be one of 'sum', 'mean', got 'avg'"):
        check_choice("reduction", "avg", ("sum", "mean"))
    check_positive("lr", 0.1)
    check_positive("clip", 0, allow_zero=True)
    with pytest.raises(ValueError, match="lr must be a finite positive number, got 0"):
        check_positive("lr", 0)
    with pytest.raises(ValueError, match="finite non-negative"):
        check_positive("clip", -1.0, allow_zero=True)
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        check_positive("lr", "0.1")
    with pytest.raises(TypeError, match="got bool"):
        check_positive("lr", True)


# --- the reference guard ---------------------------------------------------------------------


def _reference_like():
    _guard.guard("rnn_cell_forward")
    return "ran"


def test_guard_refuses_only_inside_the_block_and_restores_state():
    assert _reference_like() == "ran"
    with _guard.refusing({"rnn_cell_forward"}):
        with pytest.raises(_guard.ReferenceCallRefused, match="refuses to run while your code"):
            _reference_like()
        with _guard.allowing():
            assert _reference_like() == "ran"  # the grader computing expected values
        with pytest.raises(_guard.ReferenceCallRefused):
            _reference_like()
    assert _reference_like() == "ran"


def test_guard_star_refuses_everything_and_survives_exceptions():
    with pytest.raises(ZeroDivisionError):
        with _guard.refusing({"*"}):
            with pytest.raises(_guard.ReferenceCallRefused):
                _guard.guard("anything")
            1 / 0  # noqa: B018 - a student's crash must not leave the guard on
    _guard.guard("anything")


def test_guard_other_names_still_run():
    with _guard.refusing({"softmax"}):
        assert _reference_like() == "ran"


def test_package_imports_and_reexports_every_public_name():
    rnncore = importlib.import_module("rnncore")
    for name in rnncore.__all__:
        assert hasattr(rnncore, name), name
    assert rnncore.ReferenceCallRefused is _guard.ReferenceCallRefused


# --- gradient checking -----------------------------------------------------------------------


def _tanh_affine(arrays):
    return np.tanh(arrays["A"] @ arrays["x"])


def _tanh_affine_grads(A, x, dout):
    da = (1 - np.tanh(A @ x) ** 2) * dout
    return {"A": da @ x.T, "x": A.T @ da}


def test_numerical_gradient_matches_calculus():
    rng = np.random.default_rng(0)
    A, x, dout = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    expected = _tanh_affine_grads(A, x, dout)
    numeric = numerical_gradient(_tanh_affine, {"A": A, "x": x}, "A", dout)
    assert relative_error(numeric, expected["A"]) < 1e-8
    errors = gradcheck(_tanh_affine, {"A": A, "x": x}, expected, dout=dout)
    assert set(errors) == {"A", "x"} and max(errors.values()) < 1e-8


def test_gradcheck_catches_a_wrong_gradient():
    rng = np.random.default_rng(1)
    A, x, dout = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    wrong = _tanh_affine_grads(A, x, dout)
    wrong["x"] = A.T @ dout  # forgot the tanh derivative
    errors = gradcheck(_tanh_affine, {"A": A, "x": x}, wrong, dout=dout)
    assert errors["A"] < 1e-8 and errors["x"] > 1e-2


def test_gradcheck_with_tuple_outputs_and_default_dout():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 3))

    def f(arrays):
        return arrays["a"] ** 2, 3 * arrays["a"]

    errors = gradcheck(f, {"a": a}, {"a": 2 * a + 3})
    assert errors["a"] < 1e-8


def test_sparse_gradcheck_checks_a_subset():
    rng = np.random.default_rng(3)
    A, x, dout = rng.normal(size=(30, 40)), rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    grads = _tanh_affine_grads(A, x, dout)
    errors = gradcheck(_tanh_affine, {"A": A, "x": x}, grads, dout=dout, sparse=5, rng=rng)
    assert max(errors.values()) < 1e-8
    wrong = dict(grads, A=grads["A"] + 1.0)
    assert (
        gradcheck(_tanh_affine, {"A": A, "x": x}, wrong, dout=dout, sparse=5, rng=rng)["A"] > 1e-2
    )


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, (3, 2), elements=st.floats(-3, 3)))
def test_gradcheck_never_modifies_inputs(A):
    x = np.ones((2, 2))
    A_before, x_before = A.copy(), x.copy()
    gradcheck(_tanh_affine, {"A": A, "x": x}, _tanh_affine_grads(A, x, np.ones((3, 2))))
    np.testing.assert_array_equal(A, A_before)
    np.testing.assert_array_equal(x, x_before)


def test_relative_error_facts():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)  # opposite vectors are as wrong as it gets


def test_gradcheck_bad_arguments():
    a = {"a": np.ones(2)}
    with pytest.raises(TypeError, match="needs rng"):
        gradcheck(lambda d: d["a"], a, {"a": np.ones(2)}, sparse=1)
    with pytest.raises(ValueError, match="analytic gradient 'b' has no matching input"):
        gradcheck(lambda d: d["a"], a, {"b": np.ones(2)})
    with pytest.raises(ValueError, match=r"analytic gradient 'a' has shape \(3,\)"):
        gradcheck(lambda d: d["a"], a, {"a": np.ones(3)})
    with pytest.raises(ValueError, match="name 'z' is not one of the inputs: a"):
        numerical_gradient(lambda d: d["a"], a, "z")
    with pytest.raises(ValueError, match="f returned 1 outputs but dout has 2 arrays"):
        numerical_gradient(lambda d: d["a"], a, "a", dout=(np.ones(2), np.ones(2)))
    with pytest.raises(TypeError, match="inputs must be a dict"):
        numerical_gradient(lambda d: d, [np.ones(2)], "a")
    with pytest.raises(ValueError, match="cannot compare arrays of shapes"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="eps must be a finite positive number"):
        numerical_gradient(lambda d: d["a"], a, "a", eps=0.0)


def test_a_letter_repeated_in_one_spec_must_agree_with_itself():
    with pytest.raises(
        ValueError, match=r"W_hh has shape \(4, 5\) but f needs \(H, H\) = \(4, 4\)"
    ):
        check_array("W_hh", np.zeros((4, 5)), ("H", "H"), Sizes(), where="f")
    sizes = Sizes()
    check_array("W_hh", np.zeros((4, 4)), ("H", "H"), sizes)
    assert sizes["H"] == 4
    with pytest.raises(ValueError, match=r"needs \(H,\) = \(4,\) \(H = 4 from W_hh\)$"):
        check_array("b_h", np.zeros(5), ("H",), sizes)
