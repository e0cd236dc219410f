"""Loss functions: values, gradients, agreement with PyTorch, stability, bad input."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scalargrad import Value, gradcheck, topological_order
from scalargrad.losses import (
    LOSSES,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    l2_penalty,
    mse,
    softmax,
)

moderate = st.floats(min_value=-5.0, max_value=5.0)


def values(xs: Sequence[float]) -> list[Value]:
    return [Value(x) for x in xs]


def rows(flat: Sequence[Value], width: int) -> list[list[Value]]:
    return [list(flat[i : i + width]) for i in range(0, len(flat), width)]


def random_problem(seed: int, n: int = 6, classes: int = 3) -> dict[str, Any]:
    """Inputs and targets for every loss, drawn from a seeded generator."""
    rng = random.Random(seed)
    return {
        "scores": [rng.uniform(-3.0, 3.0) for _ in range(n)],
        "real_targets": [rng.uniform(-3.0, 3.0) for _ in range(n)],
        "probabilities": [rng.uniform(0.05, 0.95) for _ in range(n)],
        "binary_targets": [rng.randint(0, 1) for _ in range(n)],
        "logits": [[rng.uniform(-4.0, 4.0) for _ in range(classes)] for _ in range(n)],
        "class_targets": [rng.randrange(classes) for _ in range(n)],
    }


# ---- values and the mean ------------------------------------------------------------


def test_mse_is_the_mean_of_squared_errors() -> None:
    """mse([1, 3, -1], [0, 3, 1]) = (1 + 0 + 4) / 3."""
    loss = mse(values([1.0, 3.0, -1.0]), [0.0, 3.0, 1.0])
    assert isinstance(loss, Value)
    assert loss.data == pytest.approx((1.0 + 0.0 + 4.0) / 3)


def test_binary_cross_entropy_takes_log_p_for_ones_and_log_one_minus_p_for_zeros() -> None:
    """BCE([0.8, 0.3], [1, 0]) = -(log 0.8 + log 0.7) / 2."""
    loss = binary_cross_entropy(values([0.8, 0.3]), [1, 0])
    assert loss.data == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)


def test_hinge_is_the_mean_of_relu_of_one_minus_target_times_score() -> None:
    """hinge([2, 0.5, 0.5], [1, 1, -1]) = (0 + 0.5 + 1.5) / 3."""
    loss = hinge(values([2.0, 0.5, 0.5]), [1, 1, -1])
    assert loss.data == pytest.approx((0.0 + 0.5 + 1.5) / 3)


def test_hinge_reads_zero_targets_as_minus_one() -> None:
    """Targets in {0, 1} give the same loss and gradients as the same targets in {-1, +1}."""
    scores_a, scores_b = values([0.3, -0.2, 1.5]), values([0.3, -0.2, 1.5])
    loss_a, loss_b = hinge(scores_a, [1, 0, 0]), hinge(scores_b, [1, -1, -1])
    loss_a.backward()
    loss_b.backward()
    assert loss_a.data == loss_b.data
    assert [s.grad for s in scores_a] == [s.grad for s in scores_b]


def test_l2_penalty_is_weight_times_the_sum_of_squares() -> None:
    """l2_penalty([1, -2, 3], 0.1) = 0.1 * 14, with gradient 2 * weight * p."""
    params = values([1.0, -2.0, 3.0])
    penalty = l2_penalty(params, weight=0.1)
    penalty.backward()
    assert penalty.data == pytest.approx(1.4)
    assert [p.grad for p in params] == pytest.approx([0.2, -0.4, 0.6])


def test_cross_entropy_is_minus_log_of_the_target_class_probability() -> None:
    """Each sample contributes -log(softmax(z)[target])."""
    logits = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]
    loss = cross_entropy([values(row) for row in logits], [1, 0])
    expected = [
        -math.log(math.exp(z[t]) / math.fsum(math.exp(v) for v in z))
        for z, t in zip(logits, [1, 0])
    ]
    assert loss.data == pytest.approx(sum(expected) / 2)


@given(st.lists(st.tuples(moderate, moderate), min_size=1, max_size=8), st.integers(2, 4))
def test_losses_are_means_so_repeating_every_sample_leaves_them_unchanged(
    pairs: list[tuple[float, float]], copies: int
) -> None:
    """The loss of the data repeated k times equals the loss of the data."""
    scores = [s for s, _ in pairs]
    labels = [int(t > 0) for _, t in pairs]
    reals = [t for _, t in pairs]
    for loss, targets in [
        (mse, reals),
        (hinge, labels),
        (binary_cross_entropy_with_logits, labels),
    ]:
        once = loss(scores, targets).data
        repeated = loss(scores * copies, targets * copies).data
        assert repeated == pytest.approx(once, rel=1e-12, abs=1e-12)


def test_losses_accept_plain_floats_and_still_return_one_value() -> None:
    """Predictions as plain numbers (evaluation) give a Value, not a float."""
    assert isinstance(mse([1.0, 2.0], [1.0, 1.0]), Value)
    assert isinstance(cross_entropy([[1.0, 2.0]], [0]), Value)


# ---- gradients: finite differences ------------------------------------------------------


def test_mse_gradient_matches_finite_differences() -> None:
    """gradcheck passes for mse, targets being Values too."""
    assert gradcheck(lambda a, b, c, t: mse([a, b, c], [t, -1.0, 2.0]), [0.3, -0.7, 1.2, 0.4])


def test_binary_cross_entropy_gradient_matches_finite_differences() -> None:
    """gradcheck passes for binary_cross_entropy."""
    assert gradcheck(lambda a, b, c: binary_cross_entropy([a, b, c], [1, 0, 1]), [0.2, 0.6, 0.9])


@given(st.lists(st.floats(-30.0, 30.0), min_size=1, max_size=5), st.data())
def test_binary_cross_entropy_with_logits_gradient_matches_finite_differences(
    logits: list[float], data: st.DataObject
) -> None:
    """gradcheck passes for binary_cross_entropy_with_logits, including at logit 0."""
    targets = data.draw(
        st.lists(st.sampled_from([0, 1]), min_size=len(logits), max_size=len(logits))
    )
    assert gradcheck(lambda *zs: binary_cross_entropy_with_logits(zs, targets), logits)


def test_binary_cross_entropy_with_logits_has_gradient_one_half_at_zero() -> None:
    """At z = 0 the gradient is sigmoid(0) - t = -/+ 0.5: the max shift has no kink."""
    zs = values([0.0, 0.0])
    binary_cross_entropy_with_logits(zs, [1, 0]).backward()
    assert [z.grad for z in zs] == pytest.approx([-0.25, 0.25])


def test_hinge_gradient_matches_finite_differences_away_from_the_kink() -> None:
    """gradcheck passes for hinge where no margin is exactly 1."""
    assert gradcheck(lambda a, b, c, d: hinge([a, b, c, d], [1, -1, 1, -1]), [0.4, 0.2, 1.7, -2.0])


@given(st.lists(moderate, min_size=1, max_size=5))
def test_softmax_gradient_matches_finite_differences(logits: list[float]) -> None:
    """gradcheck passes for every output of softmax with respect to every logit."""
    assert gradcheck(lambda *zs: softmax(zs), logits)


@given(
    st.lists(moderate, min_size=6, max_size=6), st.lists(st.integers(0, 2), min_size=2, max_size=2)
)
def test_cross_entropy_gradient_matches_finite_differences(
    logits: list[float], targets: list[int]
) -> None:
    """gradcheck passes for cross_entropy over two samples of three classes."""
    assert gradcheck(lambda *zs: cross_entropy(rows(zs, 3), targets), logits)


def test_l2_penalty_gradient_matches_finite_differences() -> None:
    """gradcheck passes for l2_penalty."""
    assert gradcheck(lambda a, b: l2_penalty([a, b], weight=0.3), [1.5, -0.5])


# ---- softmax laws ---------------------------------------------------------------------


@given(st.lists(st.floats(-1000.0, 1000.0), min_size=1, max_size=10))
def test_softmax_gives_probabilities_that_sum_to_one(logits: list[float]) -> None:
    """Every output is in [0, 1] and they add up to 1, even for logits of +-1000."""
    probabilities = [p.data for p in softmax(logits)]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert math.fsum(probabilities) == pytest.approx(1.0)


@given(st.lists(moderate, min_size=1, max_size=6), st.floats(-500.0, 500.0))
def test_softmax_is_unchanged_by_adding_a_constant_to_every_logit(
    logits: list[float], shift: float
) -> None:
    """softmax(z + c) == softmax(z)."""
    assume(all(abs(z + shift) <= 1000 for z in logits))
    shifted = [p.data for p in softmax([z + shift for z in logits])]
    assert shifted == pytest.approx([p.data for p in softmax(logits)], rel=1e-9, abs=1e-12)


# ---- stability at +-1000 ---------------------------------------------------------------


def test_binary_cross_entropy_with_logits_is_exact_at_plus_minus_1000() -> None:
    """Right answers at +-1000 (0 or 1000 per sample) and gradients sigmoid(z) - t, no overflow."""
    zs = values([1000.0, -1000.0, 1000.0, -1000.0])
    loss = binary_cross_entropy_with_logits(zs, [1, 0, 0, 1])
    loss.backward()
    assert loss.data == pytest.approx((0.0 + 0.0 + 1000.0 + 1000.0) / 4)
    assert [z.grad for z in zs] == pytest.approx([0.0, 0.0, 0.25, -0.25])


def test_cross_entropy_is_exact_at_plus_minus_1000() -> None:
    """Logits [1000, -1000, 0] cost 0 for class 0 and 2000 for class 1, with finite gradients."""
    right, wrong = values([1000.0, -1000.0, 0.0]), values([1000.0, -1000.0, 0.0])
    loss_right = cross_entropy([right], [0])
    loss_wrong = cross_entropy([wrong], [1])
    loss_right.backward()
    loss_wrong.backward()
    assert loss_right.data == pytest.approx(0.0, abs=1e-12)
    assert loss_wrong.data == pytest.approx(2000.0)
    assert [z.grad for z in right] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert [z.grad for z in wrong] == pytest.approx([1.0, -1.0, 0.0], abs=1e-12)


def test_softmax_of_plus_minus_1000_puts_all_mass_on_the_largest() -> None:
    """softmax([1000, -1000, 0]) is [1, 0, 0] without overflow."""
    assert [p.data for p in softmax([1000.0, -1000.0, 0.0])] == pytest.approx([1.0, 0.0, 0.0])


# ---- small graphs ---------------------------------------------------------------------


def test_mse_and_l2_penalty_graphs_grow_by_one_node_per_sample() -> None:
    """Fused sum/dot nodes: one difference node per sample plus a fixed few, not 3 per sample."""

    def interior_nodes(loss: Value) -> int:
        return sum(1 for node in topological_order(loss) if node.parents)

    small, large = (
        interior_nodes(mse(values([1.0] * 5), [0.0] * 5)),
        interior_nodes(mse(values([1.0] * 50), [0.0] * 50)),
    )
    assert large - small == 45
    assert interior_nodes(l2_penalty(values([1.0] * 50), 0.1)) == interior_nodes(
        l2_penalty(values([1.0] * 5), 0.1)
    )


# ---- agreement with PyTorch -----------------------------------------------------------


def check_against_torch(
    ours: Callable[[list[Value]], Value],
    theirs: Callable[[Any], Any],
    inputs: list[float],
) -> None:
    """Our loss and PyTorch's agree in value and in every gradient, in float64."""
    torch = pytest.importorskip("torch")
    leaves = values(inputs)
    loss = ours(leaves)
    loss.backward()
    x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    expected = theirs(x)
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), rel=1e-9, abs=1e-300)
    assert [p.grad for p in leaves] == pytest.approx(x.grad.tolist(), rel=1e-9, abs=1e-15)


def f64(torch: Any, xs: Sequence[float]) -> Any:
    return torch.tensor(xs, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(5))
def test_mse_matches_pytorch(seed: int) -> None:
    """mse equals torch.nn.functional.mse_loss in value and gradient."""
    torch = pytest.importorskip("torch")
    problem = random_problem(seed)
    targets = problem["real_targets"]
    check_against_torch(
        lambda xs: mse(xs, targets),
        lambda x: torch.nn.functional.mse_loss(x, f64(torch, targets)),
        problem["scores"],
    )


@pytest.mark.parametrize("seed", range(5))
def test_binary_cross_entropy_matches_pytorch(seed: int) -> None:
    """binary_cross_entropy equals torch.nn.functional.binary_cross_entropy."""
    torch = pytest.importorskip("torch")
    problem = random_problem(seed)
    targets = problem["binary_targets"]
    check_against_torch(
        lambda ps: binary_cross_entropy(ps, targets),
        lambda p: torch.nn.functional.binary_cross_entropy(p, f64(torch, targets)),
        problem["probabilities"],
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_binary_cross_entropy_with_logits_matches_pytorch(seed: int, scale: float) -> None:
    """binary_cross_entropy_with_logits equals PyTorch's, for small and +-1000-sized logits."""
    torch = pytest.importorskip("torch")
    problem = random_problem(seed)
    targets = problem["binary_targets"]
    check_against_torch(
        lambda zs: binary_cross_entropy_with_logits(zs, targets),
        lambda z: torch.nn.functional.binary_cross_entropy_with_logits(z, f64(torch, targets)),
        [scale * s for s in problem["scores"]],
    )


@pytest.mark.parametrize("seed", range(5))
def test_hinge_matches_the_same_formula_in_pytorch(seed: int) -> None:
    """hinge equals torch.relu(1 - t * s).mean() with targets mapped to +-1."""
    torch = pytest.importorskip("torch")
    problem = random_problem(seed)
    targets = problem["binary_targets"]
    signs = f64(torch, [1.0 if t == 1 else -1.0 for t in targets])
    check_against_torch(
        lambda ss: hinge(ss, targets),
        lambda s: torch.relu(1.0 - signs * s).mean(),
        problem["scores"],
    )


@pytest.mark.parametrize("seed", range(5))
def test_softmax_matches_pytorch_in_value_and_jacobian(seed: int) -> None:
    """Each softmax output and its gradient with respect to every logit equal PyTorch's."""
    torch = pytest.importorskip("torch")
    logits = random_problem(seed)["logits"][0] + [1000.0 * (seed - 2)]
    for k in range(len(logits)):
        check_against_torch(
            lambda zs, k=k: softmax(zs)[k],
            lambda z, k=k: torch.softmax(z, dim=0)[k],
            logits,
        )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_cross_entropy_matches_pytorch(seed: int, scale: float) -> None:
    """cross_entropy equals torch.nn.functional.cross_entropy, also for +-1000-sized logits."""
    torch = pytest.importorskip("torch")
    problem = random_problem(seed)
    targets = problem["class_targets"]
    flat = [scale * z for row in problem["logits"] for z in row]
    check_against_torch(
        lambda zs: cross_entropy(rows(zs, 3), targets),
        lambda z: torch.nn.functional.cross_entropy(z.reshape(-1, 3), torch.tensor(targets)),
        flat,
    )


@pytest.mark.parametrize("seed", range(3))
def test_l2_penalty_matches_pytorch(seed: int) -> None:
    """l2_penalty equals weight * (p ** 2).sum() in PyTorch."""
    problem = random_problem(seed)
    check_against_torch(
        lambda ps: l2_penalty(ps, 0.05), lambda p: 0.05 * (p**2).sum(), problem["scores"]
    )


# ---- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: mse([1.0, 2.0], [1.0]), "mse: 2 predictions but 1 targets"),
        (lambda: mse([], []), "mse: predictions and targets are empty"),
        (lambda: binary_cross_entropy([0.5], [0, 1]), "1 probabilities but 2 targets"),
        (lambda: binary_cross_entropy_with_logits([], []), "logits and targets are empty"),
        (lambda: hinge([1.0, 2.0, 3.0], [1, -1]), "hinge: 3 scores but 2 targets"),
        (lambda: cross_entropy([[1.0, 2.0]], [0, 1]), "1 logit rows but 2 targets"),
        (lambda: cross_entropy([], []), "cross_entropy: logit rows and targets are empty"),
        (lambda: softmax([]), "softmax: logits are empty"),
        (lambda: l2_penalty([], 0.1), "l2_penalty: parameters are empty"),
    ],
)
def test_mismatched_or_empty_inputs_are_value_errors_that_say_which(
    make: Callable[[], object], message: str
) -> None:
    """Lengths that differ, or no samples at all: a ValueError with the counts."""
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: binary_cross_entropy([0.5, 0.5], [1, 2]),
            "target of sample 1 is 2, but must be 0 or 1",
        ),
        (lambda: binary_cross_entropy_with_logits([0.5], [-1]), "target of sample 0 is -1"),
        (lambda: hinge([0.5, 0.5], [2, 1]), r"must all be in \{-1, \+1\}"),
        (lambda: hinge([0.5, 0.5, 0.5], [-1, 0, 1]), r"must all be in \{-1, \+1\}"),
        (lambda: cross_entropy([[1.0, 2.0]], [2]), "target of sample 0 is 2, .* must be in 0..1"),
        (lambda: cross_entropy([[1.0, 2.0]], [-1]), "target of sample 0 is -1"),
        (lambda: cross_entropy([[1.0, 2.0]], [1.0]), "must be an int class index"),
        (
            lambda: cross_entropy([[1.0, 2.0], [1.0]], [0, 0]),
            "sample 1 has 1 logits but sample 0 has 2",
        ),
        (lambda: cross_entropy([[]], [0]), "sample 0 has no logits"),
    ],
)
def test_wrong_target_values_are_value_errors_naming_the_sample(
    make: Callable[[], object], message: str
) -> None:
    """A target outside the loss's label set is refused, naming the sample and the value."""
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("p", [0.0, 1.0, -0.2, 1.5])
def test_binary_cross_entropy_refuses_probabilities_outside_zero_one(p: float) -> None:
    """A probability of 0, 1 or beyond: a ValueError naming the sample, suggesting logits."""
    with pytest.raises(
        ValueError, match=r"probability of sample 1 is .* use binary_cross_entropy_with_logits"
    ):
        binary_cross_entropy([0.5, p], [1, 1])


def test_l2_penalty_refuses_a_negative_weight() -> None:
    """A negative weight would reward large parameters: ValueError."""
    with pytest.raises(ValueError, match=r"weight must be >= 0, got -0\.1"):
        l2_penalty(values([1.0]), -0.1)


# ---- mistakes a learner makes -------------------------------------------------------------


def test_one_output_and_one_target_instead_of_lists_is_explained() -> None:
    """mse(out, 1.0) says to wrap them in lists, not that a Value has no len()."""
    out = Value(0.5)
    with pytest.raises(TypeError, match=r"mse: predictions must be a list .* mse\(\[output\]"):
        mse(out, 1.0)
    with pytest.raises(TypeError, match=r"hinge: targets must be a list"):
        hinge([out], 1)


def test_cross_entropy_of_a_one_output_model_is_explained() -> None:
    """cross_entropy([out], [0]) says a row of logits is needed, and what to use instead."""
    with pytest.raises(TypeError, match=r"sample 0's logits are .* use binary_cross_entropy_with"):
        cross_entropy([Value(0.5)], [0])


def test_every_loss_of_outputs_and_targets_is_registered_where_defined() -> None:
    """LOSSES holds the losses fit can name, each by its own name."""
    assert {
        "mse": mse,
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
        "hinge": hinge,
        "cross_entropy": cross_entropy,
    } == LOSSES


@pytest.mark.parametrize(
    "name", ["hinge", "mse", "binary_cross_entropy_with_logits", "cross_entropy"]
)
def test_one_samples_loss_graph_has_no_node_that_does_nothing(name: str) -> None:
    """No sum of one term and no `* 1`: the picture of one sample's loss shows only work."""
    from scalargrad import topological_order
    from scalargrad.losses import LOSSES

    score = Value(0.3)
    outputs, target = ([[score, Value(-0.2)]], [1]) if name == "cross_entropy" else ([score], [1])
    loss = LOSSES[name](outputs, target)
    for node in topological_order(loss):
        assert not (node.op == "sum" and len(node.parents) == 1), node
        times_one = node.op == "*" and any(p.data == 1.0 and not p.parents for p in node.parents)
        assert not times_one, node
