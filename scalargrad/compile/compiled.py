"""The compiled function: `compile`, its `.source`, `.numpy_source` and `.batch`."""

from __future__ import annotations

import builtins
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from scalargrad.compile.batch import BatchProgram
from scalargrad.compile.expressions import _PYTHON_NAMESPACE
from scalargrad.compile.packs import _layout
from scalargrad.compile.scalar import _scalar_program
from scalargrad.compile.trace import Graph, TraceMismatchError, _identifier, _scalar_names, trace
from scalargrad.engine import Value, is_grad_enabled, topological_order


class Result(NamedTuple):
    """What a compiled function returns: the output and its gradients."""

    output: float
    input_grads: tuple[float, ...]
    parameter_grads: tuple[float, ...]


class BatchResult(NamedTuple):
    """A compiled function over a batch: one row per sample; parameter gradients summed."""

    outputs: Any  # shape (samples,)
    input_grads: Any  # shape (samples, inputs)
    parameter_grads: Any  # shape (parameters,), summed over the samples


class Compiled:
    """A function traced once and compiled; see `compile`."""

    def __init__(
        self,
        function: Callable[..., Value],
        graph: Graph,
        input_names: list[str],
        parameters: list[Value],
        check: int,
    ) -> None:
        self.function = function
        self.graph = graph
        self.input_names = input_names
        self.parameters = parameters
        self.checks_left = check
        names = _scalar_names(graph, input_names)
        parameter_names = [
            names[i] if i is not None else _identifier(p.label or f"p{k}", set(names))
            for k, (i, p) in enumerate(zip(graph.parameters, parameters))
        ]
        input_args = [
            names[i] if i is not None else _identifier(name, set(names))
            for i, name in zip(graph.inputs, input_names)
        ]
        self.source: str = _scalar_program(graph, names, input_args, parameter_names)
        namespace = dict(_PYTHON_NAMESPACE)
        exec(builtins.compile(self.source, "<scalargrad compiled>", "exec"), namespace)
        self._run: Callable[..., tuple[float, tuple[float, ...], tuple[float, ...]]] = namespace[
            "forward_backward"
        ]
        self._batch: BatchProgram | None = None

    def __call__(self, *inputs: float) -> Result:
        """The output and the gradients for these inputs, parameters at their current `.data`."""
        numbers = self._checked(inputs)
        output, input_grads, parameter_grads = self._run(
            *numbers, *(p.data for p in self.parameters)
        )
        result = Result(output, input_grads, parameter_grads)
        if self.checks_left > 0:
            self.checks_left -= 1
            self._compare_with_eager(numbers, result)
        return result

    def _checked(self, inputs: Sequence[float]) -> list[float]:
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f"compiled function: traced with {len(self.input_names)} inputs "
                f"({', '.join(self.input_names)}), called with {len(inputs)}; compile it "
                f"again for inputs of another shape"
            )
        numbers = []
        for name, x in zip(self.input_names, inputs):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise TypeError(
                    f"compiled function: input {name} must be a number, got {x!r} of type "
                    f"{type(x).__name__}"
                )
            numbers.append(float(x))
        return numbers

    def _compare_with_eager(self, numbers: list[float], result: Result) -> None:
        inputs = [Value(x, label=name) for x, name in zip(numbers, self.input_names)]
        root = self.function(*inputs)
        graph = trace([root], inputs, self.parameters)
        if graph.structure() != self.graph.structure():
            raise TraceMismatchError(
                f"compiled function: on inputs {numbers} the function builds another graph "
                f"({len(graph.nodes)} nodes, traced with {len(self.graph.nodes)}): Python "
                f"control flow (an if or a loop on .data) was frozen when tracing; compile "
                f"it for these inputs, or call it eagerly"
            )
        grads = _eager_gradients(root)
        eager = [
            ("the output", root.data, result.output),
            *((f"d/d{n}", grads.get(id(v), 0.0), g)
              for n, v, g in zip(self.input_names, inputs, result.input_grads)),
            *((f"d/d{p.label or k}", grads.get(id(p), 0.0), g)
              for k, (p, g) in enumerate(zip(self.parameters, result.parameter_grads))),
        ]  # fmt: skip
        _refuse_disagreement(
            eager,
            f"compiled function: on inputs {numbers}, ",
            ": a number read from .data while tracing was frozen; compile it for these "
            "inputs, or call it eagerly",
        )

    @property
    def numpy_source(self) -> str:
        """The NumPy code that runs this function over a batch (see `batch`)."""
        return self._batch_program().source

    def _batch_program(self) -> BatchProgram:
        if self._batch is None:
            self._batch = BatchProgram(self.graph, _layout(self.graph), want_input_grads=True)
            self._layout = _layout(self.graph)
        return self._batch

    def batch(self, X: Any) -> BatchResult:
        """The function on every row of `X` at once, with NumPy: the outputs and input
        gradients per row, and the parameter gradients summed over the rows.

        >>> from scalargrad import Value
        >>> w = Value(2.0, label="w")
        >>> f = compile(lambda x: x * w, [1.0], [w])
        >>> f.batch([[1.0], [3.0]]).parameter_grads.tolist()
        [4.0]
        """
        import numpy as np

        program = self._batch_program()
        rows = np.asarray(X, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != len(self.input_names):
            raise ValueError(
                f"compiled function: batch must have one row of {len(self.input_names)} "
                f"inputs per sample, got an array of shape {rows.shape}"
            )
        order = self._layout.order
        theta = np.array([self.parameters[k].data for k in order], dtype=float)
        grad = np.zeros_like(theta)
        outputs, saved = program.forward(rows, theta)
        seeds = float(rows.shape[0]) if program.output_is_shared else np.ones((rows.shape[0], 1))
        input_grads = program.backward(saved, seeds, grad)
        parameter_grads = np.empty_like(grad)
        parameter_grads[order] = grad
        outputs = np.broadcast_to(np.reshape(outputs, (-1, 1))[:, 0], (rows.shape[0],))
        return BatchResult(outputs, input_grads, parameter_grads)


def _eager_gradients(root: Value) -> dict[int, float]:
    from scalargrad.engine import gradients

    return {id(v): g for v, g in gradients(root).items()}


def _refuse_disagreement(
    checks: Sequence[tuple[str, float, float]], where: str, advice: str
) -> None:
    """Raise TraceMismatchError at the first (what, eager, compiled) that disagree."""
    for what, expected, got in checks:
        if not _close(expected, got):
            raise TraceMismatchError(
                f"{where}{what} is {got!r} compiled but {expected!r} eagerly{advice}"
            )


def _close(expected: float, got: float) -> bool:
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    return abs(expected - got) <= 1e-9 * max(1.0, abs(expected))


def compile(
    function: Callable[..., Value],
    example_inputs: Sequence[float],
    parameters: Sequence[Value] = (),
    *,
    check: int = 0,
) -> Compiled:
    """Trace `function(*inputs)` once on `example_inputs` and compile its graph.

    The result, called with numbers, returns the output and the gradients with
    respect to each input and each of `parameters` (read at their current `.data`),
    equal to eager `backward()`. `.source` shows the forward and backward passes as
    Python; `.batch(X)` runs them over the rows of X with NumPy (`.numpy_source`).
    Python control flow is frozen when tracing; `check=n` compares the first n calls
    with the eager engine.

    >>> f = compile(lambda x, y: x * y + x.tanh(), [1.0, 2.0])
    >>> print(f.source)  # doctest: +NORMALIZE_WHITESPACE
    def forward_backward(x, y):
        # forward: one line per node
        h1 = x * y
        h2 = tanh(x)
        o = h1 + h2
        # backward: the chain rule, one line per edge, newest node first
        g_o = 1.0
        g_h1 = g_o
        g_h2 = g_o
        g_x = g_h2 * (1.0 - h2 * h2)
        g_x += g_h1 * y
        g_y = g_h1 * x
        return o, (g_x, g_y), ()
    """
    if not is_grad_enabled():
        raise RuntimeError("compile: tracing records a graph, which no_grad() switches off")
    params = list(parameters)
    for k, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"compile: parameters must be Values, got {p!r} at position {k}")
    names = _input_names(function, len(example_inputs))
    for name, x in zip(names, example_inputs):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(
                f"compile: example input {name} must be a number, got {x!r} of type "
                f"{type(x).__name__}"
            )
    inputs = [Value(float(x), label=name) for x, name in zip(example_inputs, names)]
    root = function(*inputs)
    if not isinstance(root, Value):
        raise TypeError(
            f"compile: the function must return one Value (a loss, a score), got "
            f"{type(root).__name__}; for several outputs, compile a function of each"
        )
    return Compiled(function, trace([root], inputs, params), names, params, check)


def _input_names(function: Callable[..., Any], count: int) -> list[str]:
    """The function's own argument names where it has them, else x0, x1, ..."""
    try:
        arguments = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        arguments = []
    positional = [
        a.name for a in arguments
        if a.kind in (a.POSITIONAL_ONLY, a.POSITIONAL_OR_KEYWORD)
    ]  # fmt: skip
    if len(positional) == count and all(a.kind != a.VAR_POSITIONAL for a in arguments):
        return positional
    return [f"x{i}" for i in range(count)]


def source(root: Value, inputs: Sequence[Value] = ()) -> str:
    """The forward and backward passes of `root`'s graph as Python: what `scalargrad
    graph FORMULA --code` prints. Labelled leaves are inputs; other leaves, numbers.

    >>> from scalargrad import Value
    >>> x = Value(0.5, label="x")
    >>> print(source((x * 2).tanh()).splitlines()[2])
        h1 = x * 2.0
    """
    leaves = list(inputs) or [v for v in topological_order(root) if not v.parents and v.label]
    graph = trace([root], leaves)
    names = _scalar_names(graph, [v.label for v in leaves])
    args = [names[i] for i in graph.inputs if i is not None]
    return _scalar_program(graph, names, args, [])


