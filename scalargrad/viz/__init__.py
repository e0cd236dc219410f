"""Pictures of backpropagation: computation graphs, step-through, MLPs, training plots.

>>> from scalargrad import Value
>>> from scalargrad.viz import draw_graph
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> loss = (a * b).tanh()
>>> loss.backward()
>>> draw_graph(loss, local_grads=True).save("loss.png")  # doctest: +SKIP
"""

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
from scalargrad.viz.live import LiveView
from scalargrad.viz.mlp import draw_mlp
from scalargrad.viz.plots import plot_dataset, plot_decision_boundary, plot_loss
from scalargrad.viz.steps import (
    BackwardStep,
    BeforeAfter,
    backward_steps,
    before_after,
    save_animation,
    step_slider,
)

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
