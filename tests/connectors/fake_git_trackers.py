"""Fake GitHub and GitLab REST APIs that serve the recordings in ``recordings/github`` and
``recordings/gitlab`` on the trackers' own paths.

Each folder's ``routes.json`` maps a path to a recorded body: ``file`` (one answer) or ``list``
(a JSON array served in pages; with ``wrap``, inside an object under that key, with a
``total_count``, as GitHub serves workflow runs). Lists honour the query the way the tracker
does where a test needs it (``filters``: ``since`` / ``updated_after`` keep what was updated at
or after it, ``environment`` keeps one environment, GitHub's ``created=>=…`` / ``<…`` keep runs
by creation), and page by the route's ``page_size`` (small, so that a few recorded issues make
several pages; the client's ``per_page`` is ignored) with the tracker's own headers: GitHub's
``Link``; GitLab's ``Link`` and ``x-next-page``/``x-page``/``x-total``…, or with
``pagination=keyset`` a ``Link`` with a ``cursor`` and nothing else.

GitHub's GraphQL endpoint (``POST /graphql``, a route with ``graphql``) answers the project
timeline query: ``graphql`` maps an issue number to a recorded answer (``{"data": …}``) whose
``timelineItems`` nodes it serves ``page_size`` at a time after the ``cursor`` variable, with
``pageInfo`` as GitHub gives it; an issue not recorded gets GitHub's ``NOT_FOUND`` error (HTTP
200, ``errors``).
GitHub answers carry a weak ``ETag`` of the body and ``If-None-Match`` with it gets ``304``.
A wrong or missing token gets the tracker's own 401 body; an unknown path its 404.

One :class:`FakeTracker` answers through ``httpx.MockTransport`` (:meth:`FakeTracker.transport`,
for unit tests) or as an ASGI app (:meth:`FakeTracker.app`, FastAPI) that :func:`serve` runs
with uvicorn on a free port of the loopback, for end-to-end tests::

    fake = github_fake()
    with serve(fake) as url:
        source = GitHubSource(GitHubConfig("shop", GITHUB_REPO, TOKEN, api_url=url))

``fake.requests`` records what was asked (path, query, headers, status answered);
:meth:`FakeTracker.fail` makes the next requests to a path fail (429, 5xx, 403 …).
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

RECORDINGS = Path(__file__).parent / "recordings"
#: The token the fakes accept (any text would do; tests check it never leaks).
TOKEN = "ghp_Secr3tTokenThatMustNeverLeak"
GITHUB_REPO = "octo/shop"
GITLAB_PROJECT = "group/shop"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it (header names lower case)."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    status: int
    #: The JSON body of a POST (GraphQL: ``query`` and ``variables``).
    body: Any = None


@dataclass
class Fault:
    path: str
    query: dict[str, str]
    reply: Reply
    times: int


@dataclass
class FakeTracker:
    """One tracker's recordings, answered on its paths (see the module docstring)."""

    folder: Path
    token: str | None = TOKEN
    base_url: str = ""
    requests: list[Seen] = field(default_factory=list)
    #: Header names (lower case) left out of every answer, e.g. ``{"link"}``.
    drop_headers: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = json.loads((self.folder / "routes.json").read_text(encoding="utf-8"))
        self.tracker: str = spec["tracker"]
        self.base_url = self.base_url or spec["base_url"]
        self.common_headers: dict[str, str] = spec.get("headers", {})
        self.routes: dict[str, dict[str, Any]] = {route["path"]: route for route in spec["routes"]}
        #: The recorded lists by path, which a test may change (an issue edited between pulls).
        self.lists: dict[str, list[Any]] = {
            path: self.load(route["list"]) for path, route in self.routes.items() if "list" in route
        }
        self._lock = threading.Lock()

    def load(self, name: str) -> Any:
        return json.loads((self.folder / name).read_text(encoding="utf-8"))

    # -- what tests call -----------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        query: Mapping[str, str] | None = None,
    ) -> None:
        """The next ``times`` requests to ``path`` (whose query has ``query``) get ``status``."""
        content = b"" if body is None else json.dumps(body).encode()
        reply = Reply(status, {"content-type": "application/json", **(headers or {})}, content)
        self.faults.append(Fault(path, dict(query or {}), reply, times))

    def seen(self, path: str) -> list[Seen]:
        return [request for request in self.requests if request.path == path]

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            path = request.url.raw_path.decode("ascii").partition("?")[0]
            query = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
            reply = self.answer(path, query, request.headers, request.method, request.content)
            return httpx.Response(reply.status, headers=reply.headers, content=reply.body)

        return httpx.MockTransport(handle)

    def app(self) -> FastAPI:
        api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @api.get("/{anything:path}")
        def answer(request: Request) -> Response:
            # The raw path keeps GitLab's %2F in group%2Fshop as sent.
            raw = request.scope.get("raw_path") or request.url.path.encode()
            path = raw.decode("ascii").partition("?")[0]
            query = parse_qsl(request.url.query, keep_blank_values=True)
            reply = self.answer(path, query, request.headers)
            return Response(reply.body, reply.status, headers=reply.headers)

        @api.post("/{anything:path}")
        async def post(request: Request) -> Response:
            path = request.url.path
            query = parse_qsl(request.url.query, keep_blank_values=True)
            reply = self.answer(path, query, request.headers, "POST", await request.body())
            return Response(reply.body, reply.status, headers=reply.headers)

        return api

    # -- the answers ---------------------------------------------------------------------------

    def answer(
        self,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
        method: str = "GET",
        content: bytes = b"",
    ) -> Reply:
        params = dict(query)
        body = json.loads(content) if method == "POST" and content else None
        with self._lock:
            reply = self._answer(path, params, headers, method, body)
            reply = Reply(
                reply.status,
                {k: v for k, v in reply.headers.items() if k.lower() not in self.drop_headers},
                reply.body,
            )
            self.requests.append(
                Seen(path, params, {k.lower(): v for k, v in headers.items()}, reply.status, body)
            )
        return reply

    def _answer(
        self,
        path: str,
        params: dict[str, str],
        headers: Mapping[str, str],
        method: str = "GET",
        body: Any = None,
    ) -> Reply:
        for fault in self.faults:
            if fault.times > 0 and fault.path == path and fault.query.items() <= params.items():
                fault.times -= 1
                return fault.reply
        if not self._authorised(headers):
            name = "bad_credentials.json" if self.tracker == "github" else "unauthorized.json"
            return self._json(401, self.load(name))
        route = self.routes.get(path)
        if route is None or method != ("POST" if "graphql" in route else "GET"):
            return self._json(404, self.load("not_found.json"))
        if "graphql" in route:
            return self._graphql(route, body or {})
        if "file" in route:
            reply = self._json(200, self.load(route["file"]))
        else:
            reply = self._page(path, route, params)
        if self.tracker == "github":
            etag = 'W/"' + hashlib.sha1(reply.body).hexdigest() + '"'
            if headers.get("if-none-match") == etag:
                return Reply(304, {**self.common_headers, "ETag": etag}, b"")
            reply.headers["ETag"] = etag
        return reply

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if self.token is None:
            return True
        if self.tracker == "github":
            return headers.get("authorization") in (f"Bearer {self.token}", f"token {self.token}")
        return headers.get("private-token") == self.token

    def _json(self, status: int, body: Any, extra: Mapping[str, str] | None = None) -> Reply:
        headers = {
            "content-type": "application/json; charset=utf-8",
            **self.common_headers,
            **(extra or {}),
        }
        return Reply(status, headers, json.dumps(body).encode())

    def _page(self, path: str, route: Mapping[str, Any], params: dict[str, str]) -> Reply:
        items = [item for item in self.lists[path] if _kept(item, route, params)]
        size = int(route.get("page_size", 100))
        keyset = self.tracker == "gitlab" and params.get("pagination") == "keyset"
        if keyset:
            cursor = params.get("cursor")
            start = json.loads(base64.urlsafe_b64decode(cursor))["offset"] if cursor else 0
            page = start // size + 1
        else:
            page = int(params.get("page", "1"))
            start = (page - 1) * size
        last = max(1, -(-len(items) // size))
        chunk = items[start : start + size]

        def at(**changes: str) -> str:
            query = {k: v for k, v in params.items() if k not in ("page", "cursor")}
            query.update(changes)
            return f"<{self.base_url}{path}?{urlencode(query)}>"

        links: list[str] = []
        extra: dict[str, str] = {}
        if keyset:
            if start + size < len(items):
                cursor = base64.urlsafe_b64encode(
                    json.dumps({"offset": start + size}).encode()
                ).decode()
                links.append(f'{at(cursor=cursor)}; rel="next"')
                extra["X-Next-Cursor"] = cursor
        else:
            if page > 1:
                links.append(f'{at(page=str(page - 1))}; rel="prev"')
            if page < last:
                links.append(f'{at(page=str(page + 1))}; rel="next"')
            links.append(f'{at(page="1")}; rel="first"')
            links.append(f'{at(page=str(last))}; rel="last"')
            if self.tracker == "gitlab":
                extra.update(
                    {
                        "x-page": str(page),
                        "x-per-page": str(size),
                        "x-next-page": str(page + 1) if page < last else "",
                        "x-prev-page": str(page - 1) if page > 1 else "",
                        "x-total": str(len(items)),
                        "x-total-pages": str(last),
                    }
                )
        if links:
            extra["Link"] = ", ".join(links)
        if "wrap" in route:
            return self._json(200, {"total_count": len(items), route["wrap"]: chunk}, extra)
        return self._json(200, chunk, extra)

    def _graphql(self, route: Mapping[str, Any], body: Mapping[str, Any]) -> Reply:
        """The project timeline query of one issue, a page of its recorded nodes."""
        variables = body.get("variables") or {}
        number = str(variables.get("number"))
        owner, _, name = GITHUB_REPO.partition("/")
        recorded = route["graphql"].get(number)
        if (variables.get("owner"), variables.get("name")) != (owner, name) or recorded is None:
            return self._json(
                200,
                {
                    "data": {"repository": None},
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "path": ["repository", "issue"],
                            "locations": [{"line": 4, "column": 5}],
                            "message": "Could not resolve to an Issue with the number of "
                            f"{number}.",
                        }
                    ],
                },
            )
        answer = self.load(recorded)
        timeline = answer["data"]["repository"]["issue"]["timelineItems"]
        nodes = timeline["nodes"]
        cursor = variables.get("cursor")
        start = int(base64.b64decode(cursor).decode().rpartition(":")[2]) if cursor else 0
        chunk = nodes[start : start + int(route.get("page_size", 100))]
        end = start + len(chunk)
        timeline["nodes"] = chunk
        timeline["pageInfo"] = {
            "hasNextPage": end < len(nodes),
            "endCursor": base64.b64encode(f"cursor:v2:{end}".encode()).decode() if chunk else None,
        }
        return self._json(200, answer)


def _kept(item: Mapping[str, Any], route: Mapping[str, Any], params: Mapping[str, str]) -> bool:
    for rule in route.get("filters", []):
        wanted = params.get(rule["param"])
        if wanted is None:
            continue
        if rule["op"] == "any==":  # GitHub's runs ?status= is a status or a conclusion
            if wanted not in (item.get(key) for key in rule["field"].split("|")):
                return False
            continue
        value: Any = item
        for key in rule["field"].split("."):
            value = value[key]
        if rule["op"] == ">=" and not _time(value) >= _time(wanted):
            return False
        if rule["op"] == "==" and value != wanted:
            return False
        if rule["op"] == "search":  # GitHub's search syntax for dates: >=2024-03-01T00:00:00Z
            for op, holds in ((">=", _time(value).__ge__), ("<", _time(value).__lt__)):
                if wanted.startswith(op) and not holds(_time(wanted[len(op) :])):
                    return False
    return True


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def github_fake(token: str | None = TOKEN) -> FakeTracker:
    """GitHub's API for the repository ``octo/shop`` (base ``https://api.github.com``)."""
    return FakeTracker(RECORDINGS / "github", token)


def gitlab_fake(token: str | None = TOKEN) -> FakeTracker:
    """GitLab's API for the project ``group/shop`` (base ``https://gitlab.example.com``)."""
    return FakeTracker(RECORDINGS / "gitlab", token)


@contextmanager
def serve(fake: FakeTracker) -> Iterator[str]:
    """Serve ``fake`` with uvicorn in a thread on a free loopback port; yield its base URL
    (GitHub's ``api_url``, GitLab's ``url``). Links in the answers point there meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(fake.app(), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the fake tracker did not start")
        time.sleep(0.02)
    host, port = sock.getsockname()
    previous, fake.base_url = fake.base_url, f"http://{host}:{port}"
    try:
        yield fake.base_url
    finally:
        fake.base_url = previous
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
