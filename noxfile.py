"""Every Python the package claims, each in its own environment: `nox` (or `nox -s fast-3.12`).

Each session installs the package with its `dev` extra and nothing else, so PyTorch is
absent and the suite shows that everything but the PyTorch cross-checks works without it.
The full suite, with PyTorch, is `make test` (in .venv, on one Python).
"""

from __future__ import annotations

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

NO_TORCH = (
    "import importlib.util, sys; "
    "sys.exit('torch is installed here, but this pass is the one without it' "
    "if importlib.util.find_spec('torch') else 0)"
)

nox.options.sessions = ["fast"]
nox.options.error_on_missing_interpreters = True


@nox.session(python=PYTHONS)
def fast(session: nox.Session) -> None:
    """The fast suite (`pytest -m "not slow"`), docstring examples included."""
    session.install("-e", ".[dev]")
    session.run("python", "-c", NO_TORCH)
    session.run("pytest", "-m", "not slow", "-q", *session.posargs)
