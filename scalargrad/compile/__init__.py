"""From scalars to matrices: trace a graph once, show its passes as code, run them fast.

`compile(f, example_inputs, parameters)` calls `f` once on Values and records the
graph it builds. From that graph it writes two programs, each op's forward and each
edge's derivative read from the op table (`scalargrad.ops`), never written again:

- `.source`: straight-line Python on floats, one line per node, then the chain rule
  backwards, one line per edge (`g_h1 += g_o * (1.0 - o * o)`);
- `.numpy_source`: the same graph over a whole batch in NumPy, each scalar node a
  column over the samples, each layer's weighted sums one matrix product
  (`Z1 = X @ W1.T + b1`, `dW1 += dZ1.T @ X`).

>>> from scalargrad import Value
>>> w = Value(-3.0, label="w")
>>> f = compile(lambda x: (x * w).tanh(), [0.5], [w])
>>> result = f(0.5)
>>> round(result.output, 6), [round(g, 6) for g in result.parameter_grads]
(-0.905148, [0.090353])

Tracing freezes Python control flow, as `jax.jit` and `torch.jit.trace` do: an `if`
on `x.data`, a loop whose length depends on the data, or a number read from `.data`
(such as the shift in a log-sum-exp) takes the path and the value it had on the
example inputs, for every later call. `check=n` compares the first `n` calls with
the eager engine and raises `TraceMismatchError` where they part.
"""

from scalargrad.compile.compiled import BatchResult, Compiled, Result, compile, source
from scalargrad.compile.trace import TraceMismatchError
from scalargrad.compile.training import TrainingStep

__all__ = [
    "BatchResult", "Compiled", "Result", "TraceMismatchError", "TrainingStep", "compile", "source",
]
