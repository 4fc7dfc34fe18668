"""Delivery in a real browser: from the Tiny dashboard to its DORA page, deployments, changes
and incidents imported through the form, the four tiles with their bands, the weekly chart
drawn, no console error; a connector added and synced from the connectors page; both pages
on a 375 px phone without sideways scrolling.

The figures, worked by hand (the same rules as tests/web/test_delivery_pages.py):

- Deployments d1 (Mon 2024-01-08 10:00), d2 and d3 (Wed 01-10 09:00 and 15:00) count; d4 is
  staging. Window 01-08 to 01-10, 3 days = 3/7 week: 2 deployment days / (3/7) = 4.67
  deployment days a week, 3 / 3 = 1.00 a day; band high (not 5 days a week).
- Changes c1 → d1 committed 01-08 08:00: 2 h; c2 → d3 committed 01-09 15:00: 24 h. p50
  (2 + 24) / 2 = 13.0 h: elite (under a day).
- Incident i1 created 01-10 10:00 (no deployment named: the latest counted before it is d2),
  resolved 11:30: 1.5 h. Change failure rate 1 of 3 = 33.3 %, low; time to restore 1.5 h, high.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, expect

from browser.conftest import LiveServer
from browser.helpers import expect_drawn

DEPLOYMENTS = """deployment_id,environment,finished_at,result
d1,production,2024-01-08T10:00:00Z,success
d2,production,2024-01-10T09:00:00Z,success
d3,production,2024-01-10T15:00:00Z,success
d4,staging,2024-01-09T12:00:00Z,success
"""
CHANGES = """change_id,committed_at,deployment_id
c1,2024-01-08T08:00:00Z,d1
c2,2024-01-09T15:00:00Z,d3
"""
INCIDENTS = """incident_id,created_at,resolved_at
i1,2024-01-10T10:00:00Z,2024-01-10T11:30:00Z
"""
PHONE = {"width": 375, "height": 812}


def console_errors(page: Page) -> list[str]:
    """Every console error the page logs from now on (the list fills as they come)."""
    seen: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.append(message.text)

    page.on("console", keep)
    return seen


def import_file(page: Page, kind: str, path: Path) -> None:
    form = page.locator("#import")
    form.get_by_label("What the file holds").select_option(kind)
    form.get_by_label("CSV file").set_input_files(path)
    form.get_by_role("button", name="Import").click()


def fits(page: Page, url: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{url} at {inner} px is {width} px wide"


def test_import_deployments_and_read_the_dora_page(
    signed_in_page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    page = signed_in_page
    errors = console_errors(page)
    page.get_by_role("link", name="Tiny").click()
    page.locator("main").get_by_role("link", name="Delivery", exact=True).click()
    expect(page).to_have_url(re.compile(r"/streams/Tiny/delivery$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Delivery (DORA)")
    expect(page.get_by_role("heading", name="No delivery data yet")).to_be_visible()

    for kind, text in (
        ("deployments", DEPLOYMENTS),
        ("changes", CHANGES),
        ("incidents", INCIDENTS),
    ):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        import_file(page, kind, path)
        expect(page).to_have_url(re.compile(rf"/streams/Tiny/delivery\?imported={kind}&"))
    expect(page.get_by_role("status")).to_have_text(
        "Imported incidents: 1 added, 0 updated (1 in the file; the rest were stored already)."
    )
    assert len(live_server.workspace.delivery.history("Tiny").deployments) == 4

    def tile(key: str, part: str) -> str:
        return " ".join(page.locator(f'[data-tile="{key}"] .{part}').inner_text().split())

    expect(page.locator('[data-tile="deployment_frequency"] .tile-value')).to_have_text("4.67")
    assert tile("deployment_frequency", "tile-band") == "DORA band: High"
    assert tile("deployment_frequency", "tile-hint").startswith("1.00 deployments a day")
    assert tile("lead_time_for_changes", "tile-value") == "13.0"
    assert tile("lead_time_for_changes", "tile-band") == "DORA band: Elite"
    assert tile("change_failure_rate", "tile-value") == "33.3"
    assert tile("change_failure_rate", "tile-band") == "DORA band: Low"
    assert tile("recovery_time", "tile-value") == "1.5"
    assert tile("recovery_time", "tile-band") == "DORA band: High"
    chart = page.locator('#chart-delivery-weekly [data-chart="delivery-weekly"]')
    expect(chart).to_have_attribute("role", "img")
    expect_drawn(chart)
    # The weekly table behind the disclosure: one week, of Monday 01-08.
    page.get_by_text("The weekly figures as a table").click()
    expect(page.locator(".dora-weekly tbody tr")).to_have_count(1)
    expect(page.locator(".dora-weekly tbody th")).to_have_text("2024-01-08")

    # A narrower window, through the form: 01-10 alone.
    page.get_by_label("Since").fill("2024-01-10")
    page.get_by_label("Until").fill("2024-01-10")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"since=2024-01-10&until=2024-01-10$"))
    expect(page.locator('[data-tile="deployment_frequency"] .tile-value')).to_have_text("7.00")
    expect_drawn(page.locator('[data-chart="delivery-weekly"]'))

    page.set_viewport_size(PHONE)
    page.reload()
    expect_drawn(page.locator('[data-chart="delivery-weekly"]'))
    fits(page, page.url)
    assert not errors, f"console errors: {errors}"


def test_add_a_connector_and_sync_it(signed_in_page: Page, live_server: LiveServer) -> None:
    """Its token variable is unset on this server: the sync's error says so on the page."""
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Connectors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connectors")
    form = page.get_by_role("form", name="Add a connector")
    form.get_by_label("Tracker").select_option("github")
    form.get_by_label("Name").fill("tiny-gh")
    form.get_by_label("Value stream").fill("Tiny")
    form.get_by_label("Token variable").fill("OBEYA_TOKEN_BROWSER_NEVER_SET")
    form.get_by_label("Repository").fill("octo/shop")
    form.get_by_role("button", name="Add the connector").click()
    expect(page).to_have_url(re.compile(r"/connectors\?added=tiny-gh$"))
    row = page.locator('tr[data-connector="tiny-gh"]')
    expect(row).to_contain_text("not synced yet")
    row.get_by_role("button", name="Sync now tiny-gh").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "the environment variable OBEYA_TOKEN_BROWSER_NEVER_SET holding its token is unset"
    )
    expect(page.locator('tr[data-connector="tiny-gh"]')).to_contain_text("error")
    page.set_viewport_size(PHONE)
    page.goto("/connectors")
    fits(page, "/connectors")
    page.locator('tr[data-connector="tiny-gh"]').get_by_role(
        "button", name="Remove tiny-gh"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Removed connector 'tiny-gh'")
    assert live_server.workspace.connectors.list() == []
