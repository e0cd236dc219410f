"""Neuron, Layer, MLP and Module: micrograd's API, activations, init, names and state."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from scalargrad import gradcheck
from scalargrad.engine import Value
from scalargrad.nn import MLP, Layer, Module, Neuron, decision_threshold

# ---- lecture code runs unchanged ----------------------------------------------------


def test_lecture_training_loop_runs_unchanged_and_lowers_the_loss() -> None:
    """The lecture's loop: call, mse by hand, zero_grad, backward, p.data -= lr * p.grad."""
    random.seed(1337)
    n = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(20):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        n.zero_grad()
        loss.backward()
        for p in n.parameters():
            p.data -= 0.01 * p.grad
        losses.append(loss.data)
    assert losses[-1] < losses[0]


def test_a_one_output_mlp_returns_a_value_and_a_wider_one_a_list() -> None:
    """model(x) is a Value for one output, a list of Values for several."""
    assert isinstance(MLP(2, [16, 16, 1], seed=0)([0.5, -0.5]), Value)
    outputs = MLP(2, [4, 3], seed=0)([0.5, -0.5])
    assert isinstance(outputs, list)
    assert len(outputs) == 3
    assert all(isinstance(v, Value) for v in outputs)


def test_a_one_output_layer_returns_a_value_that_the_next_layer_accepts() -> None:
    """As in micrograd, Layer(n, 1) gives a Value; chaining layers by hand still works."""
    first, second = Layer(2, 1, seed=0), Layer(1, 2, seed=1)
    middle = first([1.0, 2.0])
    assert isinstance(middle, Value)
    assert len(second(middle)) == 2


def test_the_standard_mlp_has_micrograds_parameter_count() -> None:
    """MLP(2, [16, 16, 1]) has (2+1)*16 + (16+1)*16 + (16+1)*1 = 337 parameters."""
    model = MLP(2, [16, 16, 1], seed=0)
    assert model.num_parameters() == 337
    assert len(model.parameters()) == 337
    assert len(set(map(id, model.parameters()))) == 337


def test_outputs_and_gradients_match_micrograd_with_the_same_weights() -> None:
    """Same weights, same input: micrograd's output to the last bit, and every grad."""
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(0)
    theirs = micrograd_nn.MLP(3, [5, 4, 1])
    ours = MLP(3, [5, 4, 1], seed=0)
    for mine, their in zip(ours.parameters(), theirs.parameters()):
        mine.data = their.data = random.uniform(-1, 1)
    x = [0.3, -1.2, 0.8]
    our_out, their_out = ours(x), theirs(x)
    our_out.backward()
    their_out.backward()
    assert our_out.data == their_out.data  # dot adds in micrograd's order
    # Paths into one leaf may be added in another order, so grads may differ in rounding.
    for mine, their in zip(ours.parameters(), theirs.parameters()):
        assert mine.grad == pytest.approx(their.grad, abs=1e-12)


# ---- what a neuron computes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("activation", "function"),
    [
        ("relu", lambda z: max(z, 0.0)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_a_neuron_applies_its_activation_to_the_weighted_sum(activation, function) -> None:
    """Neuron(n, activation)(x) = activation(w . x + b), for each activation."""
    neuron = Neuron(3, activation, seed=2)
    neuron.b.data = 0.25
    x = [0.5, -1.0, 2.0]
    z = sum(w.data * xi for w, xi in zip(neuron.w, x)) + 0.25
    assert neuron(x).data == pytest.approx(function(z), abs=1e-15)
    assert neuron.activation == activation


def test_a_neurons_weighted_sum_is_one_fused_dot_node() -> None:
    """w . x + b is a single `dot` node with the weights, inputs and bias as its parents."""
    neuron = Neuron(4, "tanh", seed=0)
    out = neuron([1.0, 2.0, 3.0, 4.0])
    assert out.op == "tanh"
    (weighted_sum,) = out.parents
    assert weighted_sum.op == "dot"
    assert len(weighted_sum.parents) == 2 * 4 + 1
    assert weighted_sum.parents[:4] == tuple(neuron.w)
    assert weighted_sum.parents[-1] is neuron.b


def test_a_linear_neuron_adds_no_activation_node() -> None:
    """A linear neuron's output is the dot node itself."""
    assert Neuron(2, "linear", seed=0)([1.0, 2.0]).op == "dot"


def test_a_sample_becomes_values_once_per_forward_pass_not_once_per_neuron() -> None:
    """Every neuron of the first layer shares the same input leaves."""
    model = MLP(2, [8, 1], seed=0)
    out = model([0.5, -0.5])
    assert out.op == "dot"  # the output layer is linear
    hidden = out.parents[8:16]
    assert all(h.op == "relu" for h in hidden)
    input_leaves = {id(p) for h in hidden for p in h.parents[0].parents[2:4]}
    assert len(input_leaves) == 2


def test_micrograd_nonlin_switch_still_chooses_relu_or_linear() -> None:
    """nonlin=True is relu and nonlin=False is linear, as in micrograd; relu is the default."""
    assert Neuron(2, nonlin=True).activation == "relu"
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Neuron(2).activation == "relu"
    assert Layer(2, 3, nonlin=False).activation == "linear"
    assert Neuron(2, nonlin=False).nonlin is False


def test_an_mlp_has_nonlinear_hidden_layers_and_a_linear_output_by_default() -> None:
    """MLP(2, [16, 16, 1]): relu, relu, linear."""
    assert MLP(2, [16, 16, 1], seed=0).activations == ["relu", "relu", "linear"]


def test_an_mlp_takes_one_activation_per_hidden_layer_and_an_output_activation() -> None:
    """activation may name each hidden layer; output_activation names the last."""
    model = MLP(2, [3, 3, 1], ["tanh", "relu"], "sigmoid", seed=0)
    assert model.activations == ["tanh", "relu", "sigmoid"]
    assert all(n.activation == "tanh" for n in model.layers[0].neurons)


# ---- inputs ---------------------------------------------------------------------------


def test_floats_values_tuples_and_numpy_rows_give_the_same_output() -> None:
    """A sample may be a list of floats, a list of Values, a tuple or a NumPy row."""
    model = MLP(3, [4, 2], seed=0)
    expected = [v.data for v in model([0.5, -1.0, 2.0])]
    samples = [
        [Value(0.5), Value(-1.0), Value(2.0)],
        (0.5, -1.0, 2.0),
        np.array([0.5, -1.0, 2.0]),
        np.array([[0.5, -1.0, 2.0]])[0],
        [1 / 2, -1, 2],
    ]
    for sample in samples:
        assert [v.data for v in model(sample)] == expected


def test_gradients_flow_back_into_value_inputs() -> None:
    """Inputs given as Values get d(output)/d(input), as in micrograd."""
    neuron = Neuron(2, "linear", seed=0)
    x = [Value(1.0), Value(2.0)]
    neuron(x).backward()
    assert [xi.grad for xi in x] == [w.data for w in neuron.w]


def test_mlp_gradients_match_finite_differences() -> None:
    """backward() through an MLP agrees with central differences, inputs and all."""
    model = MLP(3, [4, 3, 1], "tanh", seed=5)
    assert gradcheck(lambda a, b, c: model([a, b, c]), [0.3, -0.2, 0.9])


def test_a_sample_of_the_wrong_width_is_a_value_error_that_says_so() -> None:
    """An MLP taking 2 inputs refuses 3, naming both numbers."""
    with pytest.raises(ValueError, match="MLP takes 2 inputs, got 3"):
        MLP(2, [4, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"ReLUNeuron\(2\) takes 2 inputs, got 1"):
        Neuron(2, seed=0)([1.0])
    with pytest.raises(ValueError, match=r"Layer\(3, 2, activation='relu'\) takes 3 inputs, got 2"):
        Layer(3, 2, seed=0)([1.0, 2.0])


def test_a_sample_that_is_not_numbers_is_a_type_error() -> None:
    """Strings, None and other non-numbers are refused with a TypeError."""
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(TypeError, match="expected a real number"):
        model(["a", "b"])
    with pytest.raises(TypeError, match="takes a sequence of 2 numbers"):
        model(None)


# ---- construction errors ----------------------------------------------------------------


def test_bad_sizes_activations_and_inits_are_refused_with_clear_errors() -> None:
    """Each bad constructor argument gets an exception naming it."""
    with pytest.raises(ValueError, match="nin must be an int of at least 1, got 0"):
        Neuron(0)
    with pytest.raises(TypeError, match="nin must be an int"):
        MLP("2", [1])
    with pytest.raises(ValueError, match="nouts must name at least one layer"):
        MLP(2, [])
    with pytest.raises(TypeError, match="nouts must be a list"):
        MLP(2, 16)
    with pytest.raises(ValueError, match="activation must be one of relu, tanh, sigmoid, linear"):
        Neuron(2, "softplus")
    with pytest.raises(TypeError, match="nonlin=False"):
        Neuron(2, False)
    with pytest.raises(ValueError, match="not both"):
        Neuron(2, "tanh", nonlin=True)
    with pytest.raises(ValueError, match="init must be one of uniform, xavier, kaiming"):
        Layer(2, 2, init="he")
    with pytest.raises(ValueError, match="one name per hidden layer: 2"):
        MLP(2, [4, 4, 1], ["tanh"])
    with pytest.raises(TypeError, match="seed must be an int"):
        MLP(2, [1], seed=1.5)


# ---- weight init and seeds --------------------------------------------------------------


def test_the_same_seed_makes_the_same_model_and_another_seed_another() -> None:
    """seed=int reproduces a model exactly; a different seed gives different weights."""
    assert MLP(2, [8, 1], seed=3).state_dict() == MLP(2, [8, 1], seed=3).state_dict()
    assert MLP(2, [8, 1], seed=3).state_dict() != MLP(2, [8, 1], seed=4).state_dict()


def test_a_random_generator_can_be_passed_as_the_seed() -> None:
    """seed=random.Random(k) draws from that generator, like seed=k does."""
    from_generator = MLP(2, [8, 1], seed=random.Random(7)).state_dict()
    assert from_generator == MLP(2, [8, 1], seed=7).state_dict()


def test_without_a_seed_init_follows_the_global_random_state_as_micrograd_does() -> None:
    """random.seed(k) before MLP(...) reproduces the model, as in the lecture."""
    random.seed(42)
    first = MLP(2, [8, 1]).state_dict()
    random.seed(42)
    assert MLP(2, [8, 1]).state_dict() == first


@pytest.mark.parametrize(
    ("init", "bound"),
    [("uniform", 1.0), ("xavier", math.sqrt(6 / (200 + 50))), ("kaiming", math.sqrt(6 / 200))],
)
def test_weights_are_uniform_within_the_inits_bound_and_biases_start_at_zero(init, bound) -> None:
    """uniform: [-1, 1]; xavier: sqrt(6 / (fan_in + fan_out)); kaiming: sqrt(6 / fan_in)."""
    layer = Layer(200, 50, init=init, seed=0)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert max(abs(w) for w in weights) <= bound
    assert max(abs(w) for w in weights) > 0.99 * bound  # 10,000 draws reach the edge
    assert abs(sum(weights) / len(weights)) < 0.05 * bound
    assert all(n.b.data == 0.0 for n in layer.neurons)


# ---- names, labels and state ---------------------------------------------------------------


def test_parameters_are_named_by_layer_neuron_and_weight() -> None:
    """ "L1.N3.w0" is model.layers[1].neurons[3].w[0]; names follow parameters() order."""
    model = MLP(2, [4, 5, 1], seed=0)
    named = dict(model.named_parameters())
    assert named["L1.N3.w0"] is model.layers[1].neurons[3].w[0]
    assert named["L2.N0.b"] is model.layers[2].neurons[0].b
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert [name for name, _ in Neuron(2).named_parameters()] == ["w0", "w1", "b"]
    assert Layer(2, 2).named_parameters()[0][0] == "N0.w0"


def test_each_parameter_is_labelled_with_its_name_for_pictures_of_the_graph() -> None:
    """Every parameter's label is its name in the model that owns it."""
    model = MLP(2, [3, 1], seed=0)
    assert all(p.label == name for name, p in model.named_parameters())


def test_zero_grad_sets_every_gradient_to_a_float_zero() -> None:
    """After backward, zero_grad leaves 0.0 (a float, unlike micrograd's int 0) everywhere."""
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(type(p.grad) is float and p.grad == 0.0 for p in model.parameters())


def test_load_state_dict_restores_a_state_dict() -> None:
    """Loading another model's state makes this model compute what that one does."""
    source, target = MLP(2, [4, 1], seed=1), MLP(2, [4, 1], seed=2)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    assert target([0.3, 0.7]).data == source([0.3, 0.7]).data


def test_a_state_with_missing_or_unexpected_names_is_refused_and_nothing_changes() -> None:
    """Wrong names: ValueError naming them, and the model is left as it was."""
    model = MLP(2, [4, 1], seed=1)
    before = model.state_dict()
    state = {name: 0.0 for name in before}
    del state["L1.N0.b"]
    state["L9.N0.w0"] = 1.0
    with pytest.raises(ValueError, match=r"missing 'L1.N0.b'; unexpected 'L9.N0.w0'"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_a_state_with_a_non_number_is_refused_and_nothing_changes() -> None:
    """A non-number anywhere: TypeError, raised before any parameter is assigned."""
    model = MLP(2, [4, 1], seed=1)
    before = model.state_dict()
    state: dict[str, object] = {name: 0.5 for name in before}
    state["L1.N0.b"] = "0.5"
    with pytest.raises(TypeError, match=r"L1\.N0\.b"):
        model.load_state_dict(state)
    assert model.state_dict() == before


# ---- repr ---------------------------------------------------------------------------------


def test_repr_reads_like_the_architecture() -> None:
    """Neurons as micrograd names them; layers with their widths; an MLP layer by layer."""
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(Neuron(3, "sigmoid")) == "SigmoidNeuron(3)"
    assert repr(Layer(2, 16, "tanh")) == "Layer(2, 16, activation='tanh')"
    assert repr(MLP(2, [16, 16, 1], seed=0)) == (
        "MLP(2, [16, 16, 1])\n"
        "  L0: Layer(2, 16, activation='relu')\n"
        "  L1: Layer(16, 16, activation='relu')\n"
        "  L2: Layer(16, 1, activation='linear')"
    )


# ---- module structure -------------------------------------------------------------------


def test_every_model_is_a_module_with_its_input_and_output_widths() -> None:
    """nin and nout on Neuron, Layer and MLP, for code that handles any model."""
    for model, nin, nout in [(Neuron(3), 3, 1), (Layer(3, 4), 3, 4), (MLP(3, [4, 2]), 3, 2)]:
        assert isinstance(model, Module)
        assert (model.nin, model.nout) == (nin, nout)


def test_numpy_ints_are_sizes_and_seeds_as_ints_are() -> None:
    """MLP(2, [np.int64(3), 1], seed=np.int64(0)) is MLP(2, [3, 1], seed=0)."""
    from_numpy = MLP(np.int64(2), [np.int64(3), 1], seed=np.int64(0))
    assert from_numpy.nouts == [3, 1] and type(from_numpy.nouts[0]) is int
    assert from_numpy.state_dict() == MLP(2, [3, 1], seed=0).state_dict()
    assert Layer(np.int32(2), np.int32(2)).nout == 2


@pytest.mark.parametrize("unordered", [{0.5, -1.0}, frozenset({0.5, -1.0}), {0.5: 1, -1.0: 2}])
def test_a_set_or_a_dict_is_refused_as_an_input_because_it_has_no_order(
    unordered: object,
) -> None:
    """Which number meets which weight would depend on hashing: a TypeError says so."""
    for model in (MLP(2, [1], seed=0), Layer(2, 1), Neuron(2)):
        with pytest.raises(TypeError, match="has no fixed order; pass a list or a tuple"):
            model(unordered)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_load_state_dict_refuses_a_value_that_is_not_finite(bad: float) -> None:
    """A NaN weight would make every output NaN: refused, as save and load refuse it."""
    model = MLP(2, [1], seed=0)
    state = model.state_dict()
    before = dict(state)
    state["L0.N0.b"] = bad
    with pytest.raises(ValueError, match=r"load_state_dict\['L0.N0.b'\]: expected a finite"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_an_activation_cannot_be_renamed_after_the_model_is_made() -> None:
    """The forward pass is wired at construction, so renaming is refused, not silently ignored."""
    neuron, layer = Neuron(2), Layer(2, 2)
    with pytest.raises(AttributeError):
        neuron.activation = "tanh"
    with pytest.raises(AttributeError):
        layer.activation = "tanh"


def test_the_decision_threshold_is_one_half_after_a_sigmoid_and_zero_otherwise() -> None:
    """A sigmoid output is a probability (class 1 above 0.5); any other is a score (above 0)."""
    assert decision_threshold(MLP(2, [4, 1], "tanh", "sigmoid")) == 0.5
    assert decision_threshold(Neuron(2, "sigmoid")) == 0.5
    assert decision_threshold(Layer(2, 1, "sigmoid")) == 0.5
    assert decision_threshold(MLP(2, [4, 1], "sigmoid")) == 0.0  # sigmoid hidden, linear out
    assert decision_threshold(MLP(2, [4, 1], "tanh", "tanh")) == 0.0
    assert decision_threshold(Neuron(2, "relu")) == 0.0
