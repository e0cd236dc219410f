"""Make docs/backprop_page.png, the README's picture of the backprop page.

    .venv/bin/python docs/backprop_page.py

The picture is the one the browser test takes (tests/test_viz_html.py, headless Debian
chromium): the lecture's neuron at the last step of the backward pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
TEST = "tests/test_viz_html.py::test_a_screenshot_of_the_page_shows_a_coloured_graph"


def main() -> None:
    target = DOCS / "backprop_page.png"
    environment = {**os.environ, "SCALARGRAD_SCREENSHOT": str(target)}
    # A browser that is missing must stop this script, not skip the test quietly.
    environment.setdefault("CI", "1")
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
        cwd=DOCS.parent,
        env=environment,
        check=True,
    )
    print(f"wrote {target} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
