"""The line every benchmark prints first, so its figures are quoted with the machine."""

from __future__ import annotations

import os
import platform
import sys

import scalargrad


def describe() -> str:
    """'scalargrad 0.1.0, Python 3.11.7, x86_64, 2 CPUs, linux'."""
    return (
        f"scalargrad {scalargrad.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {sys.platform}"
    )
