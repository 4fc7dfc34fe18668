"""Every error answers with one JSON shape: {"error": {"type", "message", "detail"}}."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app_fixtures import bearer
from obeya.api.app import create_app
from obeya.auth.credentials import API_TOKEN_PREFIX, digest, new_secret
from obeya.core.access import Role
from obeya.workspace import Workspace


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The error object of ``response``, after checking the status and the exact shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"type", "message", "detail"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize("suffix", ["", "/flow", "/charts/wip"])
def test_unknown_stream(client: TestClient, suffix: str) -> None:
    error = error_of(client.get(f"/api/streams/Nope{suffix}"), 404)
    assert error["type"] == "NotFoundError"
    # Not which streams there are: the server may hold streams the caller cannot see.
    assert error["message"] == "no value stream named 'Nope'"


def test_bad_date(client: TestClient) -> None:
    error = error_of(client.get("/api/streams/Tiny/flow?since=2024-13-45"), 422)
    assert error["type"] == "ValidationError"
    assert "since" in error["message"]
    assert error["detail"][0]["loc"] == ["query", "since"]


def test_window_that_ends_before_it_starts(client: TestClient) -> None:
    error = error_of(client.get("/api/streams/Tiny/flow?since=2024-02-01&until=2024-01-01"), 422)
    assert error["type"] == "InputError"
    assert "2024-02-01" in error["message"]


@pytest.mark.parametrize(
    "query", ["since=1900-01-01", "until=9999-12-31", "since=2024-01-01&until=2100-01-01"]
)
def test_a_window_centuries_away_is_refused(client: TestClient, query: str) -> None:
    # A report lays its daily series over the whole window: year 9999 would tie up the server.
    error = error_of(client.get(f"/api/streams/Tiny/flow?{query}"), 422)
    assert error["type"] == "InputError"
    assert "1970-01-01 and 2099-12-31" in error["message"]


def test_an_experiment_window_centuries_away_is_refused(client: TestClient) -> None:
    query = "baseline=2024-01-01..2024-01-05&trial=2024-01-06..9999-01-01"
    error = error_of(client.get(f"/api/streams/Tiny/experiment?{query}"), 422)
    assert error["type"] == "InputError"
    assert error["message"].startswith("trial 9999-01-01")


def test_unknown_chart(client: TestClient) -> None:
    error = error_of(client.get("/api/streams/Tiny/charts/pie"), 404)
    assert error["type"] == "NotFoundError"
    assert "cumulative-flow" in error["message"]  # it says which charts there are


def test_unknown_route(client: TestClient) -> None:
    error = error_of(client.get("/api/nothing/here"), 404)
    assert error["type"] == "NotFound"
    assert "/api/nothing/here" in error["message"]


def test_wrong_method(client: TestClient) -> None:
    error = error_of(client.delete("/api/streams"), 405)
    assert error["type"] == "MethodNotAllowed"


def test_unexpected_error_is_a_500_that_leaks_nothing(
    client: TestClient, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> list[Any]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(workspace, "streams", broken)
    error = error_of(client.get("/api/streams"), 500)
    assert error == {
        "type": "InternalError",
        "message": "an unexpected error occurred; see the server log",
        "detail": None,
    }


def test_pages_answer_a_browser_in_html(client: TestClient) -> None:
    response = client.get("/streams/Nope", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no value stream named" in response.text


def test_the_api_answers_a_browser_in_json(client: TestClient) -> None:
    response = client.get("/api/streams/Nope", headers={"accept": "text/html"})
    error_of(response, 404)


def test_a_stale_save_is_a_409(client: TestClient) -> None:
    line = {"steps": [{"name": "Build", "process_time_hours": 1, "lead_time_hours": 2}]}
    assert client.put("/api/maps/Line/current", json={"map": line}).status_code == 200
    stale = client.put("/api/maps/Line/current", json={"map": line, "expected_version": 0})
    error = error_of(stale, 409)
    assert error["type"] == "VersionConflict"
    # An "add" (expected version 0) of a map that is at version 1: fields, not text to match.
    assert error["detail"]["kind"] == "map"
    assert error["detail"]["key"] == "Line/current"
    assert (error["detail"]["expected"], error["detail"]["current"]) == (0, 1)


def test_an_upload_over_the_limit_is_a_413(workspace: Workspace) -> None:
    app = create_app(lambda: workspace, max_upload_bytes=10)
    with TestClient(app, headers=bearer(workspace)) as small:
        big = b"x" * (2 * 1024 * 1024)
        response = small.post("/api/streams/Tiny/import", files={"file": ("big.csv", big)})
    assert error_of(response, 413)["type"] == "BodyTooLarge"


def _expired(workspace: Workspace) -> str:
    secret = new_secret(API_TOKEN_PREFIX)
    workspace.access.add_user("old", Role.ADMIN)
    workspace.store.tokens.add(
        "old",
        kind="api",
        label="expired",
        digest=digest(secret),
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    return secret


def _revoked(workspace: Workspace) -> str:
    workspace.access.add_user("gone", Role.ADMIN)
    secret, info = workspace.access.create_token("gone")
    workspace.store.tokens.revoke(info.id)
    return secret


@pytest.mark.parametrize("token", ["none", "wrong", "expired", "revoked"])
def test_not_signed_in_is_a_401_with_a_challenge(workspace: Workspace, token: str) -> None:
    secrets: dict[str, Callable[[], str]] = {
        "wrong": lambda: "obeya_not-a-token",
        "expired": lambda: _expired(workspace),
        "revoked": lambda: _revoked(workspace),
    }
    headers = {} if token == "none" else {"Authorization": f"Bearer {secrets[token]()}"}
    with TestClient(create_app(lambda: workspace), headers=headers) as anonymous:
        response = anonymous.get("/api/streams/Tiny")
    error = error_of(response, 401)
    assert error["type"] == "AuthError"
    assert response.headers["www-authenticate"] == 'Bearer realm="obeya"'


def test_a_viewer_writing_is_a_403(workspace: Workspace) -> None:
    headers = bearer(workspace, "vic", Role.VIEWER)
    with TestClient(create_app(lambda: workspace), headers=headers) as viewer:
        response = viewer.put(
            "/api/records/risk/R-1",
            json={"document": {"title": "x", "probability": 0.1, "impact": 1}, "stream": "Tiny"},
        )
    error = error_of(response, 403)
    assert error["type"] == "ForbiddenError"
    assert "vic is viewer there; editor or above is needed" in error["message"]


def test_a_stream_of_another_team_is_a_403(workspace: Workspace) -> None:
    workspace.store.create_stream("Other")
    headers = bearer(workspace, "ana", Role.ADMIN, "Other")
    with TestClient(create_app(lambda: workspace), headers=headers) as other_team:
        response = other_team.get("/api/streams/Tiny/flow")
    error = error_of(response, 403)
    assert error["type"] == "ForbiddenError"
    assert "ana has no role there" in error["message"] and "'Tiny'" in error["message"]


def test_repeated_wrong_passwords_are_a_429_with_retry_after(workspace: Workspace) -> None:
    workspace.access.add_user("ana", Role.VIEWER, password="correct horse")
    with TestClient(create_app(lambda: workspace)) as browser:
        page = browser.get("/sign-in").text
        csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"name": "ana", "password": "wrong horse", "csrf_token": csrf}
        for _ in range(5):
            assert browser.post("/sign-in", data=form).status_code == 401
        response = browser.post("/sign-in", data=form)
    error = error_of(response, 429)
    assert error["type"] == "TooManyAttempts"
    wait = int(response.headers["retry-after"])
    assert 0 < wait <= 15 * 60
    assert f"{wait} seconds" in error["message"]


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/api/simulate", {"content-type": "application/json"}, b'{"a": "\x80"}'),  # not UTF-8
        (
            "/api/families/cluster",
            {"content-type": "multipart/form-data; boundary=b"},
            b"--b\r\nbroken--b--\r\n",
        ),
    ],
)
def test_a_body_that_cannot_be_read_is_a_400(
    client: TestClient, path: str, headers: dict[str, str], body: bytes
) -> None:
    error = error_of(client.post(path, content=body, headers=headers), 400)
    assert error["type"] == "BadRequest"


def test_the_openapi_document_gives_every_error_the_one_shape(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    shape = document["components"]["schemas"]["ErrorResponse"]
    assert shape["required"] == ["error"]
    info = document["components"]["schemas"]["ErrorInfo"]
    assert set(info["properties"]) == {"type", "message", "detail"}
    errors = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    errors += 1
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (
                        method,
                        path,
                        status,
                    )
    assert errors > 0


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_stream_name_with_a_control_character_is_refused_before_the_store(
    client: TestClient, method: str
) -> None:
    """PostgreSQL cannot hold a NUL in text: a ``?stream=`` with one reached the store and
    came back as a 409 "failed reading"; no stream name has control characters, so it is bad
    input (422) before anything is read."""
    url = "/api/records/risk/R-1/history" if method == "GET" else "/api/records/risk/R-1"
    response = client.request(method, url, params={"stream": "Ti\x00ny"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "ValidationError"
