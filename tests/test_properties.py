"""Laws over random expression graphs: gradients match finite differences."""

from __future__ import annotations

import math
import weakref

import pytest
from hypothesis import assume, given

import scalargrad
from scalargrad import Value, gradcheck, gradgradcheck
from tests.strategies import Program, programs

KINK_MARGIN = 1e-3


def run(program: Program, values: list[Value], kinks: list[float] | None = None) -> Value:
    result: Value = program.run(values, scalargrad.dot, scalargrad.sum, kinks)
    return result


def evaluate_safely(program: Program) -> None:
    """Skip programs that land on a kink of relu/abs or grow too steep to difference."""
    kinks: list[float] = []
    out = run(program, [Value(x) for x in program.inputs], kinks)
    assume(all(abs(k) > KINK_MARGIN for k in kinks))
    assume(math.isfinite(out.data) and abs(out.data) < 1e4)


@given(programs())
def test_gradients_of_random_graphs_match_finite_differences(program: Program) -> None:
    """backward() agrees with central differences on every input of any graph."""
    evaluate_safely(program)
    assert gradcheck(lambda *xs: run(program, list(xs)), program.inputs, atol=1e-4, rtol=1e-3)


@given(programs(max_inputs=2, max_steps=4))
def test_second_derivatives_of_random_graphs_match_finite_differences(program: Program) -> None:
    """backward(create_graph=True) then backward() agrees with differences of gradients."""
    evaluate_safely(program)
    assert gradgradcheck(lambda *xs: run(program, list(xs)), program.inputs, atol=1e-3, rtol=1e-3)


@given(programs())
def test_backward_twice_changes_interior_grads_not_at_all_and_leaves_twice(
    program: Program,
) -> None:
    """Interior grads are reset; leaf grads accumulate."""
    leaves = [Value(x) for x in program.inputs]
    out = run(program, leaves)
    out.backward()
    interior = {node: node.grad for node in scalargrad.topological_order(out) if node.parents}
    first = [leaf.grad for leaf in leaves]
    out.backward()
    assert {node: node.grad for node in interior} == interior
    # Each pass adds the same terms; only their rounding can differ.
    assert [leaf.grad for leaf in leaves] == pytest.approx([2 * g for g in first], rel=1e-12)


@given(programs())
def test_topological_order_puts_every_node_after_its_parents(program: Program) -> None:
    """Each node comes after its parents, each once, root last."""
    out = run(program, [Value(x) for x in program.inputs])
    order = scalargrad.topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is out
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]


@given(programs())
def test_no_random_graph_holds_a_reference_cycle(program: Program) -> None:
    """Dropping the output frees every node at once, without the cycle collector."""
    import gc

    gc.disable()
    try:
        leaves = [Value(x) for x in program.inputs]
        out = run(program, leaves)
        out.backward()
        refs = [weakref.ref(node) for node in scalargrad.topological_order(out) if node.parents]
        del out
        assert all(ref() is None for ref in refs)
    finally:
        gc.enable()
