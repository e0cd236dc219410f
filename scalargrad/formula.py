"""Formulas typed as text, such as "tanh(x*w + b)", made into a graph of Values.

The text is parsed with `ast` and every node of the tree is checked against a short
whitelist before anything is computed: numbers, variable names, `+ - * / **`, unary
`-` and `+`, parentheses, and calls by name, with one argument, of the op table's
functions (`scalargrad.ops.FORMULA_FUNCTIONS`: tanh, exp, log, ...). Nothing is ever handed to
`eval`, so a formula can name no builtin, reach no attribute and import nothing.

>>> formula = parse("tanh(x*w + b)")
>>> formula.variables
('x', 'w', 'b')
>>> out = evaluate(formula, {"x": 0.5, "w": -1.2, "b": 0.3})
>>> round(out.data, 4)
-0.2913

Numbers are plain floats, never Python ints, so `2**10**10` is float arithmetic that
fails at once with a FormulaError instead of building a ten-billion-bit integer.
A number becomes a leaf Value holding it, as in micrograd (`x * 2` is a "*" node
with the parents x and 2), so the graph shows every op and number the formula has.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from scalargrad.engine import Value
from scalargrad.ops import FORMULA_FUNCTIONS

# The functions a formula may call: the op table's, each a method of Value.
FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    name: vars(Value)[name] for name in FORMULA_FUNCTIONS
}
# The operators a formula may use; with a Value on either side they reach the engine.
BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
# Longer formulas are not for reading as a graph. MAX_DEPTH keeps evaluation, which
# recurses once per level of nesting, far from Python's recursion limit: brackets,
# calls, signs and the right side of an operator nest; the left side does not, so a
# chain such as a + b + c + ... (which ast nests to the left) is one level however long.
MAX_LENGTH = 1000
MAX_DEPTH = 100

# What a learner might type that is not allowed, said in their words.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "indexing (a[i])",
    ast.Lambda: "lambda",
    ast.Compare: "comparisons (<, ==, ...)",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples (a, b)",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "generators",
    ast.Starred: "unpacking (*a)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}
_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.Not: "not",
}
_ALLOWED = "numbers, variables, + - * / **, parentheses and the functions " + ", ".join(FUNCTIONS)


class FormulaError(ValueError):
    """A formula that is not allowed, cannot be read, or has no value for its inputs."""


@dataclass(frozen=True)
class Formula:
    """A parsed and checked formula: its text, its tree, and its variables in order."""

    # The text as parsed, without surrounding spaces; the tree's columns count from it.
    text: str
    tree: ast.expr
    # Each variable's name once, in the order the formula first uses it.
    variables: tuple[str, ...]


def parse(text: str) -> Formula:
    """Parse `text` and check every part of it against the whitelist; FormulaError if not.

    >>> parse("x**2 + sin(y)").variables
    ('x', 'y')
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula is text, got {type(text).__name__}")
    # A formula broken over lines reads as on one line: a line break is a space (each
    # stays one character, so error columns still count from the text as typed).
    text = text.replace("\r", " ").replace("\n", " ").strip()
    if not text:
        raise FormulaError("the formula is empty; write one such as 'tanh(x*w + b)'")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"the formula is {len(text):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    try:
        # A SyntaxWarning ("1if": invalid decimal literal) becomes the SyntaxError it
        # points to, rather than a second line printed to stderr.
        with warnings.catch_warnings():
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise FormulaError(_syntax_message(error)) from None
    except ValueError:
        # Python 3.10 raises ValueError for a null byte; later versions a SyntaxError.
        raise FormulaError("the formula cannot be read: it has a null byte") from None
    return Formula(text, tree, _checked_variables(tree, text))


def evaluate(formula: Formula, values: Mapping[str, float]) -> Value:
    """The formula's graph for `values` (one per variable): its output Value.

    Each variable is one leaf Value labelled with its name, however often the formula
    uses it. A domain error (log of a negative number, division by zero, a result too
    large for a float) is a FormulaError that names the part of the formula at fault.
    """
    missing = [name for name in formula.variables if name not in values]
    if missing:
        raise FormulaError(
            f"{_names(missing)} {'has' if len(missing) == 1 else 'have'} no value "
            f"(the formula's variables: {', '.join(formula.variables)})"
        )
    unused = [name for name in values if name not in formula.variables]
    if unused:
        raise FormulaError(
            f"{_names(unused)} {'is' if len(unused) == 1 else 'are'} given a value but "
            f"not used in the formula (its variables: {', '.join(formula.variables) or 'none'})"
        )
    leaves = {}
    for name in formula.variables:
        number = values[name]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise FormulaError(f"the value of {name} must be a number, got {number!r}")
        if not math.isfinite(number):
            raise FormulaError(f"the value of {name} must be a finite number, got {number!r}")
        leaves[name] = Value(float(number), label=name)
    result = _evaluate(formula.tree, formula.text, leaves)
    return result if isinstance(result, Value) else Value(result)


# ---- checking -------------------------------------------------------------------------


def _syntax_message(error: SyntaxError) -> str:
    reason = (error.msg or "invalid syntax").split(" (")[0]
    if error.offset:
        return f"the formula is not valid: {reason} at column {error.offset}"
    return f"the formula is not valid: {reason}"


def _checked_variables(tree: ast.expr, text: str) -> tuple[str, ...]:
    """The variables `tree` uses, after checking every node in it, without recursion."""
    variables: dict[str, None] = {}
    # Children are pushed in reverse, so nodes are seen left to right as written.
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FormulaError(
                f"the formula nests more than {MAX_DEPTH} levels deep (in brackets, "
                "function calls, signs or powers); a chain such as a + b + c is not nested"
            )
        children = _checked_children(node, text, variables)
        # The left operand continues a chain (a + b + c is (a + b) + c): same level.
        left = node.left if isinstance(node, ast.BinOp) else None
        stack.extend((child, depth if child is left else depth + 1) for child in reversed(children))
    return tuple(variables)


def _checked_children(node: ast.AST, text: str, variables: dict[str, None]) -> list[ast.expr]:
    """The sub-expressions of `node` to check next; FormulaError if `node` is refused."""
    if isinstance(node, ast.Constant):
        _number(node, text)
        return []
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} is a function: call it, as in {node.id}(x)")
        variables[node.id] = None
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) not in BINARY_OPERATORS:
            raise FormulaError(f"a formula cannot use {_symbol(node.op)}; it may use {_ALLOWED}")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise FormulaError(f"a formula cannot use {_symbol(node.op)}; it may use {_ALLOWED}")
        return [node.operand]
    if isinstance(node, ast.Call):
        _check_call(node, text)
        return list(node.args)
    what = _REFUSED.get(type(node), type(node).__name__)
    raise FormulaError(f"a formula cannot use {what}; it may use {_ALLOWED}")


def _check_call(call: ast.Call, text: str) -> None:
    if not isinstance(call.func, ast.Name):
        raise FormulaError(
            f"only these functions can be called, by name: {', '.join(FUNCTIONS)}; "
            f"{_segment(text, call.func)} is not one of them"
        )
    name = call.func.id
    if name not in FUNCTIONS:
        raise FormulaError(
            f"{name}() is not a function a formula can call; the functions are "
            f"{', '.join(FUNCTIONS)}"
        )
    for argument in call.args:
        if isinstance(argument, ast.Starred):
            raise FormulaError(
                f"{name}() cannot unpack arguments (*{_segment(text, argument.value)}); "
                f"give it one argument, as in {name}(x)"
            )
    for keyword in call.keywords:
        if keyword.arg is None:
            raise FormulaError(
                f"{name}() cannot unpack arguments (**{_segment(text, keyword.value)}); "
                f"give it one argument, as in {name}(x)"
            )
    if call.keywords:
        raise FormulaError(
            f"{name}() takes no keyword arguments; give it one argument, as in {name}(x)"
        )
    if len(call.args) != 1:
        raise FormulaError(
            f"{name}() takes exactly one argument, as in {name}(x); got {len(call.args)}"
        )


def _number(node: ast.Constant, text: str) -> float:
    """The float a number in the formula stands for; FormulaError for any other constant."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {str: "text", bytes: "bytes", complex: "complex numbers"}.get(
            type(value), repr(value)
        )
        raise FormulaError(f"a formula cannot use {kind}; it may use {_ALLOWED}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise FormulaError(f"the number {_segment(text, node)} is too large for a float")
    return number


def _symbol(op: ast.AST) -> str:
    return _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)


def _names(names: list[str]) -> str:
    return ", ".join(names)


# ---- evaluating -----------------------------------------------------------------------


def _evaluate(node: ast.expr, text: str, leaves: dict[str, Value]) -> Value | float:
    """`node` computed with Values: a float while only numbers are involved.

    A chain such as a + b + c nests to the left, one level per term; it is walked in a
    loop, so recursion goes only as deep as the nesting parse limits to MAX_DEPTH.
    """
    chain: list[ast.BinOp] = []
    while isinstance(node, ast.BinOp):
        chain.append(node)
        node = node.left
    result: Value | float
    if isinstance(node, ast.Constant):
        result = _number(node, text)
    elif isinstance(node, ast.Name):
        result = leaves[node.id]
    elif isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, text, leaves)
        result = -operand if isinstance(node.op, ast.USub) else operand
    elif isinstance(node, ast.Call):
        argument = _evaluate(node.args[0], text, leaves)
        function = FUNCTIONS[cast(ast.Name, node.func).id]
        result = _computed(node, text, function, _as_value(argument))
    else:  # parse lets nothing else through
        raise FormulaError(f"{type(node).__name__} is not allowed in a formula")
    for binary in reversed(chain):
        right = _evaluate(binary.right, text, leaves)
        # number op number: a node, not folded away
        left = result if isinstance(right, Value) else _as_value(result)
        result = _computed(binary, text, BINARY_OPERATORS[type(binary.op)], left, right)
    return result


def _as_value(number: Value | float) -> Value:
    return number if isinstance(number, Value) else Value(number)


def _computed(node: ast.AST, text: str, function: Callable[..., Any], *operands: Any) -> Value:
    """`function(*operands)`, the op at `node`; a FormulaError naming it if it fails."""
    try:
        result = function(*operands)
    except (ArithmeticError, ValueError) as error:
        raise FormulaError(f"cannot compute {_segment(text, node)}: {_reason(error)}") from None
    if not isinstance(result, Value) or not math.isfinite(result.data):
        raise FormulaError(
            f"cannot compute {_segment(text, node)}: the result, {result.data}, "
            "is not a finite number"
        )
    return result


def _segment(text: str, node: ast.AST) -> str:
    """The part of the formula `node` was parsed from, as the learner typed it."""
    piece = ast.get_source_segment(text, node) or ast.unparse(node)
    return piece if len(piece) <= 60 else piece[:57] + "..."


def _reason(error: Exception) -> str:
    message = str(error)
    # math.pow says only "math range error" when a result overflows.
    if isinstance(error, OverflowError) and "too large" not in message:
        return f"the result is too large for a float ({message})"
    return message
