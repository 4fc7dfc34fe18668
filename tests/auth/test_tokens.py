"""API tokens: every token expires within the workspace's maximum lifetime
(``OBEYA_MAX_TOKEN_DAYS``, default 365), a password change revokes the user's tokens, and
revoking a token that is not yours answers as if it were not there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app_fixtures import TestClient
from obeya.api.app import create_app
from obeya.auth.credentials import MAX_TOKEN_DAYS_VARIABLE
from obeya.core.access import Role
from obeya.errors import AuthError, InputError
from obeya.workspace import Workspace

PASSWORD = "correct horse"


@pytest.fixture
def ws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.delenv(MAX_TOKEN_DAYS_VARIABLE, raising=False)
    with Workspace(database_url) as workspace:
        workspace.initialise()
        workspace.access.add_user("root", Role.ADMIN, password=PASSWORD)
        workspace.access.add_user("ana", Role.VIEWER, password=PASSWORD)
        workspace.access.add_user("bo", Role.VIEWER, password=PASSWORD)
        yield workspace


@pytest.fixture
def api(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(lambda: ws), raise_server_exceptions=False) as client:
        yield client


def auth(ws: Workspace, user: str) -> dict[str, str]:
    secret, _ = ws.access.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


def days_left(expires_at: str | datetime | None) -> float:
    assert expires_at is not None
    moment = datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else expires_at
    return (moment - datetime.now(UTC)) / timedelta(days=1)


def refused_field(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "ValidationError"
    return [part for d in error["detail"] for part in d["loc"]]


def test_a_token_never_lives_forever_nor_longer_than_the_maximum(
    ws: Workspace, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = auth(ws, "ana")
    before = [t.id for t in ws.store.tokens.all("ana")]
    for days in (0, -1, 366, 3650):
        assert refused_field(api.post("/api/tokens", json={"days": days}, headers=headers)) == [
            "body",
            "days",
        ]
        with pytest.raises(InputError):
            ws.access.create_token("ana", "x", days)
    assert [t.id for t in ws.store.tokens.all("ana")] == before  # nothing made
    made = api.post("/api/tokens", json={"days": 365}, headers=headers)
    assert made.status_code == 201, made.text
    assert 364.99 < days_left(made.json()["expires_at"]) <= 365
    default = api.post("/api/tokens", json={}, headers=headers).json()
    assert 89.99 < days_left(default["expires_at"]) <= 90
    # The operator's maximum, read when the token is made.
    monkeypatch.setenv(MAX_TOKEN_DAYS_VARIABLE, "30")
    assert refused_field(api.post("/api/tokens", json={"days": 31}, headers=headers))
    shorter = api.post("/api/tokens", json={}, headers=headers).json()  # 90 > 30: capped
    assert 29.99 < days_left(shorter["expires_at"]) <= 30
    _, info = ws.access.create_token("ana", "x", 30)
    assert 29.99 < days_left(info.expires_at) <= 30


def test_a_password_change_revokes_the_users_tokens(ws: Workspace, api: TestClient) -> None:
    secrets = [ws.access.create_token("ana", f"t{i}")[0] for i in range(2)]
    link = ws.access.sign_in_link("ana")
    bo = auth(ws, "bo")
    for secret in secrets:
        assert api.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert ws.access.set_password("ana", "a new password") == 2
    for secret in secrets:
        refused = api.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
        with pytest.raises(AuthError):
            ws.access.token_principal(secret)
    with pytest.raises(AuthError):
        ws.access.use_sign_in_link(link)
    assert api.get("/api/me", headers=bo).status_code == 200  # others' are not touched
    assert ws.store.audit_log(limit=1)[0].after == {"password": True, "tokens_revoked": 2}
    # Through the API, the answer says so.
    ws.access.create_token("ana", "again")
    body = {"name": "ana", "role": "viewer", "password": "yet another one"}
    changed = api.post("/api/users", json=body, headers=auth(ws, "root"))
    assert changed.status_code == 201, changed.text
    assert changed.json()["tokens_revoked"] == 1
    given = api.post("/api/users", json={"name": "ana", "role": "viewer"}, headers=auth(ws, "root"))
    assert given.json()["tokens_revoked"] is None  # no password given, none revoked


def test_revoking_a_token_not_yours_answers_as_a_missing_one(
    ws: Workspace, api: TestClient
) -> None:
    _, bos = ws.access.create_token("bo", "bo's")
    ana = auth(ws, "ana")
    missing = bos.id + 1000
    answers = [api.delete(f"/api/tokens/{i}", headers=ana) for i in (bos.id, missing)]
    assert [a.status_code for a in answers] == [404, 404]
    shapes = [(a.json()["error"]["type"], a.json()["error"]["detail"]) for a in answers]
    assert shapes[0] == shapes[1] == ("NotFoundError", None)
    # The messages differ only by the id asked for.
    texts = [a.json()["error"]["message"] for a in answers]
    assert texts[0].replace(str(bos.id), "ID") == texts[1].replace(str(missing), "ID")
    assert ws.store.tokens.get(bos.id) is not None
    assert ws.store.tokens.get(bos.id).revoked_at is None  # type: ignore[union-attr]
    # A workspace admin revokes anyone's; the owner their own.
    assert api.delete(f"/api/tokens/{bos.id}", headers=auth(ws, "root")).status_code == 204
    _, anas = ws.access.create_token("ana", "own")
    assert api.delete(f"/api/tokens/{anas.id}", headers=ana).status_code == 204
    assert api.delete(f"/api/tokens/{missing}", headers=auth(ws, "root")).status_code == 404
