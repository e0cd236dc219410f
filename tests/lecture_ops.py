"""Ops written the lecture's way (the constructor with children, and a closure), shared
by the tests of lecture compatibility and of the notebooks' exercises."""

from __future__ import annotations

from scalargrad.engine import Value


def mul(a: Value, b: Value) -> Value:
    """a * b written the lecture's way."""
    out = Value(a.data * b.data, (a, b), "*")

    def _backward() -> None:
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    return out
