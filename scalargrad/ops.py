"""The op table: every primitive op of the engine, each written once.

An entry gives an op's forward computation and, beside it, d(out)/d(input) for each
input, as expressions in a small language: Python expressions over the inputs `x`
(and `y`) and the op's output `out`, with numbers, `+ - * / **`, comparisons,
`a if condition else b`, and calls of the functions in `FUNCTIONS`. Everything else
reads these strings: the engine makes its float functions and, for
`backward(create_graph=True)`, its Value functions from them; the compiler writes
them out as Python and NumPy code; the browser page as JavaScript; formulas and
`nn`'s activations look up which ops they may call. To add an op, add an entry here
(and its tests).

>>> OPS["tanh"].derivatives
('1.0 - out * out',)
>>> OPS["tanh"].float_forward(0.5) == math.tanh(0.5)
True
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The functions an expression may call, and what each means on floats. `sign` and
# `step` are the derivatives of abs and relu: 0 at the kink (as in PyTorch), and
# NaN stays NaN. On Values they give plain numbers: a derivative that is piecewise
# constant has no derivative of its own to record.
FUNCTIONS: dict[str, Callable[..., float]] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
    "abs": abs,
    "max": max,
    "round": round,
    "sign": lambda x: 1.0 if x > 0.0 else -1.0 if x < 0.0 else x * 0.0,
    "step": lambda x: 1.0 if x > 0.0 else x * 0.0 if x != x else 0.0,
}


# ---- the expression language --------------------------------------------------------

_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp,
    ast.Call, ast.Name, ast.Constant, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.And, ast.Or,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
)  # fmt: skip


# Inputs and output of an op; the roles of a fused op's inputs.
_NAMES = ("x", "y", "out", "x_i", "w_i", "b")


def parse(expression: str) -> ast.expr:
    """An op's expression as a syntax tree, checked against the language's few forms.

    >>> type(parse("1.0 - out * out")).__name__
    'BinOp'
    """
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"op expression {expression!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            raise ValueError(f"op expression {expression!r}: calls only {', '.join(FUNCTIONS)}")
        if isinstance(node, ast.Name) and node.id not in {*_NAMES, *FUNCTIONS}:
            raise ValueError(f"op expression {expression!r}: unknown name {node.id!r}")
    return tree.body


class _PythonFloats(ast.NodeTransformer):
    # On floats `a ** b` becomes math.pow(a, b): it raises for a negative base with a
    # fractional exponent, where ** would give a complex number.
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name("pow", ast.Load()), [node.left, node.right], [])
        return node


def to_python(expression: str) -> str:
    """The expression as Python source on floats, with `**` written as `pow(a, b)`.

    >>> to_python("y * x ** (y - 1.0)")
    'y * pow(x, y - 1.0)'
    """
    return ast.unparse(_PythonFloats().visit(parse(expression)))


_PYTHON_NAMESPACE: dict[str, Any] = {
    "__builtins__": {"OverflowError": OverflowError, "ValueError": ValueError},
    "pow": math.pow,
    **FUNCTIONS,
}


def _pow_or_infinity(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd = exponent == round(exponent) and round(exponent) % 2 == 1
        return -math.inf if base < 0 and odd else math.inf


def _value_function(name: str) -> Callable[[Any], Any]:
    def apply(v: Any) -> Any:
        return getattr(v, name)()

    return apply


# Derivatives on Values: each function is the Value method of that name; sign and
# step give plain floats (see FUNCTIONS).
_VALUE_NAMESPACE: dict[str, Any] = {
    "__builtins__": {},
    **{name: _value_function(name) for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "abs")},
    "sign": lambda v: FUNCTIONS["sign"](v.data),
    "step": lambda v: FUNCTIONS["step"](v.data),
}
_COMPILED: dict[str, Any] = {}


def _compiled(expression: str) -> Any:
    code = _COMPILED.get(expression)
    if code is None:
        parse(expression)
        code = _COMPILED[expression] = compile(expression, "<derivative>", "eval")
    return code


# ---- the ops ------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One primitive: how to compute it and how to differentiate it.

    `derivatives[i]` is d(out)/d(input i); None marks an input that is a fixed number
    to the op (the exponent of `x ** 2`), so no gradient flows to it. `errors` are
    (condition, exception, message) checked before the forward runs: inputs outside
    the op's domain raise there, naming the op and the value.
    """

    name: str
    symbol: str
    forward: str
    derivatives: tuple[str | None, ...]
    errors: tuple[tuple[str, type[Exception], str], ...] = ()
    # May a formula call it by name (tanh(x)), and can a layer use it as activation?
    in_formulas: bool = False
    activation: bool = False
    doc: str = ""
    float_forward: Callable[..., float] = field(init=False, repr=False, compare=False)
    float_derivatives: Callable[..., tuple[float, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # The float functions are written out as Python source from the expressions
        # and compiled once, so the engine calls plain functions. A result that is
        # infinite from finite inputs did not fit a float: the forward raises there,
        # as math.exp does. An edge may be infinite (as in PyTorch): it is a slope.
        inputs = ", ".join(self.inputs)
        finite_inputs = " and ".join(f"{x} - {x} == 0" for x in self.inputs)
        edges = ", ".join(to_python(d) if d else "0.0" for d in self.derivatives)
        checks = "".join(
            f"    if {to_python(condition)}:\n        raise _domain_error({i}, {inputs})\n"
            for i, (condition, _, _) in enumerate(self.errors)
        )
        source = (
            f"def forward({inputs}):\n{checks}"
            f"    try:\n        out = {to_python(self.forward)}\n"
            f"    except (OverflowError, ValueError) as error:\n"
            f"        raise _math_error(error, {inputs}) from None\n"
            f"    if out - out != 0 and {finite_inputs}:\n"
            f"        raise _math_error(OverflowError(), {inputs})\n"
            f"    return out\n"
        )
        namespace: dict[str, Any] = {
            **_PYTHON_NAMESPACE,
            "_domain_error": self._domain_error,
            "_math_error": self._math_error,
        }
        exec(compile(source, f"<op {self.name}>", "exec"), namespace)
        forward = namespace["forward"]
        forward.__name__, forward.__doc__ = self.name, self.doc
        # An edge is a slope: where it does not fit a float it is infinite, as in PyTorch.
        namespace = {**_PYTHON_NAMESPACE, "pow": _pow_or_infinity}
        source = f"def derivatives({inputs}, out):\n    return ({edges},)\n"
        exec(compile(source, f"<op {self.name}>", "exec"), namespace)
        derivatives = namespace["derivatives"]
        object.__setattr__(self, "float_forward", forward)
        object.__setattr__(self, "float_derivatives", derivatives)

    def written(self, *inputs: object) -> str:
        """The op applied to `inputs` as a learner writes it: 'x * y', 'tanh(x)'."""
        if self.arity == 2:
            return f"{inputs[0]} {self.symbol} {inputs[1]}"
        return f"-{inputs[0]}" if self.name == "neg" else f"{self.symbol}({inputs[0]})"

    def _domain_error(self, index: int, *inputs: float) -> Exception:
        _, exception, message = self.errors[index]
        return exception(f"{self.symbol}: " + message.format(**dict(zip(self.inputs, inputs))))

    def _math_error(self, error: Exception, *inputs: float) -> Exception:
        written = self.written(*(repr(x) for x in inputs))
        if isinstance(error, OverflowError):
            return OverflowError(f"{self.symbol}: {written} is too large for a float")
        return ValueError(f"{self.symbol}: {written} is undefined")

    @property
    def arity(self) -> int:
        """How many inputs the op takes."""
        return len(self.derivatives)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The names of its inputs in the expressions: ("x",) or ("x", "y")."""
        return ("x", "y")[: self.arity]

    def value_derivatives(self, inputs: tuple[Any, ...], out: Any) -> tuple[Any, ...]:
        """d(out)/d(input) as Values with graphs of their own, for second derivatives.

        `inputs` and `out` are Values; an input the op holds fixed gets 0.0.
        """
        # An input the op holds fixed (the 2 of x ** 2) enters as its number.
        names = {
            name: x if derivative else x.data
            for name, x, derivative in zip(self.inputs, inputs, self.derivatives)
        }
        names["out"] = out
        return tuple(
            0.0 if d is None else eval(_compiled(d), _VALUE_NAMESPACE, names)
            for d in self.derivatives
        )


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
                ("x < 0 and y != round(y)", ValueError,
                 "{x!r} ** {y!r} is not a real number (a negative base needs a whole exponent)"),
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
            errors=(("x - x != 0", ValueError, "sin({x!r}) is undefined"),),
        ),
        _op(
            "cos", "cos", "cos(x)", "-sin(x)", in_formulas=True, doc="Cosine.",
            errors=(("x - x != 0", ValueError, "cos({x!r}) is undefined"),),
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
    forward: str
    derivatives: Mapping[str, str]
    doc: str = ""

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
            eval(
                _compiled(self.derivatives[role]),
                _VALUE_NAMESPACE,
                {"x_i": by_role.get(("x_i", i)), "w_i": by_role.get(("w_i", i)), "out": out},
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
