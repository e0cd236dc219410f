"""Checks for the notebooks' exercises: each compares a learner's answer with the truth
and says what is wrong, naming the input and both numbers.

Every check returns a `Verdict`, which Jupyter shows as one line ("Right: ..." or
"Not yet: ...") and which is true when the answer is right. An answer left as `...`
(the notebooks' placeholder) gets "Not yet" with what to write, never an exception.

>>> check_local_derivative(lambda x: 2 * x, lambda v: v * v, at=[1.5])
Right: your derivative matches backward() at x = 1.5.
>>> check_signs({"x": "-"}, {"x": 0.25})
Not yet: x: you predicted '-', but its gradient is +0.25 (positive).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scalargrad.engine import Value
from scalargrad.gradcheck import GradcheckError, gradcheck

# A learner's float formula and the engine's may round differently; nothing more.
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9
SIGNS = ("+", "-", "0")


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: `passed`, and a message saying why."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        # A notebook's check cell ends with the check, so this line is what it shows.
        return self.message


def _right(message: str) -> Verdict:
    return Verdict(True, f"Right: {message}")


def _not_yet(message: str) -> Verdict:
    return Verdict(False, f"Not yet: {message}")


def check_local_derivative(
    derivative: Callable[[float], Any],
    op: Callable[[Value], Value],
    at: Sequence[float],
) -> Verdict:
    """Does `derivative(x)` (your formula, on floats) equal d op(x)/dx from backward()?

    `op` is the engine's op on one Value (`lambda v: v.sigmoid()`), checked at each x in `at`.

    >>> check_local_derivative(lambda x: 1.0, lambda v: v * v, at=[2.0])
    Not yet: at x = 2.0 your derivative gives 1.0, but backward() gives 4.0.
    """
    for x in at:
        yours = derivative(float(x))
        if yours is Ellipsis:
            return _not_yet("replace the ... with your formula for the derivative, in x.")
        if not _is_number(yours):
            return _not_yet(
                f"at x = {x} your derivative returned {yours!r} ({type(yours).__name__}); "
                f"it must return a number (use x as a float: math.exp(x), not x.exp())."
            )
        leaf = Value(float(x))
        op(leaf).backward()
        if not _close(float(yours), leaf.grad):
            return _not_yet(
                f"at x = {x} your derivative gives {_number(yours)}, "
                f"but backward() gives {_number(leaf.grad)}."
            )
    points = ", ".join(str(x) for x in at)
    return _right(f"your derivative matches backward() at x = {points}.")


def check_backward(
    op: Callable[..., Value],
    at: Sequence[Sequence[float]],
    reference: Callable[..., Value] | None = None,
) -> Verdict:
    """Does `op`, written the lecture's way (`out._backward = ...`), give the right gradients?

    `op` is called on fresh Values at each point in `at`. Its forward value and its
    gradients are compared with `reference` (the same op made of the engine's ops)
    when given, else its gradients with finite differences (`gradcheck`). With a
    reference, an op of two inputs is also called with one Value as both (`op(a, a)`):
    its `_backward` must add each input's share (`+=`), not overwrite it (`=`).

    >>> def double(a):
    ...     out = Value(2 * a.data, (a,), "double")
    ...     return out
    >>> check_backward(double, [[1.0]], lambda a: 2 * a)  # doctest: +NORMALIZE_WHITESPACE
    Not yet: double(a) at a = 1.0: your _backward gives a.grad = 0.0,
    but the right value is 2.0. Did you assign out._backward?
    """
    names = _input_names(op)
    name = getattr(op, "__name__", "op")
    cases: list[tuple[str, list[str], Callable[..., Value], Callable[..., Value] | None]] = [
        (f"{name}({', '.join(names)})", names, op, reference)
    ]
    if len(names) == 2 and reference is not None:
        first, compare = names[0], reference
        cases.append(
            (
                f"{name}({first}, {first}) (one Value as both inputs)",
                [first],
                lambda v: op(v, v),
                lambda v: compare(v, v),
            )
        )
    for call, leaf_names, fn, truth in cases:
        for point in at:
            values = [float(x) for x in point][: len(leaf_names)]
            where = f"{call} at " + ", ".join(f"{n} = {x}" for n, x in zip(leaf_names, values))
            problem = _backward_problem(fn, truth, leaf_names, values)
            if problem is not None:
                return _not_yet(f"{where}: {problem}")
    return _right(f"{name}'s forward value and _backward agree with the truth at every point.")


def _backward_problem(
    fn: Callable[..., Value],
    reference: Callable[..., Value] | None,
    names: list[str],
    values: list[float],
) -> str | None:
    """What is wrong with fn at one point (None if nothing is)."""
    try:
        return _backward_mistake(fn, reference, names, values)
    except TypeError as error:
        if "ellipsis" not in str(error):
            raise
        return "replace each ... in it with your expression."


def _backward_mistake(
    fn: Callable[..., Value],
    reference: Callable[..., Value] | None,
    names: list[str],
    values: list[float],
) -> str | None:
    leaves = [Value(x, label=n) for n, x in zip(names, values)]
    out = fn(*leaves)
    if not isinstance(out, Value):
        return f"it returned {out!r}, not a Value; finish it with `return out`."
    if reference is None:
        try:
            gradcheck(fn, values)
        except GradcheckError as error:
            return _from_gradcheck(str(error), names)
        return None
    truth_leaves = [Value(x) for x in values]
    truth = reference(*truth_leaves)
    if not _close(out.data, truth.data):
        return (
            f"the forward value is {_number(out.data)}, "
            f"but the right value is {_number(truth.data)}."
        )
    if all(any(parent is leaf for leaf in leaves) for parent in out._prev):
        # One node over the inputs: run its _backward by hand, as the lecture does, so
        # the check reads exactly what it adds to each input's .grad.
        out.grad = 1.0
        out._backward()
    else:
        out.backward()
    truth.backward()
    for leaf, right in zip(leaves, truth_leaves):
        if not _close(leaf.grad, right.grad):
            hint = " Did you assign out._backward?" if all(v.grad == 0 for v in leaves) else ""
            return (
                f"your _backward gives {leaf.label}.grad = {_number(leaf.grad)}, "
                f"but the right value is {_number(right.grad)}.{hint}"
            )
    return None


def _from_gradcheck(message: str, names: list[str]) -> str:
    """gradcheck's message with 'input i' replaced by the input's name."""
    for i, name in enumerate(names):
        message = message.replace(f"d(input {i})", f"d{name}")
    return message.removeprefix("gradcheck: ")


def check_signs(predicted: Mapping[str, Any], gradients: Mapping[str, Any]) -> Verdict:
    """Does each predicted sign ('+', '-' or '0') match the sign of that gradient?

    `gradients` maps the same names to the gradients (floats, or Values whose .grad is
    read). A gradient within 1e-12 of zero has the sign '0'.

    >>> check_signs({"w": "+", "b": "0"}, {"w": 0.5, "b": 0.0})
    Right: every sign is right (w +0.5, b 0).
    """
    missing = [name for name in gradients if name not in predicted]
    if missing:
        return _not_yet(f"predict a sign for {', '.join(missing)} too.")
    extra = [name for name in predicted if name not in gradients]
    if extra:
        return _not_yet(
            f"there is no gradient called {', '.join(extra)}; use {', '.join(gradients)}."
        )
    found = {}
    for name, guess in predicted.items():
        if guess is Ellipsis:
            return _not_yet(f"replace the ... for {name} with '+', '-' or '0'.")
        if guess not in SIGNS:
            return _not_yet(f"{name}: write '+', '-' or '0', not {guess!r}.")
        gradient = _gradient(gradients[name])
        sign = _sign(gradient)
        if guess != sign:
            return _not_yet(
                f"{name}: you predicted {guess!r}, but its gradient is "
                f"{_signed(gradient)} ({_SIGN_WORDS[sign]})."
            )
        found[name] = gradient
    shown = ", ".join(f"{name} {_signed(g)}" for name, g in found.items())
    return _right(f"every sign is right ({shown}).")


_SIGN_WORDS = {"+": "positive", "-": "negative", "0": "zero"}


def check_learning_rate(
    lr: Any,
    losses_for: Callable[[float], Sequence[float]],
    below: float,
) -> Verdict:
    """Does training with learning rate `lr` bring the loss below `below`?

    `losses_for(lr)` trains from the same start and returns the loss of each step.
    A loss that grows or stops being finite means lr is too large; one that falls but
    not far enough means it is too small (or the steps too few).

    >>> check_learning_rate(0.5, lambda lr: [(1 - lr) ** k for k in range(10)], below=0.01)
    Right: with lr = 0.5 the loss fell from 1 to 0.001953, below 0.01.
    """
    if lr is Ellipsis:
        return _not_yet("replace the ... with a learning rate, a positive number such as 0.1.")
    if not _is_number(lr) or not (math.isfinite(lr) and lr > 0):
        return _not_yet(f"a learning rate is a positive number, not {lr!r}.")
    losses = [float(loss) for loss in losses_for(float(lr))]
    first, last = losses[0], losses[-1]
    trend = f"with lr = {lr} the loss went from {first:.4g} to {last:.4g}"
    if not math.isfinite(last) or last > first:
        return _not_yet(f"{trend} in {len(losses)} steps: the steps overshoot; try a smaller lr.")
    if last >= below:
        return _not_yet(
            f"{trend} in {len(losses)} steps, but it must end below {below:g}: try a larger lr."
        )
    return _right(f"with lr = {lr} the loss fell from {first:.4g} to {last:.4g}, below {below:g}.")


def check_number(yours: Any, truth: float, what: str, *, rel_tol: float = 1e-3) -> Verdict:
    """Is `yours` (a number worked out by hand or read off a picture) equal to `truth`?

    `what` names the number in the message. `rel_tol` allows for rounding to the four
    significant digits that the pictures and the browser page show; for a count, pass
    an int `truth` and `rel_tol=0`.

    >>> check_number(-1.5, -1.4999999, "dL/dx1")
    Right: dL/dx1 = -1.5.
    >>> check_number(1.5, -1.5, "dL/dx1")
    Not yet: you gave 1.5 for dL/dx1, but it is -1.5.
    """
    if yours is Ellipsis:
        return _not_yet(f"replace the ... with your number for {what}.")
    if not _is_number(yours):
        return _not_yet(f"{what} is a number, not {yours!r} ({type(yours).__name__}).")
    if not math.isclose(float(yours), truth, rel_tol=rel_tol, abs_tol=ABSOLUTE_TOLERANCE):
        return _not_yet(
            f"you gave {_count_or_number(yours)} for {what}, but it is {_count_or_number(truth)}."
        )
    return _right(f"{what} = {_count_or_number(truth)}.")


def check_array(yours: Any, truth: Any, name: str) -> Verdict:
    """Does your NumPy array `name` have the shape and the numbers of `truth` (the engine's)?

    A wrong shape is named first (it is the usual slip: `X.T @ dZ` for `dZ.T @ X`),
    then the first entry that differs, with its index and both numbers.

    >>> import numpy as np
    >>> check_array(np.ones((2, 3)), np.ones((3, 2)), "dW")
    Not yet: your dW has shape (2, 3), but it must have shape (3, 2).
    >>> check_array(np.array([1.0, 2.5]), np.array([1.0, 2.0]), "b")
    Not yet: your b[1] is 2.5, but the engine gives 2.0.
    """
    import numpy as np

    if yours is Ellipsis:
        return _not_yet(f"replace the ... with a NumPy expression for {name}.")
    try:
        mine = np.asarray(yours, dtype=float)
    except (TypeError, ValueError):
        return _not_yet(f"{name} must be a NumPy array of numbers, not {type(yours).__name__}.")
    right = np.asarray(truth, dtype=float)
    if mine.shape != right.shape:
        return _not_yet(
            f"your {name} has shape {mine.shape}, but it must have shape {right.shape}."
        )
    differ = ~np.isclose(mine, right, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    if differ.any():
        index = tuple(int(i) for i in np.argwhere(differ)[0])
        where = f"{name}[{', '.join(str(i) for i in index)}]"
        return _not_yet(
            f"your {where} is {_number(mine[index])}, but the engine gives {_number(right[index])}."
        )
    return _right(f"your {name} matches the engine's, all {right.size} numbers.")


def _input_names(op: Callable[..., Value]) -> list[str]:
    parameters = inspect.signature(op).parameters.values()
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)


def _gradient(g: Any) -> float:
    return float(g.grad) if isinstance(g, Value) else float(g)


def _sign(g: float) -> str:
    if abs(g) <= 1e-12:
        return "0"
    return "+" if g > 0 else "-"


def _number(x: Any) -> str:
    """Six significant digits, and a float that looks like one (1.0, not 1)."""
    text = f"{float(x):.6g}"
    return text if any(c in text for c in ".eni") else f"{text}.0"


def _count_or_number(x: Any) -> str:
    """An int as it is (a count: 2410), anything else as `_number` shows it."""
    return str(x) if isinstance(x, int) and not isinstance(x, bool) else _number(x)


def _signed(x: float) -> str:
    return "0" if _sign(x) == "0" else f"{x:+.4g}"
