"""The steering CLI and REST API over the same workspace: the documents they give equal the
workspace's, a stale edit is refused (exit 1 / 409) with nothing saved, errors name the field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.tiny import tiny_workspace
from app_fixtures import TestClient
from obeya.cli.main import app
from obeya.workspace import Workspace

from support import SAMPLES

runner = CliRunner()
STEERING = SAMPLES / "steering.toml"


@pytest.fixture
def home(obeya_home: Path, database_url: str, tmp_path: Path) -> Workspace:
    """The CLI's default workspace (OBEYA_DATABASE_URL) holding "Tiny" and the sample's
    steering records."""
    ws = tiny_workspace(database_url, tmp_path)
    ws.steering.load_steering_file(STEERING, author="test", stream="Tiny")
    return ws


def cli_json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_cli_prints_the_workspace_documents(home: Workspace) -> None:
    today = date(2012, 6, 1)
    board = cli_json("risk", "board", "--stream", "Tiny", "--today", "2012-06-01")
    assert board == json.loads(json.dumps(home.steering.risk_board("Tiny", today)))
    assert board["summary"]["overdue"] == ["R-2"]  # due 2012-05-31, open
    assert cli_json("roadmap", "--stream", "Tiny") == home.steering.roadmap("Tiny")
    assert [i["key"] for i in home.steering.roadmap("Tiny")] == [
        "I-3",
        "I-1",
        "I-2",
    ]  # 6, 5.33, 2.23
    assert cli_json("team", "coverage") == home.steering.coverage()
    objectives = cli_json("objective", "list", "--stream", "Tiny", "--today", "2012-06-01")
    assert objectives == json.loads(json.dumps(home.steering.objectives("Tiny", today)))
    overview = cli_json("overview", "--stream", "Tiny", "--today", "2012-06-01")
    assert overview["risks"]["top"][0]["key"] == "R-1"  # 0.5 × 4 = 2.0, the highest


def test_cli_edits_keep_a_history_and_refuse_stale_versions(home: Workspace) -> None:
    result = runner.invoke(app, ["risk", "set", "R-2", "--owner", "dries", "--state", "owned"])
    assert result.exit_code == 0, result.output
    assert "version 2 (changed owner, state)" in result.stdout
    result = runner.invoke(app, ["risk", "set", "R-2", "--owner", "ana", "--version", "1"])
    assert result.exit_code == 1 and "changed since version 1 (now 2)" in result.stderr
    assert home.steering.record("risk", "R-2").document["owner"] == "dries"
    history = cli_json("steering", "history", "risk", "R-2")
    assert [h["changes"] for h in history] == [[], ["owner", "state"]]  # type: ignore[index]

    result = runner.invoke(app, ["objective", "update", "O-1", "--kr", "KR-3", "--current", "4.1"])
    assert result.exit_code == 0, result.output
    [kr3] = [k for k in home.steering.record("objective", "O-1").document["key_results"]
             if k["key"] == "KR-3"]  # fmt: skip
    assert kr3["current"] == 4.1
    result = runner.invoke(app, ["objective", "update", "O-1", "--kr", "KR-1", "--current", "3"])
    assert result.exit_code == 1 and "is measured (cycle_time_p85)" in result.stderr

    result = runner.invoke(
        app,
        ["risk", "add", "R-9", "--stream", "Tiny", "--title", "t", "--probability", "1.5",
         "--impact", "2"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--probability is '1.5'; a share is a fraction up to 1" in result.stderr


def test_the_risk_options_come_from_the_declaration(home: Workspace) -> None:
    """``risk add`` and ``risk set`` take an option per declared field of a risk, read as a
    form reads what is typed: a share in percent, a list by commas or repeated."""
    result = runner.invoke(
        app,
        ["risk", "add", "--stream", "Tiny", "--title", "Vendor late", "--probability", "30 %",
         "--impact", "4", "--team", "Web", "--teams", "Data, Ops", "--due", "2024-05-01"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    added = [
        r for r in home.steering.records("risk", "Tiny") if r.document["title"] == "Vendor late"
    ]
    assert len(added) == 1
    doc = added[0].document
    assert (doc["probability"], doc["impact"]) == (0.3, 4.0)  # 30 % = 0.3
    assert doc["teams"] == ["Web", "Data", "Ops"] and doc["due"] == "2024-05-01"
    assert doc["state"] == "open"  # the declared default
    key = added[0].key
    result = runner.invoke(app, ["risk", "set", key, "--due", "", "--state", "mitigated"])
    assert result.exit_code == 0, result.output
    changed = home.steering.record("risk", key).document
    assert (changed["due"], changed["state"], changed["probability"]) == (None, "mitigated", 0.3)
    result = runner.invoke(app, ["risk", "set", key, "--impact", "lots"])
    assert result.exit_code == 1 and "--impact is 'lots'; give a number" in result.stderr
    result = runner.invoke(app, ["risk", "set", key, "--state", "ignored"])
    assert result.exit_code == 1 and "state is 'ignored'; give one of open, owned" in result.stderr
    help_text = runner.invoke(app, ["risk", "add", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--title", "--description", "--teams", "--probability", "--impact", "--owner",
                 "--due", "--state"):  # fmt: skip
        assert flag in help_text


def test_the_api_saves_versions_and_answers_409(client: TestClient, workspace: Workspace) -> None:
    body = {"document": {"title": "Vendor late", "probability": 0.4, "impact": 5},
            "stream": "Tiny", "expected_version": 0}  # fmt: skip
    response = client.put("/api/records/risk/R-1", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    again = client.put("/api/records/risk/R-1", json=body)
    assert again.status_code == 409
    assert set(again.json()["error"]) == {"type", "message", "detail"}
    assert "changed since version 0" in again.json()["error"]["message"]
    body["document"]["probability"] = 7
    body["expected_version"] = 1
    bad = client.put("/api/records/risk/R-1", json=body)
    assert bad.status_code == 422 and "probability is 7" in bad.json()["error"]["message"]
    saved = workspace.steering.record("risk", "R-1").version
    assert (saved.version, saved.author) == (1, "tester")  # the signed-in user is the author

    record = client.get("/api/records/risk/R-1").json()
    assert record["document"]["probability"] == 0.4 and record["stream"] == "Tiny"
    board = client.get("/api/streams/Tiny/risks", params={"today": "2024-03-01"}).json()
    assert board == json.loads(json.dumps(workspace.steering.risk_board("Tiny", date(2024, 3, 1))))
    assert board["board"]["open"][0]["exposure"] == 2.0
    assert client.get("/api/records/risk/R-1/history").json()[0]["document"]["impact"] == 5
    assert client.get("/api/records/dragon/R-1").status_code == 422
    assert client.get("/api/records/risk/R-404").status_code == 404
    assert client.delete("/api/records/risk/R-1").status_code == 204
    assert client.get("/api/records/risk").json() == []


def test_saved_plans_and_experiments_are_computed_from_the_data(
    client: TestClient, workspace: Workspace
) -> None:
    import tomllib

    from scipy.stats import mannwhitneyu

    from obeya.core.steering.dependencies import load_plan, schedule

    plan = json.loads(json.dumps(tomllib.loads((SAMPLES / "plan.toml").read_text()), default=str))
    response = client.put("/api/records/plan/launch", json={"document": plan, "stream": "Tiny"})
    assert response.status_code == 200, response.text
    doc = client.get("/api/streams/Tiny/plans/launch").json()
    expected = schedule(load_plan(SAMPLES / "plan.toml")).to_dict()
    assert (doc["duration_days"], doc["critical_path"]) == (
        expected["duration_days"],
        expected["critical_path"],
    )
    assert doc["at_risk"] == [] and "no history of team" in doc["at_risk_note"]  # Tiny: no teams
    cyclic = {
        "task": [
            {"id": "A", "team": "t", "duration_days": 1, "depends_on": ["B"]},
            {"id": "B", "team": "t", "duration_days": 1, "depends_on": ["A"]},
        ]
    }
    response = client.put("/api/records/plan/loop", json={"document": cyclic, "stream": "Tiny"})
    assert response.status_code == 422 and "a cycle" in response.json()["error"]["message"]
    typo = {"task": [{"id": "A", "team": "t", "duration_days": 1, "depends_on": ["Z"]}]}
    response = client.put("/api/records/plan/typo", json={"document": typo, "stream": "Tiny"})
    error = response.json()["error"]
    assert (response.status_code, error["message"], error["detail"]) == (
        422,
        "plan 'typo': depends_on of task[0] ('A') lists unknown id 'Z'; known ids: A",
        {"field": "depends_on", "value": "Z"},
    )

    # Tiny: A (2 days) finishes 01-04; B (6) 01-09 and C (4) 01-12.
    experiment = {
        "hypothesis": "Pairing helps",
        "metric": "cycle_time",
        "baseline": "2024-01-01..2024-01-05",
        "trial": "2024-01-06..2024-01-12",
    }
    response = client.put(
        "/api/records/experiment/E-1", json={"document": experiment, "stream": "Tiny"}
    )
    assert response.status_code == 200, response.text
    result = client.get("/api/streams/Tiny/experiments/E-1").json()["result"]
    assert (result["baseline"]["items"], result["baseline"]["median"]) == (1, 2.0)
    assert (result["trial"]["items"], result["trial"]["median"]) == (2, 5.0)
    assert result["effect"] == pytest.approx(5 / 2 - 1)
    assert result["p_value"] == pytest.approx(mannwhitneyu([6, 4], [2]).pvalue)
    assert result["verdict"] == "no change"
    overview = workspace.steering.overview("Tiny", date(2024, 3, 1))
    assert overview["experiments"][0]["verdict"] == "no change"
    assert overview["dependencies"][0]["critical_path"] == expected["critical_path"]
    overlapping = {**experiment, "trial": "2024-01-05..2024-01-12"}
    response = client.put(
        "/api/records/experiment/E-2", json={"document": overlapping, "stream": "Tiny"}
    )
    assert response.status_code == 422 and "overlap" in response.json()["error"]["message"]


def test_the_one_shot_routes_equal_the_cli(client: TestClient) -> None:
    import xml.etree.ElementTree as ET

    plan_file = SAMPLES / "plan.toml"
    cli = cli_json_plain("deps", "critical-path", str(plan_file))
    import tomllib

    plan = json.loads(json.dumps(tomllib.loads(plan_file.read_text()), default=str))
    api = client.post("/api/deps/critical-path", json=plan).json()
    for key in ("critical_path", "duration_days", "slack_days"):
        assert api[key] == cli[key]

    products = SAMPLES / "products.csv"
    cli = cli_json_plain("families", "cluster", str(products))
    with products.open("rb") as handle:
        response = client.post(
            "/api/families/cluster", files={"file": ("products.csv", handle, "text/csv")}
        )
    assert response.status_code == 200, response.text
    assert response.json()["families"] == cli["families"]

    query = {"baseline": "2024-01-01..2024-01-05", "trial": "2024-01-06..2024-01-12"}
    result = client.get("/api/streams/Tiny/experiment", params=query).json()
    assert (result["baseline"]["median"], result["trial"]["median"]) == (2.0, 5.0)
    bad = client.get("/api/streams/Tiny/experiment", params={**query, "trial": "2024-01-05"})
    assert bad.status_code == 422 and "trial" in bad.json()["error"]["message"]

    response = client.put("/api/records/plan/launch", json={"document": plan, "stream": "Tiny"})
    assert response.status_code == 200
    svg = client.get("/api/streams/Tiny/plans/launch/drawing").text
    ids = {t["id"] for t in plan["task"]}
    assert ET.fromstring(svg).tag.endswith("svg") and all(i in svg for i in ids)
    png = client.get("/api/streams/Tiny/plans/launch/drawing", params={"format": "png"})
    assert png.content.startswith(b"\x89PNG")


def cli_json_plain(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc
