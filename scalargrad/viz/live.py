"""Training as it happens: `fit(..., callback=LiveView(X, y), every=N)` redraws, every N
epochs, the loss so far, the decision boundary (for 2-D data) and the layer view
coloured by gradient, in place in Jupyter; the frames can be saved as a GIF or as one
HTML page with a slider.

>>> from scalargrad import MLP, fit
>>> from scalargrad.data import moons
>>> X, y = moons(100)
>>> view = LiveView(X, y)
>>> model = MLP(2, [8, 8, 1])
>>> history = fit(model, X, y, epochs=50, callback=view, every=10)  # doctest: +SKIP
>>> view.save_gif("training.gif")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from PIL import Image

from scalargrad.viz.mlp import draw_mlp
from scalargrad.viz.plots import plot_decision_boundary

# Frames wider than this are scaled down: they must fit a slide and a README.
MAX_WIDTH = 1280
# Pixels per inch of the matplotlib panels in a frame.
PANEL_DPI = 72
# The decision boundary's mesh is evaluated by the scalar engine at every frame:
# 30 x 30 points keeps a frame well under a second for the standard MLP.
BOUNDARY_RESOLUTION = 30


class LiveView:
    """A callback for `fit` that draws each N-th epoch as a frame and shows it.

    - `X`, `y`: the training data; with 2 features the frame shows the decision boundary.
    - `layers`: the layer view, `draw_mlp(model, color_by="grad")`: edges coloured by
      each weight's gradient, so dead ReLUs and vanishing gradients show as pale
      neurons and edges.
    - `show`: redraw in place in the notebook (None: when running in Jupyter).
    """

    def __init__(self, X: Any, y: Any, *, layers: bool = True, show: bool | None = None) -> None:
        self.X = [list(row) for row in X]
        self.y = list(y)
        if len(self.X) != len(self.y) or not self.X:
            raise ValueError(
                f"LiveView: X and y must hold the same number of samples (at least one), "
                f"got {len(self.X)} and {len(self.y)}"
            )
        self.layers = layers
        self.show = _in_jupyter() if show is None else show
        self.frames: list[Image.Image] = []
        self._display: Any = None

    def __call__(self, model: Any, history: Any) -> None:
        """Draw one frame from the model and the history (fit calls this)."""
        frame = self._frame(model, history)
        self.frames.append(frame)
        if self.show:
            self._redraw(frame)

    def _frame(self, model: Any, history: Any) -> Image.Image:
        panels = [_loss_panel(list(history.loss))]
        if len(self.X[0]) == 2:
            boundary = plot_decision_boundary(model, self.X, self.y, resolution=BOUNDARY_RESOLUTION)
            boundary.set_size_inches(4, 3.6)
            panels.append(_image_of(boundary))
        rows = [_side_by_side(panels)]
        if self.layers:
            graph = draw_mlp(model, color_by="grad", max_nodes=None, format="png")
            rows.append(Image.open(io.BytesIO(graph.pipe("png"))).convert("RGB"))
        return _fit_width(_stacked(rows), MAX_WIDTH)

    def _redraw(self, frame: Image.Image) -> None:
        from IPython.display import Image as ShownImage
        from IPython.display import display

        shown = ShownImage(data=_png_bytes(frame), format="png")  # type: ignore[no-untyped-call]
        if self._display is None:
            self._display = display(shown, display_id=True)  # type: ignore[no-untyped-call]
        else:
            self._display.update(shown)

    def save_gif(self, path: str | os.PathLike[str], *, seconds_per_frame: float = 0.5) -> Path:
        """Write the frames as a looping GIF, the last held three times as long."""
        target = _checked_target(path, ".gif", self.frames)
        if not seconds_per_frame > 0:
            raise ValueError(f"seconds_per_frame must be positive, got {seconds_per_frame!r}")
        size = (max(f.width for f in self.frames), max(f.height for f in self.frames))
        frames = [_padded(frame, size) for frame in self.frames]
        durations = [round(seconds_per_frame * 1000)] * len(frames)
        durations[-1] *= 3
        buffer = io.BytesIO()
        frames[0].save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
        )
        target.write_bytes(buffer.getvalue())
        return target

    def save_html(self, path: str | os.PathLike[str], *, title: str = "training") -> Path:
        """Write the frames as one self-contained HTML page with a slider and a play button."""
        target = _checked_target(path, ".html", self.frames)
        images = "\n".join(
            f'<img alt="frame {i + 1}" src="data:image/png;base64,'
            f'{base64.b64encode(_png_bytes(frame)).decode()}"{"" if i == 0 else " hidden"}>'
            for i, frame in enumerate(self.frames)
        )
        page = _PAGE.format(title=html.escape(title), last=len(self.frames) - 1, images=images)
        target.write_text(page, encoding="utf-8")
        return target


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font-family: sans-serif; }} img {{ max-width: 100%; }}</style></head>
<body>
<h1>{title}</h1>
<p><button id="play">play</button>
<input id="frame" type="range" min="0" max="{last}" value="0"> <span id="shown">1</span></p>
<div id="frames">
{images}
</div>
<script>
const images = document.querySelectorAll("#frames img");
const slider = document.getElementById("frame");
function show(i) {{
  images.forEach((image, j) => {{ image.hidden = j !== i; }});
  slider.value = i;
  document.getElementById("shown").textContent = i + 1;
}}
slider.addEventListener("input", () => show(Number(slider.value)));
document.getElementById("play").addEventListener("click", () => {{
  let i = 0;
  const timer = setInterval(() => {{
    show(i);
    i += 1;
    if (i >= images.length) clearInterval(timer);
  }}, 500);
}});
</script>
</body></html>
"""


def _checked_target(path: str | os.PathLike[str], suffix: str, frames: list[Image.Image]) -> Path:
    target = Path(path)
    if target.suffix.lower() != suffix:
        raise ValueError(f"LiveView: name the file *{suffix}, got {str(path)!r}")
    if not frames:
        raise ValueError(
            "LiveView: there are no frames yet; pass the view to fit(..., callback=view) first"
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(f"LiveView: the folder {str(target.parent)!r} does not exist")
    return target


def _loss_panel(losses: list[float]) -> Image.Image:
    figure = Figure(figsize=(4, 3.6), layout="constrained")
    axes = figure.subplots()
    axes.plot(range(1, len(losses) + 1), losses, color="#1f77b4")
    axes.set(title=f"loss {losses[-1]:.4g} after {len(losses)} epochs", xlabel="epoch")
    axes.grid(alpha=0.3)
    return _image_of(figure)


def _image_of(figure: Figure) -> Image.Image:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PANEL_DPI)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _side_by_side(images: list[Image.Image]) -> Image.Image:
    canvas = Image.new(
        "RGB", (sum(i.width for i in images), max(i.height for i in images)), "white"
    )
    left = 0
    for image in images:
        canvas.paste(image, (left, 0))
        left += image.width
    return canvas


def _stacked(images: list[Image.Image]) -> Image.Image:
    canvas = Image.new(
        "RGB", (max(i.width for i in images), sum(i.height for i in images)), "white"
    )
    top = 0
    for image in images:
        canvas.paste(image, ((canvas.width - image.width) // 2, top))
        top += image.height
    return canvas


def _fit_width(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    height = round(image.height * width / image.width)
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _padded(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    canvas = Image.new("RGB", size, "white")
    canvas.paste(image, (0, 0))
    return canvas


def _in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
