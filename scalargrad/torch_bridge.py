"""The graduation path: an MLP to a `torch.nn.Sequential` and back.

>>> from scalargrad.nn import MLP
>>> model = MLP(2, [16, 16, 1], seed=0)
>>> net = to_torch(model)      # Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1)
>>> again = from_torch(net)    # an MLP with the same weights

The torch model is float64, so both compute the same function to rounding
(outputs agree to about 1e-15). PyTorch is optional: install it with
`pip install 'scalargrad[torch]'`.
"""

from __future__ import annotations

from typing import Any

from scalargrad.nn import MLP

INSTALL_HINT = "pip install 'scalargrad[torch]'"


def _torch() -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            f"the PyTorch bridge needs PyTorch, which is not installed: {INSTALL_HINT}"
        ) from error
    return torch


def _activation_modules(torch: Any) -> dict[str, Any]:
    """Each activation's torch module class; "linear" has none."""
    return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


def to_torch(model: MLP) -> Any:
    """An equivalent `torch.nn.Sequential` (float64): Linear, then the activation, per layer."""
    torch = _torch()
    if not isinstance(model, MLP):
        raise TypeError(f"to_torch: expected an MLP, got {type(model).__name__}")
    activation_modules = _activation_modules(torch)
    modules = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(activation_modules[layer.activation]())
    return torch.nn.Sequential(*modules)


def from_torch(sequential: Any) -> MLP:
    """The MLP computing what `sequential` computes.

    `sequential` must be Linear layers, each followed by at most one ReLU, Tanh or
    Sigmoid, each Linear's input width the previous one's output width. A Linear
    without a bias gets biases of 0. A subclass with its own forward, and a LazyLinear
    not yet run, are refused (ValueError).
    """
    torch = _torch()
    if not isinstance(sequential, torch.nn.Sequential):
        raise TypeError(
            f"from_torch: expected a torch.nn.Sequential, got {type(sequential).__name__}"
        )
    activation_names = {cls: name for name, cls in _activation_modules(torch).items()}
    linears: list[Any] = []
    activations: list[str] = []
    for position, module in enumerate(sequential):
        kind = _kind_of(module, [torch.nn.Linear, *activation_names], position)
        if kind is torch.nn.Linear:
            if torch.nn.parameter.is_lazy(module.weight):
                raise ValueError(
                    f"from_torch: module {position} ({type(module).__name__}) has no weights "
                    f"yet, so its input width is unknown; run the model once on an input, "
                    f"or give the layer its in_features (torch.nn.Linear)"
                )
            if linears and module.in_features != linears[-1].out_features:
                raise ValueError(
                    f"from_torch: module {position} takes {module.in_features} inputs but the "
                    f"Linear before it gives {linears[-1].out_features}"
                )
            linears.append(module)
            activations.append("linear")
        else:
            if not linears or activations[-1] != "linear":
                raise ValueError(
                    f"from_torch: module {position} ({type(module).__name__}) must follow a "
                    f"Linear; an MLP applies one activation per layer"
                )
            activations[-1] = activation_names[kind]
    if not linears:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    model = MLP(
        linears[0].in_features,
        [linear.out_features for linear in linears],
        activations[:-1],
        activations[-1],
        seed=0,  # the weights are overwritten; the global random state is left alone
    )
    for layer, linear in zip(model.layers, linears):
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = (
            linear.bias.detach().to(torch.float64).tolist()
            if linear.bias is not None
            else [0.0] * linear.out_features
        )
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = b
    return model


def _kind_of(module: Any, kinds: list[Any], position: int) -> Any:
    """Which of `kinds` (torch module classes) `module` is, computing what that class does.

    A subclass is taken when it keeps its base's forward (a Linear with its own
    initialisation, say); one with its own forward is refused, as the MLP would copy
    its weights but not its code.
    """
    for kind in kinds:
        if isinstance(module, kind):
            if type(module).forward is not kind.forward:
                raise ValueError(
                    f"from_torch: module {position} ({type(module).__name__}) is a "
                    f"{kind.__name__} with its own forward, which an MLP cannot copy (it "
                    f"copies weights, not code); use torch.nn.{kind.__name__} itself"
                )
            return kind
    names = ", ".join(kind.__name__ for kind in kinds)
    raise ValueError(
        f"from_torch: module {position} is a {type(module).__name__}; an MLP has only {names}"
    )
