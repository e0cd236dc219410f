"""Training pictures with matplotlib: loss curves, datasets, decision boundaries.

Each function returns a `matplotlib.figure.Figure` made without pyplot, so nothing
touches global state or needs a display: it works on a headless server, and Jupyter
shows the returned figure inline. `path=` saves a PNG too.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from scalargrad.engine import Value, no_grad
from scalargrad.nn import decision_threshold

# One colour per class, the same in every plot.
CLASS_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def plot_loss(history: Any, *, path: str | os.PathLike[str] | None = None) -> Figure:
    """Loss per epoch, and accuracy beside it when the history has any (not all NaN).

    `history` is a `scalargrad.train.History` or anything with `.loss` and
    `.accuracy` lists; a plain list of losses works too.

    >>> plot_loss(model.fit(X, y)).savefig("loss.png")  # doctest: +SKIP
    """
    if isinstance(history, Sequence) and not isinstance(history, str):
        losses, accuracies = _numbers(history, "plot_loss: history"), []
    elif hasattr(history, "loss"):
        losses = _numbers(history.loss, "plot_loss: history.loss")
        accuracies = _numbers(getattr(history, "accuracy", None) or [], "history.accuracy")
        if all(np.isnan(accuracies)):  # NaN throughout: a regression has no accuracy
            accuracies = []
    else:
        raise TypeError(
            "plot_loss: expected a History (with .loss and .accuracy) or a list of "
            f"losses, got {type(history).__name__}"
        )
    if not losses:
        raise ValueError("plot_loss: the history has no epochs to plot")

    figure = Figure(figsize=(10 if accuracies else 5.5, 4), layout="constrained")
    panels = figure.subplots(1, 2 if accuracies else 1, squeeze=False)[0]
    epochs = np.arange(1, len(losses) + 1)
    loss_axes = panels[0]
    loss_axes.plot(epochs, losses, color="#1f77b4", marker="o" if len(losses) <= 30 else None)
    loss_axes.set(title="loss", xlabel="epoch", ylabel="loss")
    loss_axes.grid(alpha=0.3)
    if accuracies:
        accuracy_axes = panels[1]
        accuracy_axes.plot(
            np.arange(1, len(accuracies) + 1),
            accuracies,
            color="#2ca02c",
            marker="o" if len(accuracies) <= 30 else None,
        )
        # Fractions get a 0..1 axis, percentages 0..100, so a plateau looks like one.
        top = 1.0 if np.nanmax(accuracies) <= 1.0 else 100.0
        accuracy_axes.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
        accuracy_axes.set_ylim(0.0, top * 1.02)
        accuracy_axes.grid(alpha=0.3)
    for axes in panels:
        axes.xaxis.get_major_locator().set_params(integer=True)
    _save(figure, path)
    return figure


def plot_dataset(
    X: Any, y: Any, *, title: str = "dataset", path: str | os.PathLike[str] | None = None
) -> Figure:
    """A scatter plot of 2-D points `X` coloured by their class `y`.

    >>> plot_dataset([[0, 0], [1, 1]], [0, 1]).savefig("data.png")  # doctest: +SKIP
    """
    points, labels = _dataset(X, y, "plot_dataset")
    figure = Figure(figsize=(5.5, 5), layout="constrained")
    axes = figure.subplots()
    _scatter(axes, points, labels, sorted(set(labels.tolist())))
    axes.set(title=title, xlabel="x0", ylabel="x1")
    axes.set_aspect("equal", adjustable="datalim")
    _save(figure, path)
    return figure


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    *,
    resolution: int = 80,
    margin: float = 0.5,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """The model's predicted class over the plane, with the data on top.

    A model with one output predicts the larger class where its output is above
    `scalargrad.nn.decision_threshold(model)` (0.5 after a sigmoid, else 0), the
    smaller where not. With several outputs the class is the argmax. The mesh
    (`resolution` points a side) is evaluated under `no_grad()`, so no graph is kept.

    >>> plot_decision_boundary(model, X, y).savefig("boundary.png")  # doctest: +SKIP
    """
    points, labels = _dataset(X, y, "plot_decision_boundary")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(
            f"plot_decision_boundary: resolution must be an int >= 2, got {resolution!r}"
        )
    if not callable(model):
        raise TypeError(
            "plot_decision_boundary: model must be callable on one sample, "
            f"got {type(model).__name__}"
        )
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    xs, ys = np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    mesh = np.column_stack([grid_x.ravel(), grid_y.ravel()])

    classes = sorted(set(labels.tolist()))
    threshold = decision_threshold(model)
    with no_grad():
        scores = _scores(model, mesh)
        predicted_data = _predict(_scores(model, points), classes, threshold)
    predicted_mesh = _predict(scores, classes, threshold)
    palette = sorted(set(classes) | set(predicted_mesh.tolist()))
    index = {label: i for i, label in enumerate(palette)}
    area = np.vectorize(index.__getitem__)(predicted_mesh).reshape(grid_x.shape)

    figure = Figure(figsize=(5.5, 5), layout="constrained")
    axes = figure.subplots()
    colors = ListedColormap([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(len(palette))])
    axes.contourf(
        grid_x,
        grid_y,
        area,
        levels=np.arange(len(palette) + 1) - 0.5,
        cmap=colors,
        alpha=0.25,
    )
    if scores.shape[1] == 1:
        score = scores[:, 0].reshape(grid_x.shape)
        if score.min() < threshold < score.max():
            axes.contour(grid_x, grid_y, score, levels=[threshold], colors="black", linewidths=1)
    _scatter(axes, points, labels, palette)
    accuracy = float(np.mean(predicted_data == labels))
    axes.set(title=f"decision boundary (accuracy {accuracy:.1%})", xlabel="x0", ylabel="x1")
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    _save(figure, path)
    return figure


def _scores(model: Any, samples: np.ndarray) -> np.ndarray:
    """The model's outputs, one row per sample, as floats."""
    rows = []
    for sample in samples.tolist():
        out = model(sample)
        outputs = out if isinstance(out, (list, tuple)) else [out]
        rows.append([_float(v) for v in outputs])
    return np.asarray(rows, dtype=float)


def _float(v: object) -> float:
    if isinstance(v, Value):
        return v.data
    if isinstance(v, numbers.Real):
        return float(v)
    raise TypeError(
        f"plot_decision_boundary: the model returned {v!r}; expected a Value or a list of Values"
    )


def _predict(scores: np.ndarray, classes: list[Any], threshold: float) -> np.ndarray:
    if scores.shape[1] == 1:
        positive = scores[:, 0] > threshold
        predicted: np.ndarray = np.where(positive, classes[-1], classes[0])
        return predicted
    best: np.ndarray = scores.argmax(axis=1)
    return best


def _dataset(X: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        points = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}: X must be rows of 2 numbers: {error}") from None
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{where}: X must be rows of 2 numbers, got shape {points.shape}")
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(points):
        raise ValueError(
            f"{where}: y must be one label per row of X: "
            f"{len(points)} rows, y has shape {labels.shape}"
        )
    if len(points) == 0:
        raise ValueError(f"{where}: the dataset is empty")
    if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
        labels = labels.astype(int)  # 1.0 and -1.0 from a loss are the classes 1 and -1
    return points, labels


def _scatter(axes: Any, points: np.ndarray, labels: np.ndarray, palette: list[Any]) -> None:
    for i, label in enumerate(palette):
        chosen = labels == label
        if chosen.any():
            axes.scatter(
                points[chosen, 0],
                points[chosen, 1],
                s=22,
                color=CLASS_COLORS[i % len(CLASS_COLORS)],
                edgecolors="black",
                linewidths=0.5,
                label=f"class {label}",
            )
    axes.legend(loc="best", fontsize=9)


def _numbers(values: Any, what: str) -> list[float]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a list of numbers, got {values!r}") from None


def _save(figure: Figure, path: str | os.PathLike[str] | None) -> None:
    if path is not None:
        figure.savefig(path, dpi=110)
