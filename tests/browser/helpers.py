"""What the browser tests share: who signs in, screen sizes, waiting for a chart, moving with
the keyboard, and a small map to simulate (``from browser.helpers import …``)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

#: The workspace admin every journey signs in as (:func:`conftest.signed_in_page`).
ADMIN = "ada"
PASSWORD = "a browser test password"

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}

#: Demand 4 a day, 8 hours a day: Build 1.6 h = 0.2 days on one person (ρ 0.8), Test 0.8 h
#: on two. (The map discovered from Tiny is no use for a simulation: its "Blocked" step is
#: never done right first time, so a simulated item loops through it a thousand times.)
LINE: dict[str, Any] = {
    "demand_per_day": 4,
    "available_hours_per_day": 8,
    "steps": [
        {"name": "Build", "process_time_hours": 1.6, "lead_time_hours": 10},
        {"name": "Test", "process_time_hours": 0.8, "lead_time_hours": 4, "people": 2},
    ],
}


def expect_drawn(chart: Locator) -> None:
    """vega-embed has drawn the chart: a canvas (or SVG) inside its container."""
    expect(chart.locator("canvas, svg").first).to_be_visible()


def expect_all_drawn(page: Page) -> None:
    charts = page.locator("[data-chart]")
    for i in range(charts.count()):
        expect_drawn(charts.nth(i))


def tab_to(page: Page, ident: str, limit: int = 120) -> None:
    """Press Tab until the element with id ``ident`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == ident:
            return
    raise AssertionError(f"#{ident} cannot be reached with Tab in {limit} presses")


def sign_in(page: Page, name: str, password: str) -> None:
    """Fill in the sign-in form the page shows, by its labels, and submit it."""
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def csrf_headers(page: Page) -> dict[str, str]:
    """For ``page.request`` calls that change something: they carry the browser's session
    cookie, so the guard wants the session's CSRF token too (read from a form of the page,
    e.g. the top bar's sign-out form)."""
    token = page.locator('input[name="csrf_token"]').first.input_value()
    assert token, "the page carries no CSRF token"
    return {"X-CSRF-Token": token}
