"""The small language the op table (`scalargrad.ops`) is written in.

An op's forward and derivatives are Python expressions over its inputs `x`, `y`, its
output `out` (and, for fused ops, the roles `x_i`, `w_i`, `b`), with numbers,
`+ - * / **`, comparisons, `and`/`or`, `a if condition else b`, and calls of the
functions in `FUNCTIONS`. `parse` checks an expression; each reader renders it for
its own target: `python_function` here for the engine's floats, `value_function` for
gradients that are Values, and the compiler and the browser page for theirs.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

# What each function means on floats. `sign` and `step` are the derivatives of abs and
# relu: 0 at the kink (as in PyTorch), and NaN stays NaN.
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
NAMES = ("x", "y", "out", "x_i", "w_i", "b")
_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.Call,
    ast.Name, ast.Constant, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub,
    ast.And, ast.Or, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
)  # fmt: skip


def parse(expression: str) -> ast.expr:
    """An op's expression as a syntax tree, checked against the language's few forms.

    >>> type(parse("1.0 - out * out")).__name__
    'BinOp'
    """
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"op expression {expression!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            raise ValueError(f"op expression {expression!r}: calls only {', '.join(FUNCTIONS)}")
        if isinstance(node, ast.Name) and node.id not in {*NAMES, *FUNCTIONS}:
            raise ValueError(f"op expression {expression!r}: unknown name {node.id!r}")
    return tree.body


_OPERAND = (ast.Name, ast.Constant)


class _FloatPython(ast.NodeTransformer):
    # On floats `a ** b` becomes a call of math.pow: it raises for a negative base with
    # a fractional exponent, where ** would give a complex number. `step` and `max` are
    # written out in place: they are relu's, made for every relu of every sample, and
    # a call of a builtin costs more than the comparison.
    def __init__(self, function: str) -> None:
        self.function = function

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name(self.function, ast.Load()), [node.left, node.right], [])
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        name, args = node.func.id if isinstance(node.func, ast.Name) else "", node.args
        if name == "step":
            x = ast.unparse(args[0])
            return parse(f"1.0 if {x} > 0.0 else 0.0 if {x} == {x} else {x}")
        if name == "max" and len(args) == 2 and all(isinstance(a, _OPERAND) for a in args):
            a, b = map(ast.unparse, args)  # max keeps the first unless a later one is larger
            return parse(f"{b} if {b} > {a} else {a}")
        return node


def to_python(expression: str, power: str = "pow") -> str:
    """The expression as Python source on floats, `**` written as a call of `power`.

    >>> to_python("y * x ** (y - 1.0)")
    'y * pow(x, y - 1.0)'
    """
    return ast.unparse(_FloatPython(power).visit(parse(expression)))


def slope_pow(base: float, exponent: float) -> float:
    """math.pow for an edge: a slope too steep for a float is infinite, as in PyTorch."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd = exponent == round(exponent) and round(exponent) % 2 == 1
        return -math.inf if base < 0 and odd else math.inf


_BUILTINS = {"OverflowError": OverflowError, "ValueError": ValueError}
FLOAT_NAMESPACE: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "pow": math.pow,
    "slope_pow": slope_pow,
    **FUNCTIONS,
}


def float_evaluator(op: Any) -> Callable[..., tuple[float, tuple[float, ...]]]:
    """`evaluate(x, y) -> (out, edges)` for an op of the table, on floats.

    It is written out as Python from the op's expressions and compiled once, so the
    engine calls one plain function per op. The op's `errors` are checked first; a
    result that is infinite from finite inputs did not fit a float, and raises.
    """
    inputs = ", ".join(op.inputs)
    finite = " and ".join(f"{x} - {x} == 0" for x in op.inputs)
    edges = ", ".join(to_python(d, power="slope_pow") if d else "0.0" for d in op.derivatives)
    checks = "".join(
        f"    if {to_python(condition)}:\n        raise domain_error({i}, {inputs})\n"
        for i, (condition, _, _) in enumerate(op.errors)
    )
    source = (
        f"def evaluate({inputs}):\n{checks}"
        f"    try:\n        out = {to_python(op.forward)}\n"
        f"    except (OverflowError, ValueError) as error:\n"
        f"        raise math_error(error, {inputs}) from None\n"
        f"    if out - out != 0 and {finite}:\n"
        f"        raise math_error(OverflowError(), {inputs})\n"
        f"    return out, ({edges},)\n"
    )
    scope = {**FLOAT_NAMESPACE, "domain_error": op.domain_error, "math_error": op.math_error}
    exec(compile(source, f"<op {op.name}>", "exec"), scope)
    evaluate: Callable[..., tuple[float, tuple[float, ...]]] = scope["evaluate"]
    evaluate.__doc__ = op.doc
    return evaluate


def _method_of(name: str) -> Callable[[Any], Any]:
    return lambda v: getattr(v, name)()


# On Values each function is the Value method of that name; sign and step give plain
# numbers, as a piecewise-constant derivative has no derivative of its own to record.
_VALUE_NAMESPACE: dict[str, Any] = {
    "__builtins__": {},
    **{name: _method_of(name) for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "abs")},
    "sign": lambda v: FUNCTIONS["sign"](v.data),
    "step": lambda v: FUNCTIONS["step"](v.data),
}


def value_function(expression: str) -> Callable[[dict[str, Any]], Any]:
    """The expression evaluated on Values (and numbers) bound by name.

    >>> value_function("1.0 - out * out")({"out": 0.5})
    0.75
    """
    parse(expression)
    code = compile(expression, "<derivative>", "eval")
    return lambda names: eval(code, _VALUE_NAMESPACE, names)
