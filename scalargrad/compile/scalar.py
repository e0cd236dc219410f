"""Straight-line Python on floats: one line per node forward, one per edge backward."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

from scalargrad.compile.expressions import (
    _expand_fused_forward,
    _fused_roles,
    _number,
    _python_expression,
    _sum_lines,
    _term,
)
from scalargrad.compile.trace import Graph, Node
from scalargrad.ops import FusedOp, Op


def _scalar_program(
    graph: Graph, names: list[str], input_names: list[str], parameter_names: list[str]
) -> str:
    nodes = graph.nodes

    def operand(i: int) -> ast.expr:
        node = nodes[i]
        return _number(node.data) if node.kind == "constant" else ast.Name(names[i], ast.Load())

    lines = [f"def forward_backward({', '.join([*input_names, *parameter_names])}):"]
    lines.append("    # forward: one line per node")
    for i, node in enumerate(nodes):
        if node.kind != "op":
            continue
        parents = [operand(p) for p in node.parents]
        if isinstance(node.op, FusedOp):
            terms = _expand_fused_forward(node.op, _fused_roles(node.op, parents))
            lines += [f"    {line}" for line in _sum_lines(names[i], [_term(t) for t in terms])]
            continue
        assert isinstance(node.op, Op)
        expression = _python_expression(node.op.forward, dict(zip(node.op.inputs, parents)))
        lines.append(f"    {names[i]} = {ast.unparse(expression)}")

    wanted = {i for i in [*graph.inputs, *graph.parameters] if i is not None}
    needs_grad = _needs_grad(graph, wanted)
    root = graph.outputs[0]
    lines.append("    # backward: the chain rule, one line per edge, newest node first")
    has_grad = set()
    if nodes[root].kind != "constant":  # a number alone (the formula `3`) has no gradient
        lines.append(f"    g_{names[root]} = 1.0")
        has_grad.add(root)
    for i in reversed(range(len(nodes))):
        node = nodes[i]
        if node.kind != "op" or i not in has_grad:
            continue
        grad = ast.Name(f"g_{names[i]}", ast.Load())
        for parent, derivative in zip(node.parents, _edges(node, operand, ast.Name(names[i]))):
            if derivative is None or parent not in needs_grad:
                continue
            share = _times(grad, derivative)
            sign = "+=" if parent in has_grad else "="
            lines.append(f"    g_{names[parent]} {sign} {ast.unparse(share)}")
            has_grad.add(parent)

    def grad_of(i: int | None) -> str:
        return f"g_{names[i]}" if i is not None and i in has_grad else "0.0"

    input_grads = _tuple([grad_of(i) for i in graph.inputs])
    parameter_grads = _tuple([grad_of(i) for i in graph.parameters])
    lines.append(f"    return {ast.unparse(operand(root))}, {input_grads}, {parameter_grads}")
    return "\n".join(lines) + "\n"


def _tuple(items: Sequence[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _needs_grad(graph: Graph, wanted: set[int]) -> set[int]:
    """Nodes on a path from a wanted leaf: only these get adjoints."""
    needs = set(wanted)
    for i, node in enumerate(graph.nodes):
        if any(p in needs for p in node.parents):
            needs.add(i)
    return needs


def _edges(node: Node, operand: Callable[[int], ast.expr], out: ast.expr) -> list[ast.expr | None]:
    """d(node)/d(parent) for each parent, from the op table, as Python on floats."""
    parents = [operand(p) for p in node.parents]
    op = node.op
    if isinstance(op, FusedOp):
        roles = op.roles(len(parents))
        by_role = {(role, i): parent for (role, i), parent in zip(roles, parents)}
        edges: list[ast.expr | None] = []
        for role, i in roles:
            partners = {"x_i": by_role.get(("x_i", i)), "w_i": by_role.get(("w_i", i))}
            known = {k: v for k, v in partners.items() if v is not None}
            edges.append(
                _python_expression(op.derivatives[role], {**known, "out": out}, "slope_pow")
            )
        return edges
    assert isinstance(op, Op)
    operands = {**dict(zip(op.inputs, parents)), "out": out}
    return [
        None if d is None else _python_expression(d, operands, "slope_pow") for d in op.derivatives
    ]


def _times(grad: ast.expr, derivative: ast.expr) -> ast.expr:
    """grad * derivative, written as grad where the derivative is 1 and -grad where -1."""
    if isinstance(derivative, ast.Constant) and derivative.value == 1.0:
        return grad
    if (
        isinstance(derivative, ast.UnaryOp)
        and isinstance(derivative.operand, ast.Constant)
        and derivative.operand.value == 1.0
    ):
        return ast.UnaryOp(ast.USub(), grad)
    return ast.BinOp(grad, ast.Mult(), derivative)


