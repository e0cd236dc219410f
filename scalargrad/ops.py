"""The op table: every primitive op of the engine, each written once.

An entry gives an op's forward computation and, beside it, d(out)/d(input) for each
input, as expressions over the inputs `x` (and `y`) and the output `out`, in the
small language of `scalargrad.oplang`. Everything else reads these strings: the
engine makes its float functions and, for `backward(create_graph=True)`, its Value
functions from them; the compiler writes them out as Python and NumPy code; the
browser page as JavaScript; formulas and `nn`'s activations look up which ops they
may call. To add an op, add an entry here (and its tests).

>>> OPS["tanh"].derivatives
('1.0 - out * out',)
>>> OPS["mul"].evaluate(3.0, 4.0)
(12.0, (4.0, 3.0))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scalargrad import oplang


@dataclass(frozen=True)
class Op:
    """One primitive: how to compute it and how to differentiate it.

    `derivatives[i]` is d(out)/d(input i); None marks an input the op holds fixed (the
    exponent of `x ** 2`), which gets no gradient. `errors` are (condition, exception,
    message) checked before the forward runs, so input outside the op's domain raises
    there, naming the op and the value.
    """

    name: str
    symbol: str
    forward: str
    derivatives: tuple[str | None, ...]
    errors: tuple[tuple[str, type[Exception], str], ...] = ()
    in_formulas: bool = False  # may a formula call it by name, as tanh(x)?
    activation: bool = False  # may a layer apply it?
    doc: str = ""
    evaluate: Callable[..., tuple[float, tuple[float, ...]]] = field(init=False, repr=False)
    _value_edges: tuple[Callable[[dict[str, Any]], Any] | None, ...] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "evaluate", oplang.float_evaluator(self))
        value_edges = tuple(d and oplang.value_function(d) for d in self.derivatives)
        object.__setattr__(self, "_value_edges", value_edges)

    @property
    def arity(self) -> int:
        """How many inputs the op takes."""
        return len(self.derivatives)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The names of its inputs in the expressions: ("x",) or ("x", "y")."""
        return ("x", "y")[: self.arity]

    def float_forward(self, *inputs: float) -> float:
        """The op on floats, raising for inputs outside its domain."""
        return self.evaluate(*inputs)[0]

    def value_derivatives(self, inputs: tuple[Any, ...], out: Any) -> tuple[Any, ...]:
        """d(out)/d(input) as Values with graphs of their own, for second derivatives.

        An input the op holds fixed enters as its number and gets the edge 0.0.
        """
        edges = self._value_edges
        names = {name: x if edge else x.data for name, x, edge in zip(self.inputs, inputs, edges)}
        names["out"] = out
        return tuple(edge(names) if edge else 0.0 for edge in self._value_edges)

    def written(self, *inputs: object) -> str:
        """The op applied to `inputs` as a learner writes it: 'x * y', 'tanh(x)'."""
        if self.arity == 2:
            x, y = inputs  # -2.0 ** 0.5 would read as -(2.0 ** 0.5)
            negative_base = self.symbol == "**" and str(x).startswith("-")
            return f"({x}) ** {y}" if negative_base else f"{x} {self.symbol} {y}"
        return f"-{inputs[0]}" if self.name == "neg" else f"{self.symbol}({inputs[0]})"

    def domain_error(self, index: int, *inputs: float) -> Exception:
        """The exception for `inputs` failing the op's check `errors[index]`."""
        _, exception, message = self.errors[index]
        return exception(f"{self.symbol}: " + message.format(**dict(zip(self.inputs, inputs))))

    def math_error(self, error: Exception, *inputs: float) -> Exception:
        """The exception for `inputs` whose result overflowed or is undefined."""
        written = self.written(*(repr(x) for x in inputs))
        if isinstance(error, OverflowError):
            return OverflowError(f"{self.symbol}: {written} is too large for a float")
        return ValueError(f"{self.symbol}: {written} is undefined")


def _op(
    name: str, symbol: str, forward: str, *derivatives: str | None, **options: Any
) -> tuple[str, Op]:
    return name, Op(name, symbol, forward, derivatives, **options)


OPS: Mapping[str, Op] = dict(
    [
        _op("add", "+", "x + y", "1.0", "1.0"),
        _op("sub", "-", "x - y", "1.0", "-1.0"),
        _op("mul", "*", "x * y", "y", "x"),
        _op(
            "div", "/", "x / y", "1.0 / y", "-out / y",
            errors=(("y == 0", ZeroDivisionError, "division of {x!r} by zero"),),
        ),
        # x ** y for a Value exponent y: d/dy needs log(x), so x must be positive.
        # d/dx is y * x ** (y - 1), not y * out / x, which is 0 where out underflows.
        _op(
            "pow_value", "**", "x ** y", "y * x ** (y - 1.0)", "out * log(x)",
            errors=((
                "x <= 0", ValueError,
                "the base must be positive when the exponent is a Value "
                "(d/d(exponent) needs log(base)), got base {x!r}",
            ),),
        ),
        # x ** n for a plain number n, as in the lecture's x**2: n gets no gradient.
        _op(
            "pow", "**", "x ** y", "y * x ** (y - 1.0) if y != 0 else 0.0", None,
            errors=(
                ("x == 0 and y < 0", ZeroDivisionError,
                 "0.0 cannot be raised to the negative power {y!r}"),
                ("x == 0 and 0 < y < 1", ZeroDivisionError,
                 "the derivative of x ** {y!r} is infinite at x = 0"),
                ("x < 0 and y - y == 0 and y != round(y)", ValueError,
                 "({x!r}) ** {y!r} is not a real number (a negative base needs a whole exponent)"),
            ),
        ),
        _op("neg", "-", "-x", "-1.0"),
        _op("exp", "exp", "exp(x)", "out", in_formulas=True, doc="e ** x"),
        _op(
            "log", "log", "log(x)", "1.0 / x", in_formulas=True, doc="Natural logarithm.",
            errors=(("x <= 0", ValueError, "defined for positive numbers only, got {x!r}"),),
        ),
        _op(
            "sqrt", "sqrt", "sqrt(x)", "0.5 / out", in_formulas=True,
            doc="Square root (its derivative is infinite at 0, so x > 0).",
            errors=(("x <= 0", ValueError, "defined here for positive numbers only, got {x!r}"),),
        ),
        _op("relu", "relu", "max(x, 0.0)", "step(x)", in_formulas=True, activation=True,
            doc="max(x, 0); its derivative at 0 is taken to be 0, as in PyTorch."),
        _op("tanh", "tanh", "tanh(x)", "1.0 - out * out", in_formulas=True, activation=True,
            doc="Hyperbolic tangent."),
        # Two forms, so that exp never overflows for large |x|.
        _op(
            "sigmoid", "sigmoid",
            "1.0 / (1.0 + exp(-x)) if x >= 0 else exp(x) / (1.0 + exp(x))",
            "out * (1.0 - out)", in_formulas=True, activation=True, doc="1 / (1 + e ** -x)",
        ),
        _op(
            "sin", "sin", "sin(x)", "cos(x)", in_formulas=True, doc="Sine.",
            errors=(("x - x != 0 and x == x", ValueError, "sin({x!r}) is undefined"),),
        ),
        _op(
            "cos", "cos", "cos(x)", "-sin(x)", in_formulas=True, doc="Cosine.",
            errors=(("x - x != 0 and x == x", ValueError, "cos({x!r}) is undefined"),),
        ),
        _op("abs", "abs", "abs(x)", "sign(x)", in_formulas=True,
            doc="|x|; its derivative at 0 is taken to be 0, as in PyTorch."),
    ]
)

ACTIVATIONS: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.activation)
FORMULA_FUNCTIONS: tuple[str, ...] = tuple(name for name, op in OPS.items() if op.in_formulas)


@dataclass(frozen=True)
class FusedOp:
    """An op over any number of inputs made as ONE node: a sum, a neuron's w . x + b.

    Its inputs have roles (`x_i`, `w_i`, `b`); `derivatives` gives d(out)/d(input)
    for each role, in the same language as `Op`'s, where `x_i` and `w_i` stand for
    the input's partner of the same index.
    """

    name: str
    symbol: str
    forward: str  # for reading: `sum` here means a sum over i, outside the language
    derivatives: Mapping[str, str]
    doc: str = ""
    _value_edges: Mapping[str, Callable[[dict[str, Any]], Any]] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        edges = {role: oplang.value_function(d) for role, d in self.derivatives.items()}
        object.__setattr__(self, "_value_edges", edges)

    def roles(self, n_inputs: int) -> tuple[tuple[str, int], ...]:
        """(role, index) of each input, in the node's order of parents."""
        if self.name == "sum":
            return tuple(("x_i", i) for i in range(n_inputs))
        n = n_inputs // 2  # dot: the weights, then the inputs, then the bias if any
        bias = (("b", 0),) if n_inputs % 2 else ()
        return (*(("w_i", i) for i in range(n)), *(("x_i", i) for i in range(n)), *bias)

    def value_derivatives(self, inputs: tuple[Any, ...], out: Any) -> tuple[Any, ...]:
        """d(out)/d(input) for each input, as Values (see `Op.value_derivatives`)."""
        roles = self.roles(len(inputs))
        by_role = {(role, i): value for (role, i), value in zip(roles, inputs)}
        return tuple(
            self._value_edges[role](
                {"x_i": by_role.get(("x_i", i)), "w_i": by_role.get(("w_i", i)), "out": out}
            )
            for role, i in roles
        )


FUSED_OPS: Mapping[str, FusedOp] = {
    "sum": FusedOp("sum", "sum", "sum(x_i)", {"x_i": "1.0"}, doc="x_0 + x_1 + ..."),
    "dot": FusedOp(
        "dot", "dot", "b + sum(w_i * x_i)", {"w_i": "x_i", "x_i": "w_i", "b": "1.0"},
        doc="A neuron's weighted sum, added from the bias, left to right.",
    ),
}  # fmt: skip
