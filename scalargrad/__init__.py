"""scalargrad: a scalar autograd engine to learn, teach and see backpropagation.

>>> from scalargrad import Value
>>> x = Value(3.0, label="x")
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
8.0

The pictures live in `scalargrad.viz` (imported on its own, as it loads matplotlib);
datasets, losses and optimizers in `scalargrad.data`, `.losses` and `.optim`.
`scalargrad.sum` (one fused node) and `scalargrad.compile` are left out of `__all__`,
so that `from scalargrad import *` does not replace Python's own `sum` and `compile`.
"""

from scalargrad.compile import compile as compile  # likewise: Python has its own compile
from scalargrad.engine import (
    Value,
    dot,
    dots,
    gradients,
    is_grad_enabled,
    no_grad,
    topological_order,
)
from scalargrad.engine import sum as sum  # public, but not in __all__ (see above)
from scalargrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from scalargrad.modelfile import load, save
from scalargrad.nn import MLP, Layer, Module, Neuron
from scalargrad.train import History, accuracy, fit, predict

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "GradcheckError",
    "History",
    "Layer",
    "Module",
    "Neuron",
    "Value",
    "__version__",
    "accuracy",
    "dot",
    "dots",
    "fit",
    "gradcheck",
    "gradgradcheck",
    "gradients",
    "is_grad_enabled",
    "load",
    "no_grad",
    "predict",
    "save",
    "topological_order",
]
