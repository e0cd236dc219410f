"""scalargrad.compile at its edges: fit's joined step, its penalty, its views of theta
and of grad, callbacks that change parameters, and names the generated code uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from scalargrad import MLP, Value, gradients, losses
from scalargrad.compile import TrainingStep, compile
from scalargrad.data import moons
from scalargrad.nn import Layer, Module, Neuron
from scalargrad.train import fit


class Wired(Module):
    """A model from a function of the inputs and the parameters it lists."""

    def __init__(
        self, nin: int, forward: Callable[[list[Value]], Value], params: Sequence[Value]
    ) -> None:
        self.nin, self.nout = nin, 1
        self.forward, self.params = forward, list(params)

    def __call__(self, x: Any) -> Value:
        return self.forward([v if isinstance(v, Value) else Value(v) for v in x])

    def parameters(self) -> list[Value]:
        return list(self.params)


def hinge_step(
    penalty_of: Callable[[MLP], Callable[[], Value]],
) -> tuple[MLP, list[list[Value]], list[int], TrainingStep]:
    """A hinge-loss step on nine samples, its penalty made from the model."""
    X, y = moons(9, noise=0.1)
    model = MLP(2, [3, 1], "tanh", seed=0)
    samples = [[Value(v) for v in row] for row in X]
    signs = [2 * t - 1 for t in y]
    step = TrainingStep(
        model, samples, signs, model.parameters(), losses.hinge, penalty_of(model), check_steps=0
    )
    return model, samples, signs, step


@pytest.mark.parametrize("kind", ["a bare parameter", "a number"])
def test_a_penalty_that_is_no_op_is_still_added_to_the_joined_steps_loss(kind: str) -> None:
    """A penalty that is a parameter or a number, not an op, still counts in the loss and
    the gradient when the step is one joined program."""

    def penalty_of(model: MLP) -> Callable[[], Value]:
        if kind == "a bare parameter":
            return lambda: model.parameters()[4]
        return lambda: Value(0.3)

    model, samples, signs, step = hinge_step(penalty_of)
    penalty = penalty_of(model)
    assert step.joined is not None
    loss, _, grad = step.loss_and_gradient(None, step.read_parameters())
    eager = losses.hinge([model(s) for s in samples], signs) + penalty()
    by_value = gradients(eager)
    expected = [by_value.get(p, 0.0) for p in step.theta_parameters]
    assert loss == pytest.approx(eager.data, abs=1e-12)
    assert grad.tolist() == pytest.approx(expected, abs=1e-12)


def test_compiled_fit_trains_on_from_the_numbers_a_callback_gave_the_parameters() -> None:
    """A callback that sets parameters' .data (restoring a saved state) changes what the
    next compiled steps start from, as it does eagerly."""
    X, y = moons(20, noise=0.1)
    runs = []
    for compiled in (False, True):
        model = MLP(2, [4, 1], "tanh", seed=0)
        start = model.state_dict()

        def restore(model: Module, history: Any, start: dict[str, float] = start) -> None:
            if len(history.loss) == 2:
                model.load_state_dict(start)

        history = fit(
            model, X, y, loss="hinge", epochs=4, progress=False, compile=compiled,
            callback=restore,
        )  # fmt: skip
        runs.append((history.loss, [p.data for p in model.parameters()]))
    (eager_loss, eager_data), (compiled_loss, compiled_data) = runs
    assert np.allclose(compiled_loss, eager_loss, rtol=1e-9, atol=1e-12)
    assert np.allclose(compiled_data, eager_data, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("label", ["ones", "views", "W1", "b1", "Z1", "dW1"])
def test_a_label_that_is_a_name_of_the_batch_code_does_not_change_its_numbers(label: str) -> None:
    """A node labelled as one of the names the NumPy code makes (ones, W1, ...) is
    renamed there: the batch still gives eager's outputs and gradients."""
    model = MLP(2, [3, 1], "tanh", seed=0)
    w = model.layers[0].neurons[0].w[0]

    def scaled(a: Value, b: Value) -> Value:
        scale = w * w
        scale.label = label
        out = model([a, b])
        assert isinstance(out, Value)
        return out * scale

    rows = [[0.5, -1.0], [2.0, 0.3], [-0.4, 1.5]]
    batch = compile(scaled, rows[0], model.parameters()).batch(rows)
    outputs, summed = [], np.zeros(len(model.parameters()))
    for row in rows:
        out = scaled(Value(row[0]), Value(row[1]))
        outputs.append(out.data)
        by_value = gradients(out)
        summed += [by_value.get(p, 0.0) for p in model.parameters()]
    assert np.ravel(batch.outputs).tolist() == pytest.approx(outputs, abs=1e-12)
    assert batch.parameter_grads.tolist() == pytest.approx(summed.tolist(), abs=1e-12)


def tied_layers() -> Wired:
    """One 2 -> 2 layer applied twice, then a neuron: two blocks of grad on one range."""
    hidden, out = Layer(2, 2, activation="tanh", seed=1), Neuron(2, seed=2)
    return Wired(2, lambda x: out(hidden(hidden(x))), hidden.parameters() + out.parameters())


def weight_read_again() -> Wired:
    """The output times a first-layer weight: that block is written before its layer's."""
    model = MLP(2, [3, 1], "tanh", seed=0)
    w = model.layers[0].neurons[0].w[0]
    return Wired(2, lambda x: model(x) * w, model.parameters())  # type: ignore[operator]


def weight_shared_in_a_layer() -> Wired:
    """Two neurons of one layer read one weight: a gathered block, added with np.add.at."""
    w, v, b = Value(0.3), Value(-0.2), Value(0.1)
    out = Neuron(2, seed=5)

    def forward(x: list[Value]) -> Value:
        from scalargrad import dot

        return out([dot([w, w], x, b).tanh(), dot([v, w], x, b).tanh()])

    return Wired(2, forward, [w, v, b, *out.parameters()])


def unused_parameter_first() -> Wired:
    """A parameter the model never reads, listed first: its gradient is its penalty's."""
    model = MLP(2, [3, 1], "relu", seed=0)
    return Wired(2, model, [Value(0.7), *model.parameters()])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make", [tied_layers, weight_read_again, weight_shared_in_a_layer, unused_parameter_first]
)
def test_compiled_fit_equals_eager_fit_where_parameters_are_shared_or_unused(
    make: Callable[[], Wired],
) -> None:
    """Shared, re-read and unused parameters, with L2, in batches whose last is smaller:
    the joined step's written blocks, views and ones give eager fit's numbers."""
    X, y = moons(13, noise=0.1)
    signs = [2 * t - 1 for t in y]
    for optimizer in ("sgd", "adam"):
        runs = []
        for compiled in (False, True):
            model = make()
            history = fit(
                model, X, signs, loss="hinge", optimizer=optimizer, l2=1e-2, batch_size=5,
                epochs=12, lr=0.05, progress=False, compile=compiled,
            )  # fmt: skip
            runs.append((history.loss, [p.data for p in model.parameters()]))
        (eager_loss, eager_data), (compiled_loss, compiled_data) = runs
        assert np.allclose(compiled_loss, eager_loss, rtol=1e-9, atol=1e-12)
        assert np.allclose(compiled_data, eager_data, rtol=1e-9, atol=1e-12)


def test_the_step_reads_theta_anew_whether_changed_in_place_or_passed_as_new_arrays() -> None:
    """The views of theta are cached on its identity: changed in place, passed anew or as
    a strided view, the step gives what a fresh step gives on a copy."""

    def l2(model: MLP) -> Callable[[], Value]:
        return lambda: losses.l2_penalty(model.parameters(), 0.01)

    step = hinge_step(l2)[3]
    theta = step.read_parameters()
    rows = np.array([0, 3, 5, 8])

    def fresh(numbers: Any) -> tuple[float, list[float]]:
        loss, _, grad = hinge_step(l2)[3].loss_and_gradient(rows, np.array(numbers))
        return loss, grad.tolist()

    wide = np.zeros(2 * len(theta))
    wide[::2] = theta
    strided = wide[::2]
    in_place = theta.copy()
    for k in range(3):
        in_place += 0.1
        strided += 0.1
        for numbers in (in_place, theta + 0.1 * (k + 1), strided):
            loss, _, grad = step.loss_and_gradient(rows, numbers)
            expected_loss, expected_grad = fresh(numbers)
            # A strided theta may take another BLAS kernel: the same to the last bits.
            assert loss == pytest.approx(expected_loss, rel=1e-13, abs=1e-15)
            assert grad.tolist() == pytest.approx(expected_grad, rel=1e-13, abs=1e-15)


def test_a_model_whose_output_ignores_its_inputs_is_stepped_apart_from_its_loss() -> None:
    """An output made of parameters alone is not a column of the step's program: the
    model and the loss run as two programs (it used to raise a KeyError), and the
    first step, checked against eager, agrees."""
    w, b = Value(0.3, label="w"), Value(-0.2, label="b")
    samples = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.3)]]
    step = TrainingStep(
        lambda xs: w * 2.0 + b, samples, [1, -1], [w, b], losses.hinge,
        lambda: losses.l2_penalty([w, b], 0.01),
    )  # fmt: skip
    assert step.joined is None and step.penalty_program is not None
    loss, outputs, _ = step(None, step.read_parameters())  # compared with eager
    assert outputs.shape == (2, 1) and outputs.ravel().tolist() == pytest.approx([0.4, 0.4])
    assert loss == pytest.approx(1.0 + 0.01 * (0.3**2 + 0.2**2))
