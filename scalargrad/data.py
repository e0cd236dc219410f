"""Small datasets to train on, and the two chores around them: batches and splits.

Every dataset returns `(X, y)`: `X` a list of rows of floats (`[x1, x2]`, or 64 pixels
for `digits`), `y` a list of class labels `0 .. k-1`. `n` is always the TOTAL number of
points, shared between the classes as evenly as possible. The same seed gives the same
data, on any machine.

>>> X, y = moons(n=6, seed=1)
>>> len(X), len(y), sorted(set(y))
(6, 6, [0, 1])
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Any

from scalargrad import validate

Rows = list[list[float]]
Labels = list[int]


def xor() -> tuple[Rows, Labels]:
    """The four corners of the unit square, labelled by XOR: no straight line separates them.

    >>> xor()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [0, 1, 1, 0]
    return X, y


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[Rows, Labels]:
    """Two interleaving half circles: class 0 the upper arc, class 1 the lower one.

    `noise` is the standard deviation of the Gaussian noise added to each coordinate.
    """
    n = _check_size("moons", n, classes=2)
    noise = validate.non_negative(noise, "moons", "noise")
    rng = random.Random(validate.integer(seed, "moons", "seed"))
    upper, lower = _class_sizes(n, 2)
    X: Rows = []
    y: Labels = []
    for angle in _spaced(0.0, math.pi, upper):
        X.append([math.cos(angle), math.sin(angle)])
        y.append(0)
    for angle in _spaced(0.0, math.pi, lower):
        # The lower arc is the upper one turned over and shifted into its mouth.
        X.append([1.0 - math.cos(angle), 0.5 - math.sin(angle)])
        y.append(1)
    return _shuffled(_jittered(X, noise, rng), y, rng)


def circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[Rows, Labels]:
    """A circle of radius 1 (class 0) around a smaller one of radius `factor` (class 1).

    `noise` is the standard deviation of the Gaussian noise added to each coordinate.
    """
    n = _check_size("circles", n, classes=2)
    noise = validate.non_negative(noise, "circles", "noise")
    if not 0.0 < factor < 1.0:
        raise ValueError(
            f"circles: factor is the inner radius relative to the outer one and must be "
            f"strictly between 0 and 1, got {factor!r}"
        )
    rng = random.Random(validate.integer(seed, "circles", "seed"))
    X: Rows = []
    y: Labels = []
    for label, (radius, count) in enumerate(zip((1.0, factor), _class_sizes(n, 2))):
        for i in range(count):
            angle = 2.0 * math.pi * i / count
            X.append([radius * math.cos(angle), radius * math.sin(angle)])
            y.append(label)
    return _shuffled(_jittered(X, noise, rng), y, rng)


def spirals(
    n: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[Rows, Labels]:
    """`classes` spiral arms winding out from the origin, one class per arm.

    `n` points in total. Each arm turns through 4 radians from radius 0.1 to 1;
    `noise` is the standard deviation of the Gaussian noise on each point's angle
    (radians), so the arms blur more at the rim than at the centre.
    """
    classes = validate.count(classes, "spirals", "classes")
    if classes < 2:
        raise ValueError(f"spirals: classes must be at least 2, got {classes!r}")
    n = _check_size("spirals", n, classes=classes)
    noise = validate.non_negative(noise, "spirals", "noise")
    rng = random.Random(validate.integer(seed, "spirals", "seed"))
    X: Rows = []
    y: Labels = []
    for label, count in enumerate(_class_sizes(n, classes)):
        start_angle = 2.0 * math.pi * label / classes
        # Starting off the origin keeps the arms (and their labels) from meeting there.
        for radius in _spaced(0.1, 1.0, count):
            angle = start_angle + 4.0 * radius + rng.gauss(0.0, noise)
            X.append([radius * math.cos(angle), radius * math.sin(angle)])
            y.append(label)
    return _shuffled(X, y, rng)


def blobs(n: int = 100, centers: int = 3, std: float = 0.5, seed: int = 0) -> tuple[Rows, Labels]:
    """Gaussian clouds of standard deviation `std`, one class per cloud.

    The `centers` cloud centres sit evenly spaced on a circle of radius 2 around the
    origin, so the classes are easy to tell apart for a small `std`.
    """
    centers = validate.count(centers, "blobs", "centers")
    n = _check_size("blobs", n, classes=centers)
    std = validate.non_negative(std, "blobs", "std")
    rng = random.Random(validate.integer(seed, "blobs", "seed"))
    X: Rows = []
    y: Labels = []
    for label, count in enumerate(_class_sizes(n, centers)):
        angle = 2.0 * math.pi * label / centers
        centre = [2.0 * math.cos(angle), 2.0 * math.sin(angle)]
        for _ in range(count):
            X.append([centre[0] + rng.gauss(0.0, std), centre[1] + rng.gauss(0.0, std)])
            y.append(label)
    return _shuffled(X, y, rng)


# Seven strokes on an 8x8 grid, as (row, column) pixels: the segments of a digital
# clock's digit, drawn in rows 1-6 and columns 2-5 so a shift of one pixel stays inside.
_STROKES: dict[str, list[tuple[int, int]]] = {
    "top": [(1, c) for c in range(2, 6)],
    "upper left": [(r, 2) for r in range(1, 5)],
    "upper right": [(r, 5) for r in range(1, 5)],
    "middle": [(4, c) for c in range(2, 6)],
    "lower left": [(r, 2) for r in range(4, 7)],
    "lower right": [(r, 5) for r in range(4, 7)],
    "bottom": [(6, c) for c in range(2, 6)],
}
_DIGIT_STROKES: tuple[tuple[str, ...], ...] = (
    ("top", "upper left", "upper right", "lower left", "lower right", "bottom"),
    ("upper right", "lower right"),
    ("top", "upper right", "middle", "lower left", "bottom"),
    ("top", "upper right", "middle", "lower right", "bottom"),
    ("upper left", "upper right", "middle", "lower right"),
    ("top", "upper left", "middle", "lower right", "bottom"),
    ("top", "upper left", "middle", "lower left", "lower right", "bottom"),
    ("top", "upper right", "lower right"),
    ("top", "upper left", "upper right", "middle", "lower left", "lower right", "bottom"),
    ("top", "upper left", "upper right", "middle", "lower right", "bottom"),
)
DIGIT_SIZE = 8


def digits(n: int = 500, noise: float = 0.15, seed: int = 0) -> tuple[Rows, Labels]:
    """8x8 images of the digits 0-9, drawn as a digital clock draws them, made here.

    Each row of `X` is 64 pixel values in [0, 1], row by row from the top left; `y` is
    the digit. Each image is its digit's strokes, each stroke at its own brightness
    (0.6 to 1), shifted by up to one pixel each way, plus Gaussian noise of standard
    deviation `noise` on every pixel. Nothing is downloaded.

    >>> X, y = digits(n=20, seed=0)
    >>> len(X[0]), sorted(set(y))
    (64, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    n = _check_size("digits", n, classes=10)
    noise = validate.non_negative(noise, "digits", "noise")
    rng = random.Random(validate.integer(seed, "digits", "seed"))
    X: Rows = []
    y: Labels = []
    for label, count in enumerate(_class_sizes(n, 10)):
        for _ in range(count):
            X.append(_digit_image(label, noise, rng))
            y.append(label)
    return _shuffled(X, y, rng)


def _digit_image(label: int, noise: float, rng: random.Random) -> list[float]:
    pixels = [0.0] * (DIGIT_SIZE * DIGIT_SIZE)
    down, right = rng.randint(-1, 1), rng.randint(-1, 1)
    for stroke in _DIGIT_STROKES[label]:
        brightness = rng.uniform(0.6, 1.0)
        for row, column in _STROKES[stroke]:
            index = (row + down) * DIGIT_SIZE + column + right
            pixels[index] = max(pixels[index], brightness)
    return [min(max(p + rng.gauss(0.0, noise), 0.0), 1.0) for p in pixels]


def batches(
    X: Sequence[Any], y: Sequence[Any], batch_size: int, shuffle: bool = True, seed: int = 0
) -> Iterator[tuple[list[Any], list[Any]]]:
    """Yield `(X_batch, y_batch)` pairs that together hold every sample exactly once.

    All batches have `batch_size` samples except perhaps the last, which has the rest.
    With `shuffle` the order is random but fixed by `seed`: pass a new seed (say the
    epoch number) to get a new order each epoch.

    >>> [yb for _, yb in batches([[0], [1], [2]], [0, 1, 2], batch_size=2, shuffle=False)]
    [[0, 1], [2]]
    """
    rows, labels = validate.samples("batches", X, y)
    batch_size = validate.count(batch_size, "batches", "batch_size")
    order = list(range(len(rows)))
    if shuffle:
        random.Random(validate.integer(seed, "batches", "seed")).shuffle(order)
    # Checked above, yielded below: the errors come when batches() is called, not later.
    return _batches(rows, labels, order, batch_size)


def _batches(
    rows: list[Any], labels: list[Any], order: list[int], batch_size: int
) -> Iterator[tuple[list[Any], list[Any]]]:
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        yield [rows[i] for i in chosen], [labels[i] for i in chosen]


def train_test_split(
    X: Sequence[Any], y: Sequence[Any], test_fraction: float = 0.25, seed: int = 0
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Shuffle, then split into `(X_train, X_test, y_train, y_test)`.

    The test set gets `round(len(X) * test_fraction)` samples, but at least one and
    never all of them, so both parts are non-empty.

    >>> X_train, X_test, y_train, y_test = train_test_split([[0], [1], [2], [3]], [0, 1, 0, 1])
    >>> len(X_train), len(X_test)
    (3, 1)
    """
    rows, labels = validate.samples("train_test_split", X, y)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"train_test_split: test_fraction must be strictly between 0 and 1, "
            f"got {test_fraction!r}"
        )
    if len(rows) < 2:
        raise ValueError(
            f"train_test_split: needs at least 2 samples to make two non-empty parts, "
            f"got {len(rows)}"
        )
    n_test = min(max(round(len(rows) * test_fraction), 1), len(rows) - 1)
    order = list(range(len(rows)))
    random.Random(validate.integer(seed, "train_test_split", "seed")).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return (
        [rows[i] for i in train],
        [rows[i] for i in test],
        [labels[i] for i in train],
        [labels[i] for i in test],
    )


# ---- helpers ------------------------------------------------------------------------


def _check_size(where: str, n: int, classes: int) -> int:
    n = validate.count(n, where, "n (the total number of points)")
    if n < classes:
        raise ValueError(
            f"{where}: n={n} points cannot cover {classes} classes; use n >= {classes}"
        )
    return n


def _class_sizes(n: int, classes: int) -> list[int]:
    """n split into `classes` parts that differ by at most one, larger parts first."""
    return [n // classes + (1 if label < n % classes else 0) for label in range(classes)]


def _spaced(start: float, stop: float, count: int) -> list[float]:
    """`count` evenly spaced numbers from `start` to `stop`, both ends included."""
    if count == 1:
        return [start]
    step = (stop - start) / (count - 1)
    return [start + i * step for i in range(count)]


def _jittered(X: Rows, noise: float, rng: random.Random) -> Rows:
    return [[x + rng.gauss(0.0, noise) for x in row] for row in X]


def _shuffled(X: Rows, y: Labels, rng: random.Random) -> tuple[Rows, Labels]:
    # Mixed classes, so that taking the first k samples does not take one class only.
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]
