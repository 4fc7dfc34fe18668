"""Blocked time in a real browser: the dashboard of a stream with blockers shows the figures
and draws the chart by reason, and one click makes a cross-team wait a risk whose cost per
week the ROAM board shows. The stream is the cross-team fixture (tests/core/data/blockers/
teams); the figures are worked by hand in tests/web/test_blocked_pages.py and the core tests.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from browser.helpers import expect_drawn
from obeya.core.workflow import Workflow

DATA = Path(__file__).parents[1] / "core" / "data" / "blockers"


def test_the_dashboard_shows_blocked_time_and_makes_a_risk(
    signed_in_page: Page, live_server
) -> None:
    workspace = live_server.workspace
    workflow = Workflow.from_toml(DATA / "workflow.toml")
    workspace.import_file(DATA / "teams" / "events.csv", "Teams", workflow=workflow)
    workspace.import_blockers(DATA / "teams" / "blockers.csv", "Teams")
    page = signed_in_page
    page.goto("/streams/Teams")
    section = page.locator("#blocked")
    expect(section.get_by_role("heading", name="Blocked time")).to_be_visible()
    # 18 of 33 days of cycle time = 54.5 %; 4 of 5 finished items; p50 4.0, p85 6.2 days.
    expect(section.locator('[data-tile="blocked_share"] .tile-value')).to_have_text("54.5 %")
    expect(section.locator('[data-tile="items_blocked"] .tile-value')).to_have_text("4")
    expect(section.locator('[data-tile="blocked_p50"] .tile-value')).to_have_text("4.0")
    expect(section.locator('[data-tile="blocked_p85"] .tile-value')).to_have_text("6.2")
    expect_drawn(section.locator('[data-chart="blocked-by-reason"]'))
    now = section.locator('[data-table="blocked-now"] tbody tr')
    expect(now).to_have_count(1)
    expect(now.first.get_by_role("cell").nth(0)).to_have_text("L2")
    expect(now.first.get_by_role("cell").nth(2)).to_have_text("9.0 days")
    matrix = section.locator('[data-table="cross-team"]')
    pay = matrix.locator('tr[data-waiting="Pay"]')
    expect(pay.locator('[data-blocking="Plat"]')).to_have_text("9.0")
    expect(section.locator("#cross-team-days")).to_have_text("15.0 days")
    top = section.locator(".top-pairs > li")
    expect(top).to_have_count(3)
    expect(top.first).to_contain_text("Pay waits on Plat: 9.0 days")
    expect(top.first.locator('li[data-item="P1"]')).to_contain_text("P1: 6.0 days on L1, L2")

    top.first.get_by_role("button", name="Risk from Pay waiting on Plat").click()
    expect(page).to_have_url(re.compile(r"/streams/Teams/risks\?saved=R-1#risk-R-1$"))
    card = page.locator('[data-risk="R-1"]')
    expect(card).to_contain_text("Impediment: Pay waits on Plat")
    # 9 blocked days in the 28 days up to 12 January, ÷ 4 = 2.25 → "2.2" (half to even).
    expect(card.locator("[data-cost]")).to_contain_text("2.2 blocked days per week")
    expect(page.locator("#cost-rule")).to_contain_text("28 days up to the end of the data")
