"""The main journeys, in a real browser: import a file, read the flow dashboard, discover and
edit a map, forecast, add a risk (with the keyboard only), plan dependencies, evaluate an
experiment and run a what-if.

Every figure checked on a page is worked out here from the Tiny data of tests/api/tiny.py
(A, B and C finish on 4, 9 and 12 January with cycle times 2, 6 and 4 days; D is in progress;
E not started), by hand or with the core on the same inputs, not read back from the page's
own view code.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, Response, expect
from scipy.stats import mannwhitneyu

from api.tiny import TINY_CSV, WORKFLOW
from browser.helpers import ADMIN, LINE, PASSWORD, csrf_headers, expect_drawn, sign_in, tab_to
from obeya.core.access import Role
from obeya.core.forecast.dated import forecast_how_many
from obeya.core.maps.calculations import calculate
from obeya.core.simulation.from_map import scenario_from_map
from obeya.core.simulation.whatif import Change, what_if
from obeya.core.workflow import Workflow

#: Cycle times of A, B and C in days (start at the first active or waiting state, finish at
#: Done): 2 → 4 January, 3 → 9 January, 8 → 12 January.
CYCLE_TIMES = [2.0, 6.0, 4.0]
#: Items finished per day, from the first finish (4 January) to the last (12 January).
THROUGHPUT = {
    (date(2024, 1, 4) + timedelta(days=i)).isoformat(): int(i in (0, 5, 8)) for i in range(9)
}


def discover_map(page: Page) -> None:
    """The Tiny stream's map, discovered and saved with the button of the maps page."""
    page.goto("/maps")
    page.get_by_role("button", name="Discover and save the map").click()
    expect(page).to_have_url(re.compile(r"/maps/Tiny/current\?saved=1$"))


# -- (a) import a file ------------------------------------------------------------------------


def test_import_a_file_through_the_form(signed_in_page: Page, tmp_path: Path, snap) -> None:
    page = signed_in_page
    csv = tmp_path / "payments.csv"
    csv.write_text(TINY_CSV, encoding="utf-8")
    page.get_by_label("Value stream").fill("Payments")
    page.get_by_label("File", exact=True).set_input_files(csv)
    page.get_by_text("Workflow and column names (optional)").click()
    page.get_by_label("Workflow (TOML)").fill(WORKFLOW)
    page.get_by_role("button", name="Import").click()

    events = TINY_CSV.strip().count("\n")  # rows under the header
    expect(page).to_have_url(re.compile(rf"/streams/Payments\?added={events}&read={events}$"))
    expect(page.get_by_role("status")).to_have_text(
        f"Imported {events} new events (of {events} in the file)."
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Value streams").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Payments"))
    p85 = np.percentile(CYCLE_TIMES, 85)
    # Name, items, events, cycle time p85, throughput a week (3 finishes in two ISO weeks),
    # WIP (D), workflow.
    expect(row.get_by_role("cell")).to_have_text(
        ["5", str(events), f"{p85:.1f}", "1.5", "1", "mapped"]
    )
    snap(page, "streams")


# -- (b) the flow dashboard -------------------------------------------------------------------


def test_the_dashboard_shows_the_figures_and_draws_every_chart(signed_in_page: Page, snap) -> None:
    page = signed_in_page
    page.get_by_role("link", name="Tiny").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiny")

    def tile(key: str) -> Locator:
        return page.locator(f'[data-tile="{key}"] .tile-value')

    expect(tile("finished")).to_have_text("3")
    expect(page.locator('[data-tile="finished"] .tile-hint')).to_have_text("of 5 items")
    for name in (50, 85, 95):
        expected = float(np.percentile(CYCLE_TIMES, name))
        expect(tile(f"cycle_time_p{name}")).to_have_text(f"{expected:.1f}")
        raw = tile(f"cycle_time_p{name}").get_attribute("data-value")
        assert raw is not None and float(raw) == pytest.approx(expected)
    expect(tile("wip")).to_have_text("1")
    # 11 active days out of 12 days of cycle time: A 2 of 2, B 5 of 6 (a day blocked), C 4 of 4.
    expect(tile("flow_efficiency")).to_have_text(f"{11 / 12 * 100:.0f} %")  # 91.7 → 92 %
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(8)
    for i in range(charts.count()):
        expect_drawn(charts.nth(i))
    snap(page, "dashboard")


# -- (c) discover a map, edit it with the live preview, save version 2 ------------------------


def test_discover_edit_preview_and_save_a_map(signed_in_page: Page, live_server, snap) -> None:
    page = signed_in_page
    discover_map(page)
    expect(page.get_by_role("status")).to_contain_text("Saved")
    stored = live_server.workspace.get_map("Tiny").map
    first = stored.steps[0]
    live = page.locator("#live")
    total = live.locator('[data-total="process_time_hours"] .figure-value')
    expect(total).to_have_attribute("data-value", str(calculate(stored).process_time_hours))

    # The first step with 40 hours of process time and two people, as the core computes it.
    edited = dataclasses.replace(
        stored,
        steps=(dataclasses.replace(first, process_time_hours=40.0, people=2), *stored.steps[1:]),
    )
    expected = calculate(edited)
    assert expected.process_time_hours != calculate(stored).process_time_hours
    page.get_by_label("Step 1: PT h").fill("40")
    page.keyboard.press("Tab")  # leaving the field is a change: the drawing follows
    page.get_by_label("Step 1: People").fill("2")
    page.keyboard.press("Tab")
    expect(live.get_by_role("status")).to_contain_text("Preview")
    expect(total).to_have_attribute("data-value", str(expected.process_time_hours))
    lead = live.locator('[data-total="lead_time_hours"] .figure-value')
    expect(lead).to_have_attribute("data-value", str(expected.lead_time_hours))
    assert expected.constraint is not None
    expect(live.locator("[data-constraint]")).to_have_attribute(
        "data-constraint", expected.constraint.step
    )
    assert live_server.workspace.get_map("Tiny").version.version == 1  # a preview saves nothing

    form = page.get_by_role("region", name="Edit the map")
    form.get_by_label("Message").fill("pair on the work")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page).to_have_url(re.compile(r"/maps/Tiny/current\?saved=2$"))
    expect(page.get_by_role("status")).to_contain_text("Saved version 2.")
    latest = page.locator('tr[data-version="2"]')
    expect(latest).to_contain_text(ADMIN)  # the signed-in user is the version's author
    expect(latest).to_contain_text("pair on the work")
    expect(latest).to_contain_text(f"steps.{first.name}.process_time_hours")
    saved = live_server.workspace.get_map("Tiny")
    assert saved.version.version == 2
    assert (saved.map.steps[0].process_time_hours, saved.map.steps[0].people) == (40.0, 2)
    snap(page, "map-edit")


# -- (d) a forecast ---------------------------------------------------------------------------


def test_a_forecast_shows_the_percentiles_and_the_histogram(signed_in_page: Page, snap) -> None:
    page = signed_in_page
    page.goto("/streams/Tiny")
    page.get_by_role("link", name="Forecast").click()
    page.get_by_label("How many items in D days, or by a date?").check()
    page.get_by_label("Days ahead").fill("14")
    page.get_by_label("Trials").fill("2000")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Forecast", exact=True).click()

    expected = forecast_how_many(THROUGHPUT, 14, trials=2000, seed=7).to_dict()
    expect(page.get_by_role("heading", name="How many items in 14 days?")).to_be_visible()
    rows = page.locator(".forecast-table tbody tr")
    expect(rows).to_have_count(len(expected["percentiles"]))
    for p, value in expected["percentiles"].items():
        cell = page.locator(f'.forecast-table tr[data-percentile="{p}"] td')
        expect(cell).to_have_attribute("data-value", str(value))
    expect(page.get_by_text("2,000 trials (seed 7)")).to_be_visible()
    expect_drawn(page.locator('#chart-forecast [data-chart="forecast"]'))
    snap(page, "forecast", show=page.locator("#forecast"))


# -- (e) a risk, added with the keyboard only -------------------------------------------------


def test_a_risk_added_with_the_keyboard_lands_in_its_roam_column(
    signed_in_page: Page, snap
) -> None:
    page = signed_in_page
    page.goto("/streams/Tiny/risks")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    tab_to(page, "r-key")
    page.keyboard.type("R-1")
    page.keyboard.press("Tab")
    page.keyboard.type("Vendor API late")
    tab_to(page, "r-probability")
    page.keyboard.type("0.4")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.keyboard.type("Ana")
    tab_to(page, "r-state")
    page.keyboard.type("Owned")  # type-ahead picks the option
    assert page.get_by_label("State", exact=True).input_value() == "owned"
    tab_to(page, "r-message")
    page.keyboard.type("raised at the review")
    page.keyboard.press("Enter")  # Enter in a field submits the form

    expect(page.get_by_role("status")).to_contain_text("Saved risk R-1.")
    card = page.locator('[data-column="owned"] [data-risk="R-1"]')
    expect(card).to_contain_text("Vendor API late")
    exposure = 0.4 * 5
    expect(card.locator("[data-exposure]")).to_have_attribute("data-exposure", str(exposure))
    expect(card).to_contain_text("Ana")
    for other in ("open", "accepted", "mitigated", "resolved"):
        expect(page.locator(f'[data-column="{other}"] [data-risk]')).to_have_count(0)
    summary = page.locator("[data-summary] .tile-value")
    expect(summary.nth(1)).to_have_attribute("data-value", str(exposure))  # open exposure
    snap(page, "risks", show=page.locator("#board-heading"))


# -- (f) a dependency plan --------------------------------------------------------------------

#: The hand-worked plan of tests/web/test_plan_experiment_pages.py: A (Alpha, 3 d); B (Beta,
#: 2 d) and C (Alpha, 4 d) wait for A; D (Beta, 1 d) waits for B and C, needed by 10 March.
#: Forward pass A 0 → 3, B 3 → 5, C 3 → 7, D 7 → 8; backward pass leaves B 2 days of slack;
#: critical path A → C → D, 8 days from 4 March: D done by 11 March, a day late.
TASKS = [
    ("B", "Beta", "2", "A", ""),
    ("C", "Alpha", "4", "A", ""),
    ("D", "Beta", "1", "B, C", "2024-03-10"),
]
CPM = {  # early start, early finish, late start, late finish, total slack
    "A": (0, 3, 0, 3, 0),
    "B": (3, 5, 5, 7, 2),
    "C": (3, 7, 3, 7, 0),
    "D": (7, 8, 7, 8, 0),
}


def test_a_dependency_plan_shows_its_schedule_and_critical_path(signed_in_page: Page, snap) -> None:
    page = signed_in_page
    page.goto("/streams/Tiny")
    page.get_by_role("navigation", name="Steering").get_by_role("link", name="Dependencies").click()
    page.get_by_label("Key").fill("P-1")
    page.get_by_label("Name", exact=True).fill("Launch")
    page.get_by_label("Start date").fill("2024-03-04")
    page.get_by_label("Task id").fill("A")
    page.get_by_role("textbox", name="Team", exact=True).fill("Alpha")
    page.get_by_label("Duration days").fill("3")
    page.get_by_role("button", name="Create the plan").click()
    expect(page).to_have_url(re.compile(r"/streams/Tiny/dependencies/P-1\?saved=1$"))

    for task, team, duration, depends, need_by in TASKS:
        page.get_by_label("Task id").fill(task)
        page.get_by_role("textbox", name="Team", exact=True).fill(team)
        page.get_by_label("Duration days").fill(duration)
        page.get_by_label("Depends on").fill(depends)
        page.get_by_label("Need by").fill(need_by)
        page.get_by_role("button", name="Save the task").click()
        expect(page.locator(f'.cpm-table tr[data-task="{task}"]')).to_be_visible()

    expect(page.locator("[data-critical-path]")).to_have_attribute("data-critical-path", "A,C,D")
    expect(page.locator("[data-duration]")).to_have_attribute("data-duration", "8.0")
    fields = ("early_start", "early_finish", "late_start", "late_finish", "total_slack")
    for task, values in CPM.items():
        row = page.locator(f'.cpm-table tr[data-task="{task}"]')
        for field, value in zip(fields, values, strict=True):
            cell = row.locator(f'td[data-field="{field}"]')
            assert float(cell.get_attribute("data-value") or "nan") == value, (task, field)
        critical = "true" if values[4] == 0 else "false"
        expect(row.locator('td[data-field="critical"]')).to_have_attribute("data-value", critical)
    missed = page.locator('[data-need-by="D"]')
    expect(missed).to_have_class("is-missed")
    expect(missed).to_contain_text("done by 2024-03-11, 1 day late")
    snap(page, "dependencies")


# -- (g) an experiment ------------------------------------------------------------------------


def test_an_experiment_shows_its_verdict_and_p_value(signed_in_page: Page, snap) -> None:
    page = signed_in_page
    page.goto("/streams/Tiny/experiments")
    page.get_by_label("Metric").select_option("cycle_time")
    page.get_by_label("Baseline from").fill("2024-01-01")
    page.get_by_label("Baseline to").fill("2024-01-05")
    page.get_by_label("Trial from").fill("2024-01-06")
    page.get_by_label("Trial to").fill("2024-01-12")
    page.get_by_role("button", name="Evaluate").click()

    # A (2 days) finished in the baseline; B (6) and C (4) in the trial.
    baseline, trial = [2.0], [6.0, 4.0]
    p = mannwhitneyu(trial, baseline, alternative="two-sided").pvalue
    result = page.locator("#result")
    for window, values in (("baseline", baseline), ("trial", trial)):
        row = result.locator(f'tr[data-window="{window}"]')
        expect(row.locator('[data-field="items"]')).to_have_text(str(len(values)))
        median = row.locator('[data-field="median"]')
        assert float(median.get_attribute("data-value") or "nan") == np.median(values)
    effect = result.locator('[data-field="effect"]')
    assert float(effect.get_attribute("data-value") or "nan") == pytest.approx(5 / 2 - 1)
    expect(effect).to_have_text("+150 %")
    shown = result.locator('[data-field="p_value"]')
    assert float(shown.get_attribute("data-value") or "nan") == pytest.approx(p)
    expect(shown).to_have_text(f"{p:.3g}")
    assert p >= 0.05  # two items against one cannot tell a change apart from chance
    expect(result.locator("[data-verdict]")).to_have_attribute("data-verdict", "no change")
    expect_drawn(result.locator('[data-chart="experiment"]'))
    snap(page, "experiments", show=result)


# -- (h) what-if on a saved map ---------------------------------------------------------------


def test_a_what_if_run_shows_the_results_beside_the_current_state(
    signed_in_page: Page, live_server, snap
) -> None:
    page = signed_in_page
    saved = page.request.put(
        "/api/maps/Line/current", data={"map": LINE}, headers=csrf_headers(page)
    )
    assert saved.ok, saved.text()
    page.goto("/maps/Line/current")
    page.get_by_role("main").get_by_role("link", name="Simulate").click()
    expect(page).to_have_url(re.compile(r"/simulate\?map=Line&variant=current$"))
    page.get_by_label("Days", exact=True).fill("300")
    page.get_by_label("Warm-up days").fill("30")
    page.get_by_label("Replications").fill("3")
    page.get_by_label("Seed").fill("4")
    page.get_by_label("Name", exact=True).fill("Two builders")
    page.get_by_label("Build: Servers").fill("2")
    page.get_by_role("button", name="Run").click()

    base = scenario_from_map(
        live_server.workspace.get_map("Line").map,
        days=300,
        warmup_days=30,
        replications=3,
        seed=4,
    )
    doc = what_if(base, [("Two builders", [Change("servers", 2.0, "Build")])]).to_dict()
    current, future = doc["scenarios"]
    results = page.locator("#sim-results")
    expect(results.locator("#results-heading")).to_have_text("Line (current) vs Two builders")
    expect(results.locator(".sim-changes code")).to_have_text("Build.servers=2")
    for key, part in (("lead_time_mean", "mean"), ("lead_time_p85", "p85")):
        cells = results.locator(f'tr[data-figure="{key}"] [data-value]')
        expected = [current["lead_time_days"][part], future["lead_time_days"][part]]
        shown = cells.evaluate_all("cells => cells.map(cell => cell.dataset.value)")
        assert [float(v) for v in shown] == pytest.approx(expected)
    # A second builder takes Build from about 80 % busy to about 40 %.
    build = results.locator('.sim-util tr[data-step="Build"] [data-utilisation]')
    busy = [float(v) for v in build.evaluate_all("u => u.map(x => x.dataset.utilisation)")]
    assert busy == pytest.approx(
        [current["steps"][0]["utilisation"], future["steps"][0]["utilisation"]]
    )
    assert abs(busy[1] - 0.4) < 0.04
    expect_drawn(results.locator('[data-chart="what-if"]'))
    expect_drawn(results.locator('[data-chart="sim-steps"]'))
    snap(page, "simulate-run", show=results)


# -- (i) signing in and out -------------------------------------------------------------------


def posted(page: Page, path: str) -> Callable[[Response], bool]:
    """Matches the answer to a form posted to ``path`` (for ``page.expect_response``)."""
    return lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith(path)


def test_sign_in_shows_the_user_and_sign_out_asks_for_it_again(
    signed_in_page: Page, live_server, snap
) -> None:
    page = signed_in_page
    topbar = page.get_by_role("banner")
    expect(topbar.locator(".account-name")).to_have_text(ADMIN)
    page.get_by_role("link", name="Tiny").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiny")

    topbar.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(topbar.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(topbar).not_to_contain_text(ADMIN)
    snap(page, "sign-in")

    # The stream page is closed now: the browser is sent to sign in, and back after.
    page.goto("/streams/Tiny")
    expect(page).to_have_url(f"{live_server.url}/sign-in?next=%2Fstreams%2FTiny")
    expect(page.get_by_label("User name")).to_be_visible()
    sign_in(page, ADMIN, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/streams/Tiny")
    expect(topbar.locator(".account-name")).to_have_text(ADMIN)


def test_a_wrong_password_is_refused_and_the_sixth_try_is_too_many(page: Page, live_server) -> None:
    live_server.workspace.access.add_user(ADMIN, Role.ADMIN, None, PASSWORD)
    page.goto("/sign-in")
    for _ in range(5):
        with page.expect_response(posted(page, "/sign-in")) as answer:
            sign_in(page, ADMIN, "not the password")
        assert answer.value.status == 401
        expect(page.get_by_role("alert")).to_have_text("wrong user name or password")
        expect(page.get_by_label("User name")).to_have_value(ADMIN)  # kept for the next try
        expect(page.get_by_label("Password")).to_have_value("")

    # The sixth is refused before the password is even tried: the right one does not help.
    with page.expect_response(posted(page, "/sign-in")) as answer:
        sign_in(page, ADMIN, PASSWORD)
    assert answer.value.status == 429
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.get_by_role("alert")).to_contain_text("too many wrong passwords")
    page.goto("/streams/Tiny")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_a_one_time_link_signs_in_once(page: Page, live_server) -> None:
    live_server.workspace.access.add_user(ADMIN, Role.ADMIN, None, PASSWORD)
    link = f"/sign-in/link?token={live_server.workspace.access.sign_in_link(ADMIN)}"
    page.goto(link)  # opening it changes nothing: its button signs in
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("banner").locator(".account-name")).to_have_text(ADMIN)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in")

    # Used once: opened again, it signs no one in; the sign-in form says why.
    page.goto(link)
    with page.expect_response(posted(page, "/sign-in/link")) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("alert")).to_contain_text("unknown, used or expired")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/streams/Tiny")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fstreams%2FTiny$"))


def fill_a_risk(page: Page) -> None:
    form = page.locator('form[data-form="add-risk"]')
    form.get_by_label("Key").fill("R-9")
    form.get_by_label("Title").fill("Vendor API late")
    form.get_by_label("Probability").fill("0.4")
    form.get_by_label("Impact").fill("5")


def test_a_viewer_reads_the_risks_of_their_stream_and_cannot_change_them(
    page: Page, live_server, tmp_path: Path
) -> None:
    workspace = live_server.workspace
    other = tmp_path / "other.csv"
    other.write_text(TINY_CSV, encoding="utf-8")
    workspace.import_file(other, "Other", workflow=Workflow.from_toml_text(WORKFLOW))
    workspace.access.add_user("val", Role.VIEWER, "Tiny", PASSWORD)

    page.goto("/streams/Tiny/risks")
    sign_in(page, "val", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/streams/Tiny/risks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Risks")
    expect(page.get_by_role("banner").locator(".account-name")).to_have_text("val")

    fill_a_risk(page)
    with page.expect_response(posted(page, "/streams/Tiny/risks")) as answer:
        page.get_by_role("button", name="Add the risk").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("That did not work")
    expect(page.get_by_role("alert")).to_contain_text("val is viewer there")
    assert workspace.steering.records("risk") == []

    refused = page.goto("/streams/Other/risks")
    assert refused is not None and refused.status == 403
    expect(page.get_by_role("alert")).to_contain_text("val has no role there")


def test_a_form_with_a_forged_csrf_token_is_refused(signed_in_page: Page, live_server) -> None:
    page = signed_in_page
    page.goto("/streams/Tiny/risks")
    fill_a_risk(page)
    token = page.locator('form[data-form="add-risk"] input[name="csrf_token"]')
    real = token.input_value()
    forged = ("0" if real[0] != "0" else "1") + real[1:]  # one hex digit changed
    page.evaluate(
        """forged => {
            const form = document.querySelector('form[data-form="add-risk"]');
            form.querySelector('input[name="csrf_token"]').value = forged;
        }""",
        forged,
    )
    expect(token).to_have_value(forged)
    with page.expect_response(posted(page, "/streams/Tiny/risks")) as answer:
        page.get_by_role("button", name="Add the risk").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text("CSRF token is missing or wrong")
    assert live_server.workspace.steering.records("risk") == []

    # The same form with the page's own token is saved: the token was what was refused.
    page.goto("/streams/Tiny/risks")
    fill_a_risk(page)
    page.get_by_role("button", name="Add the risk").click()
    expect(page.get_by_role("status")).to_contain_text("Saved risk R-9.")
    assert [r.key for r in live_server.workspace.steering.records("risk")] == ["R-9"]
