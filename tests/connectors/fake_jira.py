"""A fake Jira (Cloud or Data Center) serving issues and their histories over its REST API.

Filled from plain objects::

    fake = FakeJira(
        statuses=[Status("1", "To Do", "new"), Status("3", "In Progress", "indeterminate"),
                  Status("10001", "Done", "done")],
        issues=[Issue("PAY-1", created="2024-01-05T09:00", changes=[
            Change("2024-01-06T10:00", "In Progress"), Change("2024-01-08T16:30", "Done")])],
        time_zone="Europe/Berlin",
    )

then used in-process (``fake.transport()``, an ``httpx.MockTransport``) or over HTTP
(``with serve(fake) as url: ...``, uvicorn on a free port in a background thread). Both answer
through :meth:`FakeJira.respond` with documents from :mod:`jira_recordings`, so they are the
same fake. ``FakeJira.generate(issues=N, changes=M)`` makes a large one for the benchmark, and
``PYTHONPATH=tests python -m connectors.fake_jira --issues N --changes M`` serves it from its own
process.

What it does as Jira does: the credentials are checked (basic ``email:token`` on Cloud, bearer
token on Data Center); times are written in the account's ``time_zone``, and the JQL
``updated >= "yyyy/MM/dd HH:mm"`` is read in that zone too; ``project = KEY`` and
``project in (A, B)`` filter by the current key; ``ORDER BY updated ASC`` orders; search pages
embed at most ``embedded_histories`` histories (40 on Cloud's enhanced search) with the true
``total``; the changelog resource pages by 100. Every request is kept in ``fake.requests``, and
``fake.fail(...)`` scripts failures (a 503 mid-paging, a 429 with ``Retry-After``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from connectors import jira_recordings as rec

Moment = str | datetime | int
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: Moment) -> int:
    """Microseconds since the epoch: ISO text (no zone means UTC), a datetime, or µs."""
    if isinstance(moment, int):
        return moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str  # new, indeterminate, done


@dataclass(slots=True)
class Change:
    """A status change: at ``at`` to ``to`` (a status id or today's name). The changelog
    names the statuses ``from_name``/``to_name`` when given (a status renamed since), else by
    their names now; ``from_`` defaults to the status before. ``history_id``: the changelog
    entry's id (default: numbered in order). ``also``: other fields changed in the same entry,
    as ``(field, fromString, toString)``."""

    at: Moment
    to: str
    from_: str | None = None
    to_name: str | None = None
    from_name: str | None = None
    history_id: str | None = None
    also: tuple[tuple[str, str | None, str | None], ...] = ()


@dataclass(slots=True)
class Edit:
    """A changelog entry that changes no status, e.g. ``Edit(at, "Key", "PAY-7", "OPS-3")``."""

    at: Moment
    field: str
    from_string: str | None
    to_string: str | None
    history_id: str | None = None
    from_value: str | None = None
    to_value: str | None = None


def flag(at: Moment, on: bool = True) -> Edit:
    """The Flagged field set (``Impediment``) or cleared, as Jira Cloud records it."""
    if on:
        return Edit(at, "Flagged", None, "Impediment", to_value="[10019]")
    return Edit(at, "Flagged", "Impediment", None, from_value="[10019]")


def link(at: Moment, blocking: str, made: bool = True) -> Edit:
    """An "is blocked by" link to ``blocking`` made or removed, as the waiting issue's
    changelog records it."""
    text = f"This issue is blocked by {blocking}"
    if made:
        return Edit(at, "Link", None, text, to_value=blocking)
    return Edit(at, "Link", text, None, from_value=blocking)


@dataclass
class Issue:
    """An issue: ``initial`` status (default: the fake's first) at ``created``, then its
    ``changes`` in the order the changelog lists them. ``status``: the current status
    (default: where the changes end). ``updated`` defaults to the latest change;
    ``status_changed`` (``statuscategorychangedate``) is left out when None."""

    key: str
    created: Moment
    changes: list[Change | Edit] = field(default_factory=list)
    initial: str | None = None
    status: str | None = None
    id: str | None = None
    summary: str | None = None
    type: str = "Story"
    assignee: str | None = "Ann Smith"
    updated: Moment | None = None
    status_changed: Moment | None = None
    #: The keys of the issues it "is blocked by" now (``fields.issuelinks``).
    blocked_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Seen:
    """One request the fake answered."""

    path: str
    params: dict[str, str]
    status: int


@dataclass
class Fault:
    path: str
    status: int
    times: int
    after: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


_UPDATED = re.compile(
    r'\bupdated\s*>=\s*"(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?"', re.I
)
_PROJECT = re.compile(r'\bproject\s*=\s*"?([A-Za-z][A-Za-z0-9_]*)"?', re.I)
_PROJECTS = re.compile(r"\bproject\s+in\s*\(([^)]*)\)", re.I)
_ORDER = re.compile(r"\border\s+by\s+updated\b", re.I)
_ISSUE = re.compile(r"^/rest/api/[23]/issue/([^/]+)$")
_CHANGELOG = re.compile(r"^/rest/api/3/issue/([^/]+)/changelog$")


class FakeJira:
    """A Jira Cloud (``cloud=True``, API 3) or Data Center (API 2) instance; see the module
    docstring. The account is ``email`` with ``token`` (``token=None``: no check at all).
    ``max_results``: the most issues a search page gives, whatever is asked;
    ``embedded_histories``: the most histories a search embeds per issue (default 40 on Cloud,
    all on Data Center). ``base`` is the URL written into ``self`` links. ``cache``: keep each
    issue's rendered JSON and each query's result (for benchmarks; tests that change issues
    between pulls leave it off). Issues may be added to or changed in ``fake.issues`` between
    pulls; their ids default to 10000 + their place in the list."""

    def __init__(
        self,
        issues: Sequence[Issue] = (),
        statuses: Sequence[Status] = (),
        *,
        time_zone: str = "UTC",
        cloud: bool = True,
        email: str = "ann@example.com",
        token: str | None = "secret-token",
        max_results: int = 100,
        embedded_histories: int | None = None,
        base: str = "https://example.atlassian.net",
        cache: bool = False,
    ) -> None:
        self.issues = list(issues)
        self.statuses = list(statuses) or [
            Status("1", "To Do", "new"),
            Status("3", "In Progress", "indeterminate"),
            Status("10001", "Done", "done"),
        ]
        self.time_zone = time_zone
        self.cloud = cloud
        self.email = email
        self.token = token
        self.max_results = max_results
        self.embedded_histories = (
            (40 if cloud else None) if embedded_histories is None else (embedded_histories)
        )
        self.base = base
        self.cache = cache
        self.requests: list[Seen] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._rendered: dict[str, bytes] = {}
        self._queries: dict[str, list[int]] = {}

    # -- set-up ---------------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        after: int = 0,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer ``status`` to the requests for ``path`` after the first ``after`` of them,
        ``times`` times (``body``: a JSON document, or text)."""
        body = rec.error("Internal server error") if body is None and status >= 500 else body
        self.faults.append(Fault(path, status, times, after, headers or {}, body))

    def status(self, ref: str) -> Status:
        """The status with id ``ref``, else the one named ``ref``."""
        for status in self.statuses:
            if status.id == ref:
                return status
        for status in self.statuses:
            if status.name == ref:
                return status
        raise KeyError(f"no status {ref!r} in the fake; add it to statuses")

    def ident(self, issue: Issue) -> str:
        return issue.id or str(10000 + self.issues.index(issue))

    def histories(self, issue: Issue) -> list[dict[str, Any]]:
        """The issue's changelog entries, in the order of ``changes``."""
        zone = ZoneInfo(self.time_zone)
        author = rec.user("Ann Smith", cloud=self.cloud, base=self.base, time_zone=self.time_zone)
        before = self.status(issue.initial or self.statuses[0].id)
        number = int(self.ident(issue)) * 1000
        documents = []
        for index, change in enumerate(issue.changes):
            items = []
            if isinstance(change, Change):
                target = self._lenient(change.to)
                source = self._lenient(change.from_) if change.from_ else before
                items.append(
                    rec.status_item(
                        source.id,
                        change.from_name or source.name,
                        target.id,
                        change.to_name or target.name,
                        cloud=self.cloud,
                    )
                )
                items.extend(rec.field_item(*also, cloud=self.cloud) for also in change.also)
                # the next entry's fromString is this one's toString: names as they were then
                before = Status(target.id, change.to_name or target.name, target.category)
            else:
                items.append(
                    rec.field_item(
                        change.field,
                        change.from_string,
                        change.to_string,
                        cloud=self.cloud,
                        from_value=change.from_value,
                        to_value=change.to_value,
                    )
                )
            documents.append(
                rec.history(
                    change.history_id or str(number + index),
                    rec.jira_time(micros(change.at), zone),
                    items,
                    author,
                )
            )
        return documents

    def _lenient(self, ref: str) -> Status:
        """A status by id or name; an id the fake does not list stands for a deleted status."""
        try:
            return self.status(ref)
        except KeyError:
            return Status(ref, f"status {ref}", "undefined")

    def current(self, issue: Issue) -> Status:
        if issue.status is not None:
            return self.status(issue.status)
        changes = [c for c in issue.changes if isinstance(c, Change)]
        return (
            self._lenient(changes[-1].to)
            if changes
            else self.status(issue.initial or self.statuses[0].id)
        )

    def updated(self, issue: Issue) -> int:
        if issue.updated is not None:
            return micros(issue.updated)
        return max([micros(issue.created), *(micros(c.at) for c in issue.changes)])

    def fields(self, issue: Issue) -> dict[str, Any]:
        zone = ZoneInfo(self.time_zone)
        cloud, base = self.cloud, self.base
        current = self.current(issue)
        fields: dict[str, Any] = {
            "summary": issue.summary or f"Summary of {issue.key}",
            "issuetype": rec.issue_type(issue.type, cloud=cloud, base=base),
            "created": rec.jira_time(micros(issue.created), zone),
            "updated": rec.jira_time(self.updated(issue), zone),
            "project": rec.project(issue.key.split("-")[0], cloud=cloud, base=base),
            "assignee": rec.user(issue.assignee, cloud=cloud, base=base, time_zone=self.time_zone)
            if issue.assignee
            else None,
            "status": rec.status(
                current.id, current.name, current.category, cloud=cloud, base=base
            ),
        }
        links = []
        for number, key in enumerate(issue.blocked_by):
            other = next(i for i in self.issues if i.key == key)
            status = self.current(other)
            links.append(
                rec.issue_link(
                    f"{self.ident(issue)}{number}",
                    self.ident(other),
                    key,
                    rec.status(status.id, status.name, status.category, cloud=cloud, base=base),
                    cloud=cloud,
                    base=base,
                )
            )
        fields["issuelinks"] = links
        if issue.status_changed is not None:
            fields["statuscategorychangedate"] = rec.jira_time(micros(issue.status_changed), zone)
        return fields

    def document(self, issue: Issue, embedded: int | None) -> dict[str, Any]:
        """The issue as a search page gives it: at most ``embedded`` histories (None: all)."""
        histories = self.histories(issue)
        shown = histories if embedded is None else histories[:embedded]
        return rec.issue(
            self.ident(issue),
            issue.key,
            self.fields(issue),
            cloud=self.cloud,
            base=self.base,
            changelog=rec.embedded_changelog(shown, len(histories)),
        )

    # -- answering ------------------------------------------------------------------------------

    def respond(self, path: str, params: dict[str, str], authorization: str | None) -> Reply:
        """The answer to ``GET path?params``: the one code path of both transports."""
        reply = self._respond(path, params, authorization)
        with self._lock:
            self.requests.append(Seen(path, dict(params), reply.status))
        return reply

    def _respond(self, path: str, params: dict[str, str], authorization: str | None) -> Reply:
        fault = self._fault(path)
        if fault is not None:
            return fault
        if self.token is not None and authorization != self._expected_authorization():
            if self.cloud:
                return Reply(401, rec.UNAUTHORISED_TEXT.encode(), "text/plain;charset=UTF-8")
            return _json(401, rec.error("You are not authenticated."))
        prefix = rec.api(self.cloud)
        if not path.startswith(prefix + "/"):
            return _json(404, rec.error("null for uri: " + self.base + path))
        resource = path[len(prefix) :]
        if resource == "/myself":
            return _json(
                200,
                rec.myself(
                    "Ann Smith",
                    self.email,
                    cloud=self.cloud,
                    base=self.base,
                    time_zone=self.time_zone,
                ),
            )
        if resource == "/status":
            return _json(
                200,
                [
                    rec.status(s.id, s.name, s.category, cloud=self.cloud, base=self.base)
                    for s in self.statuses
                ],
            )
        if self.cloud and resource == "/search/jql":
            return self._search_cloud(params)
        if not self.cloud and resource == "/search":
            return self._search_dc(params)
        if match := _CHANGELOG.match(path):
            return self._changelog(match.group(1), params)
        if match := _ISSUE.match(path):
            issue = self._by_id(match.group(1))
            if issue is None:
                return _json(
                    404, rec.error("Issue does not exist or you do not have permission to see it.")
                )
            expand = "changelog" in params.get("expand", "")
            document = self.document(issue, None)
            if not expand:
                del document["changelog"]
            return _json(200, document)
        return _json(404, rec.error("null for uri: " + self.base + path))

    def _expected_authorization(self) -> str:
        if self.cloud:
            pair = f"{self.email}:{self.token}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        return f"Bearer {self.token}"

    def _fault(self, path: str) -> Reply | None:
        with self._lock:
            for fault in self.faults:
                if fault.path != path or fault.times <= 0:
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                if isinstance(fault.body, str):
                    return Reply(fault.status, fault.body.encode(), "text/plain", fault.headers)
                return Reply(
                    fault.status, json.dumps(fault.body or {}).encode(), headers=fault.headers
                )
        return None

    def _by_id(self, ident: str) -> Issue | None:
        for issue in self.issues:
            if self.ident(issue) == ident:
                return issue
        return None

    def matching(self, jql: str) -> list[int]:
        """Indices of the issues the JQL finds, in the order it asks for."""
        if self.cache and jql in self._queries:
            return self._queries[jql]
        projects: set[str] | None = None
        if match := _PROJECTS.search(jql):
            projects = {p.strip().strip("\"'") for p in match.group(1).split(",")}
        elif match := _PROJECT.search(jql):
            projects = {match.group(1)}
        since: int | None = None
        if match := _UPDATED.search(jql):
            year, month, day, hour, minute = (int(g) if g else 0 for g in match.groups())
            wall = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(self.time_zone))
            since = micros(wall)
        found = [
            index
            for index, issue in enumerate(self.issues)
            if (projects is None or issue.key.split("-")[0] in projects)
            and (since is None or self.updated(issue) >= since)
        ]
        if _ORDER.search(jql):
            found.sort(key=lambda index: (self.updated(self.issues[index]), index))
        if self.cache:
            self._queries[jql] = found
        return found

    def _page(self, indices: list[int]) -> bytes:
        """The issues' JSON, joined (cached per issue when ``cache``)."""
        parts = []
        for index in indices:
            issue = self.issues[index]
            key = self.ident(issue) if self.cache else ""
            rendered = self._rendered.get(key) if self.cache else None
            if rendered is None:
                rendered = json.dumps(self.document(issue, self.embedded_histories)).encode()
                if self.cache:
                    self._rendered[key] = rendered
            parts.append(rendered)
        return b"[" + b",".join(parts) + b"]"

    def _limit(self, params: dict[str, str], default: int) -> int:
        return max(1, min(int(params.get("maxResults", default)), self.max_results))

    def _search_cloud(self, params: dict[str, str]) -> Reply:
        found = self.matching(params.get("jql", ""))
        token = params.get("nextPageToken")
        start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        limit = self._limit(params, 50)
        chunk = found[start : start + limit]
        following = start + len(chunk)
        next_token = (
            base64.urlsafe_b64encode(str(following).encode()).decode()
            if following < len(found)
            else None
        )
        shell = rec.search_page_cloud([], next_token)
        return Reply(200, _splice(shell, self._page(chunk)))

    def _search_dc(self, params: dict[str, str]) -> Reply:
        found = self.matching(params.get("jql", ""))
        start = int(params.get("startAt", 0))
        limit = self._limit(params, 50)
        chunk = found[start : start + limit]
        shell = rec.search_page_dc([], start, limit, len(found))
        return Reply(200, _splice(shell, self._page(chunk)))

    def _changelog(self, ident: str, params: dict[str, str]) -> Reply:
        issue = self._by_id(ident)
        if issue is None:
            return _json(
                404, rec.error("Issue does not exist or you do not have permission to see it.")
            )
        histories = self.histories(issue)
        start = int(params.get("startAt", 0))
        limit = max(1, min(int(params.get("maxResults", 100)), 100))
        return _json(
            200,
            rec.changelog_page(
                histories[start : start + limit],
                ident=ident,
                start_at=start,
                max_results=limit,
                total=len(histories),
                base=self.base,
            ),
        )

    # -- transports -----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """An ``httpx.MockTransport`` handler."""
        reply = self.respond(
            request.url.path, dict(request.url.params), request.headers.get("authorization")
        )
        return httpx.Response(
            reply.status,
            content=reply.body,
            headers={"content-type": reply.content_type, **reply.headers},
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def app(self) -> Any:
        """The same answers as an ASGI app (Starlette)."""
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        def endpoint(request: Request) -> Response:  # sync: Starlette runs it in a thread
            reply = self.respond(
                request.url.path, dict(request.query_params), request.headers.get("authorization")
            )
            return Response(
                reply.body, reply.status, headers=reply.headers, media_type=reply.content_type
            )

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET"])])

    def warm(self) -> None:
        """Render every issue once (``cache``), so a benchmark times the client alone."""
        for index in range(len(self.issues)):
            self._page([index])

    # -- generated ------------------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        issues: int,
        changes: int,
        *,
        seed: int = 1,
        cloud: bool = True,
        time_zone: str = "Europe/Berlin",
        **options: Any,
    ) -> FakeJira:
        """``issues`` issues with ``changes`` status changes each, walking a five-status
        workflow (forward mostly, back now and then), one every few hours from 2023-01-02."""
        statuses = [
            Status("1", "To Do", "new"),
            Status("3", "In Progress", "indeterminate"),
            Status("10001", "In Review", "indeterminate"),
            Status("10002", "Blocked", "indeterminate"),
            Status("10003", "Done", "done"),
        ]
        ids = [s.id for s in statuses]
        forward = {"1": "3", "3": "10001", "10001": "10003", "10002": "3", "10003": "3"}
        people = ["Ann Smith", "Bob Jones", "Chandra Rao", None]
        types = ["Story", "Story", "Bug", "Task"]
        pick = random.Random(seed)
        start = micros("2023-01-02T08:00:00Z")
        hour = 3_600_000_000
        made = []
        for number in range(issues):
            at = start + number * 600_000_000  # one created every 10 minutes
            created = at
            current = "1"
            steps: list[Change | Edit] = []
            for _ in range(changes):
                at += pick.randint(1, 30) * hour + pick.randint(0, 3_599) * 1_000_000
                target = forward[current] if pick.random() < 0.8 else pick.choice(ids)
                if target == current:
                    target = forward[current]
                steps.append(Change(at, target, from_=current))
                current = target
            made.append(
                Issue(
                    f"PAY-{number + 1}",
                    created,
                    steps,
                    initial="1",
                    id=str(100_000 + number),
                    type=types[number % 4],
                    assignee=people[number % 4],
                )
            )
        return cls(made, statuses, cloud=cloud, time_zone=time_zone, **options)


def _json(status: int, document: Any) -> Reply:
    return Reply(status, json.dumps(document).encode())


def _splice(shell: dict[str, Any], issues: bytes) -> bytes:
    """The page ``shell`` (its ``issues`` empty) with the rendered issues put in."""
    text = json.dumps(shell).encode()
    marker = b'"issues": []'
    assert marker in text
    return text.replace(marker, b'"issues": ' + issues, 1)


@contextlib.contextmanager
def serve(fake: FakeJira) -> Iterator[str]:
    """Serve ``fake`` with uvicorn on a free local port in a background thread; yields its
    base URL and stops the server on exit."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        fake.app(), log_level="warning", lifespan="off", ws="none", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake Jira did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a generated fake until killed; prints ``READY <url>`` once it listens."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--data-center", action="store_true")
    parser.add_argument("--token", default="secret-token")
    args = parser.parse_args(argv)
    fake = FakeJira.generate(
        args.issues, args.changes, cloud=not args.data_center, token=args.token, cache=True
    )
    fake.warm()
    with serve(fake) as url:
        print(f"READY {url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
