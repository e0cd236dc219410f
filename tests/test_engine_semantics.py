"""The engine's promises where a learner's code is unusual: threads, stale data, the
edges of floating point, and mistakes that used to pass silently."""

from __future__ import annotations

import math
import random
import sys
import threading

import pytest

import scalargrad
from scalargrad import Value, no_grad
from scalargrad.nn import MLP


def test_no_grad_in_one_thread_leaves_training_in_another_alone() -> None:
    """A thread predicting under no_grad never switches off the graph of a training thread."""
    model = MLP(2, [4, 1], seed=0)
    stop = threading.Event()
    zero_steps = []

    def predict_forever() -> None:
        while not stop.is_set():
            with no_grad():
                model([0.3, -0.2])

    def train() -> None:
        for _ in range(200):
            model.zero_grad()
            loss = (model([0.5, -1.0]) - 1.0) ** 2
            loss.backward()
            if all(p.grad == 0.0 for p in model.parameters()):
                zero_steps.append(1)

    predictor = threading.Thread(target=predict_forever)
    predictor.start()
    try:
        trainer = threading.Thread(target=train)
        trainer.start()
        trainer.join()
    finally:
        stop.set()
        predictor.join()
    assert zero_steps == []


def test_threads_leaving_no_grad_out_of_order_restore_only_their_own_mode() -> None:
    """Two threads entering and leaving no_grad interleaved: each ends as it began."""
    entered = threading.Barrier(2)
    first_left = threading.Event()
    seen = {}

    def first() -> None:
        with no_grad():
            entered.wait()
        seen["first"] = scalargrad.is_grad_enabled()
        first_left.set()

    def second() -> None:
        with no_grad():
            entered.wait()
            first_left.wait()
            seen["second inside"] = scalargrad.is_grad_enabled()
        seen["second"] = scalargrad.is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"first": True, "second inside": False, "second": True}
    assert scalargrad.is_grad_enabled()


def test_backward_changes_no_state_another_thread_sees() -> None:
    """While one thread runs backward, ops in another thread still record graphs."""
    big = Value(0.5)
    for _ in range(20_000):
        big = (big * 0.999).tanh()
    recorded = []

    def build() -> None:
        for _ in range(2_000):
            recorded.append(bool((Value(1.0) * 2.0).parents))

    builder = threading.Thread(target=build)
    builder.start()
    big.backward()
    builder.join()
    assert all(recorded)


def test_a_value_exponent_keeps_d_by_d_base_where_the_power_underflows() -> None:
    """d(a**b)/da = b * a**(b-1), exact even where a**b itself underflows to 0."""
    a = Value(1e-200)
    (a ** Value(2.0)).backward()
    assert a.grad == pytest.approx(2e-200, rel=1e-15)
    a = Value(1e-300)
    (a ** Value(1.07)).backward()
    assert a.grad == pytest.approx(1.07 * 1e-300**0.07, rel=1e-12)


def test_create_graph_inside_no_grad_still_gives_second_derivatives() -> None:
    """As in PyTorch: create_graph builds its graph even inside no_grad()."""
    x = Value(0.5)
    y = x**3
    with no_grad():
        y.backward(create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(3.0)


def test_backward_on_a_loss_computed_under_no_grad_says_so() -> None:
    """Nothing to backpropagate through: an error that names no_grad, not silence."""
    x = Value(2.0)
    with no_grad():
        loss = x * x
    with pytest.raises(RuntimeError, match=r"inside no_grad\(\)"):
        loss.backward()


def left_to_right(bias: float, weights: list[float], inputs: list[float]) -> float:
    total = bias
    for w, x in zip(weights, inputs):
        total = total + w * x
    return total


def test_dot_and_sum_add_left_to_right_on_every_python() -> None:
    """Not Python 3.12's compensated sum: micrograd's rounding, bit for bit, 2,000 neurons."""
    rng = random.Random(0)
    for _ in range(2_000):
        n = rng.randint(2, 20)
        ws = [rng.uniform(-1, 1) for _ in range(n)]
        xs = [rng.uniform(-1, 1) * 10 ** rng.randint(-3, 3) for _ in range(n)]
        b = rng.uniform(-1, 1)
        assert scalargrad.dot(ws, xs, b).data == left_to_right(b, ws, xs)
        assert scalargrad.sum(xs).data == left_to_right(0.0, [1.0] * n, xs)


def test_a_neuron_gives_micrograds_numbers_on_this_python() -> None:
    """The same weights give micrograd's output to the last bit, on whatever Python runs this."""
    micrograd = pytest.importorskip("micrograd.nn")
    rng = random.Random(1)
    for _ in range(300):
        n = rng.randint(2, 16)
        theirs = micrograd.Neuron(n, nonlin=False)
        xs = [rng.uniform(-3, 3) for _ in range(n)]
        ours = scalargrad.dot([w.data for w in theirs.w], xs, theirs.b.data)
        assert ours.data == theirs(xs).data, sys.version


def test_data_refuses_a_value_and_says_how_to_update() -> None:
    """p.data -= lr * p.grad after create_graph would make data a Value: refused, with the fix."""
    p = Value(2.0)
    (p * p).backward(create_graph=True)
    with pytest.raises(TypeError, match=r"p\.grad\.data"):
        p.data -= 0.1 * p.grad
    assert type(p.data) is float and p.data == 2.0
    p.data -= 0.1 * p.grad.data
    assert p.data == pytest.approx(1.6)


@pytest.mark.parametrize("create_graph", [False, True])
def test_changing_data_between_forward_and_backward_raises_in_both_modes(
    create_graph: bool,
) -> None:
    """Gradients of a graph whose numbers changed would mix old and new: both modes refuse."""
    a = Value(2.0)
    y = a * a
    a.data = 3.0
    with pytest.raises(RuntimeError, match=r"\.data of .* was set after"):
        y.backward(create_graph=create_graph)
    assert a.grad == 0.0


def test_a_value_of_a_value_says_what_to_write_instead() -> None:
    """Value(Value(2)) names the mistake and both fixes."""
    with pytest.raises(TypeError, match=r"use that Value itself, or Value\(v\.data\)"):
        Value(Value(2.0))  # type: ignore[arg-type]


def test_results_too_large_for_a_float_raise_the_same_way_for_every_op() -> None:
    """1 / 5e-324 and 5e-324 ** -1 both overflow: both raise OverflowError naming the op."""
    with pytest.raises(OverflowError, match=r"/: 1\.0 / 5e-324 is too large for a float"):
        1 / Value(5e-324)
    with pytest.raises(OverflowError, match=r"\*\*: 5e-324 \*\* -1\.0 is too large for a float"):
        Value(5e-324) ** -1


@pytest.mark.parametrize("edge_maker", ["infinite", "nan"])
def test_a_zero_gradient_times_an_infinite_or_nan_edge_is_nan_as_in_pytorch(
    edge_maker: str,
) -> None:
    """Nodes whose gradient is 0 pass nothing on, unless an edge is inf or NaN: 0 * inf is NaN."""
    x = Value(1e-308) if edge_maker == "infinite" else Value(2.0)
    y = x**-1 if edge_maker == "infinite" else x * float("nan")  # an edge of -inf, or NaN
    (y * 0.0).backward()
    assert math.isnan(x.grad)


def test_a_zero_gradient_passes_zero_on_through_finite_edges() -> None:
    """Behind a relu that is off, every gradient is 0.0 (and the leaves keep theirs)."""
    w, x = Value(3.0), Value(-2.0)
    w.grad = 0.5
    ((w * x).relu() + 1.0).backward()
    assert (w.grad, x.grad) == (0.5, 0.0)


def test_an_edge_too_steep_for_a_float_is_infinite_as_in_pytorch() -> None:
    """x ** -1 at 1e-308 is 1e308, but its slope -1e616 is not a float: -inf, not an error."""
    x = Value(1e-308)
    (x**-1).backward()
    assert x.grad == -math.inf


def test_setting_data_anywhere_in_a_graph_then_extending_it_still_raises() -> None:
    """Stale numbers are caught however the graph grows afterwards, interior nodes too."""
    x = Value(1.0)
    h = x * 2.0
    y = h * h
    h.data = h.data
    with pytest.raises(RuntimeError, match=r"\.data of .* was set after"):
        (y + 1.0).backward()
    x = Value(3.0)
    y = x * x
    x.data = 5.0
    with pytest.raises(RuntimeError, match=r"\.data of .* was set after"):
        (y + 1.0).backward()


def test_setting_data_before_its_only_uses_is_not_mistaken_for_stale_numbers() -> None:
    """A number set after some ops ran, but before any op read it, is fresh: no error."""
    a, b = Value(1.0), Value(2.0)
    y = a * 3.0
    b.data = 5.0  # after y was made, before anything used b
    z = y + b * b
    z.backward()
    assert (a.grad, b.grad) == (3.0, 10.0)


def hand_made_square(a: Value, inner: Value | None = None) -> Value:
    out = Value(a.data**2, (a,), "square")

    def _backward() -> None:
        if inner is not None:
            inner.backward()
        a.grad += 2 * a.data * out.grad

    out._backward = _backward
    return out


def test_backward_from_inside_a_hand_written_backward_is_refused() -> None:
    """A walk inside a walk would corrupt the outer one: a clear error instead."""
    b = Value(3.0)
    y = hand_made_square(Value(2.0), inner=b * b) + b
    with pytest.raises(RuntimeError, match=r"inside a hand-written _backward"):
        y.backward()
    (b * b).backward()  # and walks work again afterwards
    assert b.grad == 6.0


def test_create_graph_through_a_hand_written_op_is_refused_not_silently_wrong() -> None:
    """Its _backward computes on floats, so second derivatives would be missing terms."""
    a = Value(2.0)
    with pytest.raises(RuntimeError, match=r"made by hand"):
        (hand_made_square(a) * a).backward(create_graph=True)


def test_a_grad_of_none_counts_as_zero() -> None:
    """p.grad = None, a PyTorch habit, then backward: as if it were 0."""
    p = Value(2.0)
    p.grad = None
    (p * p).backward()
    assert p.grad == 4.0


def test_odd_exponents_and_nan_give_numbers_not_internal_errors() -> None:
    """(-2) ** inf is inf as in Python's math; sin(nan) is nan, as math.sin gives."""
    assert (Value(-2.0) ** math.inf).data == math.inf
    assert math.isnan(Value(math.nan).sin().data)
    assert math.isnan(Value(math.nan).cos().data)
    with pytest.raises(ValueError, match=r"\(-2\.0\) \*\* 0\.5 is not a real number"):
        Value(-2.0) ** 0.5


def test_threads_backpropagating_through_hand_written_ops_lose_no_gradient() -> None:
    """One thread through a hand-written sum, one through +, on shared parameters."""
    params = [Value(1.0) for _ in range(50)]

    def hand_sum(values: list[Value]) -> Value:
        out = Value(sum(v.data for v in values), tuple(values), "sum")

        def _backward() -> None:
            for v in values:
                v.grad += out.grad

        out._backward = _backward
        return out

    def by_hand() -> None:
        for _ in range(100):
            hand_sum(params).backward()

    def by_ops() -> None:
        for _ in range(100):
            total = params[0]
            for p in params[1:]:
                total = total + p
            total.backward()

    threads = [threading.Thread(target=by_hand), threading.Thread(target=by_ops)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.grad for p in params] == [200.0] * 50
