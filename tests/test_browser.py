"""The `browser` fixture (tests/conftest.py) that the page tests stand on."""

from __future__ import annotations

import socket
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Browser

PAGE = """<!doctype html>
<html><body style="background: white">
<button id="go" onclick="document.getElementById('out').textContent = 'clicked';
  document.body.style.background = 'rgb(49, 130, 189)'">Go</button>
<p id="out">not yet</p>
</body></html>
"""


def closed_port() -> int:
    """A loopback port nothing listens on (a request to it is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_page_is_driven_with_the_keyboard_alone(browser: Browser, tmp_path: Path) -> None:
    """Tab reaches the button and Enter presses it; the page shows it, in text and in colour."""
    page = tmp_path / "page.html"
    page.write_text(PAGE)
    browser.open(page.as_uri())
    before = browser.screenshot()

    browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)

    assert browser.driver.find_element(By.ID, "out").text == "clicked"
    after = browser.screenshot()
    assert any(low != high for low, high in before.getextrema())  # not blank: the button shows
    assert after.getpixel((after.width - 5, after.height - 5)) == (49, 130, 189)
    assert browser.requested_urls() == [page.as_uri()]
    assert browser.network_requests() == []


def test_every_request_a_page_makes_is_reported(browser: Browser) -> None:
    """A page that asks the network for a picture and a socket is caught doing both."""
    port = closed_port()
    browser.open(
        f"data:text/html,<img src='http://127.0.0.1:{port}/a.png'>"
        f"<script>new WebSocket('ws://127.0.0.1:{port}/live')</script>"
    )
    # DevTools reports requests as they happen: wait for two, then check which.
    WebDriverWait(browser.driver, 10).until(lambda _: len(browser.network_requests()) >= 2)

    assert sorted(browser.network_requests()) == [
        f"http://127.0.0.1:{port}/a.png",
        f"ws://127.0.0.1:{port}/live",
    ]
