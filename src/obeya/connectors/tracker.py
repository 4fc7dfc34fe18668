"""What the GitHub and GitLab clients share: times, Link paging, the shape checks of a
tracker's answers, the state history of an item built from its events, the rows of the event
log, the blockers of a label, the proposed workflow and the checkpoint."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
import pyarrow as pa

from obeya.connectors.base import Progress, SyncBatch
from obeya.connectors.http import Http
from obeya.core.blockers.model import Blocker
from obeya.core.events import EVENT_SCHEMA, EventLog, to_micros
from obeya.core.workflow import Workflow
from obeya.errors import ConnectorError, InputError

#: Items a list page asks for (the most GitHub and GitLab give).
PER_PAGE = 100


def parse_time(text: str) -> datetime:
    """A tracker's ISO 8601 time (``Z`` or an offset, fractions or not) as an aware UTC time."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_seconds(moment: datetime) -> str:
    """``2024-03-05T12:00:00Z``: UTC, whole seconds (cut, not rounded, so a query ``since`` it
    never skips what happened in the same second). A naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")


def next_link(response: httpx.Response, base_url: str, connector: str) -> str | None:
    """The ``rel="next"`` address of a ``Link`` header, or None on the last page.

    The address must be on the tracker's own origin (scheme, host and port of ``base_url``):
    the token goes with every request, so a link elsewhere is refused, not followed.
    """
    header = response.headers.get("link")
    if not header:
        return None
    for match in _LINK.finditer(header):
        params = match.group(2)
        rels = re.findall(r'rel\s*=\s*"?([^";]+)"?', params)
        if any("next" in rel.split() for rel in rels):
            url = match.group(1).strip()
            if _origin(url) != _origin(base_url):
                raise ConnectorError(
                    connector,
                    f"the tracker's next page is at another address ({_origin(url)}, not "
                    f"{_origin(base_url)}); check the API URL",
                )
            return url
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def response_json(response: httpx.Response, connector: str, what: str) -> Any:
    """The JSON of an answer, or a :class:`ConnectorError` saying it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise ConnectorError(
            connector,
            f"{what}: the answer is not JSON (HTTP {response.status_code}); is the URL the "
            "tracker's API?",
            status=response.status_code,
        ) from None


@contextmanager
def tracker_shape(connector: str, tracker: str) -> Iterator[None]:
    """Turn a missing field or a value of the wrong type in an answer into one
    :class:`ConnectorError` (the URL may be another service's, or a proxy's page)."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConnectorError(
            connector,
            f"an answer is not shaped as {tracker}'s REST API ({type(exc).__name__}: {exc}); "
            "check the URL",
        ) from None


class StateHistory:
    """One item's states in time, from its tracker's events applied in time order.

    ``claims`` are the states the item is in by a label on it (``("label", state)``) or by its
    status on a GitHub project (``("project", status)``, one at most), oldest first: while
    open, the item is in the latest claim, else in ``open_state``; while closed, in
    ``closed_state``. A move at the same time as the previous one replaces it, so no visit
    lasts zero seconds.
    """

    def __init__(self, created: datetime, open_state: str, closed_state: str) -> None:
        self.open_state = open_state
        self.closed_state = closed_state
        self.is_open = True
        self.claims: list[tuple[str, str]] = []
        self.entries: list[tuple[datetime, str]] = [(created, open_state)]

    @property
    def labels(self) -> list[str]:
        """The state labels on the item, oldest first."""
        return [state for source, state in self.claims if source == "label"]

    @property
    def state(self) -> str:
        if not self.is_open:
            return self.closed_state
        return self.claims[-1][1] if self.claims else self.open_state

    def label_added(self, at: datetime, state: str) -> None:
        claim = ("label", state)
        if claim in self.claims:
            self.claims.remove(claim)
        self.claims.append(claim)
        self._move(at)

    def label_removed(self, at: datetime, state: str) -> None:
        claim = ("label", state)
        if claim in self.claims:
            self.claims.remove(claim)
            self._move(at)

    def status_changed(self, at: datetime, status: str | None) -> None:
        """The item's project status became ``status`` (None: no status, or off the project)."""
        self.claims = [claim for claim in self.claims if claim[0] != "project"]
        if status:
            self.claims.append(("project", status))
        self._move(at)

    def closed(self, at: datetime) -> None:
        self.is_open = False
        self._move(at)

    def reopened(self, at: datetime) -> None:
        self.is_open = True
        self._move(at)

    def _move(self, at: datetime) -> None:
        state = self.state
        if state == self.entries[-1][1]:
            return
        if at <= self.entries[-1][0]:
            # Same time as the last move (events are applied in time order): keep the later.
            self.entries[-1] = (self.entries[-1][0], state)
            if len(self.entries) > 1 and self.entries[-2][1] == state:
                self.entries.pop()
            return
        self.entries.append((at, state))


class EventRows:
    """Event rows gathered as Python lists, made into one Arrow table at the end."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
        self.items = 0

    def add(
        self,
        item_id: str,
        entries: Sequence[tuple[datetime, str]],
        *,
        created: datetime,
        type: str,
        title: str,
        assignee: str | None,
    ) -> None:
        self.items += 1
        created_micros = to_micros(created)
        for moment, state in entries:
            self.columns["item_id"].append(item_id)
            self.columns["state"].append(state)
            self.columns["t"].append(to_micros(moment))
            self.columns["created"].append(created_micros)
            self.columns["type"].append(type)
            self.columns["title"].append(title)
            self.columns["team"].append(None)
            self.columns["assignee"].append(assignee)

    def log(self, source: str) -> EventLog:
        """The rows in the order added: ``seq`` numbers them, which keeps each item's moves in
        order where two share a time."""
        self.columns["seq"] = list(range(len(self.columns["item_id"])))
        return EventLog(pa.table(self.columns, schema=EVENT_SCHEMA), source)


def label_blockers(
    item_id: str, changes: Sequence[tuple[datetime, bool]], reason: str
) -> list[Blocker]:
    """The blockers of one item from its blocked label's changes, in time order (``True``:
    added, ``False``: removed): each addition until the next removal (open if none),
    ``reason`` the label. A second addition while on, or a removal while off, changes
    nothing; a label removed the instant it was added blocked nothing and is left out."""
    found: list[Blocker] = []
    since: datetime | None = None
    for at, added in changes:
        if added and since is None:
            since = at
        elif not added and since is not None:
            if at > since:
                found.append(Blocker(item_id, to_micros(since), to_micros(at), reason))
            since = None
    if since is not None:
        found.append(Blocker(item_id, to_micros(since), None, reason))
    return found


def check_blocked_label(name: str, label: str | None) -> None:
    """Refuse an empty ``blocked_label`` (None is fine: labels block nothing)."""
    if label is not None and not label.strip():
        raise InputError(
            f"connector {name!r}: blocked_label is empty; name the label that marks an issue "
            'blocked (e.g. "blocked"), or leave it out'
        )


def proposed_workflow(
    open_state: str, states: Sequence[str], closed_state: str, source: str
) -> Workflow:
    """``open_state`` and the label states active (in that order), ``closed_state`` done."""
    active = tuple(dict.fromkeys(s for s in (open_state, *states) if s != closed_state))
    return Workflow(
        active=active, done=(closed_state,), order=(*active, closed_state), source=source
    )


def check_states(name: str, open_state: str, closed_state: str, labels: Sequence[str]) -> None:
    """Refuse a configuration whose states collide (say which, and how to fix it)."""
    if not open_state.strip() or not closed_state.strip():
        raise InputError(f"connector {name!r}: open_state and closed_state must not be empty")
    if open_state == closed_state:
        raise InputError(
            f"connector {name!r}: open_state and closed_state are both {open_state!r}; give "
            "them different names"
        )
    for label in labels:
        if label.casefold() in (open_state.casefold(), closed_state.casefold()):
            raise InputError(
                f"connector {name!r}: state label {label!r} is also the open or closed state; "
                "remove it from state_labels"
            )


def checkpoint_of(seen: Sequence[datetime], since: datetime | None, started: datetime) -> datetime:
    """The next pull's ``since``: the latest update seen, else this pull's ``since``, else the
    time this pull started (nothing at all was there)."""
    if seen:
        return max(seen)
    return since if since is not None else started


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- GitHub ------------------------------------------------------------------------------------


class TrackerSource:
    """What a GitHub or GitLab source does alike: its HTTP client's life, and a pull whose
    answers of an unexpected shape become one error naming the connector (``tracker``)."""

    name: str
    http: Http
    tracker: str

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pull(self, since: datetime | None, progress: Progress | None = None) -> SyncBatch:
        """Every issue changed at or after ``since`` (all when None) with its whole history,
        and the deployments, changes and incidents since then. Raises
        :class:`~obeya.errors.ConnectorError` naming the connector; nothing is returned from
        a pull that failed part way."""
        with tracker_shape(self.name, self.tracker):
            return self._pull(utc(since), progress)

    def _pull(self, since: datetime | None, progress: Progress | None) -> SyncBatch:
        raise NotImplementedError
