"""The op table is the one home of every op: walk it and check each entry everywhere."""

from __future__ import annotations

import math
from typing import Any

import pytest

import scalargrad
from scalargrad import Value, gradcheck, gradgradcheck
from scalargrad.formula import evaluate, parse
from scalargrad.ops import FUSED_OPS, OPS
from tests.strategies import ALL_OPS, BINARY, UNARY, WITH_NUMBER, op_of

# Points inside every exercise's domain and away from the kinks of relu and abs.
POINTS = [(-1.3, 0.7), (0.4, -0.9), (1.1, 1.6)]


def exercise(name: str, values: list[Any], number: float = 0.8) -> Any:
    """The op `name` of tests.strategies applied to `values` (Values or tensors)."""
    if name in UNARY:
        return UNARY[name](values[0], None)
    if name in BINARY:
        return BINARY[name](values[0], values[1])
    if name in WITH_NUMBER:
        return WITH_NUMBER[name](values[0], number)
    if name == "dot":
        return scalargrad.dot([values[0]], [values[1]], 0.3)
    return scalargrad.sum(values)


def test_every_op_of_the_table_is_exercised_by_the_strategies() -> None:
    """An op added to the table without a way to test it fails here."""
    assert {op_of(name) for name in ALL_OPS} == {*OPS, *FUSED_OPS}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_can_be_reached_from_a_formula(name: str) -> None:
    """Each op is a function or an operator a typed formula may use."""
    op = OPS[name]
    if op.in_formulas:
        text = f"{name}(x)"
    elif name == "neg":
        text = "-x"
    elif name == "pow":
        text = "x ** 2"
    else:
        text = f"x {op.symbol} y"
    formula = parse(text)
    out = evaluate(formula, {"x": 0.7, "y": 1.3} if "y" in formula.variables else {"x": 0.7})
    assert out.primitive is op


@pytest.mark.parametrize("name", ALL_OPS)
@pytest.mark.parametrize("point", POINTS)
def test_every_op_passes_gradcheck_and_gradgradcheck(name: str, point: tuple[float, float]) -> None:
    """First and second derivatives of every op agree with finite differences."""
    inputs = [Value(x) for x in point]
    assert gradcheck(lambda *v: exercise(name, list(v)), inputs)
    assert gradgradcheck(lambda *v: exercise(name, list(v)), inputs)


@pytest.mark.parametrize("name", ALL_OPS)
@pytest.mark.parametrize("point", POINTS)
def test_every_op_agrees_with_pytorch_to_the_last_digits(
    name: str, point: tuple[float, float]
) -> None:
    """Value, gradient and second derivative of every op match torch.float64 to 1e-12."""
    torch = pytest.importorskip("torch")
    leaves = [Value(x) for x in point]
    out = exercise(name, leaves)
    out.backward(create_graph=True)
    first = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.0
    if isinstance(first[0], Value):
        first[0].backward()
    seconds = [leaf.grad for leaf in leaves]

    def torch_exercise(tensors: list[Any]) -> Any:
        if name == "dot":
            return tensors[0] * tensors[1] + 0.3
        if name == "sum":
            return tensors[0] + tensors[1]
        return exercise(name, tensors)

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    reference = torch_exercise(tensors)
    grads = torch.autograd.grad(reference, tensors, create_graph=True, allow_unused=True)
    want_first = [0.0 if g is None else g.item() for g in grads]
    want_seconds = [0.0] * len(tensors)
    if grads[0] is not None and grads[0].requires_grad:
        second = torch.autograd.grad(grads[0], tensors, allow_unused=True)
        want_seconds = [0.0 if g is None else g.item() for g in second]

    assert math.isclose(out.data, reference.item(), rel_tol=1e-12, abs_tol=1e-15)
    for got, want in [*zip(first, want_first), *zip(seconds, want_seconds)]:
        assert math.isclose(float(got), want, rel_tol=1e-12, abs_tol=1e-15), (got, want)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("point", POINTS)
def test_an_ops_edges_on_floats_equal_its_edges_recomputed_as_values(
    name: str, point: tuple[float, float]
) -> None:
    """The one derivative rule gives the same numbers in both of its uses."""
    op = OPS[name]
    positive = name in ("log", "sqrt", "pow", "pow_value")
    inputs = [Value(abs(x) + 0.5 if positive else x) for x in point][: op.arity]
    out, edges = op.evaluate(*(x.data for x in inputs))
    as_values = op.value_derivatives(tuple(inputs), Value(out))
    assert [float(e) for e in as_values] == pytest.approx(list(edges), rel=1e-15)
