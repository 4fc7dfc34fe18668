"""`obeya user`, `obeya token`, `obeya audit` and the sign-in link of `obeya serve`, end to
end against a store, and what they give checked through the web app."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app_fixtures import TestClient
from obeya import workspace_access
from obeya.api.app import create_app
from obeya.auth.credentials import digest
from obeya.cli.main import app
from obeya.core.access import Role
from obeya.store import Store
from obeya.workspace import Workspace

runner = CliRunner()


def obeya(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_user_add_with_a_password_and_a_stream_role(obeya_home: Path) -> None:
    obeya("init")
    out = obeya("user", "add", "ana", "--role", "admin", input="correct horse\ncorrect horse\n")
    assert "added user ana: admin of the whole workspace" in out
    with Store() as store:
        store.create_stream("Support")
    # A second role for an existing user: no password asked, the first role kept.
    obeya("user", "add", "ana", "--role", "viewer", "--stream", "Support")
    listed = json.loads(obeya("user", "list", "--json"))
    assert listed == [
        {
            "name": "ana",
            "password": True,
            "grants": [
                {"stream": None, "role": "admin"},
                {"stream": "Support", "role": "viewer"},
            ],
            "created_at": listed[0]["created_at"],
        }
    ]
    with Workspace() as ws:
        assert ws.access.check_password("ana", "correct horse").name == "ana"


def test_bad_roles_streams_and_short_passwords_are_refused(obeya_home: Path) -> None:
    obeya("init")
    bad_role = runner.invoke(app, ["user", "add", "bo", "--role", "owner", "--no-password"])
    assert bad_role.exit_code == 1
    assert "role 'owner' is not one of viewer, editor, admin" in bad_role.output
    no_stream = runner.invoke(
        app, ["user", "add", "bo", "--role", "viewer", "--stream", "Nope", "--no-password"]
    )
    assert no_stream.exit_code == 1
    assert "no value stream named 'Nope'" in no_stream.output
    short = runner.invoke(app, ["user", "add", "bo", "--role", "viewer"], input="abc\nabc\n")
    assert short.exit_code == 1
    assert "at least 8 characters" in short.output
    # Nothing of the failed attempts was kept.
    assert json.loads(obeya("user", "list", "--json")) == []


def test_a_token_is_printed_once_stored_hashed_and_works_until_revoked(
    obeya_home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server remembers who a token is for a moment; a revocation by another process
    # (here the CLI) is seen once that moment has passed.
    monkeypatch.setattr(workspace_access, "TOKEN_CACHE_SECONDS", 0.2)
    obeya("init")
    obeya("user", "add", "ci", "--role", "viewer", "--no-password")
    result = runner.invoke(app, ["token", "create", "ci", "--label", "nightly"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert re.fullmatch(r"obeya_[A-Za-z0-9_-]{43}", secret)
    with Store() as store, store.engine.connect() as connection:
        dump = "\n".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM tokens"))
    assert secret not in dump and digest(secret) in dump

    with Workspace(database_url) as ws:
        client = TestClient(create_app(lambda: ws), raise_server_exceptions=False)
        auth = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/me", headers=auth).json()["user"] == "ci"
        [token] = json.loads(obeya("token", "list", "--json"))
        assert (token["user"], token["label"], token["state"]) == ("ci", "nightly", "active")
        obeya("token", "revoke", str(token["id"]))
        time.sleep(0.25)
        refused = client.get("/api/me", headers=auth)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "AuthError"
        assert json.loads(obeya("token", "list", "--json"))[0]["state"] == "revoked"


def test_the_audit_log_names_the_cli_user_and_the_change(obeya_home: Path) -> None:
    obeya("init")
    obeya("user", "add", "ana", "--role", "editor", "--no-password")
    obeya("user", "revoke", "ana")
    entries = json.loads(obeya("audit", "--json"))
    assert [e["action"] for e in entries] == ["user.revoke", "user.grant", "user.add"]
    assert all(e["actor"].startswith("cli") for e in entries)
    assert entries[0]["before"] == {"stream": None, "role": "editor"}
    assert entries[0]["after"] is None
    assert entries[1]["after"] == {"stream": None, "role": "editor"}


def use_link(client: TestClient, path: str) -> httpx.Response:
    """Open the link's page (which changes nothing) and press its button."""
    page = client.get(path)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    token = path.split("token=", 1)[1]
    assert csrf is not None
    data = {"token": token, "csrf_token": csrf.group(1)}
    return client.post("/sign-in/link", data=data, follow_redirects=False)


def test_the_sign_in_link_makes_the_first_admin_and_works_once(
    obeya_home: Path, database_url: str
) -> None:
    obeya("init")
    url = obeya("user", "link", "--url", "http://example.test:9000").strip()
    assert url.startswith("http://example.test:9000/sign-in/link?token=obeyalink_")
    listed = json.loads(obeya("user", "list", "--json"))
    assert [(u["name"], u["grants"]) for u in listed] == [
        ("admin", [{"stream": None, "role": "admin"}])
    ]
    path = url.removeprefix("http://example.test:9000")
    with Workspace(database_url) as ws:
        client = TestClient(create_app(lambda: ws), raise_server_exceptions=False)
        first = use_link(client, path)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert client.get("/api/me").json()["user"] == "admin"  # the cookie signs in
        again = TestClient(create_app(lambda: ws), raise_server_exceptions=False)
        assert use_link(again, path).status_code == 401


def test_a_revocation_through_the_server_is_seen_at_once(database_url: str) -> None:
    """The same server process forgets a revoked token at once, remembered or not."""
    with Workspace(database_url) as ws:
        ws.initialise()
        ws.access.add_user("ci", Role.VIEWER)
        secret, info = ws.access.create_token("ci")
        client = TestClient(create_app(lambda: ws), raise_server_exceptions=False)
        auth = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/me", headers=auth).status_code == 200  # now remembered
        ws.store.tokens.revoke(info.id)
        assert client.get("/api/me", headers=auth).status_code == 401


def test_a_token_for_ever_or_past_the_maximum_is_refused(
    obeya_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBEYA_MAX_TOKEN_DAYS", raising=False)
    obeya("init")
    obeya("user", "add", "ci", "--role", "viewer", "--no-password")
    for days in ("0", "366"):
        refused = runner.invoke(app, ["token", "create", "ci", "--days", days])
        assert refused.exit_code == 1, refused.output
    assert json.loads(obeya("token", "list", "--json")) == []
    monkeypatch.setenv("OBEYA_MAX_TOKEN_DAYS", "400")
    made = runner.invoke(app, ["token", "create", "ci", "--days", "400"])
    assert made.exit_code == 0, made.output
    [token] = json.loads(obeya("token", "list", "--json"))
    assert token["expires_at"] is not None


def test_a_password_change_says_it_revoked_the_tokens(obeya_home: Path) -> None:
    obeya("init")
    obeya("user", "add", "ana", "--role", "viewer", input="correct horse\ncorrect horse\n")
    for _ in range(2):
        obeya("token", "create", "ana")
    out = obeya("user", "password", "ana", input="a new password\na new password\n")
    assert "2 API tokens revoked" in out
    states = [t["state"] for t in json.loads(obeya("token", "list", "--json"))]
    assert states == ["revoked", "revoked"]


def test_a_look_alike_name_is_refused_before_a_password_is_asked(obeya_home: Path) -> None:
    obeya("init")
    refused = runner.invoke(app, ["user", "add", "admin\u200b", "--role", "admin"])
    assert refused.exit_code == 1
    assert "U+200B" in refused.output
    assert json.loads(obeya("user", "list", "--json")) == []


def test_serve_does_not_let_uvicorn_trust_forwarded_headers(
    obeya_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append(k))
    for workers in ("1", "2"):
        obeya("serve", "--no-sign-in-link", "--workers", workers)
    assert [c.get("proxy_headers") for c in calls] == [False, False]


def test_a_link_points_at_the_server_of_this_home(obeya_home: Path) -> None:
    from obeya.cli.access import SERVED_FILE, noting_served

    obeya("init")
    assert obeya("user", "link").startswith("http://127.0.0.1:8000/sign-in/link?token=")
    # While `obeya serve --port 8799` runs, a link made in another shell points at it.
    with noting_served("http://127.0.0.1:8799"):
        assert (obeya_home / SERVED_FILE).read_text(encoding="utf-8") == "http://127.0.0.1:8799\n"
        assert obeya("user", "link").startswith("http://127.0.0.1:8799/sign-in/link?token=")
    assert not (obeya_home / SERVED_FILE).exists()  # gone when it stops
    assert obeya("user", "link").startswith("http://127.0.0.1:8000/")
