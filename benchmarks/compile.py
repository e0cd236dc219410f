"""Compiled training against eager, PyTorch, JAX and micrograd, side by side in one run.

Run with `.venv/bin/python benchmarks/compile.py`. Medians of milliseconds per step
on the standard workload: moons(100, noise=0.1), MLP(2, [16, 16, 1]), hinge loss +
1e-4 * sum(p * p), full-batch SGD with the learning rate falling from 1.0 to 0.1:

  - eager `fit`;
  - `fit(..., compile=True)`: the compiled batch step, with the package's optimizer
    updating each parameter Value;
  - the compiled scalar code: the whole step's graph traced once (its samples are
    numbers in the code) as straight-line Python on floats, then an SGD update;
  - the compiled batch step alone: `TrainingStep.loss_and_gradient` on a NumPy
    array of parameters, and the SGD update on that array;
  - NumPy written by hand: the floor for the generated NumPy, the same matrix step
    written as fast as we know how (see `numpy_by_hand`);
  - PyTorch, vectorised, and JAX, the whole step jitted: the same matrix formulation
    written by hand, float64, the update included, on one thread each (for JAX,
    XLA_FLAGS is set to one thread unless you set it yourself: `XLA_FLAGS=` runs
    it on its default threads). The batch step, NumPy by hand and JAX take turns,
    BLOCK steps at a time, TURNS times: all meet the same load, and each runs warm
    (in turns of ten steps JAX ran at half its speed); their figure is the median
    of all their steps. PyTorch runs apart: between them, it would slow whichever
    came after it;
  - micrograd (the PyPI package), on the same scalar graph.

Then MLP(64, [32, 10]) with softmax cross-entropy over 1,000 samples in 10 classes,
shuffled batches of 32: seconds per epoch of `fit(..., compile=True)` (the code a
user writes), of the compiled batch step alone and of vectorised PyTorch, taking
turns; and the time to trace and compile, with the step after which it has paid.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from machine import describe  # benchmarks/machine.py, beside this script

from scalargrad import MLP, Value, compile, fit, losses
from scalargrad.compile import TrainingStep
from scalargrad.data import batches, moons
from scalargrad.optim import linear

STEPS = 100
BLOCK = 100  # steps of one engine before the next one's turn
TURNS = 20
L2 = 1e-4
JAX_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
schedule = linear(1.0, 0.1, STEPS)


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000.0


def timed_steps(step: Callable[[int], None], steps: int, first: int = 0) -> list[float]:
    seconds = []
    for k in range(first, first + steps):
        start = time.perf_counter()
        step(k)
        seconds.append(time.perf_counter() - start)
    return seconds


def standard_data() -> tuple[list[list[float]], list[int], list[float]]:
    X, y = moons(100, noise=0.1)
    signs = [1.0 if t == 1 else -1.0 for t in y]
    return X, y, signs


def eager_fit(steps: int, compiled: bool) -> list[float]:
    X, y, _ = standard_data()
    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(
        model, X, y, loss="hinge", lr=schedule, l2=L2, epochs=steps, progress=False,
        compile=compiled,
    )  # fmt: skip
    return history.seconds[1:] if compiled else history.seconds  # compiled: 1st is checked


def training_step() -> tuple[TrainingStep, float]:
    """The standard workload's compiled step, and the seconds it took to make."""
    X, y, _ = standard_data()
    model = MLP(2, [16, 16, 1], seed=0)
    parameters = model.parameters()
    samples = [[Value(v) for v in row] for row in X]
    start = time.perf_counter()
    step = TrainingStep(
        model, samples, y, parameters, losses.hinge, lambda: losses.l2_penalty(parameters, L2)
    )
    return step, time.perf_counter() - start


def side_by_side(steppers: dict[str, Callable[[int], None] | None]) -> dict[str, Any]:
    """Step each engine in turn, BLOCK steps at a time, TURNS times: all meet the same
    load on a shared machine (one engine run after another would each meet another
    moment's), and a block is long enough to run warm. Each engine's seconds per
    step; None if missing."""
    seconds: dict[str, Any] = {
        name: (None if one is None else []) for name, one in steppers.items()
    }
    for turn in range(TURNS):
        for name, one in steppers.items():
            if one is not None:
                seconds[name] += timed_steps(one, BLOCK, turn * BLOCK)
    return seconds


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median, over turns, of our block's median time over theirs in the same turn.

    The machine has slow spells of a second or so that slow NumPy's small calls more
    than they slow JAX; blocks side by side in time met the same spell, so their ratio
    is steadier than the ratio of the two overall medians."""
    blocks = range(0, len(ours), BLOCK)
    return statistics.median(
        statistics.median(ours[i : i + BLOCK]) / statistics.median(theirs[i : i + BLOCK])
        for i in blocks
    )


def compiled_batch() -> Callable[[int], None]:
    step, _ = training_step()
    theta = step.read_parameters()

    def one(k: int) -> None:  # updates theta in place, as fit does
        _, _, grad = step.loss_and_gradient(None, theta)
        theta[...] = theta - schedule(k) * grad

    return one


def compiled_scalar(steps: int) -> tuple[list[float], float]:
    """The whole full-batch step as straight-line Python; and seconds to compile it."""
    X, y, _ = standard_data()
    model = MLP(2, [16, 16, 1], seed=0)
    parameters = model.parameters()

    def loss() -> Value:
        outputs = [model(row) for row in X]
        return losses.hinge(outputs, y) + losses.l2_penalty(parameters, L2)

    start = time.perf_counter()
    compiled = compile(loss, [], parameters)
    seconds_to_compile = time.perf_counter() - start

    def one(k: int) -> None:
        lr = schedule(k)
        for p, g in zip(parameters, compiled().parameter_grads):
            p.data -= lr * g

    return timed_steps(one, steps), seconds_to_compile


def initial_layers() -> list[tuple[np.ndarray, np.ndarray]]:
    """MLP(2, [16, 16, 1], seed=0)'s initial weights, as matrices for the vectorised peers."""
    model = MLP(2, [16, 16, 1], seed=0)
    return [
        (
            np.array([[w.data for w in n.w] for n in layer.neurons]),
            np.array([n.b.data for n in layer.neurons]),
        )
        for layer in model.layers
    ]


def numpy_by_hand() -> tuple[Callable[[int], None], np.ndarray]:
    """The standard step in NumPy written by hand, as fast as we know how: parameters
    and gradients in one array each, with views of each matrix made once; gradients
    written in place (out=); bias gradients as `ones @ dZ`, the sum over samples; the
    hinge loss's gradient in one expression; L2 added to the whole gradient at once.
    As the JAX step, it computes no loss value (the compiled step does: fit shows it).
    The step, and the array of parameters it updates in place (ordered as the
    compiled step's theta)."""
    X, _, signs = standard_data()
    inputs, t = np.array(X), np.array(signs)[:, None]
    layers = initial_layers()
    theta = np.concatenate([a.ravel() for layer in layers for a in layer])
    grad = np.zeros_like(theta)

    def views(flat: np.ndarray) -> list[np.ndarray]:
        ends = np.cumsum([a.size for layer in layers for a in layer])
        blocks = np.split(flat, ends[:-1])  # views, not copies
        return [b.reshape(a.shape) for b, a in zip(blocks, (a for layer in layers for a in layer))]

    W1, b1, W2, b2, W3, b3 = views(theta)
    dW1, db1, dW2, db2, dW3, db3 = views(grad)
    ones = np.ones(len(inputs))
    scale = -1.0 / len(inputs)

    def one(k: int) -> None:
        nonlocal theta, grad  # updated in place: the views stay theirs
        Z1 = inputs @ W1.T + b1
        A1 = np.maximum(Z1, 0.0)
        Z2 = A1 @ W2.T + b2
        A2 = np.maximum(Z2, 0.0)
        Z3 = A2 @ W3.T + b3
        dZ3 = np.heaviside(1.0 - t * Z3, 0.0) * t * scale  # d(mean of relu(1 - t * Z3))
        np.matmul(dZ3.T, A2, out=dW3)
        np.matmul(ones, dZ3, out=db3)
        dZ2 = (dZ3 @ W3) * np.heaviside(Z2, 0.0)
        np.matmul(dZ2.T, A1, out=dW2)
        np.matmul(ones, dZ2, out=db2)
        dZ1 = (dZ2 @ W2) * np.heaviside(Z1, 0.0)
        np.matmul(dZ1.T, inputs, out=dW1)
        np.matmul(ones, dZ1, out=db1)
        grad += (2.0 * L2) * theta
        theta -= schedule(k) * grad

    return one, theta


def torch_vectorised() -> Callable[[int], None]:
    import torch

    torch.set_num_threads(1)
    X, _, signs = standard_data()
    inputs = torch.tensor(X, dtype=torch.float64)
    t = torch.tensor(signs, dtype=torch.float64)
    params = [
        torch.tensor(a, dtype=torch.float64, requires_grad=True)
        for layer in initial_layers() for a in layer
    ]  # fmt: skip

    def one(k: int) -> None:
        W1, b1, W2, b2, W3, b3 = params
        h = torch.relu(inputs @ W1.T + b1)
        h = torch.relu(h @ W2.T + b2)
        score = (h @ W3.T + b3)[:, 0]
        loss = torch.relu(1.0 - t * score).mean() + L2 * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= schedule(k) * p.grad

    return one


def jax_jitted() -> Callable[[int], None] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    X, _, signs = standard_data()
    inputs, t = jnp.array(X), jnp.array(signs)
    params = [jnp.array(a) for layer in initial_layers() for a in layer]

    def loss(params: list[Any]) -> Any:
        W1, b1, W2, b2, W3, b3 = params
        h = jax.nn.relu(inputs @ W1.T + b1)
        h = jax.nn.relu(h @ W2.T + b2)
        score = (h @ W3.T + b3)[:, 0]
        penalty = sum((p * p).sum() for p in params)
        return jax.nn.relu(1.0 - t * score).mean() + L2 * penalty

    @jax.jit
    def step(params: list[Any], lr: float) -> list[Any]:
        grads = jax.grad(loss)(params)
        return [p - lr * g for p, g in zip(params, grads)]

    jax.block_until_ready(step(params, 1.0))  # compiled here, outside the timing

    def one(k: int) -> None:
        nonlocal params
        params = jax.block_until_ready(step(params, schedule(k)))

    return one


def micrograd(steps: int) -> list[float] | None:
    try:
        from train import micrograd_steps  # benchmarks/train.py
    except ImportError:
        return None
    X, y, _ = standard_data()
    try:
        return micrograd_steps(X, y, steps)
    except ImportError:
        return None


# ---- MLP(64, [32, 10]), cross-entropy, batches of 32 ---------------------------------


def blobs(n: int = 1000, width: int = 64, classes: int = 10) -> tuple[list[list[float]], list[int]]:
    rng = random.Random(0)
    centres = [[rng.gauss(0.0, 1.0) for _ in range(width)] for _ in range(classes)]
    y = [i % classes for i in range(n)]
    X = [[c + rng.gauss(0.0, 1.5) for c in centres[label]] for label in y]
    return X, y


def epoch_batches(n: int, epoch: int) -> list[list[int]]:
    order = list(range(n))
    return [rows for rows, _ in batches(order, order, 32, shuffle=True, seed=epoch)]


def wide_compiled() -> Callable[[int], None]:
    """An epoch of the compiled batch step alone, SGD on its NumPy array of parameters."""
    X, y = blobs()
    model = MLP(64, [32, 10], seed=0)
    samples = [[Value(v) for v in row] for row in X]
    step = TrainingStep(model, samples, y, model.parameters(), losses.cross_entropy)
    theta = step.read_parameters()

    def epoch(k: int) -> None:
        nonlocal theta
        for rows in epoch_batches(len(X), k):
            _, _, grad = step.loss_and_gradient(np.array(rows), theta)
            theta[...] = theta - 0.1 * grad  # in place, as fit does

    return epoch


def wide_fit(epochs: int) -> list[float]:
    """Seconds per epoch of the code a user writes: fit(..., compile=True), as its
    History measures them (tracing and the check of the first step come before)."""
    X, y = blobs()
    model = MLP(64, [32, 10], seed=0)
    history = fit(
        model, X, y, loss="cross_entropy", lr=0.1, batch_size=32, epochs=epochs,
        progress=False, compile=True,
    )  # fmt: skip
    return history.seconds[1:]  # the first epoch's first step is checked against eager


def wide_torch() -> Callable[[int], None]:
    import torch

    torch.set_num_threads(1)
    X, y = blobs()
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(y)
    model = MLP(64, [32, 10], seed=0)
    params = [
        torch.tensor(np.array(a), dtype=torch.float64, requires_grad=True)
        for layer in model.layers
        for a in ([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons])
    ]

    def epoch(k: int) -> None:
        for rows in epoch_batches(len(X), k):
            index = torch.tensor(rows)
            W1, b1, W2, b2 = params
            h = torch.relu(inputs[index] @ W1.T + b1)
            loss = torch.nn.functional.cross_entropy(h @ W2.T + b2, targets[index])
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= 0.1 * p.grad

    return epoch


def wide_side_by_side(epochs: int) -> dict[str, list[float]]:
    """Seconds per epoch of each: fit(compile=True) runs in rounds of 2 epochs (the
    first, with the checked step, not counted), the others in between."""
    steppers = {"compiled": wide_compiled(), "torch": wide_torch()}
    seconds: dict[str, list[float]] = {"fit": [], "compiled": [], "torch": []}
    for start in range(epochs):
        seconds["fit"] += wide_fit(2)
        for name, epoch in steppers.items():
            seconds[name] += timed_steps(epoch, 1, start)
    return seconds


def main() -> None:
    """Run every engine on the two workloads and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eager-steps", type=int, default=10)
    parser.add_argument("--micrograd-steps", type=int, default=3)
    args = parser.parse_args()

    # Before JAX is imported, which reads it once.
    jax_threads = os.environ.get("XLA_FLAGS")
    if jax_threads is None:
        os.environ["XLA_FLAGS"] = JAX_ONE_THREAD
    print(describe(), f"load average {os.getloadavg()[0]:.2f}")
    print(
        f"JAX on one thread: XLA_FLAGS set to {JAX_ONE_THREAD!r}"
        if jax_threads is None
        else f"JAX with your XLA_FLAGS={jax_threads!r}"
    )
    print(
        "standard workload: moons(100), MLP(2, [16, 16, 1]), hinge + 1e-4 L2, "
        "full-batch SGD; median ms per step"
    )
    scalar_seconds, scalar_compile = compiled_scalar(STEPS)
    _, seconds_to_compile = training_step()
    compared = side_by_side(
        {"batch": compiled_batch(), "hand": numpy_by_hand()[0], "jax": jax_jitted()}
    )
    jax_name = "JAX, whole step jitted" + (", 1 thread" if jax_threads is None else "")
    rows: list[tuple[str, list[float] | None]] = [
        ("scalargrad fit (eager)", eager_fit(args.eager_steps, compiled=False)),
        ("scalargrad fit(compile=True)", eager_fit(STEPS, compiled=True)),
        ("compiled scalar code (floats)", scalar_seconds),
        ("compiled batch step (NumPy)", compared["batch"]),
        ("NumPy written by hand", compared["hand"]),
        ("PyTorch, vectorised, 1 thread", timed_steps(torch_vectorised(), STEPS)),
        (jax_name, compared["jax"]),
        ("micrograd", micrograd(args.micrograd_steps)),
    ]
    for name, seconds in rows:
        figure = "not installed" if seconds is None else f"{median_ms(seconds):10.3f} ms"
        print(f"  {name:32s} {figure}")
    print(
        f"  (the batch step, NumPy by hand and JAX taken in turns, {BLOCK} steps at a time, "
        f"{TURNS} turns: the median of all {BLOCK * TURNS} steps of each)"
    )
    eager_ms = median_ms(rows[0][1] or [])
    batch_ms = median_ms(rows[3][1] or [])
    paid = seconds_to_compile * 1000.0 / (eager_ms - batch_ms)
    print(
        f"  trace + compile: batch step {seconds_to_compile * 1000:.0f} ms (paid for after "
        f"{paid:.1f} steps), scalar code {scalar_compile * 1000:.0f} ms"
    )
    jax_seconds = rows[6][1]
    if jax_seconds is not None:
        ratio = paired_ratio(compared["batch"], jax_seconds)
        verdict = "faster" if ratio < 1.0 else "SLOWER"
        print(
            f"  compiled batch step is {verdict} than JAX's jitted step in this run: "
            f"{ratio:.2f}x its time, the median over the {TURNS} turns of the ratio of "
            f"their neighbouring blocks' medians (NumPy by hand: "
            f"{paired_ratio(compared['hand'], jax_seconds):.2f}x, the compiled step "
            f"{paired_ratio(compared['batch'], compared['hand']):.2f}x the hand-written one)"
        )

    print("MLP(64, [32, 10]), cross-entropy, 1,000 samples, batches of 32; median s per epoch")
    wide = wide_side_by_side(5)
    for name, key in (
        ("fit(compile=True)", "fit"),
        ("compiled batch step (NumPy)", "compiled"),
        ("PyTorch, vectorised, 1 thread", "torch"),
    ):
        print(f"  {name:32s} {statistics.median(wide[key]):10.4f} s")
    print("  (in turns, an epoch at a time; fit's epochs as its History times them)")


if __name__ == "__main__":
    main()
