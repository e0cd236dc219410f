"""Neural networks on the engine: `Module`, `Neuron`, `Layer`, `MLP`.

Lecture code runs as it is:

>>> model = MLP(2, [16, 16, 1], seed=0)
>>> score = model([0.5, -1.0])          # one output: a Value
>>> score.backward()
>>> model.zero_grad()
>>> for p in model.parameters():
...     p.data -= 0.01 * p.grad

A neuron's weighted sum `w . x + b` is one fused node (`scalargrad.dot`), so a
training graph has one node per neuron and sample, plus one per activation.
Parameters are labelled with their names ("L1.N3.w0": layer 1, neuron 3, weight 0)
once, when the model is made, so pictures of the graph say what each leaf is.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from scalargrad import ops, validate
from scalargrad.engine import Value, dot, dots

# The op table's activations, and "linear" for none.
ACTIVATIONS = (*ops.ACTIVATIONS, "linear")
INITS = ("uniform", "xavier", "kaiming")

# The Value method each activation applies; "linear" applies none.
_ACTIVATION_OPS: dict[str, Callable[[Value], Value] | None] = {
    **{name: vars(Value)[name] for name in ops.ACTIVATIONS},
    "linear": None,
}


class RandomSource(Protocol):
    """What weight init draws from: the `random` module or a `random.Random`."""

    def uniform(self, a: float, b: float) -> float: ...


def _random_source(seed: int | random.Random | None) -> RandomSource:
    """None: the global `random` state (so `random.seed(...)` works as in micrograd);
    an int: a private generator seeded with it; a `random.Random`: that generator."""
    if seed is None:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be an int, a random.Random or None, got {seed!r} "
            f"of type {type(seed).__name__}"
        )
    return random.Random(int(seed))


def _init_bound(init: str, fan_in: int, fan_out: int) -> float:
    """Weights are drawn uniformly from [-bound, bound]."""
    if init == "uniform":  # micrograd's choice
        return 1.0
    if init == "xavier":  # Glorot & Bengio: keeps the variance of signals and gradients
        return math.sqrt(6.0 / (fan_in + fan_out))
    if init == "kaiming":  # He et al.: keeps the variance through relu layers
        return math.sqrt(6.0 / fan_in)
    raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")


def _resolve_activation(activation: str | None, nonlin: bool | None, default: str) -> str:
    """The activation name from `activation=` or micrograd's `nonlin=` (relu or linear)."""
    if activation is not None and nonlin is not None:
        raise ValueError("give activation= or nonlin=, not both")
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            raise TypeError(f"nonlin must be True or False, got {nonlin!r}")
        return "relu" if nonlin else "linear"
    if activation is None:
        return default
    if isinstance(activation, bool):
        raise TypeError(
            f"activation must be a name such as 'relu', got {activation!r}; "
            f"for micrograd's switch write nonlin={activation!r}"
        )
    if activation not in _ACTIVATION_OPS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    return activation


def _as_inputs(x: Any, nin: int, who: str) -> list[Value]:
    """One sample's inputs as Values, made once per forward pass, not once per neuron.

    Accepts a sequence (list, tuple, NumPy row) of numbers or Values; a lone number
    or Value stands for a one-element sample, as a one-output Layer returns one.
    """
    if isinstance(x, Value):
        xs: list[Value] = [x]
    elif isinstance(x, numbers.Real) and not isinstance(x, bool):
        xs = [Value(float(x))]
    else:
        validate.ordered(x, who, "the input")
        try:
            xs = [v if isinstance(v, Value) else Value(v) for v in x]
        except TypeError as error:
            if not hasattr(x, "__iter__"):
                raise TypeError(
                    f"{who} takes a sequence of {nin} numbers or Values, "
                    f"got {x!r} of type {type(x).__name__}"
                ) from None
            raise TypeError(f"{who}: {error}") from None
    if len(xs) != nin:
        raise ValueError(f"{who} takes {nin} inputs, got {len(xs)}")
    return xs


class Module:
    """The base of every model: its parameters, their names, and their state."""

    # The width of an input sample and of the output.
    nin: int
    nout: int

    def __call__(self, x: Any) -> Value | list[Value]:
        raise NotImplementedError

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        return [p for _, child in self._named_children() for p in child.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, parameter) pairs, in the order of `parameters()`; e.g. "L1.N3.w0"."""
        return [
            (f"{prefix}.{name}", p)
            for prefix, child in self._named_children()
            for name, p in child.named_parameters()
        ]

    def _named_children(self) -> list[tuple[str, Module]]:
        return []

    def _label_parameters(self) -> None:
        # Once per model, not per step: the names cost nothing while training.
        for name, p in self.named_parameters():
            p.label = name

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0 (backward accumulates into them)."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        """How many trainable scalars the model has."""
        return len(self.parameters())

    def state_dict(self) -> dict[str, float]:
        """The parameters' values by name: {"L0.N0.w0": 0.23, ...}."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set the parameters from a `state_dict()`; all or nothing.

        The names must match exactly (ValueError names the missing and unexpected
        ones) and the values must be finite real numbers (TypeError, ValueError).
        Everything is checked before anything is assigned, so a bad state leaves the
        model as it was.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict takes a mapping, got {type(state).__name__}")
        named = self.named_parameters()
        names = [name for name, _ in named]
        missing = [name for name in names if name not in state]
        unexpected = sorted(set(state) - set(names), key=str)
        if missing or unexpected:
            problems = []
            if missing:
                problems.append(f"missing {_some(missing)}")
            if unexpected:
                problems.append(f"unexpected {_some(unexpected)}")
            raise ValueError(
                f"load_state_dict: state does not fit the model: {'; '.join(problems)}"
            )
        values = [
            validate.finite_number(state[name], f"load_state_dict[{name!r}]") for name in names
        ]
        for (_, p), value in zip(named, values):
            p.data = value


def decision_threshold(model: object) -> float:
    """The output above which a one-output model predicts the positive class: 0.5 when
    its last layer is a sigmoid (the output is a probability), else 0.0 (a score).

    >>> decision_threshold(MLP(2, [4, 1], "tanh", "sigmoid"))
    0.5
    """
    last = model.layers[-1] if isinstance(model, MLP) else model
    return 0.5 if getattr(last, "activation", "linear") == "sigmoid" else 0.0


def _some(names: Sequence[object], shown: int = 5) -> str:
    listed = ", ".join(repr(name) for name in names[:shown])
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{listed}{more}"


class Neuron(Module):
    """activation(w . x + b): `nin` weights and a bias, made as one fused node.

    Weights start uniform in [-1, 1] as in micrograd; `init="xavier"` draws from
    +-sqrt(6 / (nin + fan_out)) and `init="kaiming"` from +-sqrt(6 / nin), where
    `fan_out` is the width of the layer the neuron belongs to. The bias starts at 0.
    `seed` is an int, a `random.Random`, or None for the global `random` state.
    """

    w: list[Value]
    b: Value

    def __init__(
        self,
        nin: int,
        activation: str | None = None,
        *,
        nonlin: bool | None = None,
        init: str = "uniform",
        seed: int | random.Random | None = None,
        fan_out: int = 1,
    ) -> None:
        self.nin = validate.count(nin, "Neuron", "nin")
        self.nout = 1
        self._activation = _resolve_activation(activation, nonlin, default="relu")
        self._activate = _ACTIVATION_OPS[self._activation]
        bound = _init_bound(init, self.nin, validate.count(fan_out, "Neuron", "fan_out"))
        rng = _random_source(seed)
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(self.nin)]
        self.b = Value(0.0)
        self._label_parameters()

    # Read-only: the forward pass is wired to the activation when the neuron is made,
    # so changing the name afterwards would silently mislabel it.
    @property
    def activation(self) -> str:
        """The activation's name: "relu", "tanh", "sigmoid" or "linear"."""
        return self._activation

    @property
    def nonlin(self) -> bool:
        """micrograd's name: True when the neuron applies a nonlinearity."""
        return self.activation != "linear"

    def __call__(self, x: Any) -> Value:
        """The neuron's output for one sample of `nin` numbers or Values."""
        return self._forward(_as_inputs(x, self.nin, repr(self)))

    def _forward(self, xs: Sequence[Value]) -> Value:
        out = dot(self.w, xs, self.b)
        return out if self._activate is None else self._activate(out)

    def parameters(self) -> list[Value]:
        """The weights, then the bias."""
        return [*self.w, self.b]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """("w0", w[0]), ..., ("b", b)."""
        return [*((f"w{i}", w) for i, w in enumerate(self.w)), ("b", self.b)]

    def __repr__(self) -> str:
        name = "ReLU" if self.activation == "relu" else self.activation.capitalize()
        return f"{name}Neuron({self.nin})"


class Layer(Module):
    """`nout` neurons, each seeing the same `nin` inputs."""

    neurons: list[Neuron]

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = None,
        *,
        nonlin: bool | None = None,
        init: str = "uniform",
        seed: int | random.Random | None = None,
    ) -> None:
        self.nin = validate.count(nin, "Layer", "nin")
        self.nout = validate.count(nout, "Layer", "nout")
        self._activation = _resolve_activation(activation, nonlin, default="relu")
        rng = _random_source(seed)
        self.neurons = [
            Neuron(self.nin, self._activation, init=init, seed=_as_seed(rng), fan_out=self.nout)
            for _ in range(nout)
        ]
        self._label_parameters()

    @property
    def activation(self) -> str:
        """The activation every neuron of the layer applies."""
        return self._activation

    def __call__(self, x: Any) -> Value | list[Value]:
        """The layer's outputs for one sample: a list, or a Value when `nout` is 1."""
        out = self._forward(_as_inputs(x, self.nin, repr(self)))
        return out[0] if len(out) == 1 else out

    def _forward(self, xs: Sequence[Value]) -> list[Value]:
        # One dots call makes the same nodes as one dot per neuron, reading xs once.
        neurons = self.neurons
        sums = dots([n.w for n in neurons], xs, [n.b for n in neurons])
        return [out if n._activate is None else n._activate(out) for n, out in zip(neurons, sums)]

    def _named_children(self) -> list[tuple[str, Module]]:
        return [(f"N{i}", neuron) for i, neuron in enumerate(self.neurons)]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


def _as_seed(rng: RandomSource) -> random.Random | None:
    """Hand a parent's generator to its children, so one seed makes the whole model."""
    return rng if isinstance(rng, random.Random) else None


class MLP(Module):
    """A multi-layer perceptron: `MLP(2, [16, 16, 1])`.

    Hidden layers apply `activation` (relu by default; a list gives one per hidden
    layer), the last layer `output_activation` (linear by default), so a model
    outputs scores (logits). Called on one sample it returns a Value when it has
    one output, a list of Values otherwise.
    """

    layers: list[Layer]
    nouts: list[int]

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Sequence[str] = "relu",
        output_activation: str = "linear",
        *,
        init: str = "uniform",
        seed: int | random.Random | None = None,
    ) -> None:
        self.nin = validate.count(nin, "MLP", "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Iterable):
            raise TypeError(f"nouts must be a list of layer widths, got {nouts!r}")
        self.nouts = [validate.count(n, "MLP", "each layer width in nouts") for n in nouts]
        if not self.nouts:
            raise ValueError("nouts must name at least one layer, e.g. MLP(2, [16, 16, 1])")
        hidden = len(self.nouts) - 1
        if isinstance(activation, str):
            activations = [activation] * hidden
        else:
            activations = list(activation)
            if len(activations) != hidden:
                raise ValueError(
                    f"activation lists one name per hidden layer: {hidden} for "
                    f"nouts={self.nouts}, got {len(activations)}"
                )
        activations.append(output_activation)
        rng = _random_source(seed)
        sizes = [self.nin, *self.nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activations[i], init=init, seed=_as_seed(rng))
            for i in range(len(self.nouts))
        ]
        self.nout = self.nouts[-1]
        self._label_parameters()

    @property
    def activations(self) -> list[str]:
        """Each layer's activation, the output layer's last."""
        return [layer.activation for layer in self.layers]

    def __call__(self, x: Any) -> Value | list[Value]:
        """The model's output for one sample: a Value if it has one output, else a list."""
        xs: list[Value] = _as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    def _named_children(self) -> list[tuple[str, Module]]:
        return [(f"L{i}", layer) for i, layer in enumerate(self.layers)]

    def __repr__(self) -> str:
        layers = "".join(f"\n  L{i}: {layer!r}" for i, layer in enumerate(self.layers))
        return f"MLP({self.nin}, {self.nouts}){layers}"
