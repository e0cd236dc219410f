"""A formula's graph drawn into files: what `scalargrad graph` does, as one call.

`draw_formula` checks every output path, reads the formula, computes its gradients,
draws and writes, in that order, so that bad input is refused before any work and
nothing is written unless every picture was drawn. `read_assignment` and
`assigned_values` read the command line's `--set NAME=VALUE`.

>>> drawn = draw_formula("tanh(x*w + b)", {"x": 0.5, "w": -1.2, "b": 0.3}, "neuron.svg")
... # doctest: +SKIP
>>> round(drawn.gradients["w"], 4)  # doctest: +SKIP
0.4576
"""

from __future__ import annotations

import math
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scalargrad.compile import source
from scalargrad.engine import Value, gradients, topological_order
from scalargrad.formula import FUNCTIONS, Formula, FormulaError, evaluate, parse
from scalargrad.safe_write import checked_target, write_bytes
from scalargrad.validate import finite_text
from scalargrad.viz import backprop_page, before_after, save_animation
from scalargrad.viz.graph import RANKDIRS

# A .png shows the graph before and after backward() side by side, for a quick look;
# a .svg or .pdf, made for slides, shows the graph after backward() alone, at any size.
FORMATS = ("png", "svg", "pdf")
# A bigger graph is slow to lay out and too big to read (as viz's max_nodes says); an
# animation renders one frame per node.
MAX_NODES = 300
GIF_MAX_NODES = 100
# What each file shows, by its extension (a .pdf: as a .svg).
SHOWN = {
    ".png": "before and after backward()",
    ".svg": "after backward()",
    ".gif": "backward() step by step",
    ".html": "step through it in a browser",
}


@dataclass(frozen=True)
class DrawnFormula:
    """What draw_formula computed and wrote: the formula, its graph's output, its
    value, the gradient of each variable, and the files (the picture, the animation,
    the page: those asked for)."""

    formula: Formula
    root: Value
    value: float
    gradients: dict[str, float]
    written: tuple[Path, ...]

    def report(self, code: bool = False) -> str:
        """For a terminal: the value, each gradient, the code if `code`, the files."""
        lines = [f"{self.formula.text} = {self.value:.6g}"]
        lines += [f"  d/d{name} = {self.gradients[name]:.6g}" for name in self.formula.variables]
        lines += self.code().splitlines() if code else []
        shown = (
            f"{path} ({SHOWN.get(path.suffix.lower(), SHOWN['.svg'])})" for path in self.written
        )
        lines += [f"wrote {', '.join(shown)}"] if self.written else []
        return "\n".join(lines)

    def code(self) -> str:
        """The forward and backward passes as Python, with the variables as arguments
        (`scalargrad.compile.source`): what `scalargrad graph --code` prints."""
        leaves = {v.label: v for v in topological_order(self.root) if not v.parents}
        return source(self.root, [leaves[name] for name in self.formula.variables])


def draw_formula(
    text: str,
    values: Mapping[str, float],
    out: str | os.PathLike[str] | None = None,
    *,
    html: str | os.PathLike[str] | None = None,
    gif: bool = False,
    local_grads: bool = False,
    rankdir: str = "LR",
) -> DrawnFormula:
    """Draw the graph of formula `text` at `values` into `out` (.png, .svg or .pdf).

    `html` also writes the step-through page (`scalargrad.viz.save_html`) there;
    `gif=True` writes backward() step by step beside `out`, as `out` with .gif;
    `local_grads` writes d(out)/d(in) on each edge; `rankdir` is the direction of
    the arrows (LR, RL, TB, BT). With neither `out` nor `html`, nothing is drawn:
    the value, the gradients and the code are still there. Bad input (a formula, a
    value, a path that cannot be written, a graph too big to draw) raises a
    ValueError saying what to change, before anything is drawn; a file already at a
    path is replaced.
    """
    picture_format = "" if out is None else Path(out).suffix.lower().lstrip(".")
    if out is not None and picture_format not in FORMATS:
        raise ValueError(
            f"the picture's name must end in .{', .'.join(FORMATS)}, got {os.fspath(out)}"
        )
    if html is not None and Path(html).suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the page's name must end in .html or .htm, got {os.fspath(html)}")
    if gif and out is None:
        raise ValueError("the animation is written beside the picture: give out as well as gif")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    paths = [Path(out)] if out is not None else []
    paths += [Path(out).with_suffix(".gif")] if out is not None and gif else []
    paths += [Path(html)] if html is not None else []
    targets = [checked_target(path, "graph") for path in paths]

    formula = parse(text)
    root = evaluate(formula, values)
    nodes = len(topological_order(root))
    if paths and nodes > MAX_NODES:
        raise FormulaError(
            f"the formula's graph has {nodes} nodes; a picture shows at most {MAX_NODES}, "
            "so shorten the formula"
        )
    if gif and nodes > GIF_MAX_NODES:
        raise FormulaError(
            f"the formula's graph has {nodes} nodes; an animation shows at most "
            f"{GIF_MAX_NODES} (one frame per node), so leave it out or shorten the formula"
        )
    by_node = gradients(root)
    by_name = {node.label: grad for node, grad in by_node.items() if node.label in values}
    bad = [name for name in formula.variables if not math.isfinite(by_name[name])]
    if bad:
        raise FormulaError(f"the gradient of {', '.join(bad)} is not a finite number")

    contents = []
    if out is not None:
        drawn = before_after(root, local_grads=local_grads, rankdir=rankdir, max_nodes=MAX_NODES)
        contents.append(
            drawn.combined_png() if picture_format == "png" else drawn.after.pipe(picture_format)
        )
    if out is not None and gif:
        contents.append(_animation(root, local_grads=local_grads, rankdir=rankdir))
    if html is not None:
        page = backprop_page(root, local_grads=local_grads, rankdir=rankdir)
        contents.append(page.html.encode("utf-8"))
    for target, content in zip(targets, contents):
        write_bytes(target, content, "graph")
    return DrawnFormula(formula, root, root.data, by_name, tuple(paths))


def read_assignment(text: str) -> tuple[str, float]:
    """'x=0.5' -> ('x', 0.5), the name as Python reads it in a formula (NFKC); a
    ValueError saying what is wrong with `text`.

    >>> read_assignment("w = -1.2")
    ('w', -1.2)
    """
    name, equals, number = text.partition("=")
    if not equals:
        raise ValueError(f"{text!r} is not NAME=VALUE, as in --set x=0.5")
    name = unicodedata.normalize("NFKC", name.strip())
    if not name.isidentifier():
        raise ValueError(f"{name!r} is not a variable name, as in --set x=0.5")
    if name in FUNCTIONS:
        raise ValueError(f"{name} is a function, so it cannot be a variable")
    try:
        return name, finite_text(number.strip())
    except ValueError as error:
        raise ValueError(f"the value of {name}: {error}") from None


def assigned_values(text: str, assignments: Iterable[tuple[str, float]]) -> dict[str, float]:
    """The value of each variable of formula `text`, from `--set` pairs given once each;
    a ValueError naming a variable set twice, or those with no value.

    >>> assigned_values("x*w", [("x", 0.5), ("w", -1.2)])
    {'x': 0.5, 'w': -1.2}
    """
    values: dict[str, float] = {}
    for name, value in assignments:
        if name in values:
            raise ValueError(f"{name} is set twice (--set {name}=...); set it once")
        values[name] = value
    missing = [name for name in parse(text).variables if name not in values]
    if missing:
        settings = " ".join(f"--set {name}=VALUE" for name in missing)
        raise ValueError(f"the formula uses {', '.join(missing)}; give a value with {settings}")
    return values


def _animation(root: Value, *, local_grads: bool, rankdir: str) -> bytes:
    # save_animation writes a file: into a folder of its own, so that the GIF reaches
    # its destination whole, through write_bytes, or not at all.
    with tempfile.TemporaryDirectory(prefix=".scalargrad-") as folder:
        path = Path(folder) / "backprop.gif"
        save_animation(
            root, path, max_nodes=GIF_MAX_NODES, local_grads=local_grads, rankdir=rankdir
        )
        return path.read_bytes()
