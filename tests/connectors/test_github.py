"""The GitHub client against the recorded repository ``octo/shop`` (recordings/github).

The recording, worked by hand (times 2024, UTC; issues as GitHub lists them, by update):

====  =====  ===============================================  ======================
id    #      events (labels In Progress / Review are states)  updated
====  =====  ===============================================  ======================
2002  #2     created 03-03 08:00, +incident 08:00,            03-03 11:00
             +In Progress 08:30, closed 11:00
2001  #1     created 03-01 09:00, +bug 09:00, +In Progress    03-05 12:00
             03-02 10:00, +Review 03-04 15:00, -In Progress
             15:01, closed 03-05 12:00
2003  #3     created 03-04 09:00, +In Progress 10:00, closed  03-06 11:00
             03-05 09:00, reopened 03-06 09:00, -In Progress
             11:00
2004  #4 PR  created 03-06 12:00, merged + closed 03-07 09:00  03-07 09:00
2005  #5     created 03-07 10:00, nothing since               03-08 08:00
====  =====  ===============================================  ======================

Production deployments (the fake lists 4 a page, newest first; 9005 is staging):
9001 aaa1 success 03-01 12:05 (inactive since 03-07); 9002 bbb2 failure 03-05 12:05;
9003 ccc3 success 03-07 12:10; 9004 aaa1 success 03-08 09:05 (a rollback);
9006 ddd4 success 03-09 10:05.

Project 7's timelines over GraphQL (the fake serves 2 nodes a page): #2 added 03-03 08:00,
status Todo 08:05, Doing 08:30, Done 11:00; #3 added 03-04 09:05, no status; #5 added and Todo
03-07 10:00, Doing 16:00, removed 03-08 08:00; #1 is on project 3 only (Backlog, Ready).

Runs of deploy.yml (the fake lists 3 a page, newest first), updated = finished:
7001 main aaa1 success 03-01 12:04; 7002 main bbb2 failure 03-05 12:02; 7003 main ccc3 success
03-07 12:08; 7004 feature/search success 03-08 12:06; 7005 main ddd4 cancelled 03-09 08:03;
7006 main ddd4 success 03-09 09:58; 7007 main ddd4 in progress since 03-09 11:00.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from connectors.fake_git_trackers import GITHUB_REPO, TOKEN, FakeTracker, github_fake, serve
from obeya.connectors.base import SyncBatch
from obeya.connectors.github import GitHubConfig, GitHubSource, graphql_url
from obeya.core.events import from_micros
from obeya.errors import ConnectorError, InputError

REPO = f"/repos/{GITHUB_REPO}"
SHA = {k: k + "0" * 35 + k[-1] for k in ("aaa1", "bbb2", "ccc3", "ddd4")}


@pytest.fixture
def fake() -> FakeTracker:
    return github_fake()


def source(fake: FakeTracker, sleeps: list[float] | None = None, **settings: Any) -> GitHubSource:
    config = GitHubConfig(
        "shop", GITHUB_REPO, TOKEN, state_labels=("In Progress", "Review"), **settings
    )
    waits: list[float] = [] if sleeps is None else sleeps
    return GitHubSource(config, transport=fake.transport(), sleep=waits.append)


def histories(batch: SyncBatch) -> dict[str, list[tuple[str, str]]]:
    """item → [(state, "MM-DD HH:MM")], in seq order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for row in sorted(batch.events.table.to_pylist(), key=lambda r: r["seq"]):
        moment = from_micros(row["t"]).strftime("%m-%d %H:%M")
        out.setdefault(row["item_id"], []).append((row["state"], moment))
    return out


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2024-{text}:00+00:00")


# -- issues ---------------------------------------------------------------------------------


def test_pull_reads_every_page_and_builds_each_history(fake: FakeTracker) -> None:
    messages: list[str] = []
    batch = source(fake).pull(None, messages.append)

    # 5 issues, 2 a page: pages 1, 2, 3 followed by the Link header.
    pages = [s.params.get("page") for s in fake.seen(f"{REPO}/issues")]
    assert pages == [None, "2", "3"]
    # Issue #1 has 5 events, 3 a page: two pages.
    assert [s.params.get("page") for s in fake.seen(f"{REPO}/issues/1/events")] == [None, "2"]
    assert messages[:3] == [
        "shop: issues page 1, 2 read",
        "shop: issues page 2, 4 read",
        "shop: issues page 3, 5 read",
    ]
    assert histories(batch) == {
        # +incident is not a state label; +In Progress moves it; closed → Done.
        "2002": [("Open", "03-03 08:00"), ("In Progress", "03-03 08:30"), ("Done", "03-03 11:00")],
        # +Review while In Progress is on: Review (added last); -In Progress then changes
        # nothing; +bug is no state.
        "2001": [
            ("Open", "03-01 09:00"),
            ("In Progress", "03-02 10:00"),
            ("Review", "03-04 15:00"),
            ("Done", "03-05 12:00"),
        ],
        # Reopened with In Progress still on: back to In Progress; -In Progress: Open.
        "2003": [
            ("Open", "03-04 09:00"),
            ("In Progress", "03-04 10:00"),
            ("Done", "03-05 09:00"),
            ("In Progress", "03-06 09:00"),
            ("Open", "03-06 11:00"),
        ],
        "2004": [("Open", "03-06 12:00"), ("Done", "03-07 09:00")],
        "2005": [("Open", "03-07 10:00")],
    }
    assert batch.items == 5
    # The latest updated_at seen: #5's.
    assert batch.checkpoint == at("03-08 08:00")
    rows = {r["item_id"]: r for r in batch.events.table.to_pylist()}
    assert rows["2002"]["title"] == "#2 Checkout times out"
    assert rows["2002"]["assignee"] == "ben"
    assert rows["2005"]["assignee"] is None
    assert rows["2004"]["type"] == "pull request"
    assert rows["2001"]["type"] == "issue"
    assert from_micros(rows["2001"]["created"]) == at("03-01 09:00")
    workflow = batch.proposed_workflow
    assert workflow is not None
    assert workflow.active == ("Open", "In Progress", "Review")
    assert workflow.done == ("Done",)
    assert batch.notes == ()


def test_first_request_asks_for_every_state_by_update_since_in_utc(fake: FakeTracker) -> None:
    # 13:00 at +01:00 is 12:00 UTC; seconds are what GitHub's since takes.
    since = datetime(2024, 3, 5, 13, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=1)))
    batch = source(fake).pull(since)

    first = fake.seen(f"{REPO}/issues")[0]
    assert first.params == {
        "state": "all",
        "sort": "updated",
        "direction": "asc",
        "per_page": "100",
        "since": "2024-03-05T12:00:00Z",
    }
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["x-github-api-version"] == "2022-11-28"
    # Updated at or after 12:00: #1 (exactly 12:00), #3, #4, #5; not #2.
    assert sorted(histories(batch)) == ["2001", "2003", "2004", "2005"]


def test_pull_requests_are_left_out_when_asked(fake: FakeTracker) -> None:
    batch = source(fake, include_pull_requests=False).pull(None)
    assert "2004" not in histories(batch)
    assert batch.items == 4
    assert batch.notes == ("1 pull request(s) skipped (include_pull_requests is off)",)
    assert not fake.seen(f"{REPO}/issues/4/events")


def test_an_issue_served_twice_or_renumbered_stays_one_item(fake: FakeTracker) -> None:
    # #1 was transferred to another repository and back while the sync paged: GitHub kept its
    # id, gave it the number 9, and (updated last) serves it again on the last page.
    issues = fake.lists[f"{REPO}/issues"]
    moved = {**issues[1], "number": 9, "updated_at": "2024-03-09T08:00:00Z"}
    issues.append(moved)
    fake.routes[f"{REPO}/issues/9/events"] = {"list": "issue_1_events.json", "page_size": 3}
    fake.lists[f"{REPO}/issues/9/events"] = fake.load("issue_1_events.json")

    batch = source(fake).pull(None)

    assert batch.items == 5
    history = histories(batch)["2001"]
    assert [state for state, _ in history] == ["Open", "In Progress", "Review", "Done"]
    titles = {r["title"] for r in batch.events.table.to_pylist() if r["item_id"] == "2001"}
    assert titles == {"#9 Add search box"}
    assert batch.checkpoint == at("03-09 08:00")


def test_an_issue_created_with_a_state_label_starts_in_that_state(fake: FakeTracker) -> None:
    events = fake.lists[f"{REPO}/issues/5/events"]
    labeled = {**fake.lists[f"{REPO}/issues/2/events"][2], "id": 30051}
    events.append({**labeled, "created_at": "2024-03-07T10:00:00Z"})
    assert histories(source(fake).pull(None))["2005"] == [("In Progress", "03-07 10:00")]


# -- rate limits, errors and secrets --------------------------------------------------------


def test_429_mid_paging_waits_as_told_and_reads_on(fake: FakeTracker) -> None:
    fake.fail(f"{REPO}/issues", 429, headers={"Retry-After": "7"}, query={"page": "2"})
    sleeps: list[float] = []
    batch = source(fake, sleeps).pull(None)
    assert sleeps == [7.0]
    assert batch.items == 5
    assert [s.status for s in fake.seen(f"{REPO}/issues")] == [200, 429, 200, 200]


def test_a_spent_rate_limit_403_waits_until_the_reset(fake: FakeTracker) -> None:
    reset = int(time.time()) + 30
    fake.fail(
        f"{REPO}/issues/3/events",
        403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        body=fake.load("rate_limited.json"),
    )
    sleeps: list[float] = []
    batch = source(fake, sleeps).pull(None)
    # Waits until the reset: 30 s less the (short) time the test took to get there.
    assert len(sleeps) == 1 and 27.0 <= sleeps[0] <= 30.0
    assert batch.items == 5


def test_a_secondary_rate_limit_403_waits_retry_after(fake: FakeTracker) -> None:
    fake.fail(f"{REPO}/deployments", 403, headers={"Retry-After": "60"})
    sleeps: list[float] = []
    source(fake, sleeps).pull(None)
    assert sleeps == [60.0]


def test_bad_credentials_name_the_connector_and_not_the_token(fake: FakeTracker) -> None:
    wrong = "ghp_WrongTokenAlsoSecret"
    config = GitHubConfig("shop", GITHUB_REPO, wrong)
    with pytest.raises(ConnectorError) as caught:
        GitHubSource(config, transport=fake.transport()).pull(None)
    error = caught.value
    assert error.status == 401
    assert str(error) == (
        "connector 'shop': GET /repos/octo/shop/issues: HTTP 401, the tracker refused the "
        "credentials (check the token and, for Jira Cloud, the e-mail): Bad credentials"
    )
    assert wrong not in str(error) and wrong not in repr(error)


def test_an_unknown_repository_is_a_404_naming_it(fake: FakeTracker) -> None:
    config = GitHubConfig("shop", "octo/nothing", TOKEN)
    with pytest.raises(ConnectorError, match=r"/repos/octo/nothing/issues: HTTP 404, not found"):
        GitHubSource(config, transport=fake.transport()).pull(None)


def test_server_errors_that_persist_fail_the_pull(fake: FakeTracker) -> None:
    fake.fail(f"{REPO}/issues", 502, query={"page": "2"}, times=100)
    sleeps: list[float] = []
    with pytest.raises(ConnectorError, match="HTTP 502, the tracker failed") as caught:
        source(fake, sleeps).pull(None)
    assert caught.value.status == 502
    # 6 attempts, backing off 1, 2, 4, 8, 16 s between them.
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_token_is_in_no_repr_error_or_log(
    fake: FakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = source(fake)
    assert TOKEN not in repr(shop.config)
    assert TOKEN not in repr(shop)
    assert TOKEN not in repr(shop.http)
    fake.fail(f"{REPO}/issues", 429, headers={"Retry-After": "1"})
    shop.pull(None)
    fake.fail(f"{REPO}/issues", 500, times=100)
    with pytest.raises(ConnectorError) as caught:
        shop.pull(None)
    assert TOKEN not in str(caught.value)
    assert "waiting" in caplog.text  # the retries were logged
    assert TOKEN not in caplog.text


def test_a_next_link_to_another_host_is_refused(fake: FakeTracker) -> None:
    fake.base_url = "https://elsewhere.example.com"  # the fake's Link headers point there
    with pytest.raises(ConnectorError, match=r"next page is at another address"):
        source(fake).pull(None)
    assert len(fake.seen(f"{REPO}/issues")) == 1


def test_a_repo_must_be_owner_and_name() -> None:
    with pytest.raises(InputError, match=r"repo 'shop' must be owner/name"):
        GitHubConfig("shop", "shop", TOKEN)
    with pytest.raises(InputError, match=r"state label 'done' is also the open or closed"):
        GitHubConfig("shop", GITHUB_REPO, TOKEN, state_labels=("done",))


# -- conditional requests -------------------------------------------------------------------


def test_a_pull_with_nothing_changed_is_answered_304_and_adds_nothing(
    fake: FakeTracker,
) -> None:
    shop = source(fake)
    first = shop.pull(None)
    asked = len(fake.requests)

    second = shop.pull(first.checkpoint)
    again = fake.requests[asked:]
    # The issues list with the new since is a new URL; every other request repeats one of the
    # first pull's, sends its ETag and is answered 304 Not Modified.
    listing, *repeated = again
    assert listing.path == f"{REPO}/issues" and listing.status == 200
    assert "if-none-match" not in listing.headers
    assert repeated and all(s.headers.get("if-none-match") for s in repeated)
    assert {s.status for s in repeated} == {304}
    # Only #5 was updated at or after the checkpoint: its whole history again, which the
    # store holds already; the deployments and changes since then are the first pull's too.
    assert histories(second) == {"2005": [("Open", "03-07 10:00")]}
    assert set(second.events.table.column("t").to_pylist()) <= set(
        first.events.table.column("t").to_pylist()
    )
    assert set(second.delivery.deployments) <= set(first.delivery.deployments)
    assert set(second.delivery.changes) <= set(first.delivery.changes)
    assert second.checkpoint == first.checkpoint

    # The same pull once more: now the issues list is a repeat too; every answer is a 304.
    asked = len(fake.requests)
    third = shop.pull(first.checkpoint)
    assert {s.status for s in fake.requests[asked:]} == {304}
    assert histories(third) == histories(second)


# -- deployments, changes, incidents --------------------------------------------------------


def test_deployments_changes_and_incidents(fake: FakeTracker) -> None:
    delivery = source(fake).pull(None).delivery

    environments = {s.params.get("environment") for s in fake.seen(f"{REPO}/deployments")}
    assert environments == {"production"}
    results = {
        d.deployment_id: (d.result, d.finished_at.strftime("%m-%d %H:%M"), d.counts)
        for d in delivery.deployments
    }
    assert results == {
        # 9001's latest status is 'inactive' (9003 succeeded after it): its success counts.
        "9001": ("success", "03-01 12:05", True),
        "9002": ("failure", "03-05 12:05", False),
        "9003": ("success", "03-07 12:10", True),
        "9004": ("success", "03-08 09:05", True),
        "9006": ("success", "03-09 10:05", True),
    }
    assert {d.environment for d in delivery.deployments} == {"production"}
    changes = {c.change_id: (c.deployment_id, c.committed_at) for c in delivery.changes}
    assert changes == {
        # The first successful deployment ships its own head commit.
        SHA["aaa1"]: ("9001", at("03-01 11:00")),
        # bbb2 was in the failed 9002: 9003 shipped it first (compare aaa1...ccc3). Its
        # committer date, 11:00 at +01:00, is 10:00 UTC.
        SHA["bbb2"]: ("9003", at("03-05 10:00")),
        SHA["ccc3"]: ("9003", at("03-07 11:30")),
        # 9004 rolled back to aaa1 (compare ccc3...aaa1 is 'behind': nothing new), so 9006 is
        # compared with ccc3, the furthest deployed, and ships ddd4 only.
        SHA["ddd4"]: ("9006", at("03-09 09:00")),
    }
    assert not fake.seen(f"{REPO}/compare/{SHA['aaa1']}...{SHA['ddd4']}")
    assert [(i.incident_id, i.created_at, i.resolved_at) for i in delivery.incidents] == [
        ("2002", at("03-03 08:00"), at("03-03 11:00"))
    ]


def test_a_pull_since_reads_the_deployments_since_and_the_one_before(
    fake: FakeTracker,
) -> None:
    delivery = source(fake).pull(datetime(2024, 3, 8, tzinfo=UTC)).delivery
    # Created or updated since 03-08: 9003 (updated 03-08 09:05), 9004, 9006.
    assert sorted(d.deployment_id for d in delivery.deployments) == ["9003", "9004", "9006"]
    # The base of the first comparison: walking back, 9002 failed, 9001 succeeded (aaa1).
    assert fake.seen(f"{REPO}/deployments/9002/statuses")
    assert fake.seen(f"{REPO}/deployments/9001/statuses")
    assert {c.change_id: c.deployment_id for c in delivery.changes} == {
        SHA["bbb2"]: "9003",
        SHA["ccc3"]: "9003",
        SHA["ddd4"]: "9006",
    }
    assert delivery.incidents == ()  # #2 was last updated 03-03


def test_unfinished_deployments_wait_for_a_later_sync(fake: FakeTracker) -> None:
    statuses = fake.lists[f"{REPO}/deployments/9006/statuses"]
    del statuses[0]  # 9006 is still in progress
    batch = source(fake).pull(None)
    assert "9006" not in {d.deployment_id for d in batch.delivery.deployments}
    assert SHA["ddd4"] not in {c.change_id for c in batch.delivery.changes}
    assert batch.notes == (
        "1 deployment(s) not finished yet (no final status); a later sync reads them",
    )


# -- project (v2) statuses ------------------------------------------------------------------


def test_project_statuses_are_states_at_their_times(fake: FakeTracker) -> None:
    config = GitHubConfig("shop", GITHUB_REPO, TOKEN, project_number=7)
    batch = GitHubSource(config, transport=fake.transport()).pull(None)

    history = histories(batch)
    # #2: created 08:00 (Open); Todo 08:05; Doing 08:30; closed at 11:00 (and Done on the
    # board at the same second: Done either way).
    assert history["2002"] == [
        ("Open", "03-03 08:00"),
        ("Todo", "03-03 08:05"),
        ("Doing", "03-03 08:30"),
        ("Done", "03-03 11:00"),
    ]
    # #5: created 10:00 and Todo at the same second: starts in Todo; Doing 16:00; taken off
    # the project 03-08 08:00: back to Open.
    assert history["2005"] == [
        ("Todo", "03-07 10:00"),
        ("Doing", "03-07 16:00"),
        ("Open", "03-08 08:00"),
    ]
    # #1's statuses are project 3's: ignored (no state labels here: Open, then closed).
    assert history["2001"] == [("Open", "03-01 09:00"), ("Done", "03-05 12:00")]
    # One query per issue and page; pull requests (#4) are not asked about.
    numbers = [s.body["variables"]["number"] for s in fake.seen("/graphql")]
    assert sorted(set(numbers)) == [1, 2, 3, 5]
    first = fake.seen("/graphql")[0]
    assert first.body["variables"]["owner"] == "octo"
    assert first.body["variables"]["name"] == "shop"
    assert "PROJECT_V2_ITEM_STATUS_CHANGED_EVENT" in first.body["query"]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    # The statuses are active states after Open, in the order first seen; Done (the closed
    # state) stays done.
    workflow = batch.proposed_workflow
    assert workflow is not None
    assert workflow.active == ("Open", "Todo", "Doing")
    assert workflow.done == ("Done",)


def test_labels_and_project_statuses_together_the_later_wins(fake: FakeTracker) -> None:
    # #5 gets the In Progress label at 12:00, between its Todo (10:00) and Doing (16:00).
    labeled = {**fake.lists[f"{REPO}/issues/2/events"][2], "id": 30052}
    fake.lists[f"{REPO}/issues/5/events"].append({**labeled, "created_at": "2024-03-07T12:00:00Z"})
    history = histories(source(fake, project_number=7).pull(None))
    # #2: +In Progress and the status Doing both at 08:30: the project status wins.
    assert history["2002"] == [
        ("Open", "03-03 08:00"),
        ("Todo", "03-03 08:05"),
        ("Doing", "03-03 08:30"),
        ("Done", "03-03 11:00"),
    ]
    # #5: the label at 12:00 is later than Todo: In Progress; Doing at 16:00 is later still;
    # off the project at 03-08 08:00, the label still on decides: In Progress.
    assert history["2005"] == [
        ("Todo", "03-07 10:00"),
        ("In Progress", "03-07 12:00"),
        ("Doing", "03-07 16:00"),
        ("In Progress", "03-08 08:00"),
    ]
    # #1 keeps its label history (project 3 is not the configured one).
    assert [state for state, _ in history["2001"]] == ["Open", "In Progress", "Review", "Done"]


def test_the_timeline_is_read_page_after_page(fake: FakeTracker) -> None:
    source(fake, project_number=7).pull(None)
    asked = [s.body["variables"] for s in fake.seen("/graphql")]
    # #2 has 4 nodes, 2 a page: the second query asks after the first page's endCursor.
    cursors = [v["cursor"] for v in asked if v["number"] == 2]
    assert cursors == [None, "Y3Vyc29yOnYyOjI="]  # base64 of "cursor:v2:2"
    # #3's single node fits one page; #1's 3 nodes take two.
    assert [v["cursor"] for v in asked if v["number"] == 3] == [None]
    assert len([v for v in asked if v["number"] == 1]) == 2


def test_an_issue_on_the_project_without_status_events_is_noted(fake: FakeTracker) -> None:
    batch = source(fake, project_number=7).pull(None)
    # #3 was added to project 7 (and is on it) but its timeline has no status change; #1 is
    # on project 3 only, #5 and #2 have statuses: only #3 is named.
    assert batch.notes == (
        "1 issue(s) on project 7 with no status change in their GitHub timeline (#3): they "
        "keep their open, label and closed states. Either no status was ever set, or GitHub "
        "left the events out (reported to drop them from timelines since 2026-09-24)",
    )
    # Its label history stands: In Progress, Done, In Progress, Open.
    assert [state for state, _ in histories(batch)["2003"]] == [
        "Open",
        "In Progress",
        "Done",
        "In Progress",
        "Open",
    ]


def test_a_graphql_error_answer_fails_the_pull_naming_the_connector(fake: FakeTracker) -> None:
    # GitHub answers GraphQL errors with HTTP 200 and "errors".
    fake.fail(
        "/graphql",
        200,
        body={
            "errors": [
                {
                    "type": "INSUFFICIENT_SCOPES",
                    "locations": [{"line": 5, "column": 7}],
                    "message": "Your token has not been granted the required scopes to execute "
                    "this query. The 'number' field requires one of the following scopes: "
                    "['read:project'].",
                }
            ]
        },
    )
    with pytest.raises(ConnectorError) as caught:
        source(fake, project_number=7).pull(None)
    message = str(caught.value)
    assert message.startswith(
        "connector 'shop': POST https://api.github.com/graphql: GitHub's GraphQL API answered "
        "with an error: Your token has not been granted the required scopes"
    )
    assert "read:project" in caught.value.reason
    assert TOKEN not in message


def test_a_graphql_http_error_is_refused_like_a_get(fake: FakeTracker) -> None:
    fake.fail("/graphql", 401, body=fake.load("bad_credentials.json"))
    with pytest.raises(ConnectorError, match=r"POST https://api.github.com/graphql: HTTP 401"):
        source(fake, project_number=7).pull(None)


def test_the_graphql_endpoint_beside_the_rest_api() -> None:
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.acme.com/api/v3/") == "https://ghe.acme.com/api/graphql"


def test_project_and_workflow_settings_are_checked() -> None:
    with pytest.raises(InputError, match=r"project_number 0 must be a whole number"):
        GitHubConfig("shop", GITHUB_REPO, TOKEN, project_number=0)
    with pytest.raises(InputError, match=r"deploy_workflow '.github/workflows/deploy.yml'"):
        GitHubConfig("shop", GITHUB_REPO, TOKEN, deploy_workflow=".github/workflows/deploy.yml")


# -- Actions runs as deployments ------------------------------------------------------------


def test_deploy_workflow_runs_are_deployments_with_their_changes(fake: FakeTracker) -> None:
    fake.lists[f"{REPO}/deployments"] = []  # a repository that deploys with Actions only
    delivery = source(fake, deploy_workflow="deploy.yml").pull(None).delivery

    results = {
        d.deployment_id: (d.result, d.finished_at.strftime("%m-%d %H:%M"), d.counts)
        for d in delivery.deployments
    }
    # Completed runs on main; 7004 (another branch) and 7007 (in progress) are not asked
    # for; a cancelled run is kept but does not count.
    assert results == {
        "run-7001": ("success", "03-01 12:04", True),
        "run-7002": ("failure", "03-05 12:02", False),
        "run-7003": ("success", "03-07 12:08", True),
        "run-7005": ("cancelled", "03-09 08:03", False),
        "run-7006": ("success", "03-09 09:58", True),
    }
    assert {d.environment for d in delivery.deployments} == {"production"}
    changes = {c.change_id: (c.deployment_id, c.committed_at) for c in delivery.changes}
    assert changes == {
        # The first successful run ships its own head commit.
        SHA["aaa1"]: ("run-7001", at("03-01 11:00")),
        # 7002 failed: 7003 ships bbb2 and ccc3 (compare aaa1...ccc3; bbb2's 11:00+01:00 is
        # 10:00 UTC).
        SHA["bbb2"]: ("run-7003", at("03-05 10:00")),
        SHA["ccc3"]: ("run-7003", at("03-07 11:30")),
        # 7005 was cancelled: 7006 is compared with ccc3.
        SHA["ddd4"]: ("run-7006", at("03-09 09:00")),
    }
    # The default branch is read from the repository; every page asks the same.
    assert fake.seen(REPO)
    listed = fake.seen(f"{REPO}/actions/workflows/deploy.yml/runs")
    assert listed[0].params == {"branch": "main", "status": "completed", "per_page": "100"}
    assert [s.params.get("page") for s in listed] == [None, "2"]  # 5 runs, 3 a page


def test_a_pull_since_asks_for_the_runs_created_since_and_the_one_before(
    fake: FakeTracker,
) -> None:
    fake.lists[f"{REPO}/deployments"] = []
    delivery = source(fake, deploy_workflow="deploy.yml").pull(datetime(2024, 3, 8, tzinfo=UTC))
    delivery = delivery.delivery

    listed = fake.seen(f"{REPO}/actions/workflows/deploy.yml/runs")
    # The window starts a day before since (03-08 00:00 − 1 day), so a run still going at the
    # last sync is read now; then the latest successful run before it, as the base.
    assert [s.params for s in listed] == [
        {
            "branch": "main",
            "status": "completed",
            "created": ">=2024-03-07T00:00:00Z",
            "per_page": "100",
        },
        {
            "branch": "main",
            "status": "success",
            "created": "<2024-03-07T00:00:00Z",
            "per_page": "1",
        },
    ]
    # Created since 03-07 00:00 on main, completed: 7003, 7005, 7006.
    assert sorted(d.deployment_id for d in delivery.deployments) == [
        "run-7003",
        "run-7005",
        "run-7006",
    ]
    # The base is 7001's aaa1 (7002 failed): 7003 ships bbb2 and ccc3, 7006 ddd4.
    assert {c.change_id: c.deployment_id for c in delivery.changes} == {
        SHA["bbb2"]: "run-7003",
        SHA["ccc3"]: "run-7003",
        SHA["ddd4"]: "run-7006",
    }


def test_a_commit_shipped_by_a_deployment_and_a_run_is_kept_once(fake: FakeTracker) -> None:
    delivery = source(fake, deploy_workflow="deploy.yml").pull(None).delivery
    ids = [c.change_id for c in delivery.changes]
    assert len(ids) == len(set(ids)) == 4
    # Both lists are deployments; the GitHub deployments' changes are kept.
    assert {c.deployment_id for c in delivery.changes} == {"9001", "9003", "9006"}
    assert len(delivery.deployments) == 5 + 5


# -- over HTTP ------------------------------------------------------------------------------


def test_the_fake_served_over_http_gives_the_same_pull() -> None:
    fake = github_fake()
    expected = histories(source(github_fake()).pull(None))
    with serve(fake) as url:
        config = GitHubConfig(
            "shop", GITHUB_REPO, TOKEN, api_url=url, state_labels=("In Progress", "Review")
        )
        with GitHubSource(config, sleep=lambda _s: None) as shop:
            batch = shop.pull(None)
    assert histories(batch) == expected
    assert len(batch.delivery.deployments) == 5


def test_graphql_and_runs_over_http_give_the_same_pull() -> None:
    settings: dict[str, Any] = {"project_number": 7, "deploy_workflow": "deploy.yml"}
    expected = source(github_fake(), **settings).pull(None)
    fake = github_fake()
    with serve(fake) as url:
        config = GitHubConfig(
            "shop",
            GITHUB_REPO,
            TOKEN,
            api_url=url,
            state_labels=("In Progress", "Review"),
            **settings,
        )
        with GitHubSource(config, sleep=lambda _s: None) as shop:
            batch = shop.pull(None)
    assert histories(batch) == histories(expected)
    assert batch.delivery == expected.delivery
    assert batch.notes == expected.notes
