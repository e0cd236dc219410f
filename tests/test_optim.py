"""Optimizers and learning-rate schedules: PyTorch's update rules, step by step."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalargrad import Value
from scalargrad.optim import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    Momentum,
    Optimizer,
    RMSprop,
    Schedule,
    constant,
    cosine,
    linear,
)

EPS = 1e-8  # Adam's and RMSprop's default eps


def objective(x: Sequence[Any]) -> Any:
    """A coupled quadratic plus a quartic: written once, it runs on Values and on tensors."""
    return (
        0.5 * (x[0] - 1.0) ** 2
        + 2.0 * (x[1] + 0.5) ** 2
        + 0.3 * x[0] * x[1]
        + 0.25 * x[2] ** 4
        - 0.7 * x[2]
    )


START = [0.8, -1.3, 2.1]


def our_trajectory(make: Callable[[list[Value]], Optimizer], steps: int = 20) -> list[list[float]]:
    params = [Value(x) for x in START]
    optimizer = make(params)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        objective(params).backward()
        optimizer.step()
        trajectory.append([p.data for p in params])
    return trajectory


def torch_trajectory(
    make: Callable[[Any], Any], schedule: Schedule | None = None, steps: int = 20
) -> list[list[float]]:
    torch = pytest.importorskip("torch")
    x = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    optimizer = make([x])
    # LambdaLR multiplies the initial lr (1.0 here) by schedule(step), so lr = schedule(step).
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule) if schedule else None
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        objective(x).backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
        trajectory.append(x.detach().tolist())
    return trajectory


# (name, our optimizer, PyTorch's, a schedule both follow or None)
CASES: list[tuple[str, Callable[[list[Value]], Optimizer], Callable[[Any], Any], Any]] = [
    ("sgd", lambda p: SGD(p, lr=0.1), lambda t, p: t.optim.SGD(p, lr=0.1), None),
    (
        "sgd-momentum",
        lambda p: SGD(p, lr=0.05, momentum=0.9),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9),
        None,
    ),
    (
        "sgd-nesterov-weight-decay",
        lambda p: SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
        None,
    ),
    ("adam", lambda p: Adam(p, lr=0.1), lambda t, p: t.optim.Adam(p, lr=0.1), None),
    (
        "adam-options",
        lambda p: Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2),
        lambda t, p: t.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2),
        None,
    ),
    ("adamw", lambda p: AdamW(p, lr=0.1), lambda t, p: t.optim.AdamW(p, lr=0.1), None),
    (
        "adamw-strong-decay",
        lambda p: AdamW(p, lr=0.1, weight_decay=0.5),
        lambda t, p: t.optim.AdamW(p, lr=0.1, weight_decay=0.5),
        None,
    ),
    ("rmsprop", lambda p: RMSprop(p), lambda t, p: t.optim.RMSprop(p), None),
    (
        "rmsprop-momentum",
        lambda p: RMSprop(p, lr=0.005, alpha=0.9, eps=1e-6, momentum=0.7),
        lambda t, p: t.optim.RMSprop(p, lr=0.005, alpha=0.9, eps=1e-6, momentum=0.7),
        None,
    ),
    (
        "sgd-momentum-cosine",
        lambda p: SGD(p, lr=cosine(0.1, 0.01, steps=12), momentum=0.9),
        lambda t, p: t.optim.SGD(p, lr=1.0, momentum=0.9),
        cosine(0.1, 0.01, steps=12),
    ),
    (
        "adam-linear",
        lambda p: Adam(p, lr=linear(0.2, 0.0, steps=15)),
        lambda t, p: t.optim.Adam(p, lr=1.0),
        linear(0.2, 0.0, steps=15),
    ),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "schedule"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_twenty_steps_follow_torch_optim_to_1e_10(
    ours: Callable[[list[Value]], Optimizer], theirs: Callable[[Any, Any], Any], schedule: Any
) -> None:
    """After each of 20 steps the parameters equal torch.optim's (float64) to 1e-10."""
    torch = pytest.importorskip("torch")
    expected = torch_trajectory(lambda params: theirs(torch, params), schedule)
    actual = our_trajectory(ours)
    for step, (mine, reference) in enumerate(zip(actual, expected)):
        assert mine == pytest.approx(reference, rel=1e-10, abs=1e-12), f"step {step}"
    # The problem is not trivial: the parameters really moved.
    assert actual[-1] != pytest.approx(START, abs=1e-3)


# ---- two steps by hand, on f(x) = x * x from x = 1 (gradient 2x) ------------------------


def two_steps(make: Callable[[list[Value]], Optimizer]) -> list[float]:
    x = Value(1.0)
    optimizer = make([x])
    positions = []
    for _ in range(2):
        optimizer.zero_grad()
        (x * x).backward()
        optimizer.step()
        positions.append(x.data)
    return positions


def test_sgd_steps_against_the_gradient_times_lr() -> None:
    """x <- x - lr * 2x: 1 -> 0.8 -> 0.64 with lr = 0.1."""
    assert two_steps(lambda p: SGD(p, lr=0.1)) == pytest.approx([0.8, 0.64])


def test_sgd_momentum_steps_along_the_running_sum_of_gradients() -> None:
    """b1 = g1 = 2; b2 = 0.9 * b1 + g2 with g2 = 1.6."""
    x1 = 1.0 - 0.1 * 2.0
    x2 = x1 - 0.1 * (0.9 * 2.0 + 2 * x1)
    assert two_steps(lambda p: SGD(p, lr=0.1, momentum=0.9)) == pytest.approx([x1, x2])


def test_nesterov_momentum_steps_along_the_gradient_plus_momentum_times_velocity() -> None:
    """Each step uses g + mu * b, with b = mu * b_prev + g."""
    b1 = 2.0
    x1 = 1.0 - 0.1 * (2.0 + 0.9 * b1)
    g2 = 2 * x1
    b2 = 0.9 * b1 + g2
    x2 = x1 - 0.1 * (g2 + 0.9 * b2)
    assert two_steps(lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True)) == pytest.approx(
        [x1, x2]
    )


def test_sgd_weight_decay_adds_weight_decay_times_x_to_the_gradient() -> None:
    """g = 2x + 0.5x: 1 -> 0.75 -> 0.5625 with lr = 0.1."""
    assert two_steps(lambda p: SGD(p, lr=0.1, weight_decay=0.5)) == pytest.approx([0.75, 0.5625])


def adam_two_steps(decay_before_step: float) -> list[float]:
    """Adam by hand, lr 0.1, default betas; each step first multiplies x by decay_before_step."""
    x0 = 1.0 * decay_before_step
    m1, v1 = 0.1 * 2.0, 0.001 * 2.0**2
    x1 = x0 - 0.1 * (m1 / (1 - 0.9)) / (math.sqrt(v1 / (1 - 0.999)) + EPS)
    g2 = 2 * x1
    m2, v2 = 0.9 * m1 + 0.1 * g2, 0.999 * v1 + 0.001 * g2**2
    x2 = x1 * decay_before_step - 0.1 * (m2 / (1 - 0.9**2)) / (math.sqrt(v2 / (1 - 0.999**2)) + EPS)
    return [x1, x2]


def test_adam_divides_the_bias_corrected_mean_by_the_root_mean_square() -> None:
    """Adam's two first steps equal the formula written out; its first step is about lr."""
    steps = two_steps(lambda p: Adam(p, lr=0.1))
    assert steps == pytest.approx(adam_two_steps(decay_before_step=1.0), rel=1e-12)
    assert steps[0] == pytest.approx(0.9)


def test_adam_weight_decay_is_added_to_the_gradient() -> None:
    """With weight_decay the gradient is 2x + wd * x, so the first step is still about lr."""
    steps = two_steps(lambda p: Adam(p, lr=0.1, weight_decay=0.5))
    g1 = 2.0 + 0.5
    m1, v1 = 0.1 * g1, 0.001 * g1**2
    x1 = 1.0 - 0.1 * (m1 / 0.1) / (math.sqrt(v1 / 0.001) + EPS)
    assert steps[0] == pytest.approx(x1, rel=1e-12)


def test_adamw_shrinks_x_by_lr_times_weight_decay_before_the_adam_step() -> None:
    """AdamW = x * (1 - lr * wd), then Adam with the gradient taken before shrinking."""
    steps = two_steps(lambda p: AdamW(p, lr=0.1, weight_decay=0.5))
    assert steps == pytest.approx(adam_two_steps(decay_before_step=1 - 0.1 * 0.5), rel=1e-12)


def test_adamw_default_weight_decay_is_pytorchs_one_hundredth() -> None:
    """AdamW() decays by 1e-2 unless told otherwise."""
    assert AdamW([Value(1.0)]).weight_decay == 0.01


def test_rmsprop_divides_the_gradient_by_the_root_of_its_running_mean_square() -> None:
    """v = alpha * v + (1 - alpha) * g**2; x <- x - lr * g / (sqrt(v) + eps)."""
    v1 = 0.01 * 2.0**2
    x1 = 1.0 - 0.01 * 2.0 / (math.sqrt(v1) + EPS)
    g2 = 2 * x1
    v2 = 0.99 * v1 + 0.01 * g2**2
    x2 = x1 - 0.01 * g2 / (math.sqrt(v2) + EPS)
    assert two_steps(lambda p: RMSprop(p)) == pytest.approx([x1, x2], rel=1e-12)


def test_rmsprop_momentum_accumulates_the_scaled_gradients() -> None:
    """b = mu * b + g / (sqrt(v) + eps); x <- x - lr * b."""
    v1 = 0.01 * 2.0**2
    b1 = 2.0 / (math.sqrt(v1) + EPS)
    x1 = 1.0 - 0.01 * b1
    g2 = 2 * x1
    v2 = 0.99 * v1 + 0.01 * g2**2
    b2 = 0.5 * b1 + g2 / (math.sqrt(v2) + EPS)
    x2 = x1 - 0.01 * b2
    assert two_steps(lambda p: RMSprop(p, momentum=0.5)) == pytest.approx([x1, x2], rel=1e-12)


# ---- the Optimizer contract ------------------------------------------------------------


def test_step_changes_data_in_place_and_records_no_graph() -> None:
    """The same Value objects move, their data stays a float, and they stay leaves."""
    x = Value(2.0)
    optimizer = Adam([x], lr=0.1)
    (x * x).backward()
    optimizer.step()
    assert optimizer.params[0] is x
    assert type(x.data) is float and x.data != 2.0
    assert x.parents == ()


def test_zero_grad_sets_every_gradient_to_float_zero() -> None:
    """After zero_grad() every parameter's grad is 0.0."""
    params = [Value(1.0), Value(-2.0)]
    optimizer = SGD(params, lr=0.1)
    (params[0] * params[1]).backward()
    optimizer.zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]
    assert all(type(p.grad) is float for p in params)


def test_step_accepts_gradients_left_as_values_by_create_graph() -> None:
    """A Value gradient (from backward(create_graph=True)) is used for its number."""
    x = Value(3.0)
    (x * x).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    SGD([x], lr=0.1).step()
    assert x.data == pytest.approx(3.0 - 0.1 * 6.0)


def test_params_may_be_any_iterable_and_are_kept_as_a_list() -> None:
    """A generator of parameters works, as model.parameters() might give."""
    params = [Value(1.0), Value(2.0)]
    optimizer = SGD((p for p in params), lr=0.1)
    assert optimizer.params == params


def test_a_schedule_sets_the_lr_of_each_step_from_its_index() -> None:
    """Step k uses lr(k): with loss = x (gradient 1) step k moves x by exactly -lr(k)."""
    schedule = linear(0.4, 0.1, steps=3)
    x = Value(0.0)
    optimizer = SGD([x], lr=schedule)
    for step in range(5):
        assert optimizer.current_lr() == schedule(step)
        before = x.data
        optimizer.zero_grad()
        x.backward()
        optimizer.step()
        assert before - x.data == pytest.approx(schedule(step))


def test_the_lr_can_be_changed_between_steps() -> None:
    """Setting optimizer.lr takes effect on the next step."""
    x = Value(0.0)
    optimizer = SGD([x], lr=0.1)
    x.backward()
    optimizer.step()
    optimizer.lr = 0.5
    optimizer.step()
    assert x.data == pytest.approx(-0.1 - 0.5)


# ---- schedules ------------------------------------------------------------------------


def test_constant_gives_the_same_lr_at_every_step() -> None:
    """constant(lr)(k) == lr for every k."""
    schedule = constant(0.03)
    assert {schedule(k) for k in range(100)} == {0.03}


@given(
    start=st.floats(0.0, 1.0),
    end=st.floats(0.0, 1.0),
    steps=st.integers(1, 100),
    after=st.integers(0, 100),
)
def test_linear_and_cosine_go_from_start_to_end_then_stay_at_end(
    start: float, end: float, steps: int, after: int
) -> None:
    """Both give `start` at step 0 and `end` at `steps` and every step after."""
    for make in (linear, cosine):
        schedule = make(start, end, steps)
        assert schedule(0) == pytest.approx(start)
        assert schedule(steps) == pytest.approx(end)
        assert schedule(steps + after) == schedule(steps)


@given(start=st.floats(0.0, 1.0), end=st.floats(0.0, 1.0), steps=st.integers(2, 100))
def test_linear_and_cosine_stay_between_start_and_end_and_meet_halfway(
    start: float, end: float, steps: int
) -> None:
    """Every value lies between start and end, and at steps/2 both are at the average."""
    low, high = min(start, end), max(start, end)
    for make in (linear, cosine):
        schedule = make(start, end, steps)
        assert all(low - 1e-12 <= schedule(k) <= high + 1e-12 for k in range(steps + 1))
        assert make(start, end, 2 * steps)(steps) == pytest.approx((start + end) / 2)


def test_linear_moves_by_equal_amounts_each_step() -> None:
    """linear(1, 0, 4) is 1, 0.75, 0.5, 0.25, 0."""
    schedule = linear(1.0, 0.0, steps=4)
    assert [schedule(k) for k in range(5)] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0])


def test_linear_warms_up_when_end_is_above_start() -> None:
    """linear(0, 0.1, 10) rises to 0.1."""
    schedule = linear(0.0, 0.1, steps=10)
    assert [schedule(k) for k in range(11)] == sorted(schedule(k) for k in range(11))
    assert schedule(10) == 0.1


def test_cosine_falls_slowly_at_both_ends_and_fastest_halfway() -> None:
    """cosine's drop per step is smallest at the start and end, largest in the middle."""
    schedule = cosine(1.0, 0.0, steps=10)
    drops = [schedule(k) - schedule(k + 1) for k in range(10)]
    assert all(drop > 0 for drop in drops)
    assert drops[0] == pytest.approx(min(drops))
    assert drops[-1] == pytest.approx(min(drops))
    assert max(drops) in (drops[4], drops[5])


# ---- invalid hyperparameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, lr=-0.1), "SGD: lr must be >= 0, got -0.1"),
        (lambda p: Adam(p, lr=float("nan")), "Adam: lr must be >= 0, got nan"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), "SGD: momentum must be >= 0"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1.0), "SGD: weight_decay must be >= 0"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "SGD: nesterov=True needs momentum > 0"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
        (lambda p: Adam(p, betas=(0.9, -0.1)), r"Adam: betas\[1\] must be in \[0, 1\)"),
        (lambda p: AdamW(p, betas=(0.9, 1.5)), r"AdamW: betas\[1\] must be in \[0, 1\)"),
        (lambda p: Adam(p, betas=(0.9,)), "Adam: betas must be a pair"),
        (lambda p: Adam(p, eps=-1e-8), "Adam: eps must be >= 0"),
        (lambda p: Adam(p, weight_decay=-0.1), "Adam: weight_decay must be >= 0"),
        (lambda p: AdamW(p, weight_decay=-0.1), "AdamW: weight_decay must be >= 0"),
        (lambda p: RMSprop(p, alpha=1.0), r"RMSprop: alpha must be in \[0, 1\)"),
        (lambda p: RMSprop(p, eps=-1.0), "RMSprop: eps must be >= 0"),
        (lambda p: RMSprop(p, momentum=-0.9), "RMSprop: momentum must be >= 0"),
    ],
)
def test_invalid_hyperparameters_are_value_errors_that_name_them(
    make: Callable[[list[Value]], Optimizer], message: str
) -> None:
    """Each invalid hyperparameter is refused when the optimizer is made."""
    with pytest.raises(ValueError, match=message):
        make([Value(1.0)])


def test_decay_rates_that_are_not_numbers_are_type_errors_that_name_them() -> None:
    """betas and alpha given as text are refused by name, not by a failed comparison."""
    with pytest.raises(TypeError, match=r"Adam: betas\[0\] must be a number, got '0\.9'"):
        Adam([Value(1.0)], betas=("0.9", 0.999))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"RMSprop: alpha must be a number, got None"):
        RMSprop([Value(1.0)], alpha=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("optimizer", [SGD, Adam, AdamW, RMSprop])
def test_an_empty_params_list_is_a_value_error(optimizer: Callable[..., Optimizer]) -> None:
    """An optimizer with nothing to train is refused, suggesting model.parameters()."""
    with pytest.raises(ValueError, match=r"params is empty; .*model\.parameters\(\)"):
        optimizer([], lr=0.1)


def test_params_that_are_not_values_are_a_type_error() -> None:
    """Plain numbers cannot be updated in place: TypeError naming the position."""
    with pytest.raises(TypeError, match="params must be Values, got float at position 1"):
        SGD([Value(1.0), 2.0], lr=0.1)  # type: ignore[list-item]


def test_a_schedule_that_gives_a_negative_lr_fails_at_that_step() -> None:
    """The learning rate a schedule gives is checked when it is used."""
    x = Value(1.0)
    optimizer = SGD([x], lr=lambda step: 0.1 - 0.1 * step)
    optimizer.step()
    optimizer.step()
    with pytest.raises(ValueError, match=r"learning rate at step 2 must be >= 0, got -0\.1"):
        optimizer.step()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: constant(-0.1), "constant: lr must be >= 0"),
        (lambda: linear(-1.0, 0.0, 10), "linear: start must be >= 0"),
        (lambda: cosine(1.0, -0.5, 10), "cosine: end must be >= 0"),
        (lambda: linear(1.0, 0.0, 0), "linear: steps must be an int of at least 1, got 0"),
        (lambda: linear(1.0, 0.0, 5)(-1), "linear: the step index must be >= 0, got -1"),
    ],
)
def test_invalid_schedules_are_value_errors(make: Callable[[], object], message: str) -> None:
    """Negative rates, fewer than one step, or a negative step index: ValueError."""
    with pytest.raises(ValueError, match=message):
        make()


# ---- one registry, and parameters held once ----------------------------------------------


def test_every_optimizer_class_is_registered_under_its_name_where_defined() -> None:
    """OPTIMIZERS holds each optimizer once, each with a default learning rate."""
    assert {
        "sgd": SGD,
        "momentum": Momentum,
        "adam": Adam,
        "adamw": AdamW,
        "rmsprop": RMSprop,
    } == OPTIMIZERS
    assert all(cls.default_lr > 0 for cls in OPTIMIZERS.values())


def test_a_new_optimizer_is_one_class() -> None:
    """Defining a subclass with a name registers it; fit finds it by that name."""
    from scalargrad.data import xor
    from scalargrad.nn import MLP
    from scalargrad.train import fit

    class Frozen(Optimizer, name="frozen-for-test"):
        default_lr = 1.0

        def _update(self, i: int, data: float, grad: float, lr: float) -> float:
            return data

    try:
        model = MLP(2, [2, 1], seed=0)
        fit(model, *xor(), optimizer="frozen-for-test", epochs=2, progress=False)
        assert model.state_dict() == MLP(2, [2, 1], seed=0).state_dict()
    finally:
        del OPTIMIZERS["frozen-for-test"]


def test_momentum_is_sgd_with_momentum_nine_tenths() -> None:
    """The registered "momentum" steps as SGD(momentum=0.9) does."""
    assert two_steps(lambda ps: Momentum(ps, lr=0.1)) == two_steps(
        lambda ps: SGD(ps, lr=0.1, momentum=0.9)
    )


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS.values()))
def test_a_parameter_given_twice_is_refused(optimizer: Callable[..., Optimizer]) -> None:
    """SGD([p, p]) would move p twice a step: a ValueError names the position."""
    p = Value(1.0)
    with pytest.raises(ValueError, match=r"holds .* twice .*position 2.*pass each parameter once"):
        optimizer([p, Value(2.0), p])


@pytest.mark.parametrize("lr", [math.inf, math.nan])
def test_an_infinite_or_nan_learning_rate_is_refused(lr: float) -> None:
    """SGD(lr=inf) would make every parameter infinite or NaN after one step."""
    with pytest.raises(ValueError, match="SGD: lr must be"):
        SGD([Value(1.0)], lr=lr)


def test_a_set_of_parameters_is_refused_because_its_order_changes() -> None:
    """Per-parameter state is kept by position: a set has none that lasts."""
    with pytest.raises(TypeError, match="params is a set, which has no fixed order"):
        SGD({Value(1.0)}, lr=0.1)
