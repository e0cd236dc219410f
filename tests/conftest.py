"""Hypothesis profiles, and a headless Chromium for the browser tests.

Hypothesis: pick a profile with HYPOTHESIS_PROFILE=dev|ci|fast|fuzz; with CI set, `ci`
is the default. CI never depends on luck; `fuzz` searches longer locally. The fast
suite (`pytest -m "not slow"`) takes `fast` unless a profile is picked: the same laws
over fewer examples; `make test` runs them all with `dev`'s.

Browser: the `browser` fixture drives Debian's chromium through its chromedriver
(`apt install chromium chromium-driver`; .ci/run installs them). Without them a browser
test is skipped with the reason, except with CI set, where it fails: CI must run it.
Each browser test is marked slow (`make test` runs them, `make test-fast` does not).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from PIL import Image

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that drives the browser starts Chromium, a second or two each: slow."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


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

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# This machine class has no network: without these flags Chromium keeps trying to reach
# Google's services, and a root user needs --no-sandbox.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1024,768",
)
# URLs that stay inside the browser; any other request would go out on the network.
LOCAL_SCHEMES = ("data:", "file:", "blob:", "about:")


class Browser:
    """Headless Chromium under Selenium that remembers every URL a page requested.

    `driver` is Selenium's WebDriver for everything else (find_element, send_keys, ...).
    """

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self._requested: list[str] = []

    def open(self, url: str) -> None:
        """Load `url` (file://, data:, http://127.0.0.1...); requests are counted from here."""
        self.driver.get("about:blank")
        self.driver.get_log("performance")  # drop what the start page asked for
        self._requested = []
        self.driver.get(url)

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for since `open`, the page itself first."""
        # Chrome's performance log holds the DevTools Network events, drained on each read.
        for entry in self.driver.get_log("performance"):
            event = json.loads(entry["message"])["message"]
            if event["method"] == "Network.requestWillBeSent":
                self._requested.append(event["params"]["request"]["url"])
            elif event["method"] == "Network.webSocketCreated":
                self._requested.append(event["params"]["url"])
        return list(self._requested)

    def network_requests(self) -> list[str]:
        """The requested URLs that go beyond the browser (not data:, file:, blob: or about:)."""
        return [url for url in self.requested_urls() if not url.startswith(LOCAL_SCHEMES)]

    def screenshot(self) -> Image.Image:
        """What the window shows now, as an RGB picture."""
        png = self.driver.get_screenshot_as_png()
        return Image.open(io.BytesIO(png)).convert("RGB")


def _browser_missing() -> str | None:
    """Why no browser test can run here, or None when one can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(`apt-get install chromium chromium-driver`, as .ci/run does)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    return None


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A fresh headless Chromium (its own empty profile) for one test."""
    reason = _browser_missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile: Path = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield Browser(driver)
    finally:
        driver.quit()
