"""The benchmarks compare like with like: the floor engines compute what scalargrad does."""

from __future__ import annotations

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


def test_the_floor_engine_builds_scalargrads_graph_and_gets_its_gradients(
    benchmarks_on_path: None,
) -> None:
    """One lecture step: as many nodes, the same loss and parameter gradients to 1e-12."""
    import floor_engine
    from lecture import lecture_step

    X, labels = moons(20, noise=0.1, seed=1)
    y = [2 * label - 1 for label in labels]
    ours, floor = MLP(2, [4, 4, 1], seed=3), floor_engine.MLP(2, [4, 4, 1])
    for p, q in zip(ours.parameters(), floor.parameters(), strict=True):
        q.data = p.data
    our_loss, _ = lecture_step(Value, ours, X, y, 0)
    floor_loss, _ = lecture_step(floor_engine.Value, floor, X, y, 0)
    assert our_loss == pytest.approx(floor_loss, abs=1e-12)
    for p, q in zip(ours.parameters(), floor.parameters(), strict=True):
        assert p.grad == pytest.approx(q.grad, abs=1e-12)
        assert p.data == pytest.approx(q.data, abs=1e-12)
    our_sum = sum(ours(list(map(Value, x))) for x in X)
    floor_sum = sum(floor(list(map(floor_engine.Value, x))) for x in X)
    assert len(topological_order(our_sum)) == len(_floor_nodes(floor_sum))


def test_the_tape_floor_gets_scalargrads_loss_and_update(benchmarks_on_path: None) -> None:
    """One lecture step on the tape: the same loss and the same trained parameters."""
    import floor_tape
    from lecture import lecture_step

    X, labels = moons(20, noise=0.1, seed=2)
    y = [2 * label - 1 for label in labels]
    ours, tape = MLP(2, [4, 4, 1], seed=5), floor_tape.MLP(2, [4, 4, 1])
    for p, q in zip(ours.parameters(), tape.parameters(), strict=True):
        q.data = p.data
    our_loss, _ = lecture_step(Value, ours, X, y, 0)
    tape_loss, _ = lecture_step(floor_tape.Value, tape, X, y, 0)
    tape.drop_tape()
    assert our_loss == pytest.approx(tape_loss, abs=1e-12)
    for p, q in zip(ours.parameters(), tape.parameters(), strict=True):
        assert p.data == pytest.approx(q.data, abs=1e-12)


def _floor_nodes(root: Any) -> set[Any]:
    seen, todo = {root}, [root]
    while todo:
        for parent in todo.pop().parents:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen
