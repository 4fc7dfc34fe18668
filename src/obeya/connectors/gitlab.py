"""GitLab: a project's issues as work items, its deployments and incidents as delivery.

What a pull reads, all through the REST API v4 (``PRIVATE-TOKEN`` header; the project path is
URL-encoded, ``group/shop`` → ``group%2Fshop``, as GitLab requires):

- ``GET /projects/{id}/issues?updated_after=…&order_by=updated_at&sort=asc&per_page=100``,
  every page. Pages are followed by the ``Link: <…>; rel="next"`` header when there is one,
  else by ``x-next-page`` (offset pagination, the default). With ``keyset_pagination`` the first
  request adds ``pagination=keyset`` and the pages follow the ``Link`` header's cursor:
  GitLab supports keyset pagination of project issues from 18.3, and it stays fast however deep
  the list; older servers need the default. An issue served twice (it changed while the sync
  paged) is read once, as last served.
- ``GET /projects/{id}/issues/{iid}/resource_state_events`` (``closed``, ``reopened``; GitLab
  does not record the opening) and ``…/resource_label_events`` (``add`` / ``remove`` of
  ``label.name``) per changed issue, every page (the label events only when there are
  scoped labels or a blocked label to read).
- ``GET /projects/{id}/deployments?environment=…&updated_after=…&order_by=updated_at&sort=asc``
  and ``GET /projects/{id}/deployments/{deployment_id}/merge_requests`` per successful one.

**Items.** The item id is the issue's global ``id`` (not its ``iid``), the title
``"#iid title"``, the type GitLab's ``issue_type`` (``issue``, ``incident``, ``task``…), the
assignee the first assignee's username. An issue moved to another project is closed by GitLab
(``moved_to_id`` set) and counts as closed here; a note says how many. An issue moved *into*
the project is a new issue to GitLab, with the moved one's events copied: its history starts at
the earliest of them.

**States.** An issue enters ``open_state`` when created; with ``scoped_label_prefix`` (say
``workflow``), adding a scoped label ``workflow::Review`` moves it to ``Review`` and removing it
moves it back (to the scoped label added last and still on, else ``open_state``); ``closed``
moves it to ``closed_state`` and ``reopened`` back. The same rules as GitHub's
(:class:`~obeya.connectors.github.StateHistory`); the proposed workflow lists the scoped
states in the order they first appear.

**Blockers** (``blocked_label``, from the stream's workflow). An ``add`` of that label (compared
without case) blocks the issue from its ``created_at`` until the next ``remove`` of it (still
blocked if none); the reason is the label as the workflow names it. A label deleted from the
project since (GitLab then sends ``label: null``) cannot be told apart, and is skipped.

**Delivery (DORA).** Deployments to ``environment`` become
:class:`~obeya.core.delivery.records.Deployment` records (the environment recorded as
``production``) with GitLab's own status as the result (``success``, ``failed``, ``canceled``,
``skipped``); ``created``, ``running`` and ``blocked`` ones are left for a later sync (a note
says how many; GitLab updates a deployment when its status changes, so ``updated_after`` finds
it again). The time is the deployment's ``finished_at`` where the server sends one, else
its job's (``deployable.finished_at``), else (a deployment an outside tool created through the
API has no job) its ``updated_at``. Changes are the merge requests a successful deployment
shipped, timed at ``merged_at``: GitLab itself measures lead time for changes "from merge
request merge time to code successfully running in production", so the figures agree with
GitLab's own. A merge request listed by two deployments belongs to the
first. Issues of type ``incident`` become :class:`~obeya.core.delivery.records.Incident`
records (``created_at``, ``closed_at`` while closed).

GitLab does not document conditional requests (``ETag``) for these endpoints, so the client
sends none and keeps nothing between pulls. Rate
limits (``RateLimit-Remaining: 0`` with ``RateLimit-Reset``, ``Retry-After`` on 429) are
honoured by :class:`~obeya.connectors.http.Http`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from obeya.connectors.base import Progress, SyncBatch
from obeya.connectors.http import Http, utc_now
from obeya.connectors.tracker import (
    PER_PAGE,
    EventRows,
    StateHistory,
    TrackerSource,
    check_blocked_label,
    check_states,
    checkpoint_of,
    iso_seconds,
    label_blockers,
    next_link,
    parse_time,
    proposed_workflow,
    response_json,
)
from obeya.core.blockers.model import Blocker
from obeya.core.delivery.records import PRODUCTION, Change, DeliveryHistory, Deployment, Incident
from obeya.errors import ConnectorError, InputError

#: Deployment statuses of a deployment not finished yet: left for a later sync.
UNFINISHED = frozenset({"created", "running", "blocked"})

Json = dict[str, Any]


@dataclass(frozen=True)
class GitLabConfig:
    """One project to read. ``token`` (a personal, project or group access token with
    ``read_api``) never appears in a repr, an error or a log."""

    name: str
    url: str
    project: str
    token: str = field(repr=False)
    open_state: str = "Open"
    closed_state: str = "Done"
    #: Scoped labels ``prefix::Value`` are board columns: ``Value`` is a state.
    scoped_label_prefix: str | None = None
    #: Page project issues with ``pagination=keyset`` (GitLab 18.3 and later).
    keyset_pagination: bool = False
    #: The deployment environment that is production.
    environment: str = PRODUCTION
    #: The label that marks an issue blocked (the stream's workflow's ``blocked_label``).
    blocked_label: str | None = None

    def __post_init__(self) -> None:
        check_blocked_label(self.name, self.blocked_label)
        if not self.project.strip("/"):
            raise InputError(
                f"connector {self.name!r}: project must be the project's path "
                "(group/name) or numeric id"
            )
        if not self.url.startswith(("http://", "https://")):
            raise InputError(
                f"connector {self.name!r}: url {self.url!r} must start with https:// "
                "(e.g. https://gitlab.com)"
            )
        check_states(self.name, self.open_state, self.closed_state, ())

    @property
    def api_url(self) -> str:
        return f"{self.url.rstrip('/')}/api/v4"


@dataclass
class _Deployment:
    id: int
    result: str
    finished_at: datetime


class GitLabSource(TrackerSource):
    """Pulls one project's issues and deployments (see the module docstring)."""

    def __init__(
        self,
        config: GitLabConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.name = config.name
        self.tracker = "GitLab"
        headers = {"Accept": "application/json", "User-Agent": "obeya"}
        if config.token:
            headers["PRIVATE-TOKEN"] = config.token
        self.http = Http(config.name, config.api_url, headers, transport=transport, sleep=sleep)
        self._project = f"/projects/{quote(config.project.strip('/'), safe='')}"
        prefix = config.scoped_label_prefix
        self._scope = f"{prefix.casefold()}::" if prefix else None

    def __repr__(self) -> str:
        return f"GitLabSource(name={self.name!r}, project={self.config.project!r})"

    # -- the pull ---------------------------------------------------------------------------

    def _pull(self, since: datetime | None, progress: Progress | None) -> SyncBatch:
        started = utc_now()
        say = progress or (lambda _message: None)
        notes: list[str] = []
        issues = self._changed_issues(since, say)
        rows = EventRows()
        blockers: list[Blocker] = []
        incidents: list[Incident] = []
        scoped_states: dict[str, None] = {}
        moved = 0
        for count, issue in enumerate(issues, start=1):
            history = self._history(issue, scoped_states, blockers)
            rows.add(
                str(issue["id"]),
                history.entries,
                created=history.entries[0][0],
                type=str(issue.get("issue_type") or "issue"),
                title=f"#{issue['iid']} {issue['title']}",
                assignee=_username(issue),
            )
            if issue.get("moved_to_id"):
                moved += 1
            if _is_incident(issue):
                incidents.append(
                    Incident(
                        incident_id=str(issue["id"]),
                        created_at=parse_time(issue["created_at"]),
                        resolved_at=(
                            parse_time(issue["closed_at"])
                            if issue["state"] == "closed" and issue.get("closed_at")
                            else None
                        ),
                    )
                )
            if count % 50 == 0:
                say(f"{self.name}: histories of {count} of {len(issues)} issues read")
        if moved:
            notes.append(
                f"{moved} issue(s) moved to another project: GitLab closed them here, so they "
                "count as closed"
            )
        deployments, changes = self._deliveries(since, notes, say)
        return SyncBatch(
            events=rows.log(f"gitlab:{self.config.project}"),
            checkpoint=checkpoint_of(
                [parse_time(issue["updated_at"]) for issue in issues], since, started
            ),
            items=rows.items,
            delivery=DeliveryHistory(
                deployments=tuple(deployments), changes=tuple(changes), incidents=tuple(incidents)
            ),
            proposed_workflow=proposed_workflow(
                self.config.open_state,
                list(scoped_states),
                self.config.closed_state,
                f"connector {self.name!r}",
            ),
            notes=tuple(notes),
            blockers=tuple(blockers),
        )

    # -- issues -----------------------------------------------------------------------------

    def _changed_issues(self, since: datetime | None, say: Progress) -> list[Json]:
        params: dict[str, Any] = {
            "order_by": "updated_at",
            "sort": "asc",
            "per_page": PER_PAGE,
        }
        if since is not None:
            params["updated_after"] = iso_seconds(since)
        if self.config.keyset_pagination:
            params["pagination"] = "keyset"
        latest: dict[int, Json] = {}
        for page, issues in enumerate(self._pages(f"{self._project}/issues", params), start=1):
            for issue in issues:
                latest.pop(issue["id"], None)
                latest[issue["id"]] = issue
            say(f"{self.name}: issues page {page}, {len(latest)} read")
        return list(latest.values())

    def _history(
        self, issue: Json, scoped_states: dict[str, None], blockers: list[Blocker]
    ) -> StateHistory:
        """The issue's states from its state and label events; its blockers (the blocked
        label's events) are added to ``blockers``."""
        iid = issue["iid"]
        moves: list[tuple[datetime, int, int, str, str | None]] = []
        for page in self._pages(
            f"{self._project}/issues/{iid}/resource_state_events", {"per_page": PER_PAGE}
        ):
            moves.extend(
                (parse_time(e["created_at"]), 0, e["id"], str(e["state"]), None) for e in page
            )
        blocked = self.config.blocked_label
        if self._scope is not None or blocked is not None:
            wanted = blocked.casefold() if blocked is not None else None
            changes: list[tuple[datetime, int, bool]] = []
            for page in self._pages(
                f"{self._project}/issues/{iid}/resource_label_events", {"per_page": PER_PAGE}
            ):
                for event in page:
                    label = event.get("label")
                    name = label.get("name") if isinstance(label, dict) else None
                    if wanted is not None and str(name or "").casefold() == wanted:
                        at = parse_time(event["created_at"])
                        changes.append((at, event["id"], event["action"] == "add"))
                    state = self._scoped_state(label)
                    if state is not None:
                        moves.append(
                            (
                                parse_time(event["created_at"]),
                                1,
                                event["id"],
                                event["action"],
                                state,
                            )
                        )
            if blocked is not None:
                changes.sort()
                blockers.extend(
                    label_blockers(
                        str(issue["id"]), [(at, added) for at, _id, added in changes], blocked
                    )
                )
        moves.sort(key=lambda move: move[:3])
        created = parse_time(issue["created_at"])
        if moves and moves[0][0] < created:
            created = moves[0][0]  # moved in: the copied events predate the new issue
        history = StateHistory(created, self.config.open_state, self.config.closed_state)
        for at, _kind, _id, action, state in moves:
            if state is not None:
                scoped_states.setdefault(state)
                if action == "add":
                    history.label_added(at, state)
                elif action == "remove":
                    history.label_removed(at, state)
            elif action == "closed":
                history.closed(at)
            elif action in ("reopened", "opened"):
                history.reopened(at)
        return history

    def _scoped_state(self, label: Any) -> str | None:
        """``Review`` of the label ``workflow::Review``; None for other labels (or a label
        deleted since, which GitLab sends as null)."""
        if self._scope is None or not isinstance(label, dict):
            return None
        name = str(label.get("name") or "")
        if not name.casefold().startswith(self._scope):
            return None
        value = name[len(self._scope) :].strip()
        return value or None

    # -- deployments, changes ---------------------------------------------------------------

    def _deliveries(
        self, since: datetime | None, notes: list[str], say: Progress
    ) -> tuple[list[Deployment], list[Change]]:
        params: dict[str, Any] = {
            "environment": self.config.environment,
            "order_by": "updated_at",
            "sort": "asc",
            "per_page": PER_PAGE,
        }
        if since is not None:
            params["updated_after"] = iso_seconds(since)
        finished: dict[int, _Deployment] = {}
        unfinished = 0
        for page in self._pages(f"{self._project}/deployments", params):
            for raw in page:
                status = str(raw["status"])
                if status in UNFINISHED:
                    unfinished += 1
                    finished.pop(raw["id"], None)
                    continue
                job = raw.get("deployable") or {}
                moment = raw.get("finished_at") or job.get("finished_at") or raw["updated_at"]
                finished[raw["id"]] = _Deployment(raw["id"], status, parse_time(moment))
        if unfinished:
            notes.append(
                f"{unfinished} deployment(s) still created, running or blocked; a later sync "
                "reads them"
            )
        records = [
            Deployment(str(d.id), PRODUCTION, d.finished_at, d.result) for d in finished.values()
        ]
        successes = sorted(
            (d for d in finished.values() if d.result == "success"),
            key=lambda d: (d.finished_at, d.id),
        )
        if successes:
            say(f"{self.name}: merge requests of {len(successes)} deployment(s)")
        changes: list[Change] = []
        shipped: set[str] = set()
        unmerged = 0
        for deployment in successes:
            for page in self._pages(
                f"{self._project}/deployments/{deployment.id}/merge_requests",
                {"per_page": PER_PAGE},
            ):
                for request in page:
                    change_id = f"!{request['iid']}"
                    if change_id in shipped:
                        continue
                    if not request.get("merged_at"):
                        unmerged += 1
                        continue
                    shipped.add(change_id)
                    changes.append(
                        Change(change_id, parse_time(request["merged_at"]), str(deployment.id))
                    )
        if unmerged:
            notes.append(f"{unmerged} merge request(s) of deployments without merged_at skipped")
        return records, changes

    # -- requests ---------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[Json]]:
        """Each page of a list: by the ``Link`` header's next address, else ``x-next-page``."""
        url = path
        query: dict[str, Any] | None = dict(params)
        while True:
            response = self.http.get(url, query)
            body = response_json(response, self.name, f"GET {url}")
            if not isinstance(body, list):
                raise ConnectorError(
                    self.name,
                    f"GET {url}: expected a list, got {type(body).__name__}; is the URL GitLab's?",
                    status=response.status_code,
                )
            yield body
            link = next_link(response, self.config.api_url, self.name)
            if link is not None:
                url, query = link, None
                continue
            next_page = response.headers.get("x-next-page", "").strip()
            if not next_page:
                return
            if not next_page.isdigit():
                raise ConnectorError(self.name, f"GET {url}: x-next-page {next_page!r}")
            query = {**(query or {}), "page": next_page}


def _username(issue: Json) -> str | None:
    assignee = issue.get("assignee")
    if not isinstance(assignee, dict):
        assignees = issue.get("assignees") or []
        assignee = assignees[0] if assignees else None
    if isinstance(assignee, dict) and assignee.get("username"):
        return str(assignee["username"])
    return None


def _is_incident(issue: Json) -> bool:
    return str(issue.get("issue_type") or "").lower() == "incident" or (
        str(issue.get("type") or "").upper() == "INCIDENT"
    )
