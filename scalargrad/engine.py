"""The autograd engine: `Value`, the one gradient walk, and `no_grad`.

A Value holds one float. Every op on Values makes a new Value that records its
parents and the local derivative d(out)/d(parent) of each edge, so the chain rule is
one loop: multiply a node's gradient by the edge, add it to the parent. The ops, each
forward with its derivative beside it, are the table in `scalargrad.ops`; `Value`'s
methods are made from it.
"""

from __future__ import annotations

import builtins
import operator
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import reduce
from itertools import count, repeat
from typing import Any, NamedTuple, Union

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


class _HandMade(NamedTuple):
    """What made a node written the lecture's way: `Value(data, (a, b), '+')`, with the
    `_backward` assigned to it (None until then: no gradient flows)."""

    op: str
    backward: Callable[[], None] | None


class _NoGrad(NamedTuple):
    """What made a Value that an op computed inside no_grad(): it has no parents, but
    backward() from it must say why rather than quietly do nothing."""


_MADE_UNDER_NO_GRAD = _NoGrad()
# Every Value is numbered as it is made, after its parents: sorting by number is a
# topological order (see `topological_order`).
_next_number = count().__next__
# One walk at a time per thread: a walk started from inside a hand-written _backward
# (mid-walk) is refused rather than left to corrupt the outer one.
_walking = threading.local()


def _unary_method(name: str) -> Callable[[Value], Value]:
    op = OPS[name]
    evaluate = op.evaluate

    def method(self: Value) -> Value:
        out, local_grads = evaluate(self._data)
        if _grad_mode.enabled:
            return _node(out, (self,), local_grads, op)
        return _node(out, (), (), _MADE_UNDER_NO_GRAD)

    method.__name__, method.__qualname__, method.__doc__ = name, f"Value.{name}", op.doc
    return method


def _binary_method(name: str, reflected: bool = False) -> Callable[[Value, Scalar], Value]:
    op = OPS[name]

    def method(self: Value, other: Scalar) -> Value:
        other_value = other if isinstance(other, Value) else _leaf(real_number(other, op.symbol))
        return _apply(op, other_value, self) if reflected else _apply(op, self, other_value)

    method.__name__, method.__qualname__ = name, f"Value.{name}"
    method.__doc__ = f"other {op.symbol} self" if reflected else f"self {op.symbol} other"
    return method


class Value:
    """A scalar in a computation graph, with its gradient.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)

    micrograd's constructor works as in the lecture: `Value(data, (a, b), '+')` makes a
    node whose gradients flow through the `_backward` you assign to it.
    """

    # NumPy would otherwise take `array * value` over and make an array of Values;
    # with this, it hands the op to Value, which refuses it with a TypeError.
    __array_ufunc__ = None

    __slots__ = (
        "__weakref__", "_data", "_data_set_at", "_grad", "_grad_so_far", "_local_grads",
        "_made_by", "_number", "_prev", "_reached_by", "label",
    )  # fmt: skip

    _data: float
    _grad: Any  # a float (None counts as 0); a Value after backward(create_graph=True)
    label: str
    _prev: tuple[Value, ...]
    _local_grads: tuple[float, ...]
    _made_by: Op | FusedOp | _HandMade | _NoGrad | None  # None for a leaf
    _number: int
    _data_set_at: int  # the number `.data` was last set at, 0 if never
    _grad_so_far: Any  # used by the gradient walk only

    def __init__(
        self, data: float, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        if isinstance(data, Value):
            raise TypeError(
                f"Value: expected a number, got {data!r}; use that Value itself, "
                f"or Value(v.data) for a new leaf holding the same number"
            )
        self._data = data if type(data) is float else real_number(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        if isinstance(_children, Value):
            raise TypeError("Value: _children must be a tuple of Values, e.g. (a, b)")
        self._prev = () if _children == () else tuple(_children)
        if self._prev or _op:
            if not isinstance(_op, str) or not all(isinstance(c, Value) for c in self._prev):
                raise TypeError("Value: _children must be a tuple of Values and _op a str")
            self._made_by: Op | FusedOp | _HandMade | _NoGrad | None = _HandMade(_op, None)
        else:
            self._made_by = None
        self._grad = 0.0
        self.label = label
        self._local_grads = ()
        self._number = _next_number()
        self._data_set_at = 0
        self._reached_by = 0
        self._grad_so_far = 0.0  # _node makes Values without __init__: keep both alike

    @property
    def data(self) -> float:
        """The number this Value holds: always a float."""
        return self._data

    @data.setter
    def data(self, data: float) -> None:
        if isinstance(data, Value):
            raise TypeError(
                f"Value.data must be a number, got {data!r}: after backward(create_graph"
                f"=True) grads are Values, so write p.data -= lr * p.grad.data"
            )
        self._data = real_number(data, "Value.data")
        self._data_set_at = _next_number()  # a graph computed from the old number can tell

    @property
    def grad(self) -> Any:
        """d(root)/d(this node) after `root.backward()`: a float (a Value after
        backward(create_graph=True)); leaves add to it, so clear it between steps."""
        return self._grad

    @grad.setter
    def grad(self, grad: Any) -> None:
        if type(grad) is float or grad is None or isinstance(grad, Value):
            self._grad = grad
        else:  # micrograd's zero_grad writes the int 0
            self._grad = real_number(grad, "Value.grad")

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
        made_by = self._made_by
        if isinstance(made_by, _HandMade):
            return made_by.op
        return made_by.symbol if isinstance(made_by, (Op, FusedOp)) else ""

    _op = op  # micrograd's name

    @property
    def primitive(self) -> Op | FusedOp | None:
        """The op table's entry for the op that made this node; None for a leaf or a node
        made by hand."""
        rule = self._made_by
        return rule if isinstance(rule, (Op, FusedOp)) else None

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's own step of the chain rule on `.grad`, as in micrograd: each
        parent's grad += this node's grad * the edge. Assign a function of no arguments
        to make gradients flow your own way (the lecture's way of writing an op)."""
        rule = self._made_by
        if isinstance(rule, _HandMade):
            return rule.backward or (lambda: None)
        return self._chain_made_by_step

    @_backward.setter
    def _backward(self, step: Callable[[], None]) -> None:
        if not callable(step):
            raise TypeError(f"_backward must be a function of no arguments, got {step!r}")
        self._made_by = _HandMade(self.op, step)

    def _chain_made_by_step(self) -> None:
        for parent, local_grad in zip(self._prev, self._local_grads):
            parent.grad += self.grad * local_grad

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data}, grad={self.grad}{label})"

    def __float__(self) -> float:
        return self._data

    def __pos__(self) -> Value:
        return self

    # The op table's ops as methods: `x.tanh()`, `x * y`, `2 * x` (reflected), `-x`, `abs(x)`.
    exp, log, sqrt = _unary_method("exp"), _unary_method("log"), _unary_method("sqrt")
    tanh, sigmoid, relu = _unary_method("tanh"), _unary_method("sigmoid"), _unary_method("relu")
    sin, cos = _unary_method("sin"), _unary_method("cos")
    __neg__ = neg = _unary_method("neg")
    __abs__ = abs = _unary_method("abs")
    __add__, __radd__ = _binary_method("add"), _binary_method("add", reflected=True)
    __sub__, __rsub__ = _binary_method("sub"), _binary_method("sub", reflected=True)
    __mul__, __rmul__ = _binary_method("mul"), _binary_method("mul", reflected=True)
    __truediv__, __rtruediv__ = _binary_method("div"), _binary_method("div", reflected=True)

    def __pow__(self, exponent: Scalar) -> Value:
        if isinstance(exponent, Value):
            return _apply(OPS["pow_value"], self, exponent)
        return _apply(OPS["pow"], self, _leaf(real_number(exponent, "**")))

    def __rpow__(self, base: Scalar) -> Value:  # base ** self
        return _apply(OPS["pow_value"], _as_value(base, "**"), self)

    def backward(self, create_graph: bool = False) -> None:
        """Fill in `.grad` of every node this Value depends on.

        Interior nodes get d(self)/d(node), replacing what they had; leaves (inputs and
        parameters) add it to theirs, as in PyTorch, so clear them between steps
        (`Module.zero_grad()`, or `.grad = 0.0`; None counts as 0). A node reached
        along several paths gets the sum of its paths. With
        `create_graph=True` the gradients are Values with graphs of their own, so a
        second `backward()` on one of them gives second derivatives.
        """
        if self._made_by is _MADE_UNDER_NO_GRAD:
            raise RuntimeError(
                "backward(): this Value was computed inside no_grad(), which records no "
                "graph; compute it outside no_grad() to get gradients"
            )
        with _walk_lock:  # a hand-written _backward in another thread lends .grad
            for node, grad in zip(*_walk(self, create_graph)):
                before = node._grad
                if node._prev or before is None or (type(before) is float and before == 0.0):
                    node._grad = grad  # interior nodes take their gradient
                else:
                    node._grad = before + grad  # leaves add it to theirs


_UNBOUND = [name for name, op in OPS.items() if op.arity == 1 and name not in vars(Value)]
if _UNBOUND:  # a new one-input op of the table needs its line in Value's class body
    raise ImportError(
        f"the op table has {', '.join(_UNBOUND)}, which Value does not bind: add "
        f"`{_UNBOUND[0]} = _unary_method({_UNBOUND[0]!r})` to the class body of Value"
    )


def _as_value(x: object, where: str) -> Value:
    return x if isinstance(x, Value) else _leaf(real_number(x, where))


def _leaf(number: float) -> Value:
    """A leaf holding a plain number of an op (`x * 0.5`), made without __init__'s checks."""
    return _node(number, (), (), None)


_new_value = object.__new__


def _apply(op: Op, x: Value, y: Value) -> Value:
    """The Value that a two-input `op` makes from x and y, in the graph unless in no_grad()."""
    x_data, y_data = x._data, y._data
    out, local_grads = op.evaluate(x_data, y_data)
    if _grad_mode.enabled:
        return _node(out, (x, y), local_grads, op)
    return _node(out, (), (), _MADE_UNDER_NO_GRAD)


def _node(
    data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...], rule: Any
) -> Value:
    out: Value = _new_value(Value)  # skips __init__'s checks: the op checked its inputs
    out._data = data
    out._grad = 0.0
    out.label = ""
    out._prev = parents
    out._local_grads = local_grads
    out._made_by = rule
    out._number = _next_number()
    out._data_set_at = 0
    out._grad_so_far = 0.0
    out._reached_by = 0
    return out


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, each after all of its parents; `root` last.

    Nodes are numbered as they are made, after their parents, so this is the nodes
    `root` reaches sorted by number: no recursion, a chain a million deep is fine.
    """
    return _newest_first(root)[::-1]


def _newest_first(root: Value) -> list[Value]:
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    # Each node reached is marked with this gather's number, rather than kept in a set:
    # on the wide graph of benchmarks/engine.py (263,000 nodes) the set's lookups miss
    # the cache, and backward took twice as long. The marks are shared by all threads.
    with _walk_lock:
        mark = root._reached_by = _next_number()
        newest_first = [root]
        for node in newest_first:  # the list grows as we go: every node is visited once
            for parent in node._prev:
                if parent._reached_by != mark:
                    parent._reached_by = mark
                    newest_first.append(parent)
    newest_first.sort(key=_by_number, reverse=True)
    _refuse_stale_data(newest_first)
    return newest_first


def _refuse_stale_data(newest_first: list[Value]) -> None:
    """Raise if a node's `.data` was set after a node reached was computed from it."""
    last_set = max(map(_data_set_at_of, newest_first))
    oldest_op = next((node._number for node in reversed(newest_first) if node._prev), 0)
    if last_set < oldest_op:  # every number set before any of these ops ran: nothing stale
        return
    for node in newest_first:
        for parent in node._prev:
            if parent._data_set_at > node._number:
                raise RuntimeError(
                    f".data of {parent!r} was set after {node!r} was computed from it: "
                    f"gradients would mix old and new numbers, so compute it again"
                )


_by_number = operator.attrgetter("_number")
_INF = float("inf")
_data_set_at_of = operator.attrgetter("_data_set_at")
# While a walk runs, each node it reached holds its gradient so far in the slot
# `_grad_so_far` (0.0 at any other time): adding into a slot is about twice as fast as
# into a dict on the walk's inner loop, the hottest loop of a training step (measured).
# One walk at a time, so that threads backpropagating at once never share those slots.
_walk_lock = threading.RLock()


def gradients(root: Value, create_graph: bool = False) -> dict[Value, Any]:
    """d(root)/d(node) for every node `root` depends on, writing no `.grad`.

    The one gradient walk: `backward()` takes its results, and the pictures show
    them. With `create_graph=True` the gradients are Values with graphs of their own,
    each edge recomputed as Values by the op table's derivative.

    >>> x = Value(3.0)
    >>> gradients(x * x)[x]
    6.0
    """
    return dict(zip(*_walk(root, create_graph)))


def _walk(root: Value, create_graph: bool) -> tuple[list[Value], list[Any]]:
    """Every node `root` depends on, newest first, and d(root)/d(node) for each.

    Two lists, not a list of pairs: a pair per node would give the cyclic garbage
    collector millions of objects to scan on a deep graph (backward was 18x slower).
    """
    if type(create_graph) is not bool:
        raise TypeError(
            f"create_graph must be True or False, got {create_graph!r}; backward() and "
            f"gradients() take no gradient to start from: they start from 1.0"
        )
    if getattr(_walking, "now", False):
        raise RuntimeError(
            "backward() or gradients() was called from inside a hand-written _backward, "
            "in the middle of another walk; call it after that walk is done"
        )
    newest_first = _newest_first(root)
    grads: list[Any] = []
    with _walk_lock, _grad_enabled(create_graph or _grad_mode.enabled), _in_walk():
        # create_graph builds its graph even inside no_grad(), as PyTorch does.
        root._grad_so_far = Value(1.0) if create_graph else 1.0
        try:
            # A node is made after its parents, so when its turn comes every node made
            # from it has passed it its share: its gradient is complete.
            for node in newest_first:
                grad = node._grad_so_far
                node._grad_so_far = 0.0  # as every node holds it outside a walk
                grads.append(grad)
                if create_graph or type(node._made_by) is _HandMade:
                    _pass_on_shares(node, grad, create_graph)
                    continue
                local_grads = node._local_grads
                # A zero gradient times finite edges adds nothing (an infinite or NaN
                # edge would add NaN, so those are not skipped). In the lecture loop
                # most edges are behind a zero: a sample past the hinge's margin, a
                # relu that is off.
                if grad == 0.0 and -_INF < builtins.sum(local_grads) < _INF:
                    continue
                for parent, edge in zip(node._prev, local_grads):
                    parent._grad_so_far += grad * edge  # the chain rule
        except BaseException:
            for node in newest_first:
                node._grad_so_far = 0.0
            raise
    return newest_first, grads


def _pass_on_shares(node: Value, grad: Any, create_graph: bool) -> None:
    """The chain rule for a node made by hand, or with gradients as Values."""
    rule = node._made_by
    if isinstance(rule, _HandMade) and create_graph and rule.backward is not None:
        raise RuntimeError(
            f"backward(create_graph=True) reached {node!r}, made by hand with a _backward "
            f"that computes on floats, so its second derivatives are unknown; write the "
            f"op from Value ops, or add it to the op table (scalargrad.ops)"
        )
    if isinstance(rule, _HandMade):
        shares = _lend_grads(node, grad)
    elif isinstance(rule, (Op, FusedOp)):
        shares = [grad * edge for edge in rule.value_derivatives(node._prev, node)]
    else:
        return
    for parent, share in zip(node._prev, shares):
        before = parent._grad_so_far
        # Starting from a zero float keeps "0 + ..." nodes out of gradient graphs.
        parent._grad_so_far = share if type(before) is float and before == 0.0 else before + share


def _lend_grads(node: Value, grad: Any) -> list[Any]:
    """A hand-written `_backward` speaks only through `.grad`: lend it the `.grad` of the
    node and its parents for the call, and read back what it added."""
    saved = [(v, v.grad) for v in (node, *node._prev)]
    try:
        node.grad = grad
        for parent in node._prev:
            parent.grad = 0.0
        node._backward()
        # A parent given twice (mul(a, a)) was added to once per use already.
        return [0.0 if p in node._prev[:i] else p.grad for i, p in enumerate(node._prev)]
    finally:
        for v, g in saved:
            v.grad = g


@contextmanager
def _in_walk() -> Iterator[None]:
    _walking.now = True
    try:
        yield
    finally:
        _walking.now = False


@contextmanager
def _grad_enabled(enabled: bool) -> Iterator[None]:
    previous = _grad_mode.enabled
    _grad_mode.enabled = enabled
    try:
        yield
    finally:
        _grad_mode.enabled = previous


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
    total = _add_left_to_right(map(_data_of, parents), 0.0)
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
    x_data = tuple(map(_data_of, xs))
    if biases is not None and len(biases) != len(weight_rows):
        raise ValueError(f"dot: {len(weight_rows)} rows of weights but {len(biases)} biases")
    # Made here rather than through _fused_node: grad mode is read once per layer.
    op = FUSED_OPS["dot"] if _grad_mode.enabled else _MADE_UNDER_NO_GRAD
    outs = []
    for i, weights in enumerate(weight_rows):
        ws = _values(weights, "dot")
        if len(ws) != len(xs):
            raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
        w_data = tuple(map(_data_of, ws))
        products = map(operator.mul, w_data, x_data)
        if op is _MADE_UNDER_NO_GRAD:
            bias = 0.0 if biases is None else _as_value(biases[i], "dot")._data
            outs.append(_node(_add_left_to_right(products, bias), (), (), op))
        elif biases is None:
            total = _add_left_to_right(products, 0.0)
            outs.append(_node(total, ws + xs, x_data + w_data, op))
        else:
            b = _as_value(biases[i], "dot")
            total = _add_left_to_right(products, b._data)
            outs.append(_node(total, (*ws, *xs, b), (*x_data, *w_data, 1.0), op))
    return outs


def _reduce_add(numbers: Iterable[float], start: float) -> float:
    return reduce(operator.add, numbers, start)


# Sums add left to right, as micrograd's Values do. Python 3.12 made builtins.sum of
# floats compensated, which rounds differently; reduce does not, but is slower.
_add_left_to_right = builtins.sum if sys.version_info < (3, 12) else _reduce_add
_data_of = operator.attrgetter("_data")


def _values(items: Iterable[Scalar], where: str) -> tuple[Value, ...]:
    values = tuple(items)
    if all(map(isinstance, values, repeat(Value))):  # as layers pass them: checked in C
        return values  # type: ignore[return-value]
    return tuple(_as_value(v, where) for v in values)
