"""scalargrad: a scalar autograd engine to learn, teach and see backpropagation.

>>> from scalargrad import Value
>>> x = Value(3.0, label="x")
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad
8.0
"""

from scalargrad.engine import Value, dot, dots, is_grad_enabled, no_grad, sum, topological_order
from scalargrad.gradcheck import GradcheckError, gradcheck, gradgradcheck

__version__ = "0.1.0"

__all__ = [
    "GradcheckError",
    "Value",
    "__version__",
    "dot",
    "dots",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "no_grad",
    "sum",
    "topological_order",
]
