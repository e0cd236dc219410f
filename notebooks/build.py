"""Build the notebooks from their sources in notebooks/src/, and run them.

Each source is a plain Python script in the "percent" format (the one jupytext reads):
`# %%` starts a code cell, `# %% [markdown]` a markdown cell whose lines are
comments. This script turns each into a .ipynb beside this file, runs it top to
bottom in a fresh `python3` kernel, and writes it back with its outputs, so the
pictures show when the repository is browsed.

    .venv/bin/python notebooks/build.py              # every notebook
    .venv/bin/python notebooks/build.py 02 05        # those whose names start so
    .venv/bin/python notebooks/build.py --check      # are the .ipynb cells the sources'?

Edit the sources, not the .ipynb files: a build overwrites them.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
KERNEL = "python3"
# Each notebook must finish well inside the 60 s the issue allows; this catches a hang.
CELL_TIMEOUT = 120
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")


def cells_of(source: str) -> list[tuple[str, str]]:
    """(kind, text) for each cell of a percent-format script; kind is 'code' or 'markdown'."""
    cells: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        marker = _MARKER.match(line)
        if marker:
            cells.append(("markdown" if marker["markdown"] else "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"code before the first '# %%' marker: {line!r}")
    result = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        text = "\n".join(lines).strip("\n")
        if text:
            result.append((kind, text))
    return result


def _uncomment(line: str) -> str:
    if line in ("#", ""):
        return ""
    if not line.startswith("# "):
        raise ValueError(f"a markdown line must start with '# ': {line!r}")
    return line[2:]


def notebook_of(source_path: Path) -> nbformat.NotebookNode:
    """The unexecuted notebook for one source file, with stable cell ids."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {
            "name": KERNEL,
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        },
        "language_info": {"name": "python"},
    }
    for index, (kind, text) in enumerate(cells_of(source_path.read_text(encoding="utf-8"))):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        # Ids from the position, not random, so a rebuild changes only what changed.
        notebook.cells.append(make(text, id=f"cell-{index:02d}"))
    return notebook


def build(source_path: Path, execute: bool = True) -> float:
    """Write the .ipynb for one source, run it if `execute`; the seconds the run took."""
    notebook = notebook_of(source_path)
    start = time.perf_counter()
    if execute:
        client = NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=CELL_TIMEOUT,
            record_timing=False,
            resources={"metadata": {"path": str(HERE)}},
        )
        client.execute()
    seconds = time.perf_counter() - start
    notebook = _with_stable_widget_ids(notebook, source_path.stem)
    nbformat.validate(notebook)
    target = HERE / f"{source_path.stem}.ipynb"
    nbformat.write(notebook, target)
    return seconds


def _with_stable_widget_ids(notebook: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The notebook with each ipywidgets model id (a random uuid) replaced by one made
    from the notebook's name and the order of appearance, so a rebuild is a no-op."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return notebook
    text = nbformat.writes(notebook)
    for index, model_id in enumerate(state):
        stable = hashlib.md5(f"{stem}/{index}".encode()).hexdigest()
        text = text.replace(model_id, stable)
    return nbformat.reads(text, as_version=4)


def check(source_path: Path) -> list[str]:
    """What differs between a source and its committed .ipynb (cell kinds and texts)."""
    target = HERE / f"{source_path.stem}.ipynb"
    if not target.exists():
        return [f"{target.name} is missing"]
    committed = nbformat.read(target, as_version=4)
    expected = cells_of(source_path.read_text(encoding="utf-8"))
    found = [(cell.cell_type, cell.source) for cell in committed.cells]
    if found != expected:
        return [f"{target.name} does not match src/{source_path.name}: run notebooks/build.py"]
    unrun = [i for i, cell in enumerate(committed.cells) if _unexecuted(cell)]
    if unrun:
        return [f"{target.name}: cells {unrun} have not been run: run notebooks/build.py"]
    return []


def _unexecuted(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and cell.execution_count is None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="build only notebooks whose names start so")
    parser.add_argument("--check", action="store_true", help="compare, build nothing")
    parser.add_argument("--no-execute", action="store_true", help="write without running")
    options = parser.parse_args(argv)

    sources = sorted(SOURCES.glob("*.py"))
    if options.names:
        sources = [s for s in sources if any(s.stem.startswith(n) for n in options.names)]
    if not sources:
        parser.error(f"no notebook source matches {options.names}")
    if options.check:
        problems = [problem for source in sources for problem in check(source)]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for source in sources:
        seconds = build(source, execute=not options.no_execute)
        size = (HERE / f"{source.stem}.ipynb").stat().st_size
        print(f"{source.stem}.ipynb  {seconds:5.1f} s  {size / 1024:6.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
