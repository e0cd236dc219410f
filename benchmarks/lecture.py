"""The lecture loop: micrograd's demo notebook, run by scalargrad and by micrograd.

Run with `.venv/bin/python benchmarks/lecture.py` (needs micrograd: the `bench` extra).
This is the code learners write, run exactly as micrograd's demo notebook writes it,
with each engine's own `Value` and `MLP` imported under the same names: moons(100,
noise 0.1), MLP(2, [16, 16, 1]), one full-batch step per iteration with per-sample
`model(x)`, Python's own `sum`, the hinge loss plus 1e-4 * sum(p * p), `backward()`
and `p.data -= lr * p.grad`. The garbage collector stays on, as in a notebook, and
`gc.collect()` runs before each engine's turn so that one engine's garbage is not
billed to the other. The engines take turns, step by step in blocks, so that the
machine's noise falls on both alike; the figures are medians.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

from scalargrad.data import moons


def lecture_step(Value: Any, model: Any, X: Any, y: Any, k: int) -> tuple[float, float]:
    """One step of the demo notebook's loop; returns (loss, accuracy)."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def engines(floor: bool) -> dict[str, tuple[Any, Callable[[], Any]]]:
    """Each engine's Value and a maker of MLP(2, [16, 16, 1])."""
    import random

    from scalargrad.engine import Value
    from scalargrad.nn import MLP

    found: dict[str, tuple[Any, Callable[[], Any]]] = {
        "scalargrad": (Value, lambda: MLP(2, [16, 16, 1], seed=0))
    }
    if floor:
        import floor_engine  # benchmarks/floor_engine.py and floor_tape.py, beside this script
        import floor_tape

        def floor_mlp(module: Any) -> Any:
            random.seed(0)
            return module.MLP(2, [16, 16, 1])

        found["object floor"] = (floor_engine.Value, lambda: floor_mlp(floor_engine))
        found["tape floor"] = (floor_tape.Value, lambda: floor_mlp(floor_tape))
    try:
        from micrograd.engine import Value as MicroValue
        from micrograd.nn import MLP as MicroMLP
    except ImportError:
        print("micrograd is not installed (pip install -e '.[bench]'); scalargrad alone")
        return found

    def micro_mlp() -> Any:
        random.seed(0)
        return MicroMLP(2, [16, 16, 1])

    found["micrograd"] = (MicroValue, micro_mlp)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per engine")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run the floors: benchmarks/floor_engine.py and floor_tape.py, the least an "
        "eager graph of this shape can cost, as objects and as a tape",
    )
    args = parser.parse_args()
    print(describe())
    X, labels = moons(100, noise=0.1, seed=0)
    y = [2 * label - 1 for label in labels]
    runs = {name: (Value, make()) for name, (Value, make) in engines(args.floor).items()}
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for k in range(args.steps):
        for name, (Value, model) in runs.items():
            gc.collect()
            start = time.perf_counter()
            lecture_step(Value, model, X, y, k)
            seconds[name].append(time.perf_counter() - start)
            if hasattr(model, "after_step"):  # the tape floor forgets its graph by hand
                model.after_step()
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    print(f"lecture loop, collector on, median of {args.steps} steps:")
    for name, median in medians.items():
        faster = ""
        if "micrograd" in medians and name != "micrograd":
            faster = f"  {medians['micrograd'] / median:.1f}x micrograd's speed"
        print(f"  {name:<13} {median * 1e3:9.1f} ms per step{faster}")


if __name__ == "__main__":
    main()
