"""Lecture code runs unchanged: a script written the way micrograd's lecture writes it,
through each of its patterns, gives the lecture's numbers."""

from __future__ import annotations

import math
from pathlib import Path

from scalargrad.engine import Value
from scalargrad.nn import MLP
from scalargrad.viz import draw_dot
from tests.lecture_ops import mul


def lecture_neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), each step a labelled node."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    nodes = {v.label: v for v in (x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n, o)}
    return o, nodes


LECTURE_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}


def assert_lecture_grads(nodes: dict[str, Value]) -> None:
    for name, grad in LECTURE_GRADS.items():
        assert math.isclose(nodes[name].grad, grad, abs_tol=1e-12), name


def test_calling_backward_node_by_node_gives_the_lectures_numbers() -> None:
    """o.grad = 1, then each node's _backward() in turn, as the lecture's cells do."""
    o, nodes = lecture_neuron()
    assert math.isclose(o.data, 0.7071, abs_tol=1e-4)
    o.grad = 1.0
    for name in ["o", "n", "x1*w1 + x2*w2", "x2*w2", "x1*w1"]:
        nodes[name]._backward()
    assert math.isclose(nodes["n"].grad, 0.5, abs_tol=1e-12)
    assert_lecture_grads(nodes)


def test_the_lectures_own_topological_sort_and_loop_give_the_same_numbers() -> None:
    """The recursive build_topo over _prev, then _backward() in reverse, as written there."""
    o, nodes = lecture_neuron()
    topo: list[Value] = []
    visited = set()

    def build_topo(v: Value) -> None:
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(o)
    o.grad = 1.0
    for node in reversed(topo):
        node._backward()
    assert_lecture_grads(nodes)
    assert topo[-1] is o and set(topo) == set(nodes.values())


def test_backward_gives_the_lectures_numbers() -> None:
    """o.backward() does all of that in one call."""
    o, nodes = lecture_neuron()
    o.backward()
    assert_lecture_grads(nodes)


def cube(self: Value) -> Value:
    """A new op written the lecture's way: the constructor with children, and a closure."""
    out = Value(self.data**3, (self,), "cube")

    def _backward() -> None:
        self.grad += 3 * self.data**2 * out.grad

    out._backward = _backward
    return out


def test_an_op_written_the_lectures_way_takes_part_in_backward() -> None:
    """Value(data, (a,), 'cube') with out._backward = closure joins backward() like any op."""
    x = Value(1.5, label="x")
    y = cube(x) * 2.0 + x  # d/dx = 6 x**2 + 1
    y.backward()
    assert math.isclose(x.grad, 6 * 1.5**2 + 1, rel_tol=1e-15)
    made = y._prev[0]._prev[0]
    assert made._op == "cube" and made._prev == (x,)


def test_draw_dot_renders_as_graphviz_does(tmp_path: Path) -> None:
    """draw_dot(o).render('gout') writes the DOT source and gout.svg, as graphviz's Digraph."""
    o, _ = lecture_neuron()
    o.backward()
    dot = draw_dot(o)
    assert dot.format == "svg"
    written = dot.render(tmp_path / "gout")
    assert Path(written) == tmp_path / "gout.svg"
    assert (tmp_path / "gout").read_text().startswith("digraph")
    assert "<svg" in Path(written).read_text()


def test_the_lectures_tanh_mlp_learns_its_four_samples() -> None:
    """MLP(3, [4, 4, 1]) with tanh everywhere, the lecture's loop, loss falls below 0.01."""
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=1)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(100):
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -0.1 * p.grad
        losses.append(loss.data)
    assert losses[-1] < 0.01 < losses[0]


def test_a_hand_written_op_given_one_value_twice_counts_each_use_once() -> None:
    """mul(a, a) by hand gives d(a*a)/da = 2a, as the table's a * a does."""
    a = Value(1.5)
    mul(a, a).backward()
    assert a.grad == 3.0
