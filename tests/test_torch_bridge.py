"""to_torch / from_torch: the same function in float64 both ways, and torch stays optional."""

from __future__ import annotations

import sys

import pytest

from scalargrad.nn import MLP, Neuron
from scalargrad.torch_bridge import from_torch, to_torch

SAMPLES = [[0.3, -1.2, 0.8], [0.0, 0.0, 0.0], [2.5, 1.0, -3.0], [-0.7, 0.4, 0.1]]
ARCHITECTURES = [
    MLP(3, [16, 16, 1], seed=0),
    MLP(3, [5, 4, 3], ["tanh", "sigmoid"], "relu", seed=1),
    MLP(3, [2], output_activation="tanh", seed=2),
    MLP(3, [8, 1], init="xavier", seed=3),
]


def _outputs(model: MLP, x: list[float]) -> list[float]:
    out = model(x)
    return [v.data for v in out] if isinstance(out, list) else [out.data]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("model", ARCHITECTURES, ids=repr)
def test_to_torch_computes_the_same_outputs_to_1e_12(torch, model: MLP) -> None:
    """The Sequential's float64 outputs equal the MLP's on every sample."""
    net = to_torch(model)
    for x in SAMPLES:
        theirs = net(torch.tensor(x, dtype=torch.float64)).tolist()
        assert theirs == pytest.approx(_outputs(model, x), abs=1e-12)


@pytest.mark.parametrize("model", ARCHITECTURES, ids=repr)
def test_to_torch_gives_the_same_gradients_to_1e_12(torch, model: MLP) -> None:
    """Backward through both: every weight and bias gets the same gradient."""
    net = to_torch(model)
    x = SAMPLES[0]
    out = model(x)
    total = sum(out) if isinstance(out, list) else out
    total.backward()
    net(torch.tensor(x, dtype=torch.float64)).sum().backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(model.layers, linears):
        for neuron, weight_grads, bias_grad in zip(
            layer.neurons, linear.weight.grad.tolist(), linear.bias.grad.tolist()
        ):
            assert [w.grad for w in neuron.w] == pytest.approx(weight_grads, abs=1e-12)
            assert neuron.b.grad == pytest.approx(bias_grad, abs=1e-12)


def test_to_torch_builds_linear_layers_each_followed_by_its_activation(torch) -> None:
    """MLP(2, [16, 16, 1]) becomes Linear, ReLU, Linear, ReLU, Linear, all float64."""
    net = to_torch(MLP(2, [16, 16, 1], seed=0))
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, torch.nn.Linear)] == [
        (2, 16),
        (16, 16),
        (16, 1),
    ]


@pytest.mark.parametrize("model", ARCHITECTURES, ids=repr)
def test_from_torch_of_to_torch_gives_back_the_same_mlp(torch, model: MLP) -> None:
    """The round trip keeps the layer widths, the activations and every weight exactly."""
    again = from_torch(to_torch(model))
    assert (again.nin, again.nouts, again.activations) == (
        model.nin,
        model.nouts,
        model.activations,
    )
    assert again.state_dict() == model.state_dict()


def test_from_torch_of_a_torch_built_network_computes_the_same_outputs(torch) -> None:
    """A Sequential made and initialised by torch becomes an MLP with equal outputs."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 2),
        torch.nn.Sigmoid(),
    ).double()
    model = from_torch(net)
    assert model.activations == ["tanh", "relu", "sigmoid"]
    for x in SAMPLES:
        expected = net(torch.tensor(x, dtype=torch.float64)).tolist()
        assert _outputs(model, x) == pytest.approx(expected, abs=1e-12)


def test_from_torch_reads_float32_weights_and_gives_biasless_layers_zero_bias(torch) -> None:
    """float32 weights are widened exactly; Linear(bias=False) becomes biases of 0."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4, bias=False), torch.nn.ReLU(), torch.nn.Linear(4, 1)
    )
    model = from_torch(net)
    assert all(n.b.data == 0.0 for n in model.layers[0].neurons)
    assert model.layers[0].neurons[1].w[2].data == net[0].weight[1, 2].item()
    for x in SAMPLES:
        expected = net.double()(torch.tensor(x, dtype=torch.float64)).tolist()
        assert _outputs(model, x) == pytest.approx(expected, abs=1e-12)


def test_from_torch_leaves_the_global_random_state_alone(torch) -> None:
    """Building the MLP draws nothing from `random`."""
    import random

    random.seed(3)
    state = random.getstate()
    from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3)))
    assert random.getstate() == state


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (lambda nn: [nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1)], "module 1 is a Dropout"),
        (lambda nn: [nn.ReLU(), nn.Linear(2, 1)], r"module 0 \(ReLU\) must follow a Linear"),
        (
            lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Tanh()],
            r"module 2 \(Tanh\) must follow a Linear",
        ),
        (
            lambda nn: [nn.Linear(2, 3), nn.Linear(4, 1)],
            "module 1 takes 4 inputs but the Linear before it gives 3",
        ),
        (lambda nn: [], "has no Linear layer"),
    ],
)
def test_what_an_mlp_cannot_express_is_a_value_error_naming_the_module(
    torch, modules, message
) -> None:
    """Other modules, misplaced activations and mismatched widths are named by position."""
    with pytest.raises(ValueError, match=message):
        from_torch(torch.nn.Sequential(*modules(torch.nn)))


def test_a_linear_subclass_with_its_own_forward_is_refused_naming_it(torch) -> None:
    """An MLP copies weights, not code: a Linear that computes something else is refused."""

    class DoubledLinear(torch.nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    with pytest.raises(ValueError, match=r"module 1 \(DoubledLinear\) is a Linear with its own"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), DoubledLinear(2, 1)))


def test_a_linear_subclass_keeping_linears_forward_is_copied(torch) -> None:
    """A subclass that only initialises differently computes what Linear does: it is taken."""

    class ZeroBiasLinear(torch.nn.Linear):
        def reset_parameters(self):
            super().reset_parameters()
            torch.nn.init.zeros_(self.bias)

    torch.manual_seed(0)
    net = torch.nn.Sequential(ZeroBiasLinear(3, 1)).double()
    model = from_torch(net)
    theirs = net(torch.tensor([SAMPLES[0]], dtype=torch.float64))[0, 0].item()
    assert model(SAMPLES[0]).data == pytest.approx(theirs, rel=1e-12)


def test_a_lazy_linear_is_refused_until_run_and_copied_after(torch) -> None:
    """A LazyLinear not yet run has no weights: the error says to run it; once run, it is copied."""
    net = torch.nn.Sequential(torch.nn.LazyLinear(2), torch.nn.Tanh()).double()
    with pytest.raises(ValueError, match=r"from_torch: module 0 \(LazyLinear\) has no weights"):
        from_torch(net)
    net(torch.zeros(1, 3, dtype=torch.float64))
    model = from_torch(net)
    assert model.nin == 3
    assert _outputs(model, SAMPLES[2]) == pytest.approx(
        net(torch.tensor([SAMPLES[2]], dtype=torch.float64))[0].tolist(), rel=1e-12
    )


def test_the_wrong_kind_of_model_is_a_type_error(torch) -> None:
    """to_torch takes an MLP; from_torch takes a Sequential."""
    with pytest.raises(TypeError, match="to_torch: expected an MLP, got Neuron"):
        to_torch(Neuron(2))
    with pytest.raises(
        TypeError, match=r"from_torch: expected a torch\.nn\.Sequential, got Linear"
    ):
        from_torch(torch.nn.Linear(2, 1))


def test_without_torch_the_bridge_says_how_to_install_it(monkeypatch) -> None:
    """No torch: ImportError naming the extra, pip install 'scalargrad[torch]'."""
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match=r"pip install 'scalargrad\[torch\]'"):
        to_torch(MLP(2, [1], seed=0))
    with pytest.raises(ImportError, match=r"pip install 'scalargrad\[torch\]'"):
        from_torch(object())


def test_importing_the_bridge_does_not_import_torch() -> None:
    """torch is optional and slow to import: only to_torch/from_torch load it."""
    import subprocess

    code = "import sys, scalargrad.torch_bridge; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
