"""The package's metadata is written once and agrees with itself."""

from __future__ import annotations

import re
from pathlib import Path

import scalargrad

ROOT = Path(__file__).parent.parent
# Read as text: tomllib is Python 3.11's, and 3.10 is supported.
PYPROJECT = (ROOT / "pyproject.toml").read_text()


def test_the_version_is_written_once_in_the_package_and_read_by_the_build() -> None:
    """pyproject takes the version from scalargrad/__init__.py; no second copy."""
    assert re.search(r'^dynamic = \["version"\]$', PYPROJECT, re.MULTILINE)
    assert not re.search(r"^version\s*=", PYPROJECT, re.MULTILINE)
    assert re.search(
        r'^\[tool\.hatch\.version\]\npath = "scalargrad/__init__\.py"$', PYPROJECT, re.M
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+", scalargrad.__version__)


def test_the_license_file_is_the_licence_pyproject_names() -> None:
    """LICENSE is the MIT licence of the authors pyproject names."""
    text = (ROOT / "LICENSE").read_text()
    assert re.search(r'^license = "MIT"$', PYPROJECT, re.MULTILINE)
    assert text.startswith("MIT License")
    authors = re.search(r'^authors = \[\{ name = "(.+)" \}\]$', PYPROJECT, re.MULTILINE)
    assert authors is not None
    assert f"Copyright (c) {authors.group(1)}" in text


def test_no_test_skips_itself_when_the_package_itself_fails_to_import() -> None:
    """importorskip is for optional peers (torch, micrograd): a broken scalargrad must fail."""
    skipping = [
        f"{path.name}:{number}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"importorskip\(\s*[\"']scalargrad", line)
    ]
    assert skipping == []
