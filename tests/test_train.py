"""fit, History, predict and accuracy: the workloads the issue names, and bad input."""

from __future__ import annotations

import gc
import math
import re

import numpy as np
import pytest

from scalargrad import losses
from scalargrad.data import moons, spirals, xor
from scalargrad.engine import Value, is_grad_enabled, no_grad
from scalargrad.losses import LOSSES
from scalargrad.nn import MLP, Layer, Module, Neuron
from scalargrad.optim import OPTIMIZERS, SGD, Adam, linear
from scalargrad.train import History, accuracy, fit, predict

# ---- the workloads the issue names ------------------------------------------------------


@pytest.mark.slow
def test_the_standard_workload_reaches_99_percent_training_accuracy() -> None:
    """moons(100), MLP(2, [16, 16, 1]), hinge + 1e-4 L2, SGD lr 1.0 -> 0.1, 100 steps: >= 99%."""
    X, y = moons(100, noise=0.1)
    model = MLP(2, [16, 16, 1], seed=0)
    history = fit(
        model,
        X,
        y,
        loss="hinge",
        optimizer="sgd",
        lr=linear(1.0, 0.1, 100),
        l2=1e-4,
        epochs=100,
        progress=False,
    )
    assert accuracy(model, X, y) >= 0.99
    assert history.loss[-1] < history.loss[0] / 10


def test_xor_is_learned_by_a_four_unit_mlp_with_binary_cross_entropy() -> None:
    """XOR, MLP(2, [4, 1]) with tanh, BCE on logits, Adam: every corner right."""
    X, y = xor()
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
    assert predict(model, X) == y


@pytest.mark.slow
def test_three_spirals_reach_95_percent_with_cross_entropy_and_adam() -> None:
    """3-class spirals, MLP(2, [16, 16, 3]), cross-entropy, Adam: >= 95% training accuracy."""
    X, y = spirals(150, classes=3, noise=0.2, seed=0)
    model = MLP(2, [16, 16, 3], init="kaiming", seed=0)
    fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, epochs=60, progress=False)
    assert accuracy(model, X, y) >= 0.95


# ---- what fit does ----------------------------------------------------------------------


def test_full_batch_fit_takes_the_same_steps_as_the_lecture_loop_written_out() -> None:
    """fit == forward, loss + L2, zero_grad, backward, p -= lr(step) * grad, step by step."""
    X, y = moons(20, noise=0.1, seed=3)
    by_fit = MLP(2, [4, 1], seed=1)
    history = fit(
        by_fit, X, y, loss="hinge", lr=linear(0.5, 0.1, 5), l2=1e-3, epochs=5, progress=False
    )

    by_hand = MLP(2, [4, 1], seed=1)
    expected_losses = []
    for step in range(5):
        scores = [by_hand(x) for x in X]
        loss = losses.hinge(scores, y) + 1e-3 * sum(p * p for p in by_hand.parameters())
        by_hand.zero_grad()
        loss.backward()
        for p in by_hand.parameters():
            p.data -= linear(0.5, 0.1, 5)(step) * p.grad
        expected_losses.append(loss.data)

    assert history.loss == pytest.approx(expected_losses, rel=1e-12)
    for ours, theirs in zip(by_fit.parameters(), by_hand.parameters()):
        assert ours.data == pytest.approx(theirs.data, rel=1e-9, abs=1e-12)


def test_history_has_one_loss_accuracy_and_duration_per_epoch() -> None:
    """History.loss, .accuracy and .seconds each get one entry per epoch."""
    X, y = xor()
    history = fit(MLP(2, [4, 1], seed=0), X, y, epochs=7, progress=False)
    assert isinstance(history, History)
    assert len(history.loss) == len(history.accuracy) == len(history.seconds) == 7
    assert all(0.0 <= a <= 1.0 for a in history.accuracy)
    assert all(s >= 0.0 for s in history.seconds)


def test_the_history_records_the_accuracy_of_the_model_as_each_epoch_saw_it() -> None:
    """With one full batch, history.accuracy[k] is the accuracy before step k."""
    X, y = moons(30, seed=1)
    model = MLP(2, [8, 1], seed=0)
    before = accuracy(model, X, y)
    history = fit(model, X, y, epochs=1, progress=False)
    assert history.accuracy == [before]


def test_batches_give_one_optimizer_step_each() -> None:
    """batch_size=10 on 30 samples: 3 steps per epoch."""
    X, y = moons(30, seed=1)
    model = MLP(2, [4, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    fit(model, X, y, optimizer=optimizer, batch_size=10, epochs=4, progress=False)
    assert optimizer.steps_taken == 12


def test_the_same_seeds_reproduce_a_shuffled_minibatch_run_exactly() -> None:
    """Model seed and fit seed fix everything: two runs give the same history."""
    X, y = moons(40, seed=2)

    def run(seed: int) -> list[float]:
        model = MLP(2, [4, 1], seed=0)
        return fit(model, X, y, batch_size=8, epochs=3, seed=seed, progress=False).loss

    assert run(0) == run(0)
    assert run(0) != run(1)


@pytest.mark.parametrize(
    ("model", "y", "expected"),
    [
        (MLP(2, [4, 3], seed=0), [0, 1, 2, 1], "cross_entropy"),
        (MLP(2, [4, 1], seed=0), [-1, 1, 1, -1], "hinge"),
        (MLP(2, [4, 1], seed=0), [0, 1, 1, 0], "binary_cross_entropy_with_logits"),
        (MLP(2, [4, 1], "relu", "sigmoid", seed=0), [0, 1, 1, 0], "binary_cross_entropy"),
        (MLP(2, [4, 1], seed=0), [0.5, 2.0, -1.5, 0.0], "mse"),
    ],
)
def test_the_default_loss_suits_the_outputs_and_targets(model, y, expected) -> None:
    """Several outputs: cross-entropy; one: BCE (after sigmoid, or on logits), hinge or mse."""
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    state = model.state_dict()
    by_default = fit(model, X, y, epochs=3, progress=False).loss
    model.load_state_dict(state)
    by_name = fit(model, X, y, loss=expected, epochs=3, progress=False).loss
    assert by_default == by_name


def test_a_loss_function_of_your_own_gets_the_outputs_and_targets() -> None:
    """loss= may be any function (outputs, targets) -> Value."""
    seen = []

    def loss(outputs: list[Value], targets: list[float]) -> Value:
        seen.append((len(outputs), list(targets)))
        return losses.mse(outputs, targets)

    fit(
        MLP(2, [3, 1], seed=0),
        [[0.0, 1.0], [1.0, 0.0]],
        [0.5, -0.5],
        loss=loss,
        epochs=2,
        progress=False,
    )
    assert seen == [(2, [0.5, -0.5]), (2, [0.5, -0.5])]


def test_regression_targets_record_nan_accuracy() -> None:
    """Targets that are not class labels have no accuracy: History says NaN."""
    history = fit(
        MLP(1, [4, 1], seed=0), [[0.0], [1.0]], [0.5, 2.5], loss="mse", epochs=2, progress=False
    )
    assert all(math.isnan(a) for a in history.accuracy)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_by_name_get_their_default_learning_rate(name: str) -> None:
    """fit without lr trains exactly as with the optimizer class's default_lr."""
    X, y = xor()
    without_lr, with_lr = MLP(2, [2, 1], seed=0), MLP(2, [2, 1], seed=0)
    fit(without_lr, X, y, optimizer=name, epochs=2, progress=False)
    default = OPTIMIZERS[name].default_lr
    fit(with_lr, X, y, optimizer=name, lr=default, epochs=2, progress=False)
    assert without_lr.state_dict() == with_lr.state_dict()
    assert without_lr.state_dict() != MLP(2, [2, 1], seed=0).state_dict()


def test_fit_names_every_registered_optimizer_and_loss_and_no_other() -> None:
    """fit's names are the registries' keys: an unknown name lists exactly those."""
    X, y = xor()
    with pytest.raises(ValueError, match=re.escape(", ".join(OPTIMIZERS))):
        fit(MLP(2, [2, 1]), X, y, optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match=re.escape(", ".join(LOSSES))):
        fit(MLP(2, [2, 1]), X, y, loss="huber", progress=False)


def test_an_optimizer_object_is_used_as_given() -> None:
    """optimizer=Adam(...) does the stepping; its lr is its own."""
    X, y = xor()
    model = MLP(2, [4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.05)
    fit(model, X, y, optimizer=optimizer, epochs=5, progress=False)
    assert optimizer.steps_taken == 5


def test_fit_takes_numpy_arrays() -> None:
    """X as a 2-D array and y as an int array train like lists do."""
    X, y = moons(20, seed=0)
    from_lists = fit(MLP(2, [4, 1], seed=0), X, y, epochs=2, progress=False).loss
    from_arrays = fit(
        MLP(2, [4, 1], seed=0), np.array(X), np.array(y), epochs=2, progress=False
    ).loss
    assert from_arrays == from_lists


def test_fit_takes_numpy_scalars_in_plain_lists() -> None:
    """Targets and inputs that are NumPy ints and floats in a list train like Python ones,
    and count as class labels for the accuracy, with one output or several."""
    X, y = moons(20, seed=0)
    from_ints = fit(MLP(2, [4, 1], seed=0), X, y, epochs=2, progress=False)
    numpy_y = [np.int64(label) for label in y]
    numpy_X = [[np.float32(v) for v in row] for row in X]
    model = MLP(2, [4, 1], seed=0)
    from_numpy = fit(model, numpy_X, numpy_y, epochs=2, progress=False)
    assert from_numpy.loss == pytest.approx(from_ints.loss, rel=1e-6)
    assert from_numpy.accuracy == from_ints.accuracy
    assert accuracy(model, numpy_X, numpy_y) == accuracy(model, X, y)
    X3, y3 = spirals(10, classes=3, seed=0)
    history = fit(MLP(2, [4, 3], seed=0), X3, [np.int32(c) for c in y3], epochs=1, progress=False)
    assert not math.isnan(history.accuracy[0])
    regression = fit(
        Neuron(1, "linear"),
        [[0.0], [1.0]],
        [np.float64(0.5), np.float32(2)],
        epochs=1,
        progress=False,
    )
    assert math.isnan(regression.accuracy[0])


def test_fit_trains_a_layer_and_a_neuron_too() -> None:
    """Any model with nin and nout: a lone Layer or Neuron is a linear classifier."""
    X, y = [[0.0, 1.0], [1.0, 0.0]], [1, 0]
    for model in (Neuron(2, "linear", seed=0), Layer(2, 2, "linear", seed=0)):
        labels = y if model.nout == 2 else [1, -1]
        fit(model, X, labels, epochs=30, lr=0.5, progress=False)
        assert accuracy(model, X, labels) == 1.0


# ---- the progress bar and the garbage collector -------------------------------------------


def test_the_progress_bar_shows_the_loss_and_accuracy_on_stderr(capsys) -> None:
    """progress=True draws a tqdm bar with loss and accuracy; progress=False draws nothing."""
    X, y = xor()
    fit(MLP(2, [4, 1], seed=0), X, y, epochs=3, progress=True)
    drawn = capsys.readouterr().err
    assert "loss=" in drawn
    assert "accuracy=" in drawn
    assert "3/3" in drawn
    fit(MLP(2, [4, 1], seed=0), X, y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""


def test_the_progress_bar_comes_from_tqdm_auto_so_notebooks_get_a_widget(monkeypatch) -> None:
    """fit builds its bar with tqdm.auto.tqdm, which picks the notebook widget in Jupyter."""
    import tqdm.auto

    made = []

    class RecordingBar:
        def __init__(self, **options: object) -> None:
            made.append(options)

        def set_postfix(self, **values: object) -> None:
            pass

        def update(self) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    X, y = xor()
    fit(MLP(2, [4, 1], seed=0), X, y, epochs=2, progress=True)
    assert made == [{"total": 2, "desc": "fit", "unit": "epoch"}]


def test_fit_leaves_the_garbage_collector_as_it_found_it_even_on_error() -> None:
    """The collector is paused while training and restored after, also when fit raises."""
    X, y = xor()

    def failing_loss(outputs: list[Value], targets: list[int]) -> Value:
        raise RuntimeError("loss failed")

    assert gc.isenabled()
    fit(MLP(2, [2, 1], seed=0), X, y, epochs=1, progress=False)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="loss failed"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss=failing_loss, epochs=1, progress=False)
    assert gc.isenabled()
    gc.disable()
    try:
        fit(MLP(2, [2, 1], seed=0), X, y, epochs=1, progress=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---- predict and accuracy ----------------------------------------------------------------


def _linear_neuron(weights: list[float], bias: float, activation: str = "linear") -> Neuron:
    neuron = Neuron(len(weights), activation, seed=0)
    for w, value in zip(neuron.w, weights):
        w.data = value
    neuron.b.data = bias
    return neuron


def test_one_output_predicts_the_positive_class_when_the_score_is_above_zero() -> None:
    """Score > 0 is class 1; score <= 0 is class 0."""
    neuron = _linear_neuron([1.0], 0.0)
    assert predict(neuron, [[2.0], [-2.0], [0.0]]) == [1, 0, 0]


def test_a_sigmoid_output_predicts_the_positive_class_above_one_half() -> None:
    """A sigmoid output is a probability, so the threshold is 0.5, not 0."""
    neuron = _linear_neuron([1.0], 0.0, "sigmoid")
    assert predict(neuron, [[2.0], [-2.0]]) == [1, 0]


def test_several_outputs_predict_the_index_of_the_largest() -> None:
    """argmax over the outputs."""
    layer = Layer(2, 3, "linear", seed=0)
    for neuron, (w0, w1) in zip(layer.neurons, [(1.0, 0.0), (0.0, 1.0), (-1.0, -1.0)]):
        neuron.w[0].data, neuron.w[1].data = w0, w1
    assert predict(layer, [[2.0, 1.0], [0.0, 3.0], [-2.0, -2.0]]) == [0, 1, 2]


def test_accuracy_counts_minus_one_and_zero_alike_as_the_negative_class() -> None:
    """Targets {0, 1} and {-1, +1} give the same accuracy."""
    neuron = _linear_neuron([1.0], 0.0)
    X = [[1.0], [-1.0], [2.0], [-3.0]]
    assert accuracy(neuron, X, [1, 0, 0, 0]) == 0.75
    assert accuracy(neuron, X, [1, -1, -1, -1]) == 0.75


def test_predict_records_no_graph() -> None:
    """Evaluation runs under no_grad."""
    seen = []

    class Recorder(Module):
        nin, nout = 1, 1

        def __call__(self, x: object) -> Value:
            seen.append(is_grad_enabled())
            with no_grad():
                return Value(1.0)

    predict(Recorder(), [[0.0], [1.0]])
    assert seen == [False, False]


def test_accuracy_of_targets_that_are_not_labels_is_a_value_error() -> None:
    """accuracy needs class labels and says which value is not one."""
    with pytest.raises(ValueError, match=r"class labels \(ints 0\.\.2\).*such as 3"):
        accuracy(MLP(2, [3], seed=0), [[0.0, 0.0]], [3])


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "y", "options", "message"),
    [
        ([[0.0, 1.0]], [1, 0], {}, "X has 1 samples but y has 2 targets"),
        ([], [], {}, "X is empty"),
        (
            [[0.0, 1.0], [1.0, 2.0, 3.0]],
            [1, 0],
            {},
            "sample 1 has 3 features, but the model takes 2",
        ),
        ([[0.0, 1.0]], [1], {"epochs": 0}, "epochs must be an int of at least 1"),
        ([[0.0, 1.0]], [1], {"batch_size": 0}, "batch_size must be an int of at least 1"),
        ([[0.0, 1.0]], [1], {"loss": "l1"}, "loss must be one of mse, "),
        ([[0.0, 1.0]], [1], {"optimizer": "lbfgs"}, "optimizer must be one of sgd, "),
        ([[0.0, 1.0]], [1], {"l2": -1.0}, "l2 must be >= 0"),
    ],
)
def test_bad_data_and_options_are_value_errors_saying_which(X, y, options, message) -> None:
    """Mismatched lengths, empty data, wrong widths, bad counts and names: ValueError."""
    with pytest.raises(ValueError, match=message):
        fit(MLP(2, [2, 1], seed=0), X, y, progress=False, **options)


def test_an_optimizer_object_and_an_lr_together_are_refused() -> None:
    """lr belongs to the optimizer object when one is given."""
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="leave lr out"):
        fit(model, [[0.0, 1.0]], [1], optimizer=SGD(model.parameters(), lr=0.1), lr=0.5)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_targets_and_inputs_are_value_errors_naming_the_sample(bad: float) -> None:
    """A NaN or infinite target or input would train every parameter to NaN without a
    word: fit, predict and accuracy refuse it and say where it is."""
    model = MLP(2, [2, 1], seed=0)
    X, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [1, 0, 1]
    with pytest.raises(ValueError, match=rf"fit: y\[1\]: expected a finite number, got {bad}"):
        fit(model, X, [1, bad, 1], progress=False)
    with pytest.raises(ValueError, match=rf"fit: y\[2\]: expected a finite number, got {bad}"):
        fit(model, X, [1, 0, np.float64(bad)], progress=False)
    bad_X = [[0.0, 1.0], [1.0, 0.0], [1.0, bad]]
    for where, call in [
        ("fit", lambda: fit(model, bad_X, y, progress=False)),
        ("predict", lambda: predict(model, bad_X)),
        ("accuracy", lambda: accuracy(model, bad_X, y)),
        ("predict", lambda: predict(model, np.array(bad_X))),
    ]:
        with pytest.raises(
            ValueError, match=rf"{where}: sample 2: expected a finite number, got {bad}"
        ):
            call()


def test_booleans_are_not_numbers_to_fit() -> None:
    """True as a target is nearly always a bug: Python's bool and NumPy's alike."""
    model = MLP(2, [1], seed=0)
    for flag in (True, np.bool_(True)):
        with pytest.raises(TypeError, match=r"y\[0\]: expected a real number .* got .*True"):
            fit(model, [[0.0, 1.0]], [flag], progress=False)


@pytest.mark.parametrize("seed", ["a", 1.5, None, True])
def test_a_seed_that_is_not_an_int_is_a_type_error(seed: object) -> None:
    """The shuffling seed is checked up front, not met deep inside as a failed sum."""
    with pytest.raises(TypeError, match=rf"fit: seed must be an int, got {re.escape(repr(seed))}"):
        fit(
            MLP(2, [1], seed=0),
            [[0.0, 1.0], [1.0, 0.0]],
            [1, 0],
            seed=seed,
            batch_size=1,
            progress=False,
        )


def test_a_numpy_int_seed_shuffles_as_the_int_does() -> None:
    """np.int64(3) is as good a seed as 3."""
    X, y = moons(20, seed=0)
    runs = [
        fit(MLP(2, [4, 1], seed=0), X, y, epochs=2, batch_size=5, seed=seed, progress=False).loss
        for seed in (3, np.int64(3))
    ]
    assert runs[0] == runs[1]


def test_non_numeric_samples_and_targets_are_type_errors() -> None:
    """A string in X or y is a TypeError naming the sample or target."""
    with pytest.raises(TypeError, match="sample 1: expected a real number"):
        predict(MLP(2, [1], seed=0), [[0.0, 1.0], [0.0, "x"]])
    with pytest.raises(TypeError, match=r"y\[0\]: expected a real number .* got 'a'"):
        fit(MLP(2, [1], seed=0), [[0.0, 1.0]], ["a"], progress=False)


# ---- mistakes a learner makes with fit ----------------------------------------------------


def test_an_optimizer_class_instead_of_an_optimizer_is_explained() -> None:
    """fit(optimizer=Adam) names the mistake and both ways to write it right."""
    X, y = xor()
    with pytest.raises(
        TypeError,
        match=r"optimizer is the class Adam, not an optimizer; pass optimizer='adam', or "
        r"optimizer=Adam\(model.parameters\(\), lr=...\)",
    ):
        fit(MLP(2, [2, 1], seed=0), X, y, optimizer=Adam, progress=False)


def test_an_optimizer_of_another_model_is_refused() -> None:
    """Training would change nothing for 20 epochs: fit says so before the first one."""
    X, y = xor()
    model, other = MLP(2, [2, 1], seed=0), MLP(2, [2, 1], seed=1)
    with pytest.raises(ValueError, match="holds none of the model's parameters"):
        fit(model, X, y, optimizer=SGD(other.parameters(), lr=0.1), epochs=20, progress=False)
    assert model.state_dict() == MLP(2, [2, 1], seed=0).state_dict()


def test_a_loss_function_that_returns_a_float_is_explained() -> None:
    """A loss computed from .data has no graph: the error says to use Value arithmetic."""
    X, y = xor()

    def float_loss(outputs: list[Value], targets: list[int]) -> float:
        return sum((o.data - t) ** 2 for o, t in zip(outputs, targets))

    with pytest.raises(TypeError, match=r"returned .* of type float, not a Value"):
        fit(MLP(2, [2, 1], seed=0), X, y, loss=float_loss, progress=False)


@pytest.mark.parametrize("l2", [math.inf, math.nan, -0.5])
def test_an_infinite_or_negative_l2_is_refused(l2: float) -> None:
    """l2=inf would make every weight NaN after one step."""
    X, y = xor()
    with pytest.raises(ValueError, match="fit: l2 must be"):
        fit(MLP(2, [2, 1], seed=0), X, y, l2=l2, progress=False)


def test_numpy_ints_are_counts_and_seeds_to_fit() -> None:
    """epochs=np.int64(2), batch_size=np.int32(2) and seed=np.int64(1) are ints."""
    X, y = xor()
    runs = [
        fit(MLP(2, [2, 1], seed=0), X, y, epochs=e, batch_size=b, seed=s, progress=False).loss
        for e, b, s in [(2, 2, 1), (np.int64(2), np.int32(2), np.int64(1))]
    ]
    assert runs[0] == runs[1]


# ---- the callback ---------------------------------------------------------------------


def test_the_callback_runs_every_n_epochs_and_after_the_last_with_the_history_so_far() -> None:
    """callback(model, history) after epochs 3, 6, 9 and 10 of 10 with every=3."""
    X, y = xor()
    model = MLP(2, [4, 1], seed=0)
    calls: list[tuple[Module, int]] = []
    history = fit(
        model,
        X,
        y,
        epochs=10,
        progress=False,
        callback=lambda m, h: calls.append((m, len(h.loss))),
        every=3,
    )
    assert [epochs for _, epochs in calls] == [3, 6, 9, 10]
    assert all(m is model for m, _ in calls)
    assert len(history.loss) == 10


def test_the_callback_sees_the_gradients_of_the_last_batch() -> None:
    """At the callback, each parameter's .grad is what the optimizer stepped with."""
    X, y = xor()
    model = MLP(2, [4, 1], seed=0)
    stepped_with: list[float] = []

    class Recording:
        def step(self) -> None:
            stepped_with[:] = [p.grad for p in model.parameters()]
            for p in model.parameters():
                p.data -= 0.1 * p.grad

        def zero_grad(self) -> None:
            model.zero_grad()

    seen: list[list[float]] = []
    fit(
        model,
        X,
        y,
        optimizer=Recording(),
        epochs=2,
        progress=False,
        callback=lambda m, h: seen.append([p.grad for p in m.parameters()]),
    )
    assert seen[-1] == stepped_with
    assert any(g != 0.0 for g in stepped_with)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"callback": "draw"}, TypeError, r"fit: callback must be a function of \(model, hist"),
        ({"every": 0}, ValueError, r"every"),
        ({"every": 2.5}, TypeError, r"every"),
    ],
)
def test_a_callback_that_is_not_a_function_or_a_bad_every_is_refused(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    """fit refuses a callback it cannot call and an `every` that is not a count >= 1."""
    X, y = xor()
    with pytest.raises(error, match=message):
        fit(MLP(2, [4, 1], seed=0), X, y, epochs=2, progress=False, **options)  # type: ignore[arg-type]
