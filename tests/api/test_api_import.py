"""Uploads: the same import as ``obeya import``, all or nothing, size-limited."""

from __future__ import annotations

import gzip
import io

import pytest
from fastapi.testclient import TestClient

from api.tiny import MALFORMED_CSV, TINY_CSV, WORKFLOW
from app_fixtures import bearer
from obeya.api.app import create_app
from obeya.api.limits import BodyTooLarge
from obeya.api.uploads import import_upload, safe_name
from obeya.ingest import ColumnMap
from obeya.workspace import Workspace


def snapshot(workspace: Workspace) -> list[tuple[str, int, int]]:
    return [(s.name, s.events, s.items) for s in workspace.streams()]


def test_upload_creates_a_stream_with_its_workflow(client: TestClient) -> None:
    response = client.post(
        "/api/streams/Fresh/import",
        files={"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")},
        data={"workflow": WORKFLOW},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["events_in_file"], body["events_added"]) == (13, 13)
    assert body["stream"]["name"] == "Fresh"
    assert body["stream"]["categories"]["Blocked"] == "waiting"
    flow = client.get("/api/streams/Fresh/flow").json()
    assert flow["items"]["finished"] == 3


def test_the_same_file_twice_adds_nothing(client: TestClient) -> None:
    response = client.post(
        "/api/streams/Tiny/import", files={"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")}
    )
    assert response.status_code == 200
    assert response.json()["events_added"] == 0


def test_column_names_and_gzip(client: TestClient) -> None:
    renamed = TINY_CSV.replace("item_id,state,timestamp,type", "key,status,when,kind")
    response = client.post(
        "/api/streams/Renamed/import",
        files={"file": ("export.csv.gz", gzip.compress(renamed.encode()), "application/gzip")},
        data={
            "item_column": "key",
            "state_column": "status",
            "timestamp_column": "when",
            "type_column": "kind",
            "format": "csv",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["stream"]["items"] == 5
    types = client.get("/api/streams/Renamed/flow").json()["flow_framework"]["distribution"]
    assert set(types) == {"Bug", "Story"}


def test_a_wide_file_with_its_state_columns_and_strict(client: TestClient) -> None:
    """One row per item; "done" read as state Done. B finishes before it was created (row
    3): refused whole under strict, kept and flagged otherwise."""
    wide = (
        "id,opened,done,owner\n"
        "A,2024-01-01T00:00:00Z,2024-01-03T00:00:00Z,ana\n"
        "B,2024-01-05T00:00:00Z,2024-01-03T00:00:00Z,bo\n"
    )
    data = {"format": "wide", "item_column": "id", "state_columns": "opened,done=Done"}
    files = {"file": ("jira.csv", wide.encode(), "text/csv")}
    refused = client.post("/api/streams/Wide/import", files=files, data={**data, "strict": "true"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["detail"]["row"] == 3
    assert "--strict" not in error["message"]  # the API names no CLI flag
    assert client.get("/api/streams/Wide").status_code == 404  # nothing was kept
    kept = client.post("/api/streams/Wide/import", files=files, data=data)
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert body["events_added"] == 4  # two cells per row; owner is not a state
    [warning] = body["warnings"]
    assert "backwards" in warning
    flow = client.get("/api/streams/Wide/flow").json()
    assert set(flow["time_in_state_hours"]) <= {"opened", "Done"}
    assert flow["warnings"][0]["rows"] == [3]


@pytest.mark.parametrize("stream", ["Tiny", "Brand new"])
def test_a_malformed_file_is_refused_and_changes_nothing(
    client: TestClient, workspace: Workspace, stream: str
) -> None:
    before = snapshot(workspace)
    response = client.post(
        f"/api/streams/{stream}/import",
        files={"file": ("bad.csv", MALFORMED_CSV.encode(), "text/csv")},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "ParseError"
    # The message names the file as uploaded (not a temporary path), the row and the field.
    assert error["message"].startswith("bad.csv, row 3, field 'timestamp':")
    assert "not-a-date" in error["message"]
    assert error["detail"] == {"file": "bad.csv", "row": 3, "field": "timestamp", "element": None}
    assert snapshot(workspace) == before


def test_a_workflow_that_does_not_parse_is_refused(
    client: TestClient, workspace: Workspace
) -> None:
    before = snapshot(workspace)
    response = client.post(
        "/api/streams/Tiny/import",
        files={"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")},
        data={"workflow": "backlog = [unclosed"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "WorkflowError"
    assert snapshot(workspace) == before


def test_unknown_format_and_missing_file(client: TestClient) -> None:
    response = client.post(
        "/api/streams/Tiny/import",
        files={"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")},
        data={"format": "xlsx"},
    )
    assert response.status_code == 422
    assert "xlsx" in response.json()["error"]["message"]
    response = client.post("/api/streams/Tiny/import", data={"workflow": WORKFLOW})
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "ValidationError"


def test_an_upload_over_the_limit_is_refused_unread(workspace: Workspace) -> None:
    app = create_app(lambda: workspace, max_upload_bytes=10)
    before = snapshot(workspace)
    with TestClient(app, headers=bearer(workspace)) as small:
        big = b"x" * (2 * 1024 * 1024)
        for stream in ("Tiny", "Brand new"):
            response = small.post(
                f"/api/streams/{stream}/import", files={"file": ("big.csv", big, "text/csv")}
            )
            assert response.status_code == 413
            assert response.json()["error"]["type"] == "BodyTooLarge"
    assert snapshot(workspace) == before


def test_the_copy_stops_at_the_limit(workspace: Workspace) -> None:
    """A body without a declared size is still cut off while it is copied."""
    with pytest.raises(BodyTooLarge):
        import_upload(
            workspace,
            "Tiny",
            io.BytesIO(TINY_CSV.encode()),
            "tiny.csv",
            workflow=None,
            columns=ColumnMap(),
            file_format=None,
            limit=100,
        )


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("export.csv", "export.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\jira.json", "jira.json"),
        ("", "upload.csv"),
        (None, "upload.csv"),
        ("..", "upload.csv"),
    ],
)
def test_upload_names_stay_in_the_temporary_directory(given: str | None, safe: str) -> None:
    assert safe_name(given) == safe
