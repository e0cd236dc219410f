"""Hypothesis profiles: CI never depends on luck; `fuzz` searches longer locally.

Pick one with HYPOTHESIS_PROFILE=dev|ci|fast|fuzz; with CI set, `ci` is the default.
The fast suite (`pytest -m "not slow"`) takes `fast` unless a profile is picked: the
same laws over fewer examples; `make test` runs them all with `dev`'s.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("fast", max_examples=20, deadline=None)
settings.register_profile("fuzz", max_examples=2_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config: pytest.Config) -> None:
    """The fast suite searches with the `fast` profile, unless one was picked."""
    picked = "HYPOTHESIS_PROFILE" in os.environ or os.environ.get("CI")
    if not picked and "not slow" in (config.option.markexpr or ""):
        settings.load_profile("fast")


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder no file can be made in: read-only, and immutable where the tests run as
    root (who may write into read-only folders)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    immutable = False
    if os.access(folder, os.W_OK):
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], check=False).returncode:
            folder.chmod(stat.S_IRWXU)
            pytest.skip("this user can write into a read-only folder")
        immutable = True
    yield folder
    if immutable:
        subprocess.run([str(shutil.which("chattr")), "-i", str(folder)], check=True)
    folder.chmod(stat.S_IRWXU)
