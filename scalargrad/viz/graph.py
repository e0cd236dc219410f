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
import shutil
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from scalargrad.engine import Value, topological_order

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


_fontconfig_lock = threading.Lock()
_fontconfig_started = False


def _start_fontconfig(pygraphviz: Any) -> None:
    """Start the fontconfig inside pygraphviz once, holding back its "Fontconfig warning:" lines.

    The fontconfig that pygraphviz's wheels bundle (2.13) reads every file in the system's
    /usr/share/fontconfig/conf.avail when it starts, and warns on this process's stderr
    about elements newer than itself (`reset-dirs` there on Debian 12): harmless, and
    nothing a user can act on. Anything else it prints still reaches stderr.
    """
    global _fontconfig_started
    with _fontconfig_lock:
        if _fontconfig_started:
            return
        with tempfile.TemporaryFile() as held:
            sys.stderr.flush()
            saved_stderr = os.dup(2)
            os.dup2(held.fileno(), 2)
            try:
                pygraphviz.AGraph(string="digraph { a }").draw(format="svg", prog="dot")
            finally:
                os.dup2(saved_stderr, 2)
                os.close(saved_stderr)
            held.seek(0)
            lines = held.read().decode("utf-8", "replace").splitlines(keepends=True)
        sys.stderr.write("".join(ln for ln in lines if not ln.startswith("Fontconfig warning:")))
        _fontconfig_started = True


def render(source: str, format: str) -> bytes:
    """DOT text rendered to `format` ('png', 'svg', 'pdf'; 'dot' gives the text back)."""
    _check_format(format)
    if format == "dot":
        return source.encode("utf-8")
    dot = shutil.which("dot")
    if dot is not None:
        done = subprocess.run(
            [dot, f"-T{format}"], input=source.encode("utf-8"), capture_output=True, check=False
        )
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RenderError(f"{dot} failed (exit status {done.returncode}): {message}")
        return done.stdout
    pygraphviz = _import_pygraphviz()
    try:
        _start_fontconfig(pygraphviz)
        drawing: bytes = pygraphviz.AGraph(string=source).draw(format=format, prog="dot")
    except (pygraphviz.DotError, ValueError) as error:
        raise RenderError(f"pygraphviz could not render the graph: {error}") from error
    return drawing


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

    def __init__(self, digraph: Any, format: str = "svg") -> None:
        _check_format(format)
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
        target = Path(path)
        target.write_bytes(render(self.source, format_from_path(target)))
        return target

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


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    local_grads: bool = False,
    color: bool = True,
    title: str | None = None,
    max_nodes: int | None = 1000,
    format: str = "svg",
) -> Graph:
    """Draw the graph that made `root`: each Value with its label, data and grad, each op
    as a small node between its inputs and its output.

    `local_grads=True` writes d(out)/d(in) on each input edge; `color` fills each Value
    by the sign and size of its gradient; `format` is what Jupyter shows.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> loss = (a * b).tanh()
    >>> loss.backward()
    >>> draw_graph(loss, local_grads=True).save("loss.png")  # doctest: +SKIP
    """
    return build_graph(
        root,
        rankdir=rankdir,
        local_grads=local_grads,
        color=color,
        title=title,
        max_nodes=max_nodes,
        format=format,
    )


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR") -> Graph:
    """micrograd's `draw_dot`, so lecture code runs unchanged: `draw_dot(loss)`."""
    return draw_graph(root, format=format, rankdir=rankdir)


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

    digraph = graphviz.Digraph(
        graph_attr={
            "rankdir": rankdir,
            "fontname": FONT,
            "nodesep": "0.2",
            "ranksep": "0.35",
            "bgcolor": "white",
        },
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"},
    )
    # Over every node, not only those known yet, so the frames of a step-through share
    # one caption and one layout.
    non_finite = color and not all(math.isfinite(grad) for grad in every_grad)
    caption = _caption(title, color=color, local_grads=local_grads, non_finite=non_finite)
    if caption:
        digraph.attr(label=caption, labelloc="t")

    ids = {node: f"v{index}" for index, node in enumerate(nodes)}
    for node in nodes:
        node_id = ids[node]
        is_known = known is None or node in known
        grad = grad_of(node) if is_known else None
        fill = _fill(grad, grad_scale) if color and grad is not None else "#ffffff"
        if not is_known:
            fill = UNKNOWN_FILL
        is_current = node is highlight
        digraph.node(
            node_id,
            label=_value_label(node, grad),
            shape="box",
            style=_box_style(fill),
            margin="0.04",
            fillcolor=fill,
            color=HIGHLIGHT if is_current else "black",
            penwidth="3" if is_current else "1",
        )
        if node.parents:
            op_id = f"{node_id}op"
            digraph.node(
                op_id,
                label=f"<{escape(op_text(node))}>",
                shape="ellipse",
                style="filled",
                fillcolor=OP_FILL,
                fontsize="11",
                width="0.3",
                height="0.3",
                margin="0.03",
            )
            digraph.edge(op_id, node_id)
            for parent, local_grad in zip(node.parents, node.local_grads):
                attrs: dict[str, str] = {}
                if local_grads:
                    attrs["label"] = format_number(local_grad)
                    attrs["fontcolor"] = "#3b3b8f"
                if parent is highlight:
                    attrs["color"] = HIGHLIGHT
                    attrs["penwidth"] = "2.5"
                digraph.edge(ids[parent], op_id, **attrs)
    return Graph(digraph, format=format)


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


def _value_label(node: Value, grad: float | None) -> str:
    """One row: label (bold, if any) | data | grad, as an HTML-like label."""
    # Minimum cell widths keep a node the same size whatever number it shows, so the
    # layout stays still from one step-through frame to the next.
    cells = []
    if node.label:
        cells.append(f"<TD><B>{escape(node.label)}</B></TD>")
    cells.append(f'<TD WIDTH="70">data {format_number(node.data)}</TD>')
    shown = format_number(grad) if grad is not None else "?"
    cells.append(f'<TD WIDTH="70">grad {shown}</TD>')
    separated = cells[0] + "".join(
        cell.replace("<TD", '<TD BORDER="1" SIDES="L"', 1) for cell in cells[1:]
    )
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4">'
    return f"<{table}<TR>{separated}</TR></TABLE>>"


def _caption(title: str | None, *, color: bool, local_grads: bool, non_finite: bool) -> str:
    lines = []
    if title:
        lines.append(f'<FONT POINT-SIZE="14"><B>{escape(title)}</B></FONT>')
    notes = []
    if color:
        notes.append("fill: grad &gt; 0 blue, grad &lt; 0 red, deeper = larger |grad|")
    if non_finite:
        notes.append("grey, dashed: grad inf or nan")
    if local_grads:
        notes.append("edge numbers: local derivative d(out)/d(in)")
    if notes:
        lines.append(f'<FONT POINT-SIZE="10" COLOR="#555555">{"; ".join(notes)}</FONT>')
    return f"<{'<BR/>'.join(lines)}>" if lines else ""
