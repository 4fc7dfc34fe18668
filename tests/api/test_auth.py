"""Sign-in and access through the app: every bad input is refused with the right status and
the one error body, and leaves the store as it was; what a user may do and see follows their
roles; every change is audited under the user who made it.

The users: ``root`` admin of the workspace, ``ana`` editor of "Tiny", ``vic`` viewer of the
workspace, ``bo`` admin of "Tiny"; "Other" is a stream of another team.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient  # after app_fixtures (conftest): no warning
from sqlalchemy import select

from api.test_api_errors import error_of
from api.tiny import TINY_CSV
from app_fixtures import app_over, bearer
from obeya.api.app import create_app
from obeya.auth.addresses import TRUSTED_PROXIES_VARIABLE
from obeya.auth.credentials import API_TOKEN_PREFIX, digest, new_secret
from obeya.auth.ratelimit import SignInLimiter
from obeya.auth.sessions import COOKIE
from obeya.core.access import Role
from obeya.errors import NotFoundError
from obeya.store.models import Base
from obeya.workspace import Workspace

PASSWORD = "correct horse"
WRONG = "battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RISK = {"title": "Vendor late", "probability": 0.4, "impact": 5}


# -- helpers ---------------------------------------------------------------------------------


def state(workspace: Workspace) -> dict[str, Any]:
    """What a refused request must leave as it was: users (with their session epoch), tokens
    (but when they were last used), streams, maps, records, and the audit log (which every
    change of the store writes to)."""
    store = workspace.store
    return {
        "users": [(u.name, u.password_hash, u.session_epoch, u.grants) for u in store.users.all()],
        "tokens": [(t.id, t.user, t.expires_at, t.revoked_at) for t in store.tokens.all()],
        "streams": [(s.name, s.events, s.items) for s in workspace.streams()],
        "maps": [(m.name, m.variant, m.version, m.stream) for m in workspace.maps()],
        "records": {
            kind: [(r.key, r.stream, r.version.version) for r in workspace.steering.records(kind)]
            for kind in ("risk", "objective")
        },
        "audit": [e.id for e in store.audit_log(limit=10_000)],
    }


def csrf_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def open_sign_in(client: TestClient, next: str = "/") -> str:
    """Open the sign-in page (which starts an anonymous session); its form's CSRF token."""
    page = client.get("/sign-in", params={"next": next})
    assert page.status_code == 200
    return csrf_in(page.text)


def sign_in(
    client: TestClient, name: str, password: str, next: str = "/", csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else open_sign_in(client, next)
    form = {"name": name, "password": password, "next": next, "csrf_token": token}
    response: httpx.Response = client.post("/sign-in", data=form)
    return response


def unauthorized(response: httpx.Response) -> dict[str, Any]:
    error = error_of(response, 401)
    assert error["type"] == "AuthError"
    assert response.headers["www-authenticate"] == 'Bearer realm="obeya"'
    return error


def forbidden(response: httpx.Response) -> dict[str, Any]:
    error = error_of(response, 403)
    assert error["type"] == "ForbiddenError"
    return error


class FakeClock:
    """Seconds after an arbitrary start, as the limiter's wall clock."""

    START = datetime(2026, 3, 1, tzinfo=UTC)

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> datetime:
        return self.START + timedelta(seconds=self.now)


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def users(workspace: Workspace) -> Workspace:
    """The workspace with the stream "Other" (another team's) and the users of this module."""
    workspace.store.create_stream("Other")
    workspace.access.add_user("root", Role.ADMIN, password=PASSWORD)
    workspace.access.add_user("ana", Role.EDITOR, "Tiny", password=PASSWORD)
    workspace.access.add_user("vic", Role.VIEWER, password=PASSWORD)
    workspace.access.add_user("bo", Role.ADMIN, "Tiny", password=PASSWORD)
    return workspace


@pytest.fixture
def app(users: Workspace) -> FastAPI:
    return app_over(users)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client with no credential, which does not follow redirects (as a test of them)."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """A second client, without credentials: each request passes its own."""
    with TestClient(app, follow_redirects=False) as client:
        yield client


def token_of(workspace: Workspace, user: str) -> dict[str, str]:
    secret, _ = workspace.access.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


# -- signing in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next", "lands"),
    [
        ("/streams/Tiny/risks?today=2024-01-10", "/streams/Tiny/risks?today=2024-01-10"),
        ("/", "/"),
        ("//evil.com", "/"),
        ("//evil.com/streams", "/"),
        ("https://evil.com/", "/"),
        ("/\\evil.com", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_signing_in_by_form_sets_a_cookie_and_goes_back_on_this_site_only(
    browser: TestClient, next: str, lands: str
) -> None:
    response = sign_in(browser, "ana", PASSWORD, next)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == lands
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    me = browser.get("/api/me")
    assert me.status_code == 200
    assert me.json() == {
        "user": "ana",
        "via": "session",
        "grants": [{"stream": "Tiny", "role": "editor"}],
    }


def test_a_wrong_password_signs_no_one_in(browser: TestClient, users: Workspace) -> None:
    before = state(users)
    for name in ("ana", "nobody"):  # a known name and an unknown one: the same answer
        response = sign_in(browser, name, WRONG)
        assert response.status_code == 401
        assert "wrong user name or password" in response.text
        unauthorized(browser.get("/api/me"))
    assert state(users) == before


def test_sign_in_needs_the_csrf_token_of_its_form(browser: TestClient, users: Workspace) -> None:
    before = state(users)
    form = {"name": "ana", "password": PASSWORD, "next": "/"}
    # No session yet: the form was never opened.
    forbidden(browser.post("/sign-in", data=form))
    open_sign_in(browser)
    forbidden(browser.post("/sign-in", data=form))  # no token
    forbidden(browser.post("/sign-in", data={**form, "csrf_token": "0" * 64}))  # forged
    unauthorized(browser.get("/api/me"))
    assert state(users) == before


def test_wrong_passwords_are_limited_even_for_the_right_one(
    app: FastAPI, browser: TestClient, users: Workspace
) -> None:
    clock = FakeClock()
    app.state.obeya.sign_in_limiter = SignInLimiter(window_seconds=900, clock=clock)
    before = state(users)
    csrf = open_sign_in(browser)
    for attempt in range(5):
        clock.now = 10.0 * attempt
        assert sign_in(browser, "ana", WRONG, csrf=csrf).status_code == 401
    clock.now = 100.0
    for password in (WRONG, PASSWORD):  # the right password is refused too, unchecked
        refused = sign_in(browser, "ana", password, csrf=csrf)
        assert error_of(refused, 429)["type"] == "TooManyAttempts"
        assert refused.headers["retry-after"] == "800"  # the first failure leaves at 900
        assert "800 seconds" in refused.json()["error"]["message"]
        assert COOKIE not in refused.headers.get("set-cookie", "")
    unauthorized(browser.get("/api/me"))
    assert state(users) == before
    clock.now = 899.0
    assert sign_in(browser, "ana", PASSWORD, csrf=csrf).headers["retry-after"] == "1"
    clock.now = 900.0  # the first failure has left the window: four remain
    assert sign_in(browser, "ana", PASSWORD, csrf=csrf).status_code == 303
    assert browser.get("/api/me").json()["user"] == "ana"


def client_at(app: FastAPI, address: str) -> TestClient:
    """A browser whose requests come from ``address`` (the socket's peer)."""
    return TestClient(app, follow_redirects=False, client=(address, 40000))


def lock_out(client: TestClient, name: str, headers: dict[str, str] | None = None) -> None:
    csrf = open_sign_in(client)
    form = {"name": name, "password": WRONG, "next": "/", "csrf_token": csrf}
    for _ in range(5):
        assert client.post("/sign-in", data=form, headers=headers).status_code == 401
    form["password"] = PASSWORD
    assert error_of(client.post("/sign-in", data=form, headers=headers), 429)


def test_a_lockout_holds_one_name_from_one_address_only(app: FastAPI) -> None:
    """Five wrong passwords for ana from one address: ana from another address, and bo from
    the same one (a colleague behind the same proxy), still sign in."""
    with client_at(app, "10.0.0.1") as here, client_at(app, "10.0.0.2") as there:
        lock_out(here, "ana")
        assert sign_in(there, "ana", PASSWORD).status_code == 303
        here.cookies.clear()
        assert sign_in(here, "bo", PASSWORD).status_code == 303
        here.cookies.clear()
        assert error_of(sign_in(here, "ana", PASSWORD), 429)["type"] == "TooManyAttempts"


def test_a_forged_forwarded_for_gives_no_fresh_count(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without OBEYA_TRUSTED_PROXIES, X-Forwarded-For is the sender's word, loopback or not."""
    monkeypatch.delenv(TRUSTED_PROXIES_VARIABLE, raising=False)
    with client_at(app, "127.0.0.1") as local:
        csrf = open_sign_in(local)
        form = {"name": "ana", "password": WRONG, "next": "/", "csrf_token": csrf}
        for i in range(5):
            rotating = {"X-Forwarded-For": f"198.51.100.{i}"}
            assert local.post("/sign-in", data=form, headers=rotating).status_code == 401
        form["password"] = PASSWORD
        fresh = {"X-Forwarded-For": "198.51.100.99"}
        assert error_of(local.post("/sign-in", data=form, headers=fresh), 429)


def test_behind_a_trusted_proxy_each_client_address_counts_apart(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_VARIABLE, "127.0.0.1")
    with client_at(app, "127.0.0.1") as proxy:
        attacker = {"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}  # the proxy saw .7
        lock_out(proxy, "ana", attacker)
        colleague = {"X-Forwarded-For": "198.51.100.8"}
        csrf = open_sign_in(proxy)
        form = {"name": "ana", "password": PASSWORD, "next": "/", "csrf_token": csrf}
        assert proxy.post("/sign-in", data=form, headers=colleague).status_code == 303
        proxy.cookies.clear()
        csrf = open_sign_in(proxy)
        form["csrf_token"] = csrf
        forged = {"X-Forwarded-For": "198.51.100.8, 198.51.100.7"}  # left part: the client's
        assert error_of(proxy.post("/sign-in", data=form, headers=forged), 429)


def test_the_limit_holds_across_server_processes(users: Workspace) -> None:
    """Two apps, each with its own workspace (engine) over the one database, as two worker
    processes are: five wrong passwords in all lock the pair in both."""
    with Workspace(users.store.url) as second:
        apps = [create_app(lambda: users), create_app(lambda: second)]
        with client_at(apps[0], "10.0.0.1") as one, client_at(apps[1], "10.0.0.1") as two:
            for i in range(5):
                assert sign_in((one, two)[i % 2], "ana", WRONG).status_code == 401
            for client in (one, two):
                refused = sign_in(client, "ana", PASSWORD)
                assert error_of(refused, 429)["type"] == "TooManyAttempts"


def test_a_look_alike_user_name_is_refused_naming_the_field(
    api: TestClient, users: Workspace
) -> None:
    root = token_of(users, "root")
    before = state(users)
    for name in ("root\u200b", "ro\u202eot", "\u3164"):
        body = {"name": name, "role": "admin", "password": "look alike pw"}
        refused = api.post("/api/users", json=body, headers=root)
        error = error_of(refused, 422)
        assert error["type"] == "ValidationError"
        assert [d["loc"] for d in error["detail"]] == [["body", "name"]]
    assert state(users) == before
    assert [u.name for u in users.store.users.all()] == ["ana", "bo", "root", "vic"]


def use_link(client: TestClient, secret: str) -> httpx.Response:
    """Open the link's page (a GET, which changes nothing) and press its button."""
    page = client.get("/sign-in/link", params={"token": secret})
    assert page.status_code == 200
    return client.post("/sign-in/link", data={"token": secret, "csrf_token": csrf_in(page.text)})


def test_opening_a_link_spends_nothing(browser: TestClient, users: Workspace) -> None:
    """A mail client's preview, or another site's <img src>, opens the link with a GET: it
    must neither sign in nor spend the link."""
    secret = users.access.sign_in_link("ana")
    before = state(users)
    for _ in range(3):
        assert browser.get("/sign-in/link", params={"token": secret}).status_code == 200
    unauthorized(browser.get("/api/me"))
    assert state(users) == before
    assert use_link(browser, secret).status_code == 303
    assert browser.get("/api/me").json()["user"] == "ana"


def test_a_link_cannot_be_used_by_a_cross_site_form(browser: TestClient, users: Workspace) -> None:
    secret = users.access.sign_in_link("ana")
    forbidden(browser.post("/sign-in/link", data={"token": secret}))  # no CSRF token
    assert use_link(browser, secret).status_code == 303  # still unused


def test_a_one_time_link_works_once(browser: TestClient, app: FastAPI, users: Workspace) -> None:
    secret = users.access.sign_in_link("ana")
    response = use_link(browser, secret)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert browser.get("/api/me").json()["user"] == "ana"
    before = state(users)
    with TestClient(app, follow_redirects=False) as other:
        again = use_link(other, secret)
        assert again.status_code == 401  # the sign-in page, saying why
        assert "the sign-in link is unknown, used or expired" in again.text
        unauthorized(other.get("/api/me"))
    assert state(users) == before


def test_an_expired_link_and_a_token_used_as_a_link_are_refused(
    browser: TestClient, users: Workspace
) -> None:
    expired = new_secret("obeyalink_")
    users.store.tokens.add(
        "ana",
        kind="link",
        label="old",
        digest=digest(expired),
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    api_secret, _ = users.access.create_token("ana")
    for secret in (expired, api_secret):
        refused = use_link(browser, secret)
        assert refused.status_code == 401
        assert "the sign-in link is unknown, used or expired" in refused.text
    unauthorized(browser.get("/api/me"))


def test_signing_out_ends_the_session(browser: TestClient) -> None:
    sign_in(browser, "ana", PASSWORD)
    csrf = csrf_in(browser.get("/streams/Tiny/risks").text)
    forbidden(browser.post("/sign-out"))  # a cross-site form cannot sign one out
    assert browser.get("/api/me").status_code == 200
    response = browser.post("/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert COOKIE not in browser.cookies
    unauthorized(browser.get("/api/me"))


def test_a_copy_of_a_signed_out_cookie_no_longer_works(browser: TestClient, app: FastAPI) -> None:
    sign_in(browser, "ana", PASSWORD)
    copy = browser.cookies[COOKIE]
    csrf = csrf_in(browser.get("/streams/Tiny/risks").text)
    browser.post("/sign-out", data={"csrf_token": csrf})
    with TestClient(app) as thief:
        thief.cookies.set(COOKIE, copy)
        unauthorized(thief.get("/api/me"))


def test_changing_the_password_ends_existing_sessions(
    browser: TestClient, api: TestClient, users: Workspace
) -> None:
    sign_in(browser, "ana", PASSWORD)
    assert browser.get("/api/me").status_code == 200
    body = {"name": "ana", "role": "editor", "stream": "Tiny", "password": "a new password"}
    changed = api.post("/api/users", json=body, headers=token_of(users, "root"))
    assert changed.status_code == 201, changed.text
    unauthorized(browser.get("/api/me"))
    assert sign_in(browser, "ana", PASSWORD).status_code == 401
    assert sign_in(browser, "ana", "a new password").status_code == 303


def test_a_forged_cookie_is_no_session(browser: TestClient) -> None:
    sign_in(browser, "ana", PASSWORD)
    cookie = browser.cookies[COOKIE]
    browser.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    unauthorized(browser.get("/api/me"))


# -- tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer ", "Bearer nonsense", f"Bearer {API_TOKEN_PREFIX}{'x' * 43}", "Basic YTpi"],
)
def test_no_token_or_a_bad_one_is_a_401_that_changes_nothing(
    api: TestClient, users: Workspace, authorization: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    before = state(users)
    unauthorized(api.get("/api/streams", headers=headers))
    unauthorized(api.post("/api/streams", json={"name": "New"}, headers=headers))
    unauthorized(api.delete("/api/streams/Tiny", headers=headers))
    assert state(users) == before


def test_expired_and_revoked_tokens_are_refused(api: TestClient, users: Workspace) -> None:
    expired = new_secret(API_TOKEN_PREFIX)
    users.store.tokens.add(
        "root",
        kind="api",
        label="old",
        digest=digest(expired),
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    revoked, info = users.access.create_token("root")
    headers = {"Authorization": f"Bearer {revoked}"}
    assert api.get("/api/me", headers=headers).status_code == 200
    assert api.delete(f"/api/tokens/{info.id}", headers=headers).status_code == 204
    before = state(users)
    for secret in (expired, revoked):
        headers = {"Authorization": f"Bearer {secret}"}
        error = unauthorized(api.get("/api/me", headers=headers))
        assert "unknown, expired or revoked" in error["message"]
        unauthorized(api.post("/api/streams", json={"name": "New"}, headers=headers))
        unauthorized(api.delete("/api/streams/Tiny", headers=headers))
    assert state(users) == before
    states = {t.label: t.state(datetime.now(UTC)) for t in users.store.tokens.all("root")}
    assert states == {"old": "expired", "api": "revoked"}


def test_tokens_are_stored_hashed(api: TestClient, users: Workspace) -> None:
    made = api.post("/api/tokens", json={"label": "ci"}, headers=token_of(users, "ana"))
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    assert secret.startswith(API_TOKEN_PREFIX)
    assert made.json()["user"] == "ana"
    dumped: list[str] = []
    with users.store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            dumped.extend(str(row) for row in connection.execute(select(table)))
    everything = "\n".join(dumped)
    assert secret not in everything
    assert secret[len(API_TOKEN_PREFIX) :] not in everything
    assert digest(secret) in everything
    assert PASSWORD not in everything  # nor the passwords: argon2 hashes only
    # The secret is not shown again, either.
    listed = api.get("/api/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200
    assert secret not in listed.text and "ci" in [t["label"] for t in listed.json()]


# -- CSRF on cookie sessions -----------------------------------------------------------------


def test_a_form_post_needs_the_sessions_csrf_token(browser: TestClient, users: Workspace) -> None:
    before_sign_in = open_sign_in(browser)
    assert sign_in(browser, "ana", PASSWORD, csrf=before_sign_in).status_code == 303
    form = {"key": "R-9", "title": "Forged", "probability": "0.5", "impact": "3"}
    before = state(users)
    forbidden(browser.post("/streams/Tiny/risks", data=form))  # missing
    for forged in ("0" * 64, "", before_sign_in):  # forged; empty; the anonymous session's
        error = forbidden(browser.post("/streams/Tiny/risks", data={**form, "csrf_token": forged}))
        assert "CSRF" in error["message"]
    # A JSON call on the cookie needs it as a header.
    body = {"document": RISK, "stream": "Tiny"}
    forbidden(browser.put("/api/records/risk/R-9", json=body))
    forbidden(browser.put("/api/records/risk/R-9", json=body, headers={"X-CSRF-Token": "x"}))
    assert state(users) == before
    with pytest.raises(NotFoundError):
        users.steering.record("risk", "R-9")
    # The right one works, on the form and as the header.
    csrf = csrf_in(browser.get("/streams/Tiny/risks").text)
    saved = browser.post("/streams/Tiny/risks", data={**form, "csrf_token": csrf})
    assert saved.status_code == 303, saved.text
    assert users.steering.record("risk", "R-9").document["title"] == "Forged"
    put = browser.put("/api/records/risk/R-10", json=body, headers={"X-CSRF-Token": csrf})
    assert put.status_code == 200, put.text
    assert [e.actor for e in users.store.audit_log(limit=2)] == ["ana", "ana"]


def test_a_bearer_token_needs_no_csrf_token(api: TestClient, users: Workspace) -> None:
    body = {"document": RISK, "stream": "Tiny"}
    saved = api.put("/api/records/risk/R-9", json=body, headers=token_of(users, "ana"))
    assert saved.status_code == 200, saved.text


# -- roles -----------------------------------------------------------------------------------


def test_a_viewer_cannot_write(api: TestClient, users: Workspace) -> None:
    users.steering.save_record("risk", {"key": "R-1", **RISK}, author="root", stream="Tiny")
    headers = token_of(users, "vic")
    before = state(users)
    body = {"document": RISK, "stream": "Tiny"}
    error = forbidden(api.put("/api/records/risk/R-9", json=body, headers=headers))
    assert (
        error["message"] == "vic is viewer there; editor or above is needed on value stream 'Tiny'"
    )
    csv = {"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")}
    forbidden(api.post("/api/streams/Tiny/import", files=csv, headers=headers))
    forbidden(api.post("/api/streams", json={"name": "New"}, headers=headers))
    forbidden(api.delete("/api/streams/Tiny", headers=headers))
    forbidden(api.delete("/api/records/risk/R-1", headers=headers))
    assert state(users) == before


def test_a_stream_of_another_team_is_refused(api: TestClient, users: Workspace) -> None:
    users.steering.save_record("risk", {"key": "R-O", **RISK}, author="root", stream="Other")
    headers = token_of(users, "ana")  # editor of Tiny only
    before = state(users)
    # Naming the other stream in the body, or in the document.
    for body in (
        {"document": RISK, "stream": "Other"},
        {"document": {**RISK, "stream": "Other"}, "stream": "Tiny"},
    ):
        error = forbidden(api.put("/api/records/risk/R-9", json=body, headers=headers))
        assert "ana has no role there" in error["message"] and "'Other'" in error["message"]
    # Taking the other team's risk into one's own stream.
    body = {"document": RISK, "stream": "Tiny"}
    forbidden(api.put("/api/records/risk/R-O", json=body, headers=headers))
    # Reading it, importing into it, adding a risk by its page.
    forbidden(api.get("/api/records/risk/R-O", headers=headers))
    forbidden(api.get("/api/streams/Other/risks", headers=headers))
    csv = {"file": ("tiny.csv", TINY_CSV.encode(), "text/csv")}
    forbidden(api.post("/api/streams/Other/import", files=csv, headers=headers))
    form = {"key": "R-9", "title": "Sneaky", "probability": "0.5", "impact": "3"}
    forbidden(api.post("/streams/Other/risks", data=form, headers=headers))
    assert state(users) == before
    assert users.steering.record("risk", "R-O").stream == "Other"
    with pytest.raises(NotFoundError):
        users.steering.record("risk", "R-9")


def test_the_stream_list_shows_only_what_a_user_may_see(api: TestClient, users: Workspace) -> None:
    users.access.add_user("nobody", Role.VIEWER, "Tiny")
    users.store.users.revoke("nobody", "Tiny")  # signed in, but no role anywhere

    def names(user: str) -> list[str]:
        response = api.get("/api/streams", headers=token_of(users, user))
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json()]

    assert names("root") == ["Other", "Tiny"]
    assert names("vic") == ["Other", "Tiny"]
    assert names("ana") == ["Tiny"]
    assert names("bo") == ["Tiny"]
    assert names("nobody") == []


def test_creating_a_stream_needs_a_workspace_editor(api: TestClient, users: Workspace) -> None:
    users.access.add_user("ed", Role.EDITOR)
    made = api.post("/api/streams", json={"name": "New"}, headers=token_of(users, "ed"))
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "New"
    assert users.store.audit_log(limit=1)[0].actor == "ed"
    tokens = [token_of(users, user) for user in ("vic", "bo")]
    before = state(users)
    for headers in tokens:  # a workspace viewer; an admin of one stream only
        forbidden(api.post("/api/streams", json={"name": "Newer"}, headers=headers))
    unauthorized(api.post("/api/streams", json={"name": "Newer"}))
    assert state(users) == before


def test_an_oversized_upload_leaves_no_stream(users: Workspace) -> None:
    app = create_app(lambda: users, max_upload_bytes=1024)
    headers = token_of(users, "root")
    before = state(users)
    with TestClient(app, headers=headers) as client:
        big = TINY_CSV.encode() * 100
        for stream in ("Brand new", "Tiny"):
            response = client.post(
                f"/api/streams/{stream}/import", files={"file": ("big.csv", big, "text/csv")}
            )
            assert error_of(response, 413)["type"] == "BodyTooLarge"
    assert state(users) == before
    assert "Brand new" not in [s.name for s in users.streams()]


# -- the audit log ---------------------------------------------------------------------------


def test_a_record_saved_through_the_api_is_audited_under_the_tokens_user(
    api: TestClient, users: Workspace
) -> None:
    headers = token_of(users, "ana")
    first = {"document": RISK, "stream": "Tiny"}
    assert api.put("/api/records/risk/R-9", json=first, headers=headers).status_code == 200
    second = {"document": {**RISK, "impact": 2}, "stream": "Tiny", "expected_version": 1}
    assert api.put("/api/records/risk/R-9", json=second, headers=headers).status_code == 200
    newest, older = users.store.audit_log(stream="Tiny", limit=2)
    assert (older.actor, older.action, older.stream) == ("ana", "record.save", "Tiny")
    assert older.target == "risk 'R-9'"
    assert older.before is None
    assert older.after["title"] == "Vendor late" and older.after["impact"] == 5
    assert (newest.actor, newest.action, newest.target) == ("ana", "record.save", older.target)
    assert newest.before == older.after
    assert newest.after["impact"] == 2
    # The version's author is the user too.
    assert users.steering.record("risk", "R-9").version.author == "ana"


def test_an_import_is_audited_under_the_tokens_user(api: TestClient, users: Workspace) -> None:
    more = TINY_CSV + "E,In Progress,2024-01-12,Bug\n"
    csv = {"file": ("more.csv", more.encode(), "text/csv")}
    response = api.post("/api/streams/Tiny/import", files=csv, headers=token_of(users, "ana"))
    assert response.status_code == 200, response.text
    entry = users.store.audit_log(limit=1)[0]
    assert (entry.actor, entry.action, entry.target, entry.stream) == (
        "ana",
        "stream.import",
        "Tiny",
        "Tiny",
    )
    assert entry.before == {"events": 13}
    assert entry.after["events"] == 14
    assert (entry.after["events_in_file"], entry.after["events_added"]) == (14, 1)
    assert entry.after["source"] == "more.csv"


def test_a_stream_admin_reads_only_their_streams_audit(api: TestClient, users: Workspace) -> None:
    users.steering.save_record("risk", {"key": "R-O", **RISK}, author="root", stream="Other")
    users.steering.save_record("risk", {"key": "R-T", **RISK}, author="root", stream="Tiny")
    headers = token_of(users, "bo")
    log = api.get("/api/audit", params={"stream": "Tiny"}, headers=headers)
    assert log.status_code == 200, log.text
    entries = log.json()
    assert entries and {e["stream"] for e in entries} == {"Tiny"}
    assert any(e["action"] == "record.save" and "R-T" in e["target"] for e in entries)
    forbidden(api.get("/api/audit", params={"stream": "Other"}, headers=headers))
    forbidden(api.get("/api/audit", headers=headers))  # the whole log: workspace admins
    forbidden(api.get("/api/audit", params={"stream": "Tiny"}, headers=token_of(users, "ana")))
    everything = api.get("/api/audit", headers=token_of(users, "root")).json()
    assert {"Other", "Tiny", None} <= {e["stream"] for e in everything}


# -- pages -----------------------------------------------------------------------------------


def test_a_page_without_sign_in_goes_to_the_sign_in_page_and_back(browser: TestClient) -> None:
    page = "/streams/Tiny/risks?today=2024-01-10"
    response = browser.get(page, headers={"accept": "text/html"})
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/sign-in"
    assert parse_qs(target.query) == {"next": [page]}
    form = browser.get(response.headers["location"])
    assert f'name="next" value="{page}"' in form.text.replace("&amp;", "&")
    signed_in = sign_in(browser, "ana", PASSWORD, next=page, csrf=csrf_in(form.text))
    assert signed_in.headers["location"] == page
    assert browser.get(page, headers={"accept": "text/html"}).status_code == 200


def test_a_script_without_sign_in_gets_a_401_not_a_redirect(browser: TestClient) -> None:
    unauthorized(browser.get("/streams/Tiny/risks"))  # no text/html in Accept
    unauthorized(browser.get("/api/streams/Tiny", headers={"accept": "text/html"}))


def test_the_client_fixture_is_a_workspace_admin(client: TestClient, workspace: Workspace) -> None:
    me = client.get("/api/me").json()
    assert me == {"user": "tester", "via": "token", "grants": [{"stream": None, "role": "admin"}]}
    assert bearer(workspace, "ana", Role.VIEWER, "Tiny")["Authorization"].startswith("Bearer ")


def test_a_stream_admin_cannot_take_over_another_account_by_its_password(
    browser: TestClient, api: TestClient, users: Workspace
) -> None:
    """bo administers Tiny only: naming root (a workspace admin) with a new password on
    Tiny is refused, and root's password and roles stay as they were."""
    bo = token_of(users, "bo")
    before = state(users)
    body = {"name": "root", "role": "viewer", "stream": "Tiny", "password": "bo owns you now"}
    refused = api.post("/api/users", json=body, headers=bo)
    assert refused.status_code == 403, refused.text
    assert (
        "only an admin of the whole workspace may change their password"
        in (refused.json()["error"]["message"])
    )
    assert state(users) == before
    assert sign_in(browser, "root", PASSWORD).status_code == 303
    # Without a password, giving root a role on Tiny is bo's to do.
    body.pop("password")
    assert api.post("/api/users", json=body, headers=bo).status_code == 201
