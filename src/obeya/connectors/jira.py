"""The Jira connector's client: every issue a JQL query finds, with its whole status history.

What it asks (Cloud, ``email`` given, basic auth ``email:token``; Data Center, ``email`` None,
``Authorization: Bearer TOKEN``):

============================  ==========================================  =====================
                              Cloud (``/rest/api/3``)                     Data Center (``/2``)
============================  ==========================================  =====================
the account's time zone       ``GET /myself`` → ``timeZone``              the same
status names and categories   ``GET /status``                             the same
the issues                    ``GET /search/jql``, ``nextPageToken``      ``GET /search``,
                              pages (``isLast``)                          ``startAt``/``total``
a truncated changelog         ``GET /issue/{id}/changelog``               ``GET /issue/{id}
                              (``startAt``/``maxResults``, ``values``)    ?expand=changelog``
============================  ==========================================  =====================

Search results embed a changelog capped per issue (40 histories on Cloud's enhanced search);
when ``changelog.total`` exceeds the histories given, the whole changelog is fetched. Data
Center has no changelog resource of its own: its issue resource with ``expand=changelog``
returns every history, so that is what is asked (if even that is short, a note says so).

Events: the item is the issue's immutable ``id`` (a moved issue keeps its id and history, only
its key changes); its title is ``"KEY summary"`` with the current key. One event at
``fields.created`` in the initial status (the ``from`` of the earliest status change, else the
current status), then one per status change, at its history's time, in the status it moved
``to``; histories are ordered by time, then history id. Statuses are named through their *id*
(``from``/``to``) and ``/status``, so a status renamed since keeps one name, today's, across
the whole history; an id ``/status`` no longer lists keeps the changelog's name for it. When a
history ends in another status than ``fields.status``, an event in the current status is added
at ``fields.statuscategorychangedate`` (else ``fields.updated``), never before the last
change, and a note says so.

Blockers (docs/conventions.md, "Blocked time"), of the issues pulled, item ids as the events':

- **Flagged.** Each changelog item of the field ``Flagged`` that sets it (a ``toString`` such as
  ``Impediment``) blocks the issue from its history's time until the next item that clears it
  (``toString`` empty or null); never cleared: still blocked. The reason is ``Flagged`` (the
  comment Jira asks for when flagging is a comment, not in the changelog, so it is not read).
- **"is blocked by" links.** Jira records a link in the changelog of both issues (field
  ``Link``, ``toString`` ``This issue is blocked by PAY-12`` when made, ``fromString`` the same
  and ``toString`` null when removed): each such pair is a blocker with the reason
  ``blocked by PAY-12`` and ``blocking_item`` the blocking issue's id, as items are named
  (from ``fields.issuelinks`` or the pull; its key when neither gives it). A link in
  ``fields.issuelinks`` (type inward ``is blocked by``, with an ``inwardIssue``) that the
  changelog never mentions (made before the changelog, or by an import) blocks from the
  issue's creation. A link still there ends when the blocking issue
  reached a status of Jira's done category: the time it did so when that issue is in the
  same pull; a blocking issue not done is still blocking (open); one done but not in the pull
  has no known end, so the blocker is left out for now (a note says so) and a later pull that
  reads both issues stores it. A link the changelog made but neither removed nor still shows
  (the other issue deleted, or hidden from the account) is left out too, with a note.

Blockers are named by item, start and reason, so pulling an issue again gives the same ones,
and a blocker since lifted gets its end (``store.blockers``' merge).

Incremental pulls ask for ``(JQL) AND updated >= "yyyy/MM/dd HH:mm" ORDER BY updated ASC``.
Jira reads a JQL date in the *account's* time zone, so ``since`` less the overlap is written in
the zone ``/myself`` gives (a UTC literal from an account west of Greenwich would skip every
issue updated in between). The next ``since``, the checkpoint, is the latest ``updated`` seen,
never later than the start of the pull.

The pull is all or nothing: any error (after :class:`~obeya.connectors.http.Http`'s retries)
raises :class:`~obeya.errors.ConnectorError` and returns nothing. Issues and changes are
collected into plain lists and turned into the event log set-wise at the end: one vectorised
timestamp parse, one sort of all changes, one Arrow table.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from obeya.connectors.base import Progress, SyncBatch
from obeya.connectors.http import Http, utc_now
from obeya.core.blockers.model import Blocker
from obeya.core.events import EVENT_SCHEMA, EventLog, from_micros, unsupported_times
from obeya.core.workflow import Workflow
from obeya.errors import ConnectorError, InputError, WorkflowError
from obeya.ingest.arrays import first_true
from obeya.ingest.timestamps import BadTimestamp, parse_timestamps

#: The fields every search asks for (explicitly: the default is every field, megabytes a page).
FIELDS = (
    "summary,status,issuetype,created,updated,assignee,project,statuscategorychangedate,issuelinks"
)
#: The changelog fields that make blockers.
FLAGGED, LINK = "Flagged", "Link"
#: The blocking issue's key in a ``Link`` change: ``This issue is blocked by PAY-12``.
_BLOCKED_BY = re.compile(r"\bis blocked by\s+([A-Za-z][A-Za-z0-9_]*-\d+)", re.IGNORECASE)
#: A link type's inward description for the issue that waits.
BLOCKED_BY = "is blocked by"
#: Histories per request of Cloud's changelog resource (its maximum).
CHANGELOG_PAGE = 100
#: Notes kept in a batch; the rest are counted in one last note.
MAX_NOTES = 20
#: Jira's status categories and the workflow category each proposes.
CATEGORIES = {"new": "backlog", "indeterminate": "active", "done": "done"}
#: How far any time zone lags UTC: a JQL literal written this much early is safe in any zone.
_WEST_MOST = timedelta(hours=12)
#: Sorts after every numeric history id (a history without one keeps its place).
_NO_HISTORY_ID = 2**62
#: A time Jira did not give (``updated`` may be absent; ``created`` may not).
_MISSING = -(2**63)


@dataclass(frozen=True, repr=False)
class JiraConfig:
    """How to reach one Jira and which issues to read.

    ``email`` given: Jira Cloud, basic auth with ``email`` and the API ``token``; ``email``
    None: Data Center, the token is a personal access token sent as a bearer token. The token
    is never printed (``repr`` hides it). ``overlap_minutes``: how far before the last
    checkpoint an incremental pull starts reading again (clock skew, minute-precise JQL).
    ``page_size``: issues asked per search page (Jira may give fewer).
    """

    name: str
    url: str
    jql: str
    email: str | None
    token: str
    overlap_minutes: int = 10
    page_size: int = 100

    def __post_init__(self) -> None:
        where = f"connector {self.name!r}"
        if not re.match(r"^https?://[^/\s]+", self.url):
            raise InputError(
                f"{where}: the URL must start with https:// (e.g. https://acme.atlassian.net)"
            )
        if not self.token:
            raise InputError(f"{where}: the token is empty")
        if self.overlap_minutes < 0:
            raise InputError(f"{where}: the overlap must be 0 minutes or more")
        if not 1 <= self.page_size <= 5000:
            raise InputError(f"{where}: the page size must be between 1 and 5000")

    @property
    def cloud(self) -> bool:
        """Jira Cloud (API 3, basic auth) rather than Data Center (API 2, bearer token)."""
        return self.email is not None

    def __repr__(self) -> str:
        return (
            f"JiraConfig(name={self.name!r}, url={self.url!r}, jql={self.jql!r}, "
            f"email={self.email!r}, token='***', overlap_minutes={self.overlap_minutes}, "
            f"page_size={self.page_size})"
        )

    def auth_header(self) -> str:
        if self.email is not None:
            pair = f"{self.email}:{self.token}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return f"Bearer {self.token}"


@dataclass(frozen=True)
class _Status:
    name: str
    category: str | None  # Jira's statusCategory.key: new, indeterminate, done


class JiraSource:
    """Pulls a Jira's issues and histories (the :class:`~obeya.connectors.base.Source` of Jira).

    ``transport`` replaces the network (tests); ``sleep`` the waits between retries; ``clock``
    the time the pull starts (UTC), which bounds the checkpoint.
    """

    def __init__(
        self,
        config: JiraConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.name = config.name
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._api = "/rest/api/3" if config.cloud else "/rest/api/2"
        #: Requests sent by the last pull, retries included.
        self.requests = 0

    def __repr__(self) -> str:
        return f"JiraSource({self.config!r})"

    def pull(self, since: datetime | None, progress: Progress | None = None) -> SyncBatch:
        """Every issue the JQL finds updated at or after ``since`` less the overlap (all when
        None), each with its whole status history; see the module docstring."""
        started = self._clock()
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        http = Http(
            self.name,
            self.config.url,
            headers={"Authorization": self.config.auth_header(), "Accept": "application/json"},
            transport=self._transport,
            sleep=self._sleep,
        )
        notes: list[str] = []
        try:
            with http:
                zone = self._time_zone(http, notes)
                collector = _Collector(self.name, self._statuses(http))
                jql = search_jql(self.config.jql, since, self.config.overlap_minutes, zone)
                pages = (
                    self._cloud_pages(http, jql) if self.config.cloud else self._dc_pages(http, jql)
                )
                for issues in pages:
                    for issue in issues:
                        collector.add(issue, self._histories(http, issue, notes))
                    if progress is not None:
                        progress(f"{collector.count} issues read")
        finally:
            self.requests = http.requests
        return collector.batch(since, started, notes)

    # -- requests -----------------------------------------------------------------------------

    def _time_zone(self, http: Http, notes: list[str]) -> ZoneInfo | None:
        path = f"{self._api}/myself"
        me = _object(http.json(path), self.name, path)
        name = me.get("timeZone")
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        notes.append(
            f"the account's time zone ({name!r}) is unknown here, so incremental queries start "
            "12 hours early (the most any zone lags UTC) and read some issues again"
        )
        return None

    def _statuses(self, http: Http) -> dict[str, _Status]:
        path = f"{self._api}/status"
        answer = http.json(path)
        if not isinstance(answer, list):
            raise _shape(self.name, path, "a list of statuses")
        statuses: dict[str, _Status] = {}
        for status in answer:
            if isinstance(status, dict) and status.get("id") is not None and status.get("name"):
                category = status.get("statusCategory")
                key = category.get("key") if isinstance(category, dict) else None
                statuses[str(status["id"])] = _Status(str(status["name"]), key)
        return statuses

    def _cloud_pages(self, http: Http, jql: str) -> Iterator[list[Any]]:
        path = "/rest/api/3/search/jql"
        params: dict[str, Any] = {
            "jql": jql,
            "maxResults": self.config.page_size,
            "fields": FIELDS,
            "expand": "changelog",
        }
        seen: set[str] = set()
        while True:
            page = _object(http.json(path, params), self.name, path)
            yield _issues(page, self.name, path)
            token = page.get("nextPageToken")
            if page.get("isLast") is True or not isinstance(token, str) or not token:
                return
            if token in seen:
                raise ConnectorError(self.name, f"GET {path}: Jira repeated a page token")
            seen.add(token)
            params["nextPageToken"] = token

    def _dc_pages(self, http: Http, jql: str) -> Iterator[list[Any]]:
        path = "/rest/api/2/search"
        params: dict[str, Any] = {
            "jql": jql,
            "maxResults": self.config.page_size,
            "fields": FIELDS,
            "expand": "changelog",
            "startAt": 0,
        }
        while True:
            page = _object(http.json(path, params), self.name, path)
            issues = _issues(page, self.name, path)
            yield issues
            params["startAt"] += len(issues)
            total = page.get("total")
            if not issues or (isinstance(total, int) and params["startAt"] >= total):
                return

    def _histories(self, http: Http, issue: Any, notes: list[str]) -> list[Any]:
        """The issue's whole changelog: the embedded one, or fetched when it is truncated (or
        missing: a search that ignored ``expand=changelog`` must not pass for no history)."""
        if not isinstance(issue, dict):
            return []  # refused by the collector
        changelog = issue.get("changelog")
        total = None
        if isinstance(changelog, dict):
            histories = changelog.get("histories")
            histories = histories if isinstance(histories, list) else []
            total = changelog.get("total")
            limit = changelog.get("maxResults")
            truncated = isinstance(total, int) and (
                total > len(histories) or (isinstance(limit, int) and limit < total)
            )
            if not truncated:
                return histories
        ident = quote(str(issue.get("id", "")), safe="")
        if self.config.cloud:
            return self._cloud_changelog(http, ident)
        path = f"/rest/api/2/issue/{ident}"
        whole = _object(
            http.json(path, {"expand": "changelog", "fields": "status"}), self.name, path
        )
        changelog = whole.get("changelog")
        fetched = changelog.get("histories") if isinstance(changelog, dict) else None
        if not isinstance(fetched, list):
            raise _shape(self.name, path, "an issue with its changelog")
        if isinstance(total, int) and len(fetched) < total:
            notes.append(
                f"{issue.get('key', ident)}: Jira gave {len(fetched)} of its {total} changelog "
                "entries; its history may miss status changes"
            )
        return fetched

    def _cloud_changelog(self, http: Http, ident: str) -> list[Any]:
        path = f"/rest/api/3/issue/{ident}/changelog"
        histories: list[Any] = []
        while True:
            params = {"startAt": len(histories), "maxResults": CHANGELOG_PAGE}
            page = _object(http.json(path, params), self.name, path)
            values = page.get("values")
            if not isinstance(values, list):
                raise _shape(self.name, path, "a page of changelogs ('values')")
            histories.extend(values)
            total = page.get("total")
            if (
                not values
                or page.get("isLast") is True
                or (isinstance(total, int) and len(histories) >= total)
            ):
                return histories


# -- JQL ----------------------------------------------------------------------------------------


def search_jql(
    jql: str, since: datetime | None, overlap_minutes: int, zone: ZoneInfo | None
) -> str:
    """The query a pull sends: the user's JQL (its ``ORDER BY`` dropped), with ``since`` less
    the overlap written in the account's ``zone``, ordered by ``updated`` ascending."""
    base = strip_order_by(jql)
    clauses = [f"({base})"] if base else []
    if since is not None:
        moment = since - timedelta(minutes=overlap_minutes)
        clauses.append(f'updated >= "{jql_time(moment, zone)}"')
    return " ".join([" AND ".join(clauses), "ORDER BY updated ASC"]).strip()


def jql_time(moment: datetime, zone: ZoneInfo | None) -> str:
    """``yyyy/MM/dd HH:mm`` in ``zone``: the latest minute Jira, reading the literal in the
    account's zone, takes for a time at or before ``moment`` (minutes are floored; in the
    repeated hour after a clock goes back, the earlier reading is made safe too). ``zone``
    None (unknown): the UTC wall time 12 hours early, safe whatever the account's zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if zone is None:
        wall = (moment.astimezone(UTC) - _WEST_MOST).replace(tzinfo=None)
        return wall.strftime("%Y/%m/%d %H:%M")
    wall = moment.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
    while any(wall.replace(tzinfo=zone, fold=fold) > moment for fold in (0, 1)):
        wall -= timedelta(minutes=30)
    return wall.strftime("%Y/%m/%d %H:%M")


def strip_order_by(jql: str) -> str:
    """``jql`` without its ``ORDER BY`` clause (one inside quotes is text, and stays)."""
    quote_char = ""
    index = 0
    while index < len(jql):
        char = jql[index]
        if quote_char:
            if char == "\\":
                index += 1
            elif char == quote_char:
                quote_char = ""
        elif char in "\"'":
            quote_char = char
        elif (
            char in "oO"
            and _ORDER_BY.match(jql, index)
            and (index == 0 or not _word(jql[index - 1]))
        ):
            return jql[:index].strip()
        index += 1
    return jql.strip()


_ORDER_BY = re.compile(r"order\s+by\b", re.IGNORECASE)


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


# -- the collector ------------------------------------------------------------------------------


class _Collector:
    """Issues and their status changes as plain lists; :meth:`batch` lays them out set-wise."""

    def __init__(self, connector: str, statuses: dict[str, _Status]) -> None:
        self.connector = connector
        self.statuses = statuses
        # per issue
        self.ids: list[str] = []
        self.keys: list[str] = []
        self.titles: list[str] = []
        self.types: list[str | None] = []
        self.assignees: list[str | None] = []
        self.created: list[str | None] = []
        self.updated: list[str | None] = []
        self.changed: list[str | None] = []
        self.current: list[int] = []
        self.alive: list[bool] = []
        self.index_of: dict[str, int] = {}
        # per status change
        self.c_issue: list[int] = []
        self.c_stamp: list[Any] = []
        self.c_history: list[int] = []
        self.c_from: list[int] = []
        self.c_to: list[int] = []
        # statuses: a code per status id (or "name:X" when a change gives no id)
        self.codes: dict[str, int] = {}
        self.code_keys: list[str] = []
        self.known_codes: dict[Any, int] = {}  # the codes of the ids /status lists
        self.changelog_names: dict[str, str] = {}
        self.issue_categories: dict[str, str] = {}
        # per change of a blocker field (Flagged, an "is blocked by" Link)
        self.b_issue: list[int] = []
        self.b_stamp: list[Any] = []
        self.b_history: list[int] = []
        self.b_reason: list[str] = []
        self.b_on: list[bool] = []
        self.b_blocking: list[str | None] = []
        # per issue: its "is blocked by" links now, (blocking key, whether it is done)
        self.links: list[list[tuple[str, bool, str]]] = []

    @property
    def count(self) -> int:
        return len(self.ids)

    def code(self, ident: Any, name: Any) -> int:
        """The code of a status by id (its changelog name kept in case /status lacks it);
        -1 when the change names neither."""
        key = str(ident) if ident not in (None, "") else (f"name:{name}" if name else "")
        if not key:
            return -1
        code = self.codes.get(key)
        if code is None:
            code = self.codes[key] = len(self.code_keys)
            self.code_keys.append(key)
        if key in self.statuses:
            self.known_codes[key] = code
        elif name:
            self.changelog_names[key] = str(name)
        return code

    def add(self, issue: Any, histories: list[Any]) -> None:
        if not isinstance(issue, dict) or issue.get("id") in (None, ""):
            raise ConnectorError(self.connector, "the search gave an issue without an 'id'")
        ident = str(issue["id"])
        key = str(issue.get("key") or ident)
        fields = issue.get("fields")
        fields = fields if isinstance(fields, dict) else {}
        previous = self.index_of.get(ident)
        if previous is not None:  # met again on a later page (updated meanwhile): keep the last
            self.alive[previous] = False
        index = self.index_of[ident] = len(self.ids)
        status = fields.get("status")
        status = status if isinstance(status, dict) else {}
        current = self.code(status.get("id"), status.get("name"))
        if current < 0:
            raise ConnectorError(
                self.connector, f"issue {key} has no 'fields.status'; is the field hidden?"
            )
        category = status.get("statusCategory")
        if isinstance(category, dict) and isinstance(category.get("key"), str):
            self.issue_categories[self.code_keys[current]] = category["key"]
        summary = fields.get("summary")
        self.ids.append(ident)
        self.keys.append(key)
        self.titles.append(f"{key} {summary}" if isinstance(summary, str) and summary else key)
        self.types.append(_name(fields.get("issuetype"), "name"))
        self.assignees.append(_name(fields.get("assignee"), "displayName"))
        self.created.append(_text(fields.get("created")))
        self.updated.append(_text(fields.get("updated")))
        self.changed.append(_text(fields.get("statuscategorychangedate")))
        self.current.append(current)
        self.alive.append(True)
        self.links.append(_blocked_by(fields.get("issuelinks")))
        # The hot loop (a million changes in a large sync): bound methods and the codes of
        # the statuses /status lists looked up once, the general path only for the rest.
        known, code = self.known_codes, self.code
        c_issue, c_stamp, c_history = self.c_issue, self.c_stamp, self.c_history
        c_from, c_to = self.c_from, self.c_to
        for history in histories:
            items = history.get("items") if isinstance(history, dict) else None
            if not items:
                continue
            for item in items:
                if not isinstance(item, dict):
                    continue
                name = item.get("field")
                if name != "status" and item.get("fieldId") != "status":
                    if name in (FLAGGED, LINK):
                        self.blocker_change(index, history, item)
                    continue
                target = item.get("to")
                target_code = known.get(target)
                if target_code is None:
                    target_code = code(target, item.get("toString"))
                    if target_code < 0:
                        continue  # names no status it moved to: nothing to record
                source = item.get("from")
                source_code = known.get(source)
                if source_code is None:
                    source_code = code(source, item.get("fromString"))
                hid = history.get("id")
                c_issue.append(index)
                c_stamp.append(history.get("created"))
                c_history.append(
                    int(hid)
                    if isinstance(hid, str) and hid.isdigit()
                    else hid
                    if isinstance(hid, int)
                    else _NO_HISTORY_ID
                )
                c_from.append(source_code)
                c_to.append(target_code)

    def blocker_change(
        self, index: int, history: Mapping[str, Any], item: Mapping[str, Any]
    ) -> None:
        """Keep a change of the Flagged field, or of an "is blocked by" link, of issue
        ``index`` (other links are not blockers of this issue)."""
        if item.get("field") == FLAGGED:
            reason, blocking = FLAGGED, None
            on = bool(str(item.get("toString") or "").strip())
        else:
            made = _BLOCKED_BY.search(str(item.get("toString") or ""))
            gone = _BLOCKED_BY.search(str(item.get("fromString") or ""))
            found = made or gone
            if found is None:
                return
            blocking = found.group(1)
            reason, on = f"blocked by {blocking}", made is not None
        hid = history.get("id")
        self.b_issue.append(index)
        self.b_stamp.append(history.get("created"))
        self.b_history.append(
            int(hid)
            if isinstance(hid, str) and hid.isdigit()
            else hid
            if isinstance(hid, int)
            else _NO_HISTORY_ID
        )
        self.b_reason.append(reason)
        self.b_on.append(on)
        self.b_blocking.append(blocking)

    # -- the batch ------------------------------------------------------------------------------

    def name_of(self, code: int) -> str:
        key = self.code_keys[code]
        known = self.statuses.get(key)
        if known is not None:
            return known.name
        return self.changelog_names.get(key) or key.removeprefix("name:")

    def batch(self, since: datetime | None, started: datetime, notes: list[str]) -> SyncBatch:
        keep = np.flatnonzero(np.array(self.alive, dtype=bool))
        issues = len(keep)
        times = self._times(keep)
        created, updated, changed, changed_known, c_t = times
        # the status changes of the issues kept, renumbered, in time order per issue
        remap = np.full(len(self.ids), -1, dtype=np.int64)
        remap[keep] = np.arange(issues)
        c_issue = remap[np.array(self.c_issue, dtype=np.int64)]
        live = c_issue >= 0
        c_issue, c_t = c_issue[live], c_t[live]
        c_history = np.array(self.c_history, dtype=np.int64)[live]
        c_from = np.array(self.c_from, dtype=np.int64)[live]
        c_to = np.array(self.c_to, dtype=np.int64)[live]
        order = np.lexsort((np.arange(len(c_issue)), c_history, c_t, c_issue))
        c_issue, c_t, c_from, c_to = c_issue[order], c_t[order], c_from[order], c_to[order]
        current = np.array(self.current, dtype=np.int64)[keep]

        counts = np.bincount(c_issue, minlength=issues)
        starts = np.cumsum(counts) - counts
        has = counts > 0
        first = np.flatnonzero(has)
        initial = current.copy()
        initial[first] = c_from[starts[first]]
        unknown_start = first[initial[first] < 0]
        initial[unknown_start] = c_to[starts[unknown_start]]
        last = initial.copy()
        last[first] = c_to[starts[first] + counts[first] - 1]
        last_t = created.copy()
        last_t[first] = c_t[starts[first] + counts[first] - 1]
        reconcile = np.flatnonzero(last != current)
        added_t = np.maximum(np.where(changed_known, changed, updated), last_t)

        # one block of events per issue: created, each change, then the reconciling event
        extra = np.zeros(issues, dtype=np.int64)
        extra[reconcile] = 1
        sizes = 1 + counts + extra
        block = np.cumsum(sizes) - sizes
        total = int(sizes.sum())
        state = np.empty(total, dtype=np.int64)
        t = np.empty(total, dtype=np.int64)
        state[block], t[block] = initial, created
        at = block[c_issue] + 1 + (np.arange(len(c_issue)) - starts[c_issue])
        state[at], t[at] = c_to, c_t
        at = block[reconcile] + 1 + counts[reconcile]
        state[at], t[at] = current[reconcile], added_t[reconcile]
        item = np.repeat(np.arange(issues), sizes)

        ids = [self.ids[i] for i in keep]
        keys = [self.keys[i] for i in keep]
        names = [self.name_of(code) for code in range(len(self.code_keys))]
        take = pa.array(item)
        columns = {
            "item_id": pa.array(ids, pa.string()).take(take),
            "state": pa.array(names, pa.string()).take(pa.array(state)),
            "t": pa.array(t, pa.int64()),
            "seq": pa.array(np.arange(total, dtype=np.int64)),
            "created": pa.array(created[item], pa.int64()),
            "type": pa.array([self.types[i] for i in keep], pa.string()).take(take),
            "title": pa.array([self.titles[i] for i in keep], pa.string()).take(take),
            "team": pa.nulls(total, pa.string()),
            "assignee": pa.array([self.assignees[i] for i in keep], pa.string()).take(take),
        }
        events = EventLog(pa.table(columns, schema=EVENT_SCHEMA), f"connector {self.connector!r}")

        for index in unknown_start:
            notes.append(
                f"{keys[index]}: its first status change names no 'from' status, so its "
                f"history starts in {names[c_to[starts[index]]]} at its creation"
            )
        notes.extend(
            f"{keys[i]}: history ended in {names[last[i]]} but the issue is in "
            f"{names[current[i]]}; an event in {names[current[i]]} was added at "
            f"{_when(int(added_t[i]))}"
            for i in reconcile
        )
        used = np.unique(state)
        state_names = {
            self.code_keys[code]: names[code]
            for code in used
            if not self.code_keys[code].startswith("name:")
        }
        workflow = self._workflow(state, names, notes)
        blockers = self._blockers(keep, created, state, t, block, sizes, notes)
        known = updated[updated != _MISSING]
        checkpoint = _checkpoint(since, started, int(known.max()) if len(known) else None)
        return SyncBatch(
            events=events,
            checkpoint=checkpoint,
            items=issues,
            proposed_workflow=workflow,
            state_names=state_names,
            notes=_capped(notes),
            blockers=blockers,
        )

    def _blockers(
        self,
        keep: Any,
        created: Any,
        state: Any,
        t: Any,
        block: Any,
        sizes: Any,
        notes: list[str],
    ) -> tuple[Blocker, ...]:
        """The blockers of the issues kept (see the module docstring); ``state``, ``t``,
        ``block`` and ``sizes`` are the events laid out per kept issue."""
        position = {int(original): kept for kept, original in enumerate(keep)}
        by_key = {self.keys[original]: kept for kept, original in enumerate(keep)}
        stamps = self._blocker_times()
        changes: dict[int, list[tuple[int, int, int, str, bool, str | None]]] = {}
        for n, original in enumerate(self.b_issue):
            kept = position.get(original)
            if kept is not None:
                changes.setdefault(kept, []).append(
                    (stamps[n], self.b_history[n], n, self.b_reason[n], self.b_on[n],
                     self.b_blocking[n])
                )  # fmt: skip

        def done_from(kept: int, start: int) -> int | None:
            """When issue ``kept`` was first in a done-category status at or after
            ``start``; None if never (in what was pulled)."""
            rows = range(int(block[kept]), int(block[kept] + sizes[kept]))
            for n, row in enumerate(rows):
                ends = int(t[rows[n + 1]]) if n + 1 < len(rows) else None
                if self._category(int(state[row])) == "done" and (ends is None or ends > start):
                    return max(int(t[row]), start)
            return None

        def blocking_id(other: str | None, original: int) -> str | None:
            """Items are keyed by issue id, so the blocking issue is named by its id where
            the link or the pull gives it (who waits on whom then matches items), else by
            its key."""
            if other is None:
                return None
            for linked, _, ident in self.links[original]:
                if linked == other:
                    return ident
            pulled = by_key.get(other)
            return other if pulled is None else self.ids[keep[pulled]]

        found: dict[tuple[str, int, str], Blocker] = {}
        for kept, original in enumerate(keep):
            if kept not in changes and not self.links[original]:
                continue  # most issues: never flagged nor blocked
            item, key = self.ids[original], self.keys[original]
            opened: dict[str, tuple[int, str | None]] = {}
            mentioned: set[str] = set()
            for at, _hid, _n, reason, on, blocking in sorted(changes.get(kept, ())):
                mentioned.add(reason)
                if on:
                    opened.setdefault(reason, (at, blocking))
                elif reason in opened:
                    start, was = opened.pop(reason)
                    if at > start:
                        made = Blocker(item, start, at, reason, blocking_id(was, original))
                        found[made.key] = made
            links = {other: done for other, done, _ in self.links[original]}
            for blocking in links:
                reason = f"blocked by {blocking}"
                if reason not in mentioned:  # a link older than the changelog
                    opened[reason] = (int(created[kept]), blocking)
            for reason, (start, blocking) in opened.items():
                end: int | None = None
                if blocking is not None:
                    if blocking not in links:
                        notes.append(
                            f"{key}: the changelog links it to {blocking} (is blocked by) but "
                            "the link is gone with no removal recorded, so that blocker is "
                            "left out"
                        )
                        continue
                    if links[blocking]:  # the blocking issue is done: when?
                        other = by_key.get(blocking)
                        end = None if other is None else done_from(other, start)
                        if end is None:
                            notes.append(
                                f"{key}: {blocking}, which blocks it, is done but was not "
                                "read in this pull, so when it stopped blocking is unknown; "
                                "the blocker is left out until a pull reads both"
                            )
                            continue
                        if end <= start:
                            continue  # linked when already done: it blocked nothing
                made = Blocker(item, start, end, reason, blocking_id(blocking, original))
                found[made.key] = made
        return tuple(found[k] for k in sorted(found))

    def _category(self, code: int) -> str | None:
        """Jira's category (new, indeterminate, done) of a status code, if known."""
        key = self.code_keys[code]
        known = self.statuses.get(key)
        return known.category if known else self.issue_categories.get(key)

    def _blocker_times(self) -> list[int]:
        """The times of the blocker changes, parsed in one pass (µs UTC)."""
        if not self.b_stamp:
            return []
        text = pa.array([v if isinstance(v, str) else None for v in self.b_stamp], pa.string())
        try:
            micros = parse_timestamps(text)
        except BadTimestamp as error:
            raise self._bad_blocker_time(
                error.index, f"cannot read the time {error.value!r}"
            ) from None
        missing = first_true(pc.is_null(micros))
        if missing is not None:
            raise self._bad_blocker_time(missing, "the time is missing")
        outside = first_true(unsupported_times(micros))
        if outside is not None:
            raise self._bad_blocker_time(outside, "the time is out of range")
        return [int(v) for v in micros.to_pylist()]

    def _bad_blocker_time(self, index: int, problem: str) -> ConnectorError:
        issue = self.keys[self.b_issue[index]]
        field_name = self.b_reason[index].split(" ")[0]
        return ConnectorError(
            self.connector, f"issue {issue}, changelog 'created' ({field_name}): {problem}"
        )

    def _times(self, keep: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Every timestamp parsed in one vectorised pass: (created, updated, changed, whether
        changed is known, change times); a missing ``updated`` is the int64 minimum."""
        n_changes, n_issues = len(self.c_stamp), len(self.ids)
        stamps = self.c_stamp + self.created + self.updated + self.changed
        try:
            text = pa.array(stamps, pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a time that is no string: missing
            text = pa.array([v if isinstance(v, str) else None for v in stamps], pa.string())
        try:
            micros = parse_timestamps(text)
        except BadTimestamp as error:
            raise self._bad_time(error.index, f"cannot read the time {error.value!r}") from None
        outside = first_true(unsupported_times(micros))
        if outside is not None:
            raise self._bad_time(outside, f"the time {text[outside].as_py()!r} is out of range")
        missing = first_true(pc.is_null(text))
        if missing is not None and missing < n_changes + n_issues:
            raise self._bad_time(missing, "the time is missing")
        values = pc.fill_null(micros, _MISSING).to_numpy()
        known = pc.is_valid(micros).to_numpy(zero_copy_only=False)
        created = values[n_changes : n_changes + n_issues][keep]
        updated = values[n_changes + n_issues : n_changes + 2 * n_issues][keep]
        changed = values[n_changes + 2 * n_issues :][keep]
        changed_known = known[n_changes + 2 * n_issues :][keep]
        return created, updated, changed, changed_known, values[:n_changes]

    def _bad_time(self, index: int, problem: str) -> ConnectorError:
        n_changes, n_issues = len(self.c_stamp), len(self.ids)
        if index < n_changes:
            issue, field_name = self.c_issue[index], "changelog 'created'"
        else:
            block, issue = divmod(index - n_changes, n_issues)
            field_name = ("fields.created", "fields.updated", "fields.statuscategorychangedate")[
                block
            ]
        return ConnectorError(self.connector, f"issue {self.keys[issue]}, {field_name}: {problem}")

    def _workflow(self, state: Any, names: list[str], notes: list[str]) -> Workflow | None:
        """Backlog, active and done from Jira's status categories, each in order of first
        appearance; None when no done status was seen."""
        if not len(state):
            return None
        codes, first = np.unique(state, return_index=True)
        lists: dict[str, list[str]] = {"backlog": [], "active": [], "done": []}
        placed: dict[str, str] = {}
        for code in codes[np.argsort(first)]:
            key = self.code_keys[code]
            known = self.statuses.get(key)
            jira_category = known.category if known else self.issue_categories.get(key)
            category = CATEGORIES.get(jira_category or "")
            name = names[code]
            if category is None:
                notes.append(
                    f"status {name!r} has no known category in Jira, so the proposed "
                    "workflow leaves it out; give it one in the workflow"
                )
            elif name not in placed:
                placed[name] = category
                lists[category].append(name)
            elif placed[name] != category:
                notes.append(
                    f"two statuses are named {name!r} in different categories; the proposed "
                    f"workflow counts it as {placed[name]}"
                )
        if not lists["done"]:
            notes.append(
                "no issue reached a status of Jira's done category, so no workflow "
                "is proposed; write one"
            )
            return None
        try:
            return Workflow(
                backlog=tuple(lists["backlog"]),
                active=tuple(lists["active"]),
                done=tuple(lists["done"]),
                order=(*lists["backlog"], *lists["active"], *lists["done"]),
                source=f"the statuses of connector {self.connector!r}",
            )
        except WorkflowError as error:  # pragma: no cover - the lists are disjoint by design
            notes.append(str(error))
            return None


# -- helpers ------------------------------------------------------------------------------------


def _blocked_by(links: Any) -> list[tuple[str, bool, str]]:
    """The issue's "is blocked by" links: each blocking issue's key, whether it is in a
    status of Jira's done category now, and its id (the key when the link gives none)."""
    found: list[tuple[str, bool, str]] = []
    if not isinstance(links, list):
        return found
    for link in links:
        if not isinstance(link, dict):
            continue
        kind = link.get("type")
        inward = kind.get("inward") if isinstance(kind, dict) else None
        other = link.get("inwardIssue")
        if not isinstance(other, dict) or str(inward or "").strip().lower() != BLOCKED_BY:
            continue
        key = other.get("key")
        if not isinstance(key, str) or not key:
            continue
        fields = other.get("fields")
        status = fields.get("status") if isinstance(fields, dict) else None
        category = status.get("statusCategory") if isinstance(status, dict) else None
        done = isinstance(category, dict) and category.get("key") == "done"
        ident = other.get("id")
        found.append((key, done, str(ident) if isinstance(ident, str | int) and ident else key))
    return found


def _checkpoint(since: datetime | None, started: datetime, latest: int | None) -> datetime:
    """The latest ``updated`` seen (never before ``since``), else ``since``, else the start
    of the pull; never later than the start of the pull."""
    candidates = [m for m in (since, from_micros(latest) if latest is not None else None) if m]
    checkpoint = max(candidates) if candidates else started
    return min(checkpoint, started)


def _capped(notes: list[str]) -> tuple[str, ...]:
    if len(notes) <= MAX_NOTES:
        return tuple(notes)
    more = len(notes) - MAX_NOTES
    return (*notes[:MAX_NOTES], f"… and {more:,} more note{'s' if more > 1 else ''}")


def _when(micros: int) -> str:
    return from_micros(micros).strftime("%Y-%m-%d %H:%M UTC")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _name(value: Any, key: str) -> str | None:
    return _text(value.get(key)) if isinstance(value, dict) else None


def _object(answer: Any, connector: str, path: str) -> Mapping[str, Any]:
    if not isinstance(answer, dict):
        raise _shape(connector, path, "a JSON object")
    return answer


def _issues(page: Mapping[str, Any], connector: str, path: str) -> list[Any]:
    issues = page.get("issues")
    if not isinstance(issues, list):
        raise _shape(connector, path, "a page with an 'issues' list")
    return issues


def _shape(connector: str, path: str, expected: str) -> ConnectorError:
    return ConnectorError(
        connector, f"GET {path}: expected {expected}; is the URL a Jira's, and its API version?"
    )


__all__ = ["JiraConfig", "JiraSource", "jql_time", "search_jql", "strip_order_by"]
