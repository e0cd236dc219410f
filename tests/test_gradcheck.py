"""gradcheck and gradgradcheck: they pass right gradients and catch wrong ones."""

from __future__ import annotations

import pytest

from scalargrad import GradcheckError, Value, gradcheck, gradgradcheck


def detached_square(x: Value) -> Value:
    """x * x with one factor cut off the graph: backward() gives x, the truth is 2x."""
    return x * Value(x.data)


def test_gradcheck_passes_a_correct_function_of_several_inputs() -> None:
    """A correct function returns True."""
    assert gradcheck(lambda x, y, z: (x * y + z.exp()).tanh() / (1 + y * y), [0.3, -1.2, 0.5])


def test_gradcheck_accepts_values_as_inputs_and_several_outputs() -> None:
    """Inputs may be Values (their data is used); fn may return a list of Values."""
    assert gradcheck(lambda x, y: [x * y, x + y.sin()], [Value(0.5), Value(2.0)])


def test_gradcheck_reports_input_output_and_both_numbers() -> None:
    """A wrong gradient raises GradcheckError naming output, input and both values."""
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, x: a + detached_square(x), [1.0, 3.0])
    message = str(caught.value)
    assert "d(output 0)/d(input 1)" in message
    assert "backward() gives 3.0" in message
    assert "finite differences give 6.0" in message


def test_gradgradcheck_passes_second_derivatives_of_a_correct_function() -> None:
    """The Hessian of a smooth function checks out."""
    assert gradgradcheck(lambda x, y: (x * x * y).sin() + y.exp() * x, [0.4, -0.8])


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    """A first derivative that is right but not differentiable correctly is caught."""

    def right_first_derivative_wrong_second(x: Value) -> Value:
        # x**2 with a first derivative of 2 * x.data: right in value, but a constant
        # in the graph, so its own derivative comes out 0 instead of 2.
        return x * (2 * x.data) - x.data**2

    assert gradcheck(right_first_derivative_wrong_second, [1.5])
    with pytest.raises(GradcheckError, match="gradgradcheck: the derivative d\\(output 0\\)"):
        gradgradcheck(right_first_derivative_wrong_second, [1.5])


def test_gradcheck_refuses_a_function_that_returns_numbers() -> None:
    """fn must return Values; a float, or a list holding one, is a TypeError that says so."""
    with pytest.raises(TypeError, match="must return a Value or a sequence of Values, got float"):
        gradcheck(lambda x: 3.0, [1.0])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: [x.data], [1.0])  # type: ignore[list-item]


def test_gradcheck_fails_a_nan_gradient() -> None:
    """NaN never passes, whether backward() or the finite differences produced it."""
    with pytest.raises(GradcheckError, match="backward\\(\\) gives nan"):
        gradcheck(lambda x: x * float("nan"), [1.0])
    with pytest.raises(GradcheckError, match="nan"):
        gradcheck(lambda x: (x * float("inf")).sigmoid(), [1.0])


def test_gradcheck_refuses_inputs_that_are_not_numbers() -> None:
    """A string among the inputs is a TypeError naming it."""
    with pytest.raises(TypeError, match="gradcheck input"):
        gradcheck(lambda x: x, ["one"])  # type: ignore[list-item]


def test_gradcheck_refuses_settings_and_outputs_that_check_nothing() -> None:
    """eps = 0 or no outputs at all would pass vacuously or divide by zero: refused."""
    with pytest.raises(ValueError, match=r"eps must be > 0"):
        gradcheck(lambda x: x * x, [1.0], eps=0.0)
    with pytest.raises(ValueError, match=r"no outputs"):
        gradcheck(lambda x: [], [1.0])
