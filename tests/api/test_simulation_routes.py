"""The simulation API: POST /api/simulate and /api/what-if give the CLI's documents (checked
against the core run in the test, and against queueing theory), a saved map becomes the
scenario ``scenario_from_map`` makes, and every refusal has the standard error body naming
the field."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app_fixtures import where_called
from obeya.core.simulation import scenario_from_dict, scenario_to_dict, simulate
from obeya.core.simulation.from_map import scenario_from_map
from obeya.core.simulation.whatif import parse_change, what_if
from obeya.workspace import Workspace
from obeya.workspace_simulation import DEFAULT_MAX_SIM_EVENTS, MAX_REPLICATIONS, check_size

# M/M/1 with λ = 4 a day and a mean service of 0.2 days: ρ = 0.8, W = 1 / (μ − λ) = 1 day.
MM1: dict[str, Any] = {
    "name": "current",
    "arrival_rate_per_day": 4.0,
    "days": 1500,
    "warmup_days": 100,
    "replications": 4,
    "seed": 7,
    "step": [
        {
            "name": "Build",
            "servers": 1,
            "process_time_days": {"distribution": "exponential", "mean": 0.2},
        }
    ],
}
# A short two-step stream for the tests that only need a run.
SMALL: dict[str, Any] = {
    "name": "small",
    "arrival_rate_per_day": 2.0,
    "days": 300,
    "warmup_days": 30,
    "replications": 3,
    "seed": 3,
    "step": [
        {"name": "Build", "process_time_days": {"distribution": "exponential", "mean": 0.3}},
        {"name": "Test", "process_time_days": {"distribution": "constant", "mean": 0.2}},
    ],
}
# Demand 4 a day, 8 hours a day: Build 1.6 h = 0.2 days (ρ 0.8), Test 0.8 h = 0.1 days.
LINE: dict[str, Any] = {
    "demand_per_day": 4,
    "available_hours_per_day": 8,
    "steps": [
        {"name": "Build", "process_time_hours": 1.6, "lead_time_hours": 10},
        {"name": "Test", "process_time_hours": 0.8, "lead_time_hours": 4, "people": 2},
    ],
}


def assert_error(response: Any, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "message", "detail"}
    assert body["error"]["type"] == kind
    message = body["error"]["message"]
    assert isinstance(message, str)
    return message


def test_simulate_gives_the_core_document(client: TestClient) -> None:
    response = client.post("/api/simulate", json=SMALL)
    assert response.status_code == 200, response.text
    assert response.json() == simulate(scenario_from_dict(SMALL)).to_dict()


def test_simulate_mm1_matches_queueing_theory(client: TestClient) -> None:
    doc = client.post("/api/simulate", json=MM1).json()
    assert doc["replications"] == 4 and len(doc["per_replication"]) == 4
    assert abs(doc["lead_time_days"]["mean"] - 1.0) <= 0.10  # W = 1 day
    assert abs(doc["steps"][0]["utilisation"] - 0.8) <= 0.8 * 0.05  # ρ = λ s
    assert abs(doc["throughput_per_day"] - 4.0) <= 0.2  # what arrives leaves
    assert doc["constraint"] == "Build"


def test_what_if_doubling_the_server_halves_utilisation(client: TestClient) -> None:
    body = {"baseline": MM1, "futures": [{"name": "Two builders", "changes": ["Build.servers=2"]}]}
    response = client.post("/api/what-if", json=body)
    assert response.status_code == 200, response.text
    doc = response.json()
    expected = what_if(
        scenario_from_dict(MM1), [("Two builders", [parse_change("Build.servers=2")])]
    ).to_dict()
    assert doc == expected  # no chart unless asked
    base, future = doc["scenarios"]
    assert (doc["baseline"], base["scenario"], future["scenario"]) == (
        "current",
        "current",
        "Two builders",
    )
    assert future["changes"] == ["Build.servers=2"]
    assert abs(future["steps"][0]["utilisation"] - 0.4) <= 0.4 * 0.05  # λ s / 2
    lead = future["difference"]["lead_time_mean"]
    assert lead["significant"] and lead["value"] < 0 and lead["ci95"][1] < 0
    # M/M/2 with ρ = 0.4: W = s + C(2, 0.8) s / (2 − 0.8) = 0.2 + 0.2286 × 0.2 / 1.2 days.
    assert abs(future["lead_time_days"]["mean"] - 0.2381) <= 0.2381 * 0.10


def test_what_if_takes_whole_scenarios_and_gives_the_chart(client: TestClient) -> None:
    faster = copy.deepcopy(SMALL)
    faster["name"] = "faster"
    faster["step"][0]["process_time_days"]["mean"] = 0.1
    faster["replications"] = 1  # the baseline's replications and seed win: a paired run
    body = {
        "baseline": SMALL,
        "futures": [{"scenario": faster}, {"changes": ["Test.wip_limit=2"]}],
    }
    doc = client.post("/api/what-if?chart=true", json=body).json()
    chart = doc.pop("chart")
    names = [s["scenario"] for s in doc["scenarios"]]
    assert names == ["small", "faster", "Test.wip_limit=2"]
    assert [s["replications"] for s in doc["scenarios"]] == [3, 3, 3]
    assert chart["datasets"]["whatif"][0]["scenario"] == "small"
    assert {row["scenario"] for row in chart["datasets"]["whatif"]} == set(names)


def test_refusals_name_the_field(client: TestClient) -> None:
    bad = copy.deepcopy(SMALL)
    bad["step"][1]["servers"] = -1
    message = assert_error(client.post("/api/simulate", json=bad), 422, "ScenarioError")
    assert message.startswith("scenario: step[1] ('Test'): servers is -1; give a whole number ≥ 0")

    gamma = copy.deepcopy(SMALL)
    gamma["step"][0]["process_time_days"]["distribution"] = "gamma"
    message = assert_error(client.post("/api/simulate", json=gamma), 422, "ScenarioError")
    assert message.startswith(
        "scenario: step[0] ('Build'): process_time_days: distribution is 'gamma'; give one of "
        "exponential, lognormal, constant, empirical"
    )

    unknown = {"baseline": SMALL, "futures": [{"changes": ["Deploy.servers=2"]}]}
    message = assert_error(client.post("/api/what-if", json=unknown), 422, "ScenarioError")
    assert (
        message
        == "futures[0]: change Deploy.servers=2: no step 'Deploy'; the steps are Build, Test"
    )

    # A signed value is relative (one person fewer is -1): -2 from one person leaves none.
    negative = {"baseline": SMALL, "futures": [{"name": "Two", "changes": ["Test.servers=-2"]}]}
    message = assert_error(client.post("/api/what-if", json=negative), 422, "ScenarioError")
    assert message == (
        "futures[0]: change Test.servers=-2: Test.servers is 1; a relative change must leave "
        "at least 1 (write the number itself)"
    )
    bad = {"baseline": SMALL, "futures": [{"name": "Two", "changes": ["Test.availability=2"]}]}
    message = assert_error(client.post("/api/what-if", json=bad), 422, "ScenarioError")
    # A share above 1 is refused where it is typed, naming the change and the field.
    assert message.startswith(
        "futures[0].changes[0]: change 'Test.availability=2': availability is '2'; a share is "
    )

    wrong = {"baseline": SMALL, "futures": [{"changes": ["Build.colour=2"]}]}
    message = assert_error(client.post("/api/what-if", json=wrong), 422, "ScenarioError")
    assert message.startswith("futures[0].changes[0]: change 'Build.colour=2'")

    both = {"baseline": SMALL, "futures": [{"changes": ["Build.servers=2"], "scenario": SMALL}]}
    message = assert_error(client.post("/api/what-if", json=both), 422, "ScenarioError")
    assert message.startswith("futures[0]: give changes or scenario")

    broken_baseline = {"baseline": {**SMALL, "days": 10}, "futures": [{"changes": ["seed=2"]}]}
    message = assert_error(client.post("/api/what-if", json=broken_baseline), 422, "ScenarioError")
    assert message.startswith("baseline: days is 10.0")

    missing = client.post("/api/what-if", json={"baseline": SMALL})
    assert "futures" in assert_error(missing, 422, "ValidationError")


def test_runs_too_large_for_a_request_are_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = {**SMALL, "replications": MAX_REPLICATIONS + 1}
    message = assert_error(client.post("/api/simulate", json=many), 422, "ScenarioError")
    assert message.startswith(f"scenario: replications is {MAX_REPLICATIONS + 1}")

    # SMALL by hand: 3 events per item, a pass on each of its two one-server steps 3 more:
    # 9 events per item, × 2 arrivals a day × 3 replications = 54 events a simulated day.
    days = DEFAULT_MAX_SIM_EVENTS // 54 + 10
    long = {**SMALL, "days": days}
    message = assert_error(client.post("/api/simulate", json=long), 422, "ScenarioError")
    assert f"about {54 * days:,} simulated events" in message
    assert f"days {days:,} × arrival_rate_per_day 2 × 9 events per item" in message
    assert "× replications 3" in message and "OBEYA_MAX_SIM_EVENTS" in message
    just_inside = scenario_from_dict({**SMALL, "days": days - 20})
    assert check_size(just_inside) == 54 * (days - 20)  # accepted: the estimate comes back

    # A change may make the run too large too: the future is checked before anything runs,
    # and the message says the total the limit is compared with: the baseline's 300 days ×
    # 54 = 16,200 and the future's 300 × 10,000 a day × 9 × 3 = 81,000,000.
    rush = {"baseline": SMALL, "futures": [{"changes": ["arrival_rate_per_day=10000"]}]}
    response = client.post("/api/what-if", json=rush)
    message = assert_error(response, 422, "ScenarioError")
    assert message.startswith("futures[0]: the run would take about 81,000,000 simulated events")
    assert (
        "; with the 16,200 of the scenarios before it that is 81,016,200 in all, and the "
        "server runs at most 2,000,000 per request (OBEYA_MAX_SIM_EVENTS)"
    ) in message
    assert response.json()["error"]["detail"] is None  # as every refusal for size

    # Together over the limit, each under it: 2 × 16,200 against 20,000.
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "20000")
    twice = {"baseline": SMALL, "futures": [{"changes": ["Build.servers=2"]}]}
    message = assert_error(client.post("/api/what-if", json=twice), 422, "ScenarioError")
    assert message.startswith("futures[0]: the run would take about 16,200 simulated events")
    assert "16,200 of the scenarios before it that is 32,400 in all" in message


def test_a_saved_map_becomes_its_scenario(client: TestClient, workspace: Workspace) -> None:
    assert client.put("/api/maps/Line/current", json={"map": LINE}).status_code == 200
    response = client.get(
        "/api/maps/Line/current/scenario",
        params={"days": 500, "warmup_days": 50, "replications": 2, "seed": 9},
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    vsm = workspace.get_map("Line").map
    expected = scenario_from_map(vsm, days=500, warmup_days=50, replications=2, seed=9)
    assert doc == scenario_to_dict(expected)
    # By hand: demand is the arrival rate, hands-on hours ÷ 8 h a day are days, people servers.
    assert doc["arrival_rate_per_day"] == 4.0
    assert [s["process_time_days"]["mean"] for s in doc["step"]] == [0.2, 0.1]
    assert [s["servers"] for s in doc["step"]] == [1, 2]
    # The document is a body POST /api/simulate takes.
    assert client.post("/api/simulate", json=doc).status_code == 200

    constant = client.get("/api/maps/Line/current/scenario?distribution=constant").json()
    assert {s["process_time_days"]["distribution"] for s in constant["step"]} == {"constant"}
    assert constant["days"] == 2000.0  # the CLI's default span

    gamma = client.get("/api/maps/Line/current/scenario?distribution=gamma")
    assert "distribution" in assert_error(gamma, 422, "ValidationError")
    assert_error(client.get("/api/maps/Nope/current/scenario"), 404, "NotFoundError")
    no_demand = {**LINE, "demand_per_day": None}
    client.put("/api/maps/Idle/current", json={"map": no_demand})
    message = assert_error(client.get("/api/maps/Idle/current/scenario"), 422, "ScenarioError")
    assert "demand_per_day is not given" in message


def test_the_routes_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, method in (
        ("/api/simulate", "post"),
        ("/api/what-if", "post"),
        ("/api/maps/{name}/{variant}/scenario", "get"),
    ):
        assert spec["paths"][path][method]["tags"] == ["simulation"]
    assert "Simulation" in spec["info"]["description"]


def test_numbers_no_run_can_hold_are_refused_naming_the_field(client: TestClient) -> None:
    # Python's JSON reads 1e400 as inf; each of these once ended in a 500.
    body = '{"arrival_rate_per_day": 2, "days": 300, "step": [{"name": "B", "servers": 1e400, "process_time_days": {"distribution": "constant", "mean": 0.1}}]}'  # noqa: E501
    response = client.post(
        "/api/simulate", content=body, headers={"content-type": "application/json"}
    )
    assert assert_error(response, 422, "ScenarioError").startswith(
        "scenario: step[0] ('B'): servers is inf; give a whole number"
    )
    assert response.json()["error"]["detail"] == {"field": "servers", "value": "inf"}
    avail = copy.deepcopy(SMALL)
    avail["step"][0]["availability"] = 5e-324  # 1 ÷ availability is inf
    message = assert_error(client.post("/api/simulate", json=avail), 422, "ScenarioError")
    assert message.startswith("scenario: step[0] ('Build'): availability is 5e-324; give a share")
    change = {"baseline": SMALL, "futures": [{"changes": ["Build.servers=" + "9" * 400]}]}
    message = assert_error(client.post("/api/what-if", json=change), 422, "ScenarioError")
    assert message.startswith("futures[0].changes[0]: change 'Build.servers=999")


def test_endless_rework_is_refused_before_it_runs(client: TestClient) -> None:
    endless = copy.deepcopy(SMALL)
    endless["step"][0]["complete_accurate"] = 1e-9  # a billion passes per item
    message = assert_error(client.post("/api/simulate", json=endless), 422, "ScenarioError")
    assert "1/complete_accurate" in message and "OBEYA_MAX_SIM_EVENTS" in message


def test_the_budget_follows_the_environment(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "10000")  # SMALL needs 16,200
    message = assert_error(client.post("/api/simulate", json=SMALL), 422, "ScenarioError")
    assert "about 16,200 simulated events" in message and "at most 10,000" in message
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", "20000")
    assert client.post("/api/simulate", json=SMALL).status_code == 200


def test_the_simulation_runs_in_a_worker_thread(client: TestClient) -> None:
    import obeya.workspace_simulation as routes

    with where_called(routes, "simulate") as on_loop:
        assert client.post("/api/simulate", json=SMALL).status_code == 200
    assert on_loop == [False]


@pytest.mark.parametrize("path", ["/api/simulate", "/api/what-if"])
def test_a_client_that_leaves_stops_the_run(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A run of hours (budget lifted) is sent straight to the app; the client disconnects
    after 0.5 s; the call (and so the worker thread, which the route awaits) ends soon."""
    monkeypatch.setenv("OBEYA_MAX_SIM_EVENTS", str(10**15))
    endless = copy.deepcopy(SMALL)
    endless["step"][0]["complete_accurate"] = 1e-4  # 10,000 passes of a millionth of a day
    endless["step"][0]["process_time_days"] = {"distribution": "constant", "mean": 1e-6}
    doc = (
        endless
        if path == "/api/simulate"
        else {
            "baseline": endless,
            "futures": [{"changes": ["Build.servers=2"]}],
        }
    )
    body = json.dumps(doc).encode()
    headers = [(k.lower().encode(), v.encode()) for k, v in client.headers.items()]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def call() -> float:
        started = time.perf_counter()
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            if time.perf_counter() - started > 0.5:
                return {"type": "http.disconnect"}
            await asyncio.sleep(3600)  # nothing to say yet (cancelled by is_disconnected)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await client.app(scope, receive, send)  # type: ignore[arg-type]
        return time.perf_counter() - started

    elapsed = asyncio.run(call())
    assert elapsed < 10.0  # without the cancel flag the run lasts hours
    assert sent and sent[0]["status"] == 499
