"""scalargrad.demo: compiled training by default, the step-through page, the summary."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from scalargrad import demo, modelfile
from scalargrad.viz.html import page_html


def test_compiled_and_eager_training_give_the_same_numbers(tmp_path: Path) -> None:
    """The demo trains compiled by default; eager training gives the same losses,
    accuracies and trained weights (to 1e-9, as fit promises); each summary says which."""
    runs = {
        compiled: demo.run("moons", tmp_path / str(compiled), steps=20, progress=False, **options)
        for compiled, options in ((True, {}), (False, {"compile": False}))
    }
    compiled, eager = runs[True], runs[False]
    assert compiled.history.loss == pytest.approx(eager.history.loss, abs=1e-9)
    assert compiled.history.accuracy == eager.history.accuracy
    weights = {run: modelfile.load(tmp_path / str(run) / "model.json").state_dict() for run in runs}
    assert weights[True] == pytest.approx(weights[False], abs=1e-9)
    assert (
        compiled.report()
        .splitlines()[0]
        .endswith("20 steps, compiled (NumPy, a matrix product per layer)")
    )
    assert eager.report().splitlines()[0].endswith("20 steps, eager")


def test_the_page_steps_through_the_untrained_snapshot_and_needs_no_network(
    tmp_path: Path,
) -> None:
    """backprop.html is the step-through page of the pictured sample's loss through the
    untrained model (the graph the PNGs and the GIF show), with no URL in it; the
    summary names it among the files and says to open it."""
    summary = demo.run("xor", tmp_path, steps=5, progress=False)
    recipe = demo.RECIPES["xor"]
    X, y = recipe.data(0)
    sample, untrained = demo.sample_graph(recipe, recipe.model(0), X, y)
    page = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert summary.sample == sample
    assert page == page_html(untrained)
    assert not re.search(r"https?://", page)
    assert tmp_path / "backprop.html" in summary.written
    assert "backprop.html" in demo.files() and "backprop.html" in demo.files(gif=True)
    _, _, pictured, wrote = summary.report().splitlines()
    assert pictured.endswith("open backprop.html in a browser to step through backward()")
    assert "graph_after.png, backprop.html, model.json" in wrote


def test_a_diverging_compiled_training_is_reported_without_numpys_warnings() -> None:
    """A learning rate that makes the compiled loss overflow raises TrainingDiverged,
    and NumPy prints no warning on the way (the command's error stays one line)."""
    recipe = demo.RECIPES["spirals"]
    X, y = recipe.data(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(demo.TrainingDiverged, match="try a smaller --lr"):
            demo.train(recipe, recipe.model(0), X, y, optimizer="sgd", lr=1e300, steps=5)
