"""The engine: each op's value and derivative, backward's semantics, errors, memory."""

from __future__ import annotations

import gc
import math
import re
import sys
import weakref
from collections.abc import Callable

import pytest

import scalargrad
from scalargrad import Value, gradcheck, gradgradcheck, no_grad
from scalargrad.engine import topological_order


def derivative(op: Callable[[Value], Value], x: float) -> tuple[float, float]:
    """The value of op at x and d(op)/dx from backward()."""
    leaf = Value(x)
    out = op(leaf)
    out.backward()
    return out.data, leaf.grad


# ---- each op: value and derivative at chosen points ---------------------------------

UNARY_CASES = [
    # (name, op, x, value, derivative), the derivatives worked out by hand
    ("neg", lambda v: -v, 1.5, -1.5, -1.0),
    ("abs of a negative", lambda v: abs(v), -2.0, 2.0, -1.0),
    ("abs of a positive", lambda v: v.abs(), 3.0, 3.0, 1.0),
    ("exp", lambda v: v.exp(), 1.0, math.e, math.e),
    ("log", lambda v: v.log(), 2.0, math.log(2.0), 0.5),
    ("sqrt", lambda v: v.sqrt(), 4.0, 2.0, 0.25),
    ("tanh at 0", lambda v: v.tanh(), 0.0, 0.0, 1.0),
    ("sigmoid at 0", lambda v: v.sigmoid(), 0.0, 0.5, 0.25),
    ("relu of a positive", lambda v: v.relu(), 2.0, 2.0, 1.0),
    ("relu of a negative", lambda v: v.relu(), -2.0, 0.0, 0.0),
    ("sin at 0", lambda v: v.sin(), 0.0, 0.0, 1.0),
    ("cos at pi/2", lambda v: v.cos(), math.pi / 2, math.cos(math.pi / 2), -1.0),
    ("square", lambda v: v**2, 3.0, 9.0, 6.0),
    ("power -1", lambda v: v**-1, 2.0, 0.5, -0.25),
    ("power 0.5", lambda v: v**0.5, 4.0, 2.0, 0.25),
    ("power 0 at 0", lambda v: v**0, 0.0, 1.0, 0.0),
    ("number plus x", lambda v: 2 + v, 1.0, 3.0, 1.0),
    ("number minus x", lambda v: 2 - v, 1.0, 1.0, -1.0),
    ("number times x", lambda v: 3 * v, 2.0, 6.0, 3.0),
    ("number over x", lambda v: 1 / v, 2.0, 0.5, -0.25),
    ("x over a number", lambda v: v / 4, 2.0, 0.5, 0.25),
    ("number to the power x", lambda v: 2**v, 3.0, 8.0, 8.0 * math.log(2.0)),
]


@pytest.mark.parametrize(
    ("op", "x", "value", "slope"),
    [case[1:] for case in UNARY_CASES],
    ids=[case[0] for case in UNARY_CASES],
)
def test_each_op_gives_its_value_and_derivative(
    op: Callable[[Value], Value], x: float, value: float, slope: float
) -> None:
    """Every op gives the value and derivative worked out by hand."""
    got_value, got_slope = derivative(op, x)
    assert got_value == pytest.approx(value, rel=1e-15, abs=1e-15)
    assert got_slope == pytest.approx(slope, rel=1e-15, abs=1e-15)


def test_binary_ops_give_both_partial_derivatives() -> None:
    """a + b, a - b, a * b, a / b and a ** b differentiate in both operands."""
    cases = {
        "+": (lambda a, b: a + b, 1.0, 1.0),
        "-": (lambda a, b: a - b, 1.0, -1.0),
        "*": (lambda a, b: a * b, 3.0, 2.0),
        "/": (lambda a, b: a / b, 1 / 3.0, -2.0 / 9.0),
        "**": (lambda a, b: a**b, 3.0 * 2.0**2, 8.0 * math.log(2.0)),
    }
    for name, (op, d_a, d_b) in cases.items():
        a, b = Value(2.0), Value(3.0)
        out = op(a, b)
        out.backward()
        assert out.op == name
        assert (a.grad, b.grad) == pytest.approx((d_a, d_b), rel=1e-15), name


@pytest.mark.parametrize("x", [-1.3, -0.2, 0.4, 1.7])
def test_every_unary_op_passes_gradcheck_and_gradgradcheck(x: float) -> None:
    """First and second derivatives of each op agree with finite differences."""
    ops: list[Callable[[Value], Value]] = [
        lambda v: -v, lambda v: abs(v), lambda v: v.exp(), lambda v: (v * v).log(),
        lambda v: (v * v + 0.1).sqrt(), lambda v: v.tanh(), lambda v: v.sigmoid(),
        lambda v: v.relu(), lambda v: v.sin(), lambda v: v.cos(), lambda v: v**3,
        lambda v: (v * v) ** -1.5, lambda v: 1.7**v, lambda v: (v * v) ** v,
    ]  # fmt: skip
    for op in ops:
        assert gradcheck(op, [x])
        assert gradgradcheck(op, [x])


def test_the_derivative_at_the_kinks_of_relu_and_abs_is_zero() -> None:
    """relu and abs at exactly 0 have derivative 0, as in PyTorch."""
    assert derivative(lambda v: v.relu(), 0.0) == (0.0, 0.0)
    assert derivative(lambda v: abs(v), 0.0) == (0.0, 0.0)


def test_sigmoid_is_finite_and_exact_far_out() -> None:
    """sigmoid(+-1000) is 1 and 0, without overflow, with derivative 0."""
    assert derivative(lambda v: v.sigmoid(), 1000.0) == (1.0, 0.0)
    assert derivative(lambda v: v.sigmoid(), -1000.0) == (0.0, 0.0)


def test_sum_and_dot_are_one_node_however_long() -> None:
    """scalargrad.sum and scalargrad.dot make a single node with every input a parent."""
    xs = [Value(float(i)) for i in range(50)]
    ws = [Value(0.5) for _ in range(50)]
    bias = Value(1.0)
    total = scalargrad.sum(xs)
    weighted = scalargrad.dot(ws, xs, bias)
    assert total.data == sum(range(50)) and total.parents == tuple(xs)
    assert weighted.data == 0.5 * sum(range(50)) + 1.0
    assert weighted.parents == (*ws, *xs, bias)
    assert len(topological_order(weighted)) == 101 + 1
    weighted.backward()
    assert [w.grad for w in ws] == [x.data for x in xs]
    assert [x.grad for x in xs] == [0.5] * 50 and bias.grad == 1.0


def test_sum_and_dot_accept_numbers_and_check_lengths() -> None:
    """Numbers become leaves; dot with unequal lengths is a ValueError."""
    assert scalargrad.sum([1, 2.5, Value(1.0)]).data == 4.5
    empty = scalargrad.sum([])
    assert empty.data == 0.0 and type(empty.data) is float
    assert type(scalargrad.dot([], []).data) is float
    assert scalargrad.dot([1.0, 2.0], [3.0, 4.0]).data == 11.0
    with pytest.raises(ValueError, match="dot: 2 weights but 3 inputs"):
        scalargrad.dot([Value(1.0), Value(1.0)], [1.0, 2.0, 3.0])


# ---- micrograd compatibility ---------------------------------------------------------


def test_micrograds_readme_example_gives_micrograds_numbers() -> None:
    """The expression in micrograd's README gives the values it documents."""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_lecture_attributes_label_prev_and_op_are_there() -> None:
    """label, _prev (the parents, in order) and _op work; a plain number becomes a leaf."""
    a = Value(2.0, label="a")
    b = a * 3
    c = 1 - b
    d = a + b
    assert a.label == "a" and a._prev == () and a._op == ""
    assert b._prev[0] is a and b._prev[1].data == 3.0 and b._op == "*"
    assert c._prev[0].data == 1.0 and c._prev[1] is b and c._op == "-"
    assert d._prev == (a, b) and d._op == "+"
    square = a**2
    assert square._op == "**" and square._prev[1].data == 2.0


def test_repr_and_float_read_like_micrograd() -> None:
    """repr shows data and grad (and a label when there is one); float() gives data."""
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(-1.5, label="w")) == "Value(data=-1.5, grad=0.0, label='w')"
    assert float(Value(3.25)) == 3.25


def test_values_hash_by_identity() -> None:
    """Two Values with equal data are still two nodes."""
    a, b = Value(1.0), Value(1.0)
    assert a != b and len({a, b}) == 2


def test_parameter_update_as_in_lectures() -> None:
    """p.data -= lr * p.grad works on a leaf."""
    p = Value(1.0)
    (p * p).backward()
    p.data -= 0.1 * p.grad
    assert p.data == pytest.approx(0.8)


# ---- backward semantics --------------------------------------------------------------


def test_backward_twice_keeps_interior_grads_and_doubles_leaf_grads() -> None:
    """Interior nodes are reset before each backward; leaves accumulate."""
    x = Value(3.0)
    h = x * x
    y = h.tanh()
    y.backward()
    first_h, first_x = h.grad, x.grad
    y.backward()
    assert h.grad == first_h
    assert x.grad == 2 * first_x


def test_a_reused_node_gets_the_sum_of_its_paths() -> None:
    """x used three times receives the gradient of each use."""
    x = Value(2.0)
    y = x * x + x  # d/dx = 2x + 1
    y.backward()
    assert x.grad == 5.0
    z = Value(-1.0)
    w = z + z
    w.backward()
    assert z.grad == 2.0


def test_backward_on_a_leaf_gives_one() -> None:
    """d(x)/d(x) = 1."""
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0


def test_no_grad_records_no_graph_and_restores_itself() -> None:
    """Inside no_grad ops give leaves; after it, and after an error in it, graphs again."""
    x = Value(2.0)
    with no_grad():
        y = (x * 3).tanh() + x
        assert not scalargrad.is_grad_enabled()
    assert y.parents == () and y.op == ""
    assert y.data == pytest.approx(math.tanh(6.0) + 2.0)
    with pytest.raises(ZeroDivisionError), no_grad():
        x / 0
    assert scalargrad.is_grad_enabled()
    assert (x * 3).parents[0] is x


def test_create_graph_gives_second_derivatives() -> None:
    """The grad after backward(create_graph=True) is a Value whose backward gives f''."""
    x = Value(0.5)
    y = x**3 + x.sin()
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value)
    assert first.data == pytest.approx(3 * 0.25 + math.cos(0.5), rel=1e-15)
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(6 * 0.5 - math.sin(0.5), rel=1e-15)


def test_create_graph_without_clearing_accumulates_as_pytorch_does() -> None:
    """A second backward adds f'' to the leaf's f', like torch's .grad."""
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    x.grad.backward()
    assert x.grad.data == pytest.approx(3 * 4.0 + 6 * 2.0)


def test_create_graph_gives_mixed_partials() -> None:
    """d2(x*y*y)/dxdy = 2y, from the graph of d/dx."""
    x, y = Value(1.5), Value(-2.0)
    (x * y * y).backward(create_graph=True)
    dx = x.grad
    x.grad = y.grad = 0.0
    dx.backward()
    assert y.grad == pytest.approx(2 * -2.0)
    assert x.grad == 0.0


def test_create_graph_makes_every_gradient_a_value() -> None:
    """Even a gradient that is a constant (d(x+1)/dx) is a Value under create_graph."""
    x = Value(1.0)
    (x + 1).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 1.0


@pytest.mark.parametrize("depth", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_a_chain_far_deeper_than_the_recursion_limit_backpropagates(depth: int) -> None:
    """No recursion anywhere: a chain 10,000 (and 100,000) deep backpropagates with the
    recursion limit at 200."""
    x = Value(1.0)
    y = x
    for _ in range(depth):
        y = y * 1.0 + 0.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == 1.0


def test_a_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    """No reference cycles: the last reference gone, every node is gone, no gc needed."""
    gc.disable()
    try:
        x = Value(0.3)
        h = (x * 2).tanh()
        y = scalargrad.dot([h, x], [h, 1.5], x).exp() + h.relu()
        y.backward()
        interior = weakref.ref(h)
        root = weakref.ref(y)
        del h, y
        assert interior() is None and root() is None
    finally:
        gc.enable()


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1.0", None, 1j, True, [1.0]])
def test_what_is_not_a_real_number_is_a_type_error(bad: object) -> None:
    """str, None, complex, bool and lists are refused, naming the op and the value."""
    with pytest.raises(TypeError, match="Value: expected a real number"):
        Value(bad)  # type: ignore[arg-type]
    for op, name in [
        (lambda: Value(1.0) + bad, r"\+"),
        (lambda: bad * Value(1.0), r"\*"),
        (lambda: Value(1.0) ** bad, r"\*\*"),
        (lambda: scalargrad.sum([Value(1.0), bad]), "sum"),
    ]:
        with pytest.raises(
            TypeError, match=f"{name}: expected a real number.*got {re.escape(repr(bad))}"
        ):
            op()


def test_a_label_must_be_a_string() -> None:
    """Value(1.0, label=3) is a TypeError."""
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "error", "message"),
    [
        (lambda: Value(-1.0).log(), ValueError, r"log: .* got -1.0"),
        (lambda: Value(0.0).log(), ValueError, r"log: .* got 0.0"),
        (lambda: Value(-4.0).sqrt(), ValueError, r"sqrt: .* got -4.0"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, r"/: division of 1.0 by zero"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, r"/: division of 1.0 by zero"),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, r"\*\*: \(-8.0\) \*\* 0.333"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, r"\*\*: 0.0 cannot be raised"),
        (lambda: Value(0.0) ** 0.5, ZeroDivisionError, r"derivative of x \*\* 0.5 is infinite"),
        (lambda: Value(-2.0) ** Value(2.0), ValueError, r"base must be positive.*-2.0"),
        (lambda: (-2) ** Value(2.0), ValueError, r"base must be positive.*-2.0"),
        (lambda: Value(1000.0).exp(), OverflowError, r"exp: exp\(1000.0\)"),
        (lambda: Value(10.0) ** 400, OverflowError, r"\*\*: 10.0 \*\* 400.0 is too large"),
    ],
)
def test_domain_errors_name_the_op_and_the_value(
    expression: Callable[[], Value], error: type[Exception], message: str
) -> None:
    """Domain errors raise as Python's math does, at the op, with op and value named."""
    with pytest.raises(error, match=message):
        expression()


def test_a_failed_op_leaves_no_trace_in_the_graph() -> None:
    """An op that raised made no node: its input's graph is as before."""
    x = Value(-1.0)
    y = x * 2
    with pytest.raises(ValueError):
        y.log()
    y.backward()
    assert x.grad == 2.0


def test_dot_adds_in_micrograds_order_to_the_last_bit() -> None:
    """dot gives exactly b + w0*x0 + w1*x1 + ..., the sum micrograd's Neuron computes."""
    ws = [0.1, -0.7, 0.3333, 1e-17, 2.5]
    xs = [0.3, 0.11, -1.9, 1.0, 1e-3]
    by_hand = 0.2
    for w, x in zip(ws, xs):
        by_hand += w * x
    assert scalargrad.dot([Value(w) for w in ws], xs, 0.2).data == by_hand


def test_dots_makes_one_dot_node_per_row_of_weights() -> None:
    """Each row gives b + sum(w*x) as one node: parents w, x, b; edges x, w, 1."""
    xs = [Value(0.5), Value(-1.0), Value(2.0)]
    rows = [[Value(0.1), Value(0.2), Value(0.3)], [Value(-1.0), Value(0.0), Value(4.0)]]
    biases = [Value(0.25), Value(-0.5)]
    first, second = scalargrad.dots(rows, xs, biases)
    assert first.data == 0.25 + 0.1 * 0.5 + 0.2 * -1.0 + 0.3 * 2.0
    assert second.data == -0.5 + -1.0 * 0.5 + 0.0 * -1.0 + 4.0 * 2.0
    assert first.op == second.op == "dot"
    assert first.parents == (*rows[0], *xs, biases[0])
    assert first.local_grads == (0.5, -1.0, 2.0, 0.1, 0.2, 0.3, 1.0)
    assert second.local_grads == (0.5, -1.0, 2.0, -1.0, 0.0, 4.0, 1.0)
    assert [out.parents for out in scalargrad.dots(rows, xs)] == [(*row, *xs) for row in rows]


def test_dots_checks_the_lengths_of_rows_and_biases() -> None:
    """A row of the wrong width, or too few biases, is a ValueError saying which."""
    xs = [Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match="dot: 3 weights but 2 inputs"):
        scalargrad.dots([[1.0, 2.0], [1.0, 2.0, 3.0]], xs)
    with pytest.raises(ValueError, match="dot: 2 rows of weights but 1 biases"):
        scalargrad.dots([[1.0, 2.0], [3.0, 4.0]], xs, [0.0])


@pytest.mark.parametrize(
    "op",
    [
        lambda x, y: 1.5 - x * y,
        lambda x, y: x * y - 0.5,
        lambda x, y: 2.5 / (x * y),
        lambda x, y: (x * y) / 3.0,
        lambda x, y: 0.7 * (x * y) + 2.0,
        lambda x, y: 2.0 + (x * y).tanh() * 0.7,
        lambda x, y: (x * y) ** 2.5 + 1.3 ** (x * y),
        lambda x, y: scalargrad.sum([x * y, x.exp(), 2.0]),
        lambda x, y: scalargrad.dot([x, y, 0.5], [y * y, x, x], x * y).tanh(),
        lambda x, y: scalargrad.sum(scalargrad.dots([[x, y], [y, 1.0]], [x * x, y], [x, y])),
    ],
    ids=["number-x", "x-number", "number/x", "x/number", "number*x", "x+number", "powers", "sum",
         "dot", "dots"],
)  # fmt: skip
def test_second_derivatives_through_numbers_and_fused_nodes(op: Callable[..., Value]) -> None:
    """create_graph through folded numbers, sum, dot and dots gives the right Hessian."""
    assert gradgradcheck(op, [0.8, 1.3])


def test_a_failed_create_graph_backward_writes_no_gradient() -> None:
    """x**1.5 at 0: f' exists but f'' is infinite; backward(create_graph) raises, writes nothing."""
    x = Value(0.0)
    y = x * 2.0 + x**1.5
    y.backward()
    assert x.grad == 2.0
    with pytest.raises(ZeroDivisionError, match=r"derivative of x \*\* 0.5 is infinite at x = 0"):
        y.backward(create_graph=True)
    assert x.grad == 2.0 and y.grad == 1.0


@pytest.mark.parametrize(
    ("expression", "error", "message"),
    [
        (lambda: Value(10**400), OverflowError, r"Value: an int of 1329 bits is too large"),
        (lambda: Value(1.0) * 10**400, OverflowError, r"\*: an int of 1329 bits"),
        (lambda: Value(10.0) ** Value(400.0), OverflowError, r"\*\*: 10.0 \*\* 400.0 is too large"),
        (lambda: 2 ** Value(2000.0), OverflowError, r"\*\*: 2.0 \*\* 2000.0 is too large"),
        (lambda: Value(math.inf).sin(), ValueError, r"sin: sin\(inf\) is undefined"),
        (lambda: Value(-math.inf).cos(), ValueError, r"cos: cos\(-inf\) is undefined"),
    ],
)
def test_overflow_and_undefined_values_name_the_op(
    expression: Callable[[], Value], error: type[Exception], message: str
) -> None:
    """What does not fit a float, or has no value, is refused at the op that met it."""
    with pytest.raises(error, match=message):
        expression()


def test_a_huge_value_whose_unused_edge_would_overflow_is_fine() -> None:
    """0.5 ** x for x = -1023.5 is finite; its derivative in x is finite too."""
    x = Value(-1023.5)
    y = 0.5**x
    y.backward()
    assert y.data == pytest.approx(0.5**-1023.5)
    assert x.grad == pytest.approx(y.data * math.log(0.5))


def test_nan_goes_through_every_op_as_nan() -> None:
    """NaN in gives NaN out (relu and abs included), never a number made up."""
    for op in [lambda v: v.relu(), lambda v: abs(v), lambda v: v.tanh(), lambda v: v * 2]:
        value, _ = derivative(op, math.nan)
        assert math.isnan(value), op
    assert math.isnan(derivative(lambda v: abs(v), math.nan)[1])


def test_numpy_numbers_work_and_numpy_arrays_are_refused_on_either_side() -> None:
    """np.float64/np.int64/np.float32 are numbers; arrays and np.bool_ are TypeErrors."""
    np = pytest.importorskip("numpy")
    x = Value(2.0)
    for number in [np.float64(1.5), np.int64(3), np.float32(0.5)]:
        assert (x * number).data == 2.0 * float(number)
        assert (number * x).data == 2.0 * float(number)
        assert Value(number).data == float(number)
    for bad in [np.array([1.0, 2.0]), np.array(3.0), np.bool_(True)]:
        with pytest.raises(TypeError, match=r"\*: expected a real number"):
            bad * x
        with pytest.raises(TypeError, match=r"\*: expected a real number"):
            x * bad


def test_a_star_import_leaves_pythons_sum_alone() -> None:
    """from scalargrad import * brings Value and friends, not a sum that shadows Python's."""
    namespace: dict[str, object] = {}
    exec("from scalargrad import *", namespace)
    assert "Value" in namespace and "sum" not in namespace
