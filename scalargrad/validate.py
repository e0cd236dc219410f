"""The checks every module makes of what a user passes in, written once.

Each raises the exception a learner can act on, naming where the value went and what
it was: `TypeError` for the wrong kind of thing, `ValueError` for a wrong value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any


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


def count(n: object, where: str, name: str) -> int:
    """`n` as an int of at least 1 (NumPy's ints too), or the error naming `name`.

    >>> count(3, "MLP", "nin")
    3
    """
    rule = f"{where}: {name} must be an int of at least 1, got {n!r}"
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{rule} of type {type(n).__name__}")
    if n < 1:
        raise ValueError(rule)
    return int(n)


def integer(n: object, where: str, name: str) -> int:
    """`n` as an int (NumPy's ints too, not a bool), or a TypeError naming `name`.

    >>> integer(-2, "fit", "seed")
    -2
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {n!r} of type {type(n).__name__}")
    return int(n)


def non_negative(x: object, where: str, name: str) -> float:
    """`x` as a finite float >= 0, or the error naming `name`.

    >>> non_negative(0.5, "SGD", "momentum")
    0.5
    """
    value = _hyperparameter(x, where, name)
    if value == math.inf:
        raise ValueError(f"{where}: {name} must be a finite number, got {x!r}")
    if not value >= 0.0:  # also refuses NaN
        raise ValueError(f"{where}: {name} must be >= 0, got {x!r}")
    return value


def decay_rate(x: object, where: str, name: str) -> float:
    """`x` as a float in [0, 1), the range of a running average's decay, or the error.

    >>> decay_rate(0.9, "Adam", "betas[0]")
    0.9
    """
    value = _hyperparameter(x, where, name)
    if not 0.0 <= value < 1.0:  # also refuses NaN
        raise ValueError(f"{where}: {name} must be in [0, 1), got {x!r}")
    return value


def _hyperparameter(x: object, where: str, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{where}: {name} must be a number, got {x!r} of type {type(x).__name__}")
    return float(x)


def finite_number(x: object, where: str) -> float:
    """`x` as a finite float, or the error naming `where` (TypeError, ValueError).

    >>> finite_number(2, "load_state_dict['w0']")
    2.0
    """
    value = real_number(x, where)
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    return value


def samples(where: str, X: Any, y: Any | None) -> tuple[list[Any], list[Any]]:
    """X and y as plain lists (NumPy arrays included), paired and non-empty (y may be
    None, for predictions: then the list of targets is empty).

    A set or a dict is refused: its order is not the order the samples were given in.

    >>> samples("fit", [[0.0], [1.0]], [0, 1])
    ([[0.0], [1.0]], [0, 1])
    """
    rows = _as_list(where, "X", X)
    if not rows:
        raise ValueError(f"{where}: X is empty; give at least one sample")
    if y is None:
        return rows, []
    labels = _as_list(where, "y", y)
    if len(rows) != len(labels):
        raise ValueError(f"{where}: X has {len(rows)} samples but y has {len(labels)} targets")
    return rows, labels


def ordered(x: Any, where: str, name: str) -> None:
    """A TypeError if `x` is a set or a mapping, whose order is not the one meant."""
    if isinstance(x, (Set, Mapping)):
        raise TypeError(
            f"{where}: {name} is a {type(x).__name__}, which has no fixed order; "
            f"pass a list or a tuple"
        )


def _as_list(where: str, name: str, items: Any) -> list[Any]:
    ordered(items, where, name)
    if hasattr(items, "tolist"):
        listed: list[Any] = items.tolist()
        return listed
    try:
        return list(items)
    except TypeError:
        raise TypeError(
            f"{where}: {name} must be a list (or a NumPy array), got {items!r} of type "
            f"{type(items).__name__}"
        ) from None


# ---- numbers and names typed on the command line ---------------------------------------


def finite_text(text: str) -> float:
    """The finite number written in `text`, or a ValueError saying what `text` is not.

    >>> finite_text("-1.2")
    -1.2
    """
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {text}")
    return number


def positive_text(text: str) -> float:
    """The number greater than 0 written in `text`, or a ValueError (a learning rate).

    >>> positive_text("0.05")
    0.05
    """
    number = finite_text(text)
    if number <= 0.0:
        raise ValueError(f"must be greater than 0, got {text}")
    return number


def count_text(text: str) -> int:
    """The whole number of at least 1 written in `text`, or a ValueError (a step count).

    >>> count_text("100")
    100
    """
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise ValueError(f"must be at least 1, got {number}")
    return number


def path_text(text: str) -> Path:
    """The file or folder named in `text`, or a ValueError if it names none: an empty
    name would quietly mean the current folder.

    >>> path_text("out")
    PosixPath('out')
    """
    if not text.strip():
        raise ValueError("is empty; give a file or folder name")
    return Path(text)
