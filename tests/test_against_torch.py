"""The same random graphs in PyTorch (float64): values and gradients agree to 1e-9."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import assume, given

import scalargrad
from scalargrad import Value
from tests.strategies import Program, programs

torch = pytest.importorskip("torch")


def torch_dot(weights: list[Any], inputs: list[Any], bias: float) -> Any:
    return torch.stack([w * x for w, x in zip(weights, inputs)]).sum() + bias


def torch_sum(values: list[Any]) -> Any:
    return torch.stack(list(values)).sum()


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@given(programs(max_inputs=3, max_steps=8))
def test_values_and_gradients_agree_with_pytorch(program: Program) -> None:
    """Forward values and d(out)/d(input) match torch.float64 to 1e-9 relative."""
    kinks: list[float] = []
    leaves = [Value(x) for x in program.inputs]
    out = program.run(leaves, scalargrad.dot, scalargrad.sum, kinks)
    assume(all(abs(k) > 1e-9 for k in kinks))
    out.backward()

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in program.inputs]
    reference = program.run(tensors, torch_dot, torch_sum)
    reference.backward()

    assert close(out.data, reference.item())
    for leaf, tensor in zip(leaves, tensors):
        expected = 0.0 if tensor.grad is None else tensor.grad.item()
        assert close(leaf.grad, expected), (leaf.grad, expected)


@given(programs(max_inputs=2, max_steps=5))
def test_second_derivatives_agree_with_pytorch(program: Program) -> None:
    """d2(out)/dx0 dxi from create_graph match torch.autograd.grad twice."""
    kinks: list[float] = []
    leaves = [Value(x) for x in program.inputs]
    out = program.run(leaves, scalargrad.dot, scalargrad.sum, kinks)
    assume(all(abs(k) > 1e-9 for k in kinks))
    out.backward(create_graph=True)
    first = leaves[0].grad
    for leaf in leaves:
        leaf.grad = 0.0
    if isinstance(first, Value):
        first.backward()

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in program.inputs]
    reference = program.run(tensors, torch_dot, torch_sum)
    (d_first,) = torch.autograd.grad(reference, tensors[0], create_graph=True, allow_unused=True)
    expected = [0.0] * len(tensors)
    if d_first is not None and d_first.requires_grad:
        seconds = torch.autograd.grad(d_first, tensors, allow_unused=True)
        expected = [0.0 if g is None else g.item() for g in seconds]
    for leaf, want in zip(leaves, expected):
        assert math.isclose(float(leaf.grad), want, rel_tol=1e-9, abs_tol=1e-10)
