"""The exercise checks: right answers pass; wrong ones fail naming the input and both numbers."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from scalargrad import Value
from scalargrad.exercises import (
    Verdict,
    check_array,
    check_backward,
    check_learning_rate,
    check_local_derivative,
    check_number,
    check_signs,
)
from tests.lecture_ops import mul


def mul_overwriting(a: Value, b: Value) -> Value:
    """a * b whose _backward assigns (=) instead of adding (+=)."""
    out = Value(a.data * b.data, (a, b), "*")

    def _backward() -> None:
        a.grad = b.data * out.grad
        b.grad = a.data * out.grad

    out._backward = _backward
    return out


def test_a_verdict_is_true_when_passed_and_shows_its_message() -> None:
    """A Verdict is truthy when right; its repr (what a notebook shows) is the message."""
    verdict = check_local_derivative(lambda x: 2 * x, lambda v: v * v, at=[1.0])
    assert isinstance(verdict, Verdict) and verdict
    assert repr(verdict) == verdict.message and verdict.message.startswith("Right: ")


# ---- local derivatives -------------------------------------------------------------


def test_the_right_local_derivative_passes() -> None:
    """sigmoid'(x) = s(1 - s) matches backward() at every point."""

    def sigmoid_derivative(x: float) -> float:
        s = 1 / (1 + math.exp(-x))
        return s * (1 - s)

    assert check_local_derivative(sigmoid_derivative, lambda v: v.sigmoid(), at=[-2.0, 0.5])


def test_a_wrong_local_derivative_names_the_point_and_both_numbers() -> None:
    """sigmoid'(x) written as s fails at the first point, with its value and backward's."""
    verdict = check_local_derivative(lambda x: 1 / (1 + math.exp(-x)), lambda v: v.sigmoid(), [0.0])
    assert not verdict
    assert (
        verdict.message
        == "Not yet: at x = 0.0 your derivative gives 0.5, but backward() gives 0.25."
    )


def test_a_local_derivative_left_as_the_placeholder_says_what_to_write() -> None:
    """`return ...` gets 'Not yet', no exception."""
    verdict = check_local_derivative(lambda x: ..., lambda v: v.tanh(), at=[0.5])
    assert not verdict and "replace the ... with your formula" in verdict.message


def test_a_local_derivative_returning_a_value_is_told_to_use_floats() -> None:
    """A Value instead of a number is named, with the way out."""
    verdict = check_local_derivative(lambda x: Value(x), lambda v: v * 1.0, at=[0.5])
    assert not verdict and "must return a number" in verdict.message


# ---- _backward ---------------------------------------------------------------------


def test_a_right_backward_passes_against_the_reference_and_by_finite_differences() -> None:
    """mul's _backward agrees with the engine's * and with gradcheck."""
    assert check_backward(mul, [[2.0, -3.0], [0.5, 4.0]], lambda a, b: a * b)
    assert check_backward(mul, [[2.0, -3.0]])


def test_a_backward_that_overwrites_fails_when_one_value_is_both_inputs() -> None:
    """= instead of += passes for two Values but not for mul(a, a): both numbers shown."""
    verdict = check_backward(mul_overwriting, [[1.5, 2.0]], lambda a, b: a * b)
    assert not verdict
    assert verdict.message == (
        "Not yet: mul_overwriting(a, a) (one Value as both inputs) at a = 1.5: "
        "your _backward gives a.grad = 1.5, but the right value is 3.0."
    )


def test_a_wrong_backward_by_finite_differences_names_the_input_and_both_numbers() -> None:
    """Without a reference, gradcheck's numbers come back with the input's name."""

    def wrong(a: Value, b: Value) -> Value:
        out = Value(a.data * b.data, (a, b), "*")

        def _backward() -> None:
            a.grad += b.data * out.grad
            b.grad += b.data * out.grad  # should be a.data

        out._backward = _backward
        return out

    verdict = check_backward(wrong, [[2.0, -3.0]])
    assert not verdict
    assert verdict.message.startswith("Not yet: wrong(a, b) at a = 2.0, b = -3.0: d(output 0)/db")
    assert "backward() gives -3.0, finite differences give 2.0" in verdict.message


def test_a_backward_never_assigned_is_pointed_out() -> None:
    """All gradients zero: the message asks whether out._backward was assigned."""

    def unwired(a: Value) -> Value:
        return Value(a.data**2, (a,), "square")

    verdict = check_backward(unwired, [[3.0]], lambda a: a * a)
    assert not verdict and "a.grad = 0.0, but the right value is 6.0" in verdict.message
    assert "Did you assign out._backward?" in verdict.message


def test_a_wrong_forward_value_is_named_before_the_gradients() -> None:
    """The forward value is compared with the reference's first."""

    def off(a: Value) -> Value:
        return Value(a.data + 1, (a,), "square")

    verdict = check_backward(off, [[3.0]], lambda a: a * a)
    assert verdict.message.endswith("the forward value is 4.0, but the right value is 9.0.")


def test_a_backward_with_the_placeholder_left_in_says_so() -> None:
    """`a.grad += ...` gets 'Not yet', not a TypeError."""

    def unfinished(a: Value) -> Value:
        out = Value(a.data**2, (a,), "square")

        def _backward() -> None:
            a.grad += ...  # type: ignore[operator]

        out._backward = _backward
        return out

    verdict = check_backward(unfinished, [[3.0]], lambda a: a * a)
    assert not verdict and "replace each ... in it" in verdict.message


def test_an_op_that_returns_nothing_is_told_to_return_out() -> None:
    """A missing `return out` is named."""
    verdict = check_backward(lambda a: None, [[1.0]], lambda a: a)  # type: ignore[arg-type, return-value]
    assert not verdict and "return out" in verdict.message


# ---- signs -------------------------------------------------------------------------


def test_right_signs_pass_and_read_gradients_from_values() -> None:
    """Floats or Values (their .grad) both work; 0 is a sign of its own."""
    w = Value(1.0)
    (w * -2.0).backward()
    assert check_signs({"w": "-", "b": "0"}, {"w": w, "b": 0.0})


def test_a_wrong_sign_names_the_gradient_and_its_value() -> None:
    """The first wrong prediction is named with the true gradient."""
    verdict = check_signs({"a": "+", "b": "+"}, {"a": 1.0, "b": -0.75})
    assert verdict.message == "Not yet: b: you predicted '+', but its gradient is -0.75 (negative)."


@pytest.mark.parametrize(
    ("predicted", "message"),
    [
        ({"a": ...}, r"replace the \.\.\. for a with '\+', '-' or '0'"),
        ({"a": "positive"}, r"a: write '\+', '-' or '0', not 'positive'"),
        ({}, r"predict a sign for a too"),
        ({"a": "+", "c": "-"}, r"there is no gradient called c; use a"),
    ],
)
def test_unfinished_or_malformed_predictions_say_what_to_write(
    predicted: dict[str, object], message: str
) -> None:
    """Placeholders, words instead of signs, missing and unknown names are all explained."""
    verdict = check_signs(predicted, {"a": 1.0})
    assert not verdict
    assert verdict.message.startswith("Not yet: ")
    assert re.search(message, verdict.message)


# ---- learning rates ----------------------------------------------------------------


def geometric(lr: float) -> list[float]:
    """The loss of gradient descent on x**2 from x = 1 for 10 steps."""
    return [((1 - 2 * lr) ** k) ** 2 for k in range(10)]


def test_a_good_learning_rate_passes_with_both_losses() -> None:
    """lr 0.3 takes x**2 from 1 to below 1e-6 in 10 steps."""
    verdict = check_learning_rate(0.3, geometric, below=1e-6)
    assert verdict and "from 1 to" in verdict.message


def test_a_learning_rate_too_large_is_told_to_shrink() -> None:
    """lr 1.5 makes the loss grow: the message shows both losses and says smaller."""
    verdict = check_learning_rate(1.5, geometric, below=1e-6)
    assert verdict.message == (
        "Not yet: with lr = 1.5 the loss went from 1 to 2.621e+05 in 10 steps: "
        "the steps overshoot; try a smaller lr."
    )


def test_a_learning_rate_too_small_is_told_to_grow() -> None:
    """lr 0.01 lowers the loss too little: the target is named."""
    verdict = check_learning_rate(0.01, geometric, below=1e-6)
    assert not verdict and "but it must end below 1e-06: try a larger lr" in verdict.message


@pytest.mark.parametrize(("lr", "message"), [(..., "replace the ..."), (-0.1, "positive number")])
def test_a_missing_or_negative_learning_rate_is_explained(lr: object, message: str) -> None:
    """The placeholder and a learning rate <= 0 never reach the training."""

    def never(lr: float) -> list[float]:
        raise AssertionError("trained with a bad lr")

    verdict = check_learning_rate(lr, never, below=0.1)
    assert not verdict and message in verdict.message


# ---- numbers and arrays ------------------------------------------------------------


def test_a_number_within_the_digits_shown_passes() -> None:
    """A number read off a page to four significant digits matches the engine's float."""
    verdict = check_number(0.7071, math.sqrt(0.5), "o")
    assert verdict and verdict.message == "Right: o = 0.707107."


def test_a_wrong_number_names_what_it_is_and_both_numbers() -> None:
    """The message names the quantity, the answer and the truth."""
    verdict = check_number(-1.5, 1.0, "dL/dw1")
    assert verdict.message == "Not yet: you gave -1.5 for dL/dw1, but it is 1.0."


def test_a_count_is_shown_as_a_whole_number_and_must_be_exact() -> None:
    """With an int truth and rel_tol=0, a count one off fails and both read as ints."""
    verdict = check_number(2409, 2410, "the parameters", rel_tol=0)
    assert verdict.message == "Not yet: you gave 2409 for the parameters, but it is 2410."
    assert check_number(2410, 2410, "the parameters", rel_tol=0).message == (
        "Right: the parameters = 2410."
    )


@pytest.mark.parametrize(("yours", "message"), [(..., "replace the ..."), ("2", "is a number")])
def test_a_missing_or_non_numeric_number_is_explained(yours: object, message: str) -> None:
    """The placeholder and a string get 'Not yet' saying what to write."""
    verdict = check_number(yours, 2.0, "n")
    assert not verdict and message in verdict.message


def test_the_right_array_passes() -> None:
    """An array equal to the engine's to rounding passes, counting its numbers."""
    truth = np.arange(6.0).reshape(2, 3)
    verdict = check_array(truth + 1e-12, truth, "Z1")
    assert verdict and verdict.message == "Right: your Z1 matches the engine's, all 6 numbers."


def test_an_array_of_the_wrong_shape_names_both_shapes() -> None:
    """A transposed answer is told its shape and the shape it needs."""
    verdict = check_array(np.zeros((3, 4)), np.zeros((4, 3)), "dW1")
    assert verdict.message == "Not yet: your dW1 has shape (3, 4), but it must have shape (4, 3)."


def test_an_array_with_a_wrong_entry_names_its_index_and_both_numbers() -> None:
    """The first entry that differs is named with its index."""
    truth = np.zeros((2, 2))
    mine = truth.copy()
    mine[1, 0] = 0.5
    verdict = check_array(mine, truth, "dZ")
    assert verdict.message == "Not yet: your dZ[1, 0] is 0.5, but the engine gives 0.0."


@pytest.mark.parametrize(("yours", "message"), [(..., "replace the ..."), ("abc", "NumPy array")])
def test_a_missing_or_non_numeric_array_is_explained(yours: object, message: str) -> None:
    """The placeholder and a string get 'Not yet' saying what to write."""
    verdict = check_array(yours, np.zeros(2), "b1")
    assert not verdict and message in verdict.message
