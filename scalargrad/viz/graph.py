"""Computation graphs as pictures: Values -> DOT text -> PNG, SVG or PDF.

The DOT text is built with the `graphviz` package. Rendering uses the system `dot`
program when one is on PATH, and otherwise pygraphviz, whose wheels bundle Graphviz,
so a plain `pip install` renders PNGs. Every user string (labels, op names) goes into
the DOT as an escaped HTML-like label, so no label can break the file.
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import graphviz

from scalargrad.engine import Value, topological_order
from scalargrad.safe_write import write_bytes

FORMATS = ("png", "svg", "pdf", "dot")
RANKDIRS = ("LR", "RL", "TB", "BT")
FONT = "Helvetica"

# Fill colours: gradients > 0 blue, < 0 red; deeper for larger |grad|; inf and NaN grey.
POSITIVE_RGB = (49, 130, 189)
NEGATIVE_RGB = (214, 39, 40)
HIGHLIGHT = "#ff7f0e"
UNKNOWN_FILL = "#f2f2f2"
OP_FILL = "#e8e8e8"
NON_FINITE_FILL = "#b0b0b0"

# Past this many Values a picture is hard to read and slow to lay out: a warning
# points to the views made for networks.
LARGE_GRAPH = 150
# Local derivatives are written on the edges into an op with at most this many
# inputs; past it the numbers crowd the op and cannot be told apart.
EDGE_LABEL_LIMIT = 8
# With more edges than this at one node, edges are drawn straight: routing curved
# ones around a hub of 60 edges took Graphviz minutes.
HUB_EDGES = 10
# Labels are cut to this many characters in pictures (Graphviz fails on very long ones).
LABEL_LIMIT = 60

INSTALL_HINT = (
    "Rendering needs Graphviz, and none was found: neither a `dot` program on PATH "
    "nor the pygraphviz package. Install one of them: `pip install pygraphviz` (its "
    "wheels bundle Graphviz), or the Graphviz program itself (`apt install graphviz`, "
    "`brew install graphviz`, `conda install graphviz`)."
)


class GraphvizNotFoundError(RuntimeError):
    """Neither the system `dot` nor pygraphviz is available to render a graph."""


class RenderError(RuntimeError):
    """Graphviz was found but failed to render the DOT text."""


class GraphTooLargeError(ValueError):
    """The graph has more nodes than `max_nodes` allows."""


# ---- rendering ------------------------------------------------------------------


def which_renderer() -> str:
    """Which Graphviz renders graphs here: 'dot (<path>)', 'pygraphviz (Graphviz x.y.z)'.

    Raises GraphvizNotFoundError, with what to install, when there is neither.
    """
    dot = shutil.which("dot")
    if dot is not None:
        return f"dot ({dot})"
    pygraphviz = _import_pygraphviz()
    return f"pygraphviz (Graphviz {pygraphviz.__graphviz_version__})"


def _import_pygraphviz() -> Any:
    try:
        import pygraphviz
    except ImportError as error:
        raise GraphvizNotFoundError(INSTALL_HINT) from error
    return pygraphviz


# Graphviz runs in a child process, so a layout that runs long can be stopped. For
# pygraphviz the child is this Python running this script: a `dot` with its
# -K (layout), -T (format) and -G (graph attribute default) options.
_PYGRAPHVIZ_DOT = """
import sys
import pygraphviz
graph = pygraphviz.AGraph(string=sys.stdin.buffer.read().decode("utf-8"))
for setting in sys.argv[3:]:
    key, value = setting.split("=", 1)
    if key not in graph.graph_attr.keys():
        graph.graph_attr[key] = value
sys.stdout.buffer.write(graph.draw(format=sys.argv[2], prog=sys.argv[1]))
"""

# Graphviz's placement of the nodes in each rank, left unbounded, ran for minutes on
# a node with 60 edges (x*x*...*x); a bound of a few passes per node lays it out in
# seconds and leaves small graphs as they were.
LAYOUT_LIMITS = {"nslimit": "2", "nslimit1": "2"}
# Seconds one render may take before it is stopped.
RENDER_TIMEOUT = 60.0
# The most pixels a PNG may have: larger ones are scaled down to this.
MAX_PIXELS = 25_000_000


def render(
    source: str, format: str, *, timeout: float = RENDER_TIMEOUT, max_pixels: int = MAX_PIXELS
) -> bytes:
    """DOT text rendered to `format` ('png', 'svg', 'pdf'; 'dot' gives the text back).

    A render that takes longer than `timeout` seconds is stopped with a RenderError;
    a larger PNG is scaled down to `max_pixels` pixels.
    """
    _check_format(format)
    if format == "dot":
        return source.encode("utf-8")
    if not timeout > 0:
        raise ValueError(f"render: timeout must be a positive number of seconds, got {timeout!r}")
    deadline = time.monotonic() + timeout
    data = source.encode("utf-8")
    if format != "png":
        return _run_graphviz(data, "dot", format, LAYOUT_LIMITS, deadline, timeout)
    # A PNG's size is known only after layout: lay out once, then draw the laid-out
    # graph (layout "nop2" keeps every position) scaled to fit max_pixels.
    laid_out = _run_graphviz(data, "dot", "dot", LAYOUT_LIMITS, deadline, timeout)
    size = _png_size_limit(laid_out.decode("utf-8"), max_pixels)
    return _run_graphviz(laid_out, "nop2", "png", size, deadline, timeout)


def _run_graphviz(
    data: bytes,
    layout: str,
    format: str,
    defaults: Mapping[str, str],
    deadline: float,
    timeout: float,
) -> bytes:
    settings = [f"{key}={value}" for key, value in defaults.items()]
    dot = shutil.which("dot")
    if dot is not None:
        command = [dot, f"-K{layout}", f"-T{format}", *(f"-G{s}" for s in settings)]
        renderer, environment = dot, None
    else:
        pygraphviz = _import_pygraphviz()
        # -S: no site initialisation, a tenth of a second less per render; the
        # environment names the folder pygraphviz was found in.
        command = [sys.executable, "-S", "-c", _PYGRAPHVIZ_DOT, layout, format, *settings]
        renderer, environment = "pygraphviz", _child_environment(pygraphviz)
    try:
        done = subprocess.run(
            command,
            input=data,
            capture_output=True,
            check=False,
            timeout=max(deadline - time.monotonic(), 0.001),
            env=environment,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"Graphviz did not finish within {timeout:g} s and was stopped. Draw a smaller "
            "graph (draw_mlp(model) for a network, or scalargrad.viz.save_html for a "
            "browser page), or pass a longer timeout."
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        if dot is None:  # a Python traceback: its last line says what went wrong
            message = message.splitlines()[-1] if message else ""
        raise RenderError(f"{renderer} failed (exit status {done.returncode}): {message}")
    return done.stdout


def _png_size_limit(laid_out: str, max_pixels: int) -> dict[str, str]:
    """A `size` that scales the laid-out graph down to `max_pixels`, if it is larger."""
    # Graphviz writes the graph's own attributes first, bb (its bounding box, in
    # points) and dpi among them.
    header = laid_out.split("];", 1)[0]
    box = re.search(r'\bbb="([^"]*)"', header)
    if box is None:
        return {}
    left, bottom, right, top = (float(n) for n in box.group(1).split(","))
    dpi_setting = re.search(r'[\s\[,]dpi="?([0-9.]+)', header)
    dpi = float(dpi_setting.group(1)) if dpi_setting else 96.0
    width, height = (right - left) / 72, (top - bottom) / 72  # inches
    # A little below the limit: Graphviz adds a margin around the box.
    allowed = 0.95 * max_pixels
    pixels = width * height * dpi**2
    if pixels <= allowed:
        return {}
    scale = math.sqrt(allowed / pixels)
    return {"size": f"{width * scale:.3f},{height * scale:.3f}"}


def _child_environment(pygraphviz: Any) -> dict[str, str]:
    # The child imports the pygraphviz this process found, wherever that was.
    found_in = str(Path(pygraphviz.__file__).parent.parent)
    paths = [found_in, os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")


def format_from_path(path: str | os.PathLike[str]) -> str:
    """The image format a file name asks for, from its extension ('g.png' -> 'png')."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the image format from {os.fspath(path)!r}: "
            f"end the file name with one of .{', .'.join(FORMATS)}"
        )
    return suffix


class Graph:
    """A drawing: DOT text, saved as PNG/SVG/PDF/DOT, shown inline in Jupyter.

    >>> graph = draw_graph(Value(2.0, label="x") * 3)
    >>> graph.save("x_times_3.png")  # doctest: +SKIP
    """

    def __init__(self, digraph: Any, format: str = "svg", value_count: int = 0) -> None:
        _check_format(format)
        # How many Values the picture shows (draw_graph's), for the large-graph warning.
        self.value_count = value_count
        # The graphviz.Digraph, for adding attributes before saving.
        self.digraph = digraph
        # What Jupyter shows and pipe() gives by default.
        self.format = format

    @property
    def source(self) -> str:
        """The DOT text."""
        text: str = self.digraph.source
        return text

    def pipe(self, format: str | None = None) -> bytes:
        """The rendered image as bytes (`format` defaults to the graph's own)."""
        return render(self.source, format or self.format)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the image to `path`; the extension (.png .svg .pdf .dot) picks the format."""
        image = render(self.source, format_from_path(path))
        return write_bytes(path, image, "save")

    def render(
        self,
        filename: str | os.PathLike[str] = "graph",
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
    ) -> str:
        """graphviz's `Digraph.render`, for micrograd's notebooks: write the DOT text to
        `filename` and the picture beside it as `filename.<format>`; return its path.

        `cleanup=True` removes the DOT file afterwards. `view=True` is refused: open
        the file yourself (scalargrad starts no desktop viewer).
        """
        if view:
            raise ValueError("render(view=True): open the written file yourself")
        source = Path(directory or ".") / filename
        picture = source.with_name(f"{source.name}.{format or self.format}")
        image = render(self.source, format or self.format)
        source.write_text(self.source, encoding="utf-8")
        picture.write_bytes(image)
        if cleanup:
            source.unlink()
        return os.fspath(picture)

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None
    ) -> dict[str, str | bytes]:
        if self.format == "png":
            return {"image/png": self.pipe("png")}
        return {"image/svg+xml": self.pipe("svg").decode("utf-8")}

    def __repr__(self) -> str:
        lines = self.source.count("\n")
        return f"<scalargrad Graph: {lines} lines of DOT, shown as {self.format}>"


# ---- text in labels ---------------------------------------------------------------


def format_number(x: float) -> str:
    """A number in at most 4 significant digits: 0.5, -1.235, 1.235e+05, 0."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0.0:  # also -0.0, which reads as noise to a learner
        return "0"
    return f"{x:.4g}"


def shorten(text: str, limit: int = LABEL_LIMIT) -> str:
    """`text` cut to `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def escape(text: str) -> str:
    """`text` made safe inside an HTML-like DOT label: markup escaped, backslashes
    doubled, newlines kept as line breaks, other control characters and unencodable
    code points shown as escapes."""
    pieces = []
    for line in text.split("\n"):
        shown = "".join(_visible(ch) for ch in line)
        # Graphviz expands \N, \G, \E, ... to node, graph and edge names even inside
        # HTML-like labels, and reads \\ as one backslash. Graphviz 2.43 cannot parse a
        # text of nothing but "]" between two tags; as a character reference it can.
        marked = html.escape(shown.replace("\\", "\\\\"), quote=True)
        pieces.append(marked.replace("]", "&#93;"))
    return "<BR/>".join(pieces)


def escape_quoted(text: str) -> str:
    """`text` made safe inside a quoted DOT string (a tooltip): backslashes doubled so
    Graphviz reads none as an escape, control characters shown as escapes."""
    # The graphviz package escapes the double quotes itself; nohtml stops it reading
    # a text that starts with < and ends with > as an HTML-like label.
    safe: str = graphviz.nohtml("".join(_visible(ch) for ch in text).replace("\\", "\\\\"))
    return safe


def _visible(ch: str) -> str:
    # Control characters (a NUL ends a C string inside Graphviz) and lone surrogates
    # (not encodable as UTF-8) are shown as their Python escape instead.
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Co", "Cn") or ch in "\u2028\u2029":
        return ch.encode("unicode_escape").decode("ascii") if category != "Cs" else _hex(ch)
    return ch


def _hex(ch: str) -> str:
    return f"\\u{ord(ch):04x}"


def color_scale(grads: Iterable[float]) -> float:
    """The largest finite |grad|: the gradient that gets the deepest colour. An inf or
    NaN would make every other gradient look like 0, so they have no say."""
    return max((abs(grad) for grad in grads if math.isfinite(grad)), default=0.0)


def _fill(grad: float, scale: float) -> str:
    """White for 0, blue for > 0, red for < 0, deeper the nearer |grad| is to `scale`;
    grey for inf and NaN."""
    if not math.isfinite(grad):
        return NON_FINITE_FILL
    if grad == 0.0 or scale == 0.0:
        return "#ffffff"
    # The square root keeps small gradients visible next to a large one.
    strength = 0.12 + 0.6 * min(1.0, abs(grad) / scale) ** 0.5
    rgb = POSITIVE_RGB if grad > 0 else NEGATIVE_RGB
    mixed = (round(255 + (c - 255) * strength) for c in rgb)
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _box_style(fill: str) -> str:
    """Filled and rounded; dashed too for an inf or NaN, so grey reads as a warning."""
    return "filled,rounded,dashed" if fill == NON_FINITE_FILL else "filled,rounded"


def _grad_float(node: Value) -> float:
    # After backward(create_graph=True) a gradient is a Value.
    grad = node.grad
    return grad.data if isinstance(grad, Value) else float(grad)


# ---- computation graph ------------------------------------------------------------


class LargeGraphWarning(UserWarning):
    """A graph is drawn with so many nodes that the picture is hard to read."""


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    local_grads: bool = False,
    color: bool = True,
    title: str | None = None,
    max_nodes: int | None = 1000,
    format: str = "svg",
    expand: bool = False,
) -> Graph:
    """Draw the graph that made `root`: each Value with its label, data and grad, each op
    as a small node between its inputs and its output.

    `local_grads=True` writes d(out)/d(in) on each input edge; `color` fills each Value
    by the sign and size of its gradient; `format` is what Jupyter shows.
    `expand=True` draws each fused `dot` node (a neuron's w . x + b) as the lecture
    does: a `*` node for each w_i * x_i, then `+` nodes adding them to the bias.
    Past 150 Values a LargeGraphWarning suggests draw_mlp or save_html.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> loss = (a * b).tanh()
    >>> loss.backward()
    >>> draw_graph(loss, local_grads=True).save("loss.png")  # doctest: +SKIP
    """
    graph = build_graph(
        root,
        rankdir=rankdir,
        local_grads=local_grads,
        color=color,
        title=title,
        max_nodes=max_nodes,
        format=format,
        expand=expand,
    )
    warn_if_large(graph, "draw_graph")
    return graph


def warn_if_large(graph: Graph, where: str) -> None:
    """Warn (LargeGraphWarning) when `graph` shows more than LARGE_GRAPH Values."""
    if graph.value_count > LARGE_GRAPH:
        warnings.warn(
            f"{where}: the graph has {graph.value_count} Values, too many to read in one "
            "picture. For a network, draw its layers with draw_mlp(model), or open the "
            "step-through browser page written by scalargrad.viz.save_html.",
            LargeGraphWarning,
            stacklevel=3,
        )


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR") -> Graph:
    """micrograd's `draw_dot`, so lecture code runs unchanged: `draw_dot(loss)`."""
    return draw_graph(root, format=format, rankdir=rankdir)


class _Box(NamedTuple):
    """A Value as drawn: a real one, or a product or partial sum of an expanded dot."""

    id: str
    value: Value | None  # None for the nodes an expanded dot adds
    label: str
    data: float


class _Op(NamedTuple):
    """An op node: its text, its input boxes with their local derivatives, its output."""

    id: str
    text: str
    inputs: list[tuple[_Box, float]]
    output: _Box


def build_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    local_grads: bool = False,
    color: bool = True,
    title: str | None = None,
    max_nodes: int | None = 1000,
    format: str = "svg",
    grads: Mapping[Value, float] | None = None,
    known: Mapping[Value, object] | None = None,
    highlight: Value | None = None,
    grad_scale: float | None = None,
    expand: bool = False,
) -> Graph:
    """draw_graph with the knobs the step-through needs: gradients from `grads` instead
    of `.grad`, only the nodes in `known` showing theirs ("?" elsewhere), `highlight`
    marked with the edges that carried its gradient, and a fixed colour `grad_scale`."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(
            f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}"
        )
    _check_format(format)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw_graph: title must be a str, got {type(title).__name__}")
    nodes = topological_order(root)
    check_size(len(nodes), max_nodes)

    grad_of = (lambda node: grads[node]) if grads is not None else _grad_float
    every_grad = [grad_of(node) for node in nodes]
    if grad_scale is None:
        grad_scale = color_scale(every_grad)

    boxes = {
        node: _Box(f"v{index}", node, node.label, node.data) for index, node in enumerate(nodes)
    }
    drawn: list[_Box] = []
    ops: list[_Op] = []
    # The Value whose gradient each box shows: an expanded dot's products and partial
    # sums have its gradient, since d(out)/d(each) = 1.
    grad_from: dict[str, Value] = {}
    for node in nodes:
        box = boxes[node]
        if expand and _is_dot(node) and len(node.parents) > 1:
            added = _expand_dot(node, box, boxes)
            drawn.extend(op.output for op in added[:-1])
            grad_from.update((op.output.id, node) for op in added)
            ops.extend(added)
        elif node.parents:
            inputs = [(boxes[p], g) for p, g in _inputs_in_order(node)]
            ops.append(_Op(f"{box.id}op", op_text(node), inputs, box))
        drawn.append(box)
        grad_from[box.id] = node

    # Edge labels are left out where they would crowd an op.
    crowded = local_grads and any(len(op.inputs) > EDGE_LABEL_LIMIT for op in ops)
    edges_at: dict[str, int] = dict.fromkeys((box.id for box in drawn), 1)
    for op in ops:
        for parent, _ in op.inputs:
            edges_at[parent.id] += 1
    hub = max(max(edges_at.values()), max(len(op.inputs) for op in ops) if ops else 0)

    digraph = graphviz.Digraph(
        graph_attr={
            "rankdir": rankdir,
            "fontname": FONT,
            "nodesep": "0.2",
            "ranksep": "0.35",
            "bgcolor": "white",
            **({"splines": "line"} if hub > HUB_EDGES else {}),
        },
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"},
    )
    # Over every node, not only those known yet, so the frames of a step-through share
    # one caption and one layout.
    non_finite = color and not all(math.isfinite(grad) for grad in every_grad)
    caption = _caption(
        title, color=color, local_grads=local_grads, non_finite=non_finite, crowded=crowded
    )
    if caption:
        digraph.attr(label=caption, labelloc="t")

    for box in drawn:
        source = grad_from[box.id]
        is_known = known is None or source in known
        grad = grad_of(source) if is_known else None
        fill = _fill(grad, grad_scale) if color and grad is not None else "#ffffff"
        if not is_known:
            fill = UNKNOWN_FILL
        is_current = box.value is not None and box.value is highlight
        digraph.node(
            box.id,
            label=_value_label(box.label, box.data, grad),
            shape="box",
            style=_box_style(fill),
            margin="0.04",
            fillcolor=fill,
            color=HIGHLIGHT if is_current else "black",
            penwidth="3" if is_current else "1",
        )
    for op in ops:
        digraph.node(
            op.id,
            label=f"<{escape(shorten(op.text))}>",
            shape="ellipse",
            style="filled",
            fillcolor=OP_FILL,
            fontsize="11",
            width="0.3",
            height="0.3",
            margin="0.03",
            # Inputs stay in the order given: x_i beside w_i.
            ordering="in",
        )
        digraph.edge(op.id, op.output.id)
        for parent, local_grad in op.inputs:
            attrs: dict[str, str] = {}
            if local_grads and len(op.inputs) <= EDGE_LABEL_LIMIT:
                attrs["label"] = format_number(local_grad)
                attrs["fontcolor"] = "#3b3b8f"
            if parent.value is not None and parent.value is highlight:
                attrs["color"] = HIGHLIGHT
                attrs["penwidth"] = "2.5"
            digraph.edge(parent.id, op.id, **attrs)
    return Graph(digraph, format=format, value_count=len(drawn))


def _is_dot(node: Value) -> bool:
    """Made by engine.dot: parents w_0..w_{n-1}, x_0..x_{n-1}, then the bias if any."""
    return node.primitive is not None and node.primitive.name == "dot"


def _inputs_in_order(node: Value) -> list[tuple[Value, float]]:
    """A node's parents with their local derivatives; a dot's as w_0, x_0, w_1, x_1, ...,
    bias, so each input is drawn beside its weight."""
    pairs = list(zip(node.parents, node.local_grads))
    if not _is_dot(node):
        return pairs
    n = len(pairs) // 2
    interleaved = [pair for i in range(n) for pair in (pairs[i], pairs[n + i])]
    return interleaved + pairs[2 * n :]


def _expand_dot(node: Value, box: _Box, boxes: Mapping[Value, _Box]) -> list[_Op]:
    """The ops of w . x + b as the lecture draws a neuron: w_i * x_i for each i, then
    `+` nodes adding them left to right from the bias, as the engine adds; the last
    op's output is `box`, the dot node itself."""
    n = len(node.parents) // 2
    weights, inputs = node.parents[:n], node.parents[n : 2 * n]
    terms: list[_Box] = [boxes[b] for b in node.parents[2 * n :]]  # the bias, if any
    ops = []
    for i, (w, x) in enumerate(zip(weights, inputs)):
        product = box if n == 1 and not terms else _Box(f"{box.id}p{i}", None, "", w.data * x.data)
        ops.append(_Op(f"{product.id}op", "*", [(boxes[w], x.data), (boxes[x], w.data)], product))
        terms.append(product)
    total = terms[0]
    for i, term in enumerate(terms[1:], start=1):
        last = i == len(terms) - 1
        total_after = box if last else _Box(f"{box.id}s{i}", None, "", total.data + term.data)
        ops.append(_Op(f"{total_after.id}op", "+", [(total, 1.0), (term, 1.0)], total_after))
        total = total_after
    return ops


def op_text(node: Value) -> str:
    """The op as a learner writes it: '+', '*', 'tanh', '**'."""
    return node.op


GRAPH_ADVICE = (
    "Draw a smaller expression (one sample's loss rather than the whole batch), draw a "
    "model at the level of neurons with draw_mlp(model), or pass max_nodes=None to draw "
    "it anyway."
)


def check_size(
    count: int,
    max_nodes: int | None,
    what: str = "draw_graph",
    *,
    nodes: str = "Values",
    advice: str = GRAPH_ADVICE,
) -> None:
    """Raise GraphTooLargeError, with `advice`, when `count` nodes exceed `max_nodes`
    (None: no limit)."""
    if max_nodes is None:
        return
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"{what}: max_nodes must be a positive int or None, got {max_nodes!r}")
    if count > max_nodes:
        raise GraphTooLargeError(
            f"{what}: the graph has {count:,} {nodes}, more than max_nodes={max_nodes:,}; "
            f"a picture that big is slow to lay out and unreadable. {advice}"
        )


def _value_label(label: str, data: float, grad: float | None) -> str:
    """One row: label (bold, if any) | data | grad, as an HTML-like label."""
    # Minimum cell widths keep a node the same size whatever number it shows, so the
    # layout stays still from one step-through frame to the next.
    cells = []
    if label:
        cells.append(f"<TD><B>{escape(shorten(label))}</B></TD>")
    cells.append(f'<TD WIDTH="70">data {format_number(data)}</TD>')
    shown = format_number(grad) if grad is not None else "?"
    cells.append(f'<TD WIDTH="70">grad {shown}</TD>')
    separated = cells[0] + "".join(
        cell.replace("<TD", '<TD BORDER="1" SIDES="L"', 1) for cell in cells[1:]
    )
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4">'
    return f"<{table}<TR>{separated}</TR></TABLE>>"


def _caption(
    title: str | None, *, color: bool, local_grads: bool, non_finite: bool, crowded: bool
) -> str:
    lines = []
    if title:
        lines.append(
            f'<FONT POINT-SIZE="14"><B>{escape(shorten(title, 2 * LABEL_LIMIT))}</B></FONT>'
        )
    notes = []
    if color:
        notes.append("fill: grad &gt; 0 blue, grad &lt; 0 red, deeper = larger |grad|")
    if non_finite:
        notes.append("grey, dashed: grad inf or nan")
    if local_grads:
        notes.append("edge numbers: local derivative d(out)/d(in)")
    if crowded:
        notes.append(f"left out on edges into ops of more than {EDGE_LABEL_LIMIT} inputs")
    if notes:
        lines.append(f'<FONT POINT-SIZE="10" COLOR="#555555">{"; ".join(notes)}</FONT>')
    return f"<{'<BR/>'.join(lines)}>" if lines else ""
