"""GitHub: a repository's issues (and pull requests) as work items, its deployments as delivery.

What a pull reads, all through the REST API (``X-GitHub-Api-Version: 2022-11-28``):

- ``GET /repos/{owner}/{repo}/issues?state=all&since=…&sort=updated&direction=asc&per_page=100``,
  every page (``Link: <…>; rel="next"``). Pull requests come in the same list, with a
  ``pull_request`` key; they are skipped when ``include_pull_requests`` is off. An issue served
  twice (it changed while the sync paged) is read once, as last served.
- ``GET /repos/{owner}/{repo}/issues/{number}/events`` per changed issue, every page: the events
  ``labeled``, ``unlabeled``, ``closed`` and ``reopened`` make its states (below).
- ``GET /repos/{owner}/{repo}/deployments?environment=…`` with each deployment's statuses, and
  ``GET /repos/{owner}/{repo}/compare/{base}...{head}`` (or ``/commits/{sha}`` for the first
  deployment) for the commits each successful deployment shipped.

**Items.** The item id is the issue's numeric ``id``: it never changes, even when the issue is
transferred to another repository and back (its number does), so one issue stays one item. The
title is ``"#number title"``, the type ``"issue"`` or ``"pull request"``, the assignee the
first assignee's login.

**States.** An issue enters ``open_state`` when created. A ``labeled`` event with one of
``state_labels`` (compared without case) moves it to that state; an ``unlabeled`` event of it
moves it back to the state label added most recently and still on, else to ``open_state``.
``closed`` moves it to ``closed_state``; ``reopened`` back to its state label or ``open_state``.
Two moves at the same second keep the later one only (an issue created with a state label
starts in that state).

**Blockers** (``blocked_label``, from the stream's workflow). A ``labeled`` event of that label
(compared without case) blocks the issue from its ``created_at`` until the next ``unlabeled``
event of it (still blocked if none); the reason is the label as the workflow names it. They come
from the events already read for the states: no request more.

**Delivery (DORA).** Deployments to ``environment`` become
:class:`~obeya.core.delivery.records.Deployment` records (the environment recorded as
``production``). The result is the latest status that is not ``inactive`` (GitHub marks a
successful deployment inactive when the next one succeeds), its time the ``finished_at``;
deployments still ``queued``, ``pending`` or ``in_progress``, or without a status, are left for
a later sync (a note says how many). A pull with a ``since`` reads the deployments created or
updated since then (GitHub updates a deployment when a status is added). Each successful
deployment ships the commits between the furthest successful deployment before it and its own
``sha`` (``compare``, ``committer.date`` as the commit time); a rollback (``behind``) or a
redeploy ships nothing, so a commit is attributed to the deployment that first shipped it. The
first successful deployment ever ships its own head commit. Issues labelled
``incident_label`` become :class:`~obeya.core.delivery.records.Incident` records
(``created_at``, ``closed_at`` while closed).

**Project statuses** (``project_number``). Each changed issue's timeline is read from the
GraphQL API (:data:`TIMELINE_QUERY`, one query per issue and page of 100 events; pull requests
are not asked about). A status change on that project moves the issue to the status (named
like a configured state without case: that state); a cleared status or removal from the
project drops it, back to the state label or ``open_state``. Labels and statuses: the later
move wins; at one second the project status (events are applied first). An issue on the project
whose timeline holds no status change is named in the notes (GitHub has been reported to drop
these events since 2026-09-24). GraphQL ``errors`` (with HTTP 200) are a :class:`ConnectorError`.

**Actions runs** (``deploy_workflow``). The workflow's completed runs on the default branch,
created from :data:`RUN_LOOKBACK` before ``since`` on, are deployments ``run-{id}`` (finished at
``updated_at``; the result ``success`` or the conclusion), their changes compared as above from
the latest successful run created before that window.

**Conditional requests.** Every GET sends ``If-None-Match`` with the ``ETag`` of the last answer
to the same URL; a ``304 Not Modified`` (which GitHub does not count against the rate limit)
means nothing changed, and the answer kept from last time is used. :class:`SyncBatch` has no
field for ETags, so they are kept in the :class:`GitHubSource` object's memory, with the few
fields read of each answer: a new object (a new process) starts without them and reads
everything once. Rate limits (``X-RateLimit-Remaining: 0``, ``Retry-After``) are honoured by
:class:`~obeya.connectors.http.Http`.

Several helpers here (:func:`parse_time`, :func:`iso_seconds`, :func:`next_link`,
:class:`StateHistory`, :class:`EventRows`, :func:`proposed_workflow`) are shared with the
GitLab client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

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

#: Deployment status states of a deployment still under way: left for a later sync.
UNFINISHED = frozenset({"queued", "pending", "in_progress"})
#: How far before ``since`` a pull reads the deploy workflow's runs again: GitHub filters runs
#: by creation, so a run still going at one sync is read by the next (if it took under this).
RUN_LOOKBACK = timedelta(days=1)
#: Issue numbers named in a note, at most.
NOTE_NUMBERS = 10
#: One issue's project (v2) events, a page of its timeline (GitHub's GraphQL API).
TIMELINE_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      projectItems(first: 50) { nodes { project { number } } }
      timelineItems(first: 100, after: $cursor, itemTypes: [ADDED_TO_PROJECT_V2_EVENT,
          PROJECT_V2_ITEM_STATUS_CHANGED_EVENT, REMOVED_FROM_PROJECT_V2_EVENT]) {
        pageInfo { hasNextPage endCursor }
        nodes {
          __typename
          ... on AddedToProjectV2Event { createdAt project { number } }
          ... on ProjectV2ItemStatusChangedEvent {
            createdAt previousStatus status project { number }
          }
          ... on RemovedFromProjectV2Event { createdAt project { number } }
        }
      }
    }
  }
}
"""

Json = dict[str, Any]


# -- helpers shared with the GitLab client -----------------------------------------------------


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint beside its REST API: ``https://api.github.com/graphql``; for
    Enterprise Server (``https://HOST/api/v3``) ``https://HOST/api/graphql``."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return f"{base}/graphql"


@dataclass(frozen=True)
class GitHubConfig:
    """One repository to read. ``token`` (a personal access or app token; empty for a public
    repository) never appears in a repr, an error or a log."""

    name: str
    repo: str
    token: str = field(repr=False)
    api_url: str = "https://api.github.com"
    #: Labels that are workflow states ("In Progress", "Review"), in flow order.
    state_labels: tuple[str, ...] = ()
    open_state: str = "Open"
    closed_state: str = "Done"
    include_pull_requests: bool = True
    #: Issues with this label are incidents (DORA).
    incident_label: str = "incident"
    #: The deployment environment that is production.
    environment: str = PRODUCTION
    #: A GitHub project (v2) whose Status field gives the states (its number in the URL).
    project_number: int | None = None
    #: A workflow whose completed runs on the default branch are production deployments
    #: (its file name, ``deploy.yml``, or its numeric id).
    deploy_workflow: str | None = None
    #: The label that marks an issue blocked (the stream's workflow's ``blocked_label``).
    blocked_label: str | None = None

    def __post_init__(self) -> None:
        check_blocked_label(self.name, self.blocked_label)
        owner, _, name = self.repo.partition("/")
        if not owner or not name or "/" in name:
            raise InputError(
                f"connector {self.name!r}: repo {self.repo!r} must be owner/name, e.g. "
                "octocat/hello-world"
            )
        check_states(self.name, self.open_state, self.closed_state, self.state_labels)
        if self.project_number is not None and (
            isinstance(self.project_number, bool)
            or not isinstance(self.project_number, int)
            or self.project_number < 1
        ):
            raise InputError(
                f"connector {self.name!r}: project_number {self.project_number!r} must be a "
                "whole number from 1 (the N of github.com/orgs/ORG/projects/N)"
            )
        if self.deploy_workflow is not None and (
            not self.deploy_workflow.strip() or "/" in self.deploy_workflow
        ):
            raise InputError(
                f"connector {self.name!r}: deploy_workflow {self.deploy_workflow!r} must be a "
                "workflow's file name (deploy.yml, without .github/workflows/) or its id"
            )


@dataclass
class _Kept:
    """What is kept of an answer for the next ``If-None-Match``: its ETag, the fields read and
    the next page's address."""

    etag: str
    body: Any
    next_url: str | None


@dataclass
class _ProjectTimeline:
    """What an issue's timeline says of the configured project: its status moves in time
    order (None: no status, or taken off the project), how many status changes there were, and
    whether the issue is (or was) on the project."""

    moves: list[tuple[datetime, str | None]] = field(default_factory=list)
    status_changes: int = 0
    on_project: bool = False


@dataclass
class _Deployment:
    id: int
    sha: str
    created_at: datetime
    updated_at: datetime
    result: str | None = None
    finished_at: datetime | None = None


class GitHubSource(TrackerSource):
    """Pulls one repository's issues and deployments (see the module docstring)."""

    def __init__(
        self,
        config: GitHubConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.name = config.name
        self.tracker = "GitHub"
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "obeya",
        }
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self.http = Http(config.name, config.api_url, headers, transport=transport, sleep=sleep)
        self._repo = f"/repos/{config.repo}"
        self._kept: dict[str, _Kept] = {}
        self._state_labels = {label.casefold(): label for label in config.state_labels}
        # A project status named like a configured state (without case) is that state.
        self._named_states = {
            state.casefold(): state
            for state in (*config.state_labels, config.open_state, config.closed_state)
        }
        self._graphql_url = graphql_url(config.api_url)

    def __repr__(self) -> str:
        return f"GitHubSource(name={self.name!r}, repo={self.config.repo!r})"

    # -- the pull ---------------------------------------------------------------------------

    def _pull(self, since: datetime | None, progress: Progress | None) -> SyncBatch:
        started = utc_now()
        say = progress or (lambda _message: None)
        notes: list[str] = []
        issues = self._changed_issues(since, say)
        skipped_pulls = 0
        rows = EventRows()
        blockers: list[Blocker] = []
        incidents: list[Incident] = []
        statuses: list[tuple[datetime, str]] = []  # every project status seen, for the workflow
        without_status: list[int] = []  # issues on the project with no status change
        for count, issue in enumerate(issues, start=1):
            is_pull = issue["pull_request"]
            if is_pull and not self.config.include_pull_requests:
                skipped_pulls += 1
                continue
            events = self._issue_events(issue["number"])
            project = _ProjectTimeline()
            if self.config.project_number is not None and not is_pull:
                project = self._project_timeline(issue["number"])
                statuses.extend((at, status) for at, status in project.moves if status)
                if project.on_project and not project.status_changes:
                    without_status.append(issue["number"])
            history = self._history(issue, events, project.moves)
            rows.add(
                str(issue["id"]),
                history.entries,
                created=history.entries[0][0],
                type="pull request" if is_pull else "issue",
                title=f"#{issue['number']} {issue['title']}",
                assignee=issue["assignee"],
            )
            if self.config.blocked_label is not None:
                blockers.extend(self._blockers(str(issue["id"]), events))
            if not is_pull and self.config.incident_label.casefold() in issue["labels"]:
                incidents.append(
                    Incident(
                        incident_id=str(issue["id"]),
                        created_at=parse_time(issue["created_at"]),
                        resolved_at=(
                            parse_time(issue["closed_at"])
                            if issue["state"] == "closed" and issue["closed_at"]
                            else None
                        ),
                    )
                )
            if count % 50 == 0:
                say(f"{self.name}: histories of {count} of {len(issues)} issues read")
        if skipped_pulls:
            notes.append(f"{skipped_pulls} pull request(s) skipped (include_pull_requests is off)")
        if without_status:
            numbers = ", ".join(f"#{n}" for n in without_status[:NOTE_NUMBERS])
            more = ", …" if len(without_status) > NOTE_NUMBERS else ""
            notes.append(
                f"{len(without_status)} issue(s) on project {self.config.project_number} with no "
                f"status change in their GitHub timeline ({numbers}{more}): they keep their "
                "open, label and closed states. Either no status was ever set, or GitHub left "
                "the events out (reported to drop them from timelines since 2026-09-24)"
            )
        deployments, changes = self._deliveries(since, notes, say)
        if self.config.deploy_workflow is not None:
            run_deployments, run_changes = self._run_deliveries(since, say)
            deployments.extend(run_deployments)
            # A commit shipped by a GitHub deployment and by a run is kept once (the former).
            shipped = {change.change_id for change in changes}
            changes.extend(c for c in run_changes if c.change_id not in shipped)
        project_states = [status for _at, status in sorted(statuses, key=lambda s: s[0])]
        return SyncBatch(
            events=rows.log(f"github:{self.config.repo}"),
            checkpoint=checkpoint_of(
                [parse_time(issue["updated_at"]) for issue in issues], since, started
            ),
            items=rows.items,
            delivery=DeliveryHistory(
                deployments=tuple(deployments), changes=tuple(changes), incidents=tuple(incidents)
            ),
            proposed_workflow=proposed_workflow(
                self.config.open_state,
                (*self.config.state_labels, *project_states),
                self.config.closed_state,
                f"connector {self.name!r}",
            ),
            notes=tuple(notes),
            blockers=tuple(blockers),
        )

    # -- issues -----------------------------------------------------------------------------

    def _changed_issues(self, since: datetime | None, say: Progress) -> list[Json]:
        params: dict[str, Any] = {
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "per_page": PER_PAGE,
        }
        if since is not None:
            params["since"] = iso_seconds(since)
        latest: dict[int, Json] = {}
        for page, issues in enumerate(
            self._pages(f"{self._repo}/issues", params, _slim_issues), start=1
        ):
            for issue in issues:
                # Served again on a later page: it changed while we paged; keep the later.
                latest.pop(issue["id"], None)
                latest[issue["id"]] = issue
            say(f"{self.name}: issues page {page}, {len(latest)} read")
        return list(latest.values())

    def _issue_events(self, number: int) -> list[Json]:
        events: list[Json] = []
        for page in self._pages(
            f"{self._repo}/issues/{number}/events", {"per_page": PER_PAGE}, _slim_events
        ):
            events.extend(page)
        return events

    def _history(
        self,
        issue: Json,
        events: list[Json],
        project_moves: Sequence[tuple[datetime, str | None]] = (),
    ) -> StateHistory:
        """The issue's states from its events and its project status moves, in time order;
        at one instant the events (labels, closed, reopened) first, then the project status,
        so a project status and a state label set at the same second leave the item in the
        project status."""
        moves: list[tuple[datetime, int, int, Json]] = [
            (parse_time(e["created_at"]), 0, e["id"], e) for e in events
        ]
        moves.extend(
            (at, 1, index, {"event": "project status", "status": status})
            for index, (at, status) in enumerate(project_moves)
        )
        moves.sort(key=lambda move: (move[0], move[1], move[2]))
        created = parse_time(issue["created_at"])
        if moves and moves[0][0] < created:
            created = moves[0][0]
        history = StateHistory(created, self.config.open_state, self.config.closed_state)
        for at, _source, _id, event in moves:
            kind = event["event"]
            if kind == "project status":
                history.status_changed(at, event["status"])
                continue
            state = self._state_labels.get((event["label"] or "").casefold())
            if kind == "labeled" and state:
                history.label_added(at, state)
            elif kind == "unlabeled" and state:
                history.label_removed(at, state)
            elif kind == "closed":
                history.closed(at)
            elif kind == "reopened":
                history.reopened(at)
        return history

    def _blockers(self, item_id: str, events: list[Json]) -> list[Blocker]:
        """The issue's blockers from the ``labeled``/``unlabeled`` events of the blocked label."""
        label = str(self.config.blocked_label)
        wanted = label.casefold()
        changes = sorted(
            (parse_time(e["created_at"]), e["id"], e["event"] == "labeled")
            for e in events
            if e["event"] in ("labeled", "unlabeled") and (e["label"] or "").casefold() == wanted
        )
        return label_blockers(item_id, [(at, added) for at, _id, added in changes], label)

    # -- project (v2) statuses, GitHub's GraphQL API ----------------------------------------

    def _project_timeline(self, number: int) -> _ProjectTimeline:
        """Issue ``number``'s events on the configured project, every page of its timeline
        (one query per issue and page)."""
        project = self.config.project_number
        owner, _, name = self.config.repo.partition("/")
        found = _ProjectTimeline()
        cursor: str | None = None
        while True:
            data = self._graphql(
                TIMELINE_QUERY, {"owner": owner, "name": name, "number": number, "cursor": cursor}
            )
            issue = (data.get("repository") or {}).get("issue")
            if issue is None:
                return found  # not an issue (any more): nothing on the project
            items = (issue.get("projectItems") or {}).get("nodes") or []
            if any(_project_number(item) == project for item in items):
                found.on_project = True
            timeline = issue["timelineItems"]
            for node in timeline["nodes"]:
                if _project_number(node) != project:
                    continue  # another project's, or one the token may not read
                kind = node["__typename"]
                at = parse_time(node["createdAt"])
                if kind == "AddedToProjectV2Event":
                    found.on_project = True
                elif kind == "ProjectV2ItemStatusChangedEvent":
                    found.status_changes += 1
                    status = str(node["status"] or "").strip()
                    found.moves.append(
                        (at, self._named_states.get(status.casefold(), status) or None)
                    )
                elif kind == "RemovedFromProjectV2Event":
                    found.moves.append((at, None))
            if not timeline["pageInfo"]["hasNextPage"]:
                return found
            cursor = timeline["pageInfo"]["endCursor"]

    def _graphql(self, query: str, variables: Mapping[str, Any]) -> Json:
        """The ``data`` of a GraphQL answer; its ``errors`` (which GitHub sends with HTTP 200)
        as a :class:`ConnectorError`."""
        what = f"POST {self._graphql_url}"
        response = self.http.post_json(
            self._graphql_url, {"query": query, "variables": dict(variables)}
        )
        body = response_json(response, self.name, what)
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            reason = "; ".join(
                str(error.get("message", error)) if isinstance(error, dict) else str(error)
                for error in errors
            )[:300]
            raise ConnectorError(
                self.name,
                f"{what}: GitHub's GraphQL API answered with an error: {reason}",
                status=response.status_code,
                reason=reason,
            )
        data = body["data"]
        if not isinstance(data, dict):
            raise TypeError("a GraphQL answer without data")
        return data

    # -- deployments, changes ---------------------------------------------------------------

    def _deliveries(
        self, since: datetime | None, notes: list[str], say: Progress
    ) -> tuple[list[Deployment], list[Change]]:
        listed: list[_Deployment] = []
        for page in self._pages(
            f"{self._repo}/deployments",
            {"environment": self.config.environment, "per_page": PER_PAGE},
            _slim_deployments,
        ):
            listed.extend(
                _Deployment(
                    d["id"], d["sha"], parse_time(d["created_at"]), parse_time(d["updated_at"])
                )
                for d in page
            )
        listed.sort(key=lambda d: (d.created_at, d.id))
        window = [d for d in listed if since is None or max(d.created_at, d.updated_at) >= since]
        if not window:
            return [], []
        say(f"{self.name}: statuses of {len(window)} deployment(s)")
        unfinished = 0
        records: list[Deployment] = []
        for deployment in window:
            self._settle(deployment)
            if deployment.result is None or deployment.finished_at is None:
                unfinished += 1
                continue
            records.append(
                Deployment(
                    deployment_id=str(deployment.id),
                    environment=PRODUCTION,
                    finished_at=deployment.finished_at,
                    result=deployment.result,
                )
            )
        if unfinished:
            notes.append(
                f"{unfinished} deployment(s) not finished yet (no final status); a later sync "
                "reads them"
            )
        base = self._shipped_before(listed, window[0])
        return records, self._changes(window, base)

    def _run_deliveries(
        self, since: datetime | None, say: Progress
    ) -> tuple[list[Deployment], list[Change]]:
        """The deploy workflow's completed runs on the default branch as deployments
        (``run-{id}``), and the commits each successful one shipped first."""
        workflow = quote(str(self.config.deploy_workflow), safe="")
        runs_path = f"{self._repo}/actions/workflows/{workflow}/runs"
        repo, _next = self._get(self._repo, None, _slim_repo)
        branch = repo["default_branch"]
        params: dict[str, Any] = {"branch": branch, "status": "completed", "per_page": PER_PAGE}
        start = None if since is None else since - RUN_LOOKBACK
        if start is not None:
            params["created"] = f">={iso_seconds(start)}"
        served: dict[int, Json] = {}
        for page in self._pages(runs_path, params, _slim_runs):
            served.update((run["id"], run) for run in page)
        # GitHub filters by status=completed already; a run under way is left for later.
        runs = [r for r in served.values() if r["status"] == "completed" and r["conclusion"]]
        say(f"{self.name}: {len(runs)} run(s) of {self.config.deploy_workflow}")
        window = [
            _Deployment(
                run["id"],
                run["head_sha"],
                parse_time(run["created_at"]),
                parse_time(run["updated_at"]),
                result="success" if run["conclusion"] == "success" else str(run["conclusion"]),
                finished_at=parse_time(run["updated_at"]),
            )
            for run in runs
        ]
        records = [
            Deployment(
                deployment_id=f"run-{run.id}",
                environment=PRODUCTION,
                finished_at=run.finished_at,
                result=str(run.result),
            )
            for run in window
            if run.finished_at is not None
        ]
        base = None if start is None else self._run_shipped_before(runs_path, branch, start)
        return records, self._changes(window, base, prefix="run-")

    def _run_shipped_before(self, runs_path: str, branch: str, start: datetime) -> str | None:
        """The head commit of the latest successful run created before ``start`` (GitHub
        lists runs newest first), the base of the first comparison; None if none."""
        params = {
            "branch": branch,
            "status": "success",
            "created": f"<{iso_seconds(start)}",
            "per_page": 1,
        }
        body, _next = self._get(runs_path, params, _slim_runs)
        return str(body[0]["head_sha"]) if body else None

    def _settle(self, deployment: _Deployment) -> None:
        """Set the result and time of a deployment from its latest status that is not
        ``inactive``; leave them None while it is under way."""
        statuses: list[Json] = []
        for page in self._pages(
            f"{self._repo}/deployments/{deployment.id}/statuses",
            {"per_page": PER_PAGE},
            _slim_statuses,
        ):
            statuses.extend(page)
        final = [s for s in statuses if s["state"] != "inactive"] or statuses
        if not final:
            return
        latest = max(final, key=lambda s: (parse_time(s["created_at"]), s["id"]))
        if latest["state"] in UNFINISHED:
            return
        deployment.result = str(latest["state"])
        deployment.finished_at = parse_time(latest["created_at"])

    def _shipped_before(self, listed: list[_Deployment], first: _Deployment) -> str | None:
        """The sha of the latest successful deployment created before ``first`` (the base of
        the first comparison), or None if there was none."""
        for earlier in reversed(listed[: listed.index(first)]):
            self._settle(earlier)
            if earlier.result == "success":
                return earlier.sha
        return None

    def _changes(
        self, window: list[_Deployment], base: str | None, prefix: str = ""
    ) -> list[Change]:
        """The commits each successful deployment of ``window`` shipped first, compared with
        ``base`` (the sha deployed before; None: the first ships its own head commit). The
        deployment ids are ``prefix`` and the id."""
        successes = sorted(
            (d for d in window if d.result == "success" and d.finished_at is not None),
            key=lambda d: (d.finished_at, d.id),
        )
        shipped: set[str] = set()
        changes: list[Change] = []
        for deployment in successes:
            if base is None:
                commits = [self._commit(deployment.sha)]
            elif base == deployment.sha:
                commits = []  # a redeploy ships nothing new
            else:
                status, commits = self._compare(base, deployment.sha)
                if status in ("behind", "identical"):
                    continue  # a rollback: nothing new, and the furthest point stays
            base = deployment.sha
            for sha, committed_at in commits:
                if sha in shipped:
                    continue
                shipped.add(sha)
                changes.append(Change(sha, committed_at, f"{prefix}{deployment.id}"))
        return changes

    def _commit(self, sha: str) -> tuple[str, datetime]:
        body, _next = self._get(f"{self._repo}/commits/{sha}", None, _slim_commit)
        return body["sha"], parse_time(body["date"])

    def _compare(self, base: str, head: str) -> tuple[str, list[tuple[str, datetime]]]:
        status = ""
        commits: list[tuple[str, datetime]] = []
        for number, page in enumerate(
            self._pages(
                f"{self._repo}/compare/{base}...{head}", {"per_page": PER_PAGE}, _slim_compare
            )
        ):
            if number == 0:
                status = page["status"]
            commits.extend((c["sha"], parse_time(c["date"])) for c in page["commits"])
        return status, commits

    # -- requests ---------------------------------------------------------------------------

    def _pages(
        self, path: str, params: Mapping[str, Any], slim: Callable[[Any], Any]
    ) -> Iterator[Any]:
        """Each page's fields read, following ``Link: rel="next"``."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        while url is not None:
            body, url = self._get(url, query, slim)
            query = None  # the next address carries its query
            yield body

    def _get(
        self, url: str, params: Mapping[str, Any] | None, slim: Callable[[Any], Any]
    ) -> tuple[Any, str | None]:
        """``slim`` of the answer and the next page's address; with ``If-None-Match`` when an
        answer to the same URL is kept, and the kept one used on ``304``."""
        key = f"{url}?{urlencode(sorted((params or {}).items()))}"
        kept = self._kept.get(key)
        headers = {"If-None-Match": kept.etag} if kept else None
        response = self.http.get(url, params, headers)
        if response.status_code == 304:
            if kept is None:
                raise ConnectorError(
                    self.name, f"GET {url}: HTTP 304 to a request that was not conditional"
                )
            return kept.body, kept.next_url
        body = slim(response_json(response, self.name, f"GET {url}"))
        next_url = next_link(response, self.config.api_url, self.name)
        etag = response.headers.get("etag")
        if etag:
            self._kept[key] = _Kept(etag, body, next_url)
        return body, next_url


# -- the fields read of each answer (kept small: they are held for the next If-None-Match) ----


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, dict) and user.get("login") else None


def _slim_issues(body: Any) -> list[Json]:
    return [
        {
            "id": issue["id"],
            "number": issue["number"],
            "title": issue["title"],
            "state": issue["state"],
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_at": issue.get("closed_at"),
            "labels": [str(label["name"]).casefold() for label in issue.get("labels") or []],
            "assignee": _login(issue.get("assignee"))
            or next((_login(a) for a in issue.get("assignees") or []), None),
            "pull_request": bool(issue.get("pull_request")),
        }
        for issue in body
    ]


def _slim_events(body: Any) -> list[Json]:
    return [
        {
            "id": event["id"],
            "event": event["event"],
            "created_at": event["created_at"],
            "label": (event.get("label") or {}).get("name"),
        }
        for event in body
        if event["event"] in ("labeled", "unlabeled", "closed", "reopened")
    ]


def _project_number(node: Any) -> int | None:
    """The number of a timeline event's or project item's project (None: not readable)."""
    project = node.get("project") if isinstance(node, dict) else None
    return int(project["number"]) if isinstance(project, dict) else None


def _slim_repo(body: Any) -> Json:
    return {"default_branch": str(body["default_branch"])}


def _slim_runs(body: Any) -> list[Json]:
    return [
        {
            "id": run["id"],
            "head_sha": run["head_sha"],
            "status": run["status"],
            "conclusion": run.get("conclusion"),
            "created_at": run["created_at"],
            "updated_at": run["updated_at"],
        }
        for run in body["workflow_runs"]
    ]


def _slim_deployments(body: Any) -> list[Json]:
    return [
        {
            "id": d["id"],
            "sha": d["sha"],
            "created_at": d["created_at"],
            "updated_at": d.get("updated_at") or d["created_at"],
        }
        for d in body
    ]


def _slim_statuses(body: Any) -> list[Json]:
    return [{"id": s["id"], "state": s["state"], "created_at": s["created_at"]} for s in body]


def _slim_commit(body: Any) -> Json:
    return {"sha": body["sha"], "date": body["commit"]["committer"]["date"]}


def _slim_compare(body: Any) -> Json:
    return {
        "status": body["status"],
        "commits": [
            {"sha": c["sha"], "date": c["commit"]["committer"]["date"]} for c in body["commits"]
        ],
    }
