"""A name in a path with a control character is bad input (422) before anything is looked up.

PostgreSQL cannot hold a NUL in text: ``/api/streams/Ti%00ny`` reached the store and came back
as a 409 "failed reading" (on SQLite, a 404); no stream, map, record or connector name has a
control character, so the access rule refuses it before it looks the name up, for every path.
"""

from __future__ import annotations

import pytest

from app_fixtures import TestClient


@pytest.mark.parametrize(
    ("method", "url", "param"),
    [
        ("GET", "/api/streams/Ti%00ny", "name"),
        ("GET", "/api/streams/Ti%00ny/flow", "name"),
        ("GET", "/api/streams/Ti%00ny/forecast/when?items=5", "name"),
        ("DELETE", "/api/streams/Ti%00ny", "name"),
        ("GET", "/api/records/risk/R%00-1", "key"),
        ("GET", "/api/maps/M%00/current", "name"),
        ("GET", "/streams/Ti%1Fny", "name"),
    ],
)
def test_a_control_character_in_a_path_is_a_422(
    client: TestClient, method: str, url: str, param: str
) -> None:
    response = client.request(method, url)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "ValidationError"
    assert error["detail"][0]["loc"] == ["path", param]


def test_who_asks_is_settled_first(client: TestClient) -> None:
    """Without credentials the answer is 401, whatever the path holds."""
    response = client.get("/api/streams/Ti%00ny", headers={"Authorization": ""})
    assert response.status_code == 401, response.text


def test_the_access_page_refuses_one_in_its_query(client: TestClient) -> None:
    response = client.get("/access", params={"stream": "Ti\x00ny"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["detail"][0]["loc"] == ["query", "stream"]
