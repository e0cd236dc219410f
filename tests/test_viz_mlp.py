"""The MLP view: inputs, neurons in layers, each weight an edge coloured by its sign."""

from __future__ import annotations

import ast
import io
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import scalargrad.viz
from scalargrad import Value, nn
from scalargrad.viz import GraphTooLargeError, draw_mlp
from scalargrad.viz.graph import NON_FINITE_FILL, format_number
from scalargrad.viz.mlp import DEAD_FILL, NEGATIVE_EDGE, NON_FINITE_EDGE, POSITIVE_EDGE, ZERO_EDGE


@dataclass
class StandInNeuron:
    """micrograd's Neuron shape: w, b, nonlin."""

    w: list[Value]
    b: Value
    nonlin: bool = True


@dataclass
class StandInLayer:
    neurons: list[StandInNeuron]


@dataclass
class StandInMLP:
    layers: list[StandInLayer] = field(default_factory=list)


def stand_in(sizes: list[int]) -> StandInMLP:
    """Weights alternate in sign, so both colours appear: +0.5, -0.5, +0.5, ..."""
    layers = []
    sign = 1.0
    for i, (nin, nout) in enumerate(itertools.pairwise(sizes)):
        neurons = []
        for _ in range(nout):
            weights = []
            for _ in range(nin):
                weights.append(Value(0.5 * sign))
                sign = -sign
            neurons.append(StandInNeuron(weights, Value(0.1), nonlin=i < len(sizes) - 2))
        layers.append(StandInLayer(neurons))
    return StandInMLP(layers)


def weight_edges(source: str) -> list[str]:
    """Edge lines that carry a weight (the invisible caption chain excluded)."""
    return [
        line
        for line in re.findall(r"^\s*\S+ -> \S+.*$", source, flags=re.MULTILINE)
        if "style=invis" not in line
    ]


def neuron_nodes(source: str) -> list[str]:
    return re.findall(r"^\s*(L\d+N\d+) \[", source, flags=re.MULTILINE)


def test_one_node_per_input_and_neuron_and_one_edge_per_weight() -> None:
    """A 3-4-2 network: 3 inputs, 6 neurons, 3*4 + 4*2 weight edges."""
    source = draw_mlp(stand_in([3, 4, 2])).source
    assert len(re.findall(r"^\s*x\d+ \[", source, flags=re.MULTILINE)) == 3
    assert neuron_nodes(source) == [f"L0N{j}" for j in range(4)] + ["L1N0", "L1N1"]
    assert len(weight_edges(source)) == 3 * 4 + 4 * 2


def test_weights_are_coloured_by_sign() -> None:
    """Half the stand-in's weights are positive (blue), half negative (red)."""
    model = stand_in([2, 4, 1])
    edges = weight_edges(draw_mlp(model).source)
    positive = sum(f'color="{POSITIVE_EDGE}"' in edge for edge in edges)
    negative = sum(f'color="{NEGATIVE_EDGE}"' in edge for edge in edges)
    assert positive == negative == len(edges) // 2


def test_colour_by_grad_follows_the_gradients() -> None:
    """color_by='grad': before backward every weight's grad is 0, so every edge is grey."""
    model = stand_in([2, 2, 1])
    edges = weight_edges(draw_mlp(model, color_by="grad").source)
    assert all(f'color="{ZERO_EDGE}"' in edge for edge in edges)


def test_an_infinite_or_nan_gradient_is_grey_and_dashed_and_the_rest_keep_their_colour() -> None:
    """color_by='grad' with one weight's grad inf and one bias's NaN: those are grey and
    dashed; the finite ones are coloured and sized on the finite ones' scale."""
    model = stand_in([2, 2, 1])
    for layer in model.layers:
        for neuron in layer.neurons:
            for p in (*neuron.w, neuron.b):
                p.grad = 0.5
    model.layers[0].neurons[0].w[0].grad = math.inf
    model.layers[0].neurons[1].b.grad = math.nan
    graph = draw_mlp(model, color_by="grad")
    edges = weight_edges(graph.source)
    (infinite,) = [edge for edge in edges if edge.lstrip().startswith("x0 -> L0N0")]
    assert f'color="{NON_FINITE_EDGE}"' in infinite and "style=dashed" in infinite
    finite = [edge for edge in edges if edge is not infinite]
    assert all(f'color="{POSITIVE_EDGE}"' in edge and "penwidth=3.40" in edge for edge in finite)
    fills = dict(re.findall(r'(L\d+N\d+) \[.*fillcolor="(#[0-9a-f]{6})"', graph.source))
    assert fills["L0N1"] == NON_FINITE_FILL
    assert fills["L0N0"] not in ("#ffffff", NON_FINITE_FILL)
    assert re.search(r"L0N1 \[.*style=\"filled,rounded,dashed\"", graph.source)
    assert "nan" not in re.sub(r"grad nan", "", graph.source)  # no nan in any attribute
    assert "<svg" in graph.pipe("svg").decode()


def test_layers_are_captioned_with_their_size_and_activation() -> None:
    """'L0: 4 neurons, relu' from micrograd's nonlin; the last layer linear."""
    source = draw_mlp(stand_in([2, 4, 1])).source
    assert "L0: 4 neurons, relu" in source
    assert "L1: 1 neuron, linear" in source
    assert "inputs (2)" in source


def test_neurons_show_their_bias_data_and_grad() -> None:
    """Each neuron node reads 'N0 / b 0.1 / grad 0'."""
    source = draw_mlp(stand_in([2, 1])).source
    assert re.search(r"L0N0 \[label=<<B>N0</B>.*b 0\.1<BR/>grad 0</FONT>>", source)


def test_weight_labels_appear_for_small_networks_or_on_request() -> None:
    """A 2-3-1 network has 9 weights: labelled by default; 2-16-1 has 48: not, unless asked."""
    small = weight_edges(draw_mlp(stand_in([2, 3, 1])).source)
    assert all('label="w ' in edge for edge in small)
    big = stand_in([2, 16, 1])
    assert not any("label=" in edge for edge in weight_edges(draw_mlp(big).source))
    asked = weight_edges(draw_mlp(big, weight_labels=True).source)
    assert all('label="w ' in edge for edge in asked)


def test_the_real_mlp_is_drawn_with_its_parameter_names() -> None:
    """scalargrad.nn.MLP: tooltips carry the names nn gives ('L1.N0.w2'), after backward."""
    model = nn.MLP(2, [4, 3, 1], seed=0)
    model([0.5, -1.0]).backward()
    graph = draw_mlp(model, color_by="grad")
    assert len(neuron_nodes(graph.source)) == 4 + 3 + 1
    assert len(weight_edges(graph.source)) == 2 * 4 + 4 * 3 + 3
    assert "L1.N0.w2: data" in graph.source
    assert "L2: 1 neuron, linear" in graph.source
    negative = [w for w in model.parameters() if w.grad < 0 and w.label and ".w" in w.label]
    edges = weight_edges(graph.source)
    assert sum(f'color="{NEGATIVE_EDGE}"' in edge for edge in edges) == len(negative)


def test_the_standard_mlp_renders_to_a_png() -> None:
    """MLP(2, [16, 16, 1]) as neurons: a PNG taller than wide, of readable size."""
    data = draw_mlp(nn.MLP(2, [16, 16, 1], seed=0)).pipe("png")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    width, height = image.size
    assert 300 < width < 3000 and 300 < height < 4000


def test_each_column_is_drawn_top_down_in_order_however_many_edges_cross() -> None:
    """64 inputs into 32 neurons: x0 to x63 and N0 to N31 from the top, under their captions."""
    svg = draw_mlp(nn.MLP(64, [32, 10], seed=0)).pipe("svg").decode()
    # dot writes each node as <title>id</title>, then its shapes, then its text at height y.
    node_text = re.findall(r"<title>(\w+)</title>.*?<text [^>]*?y=\"([-\d.]+)\"", svg, re.S)
    heights = {node: float(y) for node, y in node_text}
    inputs = ["inputs", *(f"x{i}" for i in range(64))]
    for column in (inputs, ["L0", *(f"L0N{j}" for j in range(32))]):
        assert [heights[node] for node in column] == sorted(heights[node] for node in column)


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        (object(), TypeError, "expected an MLP"),
        (StandInMLP([]), ValueError, "the model has no layers"),
        (StandInMLP([StandInLayer([])]), TypeError, "layer 0 has no .neurons"),
    ],
)
def test_something_that_is_not_an_mlp_gets_a_clear_error(
    model: object, error: type, message: str
) -> None:
    """The error says what draw_mlp looks for."""
    with pytest.raises(error, match=message):
        draw_mlp(model)


def test_layers_that_do_not_fit_together_are_a_value_error() -> None:
    """A layer whose neurons have the wrong number of weights is named."""
    model = stand_in([2, 3, 1])
    model.layers[1].neurons[0].w.pop()
    with pytest.raises(
        ValueError, match="layer 1 neurons have 2 weights but the layer before has 3"
    ):
        draw_mlp(model)


def test_bad_options_are_named() -> None:
    """color_by takes 'data' or 'grad'; max_nodes a positive int or None."""
    with pytest.raises(ValueError, match="color_by must be 'data' or 'grad'"):
        draw_mlp(stand_in([2, 1]), color_by="sign")
    with pytest.raises(ValueError, match="draw_mlp: max_nodes must be a positive int or None"):
        draw_mlp(stand_in([2, 1]), max_nodes=0)


def test_a_model_with_more_inputs_and_neurons_than_max_nodes_is_refused() -> None:
    """2 inputs + 3 + 1 neurons is 6 nodes: drawn at max_nodes=6, refused at 5 with what
    to do; max_nodes=None draws anything; the default refuses a network nobody could read."""
    model = stand_in([2, 3, 1])
    draw_mlp(model, max_nodes=6)
    with pytest.raises(GraphTooLargeError, match=r"draw_mlp: .* 6 inputs and neurons") as caught:
        draw_mlp(model, max_nodes=5)
    assert "max_nodes=None" in str(caught.value)
    draw_mlp(model, max_nodes=None)
    with pytest.raises(GraphTooLargeError, match="max_nodes=300"):
        draw_mlp(stand_in([784, 16, 10]))


# ---- no dead code ----------------------------------------------------------------------------


def test_every_private_function_in_viz_is_used() -> None:
    """A module-level `_helper` in scalargrad.viz is called somewhere in the package
    (`__getattr__` and `__dir__`, which Python calls, are no helpers)."""
    package = Path(scalargrad.viz.__file__).parent.parent
    sources = {path: path.read_text() for path in package.rglob("*.py")}
    for path in (package / "viz").glob("*.py"):
        tree = ast.parse(sources[path])
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.endswith("__"):
                continue
            if node.name.startswith("_"):
                uses = sum(len(re.findall(rf"\b{node.name}\b", text)) for text in sources.values())
                assert uses > 1, f"{path.name}: {node.name} is never used"


# ---- the gradient view: dead neurons and vanishing gradients ------------------------------


def model_with_a_dead_neuron() -> Any:
    """MLP(2, [3, 1]) whose neuron L0.N1 never fires on the input (1, 2): its ReLU
    passes no gradient, so all its parameters' gradients are 0 after backward."""
    model = nn.MLP(2, [3, 1], seed=0)
    dead = model.layers[0].neurons[1]
    for w in dead.w:
        w.data = -1.0
    dead.b.data = -0.5
    for neuron in (model.layers[0].neurons[0], model.layers[0].neurons[2]):
        for w in neuron.w:
            w.data = 0.5
    model([1.0, 2.0]).backward()
    return model


def neuron_line(source: str, node_id: str) -> str:
    line = re.search(rf"^\s*{node_id} \[.*$", source, flags=re.MULTILINE)
    assert line is not None, node_id
    return line.group(0)


def test_colour_by_grad_marks_a_neuron_whose_gradients_are_all_zero_as_dead() -> None:
    """The dead ReLU is grey, dotted and says 'dead'; the live ones do not; the layer's
    caption counts it and the legend explains the grey."""
    model = model_with_a_dead_neuron()
    assert all(p.grad == 0.0 for p in (*model.layers[0].neurons[1].w, model.layers[0].neurons[1].b))
    source = draw_mlp(model, color_by="grad").source
    dead = neuron_line(source, "L0N1")
    assert "</B> dead<BR/>" in dead and f'fillcolor="{DEAD_FILL}"' in dead and "dotted" in dead
    for live in ("L0N0", "L0N2", "L1N0"):
        assert "dead" not in neuron_line(source, live)
    assert "1 dead" in neuron_line(source, "L0")
    assert "grey, dotted: dead neuron, every grad 0" in source


def test_no_neuron_is_called_dead_before_backward_or_when_colouring_by_data() -> None:
    """Before backward() every gradient is 0: nothing is singled out; nor with 'data'."""
    assert "dead" not in draw_mlp(nn.MLP(2, [3, 1], seed=0), color_by="grad").source
    assert "dead" not in draw_mlp(model_with_a_dead_neuron(), color_by="data").source


def test_each_layers_caption_gives_its_largest_gradient_so_vanishing_ones_show() -> None:
    """With the last layer's weights scaled by 1e-6 the first layer's gradients are about
    1e-6 times smaller; the captions show each layer's largest |grad|."""
    model = nn.MLP(2, [3, 3, 1], seed=1)
    for w in model.layers[2].neurons[0].w:
        w.data *= 1e-6
    model([1.0, -2.0]).backward()
    source = draw_mlp(model, color_by="grad").source
    for index, layer in enumerate(model.layers):
        largest = max(abs(p.grad) for neuron in layer.neurons for p in (*neuron.w, neuron.b))
        assert f"max |grad| {format_number(largest)}" in neuron_line(source, f"L{index}")
    first = max(abs(p.grad) for p in model.layers[0].parameters())
    assert 0 < first < 1e-5
    assert "max |grad|" not in draw_mlp(model, color_by="data").source
