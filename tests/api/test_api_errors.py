"""Every error answers with one JSON shape: {"error": {"type", "message", "detail"}}."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

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
    assert "Nope" in error["message"] and "Tiny" in error["message"]


def test_bad_date(client: TestClient) -> None:
    error = error_of(client.get("/api/streams/Tiny/flow?since=2024-13-45"), 422)
    assert error["type"] == "ValidationError"
    assert "since" in error["message"]
    assert error["detail"][0]["loc"] == ["query", "since"]


def test_window_that_ends_before_it_starts(client: TestClient) -> None:
    error = error_of(client.get("/api/streams/Tiny/flow?since=2024-02-01&until=2024-01-01"), 422)
    assert error["type"] == "InputError"
    assert "2024-02-01" in error["message"]


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
