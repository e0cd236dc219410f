"""Training and evaluation: `fit`, `History`, `predict`, `accuracy`.

>>> from scalargrad.data import xor
>>> from scalargrad.nn import MLP
>>> X, y = xor()
>>> model = MLP(2, [4, 1], "tanh", seed=0)
>>> history = fit(model, X, y, optimizer="adam", lr=0.1, epochs=300, progress=False)
>>> predict(model, X), y
([0, 1, 1, 0], [0, 1, 1, 0])

How an output becomes a class: a one-output model scores the positive class, so
the prediction is 1 when the score is > 0 (> 0.5 when the output layer is a
sigmoid, whose output is a probability) and 0 otherwise; a model with several
outputs predicts the index of the largest. Targets of -1 and 0 both mean "not the
positive class" to a one-output model.
"""

from __future__ import annotations

import gc
import math
import numbers
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

from scalargrad import losses, validate
from scalargrad.data import batches
from scalargrad.engine import Value, no_grad
from scalargrad.losses import LOSSES, LossFunction
from scalargrad.nn import Module, decision_threshold
from scalargrad.optim import OPTIMIZERS, Optimizer, Schedule


class Steppable(Protocol):
    """What `fit` needs of an optimizer object: scalargrad.optim's, or one of your own."""

    def step(self) -> None: ...

    def zero_grad(self) -> None: ...


@dataclass
class History:
    """What happened in each epoch of `fit`: one entry per epoch in each list.

    `loss` and `accuracy` are measured on the batches as they are trained on (before
    each batch's update), so recording them costs no extra pass over the data.
    `accuracy` is NaN when the targets are not class labels (regression).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def fit(
    model: Module,
    X: Sequence[Sequence[Any]],
    y: Sequence[Any],
    *,
    loss: str | LossFunction | None = None,
    optimizer: str | Steppable = "sgd",
    lr: float | Schedule | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    l2: float = 0.0,
    shuffle: bool = True,
    seed: int = 0,
    progress: bool = True,
    compile: bool = False,
    callback: Callable[[Module, History], object] | None = None,
    every: int = 1,
) -> History:
    """Train `model` on samples `X` with targets `y` for `epochs` passes; return the History.

    - `loss`: a name in `scalargrad.losses.LOSSES` or a function
      `(outputs, targets) -> Value`, where outputs are one Value per sample (a list
      of Values for a model with several outputs). By default: cross_entropy for
      several outputs; for one output, binary_cross_entropy after a sigmoid, hinge
      for targets in {-1, 1}, binary_cross_entropy_with_logits for targets in {0, 1}, mse otherwise.
    - `optimizer`: a name in `scalargrad.optim.OPTIMIZERS` ("sgd", the default, with
      lr 0.1 unless given; "momentum", "adam", "adamw", "rmsprop"), or an optimizer
      made on `model.parameters()` (then leave out `lr`).
    - `lr`: a number, or a schedule from `scalargrad.optim` (`linear(1.0, 0.1, 100)`).
    - `batch_size`: None trains on all samples at once (one step per epoch); a number
      splits each epoch into batches, reshuffled every epoch when `shuffle`.
    - `l2`: adds `l2 * sum(p * p)` over the parameters to the loss.
    - `seed`: an int that fixes the shuffling of the batches (epoch k uses seed + k).
    - `progress`: a tqdm progress bar with the loss and accuracy (a widget in notebooks).
    - `compile`: trace the model and the loss once and train through NumPy, each layer
      a matrix product over the batch (`scalargrad.compile.TrainingStep`): the same
      numbers to rounding, many times faster. The model must build the same graph for
      every sample and the loss be a mean over samples, as the package's are; the
      first step is checked against the eager engine. Meanwhile the parameters'
      numbers live in a NumPy array, which the package's optimizers update at once;
      each Value's `.data` and `.grad` are written back before every callback and
      when fit returns (or raises), and `.data` is read back after every callback,
      which may change it.
    - `callback`: called as `callback(model, history)` after every `every` epochs and
      after the last, with each parameter's `.grad` still that of the last batch; a
      `scalargrad.viz.LiveView` redraws the training from it.
    """
    inputs, targets = _checked_samples("fit", model, X, y)
    epochs = validate.count(epochs, "fit", "epochs")
    if batch_size is not None:
        batch_size = validate.count(batch_size, "fit", "batch_size")
    l2 = validate.non_negative(l2, "fit", "l2")
    seed = validate.integer(seed, "fit", "seed")
    every = validate.count(every, "fit", "every")
    if callback is not None and not callable(callback):
        raise TypeError(
            f"fit: callback must be a function of (model, history), got {type(callback).__name__}"
        )
    loss_function = _loss_function(model, targets, loss)
    parameters = model.parameters()
    stepper = _optimizer(optimizer, parameters, lr)
    is_labelled = _are_class_labels(targets, model.nout)
    threshold = decision_threshold(model)

    # Samples become leaf Values once, not once per epoch.
    samples = [[Value(v) for v in row] for row in inputs]
    compiled = None
    if compile:
        from scalargrad.compile import TrainingStep  # only when asked for: it loads NumPy

        penalty = (lambda: losses.l2_penalty(parameters, l2)) if l2 else None
        compiled = _CompiledTraining(
            TrainingStep(model, samples, targets, parameters, loss_function, penalty), stepper
        )
    history = History()
    bar = _progress_bar(epochs, progress)
    # Graphs here hold no reference cycles and die by reference counting; the cyclic
    # collector would only re-scan every live graph node again and again (about an
    # eighth of the time of a step on the standard workload), so it waits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for epoch in range(epochs):
            start = time.perf_counter()
            # Compiled training takes its batches as row numbers (None: all), in the same order.
            if batch_size is None:
                epoch_batches: Any = [(samples if compiled is None else None, targets)]
            else:
                data = samples if compiled is None else list(range(len(samples)))
                epoch_batches = batches(data, targets, batch_size, shuffle, seed=seed + epoch)
            total_loss = 0.0
            correct = 0
            for batch_inputs, batch_targets in epoch_batches:
                if compiled is not None:
                    loss_value, scores = compiled.step(batch_inputs)
                    total_loss += loss_value * len(batch_targets)
                    if is_labelled:
                        correct += _count_correct_scores(scores, batch_targets, threshold)
                    continue
                outputs = [model(sample) for sample in batch_inputs]
                batch_loss = loss_function(outputs, batch_targets)
                if not isinstance(batch_loss, Value):
                    raise TypeError(
                        f"fit: the loss function returned {batch_loss!r} of type "
                        f"{type(batch_loss).__name__}, not a Value, so there is nothing to "
                        f"backpropagate; compute the loss from the outputs with Value "
                        f"arithmetic (as scalargrad.losses does), not from their .data"
                    )
                if l2:
                    batch_loss = batch_loss + losses.l2_penalty(parameters, l2)
                stepper.zero_grad()
                batch_loss.backward()
                stepper.step()
                total_loss += batch_loss.data * len(batch_inputs)
                if is_labelled:
                    correct += _count_correct(outputs, batch_targets, threshold)
                # Free this step's graph now, so the next one reuses its memory
                # (still warm in the cache) instead of being built beside it.
                del outputs, batch_loss
            history.loss.append(total_loss / len(samples))
            history.accuracy.append(correct / len(samples) if is_labelled else math.nan)
            history.seconds.append(time.perf_counter() - start)
            if bar is not None:
                bar.set_postfix(
                    loss=f"{history.loss[-1]:.4f}",
                    accuracy=f"{history.accuracy[-1]:.1%}",
                    refresh=False,
                )
                bar.update()
            if callback is not None and ((epoch + 1) % every == 0 or epoch + 1 == epochs):
                if compiled is not None:
                    compiled.write_back()
                try:
                    callback(model, history)
                finally:  # training goes on from the numbers the callback left
                    if compiled is not None:
                        compiled.read_back()
    finally:
        if compiled is not None:
            compiled.close()
        if collecting:
            gc.enable()
        if bar is not None:
            bar.close()
    return history


def predict(model: Module, X: Sequence[Sequence[Any]]) -> list[int]:
    """The predicted class of each sample in `X`, computed without recording a graph."""
    inputs, _ = _checked_samples("predict", model, X, None)
    threshold = decision_threshold(model)
    with no_grad():
        return [_predicted_class(model(row), threshold) for row in inputs]


def accuracy(model: Module, X: Sequence[Sequence[Any]], y: Sequence[Any]) -> float:
    """The fraction of samples in `X` whose predicted class is their label in `y`."""
    inputs, targets = _checked_samples("accuracy", model, X, y)
    if not _are_class_labels(targets, model.nout):
        raise ValueError(
            f"accuracy: y must hold class labels ({_label_rule(model.nout)}), "
            f"got values such as {_first_non_label(targets, model.nout)!r}"
        )
    predictions = predict(model, inputs)
    return sum(p == _class_of(t, model.nout) for p, t in zip(predictions, targets)) / len(targets)


class _CompiledTraining:
    """fit's compiled steps. The parameters' numbers live in a NumPy array meanwhile,
    and the package's optimizers update that array at once (`stepping_arrays`); the
    Values' `.data` and `.grad` are written back where anyone can look: before each
    callback (and read back after it, which may have changed them) and when fit ends.
    An optimizer of one's own steps the Values themselves.
    """

    def __init__(self, step: Any, stepper: Steppable) -> None:
        self.step_program = step
        self.theta = step.read_parameters()
        self.grad = None
        self.closing = ExitStack()
        params = step.theta_parameters
        if (
            isinstance(stepper, Optimizer)
            and stepper.steps_arrays
            and _same(stepper.params, params)
        ):
            self.update = self.closing.enter_context(stepper.stepping_arrays(params))
        else:
            self.update = self._step_values(stepper)

    def _step_values(self, stepper: Steppable) -> Callable[[Any, Any], Any]:
        def update(theta: Any, grad: Any) -> Any:
            self.step_program.write_parameters(theta, grad)
            stepper.step()
            return self.step_program.read_parameters()

        return update

    def step(self, rows: list[int] | None) -> tuple[float, Any]:
        """One batch: its loss and outputs (before the update), then the update."""
        loss, outputs, self.grad = self.step_program(rows, self.theta)
        # In place: the step's views of theta (W1, b1, ...) stay those of the one array.
        self.theta[...] = self.update(self.theta, self.grad)
        return loss, outputs

    def write_back(self) -> None:
        """The parameters' `.data` as trained so far, `.grad` that of the last batch."""
        if self.grad is not None:
            self.step_program.write_parameters(self.theta, self.grad)

    def read_back(self) -> None:
        """The parameters' `.data` into theta (in place), as a callback may have set them."""
        self.theta[...] = self.step_program.read_parameters()

    def close(self) -> None:
        """Write back, and give the optimizer its own state back."""
        self.write_back()
        self.closing.close()


def _same(params: list[Value], others: list[Value]) -> bool:
    return len(params) == len(others) and {id(p) for p in params} == {id(p) for p in others}


# ---- checking the data ----------------------------------------------------------------


def _checked_samples(
    where: str, model: Module, X: Sequence[Sequence[Any]], y: Sequence[Any] | None
) -> tuple[list[list[float]], list[Any]]:
    """X as rows of floats and y as a list, after checking sizes, widths and types."""
    rows, targets = validate.samples(where, X, y)
    targets = [_checked_target(where, i, t) for i, t in enumerate(targets)]
    checked = []
    for i, row in enumerate(rows):
        validate.ordered(row, where, f"sample {i}")
        try:
            width = len(row)
        except TypeError:
            raise TypeError(
                f"{where}: sample {i} is {row!r}; each sample must be a sequence of numbers"
            ) from None
        if width != model.nin:
            raise ValueError(
                f"{where}: sample {i} has {width} features, but the model takes {model.nin} inputs"
            )
        checked.append([validate.finite_number(v, f"{where}: sample {i}") for v in row])
    return checked, targets


def _checked_target(where: str, i: int, t: Any) -> int | float:
    """Target `i` as a Python int or float: any real number (NumPy's too) but a bool."""
    if isinstance(t, numbers.Integral) and not isinstance(t, bool):
        return int(t)
    return validate.finite_number(t, f"{where}: y[{i}]")


def _label_rule(nout: int) -> str:
    return "0 or 1, or -1 or 1" if nout == 1 else f"ints 0..{nout - 1}"


def _is_label(t: Any, nout: int) -> bool:
    if nout == 1:
        return t in (-1, 0, 1)
    return isinstance(t, int) and 0 <= t < nout


def _are_class_labels(targets: list[Any], nout: int) -> bool:
    return all(_is_label(t, nout) for t in targets)


def _first_non_label(targets: list[Any], nout: int) -> Any:
    return next(t for t in targets if not _is_label(t, nout))


# ---- outputs to classes ---------------------------------------------------------------


def _class_of(target: Any, nout: int) -> int:
    return (1 if target > 0 else 0) if nout == 1 else int(target)


def _predicted_class(output: Value | list[Value], threshold: float) -> int:
    if isinstance(output, Value):
        return 1 if output.data > threshold else 0
    return _predicted_class_of([v.data for v in output])


def _count_correct(outputs: list[Any], targets: list[Any], threshold: float) -> int:
    if outputs and isinstance(outputs[0], Value):
        return sum((out.data > threshold) == (t > 0) for out, t in zip(outputs, targets))
    return sum(_predicted_class(out, threshold) == t for out, t in zip(outputs, targets))


def _count_correct_scores(scores: Any, targets: list[Any], threshold: float) -> int:
    """`_count_correct` for outputs given as a NumPy array, a row of scores per sample."""
    import numpy as np

    if scores.shape[1] == 1:
        return int(np.count_nonzero((scores[:, 0] > threshold) == (np.asarray(targets) > 0)))
    if np.isnan(scores).any():  # argmax takes NaN for the largest; Python's max does not
        return sum(_predicted_class_of(row) == t for row, t in zip(scores.tolist(), targets))
    return int(np.count_nonzero(scores.argmax(axis=1) == np.asarray(targets)))


def _predicted_class_of(scores: list[float]) -> int:
    return scores.index(max(scores))


# ---- choosing the loss and the optimizer ----------------------------------------------


def _loss_function(
    model: Module, targets: list[Any], loss: str | LossFunction | None
) -> LossFunction:
    """The loss function `loss` names (or is), or the default for the model and targets."""
    if loss is None:
        return LOSSES[_default_loss(model, targets)]
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(f"fit: loss must be a name or a function, got {type(loss).__name__}")
    return loss


def _default_loss(model: Module, targets: list[Any]) -> str:
    if model.nout > 1:
        return "cross_entropy"
    if decision_threshold(model) == 0.5:
        return "binary_cross_entropy"
    values = set(targets)
    if values <= {-1, 1}:
        return "hinge"
    if values <= {0, 1}:
        return "binary_cross_entropy_with_logits"
    return "mse"


def _optimizer(
    optimizer: str | Steppable, parameters: list[Value], lr: float | Schedule | None
) -> Steppable:
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"fit: optimizer must be one of {', '.join(OPTIMIZERS)} or an optimizer "
                f"object, got {optimizer!r}"
            )
        return OPTIMIZERS[optimizer](parameters, lr=lr)
    if isinstance(optimizer, type):
        names = [name for name, cls in OPTIMIZERS.items() if cls is optimizer]
        by_name = f"optimizer={names[0]!r}, or " if names else ""
        raise TypeError(
            f"fit: optimizer is the class {optimizer.__name__}, not an optimizer; pass "
            f"{by_name}optimizer={optimizer.__name__}(model.parameters(), lr=...)"
        )
    if lr is not None:
        raise ValueError("fit: lr is set on the optimizer object you passed; leave lr out of fit()")
    if not (
        callable(getattr(optimizer, "step", None))
        and callable(getattr(optimizer, "zero_grad", None))
    ):
        raise TypeError(
            f"fit: optimizer must be a name or have step() and zero_grad(), "
            f"got {type(optimizer).__name__}"
        )
    if isinstance(optimizer, Optimizer):
        held = {id(p) for p in optimizer.params}
        if not any(id(p) in held for p in parameters):
            raise ValueError(
                f"fit: the {type(optimizer).__name__} holds none of the model's parameters, "
                f"so training would change nothing; make it with "
                f"{type(optimizer).__name__}(model.parameters(), ...) for this model"
            )
    return optimizer


def _progress_bar(epochs: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm  # only when asked for: tqdm.auto looks for Jupyter

    return tqdm(total=epochs, desc="fit", unit="epoch")
