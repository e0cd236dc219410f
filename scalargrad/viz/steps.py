"""Backpropagation as pictures: before and after, and every step between.

Nothing here touches `.grad`: the gradients come from `scalargrad.engine.gradients`,
the walk `backward()` itself runs, so drawing a graph never changes what it gives.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from scalargrad.engine import Value, gradients, topological_order
from scalargrad.safe_write import checked_target, write_bytes
from scalargrad.viz.graph import (
    MAX_PIXELS,
    Graph,
    build_graph,
    check_size,
    color_scale,
    format_from_path,
    render,
    warn_if_large,
)
from scalargrad.viz.html import Page, backprop_page

# ---- before and after ---------------------------------------------------------------


class BeforeAfter(NamedTuple):
    """The graph before backward() (every grad 0) and after it, as two drawings."""

    before: Graph
    after: Graph

    def save(
        self, before_path: str | os.PathLike[str], after_path: str | os.PathLike[str]
    ) -> tuple[Path, Path]:
        """Write the two pictures, e.g. 'before_gradient.png' and 'after_gradient.png'.

        Both names and both destinations are checked, and both pictures rendered,
        before either file is written: a bad second path leaves no first file behind.
        """
        paths = (before_path, after_path)
        formats = [format_from_path(path) for path in paths]
        targets = [checked_target(path, "before_after.save") for path in paths]
        if targets[0] == targets[1]:
            raise ValueError(
                f"before_after.save: before and after are both {os.fspath(before_path)!r}; "
                f"the second picture would replace the first: give two file names"
            )
        images = [render(graph.source, kind) for graph, kind in zip(self, formats)]
        before, after = (
            write_bytes(target, image, "before_after.save")
            for target, image in zip(targets, images)
        )
        return before, after

    def save_combined(self, path: str | os.PathLike[str]) -> Path:
        """Write both into one PNG: side by side, or one above the other for wide graphs."""
        if format_from_path(path) != "png":
            raise ValueError(f"save_combined writes a PNG; name the file *.png, got {path!r}")
        return write_bytes(path, self.combined_png(), "save_combined")

    def combined_png(self) -> bytes:
        """Both pictures in one PNG, as bytes."""
        from PIL import Image

        # Each half gets half the pixels a picture may have.
        before, after = (_png_image(graph, MAX_PIXELS // 2) for graph in (self.before, self.after))
        wide = before.width > before.height
        gap = 24
        if wide:
            size = (max(before.width, after.width), before.height + gap + after.height)
            second_at = (0, before.height + gap)
        else:
            size = (before.width + gap + after.width, max(before.height, after.height))
            second_at = (before.width + gap, 0)
        canvas = Image.new("RGB", size, "white")
        canvas.paste(before, (0, 0))
        canvas.paste(after, second_at)
        pixels = canvas.width * canvas.height
        if pixels > MAX_PIXELS:  # by the gap between the two, at most
            scale = math.sqrt(MAX_PIXELS / pixels)
            shrunk = (int(canvas.width * scale), int(canvas.height * scale))
            canvas = canvas.resize(shrunk, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        canvas.save(buffer, format="PNG")
        return buffer.getvalue()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, bytes]:
        return {"image/png": self.combined_png()}


def before_after(root: Value, **draw_options: Any) -> BeforeAfter:
    """Draw `root`'s graph before backward() (grads 0) and after it, leaving `.grad` alone.

    Takes draw_graph's options (local_grads, color, rankdir, expand, ...), and warns
    as it does past 150 Values.

    >>> before_after(loss).save("before_gradient.png", "after_gradient.png")  # doctest: +SKIP
    """
    _reject_reserved(draw_options, "before_after")
    grads = gradients(root)
    scale = color_scale(grads.values())
    zeros = dict.fromkeys(grads, 0.0)
    before = build_graph(
        root, grads=zeros, grad_scale=scale, title="before backward()", **draw_options
    )
    after = build_graph(
        root, grads=grads, grad_scale=scale, title="after backward()", **draw_options
    )
    warn_if_large(after, "before_after")
    return BeforeAfter(before, after)


def _png_image(graph: Graph, max_pixels: int = MAX_PIXELS) -> Any:
    from PIL import Image

    image = Image.open(io.BytesIO(render(graph.source, "png", max_pixels=max_pixels)))
    return image.convert("RGB")


def _reject_reserved(options: dict[str, Any], where: str) -> None:
    reserved = {"grads", "known", "highlight", "grad_scale", "title"} & options.keys()
    if reserved:
        raise TypeError(f"{where}: {', '.join(sorted(reserved))} is set by {where} itself")


# ---- step through backward ----------------------------------------------------------


@dataclass(frozen=True)
class BackwardStep:
    """One frame of backpropagation: the first `index` nodes of the backward order know
    their gradient; `node` is the one that just got it (None in frame 0)."""

    index: int
    node: Value | None
    grads: dict[Value, float]
    graph: Graph


def backward_steps(root: Value, **draw_options: Any) -> Iterator[BackwardStep]:
    """Yield frames 0..n of backward() on `root`'s n-node graph, without touching `.grad`.

    Frame k shows the gradients of the first k nodes in backward order (root first),
    the k-th highlighted with the edges that carried its gradient to it. Takes
    draw_graph's options.

    >>> for step in backward_steps(loss):  # doctest: +SKIP
    ...     step.graph.save(f"step_{step.index:03d}.png")
    """
    _reject_reserved(draw_options, "backward_steps")
    grads = gradients(root)
    check_size(len(grads), draw_options.get("max_nodes", 1000), "backward_steps")
    return _frames(root, grads, draw_options)


def _frames(
    root: Value, grads: dict[Value, float], draw_options: dict[str, Any]
) -> Iterator[BackwardStep]:
    backward_order = list(reversed(topological_order(root)))
    scale = color_scale(grads.values())
    known: dict[Value, float] = {}
    current: Value | None = None
    for index in range(len(backward_order) + 1):
        if index > 0:
            current = backward_order[index - 1]
            known[current] = grads[current]
        title = (
            "backward: nothing known yet"
            if current is None
            else f"backward step {index} of {len(backward_order)}: "
            f"{_name(current)} gets its gradient"
        )
        graph = build_graph(
            root,
            grads=grads,
            known=known,
            highlight=current,
            grad_scale=scale,
            title=title,
            **draw_options,
        )
        yield BackwardStep(index, current, dict(known), graph)


def _name(node: Value) -> str:
    if node.label:
        return node.label
    return f"the {node.op} node" if node.op else "a leaf"


def save_animation(
    root: Value,
    path: str | os.PathLike[str],
    *,
    seconds_per_frame: float = 0.8,
    max_nodes: int | None = 100,
    op_steps_only: bool = False,
    dpi: float | None = None,
    cancel: threading.Event | None = None,
    **draw_options: Any,
) -> Path:
    """Write backward_steps(root) as an animated GIF, one frame per node, looping.

    With `op_steps_only`, leaves get no frame of their own (their gradients show in
    the next op's frame): about half the frames, and the flow through the ops as
    clear. The last frame is held three times as long. `dpi` sets the resolution.
    Setting `cancel` (from another thread) stops the rendering: frames not yet begun
    are skipped, no file is written, and save_animation raises CancelledError.

    >>> save_animation(loss, "backprop.gif")  # doctest: +SKIP
    """
    if Path(path).suffix.lower() != ".gif":
        raise ValueError(f"save_animation writes a GIF; name the file *.gif, got {path!r}")
    if not seconds_per_frame > 0:
        raise ValueError(f"seconds_per_frame must be positive, got {seconds_per_frame!r}")
    target = checked_target(path, "save_animation")  # before the frames take their time
    steps = list(backward_steps(root, max_nodes=max_nodes, **draw_options))
    if op_steps_only:
        last = steps[-1]
        steps = [step for step in steps[:-1] if step.node is None or step.node.parents]
        steps.append(last)
    graphs = [step.graph for step in steps]
    if dpi is not None:
        for graph in graphs:
            graph.digraph.attr(dpi=f"{dpi:g}")

    def render(graph: Graph) -> Any:
        if cancel is not None and cancel.is_set():
            raise CancelledError
        return _png_image(graph)

    # Graphviz renders in another process (or outside the GIL in pygraphviz), so two
    # threads render about twice as fast.
    pool = ThreadPoolExecutor(2)
    try:
        frames = [frame.result() for frame in [pool.submit(render, g) for g in graphs]]
    finally:
        # After a failure (or Ctrl-C in this thread), frames not yet begun are dropped.
        pool.shutdown(cancel_futures=True)
    if cancel is not None and cancel.is_set():
        raise CancelledError
    return write_bytes(target, _gif(frames, seconds_per_frame), "save_animation")


def _gif(frames: list[Any], seconds_per_frame: float) -> bytes:
    """RGB frames as a looping GIF, each centred on one canvas; the last held longer."""
    from PIL import Image

    # Graphviz sizes each frame to its content; a GIF needs one size for all.
    width = max(frame.width for frame in frames)
    height = max(frame.height for frame in frames)
    padded = []
    for frame in frames:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(frame, ((width - frame.width) // 2, (height - frame.height) // 2))
        padded.append(canvas)
    # One palette for every frame, from the last, where every node shows its gradient:
    # a colour never shifts between frames, and mapping to a fixed palette is several
    # times quicker than choosing one per frame.
    palette = padded[-1].quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    indexed = [frame.quantize(palette=palette, dither=Image.Dither.NONE) for frame in padded]
    milliseconds = round(seconds_per_frame * 1000)
    durations = [milliseconds] * (len(indexed) - 1) + [3 * milliseconds]
    gif = io.BytesIO()
    indexed[0].save(
        gif, format="GIF", save_all=True, append_images=indexed[1:], duration=durations, loop=0
    )
    return gif.getvalue()


def step_slider(root: Value, **page_options: Any) -> Page:
    """The step-through page of `root` (`viz.html`), shown inline in Jupyter: step with
    the buttons, the slider or the arrow keys, and change an input to recompute.

    It is HTML (the page in an iframe), so it works in JupyterLab, VS Code and exported
    HTML; where scripts do not run, the picture of the final state stands in. Takes
    save_html's options (local_grads, rankdir, title, max_nodes).

    >>> step_slider(loss, local_grads=True)  # doctest: +SKIP
    """
    return backprop_page(root, **page_options)
