"""Imports point one way: engine <- nn <- losses/optim <- train <- cli; viz reads engine/nn."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import scalargrad

PACKAGE = Path(scalargrad.__file__).parent

# What each module may import from scalargrad at module level. Imports inside a
# function (nn's Module.fit loading train when called) are deliberate and lazy.
ALLOWED = {
    "validate": set(),
    "oplang": set(),
    "ops": {"oplang"},
    "engine": {"ops", "validate"},
    "data": set(),
    "gradcheck": {"engine", "validate"},
    "nn": {"engine", "ops", "validate"},
    "losses": {"engine"},
    "optim": {"engine"},
    "train": {"engine", "nn", "losses", "optim", "data"},
    "modelfile": {"engine", "nn"},
    "torch_bridge": {"engine", "nn"},
    "formula": {"engine", "ops"},
    "viz.graph": {"engine"},
    "viz.steps": {"engine", "viz.graph"},
    "viz.mlp": {"engine", "nn", "viz.graph"},
    "viz.plots": {"engine", "nn"},
}


def scalargrad_imports(path: Path, module_level_only: bool) -> set[str]:
    """The scalargrad modules that a file imports ('nn', 'viz.graph', ...)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("scalargrad."):
                found.add(name.removeprefix("scalargrad."))
    return found


def test_each_module_imports_only_the_layers_below_it() -> None:
    """No module imports, at module level, anything its layer may not depend on."""
    for module, allowed in ALLOWED.items():
        path = PACKAGE / (module.replace(".", "/") + ".py")
        assert scalargrad_imports(path, module_level_only=True) <= allowed, module


def test_the_engine_imports_nothing_above_it_anywhere() -> None:
    """engine.py knows nothing of nn, viz or anything else, not even lazily."""
    assert scalargrad_imports(PACKAGE / "engine.py", module_level_only=False) <= {"ops", "validate"}


def test_importing_scalargrad_loads_neither_viz_nor_its_heavy_dependencies() -> None:
    """`import scalargrad` stays light: no viz, matplotlib, graphviz, tqdm or torch."""
    heavy = ["scalargrad.viz", "matplotlib", "graphviz", "tqdm", "torch"]
    code = f"import sys, scalargrad; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
