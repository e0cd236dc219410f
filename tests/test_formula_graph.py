"""draw_formula: a formula's graph drawn into a .png, .svg, .pdf and a page, checked before
any work; its code; the command line's --set read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from scalargrad.compile import source
from scalargrad.formula import FormulaError
from scalargrad.formula_graph import (
    GIF_MAX_NODES,
    MAX_NODES,
    assigned_values,
    draw_formula,
    read_assignment,
)
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


def test_html_writes_the_step_through_page_beside_the_picture_or_alone(tmp_path: Path) -> None:
    """html= adds the step-through page after the picture; with no out it is the only
    file written, and with neither nothing is drawn but the numbers are there."""
    drawn = draw_formula(NEURON, VALUES, tmp_path / "n.svg", html=tmp_path / "n.html")
    assert drawn.written == (tmp_path / "n.svg", tmp_path / "n.html")
    assert (tmp_path / "n.html").read_text().startswith("<!DOCTYPE html>")
    alone = draw_formula(NEURON, VALUES, html=tmp_path / "alone.html")
    assert alone.written == (tmp_path / "alone.html",)
    nothing = draw_formula(NEURON, VALUES)
    assert nothing.written == ()
    assert nothing.gradients == drawn.gradients
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alone.html", "n.html", "n.svg"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"html": "page.htm.txt"}, r"the page's name must end in \.html"),
        ({"gif": True}, "the animation is written beside the picture: give out as well"),
    ],
)
def test_a_page_of_another_kind_or_a_gif_without_a_picture_is_refused(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    """A ValueError says what to change; nothing is written."""
    with pytest.raises(ValueError, match=message):
        draw_formula("x", {"x": 1.0}, **options)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_code_is_the_compiled_source_with_one_argument_per_variable_in_order() -> None:
    """code() takes the variables in the formula's order, whatever order the values
    come in, and is scalargrad.compile.source of the formula's graph."""
    drawn = draw_formula("y * exp(x)", {"x": 0.0, "y": 2.0})
    code = drawn.code()
    assert code.splitlines()[0] == "def forward_backward(y, x):"
    assert "g_x = g_h1 * h1" in code  # exp's derivative is its output
    assert code == source(drawn.root, [drawn.root.parents[0], drawn.root.parents[1].parents[0]])


def test_report_gives_the_value_the_gradients_the_code_and_the_files(tmp_path: Path) -> None:
    """One line for the value, one per gradient, the code when asked for, then the files
    with what each shows."""
    drawn = draw_formula("x * 2", {"x": 1.5}, tmp_path / "g.png", gif=True)
    assert drawn.report().splitlines() == [
        "x * 2 = 3",
        "  d/dx = 2",
        f"wrote {tmp_path / 'g.png'} (before and after backward()), "
        f"{tmp_path / 'g.gif'} (backward() step by step)",
    ]
    with_code = drawn.report(code=True).splitlines()
    assert with_code[2:-1] == drawn.code().splitlines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("x=0.5", ("x", 0.5)), (" w = -1.2 ", ("w", -1.2)), ("\uff58=1", ("x", 1.0))],
)
def test_an_assignment_is_read_as_python_reads_the_name(
    text: str, expected: tuple[str, float]
) -> None:
    """NAME=VALUE with spaces around either; a name in another width is Python's (NFKC)."""
    assert read_assignment(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "'x' is not NAME=VALUE"),
        ("1x=2", "'1x' is not a variable name"),
        ("tanh=2", "tanh is a function"),
        ("x=one", "the value of x: 'one' is not a number"),
        ("x=inf", "the value of x: must be a finite number, got inf"),
    ],
)
def test_a_bad_assignment_is_a_value_error_that_names_the_mistake(text: str, message: str) -> None:
    """What is wrong is named: the form, the name, or the value."""
    with pytest.raises(ValueError, match=message):
        read_assignment(text)


def test_each_variable_needs_one_value() -> None:
    """A variable set twice, or a variable with no value, is named with the --set to give."""
    assert assigned_values("x*w", [("w", 2.0), ("x", 1.0)]) == {"w": 2.0, "x": 1.0}
    with pytest.raises(ValueError, match=r"x is set twice \(--set x=\.\.\.\); set it once"):
        assigned_values("x", [("x", 1.0), ("x", 2.0)])
    with pytest.raises(ValueError, match="the formula uses w; give a value with --set w=VALUE"):
        assigned_values("x*w", [("x", 1.0)])


def test_drawing_a_formula_does_not_import_matplotlib(tmp_path: Path) -> None:
    """scalargrad.viz loads its plots (and matplotlib) only when they are asked for, so
    a formula is drawn, and its page written, without them; the plots still import."""
    code = (
        "import sys\n"
        "import scalargrad.viz\n"
        "from scalargrad.formula_graph import draw_formula\n"
        "draw_formula('tanh(x)', {'x': 1.0}, 'g.png', html='g.html')\n"
        "print('matplotlib' in sys.modules)\n"
        "from scalargrad.viz import plot_loss\n"
        "print('matplotlib' in sys.modules, plot_loss.__module__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False", "True scalargrad.viz.plots"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["g.html", "g.png"]
