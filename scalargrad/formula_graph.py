"""A formula's graph drawn into a file: what `scalargrad graph` does, as one call.

`draw_formula` checks every output path, reads the formula, computes its gradients,
draws and writes, in that order, so that bad input is refused before any work and
nothing is written unless every picture was drawn.

>>> drawn = draw_formula("tanh(x*w + b)", {"x": 0.5, "w": -1.2, "b": 0.3}, "neuron.svg")
... # doctest: +SKIP
>>> round(drawn.gradients["w"], 4)  # doctest: +SKIP
0.4576
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scalargrad.engine import Value, gradients, topological_order
from scalargrad.formula import Formula, FormulaError, evaluate, parse
from scalargrad.safe_write import checked_target, write_bytes
from scalargrad.viz import before_after, save_animation
from scalargrad.viz.graph import RANKDIRS

# A .png shows the graph before and after backward() side by side, for a quick look;
# a .svg or .pdf, made for slides, shows the graph after backward() alone, at any size.
FORMATS = ("png", "svg", "pdf")
# A bigger graph is slow to lay out and too big to read (as viz's max_nodes says); an
# animation renders one frame per node.
MAX_NODES = 300
GIF_MAX_NODES = 100


@dataclass(frozen=True)
class DrawnFormula:
    """What draw_formula computed and wrote: the formula, its value, the gradient of
    each variable, and the files (the picture, then the animation if asked for)."""

    formula: Formula
    value: float
    gradients: dict[str, float]
    written: tuple[Path, ...]


def draw_formula(
    text: str,
    values: Mapping[str, float],
    out: str | os.PathLike[str],
    *,
    gif: bool = False,
    local_grads: bool = False,
    rankdir: str = "LR",
) -> DrawnFormula:
    """Draw the graph of formula `text` at `values` into `out` (.png, .svg or .pdf).

    `gif=True` also writes backward() step by step beside it, as `out` with .gif;
    `local_grads` writes d(out)/d(in) on each edge; `rankdir` is the direction of
    the arrows (LR, RL, TB, BT). Bad input (a formula, a value, a path that cannot
    be written, a graph too big to draw) raises a ValueError saying what to change,
    before anything is drawn; a file already at a path is replaced.
    """
    target = Path(out)
    picture_format = target.suffix.lower().lstrip(".")
    if picture_format not in FORMATS:
        raise ValueError(
            f"the picture's name must end in .{', .'.join(FORMATS)}, got {os.fspath(out)}"
        )
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    paths = [target, target.with_suffix(".gif")] if gif else [target]
    targets = [checked_target(path, "graph") for path in paths]

    formula = parse(text)
    root = evaluate(formula, values)
    nodes = len(topological_order(root))
    if nodes > MAX_NODES:
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

    drawn = before_after(root, local_grads=local_grads, rankdir=rankdir, max_nodes=MAX_NODES)
    pictures = [
        drawn.combined_png() if picture_format == "png" else drawn.after.pipe(picture_format)
    ]
    if gif:
        pictures.append(_animation(root, local_grads=local_grads, rankdir=rankdir))
    for path, picture in zip(targets, pictures):
        write_bytes(path, picture, "graph")
    return DrawnFormula(formula, root.data, by_name, tuple(paths))


def _animation(root: Value, *, local_grads: bool, rankdir: str) -> bytes:
    # save_animation writes a file: into a folder of its own, so that the GIF reaches
    # its destination whole, through write_bytes, or not at all.
    with tempfile.TemporaryDirectory(prefix=".scalargrad-") as folder:
        path = Path(folder) / "backprop.gif"
        save_animation(
            root, path, max_nodes=GIF_MAX_NODES, local_grads=local_grads, rankdir=rankdir
        )
        return path.read_bytes()
