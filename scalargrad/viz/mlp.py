"""An MLP drawn as a network diagram: inputs, then neurons in layers, weights as edges.

The op-level graph of a training step has thousands of nodes; this view has one node
per neuron however many samples went through it, and shows the parameters themselves:
each weight an edge, coloured by its sign, thicker when larger; each neuron with its bias.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import graphviz

from scalargrad.engine import Value
from scalargrad.viz.graph import (
    FONT,
    RANKDIRS,
    Graph,
    _box_style,
    _check_format,
    _fill,
    _grad_float,
    check_size,
    color_scale,
    escape_quoted,
    format_number,
    shorten,
)

COLOR_BY = ("data", "grad")
POSITIVE_EDGE = "#3182bd"
NEGATIVE_EDGE = "#d62728"
ZERO_EDGE = "#bbbbbb"
NON_FINITE_EDGE = "#7f7f7f"
# A dead neuron (every gradient of its weights and bias 0, a ReLU that never fired).
DEAD_FILL = "#d9d9d9"
# Edges get number labels up to this many weights; past it the labels hide the picture.
AUTO_LABEL_LIMIT = 16


def draw_mlp(
    model: Any,
    *,
    color_by: str = "data",
    weight_labels: bool | None = None,
    rankdir: str = "LR",
    max_nodes: int | None = 300,
    format: str = "svg",
) -> Graph:
    """Draw an MLP as neurons in layers, each weight an edge coloured by sign.

    `color_by="data"` colours weights and neurons by the parameter values, "grad" by
    their gradients (after backward()); an inf or NaN one is grey and dashed. With
    "grad", a neuron whose gradients are all 0 (a dead ReLU) is grey and dotted, and
    each layer's caption gives its largest |grad|, so vanishing gradients show.
    `weight_labels` writes each weight's data and grad on its edge; by default only
    when there are at most 16 weights. Hovering an edge in SVG shows its name, data and
    grad. A model with more inputs and neurons than `max_nodes` raises
    GraphTooLargeError (None: no limit).

    >>> from scalargrad import MLP
    >>> draw_mlp(MLP(2, [4, 1])).save("mlp.png")  # doctest: +SKIP
    """
    layers = _layers_of(model)
    if color_by not in COLOR_BY:
        raise ValueError(f"draw_mlp: color_by must be 'data' or 'grad', got {color_by!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_mlp: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    _check_format(format)
    nin = len(layers[0][0].w)
    check_size(
        nin + sum(len(neurons) for neurons in layers),
        max_nodes,
        "draw_mlp",
        nodes="inputs and neurons",
        advice="Draw a smaller model, or pass max_nodes=None to draw it anyway.",
    )
    weight_count = sum(len(neuron.w) for layer in layers for neuron in layer)
    if weight_labels is None:
        weight_labels = weight_count <= AUTO_LABEL_LIMIT

    def shown(v: Value) -> float:
        return v.data if color_by == "data" else _grad_float(v)

    parameters = [p for layer in layers for neuron in layer for p in (*neuron.w, neuron.b)]
    scale = color_scale(shown(p) for p in parameters)
    # Before any backward() every gradient is 0, and no neuron is singled out as dead.
    show_dead = color_by == "grad" and any(_grad_float(p) != 0.0 for p in parameters)

    def is_dead(neuron: Any) -> bool:
        return show_dead and all(_grad_float(p) == 0.0 for p in (*neuron.w, neuron.b))

    dead_note = "; grey, dotted: dead neuron, every grad 0" if show_dead else ""

    digraph = graphviz.Digraph(
        graph_attr={
            "rankdir": rankdir,
            "fontname": FONT,
            # Straight lines read as a network diagram; labels need room and curves.
            "splines": "true" if weight_labels else "line",
            "ranksep": "1.6" if weight_labels else "1.0",
            "nodesep": "0.15",
            "bgcolor": "white",
            # Each node's edges leave in the order made, so N0, N1, ... stay in order.
            "ordering": "out",
            "labelloc": "t",
            "label": (
                f'<<FONT POINT-SIZE="10" COLOR="#555555">edges: weights, colour by the sign of '
                f"their {color_by} (blue &gt; 0, red &lt; 0), thicker = larger; neuron fill: "
                f"its bias {color_by}{dead_note}</FONT>>"
            ),
        },
        node_attr={"fontname": FONT, "fontsize": "11"},
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.5"},
    )
    previous = [f"x{i}" for i in range(nin)]
    # Each column gets a caption node at its head, chained to the next column's, in a
    # rank of its own column; dot's clusters would reorder the neurons, so none are used.
    with digraph.subgraph() as column:
        column.attr(rank="same")
        column.node("inputs", label=f"inputs ({nin})", shape="plaintext")
        for i, node_id in enumerate(previous):
            column.node(node_id, label=f"x{i}", shape="circle", width="0.45", fixedsize="true")
        _keep_in_order(column, ["inputs", *previous])

    caption = "inputs"
    for layer_index, neurons in enumerate(layers):
        ids = [f"L{layer_index}N{j}" for j in range(len(neurons))]
        with digraph.subgraph() as column:
            column.attr(rank="same")
            column.node(
                f"L{layer_index}",
                label=escape_quoted(
                    f"L{layer_index}: {_count(len(neurons))}, {_activation(neurons[0])}"
                    + (_gradient_summary(neurons, is_dead) if color_by == "grad" else "")
                ),
                shape="plaintext",
            )
            for j, (node_id, neuron) in enumerate(zip(ids, neurons)):
                bias = neuron.b
                dead = is_dead(neuron)
                fill = DEAD_FILL if dead else _fill(shown(bias), scale)
                column.node(
                    node_id,
                    label=(
                        f'<<B>N{j}</B>{" dead" if dead else ""}<BR/><FONT POINT-SIZE="9">'
                        f"b {format_number(bias.data)}"
                        f"<BR/>grad {format_number(_grad_float(bias))}</FONT>>"
                    ),
                    shape="box",
                    style="filled,rounded,dotted" if dead else _box_style(fill),
                    fillcolor=fill,
                    margin="0.05,0.02",
                    tooltip=_describe(bias, f"L{layer_index}.N{j}.b"),
                )
            _keep_in_order(column, [f"L{layer_index}", *ids])
        digraph.edge(caption, f"L{layer_index}", style="invis")
        caption = f"L{layer_index}"
        for node_id, neuron in zip(ids, neurons):
            if len(neuron.w) != len(previous):
                raise ValueError(
                    f"draw_mlp: layer {layer_index} neurons have {len(neuron.w)} weights "
                    f"but the layer before has {len(previous)} outputs"
                )
            for source, w in zip(previous, neuron.w):
                value = shown(w)
                attrs = {
                    "color": _edge_color(value),
                    "penwidth": f"{0.4 + 3.0 * _strength(value, scale):.2f}",
                    "tooltip": _describe(w, f"{source} -> {node_id}"),
                }
                if not math.isfinite(value):
                    attrs["style"] = "dashed"
                if weight_labels:
                    attrs["label"] = f"w {format_number(w.data)}, g {format_number(_grad_float(w))}"
                    # A line from each label to its edge: where edges fan out, a
                    # floating number could belong to any of them.
                    attrs["decorate"] = "true"
                digraph.edge(source, node_id, **attrs)
        previous = ids
    return Graph(digraph, format=format)


def _count(neurons: int) -> str:
    return "1 neuron" if neurons == 1 else f"{neurons} neurons"


def _gradient_summary(neurons: list[Any], is_dead: Callable[[Any], bool]) -> str:
    """'; max |grad| 3.2e-07, 2 dead': how large a layer's gradients are."""
    grads = [_grad_float(p) for neuron in neurons for p in (*neuron.w, neuron.b)]
    dead = sum(1 for neuron in neurons if is_dead(neuron))
    return f"; max |grad| {format_number(color_scale(grads))}" + (f", {dead} dead" if dead else "")


def _layers_of(model: Any) -> list[list[Any]]:
    """The model's neurons, layer by layer, checked to have `.w` and `.b`."""
    layers = getattr(model, "layers", None)
    if layers is None or not hasattr(layers, "__iter__"):
        raise TypeError(
            "draw_mlp: expected an MLP (with .layers, each with .neurons that have "
            f".w and .b), got {type(model).__name__}"
        )
    result = []
    for index, layer in enumerate(layers):
        neurons = list(getattr(layer, "neurons", []))
        if not neurons:
            raise TypeError(f"draw_mlp: layer {index} has no .neurons")
        for neuron in neurons:
            w, b = getattr(neuron, "w", None), getattr(neuron, "b", None)
            if (
                not isinstance(b, Value)
                or not isinstance(w, (list, tuple))
                or not all(isinstance(x, Value) for x in w)
            ):
                raise TypeError(
                    f"draw_mlp: each neuron needs .w (a list of Values) and .b (a Value); "
                    f"layer {index} has {neuron!r}"
                )
        result.append(neurons)
    if not result:
        raise ValueError("draw_mlp: the model has no layers")
    return result


def _activation(neuron: Any) -> str:
    """'relu', 'tanh', ... from nn's `.activation`, or micrograd's `.nonlin` switch."""
    activation = getattr(neuron, "activation", None)
    if isinstance(activation, str):
        return activation
    nonlin = getattr(neuron, "nonlin", None)
    if isinstance(nonlin, bool):
        return "relu" if nonlin else "linear"
    return "neuron"


def _strength(value: float, scale: float) -> float:
    """|value| as a fraction of `scale`; inf and NaN count as the largest."""
    if not math.isfinite(value):
        return 1.0
    return min(1.0, abs(value) / scale) if scale else 0.0


def _edge_color(value: float) -> str:
    if not math.isfinite(value):
        return NON_FINITE_EDGE
    if value > 0:
        return POSITIVE_EDGE
    if value < 0:
        return NEGATIVE_EDGE
    return ZERO_EDGE


def _describe(p: Value, where: str) -> str:
    name = shorten(p.label or where)
    return escape_quoted(
        f"{name}: data {format_number(p.data)}, grad {format_number(_grad_float(p))}"
    )


def _keep_in_order(column: Any, ids: list[str]) -> None:
    """Draw a column's nodes in the order given: with many edges between two columns,
    dot's crossing minimisation would otherwise rotate them (x58 above x0)."""
    for upper, lower in itertools.pairwise(ids):
        column.edge(upper, lower, style="invis")
