"""The maps API: save (versions, stale saves, invalid maps), read, history, copy, compare,
figures, and the map discovered from a stream; every failure in the standard error body."""

from __future__ import annotations

import struct
from typing import Any
from xml.etree import ElementTree

from fastapi.testclient import TestClient

from app_fixtures import bearer
from obeya.core.access import Role
from obeya.workspace import Workspace

# The three-step map of tests/maps/test_cli_maps.py: total LT 28 h by hand.
LINE: dict[str, Any] = {
    "demand_per_day": 4,
    "steps": [
        {"name": "Build", "process_time_hours": 2, "lead_time_hours": 10, "complete_accurate": 0.5},
        {"name": "Check", "process_time_hours": 1, "lead_time_hours": 5, "inventory_before": 2},
        {"name": "Ship", "process_time_hours": 1, "lead_time_hours": 1},
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


def put(
    client: TestClient,
    variant: str = "current",
    headers: dict[str, str] | None = None,
    **body: Any,
) -> Any:
    return client.put(f"/api/maps/Line/{variant}", json={"map": LINE, **body}, headers=headers)


def editors(workspace: Workspace, *names: str) -> list[dict[str, str]]:
    """Each named user signed in (by token) as an editor of the whole workspace."""
    return [bearer(workspace, name, Role.EDITOR) for name in names]


def test_saving_makes_versions_with_a_history(client: TestClient, workspace: Workspace) -> None:
    ana, bo = editors(workspace, "ana", "bo")
    first = put(client, headers=ana, message="first", expected_version=0)
    assert first.status_code == 200
    # The author is who signed in; an author in the body would not be believed.
    assert (first.json()["version"], first.json()["author"]) == (1, "ana")
    second = put(client, headers=bo, message="again", expected_version=1, author="ana")
    assert second.json()["version"] == 2

    listed = client.get("/api/maps").json()
    assert [(m["name"], m["variant"], m["version"], m["author"]) for m in listed] == [
        ("Line", "current", 2, "bo")
    ]
    got = client.get("/api/maps/Line/current").json()
    assert got["version"] == 2
    assert got["map"]["steps"][0]["name"] == "Build"
    assert got["map"]["name"] == "Line"  # the path names the map
    assert client.get("/api/maps/Line/current?version=1").json()["message"] == "first"
    history = client.get("/api/maps/Line/current/history").json()
    assert [(h["version"], h["author"], h["message"]) for h in history] == [
        (1, "ana", "first"),
        (2, "bo", "again"),
    ]
    assert history[0]["created_at"] <= history[1]["created_at"]


def test_a_stale_save_is_409_and_saves_nothing(client: TestClient, workspace: Workspace) -> None:
    ana, bo, cy = editors(workspace, "ana", "bo", "cy")
    put(client, headers=ana)
    put(client, headers=bo, expected_version=1)
    message = assert_error(put(client, headers=cy, expected_version=1), 409, "VersionConflict")
    assert "changed since version 1 (now 2) by bo" in message
    assert client.get("/api/maps").json()[0]["version"] == 2


def test_an_invalid_map_is_422_naming_the_field(client: TestClient) -> None:
    bad = {**LINE, "steps": [{"name": "Build", "process_time_hours": -1, "lead_time_hours": 2}]}
    response = client.put("/api/maps/Line/current", json={"map": bad})
    message = assert_error(response, 422, "MapError")
    assert "steps[0].process_time_hours" in message
    unknown = client.put("/api/maps/Line/current", json={"map": {**LINE, "colour": "red"}})
    assert "'colour'" in assert_error(unknown, 422, "MapError")
    no_map = client.put("/api/maps/Line/current", json={"message": "no map"})
    assert_error(no_map, 422, "ValidationError")
    assert client.get("/api/maps").json() == []


def test_missing_maps_are_404(client: TestClient) -> None:
    # Names what was asked for, not which maps there are (some may be other streams').
    assert (
        assert_error(client.get("/api/maps/Line/current"), 404, "NotFoundError")
        == "no map 'Line'/'current'"
    )
    put(client)
    assert_error(client.get("/api/maps/Line/current?version=9"), 404, "NotFoundError")
    assert_error(client.get("/api/maps/Line/future/history"), 404, "NotFoundError")
    assert_error(client.get("/api/maps/Line/compare?variants=current,future"), 404, "NotFoundError")


def test_a_variant_is_copied_changed_and_compared(client: TestClient) -> None:
    put(client)
    copied = client.post("/api/maps/Line/current/copy", json={"to": "future"})
    assert copied.status_code == 201
    assert copied.json()["message"] == "copied from current version 1"
    future = client.get("/api/maps/Line/future").json()["map"]
    future["steps"][0]["lead_time_hours"] = 6
    saved = client.put("/api/maps/Line/future", json={"map": future, "expected_version": 1})
    assert saved.json()["version"] == 2
    assert saved.json()["changes"] == ["steps.Build.lead_time_hours"]
    assert client.get("/api/maps/Line/future/history").json()[1]["changes"] == [
        "steps.Build.lead_time_hours"
    ]

    comparison = client.get("/api/maps/Line/compare?variants=current,future").json()
    [variant] = comparison["variants"]
    total = next(f for f in variant["figures"] if f["figure"] == "totals.lead_time_hours")
    assert (total["base"], total["value"], total["delta"]) == (28.0, 24.0, -4.0)

    again = client.post("/api/maps/Line/current/copy", json={"to": "future"})
    assert_error(again, 409, "StoreError")


def test_the_figures_of_a_saved_map(client: TestClient) -> None:
    put(client)
    figures = client.get("/api/maps/Line/current/figures").json()
    assert figures["totals"]["lead_time_hours"] == 28.0
    assert figures["totals"]["takt_time_hours"] == 2.0
    assert figures["constraint"]["step"] == "Build"


def test_the_drawing_as_svg_and_png(client: TestClient) -> None:
    put(client)
    svg = client.get("/api/maps/Line/current/drawing")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.text)
    assert root.tag.endswith("svg")
    png = client.get("/api/maps/Line/current/drawing", params={"format": "png"})
    assert png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.content[16:24])
    assert (width, height) == (int(float(root.get("width"))), int(float(root.get("height"))))
    assert_error(client.get("/api/maps/Nope/current/drawing"), 404, "NotFoundError")


def test_the_map_discovered_from_a_stream(client: TestClient, workspace: Workspace) -> None:
    response = client.get("/api/streams/Tiny/map")
    assert response.status_code == 200
    document = response.json()
    assert document == workspace.discover_stream_map("Tiny").to_dict()
    assert "saved" not in document
    assert client.get("/api/maps").json() == []

    assert "saved" not in client.get("/api/streams/Tiny/map?save=true").json()  # a GET reads
    assert client.get("/api/maps").json() == []
    saved = client.post("/api/streams/Tiny/map", json={}).json()["saved"]
    assert (saved["name"], saved["variant"], saved["version"]) == ("Tiny", "current", 1)
    assert client.get("/api/maps").json()[0]["stream"] == "Tiny"
    assert_error(client.get("/api/streams/Nope/map"), 404, "NotFoundError")


def test_the_openapi_document_lists_the_map_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "put"} <= set(paths["/api/maps/{name}/{variant}"])
    assert "/api/streams/{stream}/map" in paths
    assert "409" in paths["/api/maps/{name}/{variant}"]["put"]["responses"]
