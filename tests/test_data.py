"""Datasets, batches and train/test splits."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalargrad.data import (
    batches,
    blobs,
    circles,
    digits,
    moons,
    spirals,
    train_test_split,
    xor,
)

Dataset = Callable[..., tuple[list[list[float]], list[int]]]

# (dataset, its number of classes with default arguments)
DATASETS: list[tuple[Dataset, int]] = [(moons, 2), (circles, 2), (spirals, 3), (blobs, 3)]
dataset_ids = [dataset.__name__ for dataset, _ in DATASETS]


def paired(n: int) -> tuple[list[list[float]], list[int]]:
    """Samples whose label is their own index, so any mix-up between X and y shows."""
    return [[float(i), -float(i)] for i in range(n)], list(range(n))


# ---- datasets -----------------------------------------------------------------------


def test_xor_labels_each_corner_by_the_xor_of_its_coordinates() -> None:
    """xor() gives the four corners of the unit square labelled x1 XOR x2."""
    X, y = xor()
    assert sorted(map(tuple, X)) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert y == [int(x1) ^ int(x2) for x1, x2 in X]


@pytest.mark.parametrize(("dataset", "classes"), DATASETS, ids=dataset_ids)
def test_datasets_give_rows_of_two_floats_and_every_class_label(
    dataset: Dataset, classes: int
) -> None:
    """X is a list of [float, float] rows and y a list of ints covering 0..k-1."""
    X, y = dataset()
    assert type(X) is list and type(y) is list
    assert all(type(row) is list and len(row) == 2 for row in X)
    assert all(type(x) is float for row in X for x in row)
    assert all(type(label) is int for label in y)
    assert sorted(set(y)) == list(range(classes))


@pytest.mark.parametrize(("dataset", "classes"), DATASETS, ids=dataset_ids)
@given(n=st.integers(min_value=3, max_value=200))
def test_n_is_the_total_number_of_points_shared_evenly_between_classes(
    dataset: Dataset, classes: int, n: int
) -> None:
    """n points in all, and class sizes differ by at most one."""
    X, y = dataset(n=n)
    assert len(X) == len(y) == n
    sizes = Counter(y)
    assert len(sizes) == classes
    assert max(sizes.values()) - min(sizes.values()) <= 1


@pytest.mark.parametrize(("dataset", "classes"), DATASETS, ids=dataset_ids)
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(
    dataset: Dataset, classes: int
) -> None:
    """Datasets are deterministic for a seed, and the seed matters."""
    assert dataset(seed=7) == dataset(seed=7)
    assert dataset(seed=7)[0] != dataset(seed=8)[0]


@pytest.mark.parametrize(("dataset", "classes"), DATASETS, ids=dataset_ids)
def test_classes_are_mixed_so_a_prefix_is_not_one_class(dataset: Dataset, classes: int) -> None:
    """The samples come shuffled: the first quarter already holds more than one class."""
    _, y = dataset(n=100)
    assert len(set(y[:25])) > 1


def test_noiseless_moons_lie_on_two_interleaved_unit_half_circles() -> None:
    """Class 0 is the upper unit arc about (0, 0); class 1 the lower one about (1, 0.5)."""
    X, y = moons(n=50, noise=0.0)
    for (x1, x2), label in zip(X, y):
        centre = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(x1 - centre[0], x2 - centre[1]) == pytest.approx(1.0)
        assert (x2 >= -1e-12) if label == 0 else (x2 <= 0.5 + 1e-12)


def test_noiseless_circles_have_radius_one_and_factor() -> None:
    """Class 0 lies on the unit circle, class 1 on the circle of radius `factor`."""
    X, y = circles(n=40, noise=0.0, factor=0.3)
    for (x1, x2), label in zip(X, y):
        assert math.hypot(x1, x2) == pytest.approx(1.0 if label == 0 else 0.3)


def test_noiseless_spiral_arms_turn_four_radians_per_unit_of_radius() -> None:
    """Without noise, each point's angle is its arm's start angle plus 4 * radius."""
    classes = 4
    X, y = spirals(n=80, classes=classes, noise=0.0)
    for (x1, x2), label in zip(X, y):
        radius = math.hypot(x1, x2)
        assert 0.1 - 1e-12 <= radius <= 1.0 + 1e-12
        expected_angle = 2 * math.pi * label / classes + 4 * radius
        turn = (math.atan2(x2, x1) - expected_angle) % (2 * math.pi)
        assert min(turn, 2 * math.pi - turn) == pytest.approx(0.0, abs=1e-9)


@given(centers=st.integers(min_value=1, max_value=8), seed=st.integers(0, 10**6))
def test_tight_blobs_put_every_point_nearest_its_own_class_centre(centers: int, seed: int) -> None:
    """With a small std, each point is closer to its class mean than to any other."""
    X, y = blobs(n=10 * centers, centers=centers, std=0.05, seed=seed)
    means = {
        label: [
            sum(X[i][d] for i in range(len(X)) if y[i] == label) / y.count(label) for d in (0, 1)
        ]
        for label in set(y)
    }
    for (x1, x2), label in zip(X, y):
        nearest = min(means, key=lambda c: math.hypot(x1 - means[c][0], x2 - means[c][1]))
        assert nearest == label


@pytest.mark.parametrize(("dataset", "classes"), DATASETS, ids=dataset_ids)
@pytest.mark.parametrize("n", [0, -5])
def test_a_non_positive_n_is_a_value_error(dataset: Dataset, classes: int, n: int) -> None:
    """n <= 0 is refused with a message naming n."""
    with pytest.raises(ValueError, match=r"n \(the total number of points\) must be an int of"):
        dataset(n=n)


def test_fewer_points_than_classes_is_a_value_error() -> None:
    """Every class needs at least one point."""
    with pytest.raises(ValueError, match="cannot cover 3 classes"):
        spirals(n=2, classes=3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: moons(noise=-0.1), "noise must be >= 0"),
        (lambda: circles(noise=-1.0), "noise must be >= 0"),
        (lambda: spirals(noise=float("nan")), "noise must be >= 0"),
        (lambda: blobs(std=-0.5), "std must be >= 0"),
        (lambda: circles(factor=1.0), "factor .* strictly between 0 and 1"),
        (lambda: circles(factor=0.0), "factor .* strictly between 0 and 1"),
        (lambda: spirals(classes=1), "classes must be at least 2"),
        (lambda: blobs(centers=0), "centers must be an int of at least 1"),
    ],
)
def test_bad_dataset_arguments_are_value_errors_that_name_them(
    make: Callable[[], object], message: str
) -> None:
    """Negative noise or std, a factor outside (0, 1), too few classes: a ValueError."""
    with pytest.raises(ValueError, match=message):
        make()


# ---- batches ------------------------------------------------------------------------


@given(
    n=st.integers(min_value=1, max_value=60),
    batch_size=st.integers(min_value=1, max_value=70),
    shuffle=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_batches_hold_every_sample_exactly_once_with_its_own_label(
    n: int, batch_size: int, shuffle: bool, seed: int
) -> None:
    """Together the batches are a permutation of the samples, each row beside its label."""
    X, y = paired(n)
    seen = []
    for X_batch, y_batch in batches(X, y, batch_size, shuffle=shuffle, seed=seed):
        assert len(X_batch) == len(y_batch)
        assert all(row == X[label] for row, label in zip(X_batch, y_batch))
        seen.extend(y_batch)
    assert sorted(seen) == y


@given(n=st.integers(min_value=1, max_value=60), batch_size=st.integers(min_value=1, max_value=70))
def test_all_batches_are_full_except_perhaps_the_last(n: int, batch_size: int) -> None:
    """Batch sizes are batch_size, then the remainder: ceil(n / batch_size) batches."""
    X, y = paired(n)
    sizes = [len(y_batch) for _, y_batch in batches(X, y, batch_size)]
    assert len(sizes) == math.ceil(n / batch_size)
    assert all(size == batch_size for size in sizes[:-1])
    assert 1 <= sizes[-1] <= batch_size


def test_batches_without_shuffle_keep_the_original_order() -> None:
    """shuffle=False yields the samples in the order given."""
    X, y = paired(7)
    order = [label for _, y_batch in batches(X, y, 3, shuffle=False) for label in y_batch]
    assert order == y


def test_shuffled_batches_depend_on_the_seed_only() -> None:
    """The same seed gives the same order; another seed, another order."""
    X, y = paired(50)

    def order(seed: int) -> list[int]:
        return [label for _, y_batch in batches(X, y, 8, seed=seed) for label in y_batch]

    assert order(3) == order(3)
    assert order(3) != order(4)
    assert order(3) != y


def test_batches_accept_numpy_arrays_and_yield_plain_lists() -> None:
    """NumPy X and y are converted with .tolist()."""
    X, y = paired(5)
    [(X_batch, y_batch)] = list(batches(np.array(X), np.array(y), 5, shuffle=False))
    assert X_batch == X and y_batch == y
    assert type(X_batch[0][0]) is float and type(y_batch[0]) is int


@pytest.mark.parametrize(
    ("X", "y", "batch_size", "message"),
    [
        ([[0.0]], [0], 0, "batch_size must be an int of at least 1"),
        ([[0.0], [1.0]], [0], 1, "X has 2 samples but y has 1 targets"),
        ([], [], 1, "X is empty"),
    ],
)
def test_bad_batch_arguments_are_value_errors_raised_at_the_call(
    X: list[list[float]], y: list[int], batch_size: int, message: str
) -> None:
    """The error comes from calling batches(), before any iteration."""
    with pytest.raises(ValueError, match=message):
        batches(X, y, batch_size)


# ---- train_test_split ---------------------------------------------------------------


@given(
    n=st.integers(min_value=2, max_value=200),
    test_fraction=st.floats(min_value=0.01, max_value=0.99),
    seed=st.integers(0, 10**6),
)
def test_split_parts_partition_the_samples_and_keep_pairs_together(
    n: int, test_fraction: float, seed: int
) -> None:
    """Train and test are non-empty, disjoint, add up to all samples, rows beside labels."""
    X, y = paired(n)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction, seed)
    assert len(X_train) == len(y_train) >= 1
    assert len(X_test) == len(y_test) >= 1
    assert sorted(y_train + y_test) == y
    assert all(row == X[label] for row, label in zip(X_train + X_test, y_train + y_test))


@pytest.mark.parametrize(
    ("n", "test_fraction", "n_test"),
    [(100, 0.25, 25), (10, 0.3, 3), (10, 0.01, 1), (10, 0.99, 9), (2, 0.5, 1)],
)
def test_the_test_part_has_the_rounded_fraction_but_at_least_one_and_not_all(
    n: int, test_fraction: float, n_test: int
) -> None:
    """len(test) is round(n * test_fraction), clamped to 1..n-1."""
    X, y = paired(n)
    _, X_test, _, _ = train_test_split(X, y, test_fraction)
    assert len(X_test) == n_test


def test_split_is_deterministic_for_a_seed_and_shuffles() -> None:
    """The same seed gives the same split; the test part is not simply the last samples."""
    X, y = paired(40)
    assert train_test_split(X, y, seed=1) == train_test_split(X, y, seed=1)
    assert train_test_split(X, y, seed=1) != train_test_split(X, y, seed=2)
    assert train_test_split(X, y)[3] != y[-10:]


def test_split_accepts_numpy_arrays() -> None:
    """NumPy X and y are split like lists."""
    X, y = paired(8)
    assert train_test_split(np.array(X), np.array(y), seed=5) == train_test_split(X, y, seed=5)


@pytest.mark.parametrize(
    ("X", "y", "test_fraction", "message"),
    [
        ([[0.0], [1.0]], [0, 1], 0.0, "test_fraction must be strictly between 0 and 1"),
        ([[0.0], [1.0]], [0, 1], 1.0, "test_fraction must be strictly between 0 and 1"),
        ([[0.0], [1.0]], [0, 1], -0.5, "test_fraction must be strictly between 0 and 1"),
        ([[0.0], [1.0]], [0], 0.5, "X has 2 samples but y has 1 targets"),
        ([], [], 0.5, "X is empty"),
        ([[0.0]], [0], 0.5, "needs at least 2 samples"),
    ],
)
def test_bad_split_arguments_are_value_errors_that_say_which(
    X: list[list[float]], y: list[int], test_fraction: float, message: str
) -> None:
    """A fraction outside (0, 1), mismatched or too few samples: a ValueError."""
    with pytest.raises(ValueError, match=message):
        train_test_split(X, y, test_fraction)


# ---- digits -------------------------------------------------------------------------


def test_digits_are_64_pixels_in_0_1_with_every_digit_equally_often() -> None:
    """digits(n) gives n rows of 64 floats in [0, 1] and n/10 samples of each digit."""
    X, y = digits(n=200, seed=3)
    assert len(X) == len(y) == 200
    assert all(len(row) == 64 and all(0.0 <= p <= 1.0 for p in row) for row in X)
    assert Counter(y) == dict.fromkeys(range(10), 20)


def test_digits_are_the_same_for_a_seed_and_differ_between_seeds() -> None:
    """The same seed gives the same images; another seed gives other images."""
    assert digits(n=30, seed=7) == digits(n=30, seed=7)
    assert digits(n=30, seed=7)[0] != digits(n=30, seed=8)[0]


def test_noiseless_digits_are_their_strokes_and_tell_every_pair_of_digits_apart() -> None:
    """Without noise each image is lit strokes on black, and no two digits share a picture
    (up to the one-pixel shift): the classes are learnable."""
    X, y = digits(n=400, noise=0.0, seed=0)
    shapes: dict[int, set[tuple[bool, ...]]] = {}
    for row, label in zip(X, y):
        assert all(p == 0.0 or 0.6 <= p <= 1.0 for p in row)
        shapes.setdefault(label, set()).add(tuple(p > 0 for p in row))
    for a in range(10):
        for b in range(a + 1, 10):
            assert not shapes[a] & shapes[b], (a, b)


def test_noisy_digits_stay_readable_to_a_nearest_neighbour() -> None:
    """With the default noise a test image's nearest training image (another sample,
    another seed) shows the same digit for most images: the noise hides no digit."""
    X_train, y_train = digits(n=300, seed=1)
    X_test, y_test = digits(n=100, seed=2)
    train, test = np.asarray(X_train), np.asarray(X_test)
    distances = ((test[:, None, :] - train[None, :, :]) ** 2).sum(axis=2)
    nearest = np.asarray(y_train)[distances.argmin(axis=1)]
    assert np.mean(nearest == np.asarray(y_test)) > 0.8


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": 5}, r"digits: n=5 points cannot cover 10 classes"),
        ({"noise": -0.1}, r"noise"),
        ({"seed": 1.5}, r"seed"),
    ],
)
def test_digits_refuses_bad_arguments_by_name(arguments: dict[str, float], message: str) -> None:
    """Too few samples for ten classes, negative noise or a float seed is refused."""
    with pytest.raises((ValueError, TypeError), match=message):
        digits(**arguments)  # type: ignore[arg-type]
