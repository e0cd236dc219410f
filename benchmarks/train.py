"""Training benchmark: milliseconds per step on the standard workload, three engines.

Run with `.venv/bin/python benchmarks/train.py`. The standard workload: moons(100,
noise=0.1), MLP(2, [16, 16, 1]), hinge loss + 1e-4 * sum(p * p), full-batch SGD with
the learning rate falling linearly from 1.0 to 0.1 over 100 steps. It is run

  - by scalargrad, through `fit` (one step per epoch, so `History.seconds` is the
    time of each step);
  - by micrograd (the PyPI package), the same model, loss and updates;
  - by PyTorch on the same scalar graph: every number a 0-d float64 tensor, every
    weighted sum built from scalar `*` and `+` as micrograd builds it;

and the medians are printed side by side with their ratios. The baselines take a
second or more a step, so they run `--baseline-steps` steps (10 by default) of the
same schedule. Then two figures from the issue: XOR with MLP(2, [4, 1]) and binary
cross-entropy (seconds to learn it), and 3-class spirals with cross-entropy and
Adam (training accuracy).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

from scalargrad.data import moons, spirals, xor
from scalargrad.nn import MLP
from scalargrad.optim import linear
from scalargrad.train import accuracy, fit

STEPS = 100
L2 = 1e-4


def learning_rate(step: int) -> float:
    """The standard workload's schedule: 1.0 at step 0, falling linearly to 0.1 at step 100."""
    return linear(1.0, 0.1, STEPS)(step)


def scalargrad_steps(X: list[list[float]], y: list[int], steps: int) -> tuple[list[float], float]:
    """Seconds per step and the final training accuracy, training with `fit`."""
    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer="sgd",
        lr=linear(1.0, 0.1, STEPS),
        l2=L2,
        epochs=steps,
        progress=False,
    )
    return history.seconds, accuracy(model, X, y)


def scalar_graph_steps(
    make_leaf: Callable[[float], Any],
    parameters: list[Any],
    model: Callable[[list[Any]], Any],
    X: list[list[float]],
    y: list[int],
    steps: int,
    relu: Callable[[Any], Any],
    finish_step: Callable[[Any, float], None],
) -> list[float]:
    """Seconds per step of the standard workload on a micrograd-style scalar engine."""
    signs = [1.0 if label == 1 else -1.0 for label in y]
    seconds = []
    for step in range(steps):
        start = time.perf_counter()
        inputs = [[make_leaf(v) for v in row] for row in X]
        scores = [model(row) for row in inputs]
        margins = [relu(1.0 - sign * score) for sign, score in zip(signs, scores)]
        data_loss = _chain_sum(margins) * (1.0 / len(margins))
        penalty = _chain_sum([p * p for p in parameters]) * L2
        finish_step(data_loss + penalty, learning_rate(step))
        seconds.append(time.perf_counter() - start)
    return seconds


def _chain_sum(terms: list[Any]) -> Any:
    """a + b + c + ..., one binary node per term, as Python's sum() builds it."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def micrograd_steps(X: list[list[float]], y: list[int], steps: int) -> list[float]:
    """Seconds per step for the micrograd package."""
    import random

    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP

    random.seed(0)
    model = MicroMLP(2, [16, 16, 1])
    parameters = model.parameters()

    def finish_step(loss: Any, lr: float) -> None:
        model.zero_grad()
        loss.backward()
        for p in parameters:
            p.data -= lr * p.grad

    return scalar_graph_steps(
        MicroValue, parameters, model, X, y, steps, lambda v: v.relu(), finish_step
    )


def torch_scalar_steps(X: list[list[float]], y: list[int], steps: int) -> list[float]:
    """Seconds per step for PyTorch building the same scalar graph from 0-d tensors."""
    import random

    import torch

    rng = random.Random(0)
    sizes = [2, 16, 16, 1]
    layers = []
    for nin, nout in itertools.pairwise(sizes):
        neurons = []
        for _ in range(nout):
            w = [
                torch.tensor(rng.uniform(-1, 1), dtype=torch.float64, requires_grad=True)
                for _ in range(nin)
            ]
            b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
            neurons.append((w, b))
        layers.append(neurons)
    parameters = [p for neurons in layers for w, b in neurons for p in (*w, b)]

    def model(x: list[Any]) -> Any:
        for depth, neurons in enumerate(layers):
            outputs = []
            for w, b in neurons:
                total = b
                for wi, xi in zip(w, x):
                    total = total + wi * xi
                outputs.append(torch.relu(total) if depth < len(layers) - 1 else total)
            x = outputs
        return x[0]

    def make_leaf(v: float) -> Any:
        return torch.tensor(v, dtype=torch.float64)

    def finish_step(loss: Any, lr: float) -> None:
        for p in parameters:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in parameters:
                p -= lr * p.grad

    return scalar_graph_steps(make_leaf, parameters, model, X, y, steps, torch.relu, finish_step)


def xor_seconds() -> tuple[float, float]:
    """Seconds to train XOR with MLP(2, [4, 1]) (tanh) and BCE on logits, and the accuracy."""
    X, y = xor()
    start = time.perf_counter()
    model = MLP(2, [4, 1], "tanh", seed=0)
    fit(
        model,
        X,
        y,
        loss="binary_cross_entropy_with_logits",
        optimizer="adam",
        lr=0.1,
        epochs=300,
        progress=False,
    )
    return time.perf_counter() - start, accuracy(model, X, y)


def spirals_accuracy() -> tuple[float, float]:
    """Training accuracy on 3-class spirals (150 points), cross-entropy and Adam, and seconds."""
    X, y = spirals(150, classes=3, noise=0.2, seed=0)
    start = time.perf_counter()
    model = MLP(2, [16, 16, 3], init="kaiming", seed=0)
    fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, epochs=60, progress=False)
    return accuracy(model, X, y), time.perf_counter() - start


def _ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000.0


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-steps", type=int, default=10)
    args = parser.parse_args()

    print(describe())
    X, y = moons(100, noise=0.1)
    print(
        "standard workload: moons(100, noise=0.1), MLP(2, [16, 16, 1]), hinge + 1e-4 L2, "
        "full-batch SGD, lr 1.0 -> 0.1"
    )

    ours, train_accuracy = scalargrad_steps(X, y, STEPS)
    rows = [("scalargrad", len(ours), _ms(ours))]
    try:
        rows.append(
            ("micrograd", args.baseline_steps, _ms(micrograd_steps(X, y, args.baseline_steps)))
        )
    except ImportError:
        print("micrograd is not installed: pip install 'scalargrad[bench]'")
    try:
        rows.append(
            (
                "pytorch scalar graph",
                args.baseline_steps,
                _ms(torch_scalar_steps(X, y, args.baseline_steps)),
            )
        )
    except ImportError:
        print("torch is not installed: pip install 'scalargrad[bench]'")

    print(f"\n{'engine':<22}{'steps':>6}{'median ms/step':>16}{'x scalargrad':>14}")
    for name, steps, ms in rows:
        print(f"{name:<22}{steps:>6}{ms:>16.1f}{ms / rows[0][2]:>14.1f}")
    print(f"scalargrad training accuracy after {STEPS} steps: {train_accuracy:.1%}")

    seconds, xor_accuracy = xor_seconds()
    print(
        f"\nXOR, MLP(2, [4, 1]) tanh, BCE, Adam, 300 epochs: {seconds:.3f} s, "
        f"accuracy {xor_accuracy:.0%}"
    )
    spiral_accuracy, seconds = spirals_accuracy()
    print(
        f"spirals (150 points, 3 classes), MLP(2, [16, 16, 3]), cross-entropy, Adam, 60 epochs: "
        f"accuracy {spiral_accuracy:.1%} in {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
