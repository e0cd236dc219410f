"""Training plots: figures made without pyplot, with what they claim to show."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from scalargrad import Value, is_grad_enabled, nn
from scalargrad.viz import plot_dataset, plot_decision_boundary, plot_loss


@dataclass
class StandInHistory:
    """What scalargrad.train.History has: per-epoch lists."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(data)).size


def two_blobs() -> tuple[list[list[float]], list[int]]:
    """Class 0 left of x0 = 0, class 1 right of it."""
    X = [[-1.5, 0.2], [-1.0, -0.8], [-0.7, 0.9], [1.2, 0.1], [0.8, -1.1], [1.6, 0.7]]
    return X, [0, 0, 0, 1, 1, 1]


class Sign:
    """A one-output 'model' whose score is x0, recording whether a graph was kept."""

    def __init__(self) -> None:
        self.calls = 0
        self.with_grad = 0

    def __call__(self, x: list[float]) -> Value:
        self.calls += 1
        self.with_grad += is_grad_enabled()
        return Value(x[0]) * 1.0


# ---- loss curves -------------------------------------------------------------------------


def test_plot_loss_draws_loss_and_accuracy_per_epoch(tmp_path: Path) -> None:
    """Two panels, one point per epoch each, numbered from 1; saved as a PNG."""
    history = StandInHistory(loss=[0.9, 0.5, 0.3, 0.2], accuracy=[0.5, 0.7, 0.9, 1.0])
    figure = plot_loss(history, path=tmp_path / "loss.png")
    assert isinstance(figure, Figure)
    loss_axes, accuracy_axes = figure.axes
    (loss_line,) = loss_axes.get_lines()
    assert list(loss_line.get_xdata()) == [1, 2, 3, 4]
    assert list(loss_line.get_ydata()) == history.loss
    assert list(accuracy_axes.get_lines()[0].get_ydata()) == history.accuracy
    assert accuracy_axes.get_ylim()[0] == 0.0
    assert (loss_axes.get_title(), accuracy_axes.get_title()) == ("loss", "accuracy")
    width, height = png_size(tmp_path / "loss.png")
    assert 600 < width < 2000 and 300 < height < 1000


def test_a_regression_history_has_no_accuracy_panel() -> None:
    """train.History records NaN accuracy for regression: one panel, the loss."""
    history = StandInHistory(loss=[2.0, 1.0], accuracy=[float("nan"), float("nan")])
    assert len(plot_loss(history).axes) == 1


def test_plot_loss_takes_a_plain_list_of_losses() -> None:
    """A learner's own `losses = []` list plots too."""
    figure = plot_loss([3.0, 2.0, 1.5])
    assert len(figure.axes) == 1
    assert list(figure.axes[0].get_lines()[0].get_ydata()) == [3.0, 2.0, 1.5]


def test_the_real_history_from_fit_plots() -> None:
    """scalargrad.train's History, from a few epochs of fit, plots as two panels."""
    from scalargrad import MLP, fit

    model = MLP(2, [4, 1], seed=0)
    X, y = two_blobs()
    history = fit(model, X, y, epochs=3, progress=False)
    figure = plot_loss(history)
    assert len(figure.axes) == 2
    assert len(figure.axes[0].get_lines()[0].get_ydata()) == 3


@pytest.mark.parametrize(
    ("history", "error", "message"),
    [
        (StandInHistory(), ValueError, "no epochs to plot"),
        (42, TypeError, r"expected a History \(with .loss and .accuracy\)"),
        (StandInHistory(loss=["a"]), TypeError, "history.loss must be a list of numbers"),
    ],
)
def test_plot_loss_rejects_what_it_cannot_plot(history: object, error: type, message: str) -> None:
    """Empty, shapeless or non-numeric histories get errors that say so."""
    with pytest.raises(error, match=message):
        plot_loss(history)


# ---- datasets --------------------------------------------------------------------------------


def test_plot_dataset_draws_each_class_in_its_own_colour(tmp_path: Path) -> None:
    """One scatter per class, labelled in the legend; NumPy arrays accepted."""
    X, y = two_blobs()
    figure = plot_dataset(np.array(X), np.array(y), path=tmp_path / "data.png")
    (axes,) = figure.axes
    assert [c.get_offsets().shape[0] for c in axes.collections] == [3, 3]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["class 0", "class 1"]
    colours = {tuple(c.get_facecolor()[0]) for c in axes.collections}
    assert len(colours) == 2
    width, height = png_size(tmp_path / "data.png")
    assert 300 < width < 1500 and 300 < height < 1500


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        ([[0.0, 1.0, 2.0]], [0], r"X must be rows of 2 numbers, got shape \(1, 3\)"),
        ([[0.0, 1.0]], [0, 1], "y must be one label per row of X"),
        ([["a", "b"]], [0], "X must be rows of 2 numbers"),
    ],
)
def test_plot_dataset_rejects_data_of_the_wrong_shape(X: object, y: object, message: str) -> None:
    """Shapes are checked before anything is drawn."""
    with pytest.raises((ValueError, TypeError), match=message):
        plot_dataset(X, y)


# ---- decision boundaries ------------------------------------------------------------------------


def test_the_decision_boundary_is_where_a_single_score_crosses_zero() -> None:
    """Score x0: the mesh left of 0 is class 0, right of it class 1; all points right."""
    X, y = two_blobs()
    model = Sign()
    figure = plot_decision_boundary(model, X, y, resolution=21)
    (axes,) = figure.axes
    assert "accuracy 100.0%" in axes.get_title()
    area = axes.collections[0]  # contourf of the predicted class
    assert area.get_array() is not None
    assert model.calls == 21 * 21 + len(X)
    # One zero-level contour line is drawn for a single score.
    assert any(
        getattr(c, "levels", None) is not None and list(c.levels) == [0.0] for c in axes.collections
    )


def test_the_mesh_is_evaluated_under_no_grad() -> None:
    """No graph is recorded for the thousands of mesh points."""
    X, y = two_blobs()
    model = Sign()
    plot_decision_boundary(model, X, y, resolution=10)
    assert model.calls > 0 and model.with_grad == 0


def test_labels_minus_one_and_one_map_to_the_score_sign() -> None:
    """With y in {-1, 1} (hinge loss data) the positive score is class 1."""
    X, y = two_blobs()
    labels = [-1 if label == 0 else 1 for label in y]
    figure = plot_decision_boundary(Sign(), np.array(X), np.array(labels, dtype=float))
    assert "accuracy 100.0%" in figure.axes[0].get_title()


def test_several_outputs_predict_the_argmax() -> None:
    """Three scores: class k where score k is largest; a model that always says 2 is
    right on the class-2 points only."""
    X = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    y = [0, 1, 2]

    def always_two(x: list[float]) -> list[Value]:
        return [Value(0.0), Value(0.5), Value(1.0)]

    figure = plot_decision_boundary(always_two, X, y, resolution=5)
    assert "accuracy 33.3%" in figure.axes[0].get_title()


def test_the_real_mlp_draws_a_boundary(tmp_path: Path) -> None:
    """scalargrad.nn.MLP on a coarse mesh, saved as a PNG."""
    X, y = two_blobs()
    path = tmp_path / "boundary.png"
    figure = plot_decision_boundary(nn.MLP(2, [8, 1], seed=0), X, y, resolution=30, path=path)
    assert isinstance(figure, Figure)
    width, height = png_size(path)
    assert 300 < width < 1500 and 300 < height < 1500


@pytest.mark.parametrize("output_activation", ["sigmoid", "linear"])
def test_the_accuracy_in_the_title_is_the_models_accuracy(output_activation: str) -> None:
    """The plot classifies as train.accuracy does: a sigmoid output (a probability) at
    0.5, with the boundary line there; a linear output (a score) at 0."""
    from scalargrad.data import moons
    from scalargrad.nn import MLP
    from scalargrad.train import accuracy, fit

    X, y = moons(60)
    model = MLP(2, [8, 1], "tanh", output_activation, seed=0)
    fit(model, X, y, optimizer="adam", lr=0.05, epochs=60, progress=False)
    expected = accuracy(model, X, y)
    assert expected > 0.8
    (axes,) = plot_decision_boundary(model, X, y, resolution=20).axes
    assert f"accuracy {expected:.1%}" in axes.get_title()
    level = 0.5 if output_activation == "sigmoid" else 0.0
    assert any(list(getattr(c, "levels", [])) == [level] for c in axes.collections)


def test_a_model_that_returns_something_else_is_a_type_error() -> None:
    """The error names what the model returned."""
    X, y = two_blobs()
    with pytest.raises(TypeError, match="the model returned 'yes'"):
        plot_decision_boundary(lambda x: "yes", X, y)
    with pytest.raises(ValueError, match="resolution must be an int >= 2"):
        plot_decision_boundary(Sign(), X, y, resolution=1)


# ---- headless ----------------------------------------------------------------------------------


def test_plots_work_headless_without_pyplot(tmp_path: Path) -> None:
    """In a fresh process with no display, every plot saves a PNG and pyplot never loads."""
    code = f"""
import sys
from scalargrad import Value
from scalargrad.viz import plot_dataset, plot_decision_boundary, plot_loss
X, y = [[0.0, 0.0], [1.0, 1.0]], [0, 1]
plot_loss([1.0, 0.5], path={str(tmp_path / "a.png")!r})
plot_dataset(X, y, path={str(tmp_path / "b.png")!r})
score = lambda x: Value(x[0] - 0.5)
plot_decision_boundary(score, X, y, resolution=5, path={str(tmp_path / "c.png")!r})
print("matplotlib.pyplot" in sys.modules)
"""
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "MPLBACKEND")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "False"
    for name in ("a.png", "b.png", "c.png"):
        png_size(tmp_path / name)
