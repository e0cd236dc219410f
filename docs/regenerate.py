"""Make the pictures in docs/ that the README shows, from the command itself.

    .venv/bin/python docs/regenerate.py

Runs `scalargrad demo` (default options) and `scalargrad graph` on the neuron formula,
then copies the pictures here. Graph pictures are stored with a 64-colour palette, which
keeps every fill and label and makes the files about a quarter of the size.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

DOCS = Path(__file__).resolve().parent
NEURON = ["tanh(x*w + b)", "--set", "x=0.5", "--set", "w=-1.2", "--set", "b=0.3"]


def scalargrad(*args: str) -> None:
    """Run `python -m scalargrad ARGS`, stopping this script if it fails."""
    subprocess.run([sys.executable, "-m", "scalargrad", *args], check=True)


def save_with_palette(source: Path, target: Path) -> None:
    """Copy a PNG with its colours reduced to a 64-colour palette."""
    with Image.open(source) as image:
        indexed = image.convert("RGB").quantize(
            colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    indexed.save(target, optimize=True)


def main() -> None:
    """Write docs/demo_*.png from the demo, and docs/neuron.png and .gif from graph."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        scalargrad("demo", "--no-progress", "--out", str(out))
        shutil.copyfile(out / "loss.png", DOCS / "demo_loss.png")
        shutil.copyfile(out / "decision_boundary.png", DOCS / "demo_decision_boundary.png")
        save_with_palette(out / "graph_after.png", DOCS / "demo_graph_after.png")
        scalargrad("graph", *NEURON, "--out", str(out / "neuron.png"), "--local-grads", "--gif")
        save_with_palette(out / "neuron.png", DOCS / "neuron.png")
        shutil.copyfile(out / "neuron.gif", DOCS / "neuron.gif")
    for picture in sorted(DOCS.glob("*.[pg][ni][gf]")):
        print(f"{picture.relative_to(DOCS.parent)}: {picture.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
