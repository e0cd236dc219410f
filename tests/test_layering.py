"""Imports point one way: engine <- nn <- losses/optim <- train <- demo <- cli, and
formula <- formula_graph <- cli; viz reads engine/nn. No cycle anywhere, lazy imports
(inside functions) included."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import scalargrad

PACKAGE = Path(scalargrad.__file__).parent

# What each module may import from scalargrad at module level.
ALLOWED = {
    "validate": set(),
    "oplang": set(),
    "ops": {"oplang"},
    "engine": {"ops", "validate"},
    "data": {"validate"},
    "gradcheck": {"engine", "validate"},
    "nn": {"engine", "ops", "validate"},
    "losses": {"engine", "validate"},
    "optim": {"engine", "validate"},
    "train": {"engine", "nn", "losses", "optim", "data", "validate"},
    "safe_write": set(),
    "modelfile": {"engine", "nn", "safe_write", "validate"},
    "torch_bridge": {"engine", "nn"},
    "formula": {"engine", "ops"},
    "demo": {"engine", "nn", "losses", "optim", "train", "data", "modelfile", "safe_write", "viz"},
    # The compiler, split along its seams: trace <- expressions <- scalar <- packs <-
    # batch <- compiled <- training, reading only the engine and the op table below them.
    "compile.trace": {"engine", "ops", "oplang"},
    "compile.expressions": {"ops", "oplang"},
    "compile.scalar": {"compile.expressions", "compile.trace", "ops"},
    "compile.packs": {"compile.trace", "ops"},
    "compile.batch": {
        "compile.expressions", "compile.packs", "compile.scalar", "compile.trace", "ops",
    },
    "compile.compiled": {
        "compile.batch", "compile.expressions", "compile.packs", "compile.scalar",
        "compile.trace", "engine",
    },
    "compile.training": {
        "compile.batch", "compile.compiled", "compile.packs", "compile.trace", "engine", "ops",
    },
    "compile": {"compile.compiled", "compile.trace", "compile.training"},
    "formula_graph": {"compile", "engine", "formula", "safe_write", "validate", "viz", "viz.graph"},
    # The command line loads demo and formula_graph (and so viz) only when it runs one.
    "cli": {"formula", "optim", "validate"},
    "viz.graph": {"engine", "safe_write"},
    "viz.html": {"engine", "ops", "oplang", "safe_write", "viz.graph"},
    "viz.steps": {"engine", "safe_write", "viz.graph", "viz.html"},
    "viz.mlp": {"engine", "nn", "viz.graph"},
    "viz.plots": {"engine", "nn"},
    "viz.live": {"viz.mlp", "viz.plots"},
    "exercises": {"engine", "gradcheck"},
}


def module_name(path: Path) -> str:
    """'viz.graph' for scalargrad/viz/graph.py, 'viz' for scalargrad/viz/__init__.py."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "scalargrad"


def scalargrad_imports(path: Path, module_level_only: bool) -> set[str]:
    """The scalargrad modules that a file imports ('nn', 'viz.graph', ...).

    `from scalargrad import validate` counts as importing 'validate'.
    """
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "scalargrad":
                found |= {
                    alias.name
                    for alias in node.names
                    if (PACKAGE / alias.name).exists() or (PACKAGE / f"{alias.name}.py").exists()
                }
                continue
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
        if not path.exists():  # a package: its __init__ re-exports its modules
            path = PACKAGE / module.replace(".", "/") / "__init__.py"
        assert scalargrad_imports(path, module_level_only=True) <= allowed, module


def test_the_import_graph_has_no_cycle_even_through_imports_inside_functions() -> None:
    """Every import of every module, at any depth, points one way."""
    graph = {
        module_name(path): scalargrad_imports(path, module_level_only=False) - {"scalargrad"}
        for path in PACKAGE.rglob("*.py")
    }
    # A package's __init__ re-exports its modules; it is above them, not beside them.
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_nn_does_not_import_train_at_all() -> None:
    """nn is below train: not even a lazy import points up."""
    assert "train" not in scalargrad_imports(PACKAGE / "nn.py", module_level_only=False)


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
