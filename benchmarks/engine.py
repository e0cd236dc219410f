"""Engine benchmark: nanoseconds per node, peak memory, and a million-deep chain.

Run with `make bench` (or `.venv/bin/python benchmarks/engine.py`). Prints medians
over repeats for
  (a) a chain of 200,000 mixed primitive ops;
  (b) a wide graph: 250 chains of 150 steps of `(y * 0.999 + 0.001).relu() - 0.0001`,
      summed, run side by side with micrograd (the PyPI package) when installed;
and the time to backpropagate through a chain 1,000,000 nodes deep.

"Per node" counts the nodes ops make (constants wrapped into leaves are not counted),
the same way for both engines, so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

from scalargrad import Value

CHAIN_LENGTH = 200_000
WIDE_CHAINS, WIDE_STEPS = 250, 150
DEEP_CHAIN = 1_000_000


def mixed_chain(value_type: Any, length: int) -> tuple[Any, Any, int]:
    """A chain cycling through *, +, tanh, log, exp, relu, -, / and **2."""
    x = value_type(0.5)
    y = x
    ops = 0
    while ops < length:
        y = y * 0.9  # 1 op
        y = y + 0.1
        y = y.tanh()
        y = (y + 2.0).log()
        y = y.exp() * 0.5
        y = y.relu() - 0.01
        y = y / 1.5
        y = y**2 + 0.3
        ops += 12
    return x, y, ops


def wide_graph(value_type: Any) -> tuple[Any, Any, int]:
    """250 chains of 150 steps of (y * 0.999 + 0.001).relu() - 0.0001, summed."""
    x = value_type(0.5)
    ends = []
    for chain in range(WIDE_CHAINS):
        y = x * (1.0 + chain * 1e-3)
        for _ in range(WIDE_STEPS):
            y = (y * 0.999 + 0.001).relu() - 0.0001
        ends.append(y)
    total = ends[0]
    for end in ends[1:]:
        total = total + end
    nodes = WIDE_CHAINS * (1 + 4 * WIDE_STEPS) + (WIDE_CHAINS - 1)
    return x, total, nodes


def time_forward_backward(build: Callable[[], tuple[Any, Any, int]], repeats: int) -> float:
    """Median nanoseconds per node for building the graph and backpropagating it."""
    per_node = []
    for _ in range(repeats):
        start = time.perf_counter()
        x, root, nodes = build()
        root.backward()
        elapsed = time.perf_counter() - start
        per_node.append(elapsed * 1e9 / nodes)
        del x, root
        gc.collect()  # start each repeat from the same heap, whatever the engine left
    return statistics.median(per_node)


def peak_memory_bytes_per_node(build: Callable[[], tuple[Any, Any, int]]) -> float:
    gc.collect()
    tracemalloc.start()
    x, root, nodes = build()
    root.backward()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del x, root
    return peak / nodes


def deep_chain_seconds(depth: int) -> tuple[float, float]:
    """Seconds to build and to backpropagate a chain `depth` nodes deep."""
    start = time.perf_counter()
    x = Value(1.0)
    y = x
    for _ in range(depth):
        y = y * 1.0
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    assert x.grad == 1.0
    return built - start, done - built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(describe())

    chain_ns = time_forward_backward(lambda: mixed_chain(Value, CHAIN_LENGTH), args.repeats)
    chain_mem = peak_memory_bytes_per_node(lambda: mixed_chain(Value, CHAIN_LENGTH))
    print(
        f"(a) chain of {CHAIN_LENGTH:,} mixed ops: {chain_ns:,.0f} ns/node forward+backward "
        f"(median of {args.repeats}), peak {chain_mem:,.0f} bytes/node  [target <= 1,500]"
    )

    wide_ns = time_forward_backward(lambda: wide_graph(Value), args.repeats)
    wide_mem = peak_memory_bytes_per_node(lambda: wide_graph(Value))
    print(
        f"(b) wide graph {WIDE_CHAINS}x{WIDE_STEPS}: scalargrad {wide_ns:,.0f} ns/node "
        f"(median of {args.repeats}), peak {wide_mem:,.0f} bytes/node"
    )
    try:
        from micrograd.engine import Value as MicrogradValue
    except ImportError:
        print("    micrograd not installed (pip install -e '.[bench]'): no comparison")
    else:
        micro_ns = time_forward_backward(lambda: wide_graph(MicrogradValue), args.repeats)
        print(
            f"    micrograd {micro_ns:,.0f} ns/node (median of {args.repeats}): "
            f"scalargrad is {micro_ns / wide_ns:.1f}x faster  [target >= 15x]"
        )

    sys.setrecursionlimit(1_000)  # prove that nothing recurses
    build_s, backward_s = deep_chain_seconds(DEEP_CHAIN)
    print(
        f"(c) chain {DEEP_CHAIN:,} deep: built in {build_s:.2f} s, "
        f"backpropagated in {backward_s:.2f} s"
    )


if __name__ == "__main__":
    main()
