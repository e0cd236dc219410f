"""Rendering benchmark: one sample's loss graph through MLP(2, [16, 16, 1]) to PNG.

Run with `.venv/bin/python benchmarks/viz.py`. Prints the graph's size and the median
seconds, over repeats, to build the DOT and render it to PNG bytes, on each Graphviz
found here: the system `dot` (if on PATH) and pygraphviz's bundled Graphviz. The MLP
drawn at the level of neurons (draw_mlp) is timed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from machine import describe  # benchmarks/machine.py, beside this script

from scalargrad.engine import Value, topological_order
from scalargrad.nn import MLP
from scalargrad.viz import draw_graph, draw_mlp, which_renderer


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def without_dot() -> Iterator[None]:
    """Hide the system `dot`, so rendering falls to pygraphviz."""
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = ""
    try:
        yield
    finally:
        os.environ["PATH"] = path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(describe())

    model = MLP(2, [16, 16, 1], seed=0)
    score = model([0.5, -1.0])
    assert isinstance(score, Value)  # one output
    loss = (score - 1.0) ** 2
    loss.backward()
    nodes = topological_order(loss)
    edges = sum(len(node.parents) for node in nodes)
    print(
        f"graph: one sample's squared error through MLP(2, [16, 16, 1]): "
        f"{len(nodes)} Values, {sum(1 for n in nodes if n.parents)} ops, {edges} input edges"
    )

    renderers: list[tuple[str, Callable[[], AbstractContextManager[None]]]] = []
    if shutil.which("dot") is not None:
        renderers.append(("system dot", nullcontext))
    renderers.append(("pygraphviz", without_dot))
    for name, context in renderers:
        with context():
            renderer = which_renderer()
            seconds = median_seconds(lambda: draw_graph(loss).pipe("png"), args.repeats)
            png_bytes = len(draw_graph(loss).pipe("png"))
            mlp_seconds = median_seconds(lambda: draw_mlp(model).pipe("png"), args.repeats)
        print(f"{name}: {renderer}")
        print(
            f"  op-level graph to PNG: median {seconds:.2f} s over {args.repeats} "
            f"({png_bytes / 1e6:.1f} MB)"
        )
        print(f"  draw_mlp (neurons and weights) to PNG: median {mlp_seconds:.2f} s")


if __name__ == "__main__":
    main()
