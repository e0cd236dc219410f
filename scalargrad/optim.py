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
import numbers
from collections.abc import Callable, Iterable

from scalargrad.engine import Value, no_grad

Schedule = Callable[[int], float]
LearningRate = float | Schedule


class Optimizer:
    """The shared part: parameters, learning rate, step counting, `zero_grad()`.

    A subclass says how one parameter moves in `_update`.
    """

    params: list[Value]
    lr: LearningRate
    # How many times step() has run; the index the schedule is given on the next step.
    steps_taken: int

    def __init__(self, params: Iterable[Value], lr: LearningRate) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(
                f"{self._name}: params is empty; pass the parameters to train, "
                f"e.g. model.parameters()"
            )
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{self._name}: params must be Values, got {type(p).__name__} at position {i}"
                )
        if not callable(lr):
            _check_at_least_zero(self._name, "lr", lr)
        self.lr = lr
        self.steps_taken = 0

    @property
    def _name(self) -> str:
        return type(self).__name__

    def current_lr(self) -> float:
        """The learning rate the next `step()` uses."""
        lr = self.lr(self.steps_taken) if callable(self.lr) else self.lr
        if not lr >= 0.0:
            raise ValueError(
                f"{self._name}: the learning rate at step {self.steps_taken} is {lr!r}; "
                f"it must be >= 0"
            )
        return float(lr)

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


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and L2 weight decay.

    With momentum mu the step follows a running sum of gradients, b = mu * b + g;
    Nesterov momentum steps along g + mu * b instead.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        _check_at_least_zero("SGD", "momentum", momentum)
        _check_at_least_zero("SGD", "weight_decay", weight_decay)
        if nesterov and momentum == 0.0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.velocities = [0.0] * len(self.params)

    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        grad += self.weight_decay * data
        if self.momentum != 0.0:
            velocity = self.momentum * self.velocities[i] + grad
            self.velocities[i] = velocity
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        return data - lr * grad


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square.

    `weight_decay` adds weight_decay * p to the gradient (L2), as torch.optim.Adam does;
    for weight decay kept out of the averages, use AdamW.
    """

    # AdamW shrinks the weights directly instead of adding to the gradient.
    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for k, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{self._name}: betas[{k}] must be in [0, 1), got {beta!r}")
        _check_at_least_zero(self._name, "eps", eps)
        _check_at_least_zero(self._name, "weight_decay", weight_decay)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.first_moments = [0.0] * len(self.params)
        self.second_moments = [0.0] * len(self.params)

    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        beta1, beta2 = self.betas
        if self._decoupled_weight_decay:
            data -= lr * self.weight_decay * data
        else:
            grad += self.weight_decay * data
        m = beta1 * self.first_moments[i] + (1.0 - beta1) * grad
        v = beta2 * self.second_moments[i] + (1.0 - beta2) * grad * grad
        self.first_moments[i], self.second_moments[i] = m, v
        # Both averages start at 0, which biases them toward 0 early on; dividing by
        # 1 - beta**t removes that bias.
        t = self.steps_taken + 1
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        return data - lr * m_hat / (math.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: each step first shrinks p by lr * weight_decay * p."""

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop: steps divided by the root of a running average of squared gradients."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: LearningRate = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1), got {alpha!r}")
        _check_at_least_zero("RMSprop", "eps", eps)
        _check_at_least_zero("RMSprop", "momentum", momentum)
        self.alpha = alpha
        self.eps = eps
        self.momentum = momentum
        self.square_averages = [0.0] * len(self.params)
        self.velocities = [0.0] * len(self.params)

    def _update(self, i: int, data: float, grad: float, lr: float) -> float:
        square_average = self.alpha * self.square_averages[i] + (1.0 - self.alpha) * grad * grad
        self.square_averages[i] = square_average
        scaled_grad = grad / (math.sqrt(square_average) + self.eps)
        if self.momentum != 0.0:
            scaled_grad = self.momentum * self.velocities[i] + scaled_grad
            self.velocities[i] = scaled_grad
        return data - lr * scaled_grad


# ---- learning-rate schedules ----------------------------------------------------------


def constant(lr: float) -> Schedule:
    """The same learning rate at every step.

    >>> constant(0.1)(0), constant(0.1)(1000)
    (0.1, 0.1)
    """
    _check_at_least_zero("constant", "lr", lr)
    return lambda step: lr


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


def _check_at_least_zero(where: str, name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__}")
    if not value >= 0.0:  # also catches NaN
        raise ValueError(f"{where}: {name} must be >= 0, got {value!r}")


def _check_schedule(where: str, start: float, end: float, steps: int) -> None:
    _check_at_least_zero(where, "start", start)
    _check_at_least_zero(where, "end", end)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{where}: steps must be an int of at least 1, got {steps!r}")


def _progress(where: str, step: int, steps: int) -> float:
    """How far along the schedule `step` is: 0.0 at the start, 1.0 at `steps` and after."""
    if step < 0:
        raise ValueError(f"{where}: the step index must be >= 0, got {step!r}")
    return min(step, steps) / steps
