"""Hypothesis strategies: random expression DAGs over a few inputs.

A `Program` is a list of steps; each step applies one op to inputs or to earlier
steps' results, so subexpressions are shared. The ops are written so that they run
unchanged on scalargrad Values and on PyTorch tensors, and each keeps its input
inside its domain (log of x*x + 0.5, not of x) and bounded (exp of tanh(x)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from scalargrad.ops import FUSED_OPS, OPS

# Ops with a kink (relu and abs at 0) report their input so that tests can keep
# away from it: finite differences across a kink measure nothing meaningful.
KinkLog = list[float]


def _positive(a: Any) -> Any:
    return a * a + 0.5


def _bounded(a: Any) -> Any:
    return a.tanh()


# How each op of the table is exercised, keeping its inputs inside its domain (log of
# x*x + 0.5, not of x) and bounded (exp of tanh(x)). Every op of `scalargrad.ops`
# must be here: test_every_op_of_the_table_is_exercised_by_the_strategies checks it,
# so an op added without tests fails at once. The same code runs on scalargrad Values
# and on PyTorch tensors (method names and operators they share).
_KEEP_IN_DOMAIN: dict[str, Callable[[Any], Any]] = {
    "log": _positive,
    "sqrt": _positive,
    "exp": _bounded,
}
_UNARY_OPS = [name for name, op in OPS.items() if op.arity == 1]
KINKED = {"relu", "abs"}


def _unary(name: str) -> Callable[[Any, KinkLog | None], Any]:
    keep_in_domain = _KEEP_IN_DOMAIN.get(name, lambda a: a)

    def apply(a: Any, kinks: KinkLog | None) -> Any:
        a = keep_in_domain(a)
        if kinks is not None and name in KINKED:
            kinks.append(float(a))
        return getattr(a, name)()

    return apply


UNARY: dict[str, Callable[[Any, KinkLog | None], Any]] = {
    **{name: _unary(name) for name in _UNARY_OPS},
    # pow: x ** n for a plain number n; a negative base with a whole n, a positive base
    # with any n.
    "pow:x**2": lambda a, k: a**2,
    "pow:x**3": lambda a, k: a**3,
    "pow:x**-1": lambda a, k: _positive(a) ** -1,
    "pow:x**1.5": lambda a, k: _positive(a) ** 1.5,
}

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / _positive(b),
    "pow_value": lambda a, b: _positive(a) ** b.tanh(),
}

# With a plain number c, |c| in [0.1, 2], on either side of the op.
WITH_NUMBER: dict[str, Callable[[Any, float], Any]] = {
    "add:x+c": lambda a, c: a + c,
    "add:c+x": lambda a, c: c + a,
    "sub:x-c": lambda a, c: a - c,
    "sub:c-x": lambda a, c: c - a,
    "mul:x*c": lambda a, c: a * c,
    "mul:c*x": lambda a, c: c * a,
    "div:x/c": lambda a, c: a / c,
    "div:c/x": lambda a, c: c / _positive(a),
    "pow_value:c**x": lambda a, c: (abs(c) + 0.5) ** a.tanh(),
    "pow:x**c": lambda a, c: _positive(a) ** c,
}

ALL_OPS = [*UNARY, *BINARY, *WITH_NUMBER, *FUSED_OPS]


def op_of(exercise: str) -> str:
    """The op table's name for an exercise: "mul:c*x" exercises "mul"."""
    return exercise.split(":")[0]


@dataclass(frozen=True)
class Step:
    op: str
    operands: tuple[int, ...]  # indices into inputs + earlier results
    number: float = 0.0


@dataclass(frozen=True)
class Program:
    inputs: tuple[float, ...]
    steps: tuple[Step, ...]

    def run(
        self,
        values: Sequence[Any],
        dot: Callable[..., Any],
        total: Callable[..., Any],
        kinks: KinkLog | None = None,
    ) -> Any:
        """The sum of every step's result, computed from `values` (one per input).

        The inputs of relu and abs are appended to `kinks` when it is given."""
        results = list(values)
        for step in self.steps:
            operands = [results[i] for i in step.operands]
            if step.op in UNARY:
                out = UNARY[step.op](operands[0], kinks)
            elif step.op in BINARY:
                out = BINARY[step.op](operands[0], operands[1])
            elif step.op in WITH_NUMBER:
                out = WITH_NUMBER[step.op](operands[0], step.number)
            elif step.op == "dot":
                half = len(operands) // 2
                out = dot(operands[:half], operands[half:], step.number).tanh()
            else:
                out = total(operands).tanh()
            results.append(out)
        return total(results[len(values) :])


inputs_in_range = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)
numbers = st.tuples(st.floats(min_value=0.1, max_value=2.0), st.sampled_from([-1.0, 1.0])).map(
    lambda pair: pair[0] * pair[1]
)


@st.composite
def programs(draw: st.DrawFn, max_inputs: int = 3, max_steps: int = 6) -> Program:
    """A random expression DAG whose steps share earlier results."""
    n_inputs = draw(st.integers(min_value=1, max_value=max_inputs))
    inputs = tuple(draw(st.lists(inputs_in_range, min_size=n_inputs, max_size=n_inputs)))
    steps = []
    for i in range(draw(st.integers(min_value=1, max_value=max_steps))):
        available = st.integers(min_value=0, max_value=n_inputs + i - 1)
        op = draw(st.sampled_from(ALL_OPS))
        if op in BINARY:
            operands = (draw(available), draw(available))
        elif op in ("dot", "sum"):
            width = draw(st.integers(min_value=1, max_value=3))
            count = 2 * width if op == "dot" else width
            operands = tuple(draw(st.lists(available, min_size=count, max_size=count)))
        else:
            operands = (draw(available),)
        steps.append(Step(op, operands, draw(numbers)))
    return Program(inputs, tuple(steps))
