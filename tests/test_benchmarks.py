"""The benchmarks compare like with like: the floor engines compute what scalargrad does."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from scalargrad import topological_order
from scalargrad.data import moons
from scalargrad.engine import Value
from scalargrad.nn import MLP

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def benchmarks_on_path() -> Any:
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("floor", ["floor_engine", "floor_tape"])
def test_each_floor_computes_scalargrads_lecture_step(benchmarks_on_path: None, floor: str) -> None:
    """One lecture step: the same loss, and the same parameters after the update, to 1e-12."""
    from lecture import lecture_step

    module = importlib.import_module(floor)
    X, labels = moons(20, noise=0.1, seed=1)
    y = [2 * label - 1 for label in labels]
    ours, theirs = MLP(2, [4, 4, 1], seed=3), module.MLP(2, [4, 4, 1])
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        q.data = p.data
    our_loss, _ = lecture_step(Value, ours, X, y, 0)
    their_loss, _ = lecture_step(module.Value, theirs, X, y, 0)
    if hasattr(theirs, "after_step"):
        theirs.after_step()
    assert our_loss == pytest.approx(their_loss, abs=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert p.data == pytest.approx(q.data, abs=1e-12)


def test_numpy_written_by_hand_takes_the_compiled_batch_steps(benchmarks_on_path: None) -> None:
    """The NumPy floor of benchmarks/compile.py computes the standard step as the
    compiled batch step does: the same parameters after five steps, to 1e-12."""
    import numpy as np
    from compile import numpy_by_hand, schedule, training_step  # benchmarks/compile.py

    step, _ = training_step()
    theta = step.read_parameters()
    hand, hand_theta = numpy_by_hand()
    for k in range(5):
        _, _, grad = step.loss_and_gradient(None, theta)
        theta = theta - schedule(k) * grad
        hand(k)
    assert np.abs(hand_theta - theta).max() < 1e-12
    assert np.abs(theta - step.read_parameters()).max() > 1e-3  # it did move


def test_the_object_floor_builds_as_many_nodes_as_scalargrad(benchmarks_on_path: None) -> None:
    """Numbers in ops are leaves and a neuron is one node in both: the graphs match in size."""
    import floor_engine

    X, _ = moons(20, noise=0.1, seed=1)
    ours, floor = MLP(2, [4, 4, 1], seed=3), floor_engine.MLP(2, [4, 4, 1])
    our_sum = sum(ours(list(map(Value, x))) for x in X)
    floor_sum = sum(floor(list(map(floor_engine.Value, x))) for x in X)
    assert len(topological_order(our_sum)) == len(_floor_nodes(floor_sum))


def _floor_nodes(root: Any) -> set[Any]:
    seen, todo = {root}, [root]
    while todo:
        for parent in todo.pop().parents:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_the_instruction_counter_reads_callgrinds_total_and_each_workload_steps(
    benchmarks_on_path: None,
) -> None:
    """benchmarks/instructions.py takes the total callgrind prints, refuses output
    without one, and each of its workloads sets up and takes a step (micrograd's
    where it is installed)."""
    import instructions

    report = "==7== Events    : Ir\n==7== Collected : 123456789\n==7==\n"
    assert instructions.instructions(report) == 123456789
    with pytest.raises(RuntimeError, match="no instruction count"):
        instructions.instructions("valgrind: command not found")
    for name in instructions.WORKLOADS:
        step = instructions.stepper(name)
        if step is None:
            assert name == "lecture micrograd"
            continue
        step(0)
