"""draw_formula: a formula's graph drawn into a .png, .svg or .pdf, checked before any work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from scalargrad.formula import FormulaError
from scalargrad.formula_graph import GIF_MAX_NODES, MAX_NODES, draw_formula
from scalargrad.safe_write import UnwritablePathError

NEURON = "tanh(x*w + b)"
VALUES = {"x": 0.5, "w": -1.2, "b": 0.3}


def svg_size(path: Path) -> tuple[float, float]:
    """The width and height, in points, that Graphviz gave an SVG."""
    match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', path.read_text())
    assert match is not None
    return float(match.group(1)), float(match.group(2))


def labelled_edges(path: Path) -> int:
    """How many edges of a Graphviz SVG carry a label."""
    edges = re.findall(r'<g id="edge\d+" class="edge">(.*?)</g>', path.read_text(), re.S)
    return sum("<text" in edge for edge in edges)


def test_the_value_and_the_gradient_of_each_variable_are_returned(tmp_path: Path) -> None:
    """The result holds the formula's value and d/dvariable for each variable, as
    backward() on the same formula gives them."""
    drawn = draw_formula(NEURON, VALUES, tmp_path / "neuron.svg")
    assert drawn.value == pytest.approx(-0.291313, abs=1e-6)
    assert drawn.gradients == pytest.approx({"x": -1.098165, "w": 0.457569, "b": 0.915137}, 1e-5)
    assert drawn.written == (tmp_path / "neuron.svg",)


@pytest.mark.parametrize(
    ("name", "magic"), [("g.png", b"\x89PNG"), ("g.svg", b"<?xml"), ("g.PDF", b"%PDF")]
)
def test_the_file_extension_chooses_the_format(tmp_path: Path, name: str, magic: bytes) -> None:
    """.png, .svg and .pdf (in any case) are written in their own format."""
    draw_formula("x * 2", {"x": 1.0}, tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_a_png_shows_before_and_after_and_an_svg_after_backward_alone(tmp_path: Path) -> None:
    """The PNG holds both pictures (twice as wide as one); the SVG, for slides, only
    the graph after backward()."""
    draw_formula(NEURON, VALUES, tmp_path / "both.png")
    draw_formula(NEURON, VALUES, tmp_path / "after.svg")
    draw_formula(NEURON, VALUES, tmp_path / "after.png.svg")
    svg = (tmp_path / "after.svg").read_text()
    assert "after backward()" in svg
    assert "before backward()" not in svg
    with Image.open(tmp_path / "both.png") as both:
        width, height = both.size
    one_width, one_height = svg_size(tmp_path / "after.svg")
    # Graphviz draws PNGs at 96 pixels per inch, SVGs in points (72 an inch); a wide
    # graph's two pictures are stacked, a tall one's put side by side.
    assert max(width / one_width, height / one_height) > 2 * 96 / 72 * 0.9


def test_local_grads_label_every_edge_into_an_op(tmp_path: Path) -> None:
    """With local_grads each edge from an input to its op carries d(out)/d(in); without,
    no edge has a label."""
    draw_formula(NEURON, VALUES, tmp_path / "plain.svg")
    draw_formula(NEURON, VALUES, tmp_path / "local.svg", local_grads=True)
    assert labelled_edges(tmp_path / "plain.svg") == 0
    # x and w into *, x*w and b into +, x*w + b into tanh.
    assert labelled_edges(tmp_path / "local.svg") == 5
    assert "d(out)/d(in)" in (tmp_path / "local.svg").read_text()


def test_rankdir_turns_the_picture(tmp_path: Path) -> None:
    """LR (the default) lays the chain out from left to right, TB from top to bottom:
    narrower and taller."""
    draw_formula(NEURON, VALUES, tmp_path / "lr.svg")
    draw_formula(NEURON, VALUES, tmp_path / "tb.svg", rankdir="TB")
    lr_width, lr_height = svg_size(tmp_path / "lr.svg")
    tb_width, tb_height = svg_size(tmp_path / "tb.svg")
    assert lr_width > 3 * lr_height
    assert tb_width < lr_width / 1.5
    assert tb_height > lr_height * 1.5


def test_gif_writes_backward_step_by_step_beside_the_picture(tmp_path: Path) -> None:
    """gif=True adds out.gif: one frame per node and one for the start."""
    drawn = draw_formula(NEURON, VALUES, tmp_path / "neuron.pdf", gif=True)
    assert drawn.written == (tmp_path / "neuron.pdf", tmp_path / "neuron.gif")
    with Image.open(tmp_path / "neuron.gif") as gif:
        assert gif.n_frames == 7  # x, w, b, x*w, x*w + b, tanh


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"out": "g.jpg"}, r"must end in \.png, \.svg, \.pdf, got .*g\.jpg"),
        ({"rankdir": "up"}, "rankdir must be one of LR, RL, TB, BT, got 'up'"),
    ],
)
def test_an_unknown_format_or_direction_is_refused(
    tmp_path: Path, options: dict[str, str], message: str
) -> None:
    """A ValueError names what is allowed; nothing is written."""
    out = tmp_path / options.pop("out", "g.png")
    with pytest.raises(ValueError, match=message):
        draw_formula("x", {"x": 1.0}, out, **options)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_output_paths_are_checked_before_the_formula_is_read(tmp_path: Path) -> None:
    """A folder where the GIF goes is reported even when the formula is broken too."""
    (tmp_path / "g.gif").mkdir()
    with pytest.raises(UnwritablePathError, match=r"g\.gif: it is a folder"):
        draw_formula("x +", {}, tmp_path / "g.png", gif=True)
    assert [path.name for path in tmp_path.iterdir()] == ["g.gif"]


@pytest.mark.parametrize(
    ("formula", "gif", "message"),
    [
        ("+".join(["x*x"] * 151), False, f"302 nodes; a picture shows at most {MAX_NODES}"),
        ("+".join(["x*x"] * 51), True, f"102 nodes; an animation shows at most {GIF_MAX_NODES}"),
        ("1/x", False, "the gradient of x is not a finite number"),
    ],
)
def test_a_graph_too_big_or_a_gradient_not_finite_is_a_formula_error(
    tmp_path: Path, formula: str, gif: bool, message: str
) -> None:
    """Too many nodes to draw (or to animate), or a gradient that overflows: a
    FormulaError before anything is drawn or written."""
    value = 1e-200 if formula == "1/x" else 1.0
    with pytest.raises(FormulaError, match=message):
        draw_formula(formula, {"x": value}, tmp_path / "g.png", gif=gif)
    assert list(tmp_path.iterdir()) == []
