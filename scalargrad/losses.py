"""Loss functions: per-sample predictions and targets in, the mean loss out as ONE Value.

Predictions may be Values (to train) or plain numbers (to evaluate). Log-sum-exp is
shifted by the largest input, a constant, so logits of +-1000 neither overflow nor
lose their gradient.

>>> from scalargrad import Value
>>> loss = mse([Value(1.0), Value(3.0)], [0.0, 3.0])
>>> loss.data
0.5
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from scalargrad import validate
from scalargrad.engine import Value, dot, sum

Scalar = Value | float
LossFunction = Callable[[Any, Sequence[Any]], Value]

# Every loss of (outputs, targets) by its name, filled in by @loss where each is
# defined: fit(loss="mse") reads this, and nothing else.
LOSSES: dict[str, LossFunction] = {}


def loss(function: LossFunction) -> LossFunction:
    """Register `function` in LOSSES under its own name, so fit(loss=name) finds it."""
    LOSSES[function.__name__] = function
    return function


def _total(terms: list[Value]) -> Value:
    """The sum of `terms`; one term is itself, not a sum node of one (the one-sample loss
    graph in pictures has no node that does nothing)."""
    return terms[0] if len(terms) == 1 else sum(terms)


def _mean_of(total: Value, n: int, sign: float = 1.0) -> Value:
    """`sign * total / n`, with no `* 1` node for a single sample."""
    if n == 1:
        return total if sign == 1.0 else -total
    return total * (sign / n)


@loss
def mse(predictions: Sequence[Scalar], targets: Sequence[Scalar]) -> Value:
    """Mean squared error: the mean of (prediction - target) ** 2."""
    n = _check_pairs("mse", predictions, targets, "predictions")
    _one_per_sample("mse", predictions, "prediction")
    errors = [_value(p) - t for p, t in zip(predictions, targets)]
    # dot(e, e) is the sum of squares as one node; each e_i gets 2 * e_i through its two edges.
    return _mean_of(dot(errors, errors), n)


@loss
def binary_cross_entropy(probabilities: Sequence[Scalar], targets: Sequence[Any]) -> Value:
    """Mean of -log(p) over samples of class 1 and -log(1 - p) over class 0.

    Probabilities must lie strictly between 0 and 1; for raw scores use
    `binary_cross_entropy_with_logits`, which is also more accurate.
    """
    n = _check_pairs("binary_cross_entropy", probabilities, targets, "probabilities")
    _one_per_sample("binary_cross_entropy", probabilities, "probability")
    terms = []
    for i, (p, t) in enumerate(zip(probabilities, targets)):
        p = _value(p)
        if not 0.0 < p.data < 1.0:
            raise ValueError(
                f"binary_cross_entropy: the probability of sample {i} is {p.data!r}, but it "
                f"must be strictly between 0 and 1 (apply sigmoid first, or use "
                f"binary_cross_entropy_with_logits)"
            )
        label = _binary_label("binary_cross_entropy", t, i)
        terms.append(p.log() if label == 1 else (1.0 - p).log())
    return _mean_of(_total(terms), n, sign=-1.0)


@loss
def binary_cross_entropy_with_logits(logits: Sequence[Scalar], targets: Sequence[Any]) -> Value:
    """binary_cross_entropy(sigmoid(logits), targets), computed stably for any logit.

    The loss of one sample is log(1 + e**z) for class 0 and log(1 + e**-z) for class 1,
    each a log-sum-exp of [0, z] or [0, -z].

    >>> binary_cross_entropy_with_logits([1000.0, -1000.0], [1, 0]).data
    0.0
    """
    n = _check_pairs("binary_cross_entropy_with_logits", logits, targets, "logits")
    _one_per_sample("binary_cross_entropy_with_logits", logits, "logit")
    terms = []
    for i, (z, t) in enumerate(zip(logits, targets)):
        z = _value(z)
        label = _binary_label("binary_cross_entropy_with_logits", t, i)
        terms.append(_logsumexp([Value(0.0), z if label == 0 else -z]))
    return _mean_of(_total(terms), n)


@loss
def hinge(scores: Sequence[Scalar], targets: Sequence[Any]) -> Value:
    """Max-margin loss: the mean of relu(1 - t * s), with targets t in {-1, +1}.

    Targets in {0, 1} are accepted too, 0 meaning -1.
    """
    n = _check_pairs("hinge", scores, targets, "scores")
    _one_per_sample("hinge", scores, "score")
    labels = [_target("hinge", t, i) for i, t in enumerate(targets)]
    if not (set(labels) <= {-1.0, 1.0} or set(labels) <= {0.0, 1.0}):
        raise ValueError(
            f"hinge: targets must all be in {{-1, +1}} (or all in {{0, 1}}, 0 meaning -1), "
            f"got the values {sorted(set(labels))}"
        )
    # 1 - t*s is 1 - s for t = +1 and 1 + s for t = -1: one node per sample fewer.
    margins = [(1.0 - _value(s)) if t == 1.0 else (1.0 + _value(s)) for s, t in zip(scores, labels)]
    return _mean_of(_total([m.relu() for m in margins]), n)


def softmax(logits: Sequence[Scalar]) -> list[Value]:
    """e**z_i / sum_j e**z_j for each i: probabilities that sum to 1.

    >>> [round(p.data, 3) for p in softmax([1.0, 1.0, 2.0])]
    [0.212, 0.212, 0.576]
    """
    if len(logits) == 0:
        raise ValueError("softmax: logits are empty; give at least one")
    zs = [_value(z) for z in logits]
    # Shifting by the max changes no output and no gradient, and keeps every exp <= 1.
    largest = max(z.data for z in zs)
    exps = [(z - largest).exp() for z in zs]
    total = sum(exps)
    return [e / total for e in exps]


@loss
def cross_entropy(logits: Sequence[Sequence[Scalar]], targets: Sequence[Any]) -> Value:
    """Mean over samples of -log(softmax(logits)[target]), with integer class targets.

    Each sample's loss is logsumexp(z) - z[target], so no probability is ever rounded
    to 0 before its log is taken.

    >>> round(cross_entropy([[2.0, 0.0], [0.0, 2.0]], [0, 1]).data, 4)
    0.1269
    """
    n = _check_pairs("cross_entropy", logits, targets, "logit rows")
    for i, row in enumerate(logits):
        if isinstance(row, (Value, str)) or not hasattr(row, "__len__"):
            raise TypeError(
                f"cross_entropy: sample {i}'s logits are {row!r}, but cross_entropy takes a "
                f"list of logits per sample (one per class), e.g. cross_entropy([[z0, z1]], "
                f"[0]); for a model with one output use binary_cross_entropy_with_logits"
            )
    n_classes = len(logits[0])
    if n_classes == 0:
        raise ValueError("cross_entropy: sample 0 has no logits; give one per class")
    terms = []
    for i, (row, t) in enumerate(zip(logits, targets)):
        if len(row) != n_classes:
            raise ValueError(
                f"cross_entropy: sample {i} has {len(row)} logits but sample 0 has "
                f"{n_classes}; every sample needs one logit per class"
            )
        label = _class_label(t, i, n_classes)
        zs = [_value(z) for z in row]
        terms.append(_logsumexp(zs) - zs[label])
    return _mean_of(_total(terms), n)


def l2_penalty(parameters: Iterable[Value], weight: float) -> Value:
    """weight * sum(p * p for p in parameters): add it to a loss to keep weights small."""
    ps = list(parameters)
    if not ps:
        raise ValueError("l2_penalty: parameters are empty; pass model.parameters()")
    weight = validate.non_negative(weight, "l2_penalty", "weight")
    return dot(ps, ps) * weight


# ---- helpers ------------------------------------------------------------------------


def _value(x: Scalar) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _logsumexp(zs: Sequence[Value]) -> Value:
    """log(sum(e**z)), shifted by the largest z, a constant: every exp is <= 1 and one is 1."""
    largest = max(z.data for z in zs)
    return sum((z - largest).exp() for z in zs).log() + largest


def _check_pairs(where: str, outputs: Sequence[Any], targets: Sequence[Any], name: str) -> int:
    """The number of samples, after checking there is one target per output and at least one."""
    for given, what in ((outputs, name), (targets, "targets")):
        if isinstance(given, (Value, str)) or not hasattr(given, "__len__"):
            raise TypeError(
                f"{where}: {what} must be a list with one entry per sample, got {given!r}; "
                f"for a single sample write {where}([output], [target])"
            )
    if len(outputs) != len(targets):
        raise ValueError(f"{where}: {len(outputs)} {name} but {len(targets)} targets")
    if len(outputs) == 0:
        raise ValueError(f"{where}: {name} and targets are empty; give at least one sample")
    return len(outputs)


def _one_per_sample(where: str, outputs: Sequence[Any], name: str) -> None:
    """A TypeError if an output is a list: a model of several outputs given to a loss
    that takes one number per sample."""
    for i, output in enumerate(outputs):
        if isinstance(output, (list, tuple)):
            raise TypeError(
                f"{where}: {name} {i} is a list of {len(output)}, but {where} takes one "
                f"number per sample: a model with one output (an MLP whose last layer has 1)"
            )


def _target(where: str, target: Any, i: int) -> float:
    """A target's number, or a TypeError naming the loss and the sample."""
    if isinstance(target, Value):
        return target.data
    return validate.real_number(target, f"{where}: the target of sample {i}")


def _binary_label(where: str, target: Any, i: int) -> int:
    label = _target(where, target, i)
    if label not in (0.0, 1.0):
        raise ValueError(f"{where}: the target of sample {i} is {target!r}, but must be 0 or 1")
    return int(label)


def _class_label(target: Any, i: int, n_classes: int) -> int:
    try:
        # operator.index takes ints (NumPy's too) and refuses floats such as 1.0.
        label = operator.index(target)
    except TypeError:
        label = None
    if label is None or isinstance(target, bool):
        raise ValueError(
            f"cross_entropy: the target of sample {i} is {target!r}, but must be an int class index"
        )
    if not 0 <= label < n_classes:
        raise ValueError(
            f"cross_entropy: the target of sample {i} is {label}, but with {n_classes} "
            f"logits per sample it must be in 0..{n_classes - 1}"
        )
    return label
