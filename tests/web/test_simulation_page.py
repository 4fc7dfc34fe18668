"""The simulation page: a saved map's scenario as a labelled form, a run with a changed step
showing the figures of the core's what-if for the same inputs, HTMX and plain posts, an
uploaded scenario file, and refusals shown on the page naming the field; defaults that fit
the server's budget, a refusal for size in the form's words with values that fit (both
checked against the estimate worked out by hand), and changes relative to the current state
as the CLI writes them."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app_fixtures import where_called
from obeya.core.simulation.from_map import scenario_from_map
from obeya.core.simulation.whatif import Change, what_if
from obeya.workspace import Workspace

PAGE = "/simulate?map=Line&variant=current"
# Demand 4 a day, 8 hours a day: Build 1.6 h = 0.2 days on one server (ρ 0.8), Test 0.8 h on
# two people.
LINE: dict[str, Any] = {
    "demand_per_day": 4,
    "available_hours_per_day": 8,
    "steps": [
        {"name": "Build", "process_time_hours": 1.6, "lead_time_hours": 10},
        {"name": "Test", "process_time_hours": 0.8, "lead_time_hours": 4, "people": 2},
    ],
}
SCENARIO_TOML = b"""
name = "uploaded"
arrival_rate_per_day = 1.5
days = 300
warmup_days = 30
replications = 2

[[step]]
name = "Review"
servers = 1
process_time_days = { distribution = "constant", mean = 0.4 }
wip_limit = 3
"""


@pytest.fixture
def saved(client: TestClient) -> TestClient:
    assert client.put("/api/maps/Line/current", json={"map": LINE}).status_code == 200
    return client


def form_fields(page: str) -> dict[str, str]:
    """The simulation form's fields as a browser posts them."""
    form = page[page.index('<form class="sim-form"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        assert name is not None
        fields[html.unescape(name[1])] = html.unescape(value[1]) if value else ""
    return fields


def cell_values(page: str, figure: str) -> list[float]:
    row = re.search(rf'<tr data-figure="{figure}".*?</tr>', page, re.S)
    assert row is not None, figure
    return [float(v) for v in re.findall(r'data-value="([^"]*)"', row[0])]


def difference(page: str, figure: str) -> float:
    row = re.search(rf'<tr data-figure="{figure}".*?</tr>', page, re.S)
    assert row is not None
    return float(re.search(r'data-difference="([^"]*)"', row[0])[1])  # type: ignore[index]


def test_the_picker_lists_saved_maps_and_the_pages_link_here(saved: TestClient) -> None:
    picker = saved.get("/simulate")
    assert picker.status_code == 200
    assert 'href="/simulate?map=Line&amp;variant=current"' in picker.text
    assert 'type="file"' in picker.text and 'for="sim-file"' in picker.text
    assert '<a href="/simulate">Simulate</a>' in picker.text  # the top navigation
    assert 'href="/simulate?map=Line&amp;variant=current"' in saved.get("/maps/Line/current").text


def test_the_page_shows_the_map_scenario_as_labelled_inputs(
    saved: TestClient, workspace: Workspace
) -> None:
    page = saved.get(PAGE).text
    fields = form_fields(page)
    # The future state starts as the map's scenario: Build one server, Test two (its people).
    scenario = scenario_from_map(workspace.get_map("Line").map)
    assert [s.servers for s in scenario.steps] == [1, 2]
    assert (fields["s-0-servers"], fields["s-1-servers"]) == ("1", "2")
    assert (fields["s-0-wip_limit"], fields["s-0-batch_size"], fields["s-0-availability"]) == (
        "0",
        "1",
        "1",
    )
    assert fields["arrival_rate_per_day"] == "4"
    # Quick page defaults rather than the CLI's 2000 days.
    assert (fields["days"], fields["warmup_days"], fields["replications"]) == ("1000", "100", "5")
    for name in ("Build", "Test"):
        assert f'<th scope="row">{name}</th>' in page
    # Every visible input has a label.
    form = page[
        page.index('<form class="sim-form"') : page.index("</form>", page.index("sim-form"))
    ]
    for tag in re.findall(r"<input [^>]*>", form):
        if 'type="hidden"' in tag:
            continue
        ident = re.search(r'id="([^"]*)"', tag)
        assert ident is not None, tag
        assert f'<label for="{ident[1]}"' in form or f'for="{ident[1]}">' in form, tag
    assert '<label class="visually-hidden" for="s-0-servers">Build: Servers' in form


def test_a_changed_server_count_shows_the_core_what_if(
    saved: TestClient, workspace: Workspace
) -> None:
    fields = form_fields(saved.get(PAGE).text)
    fields.update(
        {
            "days": "500",
            "warmup_days": "50",
            "replications": "3",
            "seed": "4",
            "future_name": "Two builders",
            "s-0-servers": "2",
        }
    )
    response = saved.post("/simulate/run", data=fields)
    assert response.status_code == 200, response.text
    page = response.text

    base = scenario_from_map(
        workspace.get_map("Line").map, days=500, warmup_days=50, replications=3, seed=4
    )
    doc = what_if(base, [("Two builders", [Change("servers", 2.0, "Build")])]).to_dict()
    current, future = doc["scenarios"]
    assert current["scenario"] == "Line (current)"
    assert html.escape("Line (current)") in page and "Two builders" in page
    assert "<code>Build.servers=2</code>" in page
    for key, part in (
        ("lead_time_p50", "p50"),
        ("lead_time_p85", "p85"),
        ("lead_time_mean", "mean"),
    ):
        expected = [current["lead_time_days"][part], future["lead_time_days"][part]]
        assert cell_values(page, key) == expected
        assert difference(page, key) == future["difference"][key]["value"]
        assert f"{expected[1]:,.2f}" in page
    assert cell_values(page, "throughput_per_day") == [
        current["throughput_per_day"],
        future["throughput_per_day"],
    ]
    assert cell_values(page, "wip") == [current["wip"], future["wip"]]
    # The extra server takes Build from about 80 % to about 40 %, a significant gain.
    utilisations = [
        float(u)
        for u in re.findall(
            r'data-utilisation="([^"]*)"',
            page[page.index('data-step="Build"', page.index("sim-util")) :],
        )[:2]
    ]
    assert utilisations == [current["steps"][0]["utilisation"], future["steps"][0]["utilisation"]]
    assert abs(utilisations[1] - 0.4) < 0.04
    lead = future["difference"]["lead_time_mean"]
    assert lead["significant"] and lead["value"] < 0
    row = re.search(r'<tr data-figure="lead_time_mean".*?</tr>', page, re.S)[0]  # type: ignore[index]
    assert 'class="better"' in row and "significant" in row
    ci = lead["ci95"]
    assert f"[{ci[0]:+.2f}, {ci[1]:+.2f}]".replace("-", "−") in row
    # The charts are embedded for vega-embed, and the run's time is shown.
    assert 'data-chart="what-if"' in page and 'id="spec-what-if"' in page
    assert 'data-chart="sim-steps"' in page
    assert re.search(r"Ran in \d+\.\d s", page)
    # The form comes back as it was posted.
    assert form_fields(page)["s-0-servers"] == "2"


def test_htmx_gets_the_results_alone(saved: TestClient) -> None:
    fields = form_fields(saved.get(PAGE).text)
    fields.update({"days": "200", "warmup_days": "20", "replications": "2", "s-1-wip_limit": "3"})
    response = saved.post("/simulate/run", data=fields, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="sim-results"')
    assert "<html" not in response.text
    assert "<code>Test.wip_limit=3</code>" in response.text
    # An error in an HTMX run is swapped in as the results (200, so htmx swaps it).
    fields["s-1-batch_size"] = "0"
    bad = saved.post("/simulate/run", data=fields, headers={"HX-Request": "true"})
    assert bad.status_code == 200
    assert "step[1] ('Test'): batch_size is 0; give a whole number ≥ 1" in html.unescape(bad.text)


def test_bad_fields_are_shown_naming_the_field(saved: TestClient) -> None:
    fields = form_fields(saved.get(PAGE).text)
    fields.update({"days": "200", "warmup_days": "20", "replications": "2"})

    response = saved.post("/simulate/run", data={**fields, "s-1-wip_limit": "0.5"})
    assert response.status_code == 422
    assert "Test: WIP limit is '0.5'; give a whole number" in html.unescape(response.text)
    assert form_fields(response.text)["s-1-wip_limit"] == "0.5"  # the form is kept

    # A signed value is a change from now, as the CLI's: Build has one person, so -1 would
    # leave none, which for servers reads "unlimited".
    response = saved.post("/simulate/run", data={**fields, "s-0-servers": "-1"})
    assert response.status_code == 422
    assert (
        "change Build.servers=-1: Build.servers is 1; a relative change must leave at least 1"
        in html.unescape(response.text)
    )

    response = saved.post("/simulate/run", data={**fields, "s-0-servers": "two"})
    assert response.status_code == 422
    assert "Build: Servers is 'two'; give a whole number" in html.unescape(response.text)

    response = saved.post("/simulate/run", data={**fields, "replications": "51"})
    assert response.status_code == 422
    assert "replications is 51; the server runs at most 50" in html.unescape(response.text)

    response = saved.post("/simulate/run", data={**fields, "days": "10"})
    assert response.status_code == 422
    assert "days is 10.0; it must be longer than warmup_days" in html.unescape(response.text)


def test_a_map_without_demand_says_so(client: TestClient) -> None:
    client.put("/api/maps/Idle/current", json={"map": {**LINE, "demand_per_day": None}})
    response = client.get("/simulate?map=Idle")
    assert response.status_code == 422
    assert "demand_per_day is not given" in response.text
    assert 'href="/maps/Idle/current"' in response.text
    assert client.get("/simulate?map=Nope", headers={"accept": "text/html"}).status_code == 404


def test_an_uploaded_scenario_file_is_the_baseline(client: TestClient) -> None:
    page = client.post("/simulate/upload", files={"scenario": ("review.toml", SCENARIO_TOML)})
    assert page.status_code == 200
    assert "From the file review.toml" in page.text
    fields = form_fields(page.text)
    assert (fields["s-0-wip_limit"], fields["arrival_rate_per_day"]) == ("3", "1.5")
    assert (fields["days"], fields["replications"]) == ("300", "2")
    run = client.post("/simulate/run", data={**fields, "s-0-wip_limit": "1"})
    assert run.status_code == 200, run.text
    assert "<code>Review.wip_limit=1</code>" in run.text and "uploaded" in run.text

    no_rate = SCENARIO_TOML.replace(b"arrival_rate_per_day = 1.5\n", b"")
    bad = client.post("/simulate/upload", files={"scenario": ("bad.toml", no_rate)})
    assert bad.status_code == 422
    assert "bad.toml: arrival_rate_per_day is missing; give it (items per day)" in html.unescape(
        bad.text
    )


def test_fields_left_as_shown_are_no_change(client: TestClient) -> None:
    # A rate the form rounds (9.641933… shows as 9.64193) is no change when left as shown.
    odd = {**LINE, "demand_per_day": 9.641933481747406}
    odd["steps"] = [{**LINE["steps"][0], "people": 3}, LINE["steps"][1]]
    assert client.put("/api/maps/Odd/current", json={"map": odd}).status_code == 200
    fields = form_fields(client.get("/simulate?map=Odd&variant=current").text)
    assert fields["arrival_rate_per_day"] == "9.64193"
    fields.update({"days": "200", "warmup_days": "20", "replications": "2", "s-1-servers": "3"})
    page = client.post("/simulate/run", data=fields).text
    changes = re.findall(r"<code>([^<]*)</code>", page)
    assert "Test.servers=3" in changes
    assert not any(c.startswith("arrival_rate_per_day") for c in changes), changes


def test_an_overloaded_step_is_said_on_the_page(saved: TestClient) -> None:
    # Build works 0.2 day an item on one server; 6 arrivals a day offer it 120 % of its time.
    fields = form_fields(saved.get(PAGE).text)
    fields.update({"days": "200", "warmup_days": "20", "replications": "2"})
    fields["arrival_rate_per_day"] = "6"
    page = html.unescape(saved.post("/simulate/run", data=fields).text)
    assert 'data-warning="Future state"' in page
    assert "Build: offered 120 % of its capacity" in page
    assert 'data-warning="Line (current)"' not in page  # 4 a day: 80 %


# The estimate of Line by hand: per item 3 events (arrival, start, end), a pass on Build (one
# server: request, work, release) 3 and one on Test (two servers) 3: 9 events; at 4 a day that
# is 36 events a simulated day in one replication, and a page's run is the current state and
# a future state like it: 2 × 5 replications × 36 = 360 events a day with 5 replications.
LINE_EVENTS_PER_ITEM = 3 + 3 + 3
LINE_EVENTS_PER_DAY = 2 * 4 * LINE_EVENTS_PER_ITEM  # both states, one replication


def budget_note(page: str) -> str:
    note = re.search(r"<span data-budget-note>([^<]*)</span>", page)
    assert note is not None
    return html.unescape(note[1])


def error_of(page: str) -> str:
    found = re.search(r"<strong>Not simulated\.</strong> ([^<]*)</div>", page)
    assert found is not None, page
    return html.unescape(found[1])


def test_the_defaults_fit_the_budget_and_the_page_says_how_many_days_do(
    saved: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server's default, 2,000,000: 1000 days need 360,000 events; 5,555 days fit.
    assert 5 * LINE_EVENTS_PER_DAY == 360
    page = saved.get(PAGE).text
    fields = form_fields(page)
    assert (fields["days"], fields["warmup_days"], fields["replications"]) == ("1000", "100", "5")
    assert budget_note(page) == (
        "up to 5,555 days fit this server's budget at 4 arrivals a day "
        "(5 replications, current and future state together)"
    )

    # 100,000 allow 100,000 / 360 = 277.8 days: the longest round span is 200, warm-up 20.
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "100000")
    page = saved.get(PAGE).text
    fields = form_fields(page)
    assert (fields["days"], fields["warmup_days"], fields["replications"]) == ("200", "20", "5")
    assert budget_note(page).startswith("up to 277 days fit this server's budget")
    # Run as it comes: it fits (200 × 360 = 72,000 events) and runs.
    run = saved.post("/simulate/run", data=fields)
    assert run.status_code == 200, error_of(run.text)
    assert "Ran in" in run.text and "5 replications of 200 days (warm-up 20)" in run.text

    # 10,000 allow 27 days of 5 replications, under the shortest span (30): at 30 days one
    # replication of both states is 30 × 72 = 2,160 events, so 4 fit (8,640).
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "10000")
    fields = form_fields(saved.get(PAGE).text)
    assert (fields["days"], fields["warmup_days"], fields["replications"]) == ("30", "3", "4")


def test_a_busy_stream_starts_short_enough_to_run(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled sample's case: a stream of hundreds of items a day does not fit 1000
    days. 400 a day × 9 events × 2 states × 5 replications = 36,000 events a day: 2,000,000
    allow 55 days, so the page starts at 50 (warm-up 5), and a refusal of 1000 days (warm-up
    100, which would leave under half of 55 days measured) suggests a warm-up of 5 too."""
    busy = {**LINE, "demand_per_day": 400}
    busy["steps"] = [{**step, "people": 200} for step in LINE["steps"]]
    assert client.put("/api/maps/Busy/current", json={"map": busy}).status_code == 200
    page = client.get("/simulate?map=Busy&variant=current").text
    fields = form_fields(page)
    assert (fields["days"], fields["warmup_days"], fields["replications"]) == ("50", "5", "5")
    assert budget_note(page) == (
        "up to 55 days fit this server's budget at 400 arrivals a day "
        "(5 replications, current and future state together)"
    )
    # Run as it comes is accepted (checked by size, not run: 1.8 million events take seconds).
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", str(50 * 36_000))
    assert "up to 50 days fit" in budget_note(client.get("/simulate?map=Busy").text)
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", str(50 * 36_000 - 1))
    assert form_fields(client.get("/simulate?map=Busy").text)["days"] == "30"

    # 1000 days are refused in the form's words: 36,000 × 1000 = 36 million events.
    monkeypatch.delenv("OBEYA_MAX_SIM_EVENTS")
    refused = client.post("/simulate/run", data={**fields, "days": "1000", "warmup_days": "100"})
    assert refused.status_code == 422
    assert error_of(refused.text) == (
        "Too large for this server: 1,000 days × 5 replications at 400 items a day (9 events "
        "each) is about 36 million simulated events for the current state and the future "
        "state together; the limit is 2 million. Try at most 55 days with a warm-up of 5. "
        "Larger runs: `obeya what-if` on the command line has no such limit."
    )


def test_a_run_over_the_budget_is_refused_in_the_forms_words(
    saved: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1000 days of 5 replications need 360,000 events; 150,000 allow 150,000 / 360 =
    416.7 days, or 150,000 / (1000 × 72) = 2.08 replications: the message says 416 days
    or 2 replications, and both are accepted."""
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "150000")
    fields = form_fields(saved.get(PAGE).text)
    fields.update({"days": "1000", "warmup_days": "100", "replications": "5"})
    response = saved.post("/simulate/run", data=fields)
    assert response.status_code == 422
    message = error_of(response.text)
    assert message == (
        "Too large for this server: 1,000 days × 5 replications at 4 items a day (9 events "
        "each) is about 360,000 simulated events for the current state and the future state "
        "together; the limit is 150,000. Try at most 416 days, or 2 replications. Larger "
        "runs: `obeya what-if` on the command line has no such limit."
    )
    for internal in ("arrival_rate_per_day", "OBEYA_MAX_SIM_EVENTS", "complete_accurate"):
        assert internal not in message
    # The form is kept, and its note follows the posted run.
    assert form_fields(response.text)["days"] == "1000"
    assert budget_note(response.text).startswith("up to 416 days fit")
    # Both suggestions fit: 416 × 360 = 149,760 and 1000 × 72 × 2 = 144,000 events.
    for change in ({"days": "416"}, {"replications": "2"}):
        run = saved.post("/simulate/run", data={**fields, **change})
        assert run.status_code == 200, error_of(run.text)
    # A day more does not (417 × 360 = 150,120).
    over = saved.post("/simulate/run", data={**fields, "days": "417"})
    assert "about 150,120 simulated events" in error_of(over.text)


def test_a_future_state_that_adds_work_is_counted_with_the_current_state(
    saved: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Doubled demand in the future state: 200 days × 5 replications × (4 + 8 a day) × 9
    events = 108,000, over 100,000; 100,000 / (5 × 12 × 9) = 185.2 days fit, or
    100,000 / (200 × 12 × 9) = 4.6 replications."""
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "100000")
    fields = form_fields(saved.get(PAGE).text)
    assert fields["days"] == "200"  # 200 days of the current state twice: 72,000
    fields["arrival_rate_per_day"] = "+100%"
    message = error_of(saved.post("/simulate/run", data=fields).text)
    assert message.startswith(
        "Too large for this server: 200 days × 5 replications at 4 items a day (9 events each) "
        "now and 8 items a day (9 events each) in the future state is about 108,000 simulated "
        "events for the current state and the future state together; the limit is 100,000. "
        "Try at most 185 days, or 4 replications."
    )


def test_the_run_route_is_off_the_event_loop(saved: TestClient) -> None:
    import obeya.workspace_simulation as routes

    fields = form_fields(saved.get(PAGE).text)
    fields.update({"days": "200", "warmup_days": "20", "replications": "2"})
    with where_called(routes, "what_if") as on_loop:
        assert saved.post("/simulate/run", data=fields).status_code == 200
    assert on_loop == [False]


def test_differences_from_a_current_state_that_cannot_keep_up_are_not_shaded(
    client: TestClient,
) -> None:
    """6 a day offer Build 120 % of one person: the current state has no steady state, so a
    second person's (large, significant) effect is shown but not shaded as better, and the page
    says why."""
    assert (
        client.put(
            "/api/maps/Over/current", json={"map": {**LINE, "demand_per_day": 6}}
        ).status_code
        == 200
    )
    fields = form_fields(client.get("/simulate?map=Over&variant=current").text)
    fields.update({"days": "200", "warmup_days": "20", "replications": "3", "s-0-servers": "2"})
    page = html.unescape(client.post("/simulate/run", data=fields).text)
    assert 'id="unstable-baseline"' in page
    assert "not shaded as better or worse" in page
    row = page[page.index('data-figure="lead_time_mean"') :]
    row = row[: row.index("</tr>")]
    assert "significant" in row and difference(page, "lead_time_mean") < 0
    assert 'class="better"' not in page and 'class="worse"' not in page


def test_availability_is_typed_as_a_share(saved: TestClient) -> None:
    """Availability is a share like any other: 80% and 80 % are 0.8 (80 / 100); a bare 80 is
    refused, naming the step and the field, rather than read as 80 %."""
    fields = form_fields(saved.get(PAGE).text)
    fields.update({"days": "200", "warmup_days": "20", "replications": "2"})
    for typed in ("80%", "80 %", "0.8"):
        page = saved.post("/simulate/run", data={**fields, "s-0-availability": typed})
        assert page.status_code == 200, page.text
        assert "<code>Build.availability=0.8</code>" in page.text
    refused = saved.post("/simulate/run", data={**fields, "s-0-availability": "80"})
    assert refused.status_code == 422
    assert (
        "Build: Availability is '80'; a share is a fraction up to 1 or a percentage: "
        "write 0.8 or 80 %"
    ) in html.unescape(refused.text)


def test_process_times_read_as_figures(client: TestClient) -> None:
    """A map's 0 h is the simulation's least process time, a millionth of a day: shown as
    under 0.001, not 1e-06; %C&A as a share, as the map shows it. An item costs 3 events,
    1 ÷ 0.25 = 4 passes of Triage 3 each and one of Resolve 3: 18; 10 a day × 18 × 2 states
    × 5 replications = 1,800 events a day, so 2,000,000 allow 1,111 days."""
    rework = {
        "demand_per_day": 10,
        "available_hours_per_day": 8,
        "steps": [
            {
                "name": "Triage",
                "process_time_hours": 0,
                "lead_time_hours": 2,
                "complete_accurate": 0.25,
            },
            {"name": "Resolve", "process_time_hours": 2, "lead_time_hours": 8, "people": 5},
        ],
    }
    assert client.put("/api/maps/Rework/current", json={"map": rework}).status_code == 200
    page = html.unescape(client.get("/simulate?map=Rework&variant=current").text)
    triage = page[page.index('<tr data-step="Triage">') :]
    assert '<td class="num">< 0.001 <span class="muted">÷ %C&A 25 %</span></td>' in triage
    resolve = page[page.index('<tr data-step="Resolve">') :]
    assert '<td class="num">0.25</td>' in resolve  # 2 h of an 8-hour day
    table = page[page.index('<table class="steps-table sim-steps">') :]
    assert "1e-06" not in table[: table.index("</table>")]
    assert budget_note(page).startswith("up to 1,111 days fit this server's budget at 10")


def test_fields_take_changes_from_now_as_the_cli_writes_them(
    saved: TestClient, workspace: Workspace
) -> None:
    """+10 % on the arrival rate is a tenth more items a day (4.4), +1 one more person, −1
    (the page's own minus sign too) one fewer, −20 % a fifth less availability: the figures
    are the core what-if's for the same changes."""
    fields = form_fields(saved.get(PAGE).text)
    fields.update(
        {
            "days": "200",
            "warmup_days": "20",
            "replications": "2",
            "arrival_rate_per_day": "+10 %",
            "s-0-servers": "+1",
            "s-1-servers": "−1",
            "s-1-availability": "-20%",
        }
    )
    response = saved.post("/simulate/run", data=fields)
    assert response.status_code == 200, error_of(response.text)
    changes = re.findall(r"<code>([^<]*)</code>", response.text)
    expected = [
        "arrival_rate_per_day=+10%",
        "Build.servers=+1",
        "Test.servers=-1",
        "Test.availability=-20%",
    ]
    assert changes[: len(expected)] == expected
    base = scenario_from_map(
        workspace.get_map("Line").map, days=200, warmup_days=20, replications=2, seed=1
    )
    doc = what_if(
        base,
        [
            (
                "Future state",
                [
                    Change("arrival_rate_per_day", 1.1, how="scale"),
                    Change("servers", 1.0, "Build", "add"),
                    Change("servers", -1.0, "Test", "add"),
                    Change("availability", 0.8, "Test", "scale"),
                ],
            )
        ],
    ).to_dict()
    current, future = doc["scenarios"]
    assert cell_values(response.text, "throughput_per_day") == [
        current["throughput_per_day"],
        future["throughput_per_day"],
    ]
    assert abs(future["throughput_per_day"] - 4.4) < 0.3  # 4 a day and a tenth

    # What is not a number or a change says what the field takes.
    bad = saved.post("/simulate/run", data={**fields, "arrival_rate_per_day": "+ten%"})
    assert bad.status_code == 422
    assert error_of(bad.text) == (
        "Arrival rate per day is '+ten%'; give a number, or a change from now: +1, −1, +10 %, −20 %"
    )
    bad = saved.post("/simulate/run", data={**fields, "s-0-servers": "-150%"})
    assert error_of(bad.text) == (
        "Build: Servers is '-150%'; a percentage above -100% and at most +10000%"
    )
