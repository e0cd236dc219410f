"""The autograd engine: `Value`, its operations, and backpropagation.

A Value holds one float. Every operation on Values makes a new Value that records
its parents and the local derivative d(out)/d(parent) of each edge, so `backward()`
is one loop: multiply the node's gradient by the edge, add it to the parent.

Each primitive is written once, as a function on floats with its derivative rule
beside it. The rule is plain arithmetic that works on floats and on Values alike:
on floats it gives the edge values stored when the node is made; on Values (for
`backward(create_graph=True)`) it gives gradients that have graphs of their own.

A plain number combined with a Value (`x * 0.5`, `1 - x`, `x ** 2`) is not a node of
its own: it is kept on the op's node as `constant`. Graphs stay half the size, and
Python's garbage collector, whose full passes cost time in proportion to the objects
alive, has fewer to scan.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Union

from scalargrad.validate import real_number as _real

Scalar = Union["Value", float, int]
# A derivative rule takes the op's inputs and its output (floats, or Values) and
# returns d(out)/d(input) for each input, in order.
Rule = Callable[..., tuple[Any, ...]]
UnaryOp = Callable[["Value"], "Value"]
BinaryOp = Callable[["Value", Scalar], "Value"]

_grad_enabled = True


@contextmanager
def no_grad() -> Iterator[None]:
    """Record no graph inside the block: ops give plain leaf Values.

    Use it for inference, optimizer updates and plotting. The switch is global, not
    per thread (PyTorch's is per thread):

    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.parents
    ()
    """
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()`."""
    return _grad_enabled


class Value:
    """A scalar in a computation graph, with its gradient.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)
    """

    # NumPy would otherwise take `array * value` over and make an array of Values;
    # with this, it hands the op to Value, which refuses it with a TypeError.
    __array_ufunc__ = None

    # A node made by a unary or binary op keeps its parents and their edges in slots
    # of its own, not in tuples: a tuple per node doubles the objects that Python's
    # garbage collector scans, and its full passes then cost more than everything
    # else in building a graph (2.7 vs 0.9 us per node, 200,000-op chain, measured).
    # Fused nodes (sum, dot) have many parents and keep them in tuples. Each slot
    # costs too (every full pass visits it), so what is the same for every node an op
    # makes lives once, in the op's record, `_made_by`.
    __slots__ = (
        "__weakref__",
        "_fused",
        "_local_grad0",
        "_local_grad1",
        "_made_by",
        "_parent0",
        "_parent1",
        "constant",
        "data",
        "grad",
        "label",
    )

    data: float
    # A float; a Value after `backward(create_graph=True)`.
    grad: Any
    label: str
    # The plain number of `x * 0.5` or `1 - x`; None if there is none.
    constant: float | None
    _made_by: _Op
    _parent0: Value | None
    _local_grad0: float
    _parent1: Value | None
    _local_grad1: float
    # (parents, local_grads) of a fused node; None for any other.
    _fused: tuple[tuple[Value, ...], tuple[float, ...]] | None

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _real(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.grad = 0.0
        self.label = label
        _make_leaf(self)

    @property
    def op(self) -> str:
        """The name of the op that made this node ("+", "tanh", "dot", ...); "" for a leaf."""
        return self._made_by.name

    @property
    def constant_first(self) -> bool:
        """Whether the node's plain number stands on the left of the op, as in `1 - x`."""
        return self._made_by.constant_first

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in the op's order; () for a leaf."""
        if self._parent0 is None:
            return () if self._fused is None else self._fused[0]
        if self._parent1 is None:
            return (self._parent0,)
        return (self._parent0, self._parent1)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each parent, fixed when the node was made."""
        if self._parent0 is None:
            return () if self._fused is None else self._fused[1]
        if self._parent1 is None:
            return (self._local_grad0,)
        return (self._local_grad0, self._local_grad1)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    def __float__(self) -> float:
        return self.data

    # micrograd's names for the graph structure, so lecture code (draw_dot) runs as is.
    @property
    def _prev(self) -> set[Value]:
        return set(self.parents)

    @property
    def _op(self) -> str:
        """The op with its constant, as micrograd shows it: "*0.5", "**2", "1-"."""
        if self.constant is None:
            return self.op
        constant = f"{self.constant:g}"
        return constant + self.op if self.constant_first else self.op + constant

    # ---- ops: each is defined below the class, as a function on floats with its
    # derivative rule beside it; the reflected forms (2 * x) come with it.
    __add__: ClassVar[BinaryOp]
    __radd__: ClassVar[BinaryOp]
    __sub__: ClassVar[BinaryOp]
    __rsub__: ClassVar[BinaryOp]
    __mul__: ClassVar[BinaryOp]
    __rmul__: ClassVar[BinaryOp]
    __truediv__: ClassVar[BinaryOp]
    __rtruediv__: ClassVar[BinaryOp]
    __rpow__: ClassVar[BinaryOp]
    neg: ClassVar[UnaryOp]
    abs: ClassVar[UnaryOp]
    exp: ClassVar[UnaryOp]
    log: ClassVar[UnaryOp]
    sqrt: ClassVar[UnaryOp]
    tanh: ClassVar[UnaryOp]
    sigmoid: ClassVar[UnaryOp]
    relu: ClassVar[UnaryOp]
    sin: ClassVar[UnaryOp]
    cos: ClassVar[UnaryOp]

    def __pow__(self, exponent: Scalar) -> Value:
        if isinstance(exponent, Value):
            return _pow_value(self, exponent)
        return _pow_number(self, exponent)

    def __neg__(self) -> Value:
        return self.neg()

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.abs()

    # ---- backpropagation ---------------------------------------------------------

    def backward(self, create_graph: bool = False) -> None:
        """Fill in `.grad` of every node this Value depends on.

        Interior nodes get d(self)/d(node), reset first, so calling backward twice
        leaves them as they were; leaves (the inputs and parameters) accumulate, so
        call `zero_grad()` on a model between steps. A node reached along several
        paths gets the sum over its paths.

        With `create_graph=True` the gradients are Values with graphs of their own,
        so a second backward on one of them gives second derivatives. Those graphs
        refer back to this one, so they are freed by Python's cycle collector, not
        at once.
        """
        order = topological_order(self)
        if create_graph:
            _write_gradient_graphs(order, _gradient_graphs(self, order))
            return
        for node in order:
            if node._parent0 is not None or node._fused is not None:
                node.grad = 0.0
        self.grad = 1.0 if self.parents else self.grad + 1.0
        with no_grad():  # a leaf left holding a Value gradient must not grow a graph
            for node in reversed(order):
                # The chain rule: each parent gets this node's grad times the edge.
                grad = node.grad
                parent = node._parent0
                if parent is not None:
                    parent.grad += grad * node._local_grad0
                    parent = node._parent1
                    if parent is not None:
                        parent.grad += grad * node._local_grad1
                elif node._fused is not None:
                    parents, local_grads = node._fused
                    for parent, local_grad in zip(parents, local_grads):
                        parent.grad += grad * local_grad


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, each after all of its parents; `root` last.

    Iterative depth-first search, so a chain a million nodes deep is fine. The stack
    is two flat lists rather than a list of (node, flag) pairs: on a deep graph those
    pairs would live long enough to wake the garbage collector again and again.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack = [root]
    # parents_placed[i] is True when stack[i]'s parents are all in `order` already.
    parents_placed = [False]
    while stack:
        node = stack.pop()
        if parents_placed.pop():
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append(node)
        parents_placed.append(True)
        # node.parents, read from the slots without building a tuple
        parent = node._parent0
        if parent is None:
            parents: Iterable[Value] = () if node._fused is None else node._fused[0]
        elif node._parent1 is None:
            parents = (parent,)
        else:
            parents = (parent, node._parent1)
        for parent in parents:
            if parent not in visited:
                stack.append(parent)
                parents_placed.append(False)
    return order


def _gradient_graphs(root: Value, order: list[Value]) -> dict[Value, Any]:
    """d(root)/d(node) for every node, as Values: each node's rule recomputes its edges
    as Values, so every gradient can itself be differentiated. Nothing is written to
    `.grad` here, so a rule that fails leaves every gradient as it was."""
    grads: dict[Value, Any] = {root: Value(1.0)}
    for node in reversed(order):
        rule = node._made_by.rule
        if rule is None:
            continue
        grad = grads[node]
        for parent, local_grad in zip(node.parents, _local_grads_as_values(node, rule)):
            grads[parent] = _accumulate(grads.get(parent, 0.0), grad * local_grad)
    return grads


def _write_gradient_graphs(order: list[Value], grads: dict[Value, Any]) -> None:
    """Interior nodes take their new gradient; leaves add it to theirs."""
    for node in order:
        if node.parents:
            node.grad = grads[node]
        else:
            node.grad = _accumulate(node.grad, grads[node])


def _local_grads_as_values(node: Value, rule: Rule) -> tuple[Any, ...]:
    """The node's edges, from its rule called on the parents and the node itself."""
    if node.constant is None:
        return rule(*node.parents, node)
    (x,) = node.parents
    if node.constant_first:
        return rule(node.constant, x, node)[1:]
    return rule(x, node.constant, node)[:1]


def _accumulate(total: Any, term: Any) -> Any:
    # Starting from a zero float keeps "0 + ..." nodes out of gradient graphs.
    if type(total) is float and total == 0.0:
        return term
    return total + term


def _as_value(x: object, where: str) -> Value:
    if isinstance(x, Value):
        return x
    return Value(_real(x, where))


class _Op:
    """What made a node: the op's name, its derivative rule, and for an op with a plain
    number (`1 - x`, `x * 0.5`), whether the number stands on the left. One record per
    op and side, shared by every node it makes."""

    __slots__ = ("constant_first", "name", "rule")

    def __init__(self, name: str, rule: Rule | None, constant_first: bool = False) -> None:
        self.name = name
        self.rule = rule
        self.constant_first = constant_first


_LEAF = _Op("", None)


def _make_leaf(node: Value) -> None:
    node.constant = None
    node._made_by = _LEAF
    node._parent0 = node._parent1 = None
    node._local_grad0 = node._local_grad1 = 0.0
    node._fused = None


_new_value = object.__new__


def _node(
    data: float,
    parent0: Value,
    local_grad0: float,
    parent1: Value | None,
    local_grad1: float,
    made_by: _Op,
    constant: float | None = None,
) -> Value:
    """The output of a unary or binary op, wired into the graph unless in no_grad()."""
    out: Value = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if not _grad_enabled:
        _make_leaf(out)
        return out
    out.constant = constant
    out._made_by = made_by
    out._parent0 = parent0
    out._local_grad0 = local_grad0
    out._parent1 = parent1
    out._local_grad1 = local_grad1
    out._fused = None
    return out


def _fused_node(
    data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...], made_by: _Op
) -> Value:
    """The output of sum or dot: one node with many parents."""
    out: Value = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    _make_leaf(out)
    if _grad_enabled:
        out._made_by = made_by
        out._fused = (parents, local_grads)
    return out


def _unary_op(name: str, derivative: Rule) -> Callable[[Callable[[float], float]], UnaryOp]:
    """Make a Value method from a float function and its derivative rule."""

    made_by = _Op(name, derivative)

    def make(forward: Callable[[float], float]) -> UnaryOp:
        def op(self: Value) -> Value:
            x = self.data
            out = forward(x)
            (local_grad,) = derivative(x, out)
            return _node(out, self, local_grad, None, 0.0, made_by)

        op.__name__ = name
        op.__doc__ = forward.__doc__
        return op

    return make


def _binary_op(
    name: str, derivative: Rule
) -> Callable[[Callable[[float, float], float]], tuple[BinaryOp, BinaryOp]]:
    """Make `x op y` and its reflected form `number op x` from a float function."""

    made_by = _Op(name, derivative)
    made_by_reflected = _Op(name, derivative, constant_first=True)

    def make(forward: Callable[[float, float], float]) -> tuple[BinaryOp, BinaryOp]:
        def op(self: Value, other: Scalar) -> Value:
            a = self.data
            if isinstance(other, Value):
                b = other.data
                out = forward(a, b)
                d_a, d_b = derivative(a, b, out)
                return _node(out, self, d_a, other, d_b, made_by)
            b = _real(other, name)
            out = forward(a, b)
            d_a, _ = derivative(a, b, out)
            return _node(out, self, d_a, None, 0.0, made_by, b)

        def reflected(self: Value, other: Scalar) -> Value:  # other op self
            a = _real(other, name)
            b = self.data
            out = forward(a, b)
            _, d_b = derivative(a, b, out)
            return _node(out, self, d_b, None, 0.0, made_by_reflected, a)

        op.__name__ = reflected.__name__ = name
        return op, reflected

    return make


# The rules call these on floats or on Values, so they dispatch on the type.
def _cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Value) else math.cos(x)


def _sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Value) else math.sin(x)


def _log(x: Any) -> Any:
    return x.log() if isinstance(x, Value) else math.log(x)


def _sign(x: Any) -> float:
    x = float(x)
    if x > 0.0:
        return 1.0
    return -1.0 if x < 0.0 else x * 0.0  # 0.0 at 0; NaN stays NaN


# ---- primitives: forward on floats, derivative d(out)/d(inputs) beside it -----------


@_binary_op("+", derivative=lambda a, b, out: (1.0, 1.0))
def _add(a: float, b: float) -> float:
    return a + b


@_binary_op("-", derivative=lambda a, b, out: (1.0, -1.0))
def _sub(a: float, b: float) -> float:
    return a - b


@_binary_op("*", derivative=lambda a, b, out: (b, a))
def _mul(a: float, b: float) -> float:
    return a * b


@_binary_op("/", derivative=lambda a, b, out: (1.0 / b, -out / b))
def _div(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"/: division of {a!r} by zero")
    return a / b


# d(a**b)/da = b * a**(b - 1), written b * out / a (a > 0) so that an edge never
# overflows where the value itself does not; d(a**b)/db = a**b * log(a).
@_binary_op("**", derivative=lambda a, b, out: (b * out / a, out * _log(a)))
def _pow(a: float, b: float) -> float:
    if a <= 0.0:
        raise ValueError(
            f"**: the base must be positive when the exponent is a Value "
            f"(d/d(exponent) needs log(base)), got base {a!r}"
        )
    try:
        return math.pow(a, b)
    except OverflowError:
        raise OverflowError(f"**: {a!r} ** {b!r} is too large for a float") from None


_pow_value, _rpow = _pow


def _d_pow_number(x: Any, n: float, out: Any) -> tuple[Any]:
    # n * x**(n - 1); for n = 0 the derivative is 0 everywhere, x = 0 included.
    if n == 0.0:
        return (0.0,)
    if isinstance(x, Value) and x.data == 0.0 and 1.0 < n < 2.0:
        # n * x**(n - 1) is 0 here, but its own derivative is infinite.
        raise ZeroDivisionError(
            f"**: the second derivative of x ** {n!r} is infinite at x = 0, so "
            f"backward(create_graph=True) cannot make a graph of the first"
        )
    return (n * x ** (n - 1.0),)


_POW_NUMBER = _Op("**", _d_pow_number)


def _pow_number(x: Value, exponent: object) -> Value:
    """x ** n for a plain number n, as micrograd's `**2`."""
    n = _real(exponent, "**")
    a = x.data
    if a == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"**: 0.0 cannot be raised to the negative power {n!r}")
    if a == 0.0 and 0.0 < n < 1.0:
        raise ZeroDivisionError(f"**: the derivative of x ** {n!r} is infinite at x = 0")
    try:
        out = math.pow(a, n)
    except ValueError:
        raise ValueError(
            f"**: {a!r} ** {n!r} is not a real number (a negative base needs a whole exponent)"
        ) from None
    except OverflowError:
        raise OverflowError(f"**: {a!r} ** {n!r} is too large for a float") from None
    try:
        (local_grad,) = _d_pow_number(a, n, out)
    except OverflowError:
        raise OverflowError(
            f"**: the derivative of x ** {n!r} at x = {a!r} is too large for a float"
        ) from None
    return _node(out, x, local_grad, None, 0.0, _POW_NUMBER, n)


@_unary_op("neg", derivative=lambda x, out: (-1.0,))
def _neg(x: float) -> float:
    """-x"""
    return -x


# abs has a kink at 0; we take the derivative there to be 0, as PyTorch does.
@_unary_op("abs", derivative=lambda x, out: (_sign(x),))
def _abs(x: float) -> float:
    """|x|; its derivative at 0 is taken to be 0."""
    return abs(x)


@_unary_op("exp", derivative=lambda x, out: (out,))
def _exp(x: float) -> float:
    """e ** x"""
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) is too large for a float") from None


@_unary_op("log", derivative=lambda x, out: (1.0 / x,))
def _log_forward(x: float) -> float:
    """Natural logarithm, for x > 0."""
    if x <= 0.0:
        raise ValueError(f"log: defined for positive numbers only, got {x!r}")
    return math.log(x)


@_unary_op("sqrt", derivative=lambda x, out: (0.5 / out,))
def _sqrt(x: float) -> float:
    """Square root, for x > 0 (its derivative is infinite at 0)."""
    if x <= 0.0:
        raise ValueError(f"sqrt: defined here for positive numbers only, got {x!r}")
    return math.sqrt(x)


@_unary_op("tanh", derivative=lambda x, out: (1.0 - out * out,))
def _tanh(x: float) -> float:
    """Hyperbolic tangent."""
    return math.tanh(x)


@_unary_op("sigmoid", derivative=lambda x, out: (out * (1.0 - out),))
def _sigmoid(x: float) -> float:
    """1 / (1 + e**-x), computed without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


# relu has a kink at 0; we take the derivative there to be 0, as PyTorch does.
@_unary_op("relu", derivative=lambda x, out: (1.0 if float(x) > 0.0 else 0.0,))
def _relu(x: float) -> float:
    """max(0, x); its derivative at 0 is taken to be 0. NaN stays NaN."""
    return x if x > 0.0 or x != x else 0.0


@_unary_op("sin", derivative=lambda x, out: (_cos(x),))
def _sin_forward(x: float) -> float:
    """Sine."""
    if math.isinf(x):
        raise ValueError(f"sin: sin({x!r}) is undefined")
    return math.sin(x)


@_unary_op("cos", derivative=lambda x, out: (-_sin(x),))
def _cos_forward(x: float) -> float:
    """Cosine."""
    if math.isinf(x):
        raise ValueError(f"cos: cos({x!r}) is undefined")
    return math.cos(x)


Value.__add__, Value.__radd__ = _add
Value.__sub__, Value.__rsub__ = _sub
Value.__mul__, Value.__rmul__ = _mul
Value.__truediv__, Value.__rtruediv__ = _div
Value.__rpow__ = _rpow
Value.neg = _neg
Value.abs = _abs
Value.exp = _exp
Value.log = _log_forward
Value.sqrt = _sqrt
Value.tanh = _tanh
Value.sigmoid = _sigmoid
Value.relu = _relu
Value.sin = _sin_forward
Value.cos = _cos_forward


# ---- fused n-ary nodes: one node however many inputs -------------------------------


def _sum_rule(*inputs_and_out: Any) -> tuple[Any, ...]:
    return (1.0,) * (len(inputs_and_out) - 1)


_SUM = _Op("sum", _sum_rule)


def sum(values: Iterable[Scalar]) -> Value:
    """The sum of `values` as ONE node, however many there are.

    Added left to right, as Python's own sum of Values would. Numbers among them
    become leaf Values.

    >>> sum([Value(1.0), 2.0, Value(3.0)]).data
    6.0
    """
    parents = _values(values, "sum")
    total = _add_up((p.data for p in parents), 0.0)
    return _fused_node(total, parents, (1.0,) * len(parents), _SUM)


def _dot_rule(*inputs_and_out: Any) -> tuple[Any, ...]:
    inputs = inputs_and_out[:-1]
    n = len(inputs) // 2
    weights, xs = inputs[:n], inputs[n : 2 * n]
    bias_grad = (1.0,) if len(inputs) % 2 else ()
    return (*xs, *weights, *bias_grad)


_DOT = _Op("dot", _dot_rule)


def dot(weights: Sequence[Scalar], inputs: Sequence[Scalar], bias: Scalar | None = None) -> Value:
    """bias + sum(w * x for w, x in zip(weights, inputs)) as ONE node.

    A neuron is exactly this, so a layer's graph has one node per neuron, not 2n.
    Its parents are the weights, then the inputs, then the bias; numbers among them
    become leaf Values. It adds in micrograd's order (the bias first), so a neuron
    gives micrograd's numbers to the last bit.

    >>> dot([Value(2.0), Value(3.0)], [1.0, -1.0], bias=0.5).data
    -0.5
    """
    return dots([weights], inputs, None if bias is None else [bias])[0]


def dots(
    weight_rows: Sequence[Sequence[Scalar]],
    inputs: Sequence[Scalar],
    biases: Sequence[Scalar] | None = None,
) -> list[Value]:
    """`dot(row, inputs, bias)` for each row of weights and its bias: a whole layer.

    The same nodes as calling dot once per row; the inputs are checked and read once.

    >>> [out.data for out in dots([[1.0, 0.0], [0.0, 2.0]], [3.0, 4.0], [0.5, 0.5])]
    [3.5, 8.5]
    """
    xs = _values(inputs, "dot")
    x_data = [x.data for x in xs]
    if biases is not None and len(biases) != len(weight_rows):
        raise ValueError(f"dot: {len(weight_rows)} rows of weights but {len(biases)} biases")
    outs = []
    for i, weights in enumerate(weight_rows):
        ws = _values(weights, "dot")
        if len(ws) != len(xs):
            raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
        w_data = [w.data for w in ws]
        if biases is None:
            total = _add_up(map(operator.mul, w_data, x_data), 0.0)
            out = _fused_node(total, ws + xs, (*x_data, *w_data), _DOT)
        else:
            b = _as_value(biases[i], "dot")
            total = _add_up(map(operator.mul, w_data, x_data), b.data)
            out = _fused_node(total, (*ws, *xs, b), (*x_data, *w_data, 1.0), _DOT)
        outs.append(out)
    return outs


# This module's `sum` is the fused node; fused nodes add up with Python's.
_add_up = builtins.sum


def _values(items: Iterable[Scalar], where: str) -> tuple[Value, ...]:
    values = tuple(items)
    # Layers pass Values throughout: check for that first, cheaply.
    for item in values:
        if type(item) is not Value:
            return tuple(_as_value(v, where) for v in values)
    return values  # type: ignore[return-value]
