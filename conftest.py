"""Docstring examples that need an optional package are skipped, saying so, where it is missing.

The examples run as tests (`--doctest-modules` in pyproject.toml); this file sits at the
root because they live in scalargrad/, beside no test directory.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent / "scalargrad"
# module file -> (the optional package its examples import, how to install it)
NEEDS = {PACKAGE / "torch_bridge.py": ("torch", "pip install 'scalargrad[torch]'")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the examples of a module whose optional package is not installed as skipped."""
    for item in items:
        need = NEEDS.get(item.path)
        if need is not None and importlib.util.find_spec(need[0]) is None:
            item.add_marker(pytest.mark.skip(reason=f"needs {need[0]}: {need[1]}"))
