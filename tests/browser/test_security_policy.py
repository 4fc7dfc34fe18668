"""The Content-Security-Policy in a real browser: the dashboard, a map and a forecast draw
everything (charts included, their Vega expressions interpreted without eval) and the browser
refuses nothing; /docs runs Swagger UI with its one inline script allowed by hash. A control
shows that a violation would be seen."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from browser.conftest import LiveServer, csp_reports
from browser.helpers import expect_all_drawn, expect_drawn

#: Records every securitypolicyviolation event of the page, from the first byte on. (An init
#: script is injected by the browser itself, not by the page, so the policy does not stop it.)
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def watched(signed_in_page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The signed-in page, with its console's CSP reports collected as it goes."""
    page = signed_in_page
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    yield page, console


def violations(page: Page, console: list[str]) -> list[str]:
    page.wait_for_load_state("networkidle")
    events: list[str] = page.evaluate("window.__cspViolations || []")
    return events + csp_reports(console)


def test_the_dashboard_draws_its_charts_within_the_policy(
    watched: tuple[Page, list[str]],
) -> None:
    page, console = watched
    page.goto("/streams/Tiny")
    expect(page.locator("[data-chart]")).to_have_count(8)
    expect_all_drawn(page)
    assert violations(page, console) == []


def test_a_map_page_and_its_live_preview_stay_within_the_policy(
    watched: tuple[Page, list[str]],
) -> None:
    page, console = watched
    page.goto("/maps")
    page.get_by_role("button", name="Discover and save the map").click()
    expect(page).to_have_url(re.compile(r"/maps/Tiny/current\?saved=1$"))
    page.reload()  # the map page loaded with the recorder in place from its first byte
    expect(page.locator("#live")).to_be_visible()
    assert violations(page, console) == []


def test_a_forecast_draws_its_histogram_within_the_policy(
    watched: tuple[Page, list[str]],
) -> None:
    page, console = watched
    page.goto("/streams/Tiny")
    page.get_by_role("link", name="Forecast").click()
    page.get_by_label("How many items in D days, or by a date?").check()
    page.get_by_label("Days ahead").fill("14")
    page.get_by_label("Trials").fill("2000")
    page.get_by_role("button", name="Forecast", exact=True).click()
    expect_drawn(page.locator('#chart-forecast [data-chart="forecast"]'))
    assert violations(page, console) == []


def test_the_api_reference_runs_swagger_ui_within_its_policy(
    watched: tuple[Page, list[str]],
) -> None:
    page, console = watched
    page.goto("/docs")
    # Swagger UI drew the operations from /openapi.json: its inline start-up script ran.
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert violations(page, console) == []


def test_a_violation_would_be_seen(browser: Browser, live_server: LiveServer) -> None:
    """The control, in a context of its own (the page fixture fails any test whose console
    reports a violation): a script the page did not ship is refused, and the check notices."""
    context = browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto("/sign-in")
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.__ran = true";
              document.body.appendChild(script);
            }"""
        )
        assert page.evaluate("window.__ran === true") is False
        found = violations(page, console)
        assert any(v.startswith("script-src") for v in found), found
        assert csp_reports(console), console
    finally:
        context.close()
