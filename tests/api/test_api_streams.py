"""The REST API: streams, the flow document (the contract), charts, health and the docs."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obeya.core.metrics import FlowFilter
from obeya.render.charts import CHARTS
from obeya.workspace import Workspace


def as_json(doc: Any) -> Any:
    """What ``doc`` looks like after a trip through JSON (tuples become lists, and so on)."""
    return json.loads(json.dumps(doc))


def test_streams_are_listed(client: TestClient) -> None:
    response = client.get("/api/streams")
    assert response.status_code == 200
    [stream] = response.json()
    assert stream["name"] == "Tiny"
    assert (stream["items"], stream["events"], stream["has_workflow"]) == (5, 13, True)


def test_a_stream_comes_with_its_workflow_as_toml(client: TestClient) -> None:
    body = client.get("/api/streams/Tiny").json()
    assert body["workflow_toml"].startswith('backlog = ["To Do"]')
    assert body["categories"] == {
        "To Do": "backlog",
        "In Progress": "active",
        "Blocked": "waiting",
        "Done": "done",
    }


@pytest.mark.parametrize(
    ("query", "flt", "detail"),
    [
        ("", FlowFilter(), False),
        ("?detail=true", FlowFilter(), True),
        ("?type=Bug", FlowFilter(types=("Bug",)), False),
        ("?type=Bug&type=Story", FlowFilter(types=("Bug", "Story")), False),
        (
            "?since=2024-01-05&until=2024-01-10&detail=true",
            FlowFilter(since=date(2024, 1, 5), until=date(2024, 1, 10)),
            True,
        ),
        ("?calendar_days=true", FlowFilter(calendar_days=True), False),
    ],
)
def test_the_flow_document_is_the_workspace_report(
    client: TestClient, workspace: Workspace, query: str, flt: FlowFilter, detail: bool
) -> None:
    response = client.get(f"/api/streams/Tiny/flow{query}")
    assert response.status_code == 200
    expected = workspace.flow("Tiny", flt, detail=detail).to_dict(detail=detail)
    assert response.json() == as_json(expected)


def test_the_flow_document_is_what_the_cli_prints(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from obeya.cli.main import app as cli

    monkeypatch.setenv("OBEYA_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["metrics", "--stream", "Tiny", "--json", "--type", "Bug"])
    assert result.exit_code == 0, result.output
    api = client.get("/api/streams/Tiny/flow?type=Bug").json()
    assert api == json.loads(result.stdout)


def test_hand_computed_figures(client: TestClient) -> None:
    doc = client.get("/api/streams/Tiny/flow").json()
    assert doc["cycle_time_days"]["p50"] == pytest.approx(4.0)
    assert doc["cycle_time_days"]["p85"] == pytest.approx(5.4)
    assert doc["throughput_weekly"] == {"2024-01-01": 1, "2024-01-08": 2}
    assert doc["flow_framework"]["load"] == 1
    assert doc["flow_efficiency"] == pytest.approx(11 / 12)


@pytest.mark.parametrize("chart", list(CHARTS))
def test_every_chart_is_a_vega_lite_spec(client: TestClient, chart: str) -> None:
    response = client.get(f"/api/streams/Tiny/charts/{chart}")
    assert response.status_code == 200
    spec = response.json()
    assert "vega-lite" in spec["$schema"]
    assert spec["width"] == "container"
    assert spec["datasets"]


def test_charts_follow_the_filter(client: TestClient) -> None:
    spec = client.get("/api/streams/Tiny/charts/cycle-time-scatter?type=Story").json()
    assert [p["item_id"] for p in spec["datasets"]["scatter"]] == ["B"]


def test_the_charts_are_listed(client: TestClient) -> None:
    names = [c["name"] for c in client.get("/api/charts").json()]
    assert names == list(CHARTS)


def test_health(client: TestClient, workspace: Workspace) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["database"] == workspace.store.engine.dialect.name


def test_docs_and_openapi(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    # The API reference works offline: its scripts come from the package, not a CDN.
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "cdn." not in docs.text
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/streams",
        "/api/streams/{name}",
        "/api/streams/{name}/flow",
        "/api/streams/{name}/charts/{chart}",
        "/api/streams/{name}/import",
        "/api/health",
    ):
        assert path in paths
    flow = paths["/api/streams/{name}/flow"]["get"]
    assert {p["name"] for p in flow["parameters"]} >= {
        "type",
        "since",
        "until",
        "calendar_days",
        "detail",
    }
    assert "404" in flow["responses"] and "422" in flow["responses"]
    assert "/" not in paths  # pages stay out of the API document
