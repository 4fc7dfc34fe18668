"""Every response carries the security headers (pages, the API, static files, redirects and
errors down to a 500), the policy runs no inline script, and no template holds one."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from obeya.api.app import create_app
from obeya.workspace import Workspace

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "obeya" / "web" / "templates"


def directives(response: Response) -> dict[str, str]:
    csp = response.headers["content-security-policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in csp.split(";"))
        if part
    }


def assert_secured(response: Response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    policy = directives(response)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    scripts = policy["script-src"].split()
    assert scripts[0] == "'self'"
    # Nothing but this origin and, on /docs only, hashes of named scripts.
    assert all(s.startswith("'sha256-") for s in scripts[1:]), scripts
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),  # a page
        ("/streams/Tiny", 200),  # the dashboard: large, so gzipped
        ("/api/streams", 200),  # an API JSON answer
        ("/static/obeya.js", 200),  # a static file
        ("/static/vendor/vega.min.js", 200),
        ("/api/streams/Nowhere", 404),  # an API error
        ("/streams/Nowhere", 404),  # an error page
        ("/no/such/path", 404),
    ],
)
def test_signed_in_responses_carry_the_headers(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == status
    assert_secured(response)
    assert [p for p in directives(response)["script-src"].split()] == ["'self'"]


def test_the_dashboard_is_compressed_and_still_secured(client: TestClient) -> None:
    response = client.get("/streams/Tiny", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
    assert_secured(response)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/streams", 401),  # no token: the error page
        ("GET", "/streams/Tiny", 303),  # a page: off to the sign-in page
        ("GET", "/sign-in", 200),
        ("POST", "/api/streams/Tiny/import", 401),
    ],
)
def test_anonymous_responses_carry_the_headers(
    workspace: Workspace, method: str, path: str, status: int
) -> None:
    with TestClient(create_app(lambda: workspace), follow_redirects=False) as anonymous:
        response = anonymous.request(method, path, headers={"Accept": "text/html"})
    assert response.status_code == status
    assert_secured(response)


def test_a_server_error_carries_the_headers(tmp_path: Path) -> None:
    def broken() -> Workspace:
        raise RuntimeError("the store is gone")

    app = create_app(broken)
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        response = anonymous.get("/api/streams", headers={"Authorization": "Bearer x"})
    assert response.status_code == 500
    assert_secured(response)


def test_the_api_reference_allows_only_its_own_inline_script(client: TestClient) -> None:
    response = client.get("/docs", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert_secured(response)
    inline = re.findall(r"<script>(.*?)</script>", response.text, flags=re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert directives(response)["script-src"].split() == ["'self'", f"'sha256-{digest}'"]


#: An element that runs script: <script> without src= that is not a JSON data block.
EXECUTING_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']application/json[\"'])[^>]*>", re.I
)
#: An event handler attribute (onclick=, onload= …), an htmx inline handler, a javascript: URL.
HANDLER = re.compile(r"(?:\s|^)(?:on[a-z]+|hx-on[:\w-]*)\s*=|javascript:", re.I)


def test_no_template_holds_a_script_that_executes() -> None:
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) > 10
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not EXECUTING_SCRIPT.findall(text), template.name
        assert not HANDLER.findall(text), template.name


def test_the_template_check_finds_what_it_looks_for() -> None:
    assert EXECUTING_SCRIPT.search("<script>alert(1)</script>")
    assert EXECUTING_SCRIPT.search('<script type="module">x()</script>')
    assert not EXECUTING_SCRIPT.search('<script src="/static/obeya.js" defer></script>')
    assert not EXECUTING_SCRIPT.search('<script type="application/json" id="spec-x">{}</script>')
    assert HANDLER.search('<button onclick="go()">')
    assert HANDLER.search('<form hx-on:submit="go()">')
    assert not HANDLER.search('<form data-form="add-risk" action="/x">')
