"""The backprop page's size and how soon it is ready, in headless Chromium.

Run with `.venv/bin/python benchmarks/html_page.py` from the repository root (needs
Debian's chromium and chromium-driver, and selenium). For a 10-node neuron and the
one-sample loss of MLP(2, [16, 16, 1]) (about 400 nodes), prints the page's size and
the median, over fresh loads from disk, of the time from navigation start to the
page's own ready flag (`window.backpropPage.readyAt`, set once the first step is drawn).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from machine import describe  # benchmarks/machine.py, beside this script

from scalargrad.engine import Value, topological_order
from scalargrad.nn import MLP
from scalargrad.viz import save_html

# The browser flags of the tests, so the figures come from the browser the tests use.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS


def neuron() -> Value:
    """tanh(x1*w1 + x2*w2 + b): 10 Values."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    return (x1 * w1 + x2 * w2 + b).tanh()


def mlp_loss() -> Value:
    """One sample's squared error through MLP(2, [16, 16, 1])."""
    prediction = MLP(2, [16, 16, 1], seed=0)([0.5, -1.0])
    assert isinstance(prediction, Value)  # one output
    return (prediction - 1.0) ** 2


def ready_milliseconds(path: Path, repeats: int, folder: Path) -> float:
    """Median ms from navigation start to the ready flag, each load in a fresh browser."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    times = []
    for run in range(repeats):
        options = Options()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={folder / f'profile-{path.stem}-{run}'}")
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        try:
            driver.get(path.as_uri())
            WebDriverWait(driver, 60).until(
                lambda d: d.execute_script("return document.documentElement.dataset.ready")
            )
            times.append(driver.execute_script("return window.backpropPage.readyAt"))
        finally:
            driver.quit()
    return float(statistics.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for title, root in (("neuron", neuron()), ("MLP(2, [16, 16, 1]) loss", mlp_loss())):
            path = save_html(root, folder / f"{title.split()[0]}.html")
            size = path.stat().st_size
            ms = ready_milliseconds(path, args.repeats, folder)
            nodes = len(topological_order(root))
            print(f"{title:>26}: {nodes:4d} nodes, {size / 1e6:.3f} MB, ready after {ms:.0f} ms")


if __name__ == "__main__":
    main()
