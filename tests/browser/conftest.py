"""A real browser on a real server: Debian's Chromium, driven by Playwright, against uvicorn
serving the app over a workspace on the suite's database (SQLite, or a private PostgreSQL
schema), with the small "Tiny" stream of tests/api/tiny.py already imported.

Chromium is not downloaded by Playwright: `make test` installs Debian's package and the tests
launch it from ``/usr/bin/chromium`` (``OBEYA_CHROMIUM`` to use another). Without it the tests
fail rather than skip, so a CI run can never pass without having driven a browser.

Every journey starts from :func:`signed_in_page`, which signs in through the sign-in form as
a workspace admin, as a person does: no bearer token is ever used here. The journeys about
signing in itself start from :func:`page` and use the same form (``helpers.sign_in``).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from api.tiny import tiny_workspace
from browser.helpers import ADMIN, LAPTOP, PASSWORD, sign_in
from obeya.api.app import create_app
from obeya.core.access import Role
from obeya.workspace import Workspace

CHROMIUM = os.environ.get("OBEYA_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True)
class LiveServer:
    """The app served on ``url`` (no trailing slash) over ``workspace``."""

    url: str
    workspace: Workspace


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium), "
            "or set OBEYA_CHROMIUM to a Chromium executable",
            pytrace=False,
        )
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
    )
    yield chromium
    chromium.close()


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """uvicorn in a thread on a free port of the loopback, stopped after the test."""
    workspace = tiny_workspace(database_url, tmp_path)
    app = create_app(lambda: workspace)
    sock = _free_socket()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()
    try:
        yield LiveServer(f"http://{host}:{port}", workspace)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        workspace.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context (no cookies, no cache) at laptop size, on the live server."""
    context = browser.new_context(viewport=LAPTOP, base_url=live_server.url)
    context.set_default_timeout(30_000)  # a busy CI machine runs two suites at once
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    # Chromium reports what the Content-Security-Policy blocks on the console: no journey may
    # need anything the policy refuses (an inline script, eval, a foreign origin).
    refused: list[str] = []
    tab.on("console", lambda message: refused.extend(csp_reports([message.text])))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not refused, f"the Content-Security-Policy refused: {refused}"


def csp_reports(messages: list[str]) -> list[str]:
    """The console messages that report a Content-Security-Policy violation."""
    return [m for m in messages if "Content Security Policy" in m]


@pytest.fixture
def signed_in_page(page: Page, live_server: LiveServer) -> Page:
    """The app's home page, as a workspace admin sees it after signing in with the form: the
    user :data:`~browser.helpers.ADMIN` is made with a password, the home page sends the
    browser to the sign-in page, and signing in brings it back."""
    live_server.workspace.access.add_user(ADMIN, Role.ADMIN, None, PASSWORD)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))
    sign_in(page, ADMIN, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".account-name")).to_have_text(ADMIN)
    return page


#: Where the opt-in screenshots go (``OBEYA_SCREENSHOTS=1``), for docs/user-guide.md.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def snap() -> Callable[..., None]:
    """``snap(page, name, show=locator)`` saves what a laptop shows (scrolled to ``show``) to
    docs/img/page-NAME.png when ``OBEYA_SCREENSHOTS=1``; otherwise it does nothing, so the
    suite writes no files."""

    def save(page: Page, name: str, show: Locator | None = None) -> None:
        if os.environ.get("OBEYA_SCREENSHOTS") != "1":
            return
        page.wait_for_load_state("networkidle")
        if show is not None:
            show.scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -16)")
        page.screenshot(path=SCREENSHOTS / f"page-{name}.png", animations="disabled")

    return save
