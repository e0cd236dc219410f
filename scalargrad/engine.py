"""The autograd engine: `Value`, the one gradient walk, and `no_grad`.

A Value holds one float. Every op on Values makes a new Value that records its
parents and the local derivative d(out)/d(parent) of each edge, so the chain rule in
`gradients` is one loop: multiply a node's gradient by the edge, add it to the parent.
The ops themselves, each forward with its derivative beside it, are the table in
`scalargrad.ops`; `Value`'s methods are made from it below.
"""

from __future__ import annotations

import itertools
import operator
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from heapq import heappop, heappush
from itertools import repeat
from typing import Any, Union

from scalargrad.ops import FUSED_OPS, OPS, FusedOp, Op
from scalargrad.validate import real_number

Scalar = Union["Value", float, int]


class _GradMode(threading.local):
    enabled = True


# Per thread, as in PyTorch: predict() in one thread must not switch off training in another.
_grad_mode = _GradMode()


@contextmanager
def no_grad() -> Iterator[None]:
    """Record no graph inside the block (this thread only): ops give leaf Values.

    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.parents
    ()
    """
    previous = _grad_mode.enabled
    _grad_mode.enabled = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()`."""
    return _grad_mode.enabled


# Every Value is numbered as it is made. A node is made after its parents, so
# sorting by this number is a topological order (see `topological_order`).
_next_number = itertools.count().__next__
# What `primitive` holds for a Value an op made under no_grad(): it has no parents,
# but backward() from it must say why, not quietly do nothing.
_MADE_UNDER_NO_GRAD = "no_grad"


def _unary_method(name: str) -> Callable[[Value], Value]:
    op = OPS[name]

    def method(self: Value) -> Value:
        return _apply(op, self)

    method.__name__, method.__doc__ = name, op.doc
    return method


def _binary_method(name: str, reflected: bool = False) -> Callable[[Value, Scalar], Value]:
    op = OPS[name]

    def method(self: Value, other: Scalar) -> Value:
        other_value = _as_value(other, op.symbol)
        return _apply(op, other_value, self) if reflected else _apply(op, self, other_value)

    method.__name__ = name
    return method


class Value:
    """A scalar in a computation graph, with its gradient.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)

    micrograd's constructor works as in the lecture: `Value(data, (a, b), '+')`
    makes a node whose gradients flow through the `_backward` you give it.
    """

    # NumPy would otherwise take `array * value` over and make an array of Values;
    # with this, it hands the op to Value, which refuses it with a TypeError.
    __array_ufunc__ = None

    __slots__ = (
        "__weakref__", "_data", "_grad_so_far", "_hand_backward", "_local_grads", "_number", "_op",
        "_prev", "_rule", "grad", "label",
    )  # fmt: skip

    _data: float
    grad: Any  # a float; a Value after backward(create_graph=True)
    label: str
    _prev: tuple[Value, ...]
    _local_grads: tuple[float, ...]
    _op: str
    _rule: Op | FusedOp | str | None
    _hand_backward: Callable[[], None] | None
    _number: int
    _grad_so_far: Any

    def __init__(
        self, data: float, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        if isinstance(data, Value):
            raise TypeError(
                f"Value: expected a number, got {data!r}; a Value is used as it is "
                f"(or Value(v.data) for a new leaf with the same number)"
            )
        self._data = real_number(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        if not isinstance(_op, str):
            raise TypeError(f"Value: _op must be a str, got {type(_op).__name__}")
        self._prev = tuple(_children)
        for child in self._prev:
            if not isinstance(child, Value):
                raise TypeError(f"Value: _children must be Values, got {child!r}")
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._rule = None
        self._local_grads = ()  # a hand-made node's gradients flow through its _backward
        self._hand_backward = None
        self._number = _next_number()
        self._grad_so_far = None

    @property
    def data(self) -> float:
        """The number this Value holds: always a float."""
        return self._data

    @data.setter
    def data(self, data: float) -> None:
        if isinstance(data, Value):
            raise TypeError(
                f"Value.data must be a number, got {data!r}: after "
                f"backward(create_graph=True) the grads are Values, so update with "
                f"p.data -= lr * p.grad.data"
            )
        self._data = real_number(data, "Value.data")
        # Renumbered: a graph made before this can tell that its numbers are stale.
        self._number = _next_number()

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in the op's order; () for a leaf."""
        return self._prev

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each parent, computed when the node was made."""
        return self._local_grads

    @property
    def op(self) -> str:
        """The op that made this node, as pictures show it ("+", "tanh", "dot"); "" for a leaf."""
        return self._op

    @property
    def primitive(self) -> Op | FusedOp | None:
        """The op table's entry for the op that made this node; None for a leaf or a
        node made by hand (micrograd's way)."""
        rule = self._rule
        return rule if isinstance(rule, (Op, FusedOp)) else None

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's own step of the chain rule on `.grad`, as in micrograd: each
        parent's grad += this node's grad * the edge. Assign a function to make a
        node's gradients flow your own way (the lecture's way of writing an op)."""
        if self._hand_backward is not None:
            return self._hand_backward
        return self._chain_rule_step

    @_backward.setter
    def _backward(self, step: Callable[[], None]) -> None:
        if not callable(step):
            raise TypeError(f"_backward must be a function of no arguments, got {step!r}")
        self._hand_backward = step

    def _chain_rule_step(self) -> None:
        for parent, local_grad in zip(self._prev, self._local_grads):
            parent.grad += self.grad * local_grad

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data}, grad={self.grad}{label})"

    def __float__(self) -> float:
        return self._data

    def __pos__(self) -> Value:
        return self

    def __pow__(self, exponent: Scalar) -> Value:
        if isinstance(exponent, Value):
            return _apply(OPS["pow_value"], self, exponent)
        return _apply(OPS["pow"], self, Value(real_number(exponent, "**")))

    def __rpow__(self, base: Scalar) -> Value:  # base ** self
        return _apply(OPS["pow_value"], _as_value(base, "**"), self)

    # The ops of the table, as methods: `x.tanh()`, `x * y`, `2 * x`, `-x`, `abs(x)`.
    __add__, __radd__ = _binary_method("add"), _binary_method("add", reflected=True)
    __sub__, __rsub__ = _binary_method("sub"), _binary_method("sub", reflected=True)
    __mul__, __rmul__ = _binary_method("mul"), _binary_method("mul", reflected=True)
    __truediv__, __rtruediv__ = _binary_method("div"), _binary_method("div", reflected=True)
    __neg__ = neg = _unary_method("neg")
    __abs__ = abs = _unary_method("abs")
    exp, log, sqrt = _unary_method("exp"), _unary_method("log"), _unary_method("sqrt")
    tanh, sigmoid, relu = _unary_method("tanh"), _unary_method("sigmoid"), _unary_method("relu")
    sin, cos = _unary_method("sin"), _unary_method("cos")

    def backward(self, create_graph: bool = False) -> None:
        """Fill in `.grad` of every node this Value depends on.

        Interior nodes get d(self)/d(node), replacing what they had; leaves (inputs
        and parameters) add it to theirs, as in PyTorch, so call `zero_grad()`
        between steps. A node reached along several paths gets the sum of its paths.
        With `create_graph=True` the gradients are Values with graphs of their own,
        so a second `backward()` on one gives second derivatives.
        """
        if self._rule is _MADE_UNDER_NO_GRAD:
            raise RuntimeError(
                "backward(): this Value was computed inside no_grad(), which records no "
                "graph; compute it outside no_grad() to get gradients"
            )
        for node, grad in gradients(self, create_graph).items():
            if node._prev or (type(node.grad) is float and node.grad == 0.0):
                node.grad = grad
            else:
                node.grad += grad


def _as_value(x: object, where: str) -> Value:
    return x if isinstance(x, Value) else Value(real_number(x, where))


_new_value = object.__new__


def _apply(op: Op, *inputs: Value) -> Value:
    """The Value that `op` makes from `inputs`, wired into the graph unless in no_grad()."""
    data = [x._data for x in inputs]
    out = op.float_forward(*data)
    if _grad_mode.enabled:
        return _node(out, inputs, op.float_derivatives(*data, out), op)
    return _node(out, (), (), _MADE_UNDER_NO_GRAD)


def _node(
    data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...], rule: Any
) -> Value:
    out: Value = _new_value(Value)  # skips __init__'s checks: the op checked its inputs
    out._data = data
    out.grad = 0.0
    out.label = ""
    out._prev = parents
    out._local_grads = local_grads
    out._rule = rule
    out._op = rule.symbol if parents else ""
    out._hand_backward = None
    out._number = _next_number()
    out._grad_so_far = None
    return out


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, each after all of its parents; `root` last.

    Nodes are numbered as they are made, after their parents, so the order is the
    reachable nodes sorted by number: no recursion, so a chain a million deep is fine.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    seen = {root}
    stack = [root]
    for node in stack:  # the list grows as we go: every node is visited once
        for parent in node._prev:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    stack.sort(key=_by_number)
    if stack[-1] is not root:
        stale = stack[-1]
        raise RuntimeError(
            f"the .data of {stale!r} was changed after this graph was computed, so its "
            f"gradients would mix old and new numbers; compute the graph again"
        )
    return stack


_by_number = operator.attrgetter("_number")


def gradients(root: Value, create_graph: bool = False) -> dict[Value, Any]:
    """d(root)/d(node) for every node `root` depends on. Writes no `.grad`.

    The one gradient walk: `backward()` writes what it returns, and the pictures
    show it. With `create_graph=True` the gradients are Values with graphs of their
    own, each edge recomputed as Values by the op table's derivative.

    >>> x = Value(3.0)
    >>> gradients(x * x)[x]
    6.0
    """
    if not isinstance(root, Value):
        raise TypeError(f"gradients: expected a Value, got {type(root).__name__}")
    if create_graph and not _grad_mode.enabled:
        with _grad_enabled():  # as in PyTorch, create_graph builds its graph even here
            return _walk(root, create_graph)
    return _walk(root, create_graph)


# While a walk runs, each node it has reached holds its gradient so far in the slot
# `_grad_so_far` (None otherwise): a slot is twice as fast to add into as a dict, on
# the walk's inner loop (measured). One walk at a time, so threads never share them.
_walk_lock = threading.RLock()


def _walk(root: Value, create_graph: bool) -> dict[Value, Any]:
    # Nodes are taken newest first. A node is made after its parents, so by the time
    # a node's turn comes, every node made from it has passed it its share.
    with _walk_lock:
        root._grad_so_far = Value(1.0) if create_graph else 1.0
        reached = [root]
        newest_first = [(-root._number, root)]  # heapq pops the smallest first
        try:
            while newest_first:
                _, node = heappop(newest_first)
                grad = node._grad_so_far
                if node._hand_backward is not None:
                    shares: Iterable[Any] = _lend_grads(node, grad)
                else:
                    edges = _value_local_grads(node) if create_graph else node._local_grads
                    shares = map(operator.mul, repeat(grad), edges)  # the chain rule
                for parent, share in zip(node._prev, shares):
                    if parent._grad_so_far is not None:
                        parent._grad_so_far += share
                        continue
                    if parent._number > node._number:
                        raise RuntimeError(
                            f"the .data of {parent!r} was changed after {node!r} was "
                            f"computed from it, so its gradients would mix old and new "
                            f"numbers; compute the graph again"
                        )
                    parent._grad_so_far = share
                    reached.append(parent)
                    if parent._prev:
                        heappush(newest_first, (-parent._number, parent))
            return {node: node._grad_so_far for node in reached}
        finally:
            for node in reached:
                node._grad_so_far = None


@contextmanager
def _grad_enabled() -> Iterator[None]:
    previous = _grad_mode.enabled
    _grad_mode.enabled = True
    try:
        yield
    finally:
        _grad_mode.enabled = previous


def _value_local_grads(node: Value) -> tuple[Any, ...]:
    """The node's edges recomputed as Values from the op table, for second derivatives."""
    rule = node._rule
    if not isinstance(rule, (Op, FusedOp)):
        return ()
    return rule.value_derivatives(node._prev, node)


def _lend_grads(node: Value, grad: Any) -> list[Any]:
    """Run a hand-written `_backward`, which speaks only through `.grad`: lend it the
    `.grad` of the node and its parents for the call and read back what it added."""
    saved = [(v, v.grad) for v in (node, *node._prev)]
    try:
        node.grad = grad
        for parent in node._prev:
            parent.grad = 0.0
        node._backward()
        return [parent.grad for parent in node._prev]
    finally:
        for v, g in saved:
            v.grad = g


# ---- fused nodes: one node however many inputs -----------------------------------


def _fused_node(
    data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...], op: FusedOp
) -> Value:
    if _grad_mode.enabled:
        return _node(data, parents, local_grads, op)
    return _node(data, (), (), _MADE_UNDER_NO_GRAD)


def sum(values: Iterable[Scalar]) -> Value:
    """The sum of `values` as ONE node, however many there are, added left to right.

    >>> sum([Value(1.0), 2.0, Value(3.0)]).data
    6.0
    """
    parents = _values(values, "sum")
    total = _add_left_to_right(p._data for p in parents)
    return _fused_node(total, parents, (1.0,) * len(parents), FUSED_OPS["sum"])


def dot(weights: Sequence[Scalar], inputs: Sequence[Scalar], bias: Scalar | None = None) -> Value:
    """bias + sum(w * x for w, x in zip(weights, inputs)) as ONE node.

    Its parents are the weights, then the inputs, then the bias. It adds as
    micrograd's neuron does (the bias first, left to right), so a neuron gives
    micrograd's numbers to the last bit.

    >>> dot([Value(2.0), Value(3.0)], [1.0, -1.0], bias=0.5).data
    -0.5
    """
    return dots([weights], inputs, None if bias is None else [bias])[0]


def dots(
    weight_rows: Sequence[Sequence[Scalar]],
    inputs: Sequence[Scalar],
    biases: Sequence[Scalar] | None = None,
) -> list[Value]:
    """`dot(row, inputs, bias)` for each row of weights and its bias: a whole layer,
    with the inputs checked and read once.

    >>> [out.data for out in dots([[1.0, 0.0], [0.0, 2.0]], [3.0, 4.0], [0.5, 0.5])]
    [3.5, 8.5]
    """
    xs = _values(inputs, "dot")
    x_data = tuple(x._data for x in xs)
    if biases is not None and len(biases) != len(weight_rows):
        raise ValueError(f"dot: {len(weight_rows)} rows of weights but {len(biases)} biases")
    op = FUSED_OPS["dot"]
    outs = []
    for i, weights in enumerate(weight_rows):
        ws = _values(weights, "dot")
        if len(ws) != len(xs):
            raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
        w_data = tuple(w._data for w in ws)
        products = map(operator.mul, w_data, x_data)
        if biases is None:
            total = _add_left_to_right(products)
            outs.append(_fused_node(total, ws + xs, x_data + w_data, op))
        else:
            b = _as_value(biases[i], "dot")
            total = _add_left_to_right(itertools.chain((b._data,), products))
            outs.append(_fused_node(total, (*ws, *xs, b), (*x_data, *w_data, 1.0), op))
    return outs


def _add_left_to_right(numbers: Iterable[float]) -> float:
    # Python 3.12 made builtins.sum of floats compensated (more exact, but no longer
    # micrograd's left-to-right rounding); accumulate-as-you-go is the same on every
    # Python. functools.reduce would be as exact, and slower.
    total = 0.0
    for x in numbers:
        total += x
    return total


def _values(items: Iterable[Scalar], where: str) -> tuple[Value, ...]:
    values = tuple(items)
    for item in values:  # layers pass Values throughout: check for that first, cheaply
        if type(item) is not Value:
            return tuple(_as_value(v, where) for v in values)
    return values  # type: ignore[return-value]

