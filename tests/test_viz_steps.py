"""Before/after pictures and stepping through backward, none of which touches `.grad`."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from PIL import Image

import scalargrad
import scalargrad.viz.steps
from scalargrad import Value, nn
from scalargrad.engine import gradients, topological_order
from scalargrad.viz import (
    BeforeAfter,
    GraphTooLargeError,
    backward_steps,
    before_after,
    save_animation,
    step_slider,
)
from scalargrad.viz.graph import HIGHLIGHT, MAX_PIXELS, LargeGraphWarning, format_number
from tests.strategies import Program, programs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, data[:16]
    return Image.open(io.BytesIO(data)).size


def neuron() -> Value:
    """The lecture's neuron, with a leaf (x1) used twice so its paths add up."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b + x1 * 0.1
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def grads_of(root: Value) -> dict[Value, float]:
    return {node: node.grad for node in topological_order(root)}


def highlighted(source: str) -> list[str]:
    """The ids of the Value nodes drawn in the highlight colour."""
    return re.findall(rf'^\s*(v\d+) \[.*color="{HIGHLIGHT}"', source, flags=re.MULTILINE)


def ids(root: Value) -> dict[Value, str]:
    return {node: f"v{i}" for i, node in enumerate(topological_order(root))}


def run(program: Program) -> Value:
    values = [Value(x) for x in program.inputs]
    out: Value = program.run(values, dot=scalargrad.dot, total=scalargrad.sum)
    return out


# ---- the gradients the pictures show -------------------------------------------------


@given(programs())
def test_gradients_equal_what_backward_gives_and_leave_grad_alone(program: Program) -> None:
    """On any expression DAG: the dict matches a later backward(), and no .grad moved."""
    root = run(program)
    worked_out = gradients(root)
    assert all(node.grad == 0.0 for node in worked_out)
    root.backward()
    assert worked_out == pytest.approx(grads_of(root), rel=1e-12, abs=1e-12)


# ---- before and after ---------------------------------------------------------------------


def test_before_shows_zero_gradients_and_after_shows_backwards(tmp_path: Path) -> None:
    """The pair tutorials call before_gradient.png and after_gradient.png."""
    o = neuron()
    pair = before_after(o)
    assert isinstance(pair, BeforeAfter)
    before, after = pair
    nodes = topological_order(o)
    assert before.source.count("grad 0</TD>") == len(nodes)
    assert "before backward()" in before.source
    assert "after backward()" in after.source
    assert "<B>o</B></TD>" in after.source and "grad 1</TD>" in after.source
    assert all(node.grad == 0.0 for node in nodes)  # drawing changed nothing
    before_path, after_path = pair.save(
        tmp_path / "before_gradient.png", tmp_path / "after_gradient.png"
    )
    before_size = png_size(before_path.read_bytes())
    after_size = png_size(after_path.read_bytes())
    assert before_size[0] > 300 and after_size[0] > 300


def test_after_shows_the_gradients_even_when_grad_was_never_filled() -> None:
    """The 'after' picture reads the gradients backward would give, not stale .grad."""
    o = neuron()
    after = before_after(o).after.source
    o.backward()
    for node in topological_order(o):
        if node.label:
            assert re.search(rf"<B>{node.label}</B>.*grad {node.grad:.4g}</TD>", after)


def test_save_checks_both_destinations_before_writing_either(tmp_path: Path) -> None:
    """A folder where the second picture goes is refused before the first is written."""
    (tmp_path / "after.svg").mkdir()
    with pytest.raises(ValueError, match=r"before_after\.save: cannot write .*after\.svg"):
        before_after(neuron()).save(tmp_path / "before.svg", tmp_path / "after.svg")
    assert [path.name for path in tmp_path.iterdir()] == ["after.svg"]


def test_save_refuses_one_file_for_both_pictures(tmp_path: Path) -> None:
    """before and after in one file would leave only the second: refused, nothing written."""
    with pytest.raises(ValueError, match="give two file names"):
        before_after(neuron()).save(tmp_path / "both.svg", tmp_path / "." / "both.svg")
    assert list(tmp_path.iterdir()) == []


def test_both_pictures_combine_into_one_png(tmp_path: Path) -> None:
    """save_combined writes one PNG holding both: stacked, since this graph is wide."""
    pair = before_after(neuron())
    before_size = png_size(pair.before.pipe("png"))
    path = pair.save_combined(tmp_path / "before_after.png")
    width, height = png_size(path.read_bytes())
    assert width >= before_size[0] and height > 2 * before_size[1]
    assert "image/png" in pair._repr_mimebundle_()
    with pytest.raises(ValueError, match=r"\*\.png"):
        pair.save_combined(tmp_path / "both.svg")


def test_before_after_passes_drawing_options_through() -> None:
    """Options such as local_grads reach both pictures; its own ones cannot be overridden."""
    pair = before_after(neuron(), local_grads=True, rankdir="TB")
    assert "rankdir=TB" in pair.before.source and "edge numbers" in pair.after.source
    with pytest.raises(TypeError, match="title is set by before_after itself"):
        before_after(neuron(), title="mine")


def test_before_after_draws_a_neuron_expanded_on_request() -> None:
    """expand=True reaches both pictures: the dot becomes * and + nodes."""
    out = nn.MLP(2, [1], seed=0)([1.0, -1.0])
    pair = before_after(out, expand=True)
    for graph in pair:
        assert "<dot>" not in graph.source and "<*>" in graph.source


def test_before_after_warns_past_150_values() -> None:
    """A graph of 151 Values warns once, pointing to the layer view and the page."""
    x = Value(1.0, label="x")
    for _ in range(75):
        x = x * 1.0001  # each step: the constant and the product, 2 Values
    assert len(topological_order(x)) == 151
    with pytest.warns(LargeGraphWarning, match=r"before_after: the graph has 151 Values") as caught:
        before_after(x)
    assert len(caught) == 1


def test_the_combined_picture_keeps_within_the_pixel_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each half gets half the allowed pixels, so both together stay within it."""
    monkeypatch.setattr(scalargrad.viz.steps, "MAX_PIXELS", 400_000)
    pair = before_after(neuron(), local_grads=True)
    full_width, full_height = png_size(pair.before.pipe("png"))
    assert 2 * full_width * full_height > 400_000
    width, height = png_size(pair.combined_png())
    assert width * height <= 400_000


@pytest.mark.slow
def test_the_standard_mlps_before_and_after_is_at_most_25_megapixels() -> None:
    """MLP(2, [16, 16, 1]) on one sample: 190 Mpx before; now at most MAX_PIXELS."""
    out = nn.MLP(2, [16, 16, 1], seed=0)([0.5, -1.0])
    with pytest.warns(LargeGraphWarning):
        pair = before_after(out)
    width, height = png_size(pair.combined_png())
    assert width * height <= MAX_PIXELS


# ---- step through ----------------------------------------------------------------------


def test_there_is_one_frame_per_node_plus_the_start() -> None:
    """Frame k knows the gradients of the first k nodes in backward order, root first."""
    o = neuron()
    nodes = topological_order(o)
    steps = list(backward_steps(o))
    assert len(steps) == len(nodes) + 1
    backward_order = list(reversed(nodes))
    for k, step in enumerate(steps):
        assert step.index == k
        assert list(step.grads) == backward_order[:k]
        assert step.graph.source.count("grad ?</TD>") == len(nodes) - k
    assert steps[0].node is None
    assert [step.node for step in steps[1:]] == backward_order


def test_each_frame_highlights_the_node_that_just_got_its_gradient() -> None:
    """Frame 0 highlights nothing; frame k exactly the k-th node, and the edges out of it."""
    o = neuron()
    node_ids = ids(o)
    steps = list(backward_steps(o))
    assert highlighted(steps[0].graph.source) == []
    for step in steps[1:]:
        assert step.node is not None
        assert highlighted(step.graph.source) == [node_ids[step.node]]
        carried = re.findall(
            rf"^\s*{node_ids[step.node]} -> \S+ \[.*color=\"{HIGHLIGHT}\"",
            step.graph.source,
            flags=re.MULTILINE,
        )
        assert len(carried) == len(
            [child for child in topological_order(o) for p in child.parents if p is step.node]
        )


def test_stepping_leaves_grad_alone_and_the_last_frame_equals_backward() -> None:
    """Frames come from a copy: .grad is untouched, and backward() afterwards agrees."""
    o = neuron()
    steps = list(backward_steps(o))
    assert all(node.grad == 0.0 for node in topological_order(o))
    o.backward()
    assert steps[-1].grads == grads_of(o)


def test_stepping_after_backward_does_not_disturb_the_accumulated_grads() -> None:
    """Leaves accumulate across backward calls; stepping in between adds nothing."""
    o = neuron()
    o.backward()
    first = grads_of(o)
    list(backward_steps(o))
    assert grads_of(o) == first
    o.backward()
    leaves = [node for node in first if not node.parents]
    assert all(node.grad == pytest.approx(2 * first[node]) for node in leaves)


def test_backward_steps_checks_its_size_when_called() -> None:
    """A graph over max_nodes fails at the call, not at the first frame."""
    x = Value(1.0)
    for _ in range(30):
        x = x * 1.01
    with pytest.raises(GraphTooLargeError, match="max_nodes=10"):
        backward_steps(x, max_nodes=10)


# ---- the animation ---------------------------------------------------------------------------


def test_save_animation_writes_a_looping_gif_with_a_frame_per_step(tmp_path: Path) -> None:
    """One GIF frame per backward step plus the start, all one size, looping."""
    o = neuron()
    path = save_animation(o, tmp_path / "backprop.gif", seconds_per_frame=0.2)
    assert path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    with Image.open(path) as gif:
        assert gif.n_frames == len(topological_order(o)) + 1
        assert gif.info.get("loop") == 0
        width, height = gif.size
        assert 300 < width < 5000 and 100 < height < 3000
    assert all(node.grad == 0.0 for node in topological_order(o))


def test_save_animation_can_skip_the_frames_of_leaves_and_lower_the_resolution(
    tmp_path: Path,
) -> None:
    """op_steps_only: a frame per op node plus the first and last; dpi shrinks every frame."""
    o = neuron()
    ops = [node for node in topological_order(o) if node.parents]
    full = save_animation(o, tmp_path / "full.gif")
    small = save_animation(o, tmp_path / "ops.gif", op_steps_only=True, dpi=36)
    with Image.open(full) as full_gif, Image.open(small) as ops_gif:
        # frame 0 (nothing yet), one per op node, and the last frame (every leaf filled in)
        assert ops_gif.n_frames == len(ops) + 2
        assert ops_gif.n_frames < full_gif.n_frames
        assert ops_gif.size[0] < full_gif.size[0] and ops_gif.size[1] < full_gif.size[1]


def test_save_animation_makes_its_folder_and_refuses_a_folder_in_its_place(
    tmp_path: Path,
) -> None:
    """As the other savers: missing folders are made; a folder where the GIF goes is
    refused before any frame is drawn."""
    path = save_animation(neuron(), tmp_path / "new" / "backprop.gif", op_steps_only=True)
    assert path.read_bytes().startswith(b"GIF89a")
    (tmp_path / "taken.gif").mkdir()
    with pytest.raises(ValueError, match=r"save_animation: cannot write .*taken\.gif"):
        save_animation(neuron(), tmp_path / "taken.gif")


def test_save_animation_refuses_a_wrong_name_or_a_big_graph(tmp_path: Path) -> None:
    """A GIF must be named *.gif; more nodes than max_nodes is refused before rendering."""
    with pytest.raises(ValueError, match=r"\*\.gif"):
        save_animation(neuron(), tmp_path / "backprop.png")
    x = Value(1.0)
    for _ in range(150):
        x = x * 1.01
    with pytest.raises(GraphTooLargeError, match="more than max_nodes=100"):
        save_animation(x, tmp_path / "big.gif")
    with pytest.raises(ValueError, match="seconds_per_frame must be positive"):
        save_animation(neuron(), tmp_path / "backprop.gif", seconds_per_frame=0)


# ---- the Jupyter slider ------------------------------------------------------------------------


def test_the_slider_is_the_step_through_page_as_html() -> None:
    """step_slider shows the browser page (viz.html) in Jupyter, with the options it got."""
    o = neuron()
    page = step_slider(o, local_grads=True, title="The neuron")
    bundle = page._repr_mimebundle_()
    assert bundle["text/html"].startswith("<iframe srcdoc=")
    assert "<title>The neuron</title>" in page.html
    # local_grads puts d(out)/d(in) on the edges: tanh's edge into o is 1 - o**2.
    assert f">{format_number(1 - o.data**2)}</text>" in page.html
