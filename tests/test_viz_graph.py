"""Computation graphs: what the DOT says, that it renders, and on which Graphviz."""

from __future__ import annotations

import html
import io
import math
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from scalargrad import Value, nn
from scalargrad.engine import dot, topological_order
from scalargrad.viz import (
    GraphTooLargeError,
    GraphvizNotFoundError,
    RenderError,
    draw_dot,
    draw_graph,
    which_renderer,
)
from scalargrad.viz.graph import (
    EDGE_LABEL_LIMIT,
    LABEL_LIMIT,
    LARGE_GRAPH,
    MAX_PIXELS,
    NON_FINITE_FILL,
    LargeGraphWarning,
    escape,
    format_number,
    render,
    shorten,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header, after checking it is one."""
    assert data[:8] == PNG_SIGNATURE, data[:16]
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


def value_nodes(source: str) -> list[str]:
    return re.findall(r"^\s*(v\d+) \[", source, flags=re.MULTILINE)


def op_nodes(source: str) -> list[str]:
    return re.findall(r"^\s*(v\d+op) \[", source, flags=re.MULTILINE)


def edges(source: str) -> list[str]:
    return re.findall(r"^\s*\S+ -> \S+", source, flags=re.MULTILINE)


def neuron() -> Value:
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def hide_dot(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Make `dot` unfindable: PATH holds only an empty directory."""
    monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("empty_path")))
    assert shutil.which("dot") is None


def hide_pygraphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `import pygraphviz` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "pygraphviz", None)


# ---- what the DOT contains ---------------------------------------------------------


def test_each_value_is_a_node_and_each_op_a_node_between_inputs_and_output() -> None:
    """One node per Value, one per op; an edge from each input to its op and one onward."""
    o = neuron()
    source = draw_graph(o).source
    nodes = topological_order(o)
    with_op = [node for node in nodes if node.parents]
    assert len(value_nodes(source)) == len(nodes) == 10
    assert len(op_nodes(source)) == len(with_op) == 5
    assert len(edges(source)) == sum(len(node.parents) for node in with_op) + len(with_op)


def test_a_value_node_shows_its_label_data_and_grad_in_a_compact_format() -> None:
    """After backward the labels read like the lecture: 'o | data 0.7071 | grad 1'."""
    o = neuron()
    o.backward()
    source = draw_graph(o).source
    assert re.search(r"<B>o</B></TD>.*data 0\.7071</TD>.*grad 1</TD>", source)
    assert re.search(r"<B>x1</B></TD>.*data 2</TD>.*grad -1\.5</TD>", source)
    assert re.search(r"<B>n</B></TD>.*data 0\.8814</TD>.*grad 0\.5</TD>", source)


def test_numbers_are_compact() -> None:
    """Four significant digits, exponents for the very large and small, no '-0'."""
    assert format_number(0.70710678) == "0.7071"
    assert format_number(-1.5) == "-1.5"
    assert format_number(1.0) == "1"
    assert format_number(123456.0) == "1.235e+05"
    assert format_number(-0.0) == "0"
    assert format_number(float("nan")) == "nan"


def test_a_plain_number_in_an_op_is_drawn_as_a_leaf_holding_it() -> None:
    """`x * 0.5` and `1 - x`: as in the lecture, each number is a leaf beside its op."""
    x = Value(2.0, label="x")
    source = draw_graph((1 - x * 0.5).tanh()).source
    ops = re.findall(r"v\d+op \[label=<([^>]*)>", source)
    assert sorted(ops) == sorted(["*", "-", "tanh"])
    assert "data 0.5" in source and "data 1" in source


def test_local_gradients_label_the_input_edges() -> None:
    """local_grads=True writes d(out)/d(in) on each input edge: for a*b, b and a."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    source = draw_graph(a * b, local_grads=True).source
    labelled = re.findall(r"(v\d+) -> v\d+op \[label=(\S+)", source)
    ids = {node.label: f"v{i}" for i, node in enumerate(topological_order(a * b)) if node.label}
    assert dict(labelled) == {ids["a"]: "-3", ids["b"]: "2"}
    assert "label=" not in "".join(edges(draw_graph(a * b).source))


def test_a_value_used_twice_by_one_op_has_two_edges() -> None:
    """x * x draws both edges into the op, each with its local derivative."""
    x = Value(3.0, label="x")
    source = draw_graph(x * x, local_grads=True).source
    assert len(re.findall(r"v0 -> v1op \[label=3 ", source)) == 2


def test_nodes_are_coloured_by_gradient_sign_and_size() -> None:
    """Positive grads fill blue, negative red, zero white; larger is deeper."""
    o = neuron()
    o.backward()
    source = draw_graph(o).source
    fills = dict(re.findall(r"<B>(\w+)</B>.*?fillcolor=\"(#[0-9a-f]{6})\"", source))

    def rgb(hex_colour: str) -> tuple[int, int, int]:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return r, g, b

    assert fills["w2"] == "#ffffff"  # grad 0
    red, _, blue = rgb(fills["x1"])  # grad -1.5
    assert red > blue
    red, _, blue = rgb(fills["n"])  # grad 0.5
    assert blue > red
    assert sum(rgb(fills["x1"])) < sum(rgb(fills["n"]))  # |-1.5| > |0.5|: deeper
    plain = draw_graph(o, color=False).source
    assert set(re.findall(r"fillcolor=\"(#[0-9a-f]{6})\"", plain)) == {"#ffffff", "#e8e8e8"}


def test_an_infinite_or_nan_gradient_is_grey_and_the_others_keep_their_colour() -> None:
    """Gradients that overflowed to inf or became NaN fill grey with a dashed border and
    read inf or nan; the finite ones are coloured on the scale of the finite ones alone."""
    a, n, q = Value(2.0, label="a"), Value(math.nan, label="n"), Value(3.0, label="q")
    b = a * 1e-308
    c = b**-1  # 5e307 fits a float, but d(c)/d(b) = -b**-2 overflows to -inf
    d = c + n * q  # d(d)/d(q) = n = nan
    b.label, c.label, d.label = "b", "c", "d"
    d.backward()
    assert math.isinf(a.grad) and math.isnan(q.grad)
    source = draw_graph(d).source
    styles = {
        label: dict(re.findall(r'(\w+)="?([^" ]+)"?', line))
        for label, line in re.findall(r"<B>(\w+)</B>(.*)", source)
    }
    for label in "cdn":
        fill = styles[label]["fillcolor"]
        assert fill not in ("#ffffff", NON_FINITE_FILL), label
        assert "dashed" not in styles[label]["style"]
    for label, shown in [("a", "grad -inf"), ("b", "grad -inf"), ("q", "grad nan")]:
        assert styles[label]["fillcolor"] == NON_FINITE_FILL
        assert "dashed" in styles[label]["style"]
        assert re.search(rf"<B>{label}</B>.*{shown}</TD>", source)
    assert "inf or nan" in source  # the caption says what grey means
    assert "inf or nan" not in draw_graph(neuron()).source  # and only when there is one


def test_a_gradient_that_is_a_value_is_drawn_as_its_number() -> None:
    """After backward(create_graph=True) the grads are Values; the picture shows floats."""
    x = Value(3.0, label="x")
    (x * x).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert "grad 6</TD>" in draw_graph(x * x).source


def test_rankdir_and_title_reach_the_dot() -> None:
    """rankdir is the graph's direction; a title is a caption at the top."""
    source = draw_graph(neuron(), rankdir="TB", title="my <neuron>").source
    assert "rankdir=TB" in source
    assert "my &lt;neuron&gt;" in source


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"rankdir": "up"}, ValueError, "rankdir must be one of LR, RL, TB, BT"),
        ({"format": "jpeg"}, ValueError, "format must be one of png, svg, pdf, dot"),
        ({"max_nodes": 0}, ValueError, "max_nodes must be a positive int or None"),
        ({"title": 3}, TypeError, "title must be a str"),
    ],
)
def test_bad_options_get_clear_errors(kwargs: dict[str, object], error: type, message: str) -> None:
    """Each bad option names itself and what it accepts."""
    with pytest.raises(error, match=re.escape(message)):
        draw_graph(neuron(), **kwargs)  # type: ignore[arg-type]


def test_a_root_that_is_not_a_value_is_a_type_error() -> None:
    """draw_graph(3.0) says it wants a Value."""
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        draw_graph(3.0)  # type: ignore[arg-type]


# ---- big graphs ----------------------------------------------------------------------


def chain(length: int) -> Value:
    x = Value(0.5, label="x")
    for _ in range(length):
        x = (x * 0.9).tanh()
    return x


def test_a_graph_over_max_nodes_is_refused_with_what_to_do_instead() -> None:
    """The message gives the size, the limit, and the ways out."""
    with pytest.raises(GraphTooLargeError, match=r"301 Values, more than max_nodes=50") as caught:
        draw_graph(chain(100), max_nodes=50)
    assert "draw_mlp(model)" in str(caught.value)
    assert "max_nodes=None" in str(caught.value)
    with pytest.warns(LargeGraphWarning):
        assert len(value_nodes(draw_graph(chain(100), max_nodes=None).source)) == 301


@pytest.mark.slow  # about 900 Values to lay out: seconds of Graphviz
def test_one_samples_loss_through_the_standard_mlp_draws_under_the_default_limit() -> None:
    """MLP(2, [16, 16, 1]) on one sample: every node drawn, and it renders to PNG."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    with pytest.warns(LargeGraphWarning):
        graph = draw_graph(loss)
    assert len(value_nodes(graph.source)) == len(topological_order(loss))
    width, height = png_size(graph.pipe("png"))
    assert width > 200 and height > 200


# ---- saving and display ------------------------------------------------------------------


def test_save_picks_the_format_from_the_extension(tmp_path: Path) -> None:
    """.png is a PNG of sensible size, .svg an SVG, .pdf a PDF, .dot the DOT text."""
    graph = draw_graph(neuron())
    png = graph.save(tmp_path / "g.png")
    width, height = png_size(png.read_bytes())
    assert 400 < width < 5000 and 100 < height < 2000
    svg = graph.save(tmp_path / "g.SVG").read_text(encoding="utf-8")
    assert "<svg" in svg and "data 0.7071" in svg
    assert graph.save(tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert graph.save(tmp_path / "g.dot").read_text() == graph.source


def test_save_with_an_unknown_extension_says_which_ones_work() -> None:
    """No guessing: 'g.jpg' is a ValueError listing the extensions."""
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf, \.dot"):
        draw_graph(neuron()).save("g.jpg")


def test_save_onto_a_folder_is_refused_and_leaves_it(tmp_path: Path) -> None:
    """A picture is written whole or not at all: a folder in the way is a ValueError."""
    folder = tmp_path / "g.png"
    folder.mkdir()
    with pytest.raises(ValueError, match="it is a folder"):
        draw_graph(neuron()).save(folder)
    assert folder.is_dir() and list(tmp_path.iterdir()) == [folder]


def test_draw_dot_takes_micrograds_arguments_and_displays_in_jupyter() -> None:
    """draw_dot(root, format='svg', rankdir='LR') shows as SVG; format='png' as PNG."""
    o = neuron()
    svg_bundle = draw_dot(o, format="svg", rankdir="LR")._repr_mimebundle_()
    assert "<svg" in str(svg_bundle["image/svg+xml"])
    png_bundle = draw_dot(o, format="png")._repr_mimebundle_()
    png_size(bytes(png_bundle["image/png"]))  # type: ignore[arg-type]


# ---- which Graphviz renders ----------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's `dot` is not on PATH (apt-get install graphviz to test this path)",
)
def test_the_system_dot_renders_when_it_is_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """With pygraphviz unimportable, the `dot` program alone renders PNG and SVG."""
    hide_pygraphviz(monkeypatch)
    assert which_renderer().startswith("dot (")
    graph = draw_graph(neuron())
    png_size(graph.pipe("png"))
    assert "<svg" in graph.pipe("svg").decode()
    with pytest.raises(RenderError, match="dot"):
        render("digraph { a -> }", "png")


def test_pygraphviz_renders_when_no_dot_is_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With `dot` hidden from PATH, pygraphviz's bundled Graphviz renders instead."""
    pytest.importorskip("pygraphviz")
    hide_dot(monkeypatch, tmp_path_factory)
    assert which_renderer().startswith("pygraphviz (Graphviz ")
    graph = draw_graph(neuron(), local_grads=True)
    width, height = png_size(graph.pipe("png"))
    assert width > 400 and height > 100
    assert "<svg" in graph.pipe("svg").decode()
    assert graph.pipe("pdf").startswith(b"%PDF")
    with pytest.raises(RenderError, match="pygraphviz"):
        render("digraph { a -> }", "png")


def test_with_no_graphviz_at_all_one_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Neither `dot` nor pygraphviz: GraphvizNotFoundError naming both ways to get one."""
    hide_dot(monkeypatch, tmp_path_factory)
    hide_pygraphviz(monkeypatch)
    graph = draw_graph(neuron())
    with pytest.raises(GraphvizNotFoundError, match=r"pip install pygraphviz.*apt install"):
        graph.pipe("png")
    with pytest.raises(GraphvizNotFoundError):
        which_renderer()
    assert graph.source.startswith("digraph")  # building the DOT needs no Graphviz


# ---- labels cannot break the DOT -------------------------------------------------------------

NASTY_LABELS = [
    'say "hi"',
    "<b>not html</b>",
    "{record|fields}",
    "back\\slash",
    "trailing\\",
    "two\\\\backslashes",
    # Graphviz's own escapes, which it expands even inside HTML-like labels.
    "\\N",
    "\\G",
    "\\E",
    "\\L",
    "\\T",
    "\\H",
    "a\\Eb",
    "\\n \\l \\r",
    "two\nlines",
    "naïve ∂L/∂w 损失 🙂",
    "nul\x00tab\tbell\x07",
    "&amp; &lt;",
    "]; evil -> node [",
    "]",
    "lone \ud800 surrogate",
]


def svg_node_count(svg: str) -> int:
    return svg.count('class="node"')


def svg_texts(svg: str) -> list[str]:
    """The text Graphviz wrote into an SVG, unescaped, no-break spaces read as spaces."""
    # Graphviz keeps a run of spaces in SVG by writing all but the first as no-break spaces.
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return [html.unescape(text).replace("\xa0", " ") for text in texts]


def shown_lines(label: str) -> list[str]:
    """The lines a label should show: as typed, but with the characters Graphviz cannot
    draw (control characters, lone surrogates, unassigned code points) as their escapes."""
    lines = ["".join(shown_character(ch) for ch in line) for line in label.split("\n")]
    return [line.replace("\xa0", " ") for line in lines if line.strip()]


def shown_character(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cs":
        return f"\\u{ord(ch):04x}"
    if category in ("Cc", "Co", "Cn") or ch in "\u2028\u2029":
        return ch.encode("unicode_escape").decode("ascii")
    return ch


@pytest.mark.parametrize("label", NASTY_LABELS)
@pytest.mark.parametrize("renderer", ["default", "pygraphviz"])
def test_hostile_labels_render_as_text(
    label: str,
    renderer: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Quotes, markup, record syntax, backslashes (Graphviz's escapes \\N, \\G, \\E among
    them), newlines, control and non-ASCII characters come out as the text typed, on
    either renderer, and the graph keeps its nodes."""
    if renderer == "pygraphviz":
        pytest.importorskip("pygraphviz")
        hide_dot(monkeypatch, tmp_path_factory)
    x = Value(1.0, label=label)
    y = x.tanh()
    y.label = label
    graph = draw_graph(y, title=label, local_grads=True)
    svg = graph.pipe("svg").decode("utf-8")
    assert svg_node_count(svg) == 3
    texts = svg_texts(svg)
    for line in shown_lines(label):
        # The title, the input's label and the output's label: shown as typed.
        assert texts.count(line) == 3, (line, texts)


def test_escape_keeps_newlines_as_line_breaks_and_shows_control_characters() -> None:
    """A newline becomes <BR/>; a NUL or a lone surrogate is shown as its escape; every
    backslash is doubled, since Graphviz reads \\\\ as one."""
    assert escape('a<b>&"c"\nd') == "a&lt;b&gt;&amp;&quot;c&quot;<BR/>d"
    assert escape("x\x00y") == "x\\\\x00y"
    assert escape("\ud800") == "\\\\ud800"
    assert escape("\\N") == "\\\\N"


# Any text, with pieces that mean something to Graphviz's escapes, to HTML or to DOT
# mixed in often enough to meet each other.
GRAPHVIZ_ESCAPES = ["\\", "\\N", "\\G", "\\E", "\\L", "\\T", "\\H"]
MARKUP = ["<", ">", "&", '"', "]", "\n", " "]
label_texts = st.lists(
    st.sampled_from(GRAPHVIZ_ESCAPES + MARKUP) | st.text(max_size=4), max_size=10
).map("".join)


@given(label_texts, label_texts)
def test_any_label_renders_and_keeps_the_graph_intact(label: str, other: str) -> None:
    """Arbitrary text as labels and title: the DOT renders to SVG with every node, and
    every label shows as typed (cut at LABEL_LIMIT characters)."""
    a, b = Value(1.5, label=label), Value(-2.0, label=other)
    out = (a + b) * a
    out.label = label + other
    svg = draw_graph(out, title=other, local_grads=True).pipe("svg").decode("utf-8")
    assert svg_node_count(svg) == 6  # a, b, a + b, out and the two ops
    texts = svg_texts(svg)
    # A label past LABEL_LIMIT characters is shown cut, with an ellipsis.
    for line in shown_lines(label) + shown_lines(other) + shown_lines(shorten(label + other)):
        assert line in texts, (line, texts)


def test_pygraphviz_renders_in_a_new_process_without_a_word_on_stderr(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """pygraphviz's first render prints nothing: the warnings of its bundled fontconfig about
    newer system configs (Debian 12's `reset-dirs`) are held back."""
    pytest.importorskip("pygraphviz")
    code = (
        "import sys; from scalargrad import Value; from scalargrad.viz import draw_graph; "
        "sys.stdout.buffer.write(draw_graph(Value(2.0) * 3).pipe('png')[:4])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[1],
        env={**os.environ, "PATH": str(tmp_path_factory.mktemp("no_dot"))},
        capture_output=True,
        check=False,
    )
    assert done.stdout == b"\x89PNG", done.stderr
    assert done.stderr == b""


# ---- Graphviz never runs unbounded --------------------------------------------------------

RENDERERS = ["default", "pygraphviz"]


def use_renderer(
    renderer: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """'default' leaves the machine as it is; 'pygraphviz' hides `dot` from PATH."""
    if renderer == "pygraphviz":
        pytest.importorskip("pygraphviz")
        hide_dot(monkeypatch, tmp_path_factory)


def power_of_one_value(factors: int) -> Value:
    """x * x * ... * x: one Value with `factors` edges out of it."""
    x = Value(0.9, label="x")
    y = x
    for _ in range(factors - 1):
        y = y * x
    y.backward()
    return y


@pytest.mark.slow
@pytest.mark.parametrize("renderer", RENDERERS)
def test_sixty_factors_of_one_value_render_with_local_derivatives(
    renderer: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """x*x*...*x with 60 factors (a node with 60 edges) renders to PNG and SVG; before,
    Graphviz ran for minutes placing its nodes and routing its curves."""
    use_renderer(renderer, monkeypatch, tmp_path_factory)
    graph = draw_graph(power_of_one_value(60), local_grads=True)
    assert "splines=line" in graph.source  # the hub's edges are drawn straight
    width, height = png_size(graph.pipe("png"))
    assert width * height <= MAX_PIXELS
    assert svg_node_count(graph.pipe("svg").decode("utf-8")) == 60 + 59  # Values, ops


@pytest.mark.parametrize("renderer", RENDERERS)
def test_a_render_over_its_time_limit_is_stopped_with_a_clear_error(
    renderer: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Graphviz runs in a child process that is stopped at the time limit, on either
    renderer, with a RenderError saying what to do instead."""
    use_renderer(renderer, monkeypatch, tmp_path_factory)
    source = draw_graph(power_of_one_value(30), local_grads=True).source
    for format in ("png", "svg"):
        with pytest.raises(RenderError, match=r"did not finish within 0\.001 s.*draw_mlp"):
            render(source, format, timeout=0.001)


def test_a_time_limit_must_be_positive() -> None:
    """timeout=0 or a negative one is a ValueError naming it."""
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        render("digraph { a }", "svg", timeout=0)


def test_edges_at_a_hub_are_straight_and_small_graphs_keep_their_curves() -> None:
    """Past 10 edges at one node, splines=line; a lecture-sized graph keeps curves."""
    assert "splines" not in draw_graph(neuron()).source
    assert "splines=line" in draw_graph(power_of_one_value(11)).source


# ---- no picture over 25 Mpx ---------------------------------------------------------------


@pytest.mark.parametrize("renderer", RENDERERS)
def test_a_png_is_scaled_down_to_the_pixel_limit(
    renderer: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A graph that would be larger is scaled to at most max_pixels, keeping its shape,
    on either renderer."""
    use_renderer(renderer, monkeypatch, tmp_path_factory)
    source = draw_graph(neuron()).source
    full_width, full_height = png_size(render(source, "png"))
    width, height = png_size(render(source, "png", max_pixels=100_000))
    assert full_width * full_height > 100_000 >= width * height > 80_000
    assert abs(width / height - full_width / full_height) < 0.05 * full_width / full_height


@pytest.mark.slow
def test_no_png_is_over_25_megapixels_whatever_its_dpi() -> None:
    """At dpi=1000 the neuron would be about 45 Mpx; it comes out at most MAX_PIXELS."""
    graph = draw_graph(neuron())
    graph.digraph.attr(dpi="1000")
    width, height = png_size(graph.pipe("png"))
    assert 0.8 * MAX_PIXELS < width * height <= MAX_PIXELS


# ---- long labels ---------------------------------------------------------------------------


def test_shorten_cuts_long_text_with_an_ellipsis() -> None:
    """At most `limit` characters, the last an ellipsis when text was cut."""
    assert shorten("a" * LABEL_LIMIT) == "a" * LABEL_LIMIT
    assert shorten("a" * (LABEL_LIMIT + 1)) == "a" * (LABEL_LIMIT - 1) + "\u2026"
    assert shorten("abcdef", 4) == "abc\u2026"


@pytest.mark.parametrize("renderer", RENDERERS)
def test_a_label_of_twenty_thousand_characters_is_shortened_and_renders(
    renderer: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Graphviz fails on labels of about 16k characters; the picture shows the first
    59 and an ellipsis, on either renderer, and the title too is cut."""
    use_renderer(renderer, monkeypatch, tmp_path_factory)
    x = Value(2.0, label="x" * 20_000)
    y = x.tanh()
    graph = draw_graph(y, title="t" * 20_000)
    texts = svg_texts(graph.pipe("svg").decode("utf-8"))
    assert "x" * (LABEL_LIMIT - 1) + "\u2026" in texts
    assert "t" * (2 * LABEL_LIMIT - 1) + "\u2026" in texts
    png_size(graph.pipe("png"))


# ---- big graphs warn ------------------------------------------------------------------------


def test_past_150_values_draw_graph_warns_and_points_to_the_layer_view_and_the_page() -> None:
    """chain(n) has 3n + 1 Values: 150 draws quietly, 151 and more warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_graph(chain(49))  # 148 Values
    assert len(value_nodes(draw_graph(chain(49)).source)) <= LARGE_GRAPH
    with pytest.warns(LargeGraphWarning, match=r"151 Values.*draw_mlp\(model\).*save_html"):
        draw_graph(chain(50))
    assert issubclass(LargeGraphWarning, UserWarning)


def test_local_derivatives_are_left_out_into_ops_with_many_inputs_and_the_caption_says_so() -> None:
    """A dot of 5 weights (11 inputs) gets no numbers on its edges; the tanh after it
    keeps its one; the caption names the rule."""
    n = EDGE_LABEL_LIMIT // 2 + 1
    ws = [Value(0.1 * i, label=f"w{i}") for i in range(n)]
    xs = [Value(1.0 + i, label=f"x{i}") for i in range(n)]
    out = dot(ws, xs, Value(0.5, label="b")).tanh()
    out.backward()
    source = draw_graph(out, local_grads=True).source
    labelled = [line for line in edges_with_attributes(source) if "label=" in line]
    assert len(labelled) == 1  # the edge into tanh
    assert f"left out on edges into ops of more than {EDGE_LABEL_LIMIT} inputs" in source
    assert "left out" not in draw_graph(neuron(), local_grads=True).source


def edges_with_attributes(source: str) -> list[str]:
    return re.findall(r"^\s*\S+ -> \S+.*$", source, flags=re.MULTILINE)


# ---- lecture-style pictures ----------------------------------------------------------------


def one_neuron(bias: bool = True) -> tuple[list[Value], list[Value], Value | None, Value]:
    """tanh(w . x + b) with three inputs, as nn's Neuron makes it: one fused dot."""
    ws = [Value(w, label=f"w{i}") for i, w in enumerate([0.5, -1.25, 2.0])]
    xs = [Value(x, label=f"x{i}") for i, x in enumerate([1.5, 0.25, -0.75])]
    b = Value(0.125, label="b") if bias else None
    out = dot(ws, xs, b).tanh()
    out.backward()
    return ws, xs, b, out


def boxes(source: str) -> list[tuple[str, str, str, str]]:
    """(id, label, data, grad) of each Value box in the DOT."""
    found = re.findall(
        r"^\s*(\S+) \[label=<<TABLE.*?<TR>(?:<TD><B>(.*?)</B></TD>)?.*?>data (\S+)</TD>"
        r".*?>grad (\S+)</TD>",
        source,
        flags=re.MULTILINE,
    )
    return [(node_id, label, data, grad) for node_id, label, data, grad in found]


def op_inputs(source: str, op: str) -> list[list[str]]:
    """For each op node showing `op`, the labels of its inputs, in the order drawn."""
    label_of = {node_id: label for node_id, label, _, _ in boxes(source)}
    op_ids = re.findall(rf"^\s*(\S+) \[label=<{re.escape(html.escape(op))}> ", source, re.M)
    return [
        [label_of[parent] for parent in re.findall(rf"^\s*(\S+) -> {op_id}\b", source, re.M)]
        for op_id in op_ids
    ]


def test_expand_draws_a_dot_as_the_lectures_products_and_sums() -> None:
    """A * node for each w_i with x_i, then + nodes from the bias; no dot node left."""
    _, _, _, out = one_neuron()
    source = draw_graph(out, expand=True).source
    assert op_inputs(source, "dot") == []
    assert op_inputs(source, "*") == [["w0", "x0"], ["w1", "x1"], ["w2", "x2"]]
    sums = op_inputs(source, "+")
    assert len(sums) == 3
    assert sums[0] == ["b", ""]  # the bias first, then each product


def test_expanded_nodes_show_the_real_products_partial_sums_and_the_dots_gradient() -> None:
    """Products w_i * x_i, sums added left to right from the bias as the engine adds,
    the last equal to the dot's data; each with the dot's gradient (d out/d each = 1)."""
    ws, xs, b, out = one_neuron()
    assert b is not None
    neuron_sum = out.parents[0]
    products = [w.data * x.data for w, x in zip(ws, xs)]
    partial = [b.data + products[0], b.data + products[0] + products[1]]
    assert partial[-1] + products[2] == neuron_sum.data
    source = draw_graph(out, expand=True).source
    unlabelled = [(data, grad) for _, label, data, grad in boxes(source) if not label]
    expected_grad = format_number(neuron_sum.grad)
    expected = [format_number(v) for v in [*products, *partial, neuron_sum.data, out.data]]
    assert sorted(data for data, _ in unlabelled) == sorted(expected)
    grads = [grad for data, grad in unlabelled if data != format_number(out.data)]
    assert grads == [expected_grad] * 6


def test_expanded_edges_carry_the_lectures_local_derivatives() -> None:
    """Into w_i * x_i: x_i from w_i, w_i from x_i ('* swaps'); into each +: 1 ('+ routes')."""
    ws, xs, _, out = one_neuron()
    source = draw_graph(out, expand=True, local_grads=True).source
    label_of = {node_id: label for node_id, label, _, _ in boxes(source)}
    for edge in edges_with_attributes(source):
        parent, _, _, label = re.match(r"\s*(\S+) -> (\S+)( \[label=(\S+))?", edge).groups()
        name = label_of.get(parent, "")
        if name.startswith("w"):
            assert label == format_number(xs[int(name[1])].data)
        elif name.startswith("x"):
            assert label == format_number(ws[int(name[1])].data)
        elif name == "b" or (parent in label_of and not name):
            assert label in ("1", format_number(1 - out.data**2))


def test_expand_without_a_bias_adds_the_products_from_the_first() -> None:
    """dot(w, x) without a bias: three * nodes and two + nodes."""
    _, _, _, out = one_neuron(bias=False)
    source = draw_graph(out, expand=True).source
    assert len(op_inputs(source, "*")) == 3
    assert len(op_inputs(source, "+")) == 2


def test_a_dots_inputs_are_drawn_with_each_x_beside_its_w() -> None:
    """Unexpanded, the dot's inputs come w0, x0, w1, x1, w2, x2, b, top to bottom."""
    _, _, _, out = one_neuron()
    graph = draw_graph(out)
    assert op_inputs(graph.source, "dot") == [["w0", "x0", "w1", "x1", "w2", "x2", "b"]]
    svg = graph.pipe("svg").decode("utf-8")
    tops = {}
    for name in ["w0", "x0", "w1", "x1", "w2", "x2", "b"]:
        y = re.search(rf'<text[^>]*y="([-\d.]+)"[^>]*>{name}</text>', svg)
        assert y is not None, name
        tops[name] = float(y.group(1))
    assert list(tops) == sorted(tops, key=tops.__getitem__)
