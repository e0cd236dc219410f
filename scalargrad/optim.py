"""Optimizers that move parameters against their gradients, and learning-rate schedules.

The update formulas are PyTorch's (`torch.optim`), so a run here and a run there
agree to rounding. A learning rate is a number or a schedule: a function from the
step index (0 for the first step) to the learning rate of that step.

>>> from scalargrad import Value
>>> x = Value(3.0)
>>> optimizer = SGD([x], lr=0.25)
>>> (x * x).backward()
>>> optimizer.step()
>>> x.data
1.5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from scalargrad import validate
from scalargrad.engine import Value, no_grad

Schedule = Callable[[int], float]
LearningRate = float | Schedule

# Every optimizer by its name ("sgd", "adam", ...), filled in as each class is defined:
# fit(optimizer="adam") and the command line's --optimizer read this, and nothing else.
OPTIMIZERS: dict[str, type[Optimizer]] = {}


class Optimizer:
    """The shared part: parameters, learning rate, step counting, `zero_grad()`.

    A subclass says how one parameter moves in `_update`, and registers under a name
    with `class Name(Optimizer, name="name")`; its `default_lr` is the learning rate
    it gets when it is given none.
    """

    default_lr: ClassVar[float]
    # Names of the per-parameter lists `_update` reads and writes at index i (velocities,
    # running averages): `stepping_arrays` holds them as arrays meanwhile.
    _state: ClassVar[tuple[str, ...]] = ()
    params: list[Value]
    lr: LearningRate
    # How many times step() has run; the index the schedule is given on the next step.
    steps_taken: int

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if name is not None:
            if name in OPTIMIZERS:
                raise ValueError(f"an optimizer named {name!r} exists already")
            OPTIMIZERS[name] = cls

    def __init__(self, params: Iterable[Value], lr: LearningRate | None) -> None:
        if callable(getattr(params, "parameters", None)):  # a model, which is not iterable
            raise TypeError(
                f"{self._name}: got the model {type(params).__name__}; pass its parameters: "
                f"{self._name}(model.parameters(), ...)"
            )
        validate.ordered(params, self._name, "params")
        self.params = list(params)
        if not self.params:
            raise ValueError(
                f"{self._name}: params is empty; pass the parameters to train, "
                f"e.g. model.parameters()"
            )
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{self._name}: params must be Values, got {type(p).__name__} at position {i}"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{self._name}: params holds {p!r} twice (again at position {i}), so "
                    f"each step would move it twice; pass each parameter once"
                )
            seen.add(id(p))
        if lr is None:
            lr = self.default_lr
        elif not callable(lr):
            lr = validate.non_negative(lr, self._name, "lr")
        self.lr = lr
        self.steps_taken = 0

    @property
    def _name(self) -> str:
        return type(self).__name__

    def current_lr(self) -> float:
        """The learning rate the next `step()` uses."""
        lr = self.lr(self.steps_taken) if callable(self.lr) else self.lr
        return validate.non_negative(
            lr, self._name, f"the learning rate at step {self.steps_taken}"
        )

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0, ready for the next backward()."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter once, using the gradients backward() left in `.grad`."""
        lr = self.current_lr()
        # Only p.data changes, but a gradient may be a Value (after create_graph=True),
        # and no arithmetic here belongs in a graph.
        with no_grad():
            for i, p in enumerate(self.params):
                p.data = self._update(i, p.data, float(p.grad), lr)
        self.steps_taken += 1

    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        """The new value of parameter number `i`, from its value and its gradient."""
        raise NotImplementedError

    @property
    def steps_arrays(self) -> bool:
        """Whether `stepping_arrays` can run this optimizer: the package's own update
        rules are written to run unchanged on NumPy arrays; a subclass's own `_update`
        or `step` may not be."""
        return type(self)._update in _ARRAY_UPDATES and type(self).step is Optimizer.step

    @contextmanager
    def stepping_arrays(self, params: Sequence[Value]) -> Iterator[Callable[[Any, Any], Any]]:
        """For compiled training: a function `step(data, grad) -> new data` on NumPy arrays
        holding `params` (this optimizer's parameters, in any order), one update rule
        for the whole array instead of a call per Value. Meanwhile the per-parameter
        state lives in arrays in the order of `params`; it is back in its lists after.
        The Values' `.data` and `.grad` are the caller's to write back.
        """
        import numpy as np

        if not self.steps_arrays:
            raise TypeError(f"{self._name}: its _update is not known to run on arrays")
        position = {id(p): i for i, p in enumerate(self.params)}
        if len(params) != len(self.params) or any(id(p) not in position for p in params):
            raise ValueError(f"{self._name}: stepping_arrays needs exactly its own parameters")
        index = [position[id(p)] for p in params]
        lists = {name: getattr(self, name) for name in self._state}
        for name, values in lists.items():
            setattr(self, name, np.array(values, dtype=float)[index])
        everything = slice(None)  # `_update` indexes the state with it: every parameter

        def step(data: Any, grad: Any) -> Any:
            lr = self.current_lr()
            data = self._update(everything, data, grad, lr)  # type: ignore[arg-type]
            self.steps_taken += 1
            return data

        try:
            yield step
        finally:
            for name, values in lists.items():
                for i, x in zip(index, getattr(self, name).tolist()):
                    values[i] = x
                setattr(self, name, values)


class SGD(Optimizer, name="sgd"):
    """Stochastic gradient descent, with optional momentum and L2 weight decay.

    With momentum mu the step follows a running sum of gradients, b = mu * b + g;
    Nesterov momentum steps along g + mu * b instead. Without `lr` it steps with
    micrograd's demo's 0.1.
    """

    default_lr = 0.1
    default_momentum = 0.0
    _state = ("velocities",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate | None = None,
        momentum: float | None = None,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if momentum is None:
            momentum = self.default_momentum
        self.momentum = validate.non_negative(momentum, self._name, "momentum")
        self.weight_decay = validate.non_negative(weight_decay, self._name, "weight_decay")
        if nesterov and self.momentum == 0.0:
            raise ValueError(f"{self._name}: nesterov=True needs momentum > 0")
        self.nesterov = nesterov
        self.velocities = [0.0] * len(self.params)

    # The update rules run on floats here and on NumPy arrays in compiled fit (see
    # `stepping_arrays`): `grad = grad + ...` where += would change the caller's array,
    # and `_sqrt`, as math.sqrt takes floats only.
    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        grad = grad + self.weight_decay * data
        if self.momentum != 0.0:
            velocity = self.momentum * self.velocities[i] + grad
            self.velocities[i] = velocity
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        return data - lr * grad


class Momentum(SGD, name="momentum"):
    """SGD with momentum 0.9 (unless given): steps follow a running sum of gradients."""

    default_momentum = 0.9


class Adam(Optimizer, name="adam"):
    """Adam: steps scaled by running averages of the gradient and of its square.

    `weight_decay` adds weight_decay * p to the gradient (L2), as torch.optim.Adam does;
    for weight decay kept out of the averages, use AdamW.
    """

    default_lr = 1e-3
    _state = ("first_moments", "second_moments")
    # AdamW shrinks the weights directly instead of adding to the gradient.
    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate | None = None,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        beta1, beta2 = (
            validate.decay_rate(beta, self._name, f"betas[{k}]") for k, beta in enumerate(betas)
        )
        self.betas = (beta1, beta2)
        self.eps = validate.non_negative(eps, self._name, "eps")
        self.weight_decay = validate.non_negative(weight_decay, self._name, "weight_decay")
        self.first_moments = [0.0] * len(self.params)
        self.second_moments = [0.0] * len(self.params)

    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        beta1, beta2 = self.betas
        if self._decoupled_weight_decay:
            data = data - lr * self.weight_decay * data
        else:
            grad = grad + self.weight_decay * data
        m = beta1 * self.first_moments[i] + (1.0 - beta1) * grad
        v = beta2 * self.second_moments[i] + (1.0 - beta2) * grad * grad
        self.first_moments[i], self.second_moments[i] = m, v
        # Both averages start at 0, which biases them toward 0 early on; dividing by
        # 1 - beta**t removes that bias.
        t = self.steps_taken + 1
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        return data - lr * m_hat / (_sqrt(v_hat) + self.eps)


class AdamW(Adam, name="adamw"):
    """Adam with decoupled weight decay: each step first shrinks p by lr * weight_decay * p."""

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate | None = None,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer, name="rmsprop"):
    """RMSprop: steps divided by the root of a running average of squared gradients."""

    default_lr = 1e-2
    _state = ("square_averages", "velocities")

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate | None = None,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = validate.decay_rate(alpha, self._name, "alpha")
        self.eps = validate.non_negative(eps, self._name, "eps")
        self.momentum = validate.non_negative(momentum, self._name, "momentum")
        self.square_averages = [0.0] * len(self.params)
        self.velocities = [0.0] * len(self.params)

    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        square_average = self.alpha * self.square_averages[i] + (1.0 - self.alpha) * grad * grad
        self.square_averages[i] = square_average
        scaled_grad = grad / (_sqrt(square_average) + self.eps)
        if self.momentum != 0.0:
            scaled_grad = self.momentum * self.velocities[i] + scaled_grad
            self.velocities[i] = scaled_grad
        return data - lr * scaled_grad


# The update rules written to run on arrays as on floats (see SGD._update).
_ARRAY_UPDATES = {SGD._update, Adam._update, RMSprop._update}


# ---- learning-rate schedules ----------------------------------------------------------


def constant(lr: float) -> Schedule:
    """The same learning rate at every step.

    >>> constant(0.1)(0), constant(0.1)(1000)
    (0.1, 0.1)
    """
    rate = validate.non_negative(lr, "constant", "lr")
    return lambda step: rate


def linear(start: float, end: float, steps: int) -> Schedule:
    """From `start` at step 0 in a straight line to `end` at `steps`, then `end`.

    >>> schedule = linear(1.0, 0.0, steps=4)
    >>> [schedule(step) for step in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    _check_schedule("linear", start, end, steps)

    def schedule(step: int) -> float:
        progress = _progress("linear", step, steps)
        return start * (1.0 - progress) + end * progress

    return schedule


def cosine(start: float, end: float, steps: int) -> Schedule:
    """From `start` at step 0 along half a cosine wave to `end` at `steps`, then `end`.

    It starts and ends flat, falling fastest halfway.

    >>> schedule = cosine(1.0, 0.0, steps=4)
    >>> [round(schedule(step), 4) for step in range(6)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """
    _check_schedule("cosine", start, end, steps)

    def schedule(step: int) -> float:
        progress = _progress("cosine", step, steps)
        return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return schedule


# ---- helpers ------------------------------------------------------------------------


def _sqrt(x: float) -> float:
    """The square root of a float, or of each number of a NumPy array (compiled fit)."""
    root: float = x**0.5
    return root


def _check_schedule(where: str, start: float, end: float, steps: int) -> None:
    validate.non_negative(start, where, "start")
    validate.non_negative(end, where, "end")
    validate.count(steps, where, "steps")


def _progress(where: str, step: int, steps: int) -> float:
    """How far along the schedule `step` is: 0.0 at the start, 1.0 at `steps` and after."""
    if step < 0:
        raise ValueError(f"{where}: the step index must be >= 0, got {step!r}")
    return min(step, steps) / steps
