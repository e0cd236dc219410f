"""The tape floor: the smallest tape engine that runs the lecture loop.

`benchmarks/lecture.py --floor` runs it beside scalargrad and micrograd. Issue 9 asks
whether a tape of flat lists (numbers and int indices) could make the lecture loop
100x micrograd. This is the smallest tape that runs the loop: a Value is an index into three lists
(the numbers, each node's parent indices, each node's edges), a layer is one call
with its parameters' indices read once, and backward walks the whole tape once from
the root down with no gathering and no sorting. It cheats where a real engine cannot:
no checks, no grad mode, and the tape is cut back to the parameters by hand after each
step (`after_step`), so nothing frees a graph when its last Value goes. Whatever it gets is more
than any tape with the engine's semantics could.
"""

from __future__ import annotations

import operator
from typing import Any

import floor_engine  # benchmarks/floor_engine.py, beside this script

_numbers: list[float] = []
_parents: list[tuple[int, ...]] = []
_edges: list[tuple[float, ...]] = []
_grads: list[float] = []  # of the last backward, by tape index
_index_of = operator.attrgetter("index")
_number_at = _numbers.__getitem__


class Value:
    __slots__ = ("index",)

    def __init__(
        self, data: float, parents: tuple[int, ...] = (), edges: tuple[float, ...] = ()
    ) -> None:
        self.index = len(_numbers)
        _numbers.append(data)
        _parents.append(parents)
        _edges.append(edges)

    @property
    def data(self) -> float:
        return _numbers[self.index]

    @data.setter
    def data(self, number: float) -> None:
        _numbers[self.index] = number

    @property
    def grad(self) -> float:
        return _grads[self.index] if self.index < len(_grads) else 0.0

    @grad.setter
    def grad(self, number: float) -> None:  # only zero_grad sets it: backward starts afresh
        del _grads[:]

    def __add__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        i, j = self.index, other.index
        return Value(_numbers[i] + _numbers[j], (i, j), (1.0, 1.0))

    def __mul__(self, other: Any) -> Value:
        other = other if isinstance(other, Value) else Value(float(other))
        i, j = self.index, other.index
        return Value(_numbers[i] * _numbers[j], (i, j), (_numbers[j], _numbers[i]))

    __radd__, __rmul__ = __add__, __mul__

    def relu(self) -> Value:
        x = _numbers[self.index]
        return Value(x if x > 0.0 else 0.0, (self.index,), (1.0 if x > 0.0 else 0.0,))

    def backward(self) -> None:
        grads = [0.0] * (self.index + 1)
        grads[self.index] = 1.0
        for i in range(self.index, -1, -1):
            grad = grads[i]
            if grad:
                for parent, edge in zip(_parents[i], _edges[i]):
                    grads[parent] += grad * edge
        _grads[:] = grads


class MLP(floor_engine.MLP):
    """micrograd's MLP(nin, nouts) on the tape; its parameters sit at the tape's start."""

    value_type = Value

    def __init__(self, nin: int, nouts: list[int]) -> None:
        super().__init__(nin, nouts)
        self.indices = [
            [(tuple(map(_index_of, w)), b.index) for w, b in layer] for layer in self.layers
        ]
        self.tape_start = len(_numbers)

    def __call__(self, x: Any) -> Any:
        for k, layer in enumerate(self.indices):
            x_indices = tuple(map(_index_of, x))
            x_data = tuple(map(_number_at, x_indices))
            x = []
            for w_indices, b_index in layer:
                w_data = tuple(map(_number_at, w_indices))
                total = sum(map(operator.mul, w_data, x_data), _numbers[b_index])
                x.append(Value(total, w_indices + x_indices + (b_index,), x_data + w_data + (1.0,)))
            if k < len(self.indices) - 1:
                x = [v.relu() for v in x]
        return x[0] if len(x) == 1 else x

    def after_step(self) -> None:
        """What no real engine can do: forget the step's graph by hand."""
        del _numbers[self.tape_start :], _parents[self.tape_start :], _edges[self.tape_start :]
