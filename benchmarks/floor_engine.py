"""The floor: the smallest engine that builds the graph scalargrad builds.

`benchmarks/lecture.py --floor` runs it beside scalargrad and micrograd. It has what
the lecture loop needs and nothing else: no checks, no no_grad, no op table, no
second derivatives, no hand-written ops. Like scalargrad, a neuron is one fused `dot`
node, plain numbers in ops become leaf Values, and nodes are numbered as they are
made so that sorting by number gives the order for backward. The time it takes is
about the least an eager graph of Python objects with this shape can take, so the
gap between it and scalargrad is what scalargrad's features cost.
"""

from __future__ import annotations

import operator
import random
from itertools import count, pairwise
from typing import Any

_next_number = count().__next__
_by_number = operator.attrgetter("number")


class Value:
    __slots__ = ("data", "edges", "grad", "grad_so_far", "number", "parents")

    def __init__(
        self, data: float, parents: tuple[Value, ...] = (), edges: tuple[float, ...] = ()
    ) -> None:
        self.data, self.grad, self.parents, self.edges = data, 0.0, parents, edges
        self.number = _next_number()
        self.grad_so_far = 0.0

    def __add__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    __radd__, __rmul__ = __add__, __mul__

    def relu(self) -> Value:
        x = self.data
        return Value(x if x > 0.0 else 0.0, (self,), (1.0 if x > 0.0 else 0.0,))

    def backward(self) -> None:
        seen, order = {self}, [self]
        for node in order:
            for parent in node.parents:
                if parent not in seen:
                    seen.add(parent)
                    order.append(parent)
        order.sort(key=_by_number, reverse=True)
        for node in order:
            node.grad_so_far = 0.0
        self.grad_so_far = 1.0
        for node in order:
            grad = node.grad_so_far
            for parent, edge in zip(node.parents, node.edges):
                parent.grad_so_far += grad * edge
        for node in order:
            node.grad = node.grad_so_far if node.parents else node.grad + node.grad_so_far


def dot(weights: list[Value], inputs: list[Value], bias: Value) -> Value:
    w_data = tuple(w.data for w in weights)
    x_data = tuple(x.data for x in inputs)
    total = sum(map(operator.mul, w_data, x_data), bias.data)
    return Value(total, (*weights, *inputs, bias), (*x_data, *w_data, 1.0))


class MLP:
    """micrograd's MLP(nin, nouts): relu layers, a linear last layer."""

    value_type: Any = Value

    def __init__(self, nin: int, nouts: list[int]) -> None:
        make = self.value_type
        self.layers = [
            [([make(random.uniform(-1, 1)) for _ in range(n)], make(0.0)) for _ in range(m)]
            for n, m in pairwise([nin, *nouts])
        ]

    def __call__(self, x: Any) -> Any:
        for i, layer in enumerate(self.layers):
            x = [dot(w, x, b) for w, b in layer]
            if i < len(self.layers) - 1:
                x = [v.relu() for v in x]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0
