"""Check gradients from `backward()` against central finite differences.

>>> from scalargrad import gradcheck
>>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -0.7])
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scalargrad.engine import Value
from scalargrad.validate import real_number

Function = Callable[..., "Value | Sequence[Value]"]


class GradcheckError(AssertionError):
    """A gradient from backward() disagrees with its finite-difference estimate."""


def gradcheck(
    fn: Function,
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True if every d(output)/d(input) of `fn` matches central differences.

    `fn` takes one Value per input and returns a Value (or a sequence of them).
    A gradient passes when |analytical - numerical| <= atol + rtol * |numerical|;
    otherwise `GradcheckError` names the output, the input and both numbers.
    """
    point = [_point(x) for x in inputs]
    _check_tolerances(eps, atol, rtol)
    leaves = [Value(x) for x in point]
    outputs = _outputs(fn(*leaves))
    for j, output in enumerate(outputs):
        for leaf in leaves:
            leaf.grad = 0.0
        output.backward()
        for i, leaf in enumerate(leaves):
            analytical = float(leaf.grad)
            numerical = _central_difference(fn, point, i, j, eps)
            # Written so that NaN on either side fails.
            if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
                raise GradcheckError(
                    f"gradcheck: d(output {j})/d(input {i}) at inputs {point}: "
                    f"backward() gives {analytical!r}, finite differences give "
                    f"{numerical!r} (eps={eps}, atol={atol}, rtol={rtol})"
                )
    return True


def gradgradcheck(
    fn: Function,
    inputs: Sequence[float | Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True if the second derivatives of `fn` match finite differences.

    Each first derivative d(output)/d(input i), made with
    `backward(create_graph=True)`, is itself checked with `gradcheck`, so the
    whole Hessian of every output is covered.
    """
    point = [_point(x) for x in inputs]
    _check_tolerances(eps, atol, rtol)
    n_outputs = len(_outputs(_evaluate(fn, point)))
    for j in range(n_outputs):
        for i in range(len(point)):
            try:
                gradcheck(_first_derivative(fn, i, j), point, eps, atol, rtol)
            except GradcheckError as error:
                raise GradcheckError(
                    f"gradgradcheck: the derivative d(output {j})/d(input {i}) fails "
                    f"its own check: {error}"
                ) from None
    return True


def _first_derivative(fn: Function, i: int, j: int) -> Callable[..., Value]:
    """The function x -> d(fn(x)[j])/d(x[i]) as a Value with its own graph."""

    def derivative(*leaves: Value) -> Value:
        _outputs(fn(*leaves))[j].backward(create_graph=True)
        grad = leaves[i].grad
        # An input the output does not depend on has a constant zero derivative.
        return grad if isinstance(grad, Value) else Value(grad)

    return derivative


def _check_tolerances(eps: float, atol: float, rtol: float) -> None:
    if not eps > 0.0 or not atol >= 0.0 or not rtol >= 0.0:
        raise ValueError(
            f"gradcheck: eps must be > 0 and atol, rtol >= 0, got eps={eps!r}, "
            f"atol={atol!r}, rtol={rtol!r}"
        )


def _point(x: float | Value) -> float:
    return x.data if isinstance(x, Value) else real_number(x, "gradcheck input")


def _outputs(result: Value | Sequence[Value]) -> Sequence[Value]:
    if isinstance(result, Value):
        return [result]
    if not isinstance(result, (list, tuple)):
        raise TypeError(
            f"gradcheck: fn must return a Value or a sequence of Values, "
            f"got {type(result).__name__}"
        )
    outputs = list(result)
    if not outputs:
        raise ValueError("gradcheck: fn returned no outputs, so there is nothing to check")
    for output in outputs:
        if not isinstance(output, Value):
            raise TypeError(
                f"gradcheck: fn must return a Value or a sequence of Values, "
                f"got an element of type {type(output).__name__}"
            )
    return outputs


def _evaluate(fn: Function, point: Sequence[float]) -> Value | Sequence[Value]:
    return fn(*(Value(x) for x in point))


def _central_difference(fn: Function, point: list[float], i: int, j: int, eps: float) -> float:
    """(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for output j."""
    # Not under no_grad(): gradgradcheck's functions call backward() inside.
    shifted = list(point)
    shifted[i] = point[i] + eps
    above = _outputs(_evaluate(fn, shifted))[j].data
    shifted[i] = point[i] - eps
    below = _outputs(_evaluate(fn, shifted))[j].data
    return (above - below) / (2.0 * eps)
