"""Pictures of backpropagation: computation graphs, step-through, MLPs, training plots.

>>> from scalargrad import Value
>>> from scalargrad.viz import draw_graph
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> loss = (a * b).tanh()
>>> loss.backward()
>>> draw_graph(loss, local_grads=True).save("loss.png")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scalargrad.viz.graph import (
    Graph,
    GraphTooLargeError,
    GraphvizNotFoundError,
    LargeGraphWarning,
    RenderError,
    draw_dot,
    draw_graph,
    which_renderer,
)
from scalargrad.viz.html import Page, backprop_page, save_html
from scalargrad.viz.mlp import draw_mlp
from scalargrad.viz.steps import (
    BackwardStep,
    BeforeAfter,
    backward_steps,
    before_after,
    save_animation,
    step_slider,
)

if TYPE_CHECKING:
    from scalargrad.viz.live import LiveView
    from scalargrad.viz.plots import plot_dataset, plot_decision_boundary, plot_loss

# The plots are matplotlib's, which takes longer to import than the rest of the package
# together; a graph is drawn without it, so these load on first use (PEP 562).
_MATPLOTLIB_NAMES = {
    "LiveView": "scalargrad.viz.live",
    "plot_dataset": "scalargrad.viz.plots",
    "plot_decision_boundary": "scalargrad.viz.plots",
    "plot_loss": "scalargrad.viz.plots",
}


def __getattr__(name: str) -> Any:
    """`LiveView` and the plots, imported (with matplotlib) when first asked for."""
    if name not in _MATPLOTLIB_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MATPLOTLIB_NAMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MATPLOTLIB_NAMES})


__all__ = [
    "BackwardStep",
    "BeforeAfter",
    "Graph",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "LargeGraphWarning",
    "LiveView",
    "Page",
    "RenderError",
    "backprop_page",
    "backward_steps",
    "before_after",
    "draw_dot",
    "draw_graph",
    "draw_mlp",
    "plot_dataset",
    "plot_decision_boundary",
    "plot_loss",
    "save_animation",
    "save_html",
    "step_slider",
    "which_renderer",
]
