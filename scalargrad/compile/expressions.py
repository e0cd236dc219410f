"""The op table's expressions as syntax trees, ready to be written as code."""

from __future__ import annotations

import ast
import builtins
import copy
import math
from collections.abc import Sequence
from typing import Any

from scalargrad.oplang import FLOAT_NAMESPACE
from scalargrad.ops import FusedOp


def _number(x: float) -> ast.expr:
    """A float as source: -2.0 as -(2.0), so `x ** -2.0` keeps its meaning."""
    if math.isnan(x) or math.isinf(x):
        return ast.Call(ast.Name("float", ast.Load()), [ast.Constant(repr(x))], [])
    if math.copysign(1.0, x) < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-x))
    return ast.Constant(x)


_PARSED: dict[str, ast.expr] = {}


def _parsed(expression: str) -> ast.expr:
    """A fresh copy of the expression's tree (parsed once), to substitute into."""
    if expression not in _PARSED:
        _PARSED[expression] = ast.parse(expression, mode="eval").body
    return copy.deepcopy(_PARSED[expression])


class _Substitute(ast.NodeTransformer):
    """Put operands (as syntax trees) in place of the names x, y, out, w_i, x_i, b."""

    def __init__(self, operands: dict[str, ast.expr]) -> None:
        self.operands = operands

    def visit_Name(self, node: ast.Name) -> ast.expr:
        operand = self.operands.get(node.id)
        return node if operand is None else copy.deepcopy(operand)


class _Fold(ast.NodeTransformer):
    """Compute what depends on constants only, with Python's floats, as eager would:
    `y * x ** (y - 1.0) if y != 0 else 0.0` with y = 2.0 becomes `2.0 * x ** 1.0`."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace

    def visit(self, node: ast.AST) -> Any:
        node = super().visit(node)
        if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Call, ast.IfExp)):
            names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
            if all(callable(self.namespace.get(name)) for name in names):
                try:
                    value = eval(
                        builtins.compile(
                            ast.fix_missing_locations(ast.Expression(node)), "<fold>", "eval"
                        ),
                        self.namespace,
                    )
                except (ArithmeticError, ValueError):
                    return node
                if isinstance(value, bool):
                    return ast.Constant(value)
                if isinstance(value, (int, float)):
                    return _number(float(value))
        return node


class _PythonPow(ast.NodeTransformer):
    # On floats a ** b is a call, as the engine computes it: math.pow in a forward (it
    # raises where ** would quietly give a complex number), oplang.slope_pow in an edge.
    def __init__(self, power: str) -> None:
        self.power = power

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name(self.power, ast.Load()), [node.left, node.right], [])
        return node


_PYTHON_NAMESPACE: dict[str, Any] = {**FLOAT_NAMESPACE, "float": float}


def _python_expression(
    expression: str, operands: dict[str, ast.expr], power: str = "pow"
) -> ast.expr:
    tree = _Substitute(operands).visit(_parsed(expression))
    tree = _PythonPow(power).visit(tree)
    return ast.fix_missing_locations(_Fold(_PYTHON_NAMESPACE).visit(tree))  # type: ignore[no-any-return]


def _expand_fused_forward(op: FusedOp, roles: dict[str, list[ast.expr]]) -> list[ast.expr]:
    """A fused op's forward with its `sum(term_i)` written out term by term, to be added
    left to right after what stands before it, as the engine adds: b, w0 * x0, w1 * x1."""
    tree = ast.parse(op.forward, mode="eval").body
    per_index = {k: v for k, v in roles.items() if k.endswith("_i")}
    count = len(next(iter(per_index.values())))

    def terms(call: ast.Call) -> list[ast.expr]:
        return [
            _Substitute({k: v[i] for k, v in per_index.items()}).visit(copy.deepcopy(call.args[0]))
            for i in range(count)
        ]

    def is_sum(node: ast.expr) -> bool:
        return (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "sum"
        )  # fmt: skip

    if is_sum(tree):
        assert isinstance(tree, ast.Call)
        first, *rest = terms(tree)
    else:
        # `b + sum(...)`: the engine starts from b (or, without a bias, from 0.0 and
        # so from the first term: the same number).
        assert isinstance(tree, ast.BinOp) and is_sum(tree.right)
        assert isinstance(tree.right, ast.Call)
        rest = terms(tree.right)
        first = _Substitute({"b": roles["b"][0]}).visit(tree.left) if "b" in roles else rest.pop(0)
    return [first, *rest]


# Terms per line of a long sum: a chain of a few hundred + would overflow the stack of
# the compiler (and of ast.unparse); `h = h + ...` lines keep the left-to-right order.
_TERMS_PER_LINE = 16


def _sum_lines(name: str, terms: Sequence[str]) -> list[str]:
    """`name = t0 + t1 + ...`, continued as `name = name + ...` every few terms."""
    lines = []
    for start in range(0, len(terms), _TERMS_PER_LINE):
        chunk = list(terms[start : start + _TERMS_PER_LINE])
        if start:
            chunk.insert(0, name)
        lines.append(f"{name} = {' + '.join(chunk)}")
    return lines


def _term(expression: ast.expr) -> str:
    """A term of a sum as source: parenthesised where + would bind it otherwise."""
    return ast.unparse(ast.BinOp(ast.Name("_", ast.Load()), ast.Add(), expression))[4:]


def _fused_roles(op: FusedOp, parents: Sequence[ast.expr]) -> dict[str, list[ast.expr]]:
    roles: dict[str, list[ast.expr]] = {}
    for (role, _), parent in zip(op.roles(len(parents)), parents):
        roles.setdefault(role, []).append(parent)
    return roles


