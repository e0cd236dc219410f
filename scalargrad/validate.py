"""The checks every module makes of what a user passes in, written once.

Each raises the exception a learner can act on, naming where the value went and what
it was: `TypeError` for the wrong kind of thing, `ValueError` for a wrong value.
"""

from __future__ import annotations

import numbers


def real_number(x: object, where: str) -> float:
    """`x` as a float, or a TypeError naming `where` if it is not a real number.

    >>> real_number(3, "Value")
    3.0
    """
    if type(x) is float:
        return x
    if type(x) is int:
        return _int_to_float(x, where)
    # bool is an int to Python, but True * x is nearly always a bug in a learner's code.
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{where}: expected a real number (int or float) or a Value, "
            f"got {x!r} of type {type(x).__name__}"
        )
    if isinstance(x, numbers.Integral):
        return _int_to_float(int(x), where)
    return float(x)


def _int_to_float(n: int, where: str) -> float:
    try:
        return float(n)
    except OverflowError:
        raise OverflowError(
            f"{where}: an int of {n.bit_length()} bits is too large for a float "
            f"(the largest is about 1.8e308)"
        ) from None
