"""Backprop in the browser: one self-contained HTML page that steps through a graph.

The page holds everything it needs (no network): the graph laid out once by Graphviz
as inline SVG, the engine's numbers, the op table rendered as JavaScript, and the
page's own script (`page.js`) and style (`page.css`). It steps through the forward
pass (each node fills in its data) and the backward pass (each node hands its
gradient to its inputs, with the chain rule in numbers), and lets a learner change
an input and see every number recomputed. Without scripts it shows the final state.

>>> from scalargrad import Value
>>> x, w = Value(0.5, label="x"), Value(-1.2, label="w")
>>> out = (x * w).tanh()
>>> save_html(out, "backprop.html")  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import html
import json
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from scalargrad.engine import Value, gradients, topological_order
from scalargrad.oplang import FUNCTIONS, parse
from scalargrad.ops import FUSED_OPS, OPS, FusedOp, Op
from scalargrad.safe_write import checked_target, write_bytes
from scalargrad.viz.graph import (
    HIGHLIGHT,
    NEGATIVE_RGB,
    NON_FINITE_FILL,
    POSITIVE_RGB,
    UNKNOWN_FILL,
    build_graph,
)

# Past this many Values a step-by-step page stops teaching. The one-sample loss of
# MLP(2, [16, 16, 1]) has 408 (135 steps, each neuron one fused node); 1,000 Values
# of plain ops take about 1,000 steps, their boxes are too small to read on a screen,
# and at about 1.8 kB a node the page reaches its 2 MB budget. Such a graph is better
# seen a layer at a time (draw_mlp).
MAX_NODES = 1000

_ASSETS = resources.files("scalargrad.viz")
_NOSCRIPT = (
    "<noscript><p>Scripts are off, so this is the graph after backward(), every number "
    "the engine's. Open the page in a browser with scripts on to step through it.</p></noscript>"
)


# ---- the op table as JavaScript ----------------------------------------------------

# How each function of the op language is called in the page: Math's where it means
# the same, else the page's prelude (page.js), which defines each once.
_JS_FUNCTIONS = {
    "exp": "Math.exp",
    "log": "Math.log",
    "sqrt": "Math.sqrt",
    "tanh": "Math.tanh",
    "sin": "Math.sin",
    "cos": "Math.cos",
    "abs": "Math.abs",
    "max": "pyMax",
    "round": "pyRound",
    "sign": "sign",
    "step": "step",
}
_JS_OPERATORS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "===", ast.NotEq: "!==",
    ast.And: "&&", ast.Or: "||",
}  # fmt: skip
# A fused op's roles: x_i and w_i are arrays indexed by i; the bias b is one number.
_INDEXED_ROLES = ("x_i", "w_i")


def javascript(expression: str) -> str:
    """An op-table expression as a JavaScript expression on numbers.

    >>> javascript("1.0 - out * out")
    '(1.0 - (out * out))'
    >>> javascript("y * x ** (y - 1.0) if y != 0 else 0.0")
    '((y !== 0.0) ? (y * Math.pow(x, (y - 1.0))) : 0.0)'
    """
    return _JavaScript().render(parse(expression))


class _JavaScript:
    """Renders the op language's few forms; anything else is refused, never guessed."""

    def render(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return repr(float(node.value))
        if isinstance(node, ast.Name):
            return f"{node.id}[i]" if node.id in _INDEXED_ROLES else node.id
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return f"(-{self.render(node.operand)})"
        if isinstance(node, ast.BinOp):
            left, right = self.render(node.left), self.render(node.right)
            if isinstance(node.op, ast.Pow):
                return f"Math.pow({left}, {right})"
            return f"({left} {self._operator(node.op)} {right})"
        if isinstance(node, ast.Compare):
            # Python chains comparisons: a < b < c means a < b and b < c.
            operands = [node.left, *node.comparators]
            pairs = [
                f"{self.render(a)} {self._operator(op)} {self.render(b)}"
                for a, op, b in zip(operands, node.ops, operands[1:])
            ]
            return f"({' && '.join(pairs)})"
        if isinstance(node, ast.BoolOp):
            joiner = f" {self._operator(node.op)} "
            return f"({joiner.join(self.render(v) for v in node.values)})"
        if isinstance(node, ast.IfExp):
            test, body, orelse = (self.render(n) for n in (node.test, node.body, node.orelse))
            return f"({test} ? {body} : {orelse})"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in _JS_FUNCTIONS:
                raise ValueError(f"no JavaScript for the function {name!r} of the op language")
            return f"{_JS_FUNCTIONS[name]}({', '.join(self.render(a) for a in node.args)})"
        raise ValueError(f"no JavaScript for {ast.unparse(node)!r} ({type(node).__name__})")

    def _operator(self, op: ast.AST) -> str:
        if type(op) not in _JS_OPERATORS:
            raise ValueError(f"no JavaScript for the operator {type(op).__name__}")
        return _JS_OPERATORS[type(op)]


def _fused_forward(op: FusedOp) -> str:
    """A fused op's forward as JavaScript: `start + sum(term)` adds the terms left to
    right onto `start` (0.0 for a plain sum), as the engine adds."""
    tree = ast.parse(op.forward, mode="eval").body
    start = "0.0"
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):
        start, tree = javascript(ast.unparse(tree.left)), tree.right
    if not (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, ast.Name)
        and tree.func.id == "sum"
        and len(tree.args) == 1
    ):
        raise ValueError(f"no JavaScript for the fused op {op.name!r}: {op.forward!r}")
    term = tree.args[0]
    # The sum runs over the indexed role its term names first (dot: the weights).
    counted = next(n.id for n in ast.walk(term) if isinstance(n, ast.Name))
    return f"addLeftToRight({start}, {counted}.length, (i) => {javascript(ast.unparse(term))})"


def _message(op: Op, template: str) -> str:
    # The engine's message names the op by its symbol; the page fills in {x!r}.
    return f"{op.symbol}: {template}"


def op_table_javascript() -> str:
    """The op table as a JavaScript object `OPS`: each op's forward, derivatives and
    domain checks, generated from `scalargrad.ops`, nothing written by hand."""
    entries = []
    for name, op in OPS.items():
        params = ", ".join((*op.inputs, "out"))
        inputs = ", ".join(op.inputs)
        derivatives = ", ".join(
            "null" if d is None else f"({params}) => {javascript(d)}" for d in op.derivatives
        )
        errors = ", ".join(
            f"[({inputs}) => {javascript(condition)}, {json.dumps(_message(op, message))}]"
            for condition, _, message in op.errors
        )
        written = op.written(*(f"{{{x}}}" for x in op.inputs))
        entries.append(
            f"  {name}: {{\n"
            f"    forward: ({inputs}) => {javascript(op.forward)},\n"
            f"    derivatives: [{derivatives}],\n"
            f"    errors: [{errors}],\n"
            f"    symbol: {json.dumps(op.symbol)}, written: {json.dumps(written)},\n"
            f"  }},"
        )
    for name, fused in FUSED_OPS.items():
        derivatives = ", ".join(
            f"{role}: (i, x_i, w_i, b, out) => {javascript(d)}"
            for role, d in fused.derivatives.items()
        )
        entries.append(
            f"  {name}: {{\n"
            f"    fused: true,\n"
            f"    forward: (x_i, w_i, b) => {_fused_forward(fused)},\n"
            f"    derivatives: {{{derivatives}}},\n"
            f"    symbol: {json.dumps(fused.symbol)}, written: {json.dumps(fused.forward)},\n"
            f"  }},"
        )
    return "const OPS = {\n" + "\n".join(entries) + "\n};\n"


def javascript_functions() -> dict[str, str]:
    """What each function of the op language (`ops.FUNCTIONS`) is called in the page."""
    missing = set(FUNCTIONS) - set(_JS_FUNCTIONS)
    if missing:
        raise ValueError(f"no JavaScript for the op language's {', '.join(sorted(missing))}")
    return dict(_JS_FUNCTIONS)


# ---- the page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """The step-through page of a graph: `.html` is the whole file; Jupyter shows it.

    >>> page = backprop_page(out)  # doctest: +SKIP
    >>> page.save("backprop.html")  # doctest: +SKIP
    """

    html: str
    # The picture of the final state, for where scripts and frames do not run.
    static_svg: str = field(repr=False)
    height: int = 640

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to `path` (*.html)."""
        return write_bytes(check_output_path(path), self.html.encode("utf-8"), "save_html")

    def __repr__(self) -> str:
        # Jupyter stores this text beside the HTML: one line, not a second copy of the page.
        return f"<backprop page, {len(self.html.encode()) / 1024:.0f} KiB: .save('page.html')>"

    def iframe(self) -> str:
        """The page in an iframe (srcdoc), as notebooks show it: it runs in JupyterLab,
        VS Code and exported HTML, each page with its own script and no clash of ids."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #ddd" '
            f'title="backpropagation, step by step"></iframe>'
        )

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        # A viewer without HTML (or that strips iframes) falls back on the SVG.
        bundle = {"text/html": self.iframe()}
        if self.static_svg:
            bundle["image/svg+xml"] = self.static_svg
        return bundle


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """`path` as a Path, if a page can be written there; else a ValueError that says why
    (a missing folder is fine: it is made when the page is written)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_html: path must be a str or Path, got {type(path).__name__}")
    if Path(path).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"save_html writes an HTML page; name the file *.html, got {str(path)!r}")
    return checked_target(path, "save_html")


def save_html(
    root: Value,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    local_grads: bool = False,
    rankdir: str = "LR",
    max_nodes: int = MAX_NODES,
) -> Path:
    """Write the step-through page of `root`'s graph to `path`: one HTML file that
    opens offline in any browser. The path is checked before any work.

    >>> save_html(loss, "backprop.html", local_grads=True)  # doctest: +SKIP
    """
    target = check_output_path(path)
    page = backprop_page(
        root, title=title, local_grads=local_grads, rankdir=rankdir, max_nodes=max_nodes
    )
    return write_bytes(target, page.html.encode("utf-8"), "save_html")


def page_html(root: Value, **options: Any) -> str:
    """The text of the page `save_html` writes (takes its options)."""
    return backprop_page(root, **options).html


def backprop_page(
    root: Value,
    *,
    title: str | None = None,
    local_grads: bool = False,
    rankdir: str = "LR",
    max_nodes: int = MAX_NODES,
) -> Page:
    """The step-through page of `root`'s graph, as a `Page` (shown inline in Jupyter)."""
    if not isinstance(root, Value):
        raise TypeError(f"save_html: root must be a Value, got {type(root).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"save_html: max_nodes must be a positive int, got {max_nodes!r}")
    nodes = topological_order(root)
    heading = title or "Backpropagation, step by step"
    if len(nodes) > max_nodes:
        return Page(_too_large_page(heading, nodes, max_nodes), static_svg="", height=200)
    _check_every_op_is_in_the_table(nodes)
    grads = gradients(root)
    drawing = build_graph(
        root, grads=grads, local_grads=local_grads, rankdir=rankdir, max_nodes=None
    )
    static_svg = drawing.pipe("svg").decode("utf-8")
    # Inline SVG needs neither the XML prolog and doctype nor namespace names (URLs
    # that look like links to a reader of the file).
    svg = static_svg[static_svg.index("<svg") :]
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg, count=2)
    data = _graph_data(nodes, grads, local_grads)
    page = _fill(
        "page.html",
        title=html.escape(heading),
        style=_asset("page.css"),
        svg=svg,
        graph=_script_json(data),
        ops=op_table_javascript(),
        script=_asset("page.js"),
        colours=_script_json(_colours()),
        noscript=_NOSCRIPT,
    )
    return Page(page, static_svg=static_svg, height=_frame_height(svg))


def _check_every_op_is_in_the_table(nodes: list[Value]) -> None:
    for node in nodes:
        if node.parents and node.primitive is None:
            raise ValueError(
                f"save_html: the node {node!r} (op {node.op!r}) was made by hand, with its "
                f"own _backward, so the page cannot recompute it from the op table; build "
                f"the expression from Value's ops (+, *, tanh, ...) instead"
            )


def _graph_data(nodes: list[Value], grads: dict[Value, float], local_grads: bool) -> Any:
    """The engine's numbers and the graph's shape, as the page's script reads them."""
    index = {node: i for i, node in enumerate(nodes)}
    described = []
    for node in nodes:
        rule = node.primitive
        item: dict[str, Any] = {"label": node.label, "parents": [index[p] for p in node.parents]}
        if rule is not None:
            item["op"] = rule.name
        if isinstance(rule, FusedOp):
            item["roles"] = [list(role) for role in rule.roles(len(node.parents))]
        described.append(item)
    return {
        "nodes": described,
        "data": [node.data for node in nodes],
        "grads": [float(grads[node]) for node in nodes],
        "edges": [list(node.local_grads) for node in nodes],
        "localGrads": local_grads,
    }


def _colours() -> dict[str, Any]:
    # The picture's colours, from viz.graph, so the page colours as draw_graph does.
    return {
        "positive": POSITIVE_RGB,
        "negative": NEGATIVE_RGB,
        "nonFinite": NON_FINITE_FILL,
        "unknown": UNKNOWN_FILL,
        "highlight": HIGHLIGHT,
    }


def _script_json(data: Any) -> str:
    """`data` as a JavaScript literal safe inside <script>: NaN and Infinity as JS has
    them, every non-ASCII character escaped (a lone surrogate in a label too), and no
    `</script>` or `<!--` that a label could smuggle in."""
    return json.dumps(data, allow_nan=True).replace("<", "\\u003c")


def _too_large_page(heading: str, nodes: list[Value], max_nodes: int) -> str:
    steps = 2 * sum(1 for node in nodes if node.parents) + 1
    advice = (
        f"This graph has {len(nodes):,} Values, more than max_nodes={max_nodes:,}. Step by "
        f"step, that is {steps:,} steps over boxes too small to read: the page would stop "
        f"teaching. Look at the model a layer at a time with scalargrad.viz.draw_mlp(model), "
        f"or make the page for a smaller expression (one sample's loss, a single neuron)."
    )
    return _fill(
        "page.html",
        title=html.escape(heading),
        style=_asset("page.css"),
        svg=f'<p class="too-large" role="alert">{html.escape(advice)}</p>',
        graph="null",
        ops="",
        script="document.documentElement.dataset.ready = 'too large';",
        colours="null",
        noscript="",
    )


def _frame_height(svg: str) -> int:
    """A notebook frame tall enough for the controls, the caption and the graph."""
    header = svg[: svg.index(">")]
    points = 400.0
    for attribute in header.split():
        if attribute.startswith('height="') and attribute.endswith('pt"'):
            points = float(attribute[len('height="') : -len('pt"')])
    return int(min(900, max(320, 260 + math.ceil(points * 4 / 3))))


def _asset(name: str) -> str:
    return _ASSETS.joinpath(name).read_text(encoding="utf-8")


def _fill(template: str, **parts: str) -> str:
    # One pass over the template: a part's text is never searched for placeholders.
    text = _asset(template)
    pieces = text.split("{{")
    out = [pieces[0]]
    for piece in pieces[1:]:
        name, rest = piece.split("}}", 1)
        out.append(parts[name.strip()] + rest)
    return "".join(out)
