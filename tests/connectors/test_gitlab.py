"""The GitLab client against the recorded project ``group/shop`` (recordings/gitlab).

The recording, worked by hand (times 2024, UTC; scoped labels ``workflow::…`` are states):

====  ====  =================================================  =======================
id    iid   events                                             updated
====  ====  =================================================  =======================
5002  #2    incident; created 03-03 08:00, +In Progress 08:30,  03-03 11:00
            closed 11:00
5001  #1    created 03-01 09:00, +bug 09:00, +In Progress      03-05 12:00
            03-02 10:00, +Review and -In Progress 03-04 15:00
            (scoped labels exclude each other), closed 03-05
            12:00
5003  #3    created 03-04 09:00, +In Progress 10:00, closed    03-06 11:00
            03-05 09:00, reopened 03-06 09:00, -In Progress
            11:00
5004  #4    created 03-06 12:00, moved to another project      03-07 09:00
            (closed, moved_to_id 6100) 03-07 09:00
5007  #7    moved in 03-07 10:00 with its events copied:       03-08 08:00:00.517
            +In Progress 03-02 08:00
====  ====  =================================================  =======================

Production deployments (the fake lists 4 a page, by update; 45 is staging): 41 success (job
finished 03-01 12:05), 42 failed (job 03-05 12:03), 43 canceled (no job: updated 03-06
12:02), 44 success (03-07 12:10), 46 success (03-09 10:05), 47 running. Merge requests: 41 →
!1; 44 → !2, !3; 46 → !3 again, !4.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from connectors.fake_git_trackers import GITLAB_PROJECT, TOKEN, FakeTracker, gitlab_fake, serve
from obeya.connectors.base import SyncBatch
from obeya.connectors.gitlab import GitLabConfig, GitLabSource
from obeya.core.events import from_micros
from obeya.errors import ConnectorError, InputError

HOST = "https://gitlab.example.com"
PROJECT = "/api/v4/projects/group%2Fshop"


@pytest.fixture
def fake() -> FakeTracker:
    return gitlab_fake()


def source(fake: FakeTracker, sleeps: list[float] | None = None, **settings: Any) -> GitLabSource:
    settings.setdefault("scoped_label_prefix", "workflow")
    config = GitLabConfig("shop", HOST, GITLAB_PROJECT, TOKEN, **settings)
    waits: list[float] = [] if sleeps is None else sleeps
    return GitLabSource(config, transport=fake.transport(), sleep=waits.append)


def histories(batch: SyncBatch) -> dict[str, list[tuple[str, str]]]:
    """item → [(state, "MM-DD HH:MM")], in seq order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for row in sorted(batch.events.table.to_pylist(), key=lambda r: r["seq"]):
        moment = from_micros(row["t"]).strftime("%m-%d %H:%M")
        out.setdefault(row["item_id"], []).append((row["state"], moment))
    return out


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2024-{text}:00+00:00")


EXPECTED = {
    "5002": [("Open", "03-03 08:00"), ("In Progress", "03-03 08:30"), ("Done", "03-03 11:00")],
    # +Review and -In Progress at the same time: Review (added last) either way.
    "5001": [
        ("Open", "03-01 09:00"),
        ("In Progress", "03-02 10:00"),
        ("Review", "03-04 15:00"),
        ("Done", "03-05 12:00"),
    ],
    # Reopened with In Progress still on: In Progress; then -In Progress: Open.
    "5003": [
        ("Open", "03-04 09:00"),
        ("In Progress", "03-04 10:00"),
        ("Done", "03-05 09:00"),
        ("In Progress", "03-06 09:00"),
        ("Open", "03-06 11:00"),
    ],
    "5004": [("Open", "03-06 12:00"), ("Done", "03-07 09:00")],
    # Its copied event (03-02 08:00) predates the new issue: the history starts there, in
    # In Progress (the same instant as its arrival, so no zero-second Open).
    "5007": [("In Progress", "03-02 08:00")],
}


# -- issues ---------------------------------------------------------------------------------


def test_pull_follows_every_page_and_builds_each_history(fake: FakeTracker) -> None:
    batch = source(fake).pull(None)

    # 5 issues, 2 a page: three pages, by the Link header.
    assert [s.params.get("page") for s in fake.seen(f"{PROJECT}/issues")] == [None, "2", "3"]
    # #1's 4 label events, 3 a page: two pages.
    label_pages = fake.seen(f"{PROJECT}/issues/1/resource_label_events")
    assert [s.params.get("page") for s in label_pages] == [None, "2"]
    assert histories(batch) == EXPECTED
    assert batch.items == 5
    # #7's updated_at, 08:00:00.517, as GitLab gave it.
    assert batch.checkpoint == datetime(2024, 3, 8, 8, 0, 0, 517_000, tzinfo=UTC)
    rows = {r["item_id"]: r for r in batch.events.table.to_pylist()}
    assert rows["5002"]["title"] == "#2 Checkout times out"
    assert rows["5002"]["type"] == "incident"
    assert rows["5001"]["type"] == "issue"
    assert rows["5002"]["assignee"] == "ben"
    assert rows["5004"]["assignee"] is None
    assert from_micros(rows["5007"]["created"]) == at("03-02 08:00")
    workflow = batch.proposed_workflow
    assert workflow is not None
    assert workflow.active == ("Open", "In Progress", "Review")
    assert workflow.done == ("Done",)
    assert batch.notes == (
        "1 issue(s) moved to another project: GitLab closed them here, so they count as closed",
        "1 deployment(s) still created, running or blocked; a later sync reads them",
    )


def test_the_first_request_asks_by_update_since_in_utc_on_the_encoded_path(
    fake: FakeTracker,
) -> None:
    since = datetime(2024, 3, 5, 13, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=1)))
    batch = source(fake).pull(since)

    first = fake.seen(f"{PROJECT}/issues")[0]  # the path has group%2Fshop, as sent
    assert first.params == {
        "order_by": "updated_at",
        "sort": "asc",
        "per_page": "100",
        "updated_after": "2024-03-05T12:00:00Z",
    }
    assert first.headers["private-token"] == TOKEN
    assert "authorization" not in first.headers
    # Updated at or after 12:00 UTC: #1 (exactly), #3, #4, #7.
    assert sorted(histories(batch)) == ["5001", "5003", "5004", "5007"]
    deployments = fake.seen(f"{PROJECT}/deployments")[0]
    assert deployments.params == {
        "environment": "production",
        "order_by": "updated_at",
        "sort": "asc",
        "per_page": "100",
        "updated_after": "2024-03-05T12:00:00Z",
    }


def test_without_a_link_header_x_next_page_leads(fake: FakeTracker) -> None:
    fake.drop_headers = {"link"}
    batch = source(fake).pull(None)
    assert [s.params.get("page") for s in fake.seen(f"{PROJECT}/issues")] == [None, "2", "3"]
    # The rest of the query is kept from page to page.
    assert {s.params["order_by"] for s in fake.seen(f"{PROJECT}/issues")} == {"updated_at"}
    assert histories(batch) == EXPECTED


def test_keyset_pagination_follows_the_cursor(fake: FakeTracker) -> None:
    batch = source(fake, keyset_pagination=True).pull(None)
    seen = fake.seen(f"{PROJECT}/issues")
    assert len(seen) == 3
    assert all(s.params["pagination"] == "keyset" for s in seen)
    assert "cursor" not in seen[0].params
    assert seen[1].params["cursor"] and seen[2].params["cursor"] != seen[1].params["cursor"]
    assert not any("page" in s.params for s in seen)
    assert histories(batch) == EXPECTED


def test_an_issue_served_twice_stays_one_item(fake: FakeTracker) -> None:
    # #1 changed while the sync paged (GitLab lists by update), so it is served again last.
    issues = fake.lists[f"{PROJECT}/issues"]
    issues.append({**issues[1], "title": "Add a search box", "updated_at": "2024-03-09T08:00:00Z"})
    batch = source(fake).pull(None)
    assert batch.items == 5
    assert histories(batch)["5001"] == EXPECTED["5001"]
    titles = {r["title"] for r in batch.events.table.to_pylist() if r["item_id"] == "5001"}
    assert titles == {"#1 Add a search box"}
    assert batch.checkpoint == at("03-09 08:00")


def test_without_a_scoped_prefix_only_open_and_closed(fake: FakeTracker) -> None:
    batch = source(fake, scoped_label_prefix=None).pull(None)
    assert histories(batch)["5003"] == [
        ("Open", "03-04 09:00"),
        ("Done", "03-05 09:00"),
        ("Open", "03-06 09:00"),
    ]
    assert not fake.seen(f"{PROJECT}/issues/3/resource_label_events")


# -- rate limits, errors and secrets --------------------------------------------------------


def test_429_mid_paging_waits_as_told_and_reads_on(fake: FakeTracker) -> None:
    fake.fail(
        f"{PROJECT}/issues",
        429,
        headers={"Retry-After": "12", "RateLimit-Remaining": "0", "RateLimit-Reset": "1"},
        body=fake.load("rate_limited.json"),
        query={"page": "3"},
    )
    sleeps: list[float] = []
    batch = source(fake, sleeps).pull(None)
    assert sleeps == [12.0]  # Retry-After, before the reset header
    assert histories(batch) == EXPECTED


def test_401_names_the_connector_with_gitlabs_words_not_the_token(fake: FakeTracker) -> None:
    wrong = "glpat-WrongAndSecret"
    config = GitLabConfig("shop", HOST, GITLAB_PROJECT, wrong)
    with pytest.raises(ConnectorError) as caught:
        GitLabSource(config, transport=fake.transport()).pull(None)
    assert caught.value.status == 401
    assert str(caught.value) == (
        "connector 'shop': GET /projects/group%2Fshop/issues: HTTP 401, the tracker refused "
        "the credentials (check the token and, for Jira Cloud, the e-mail): 401 Unauthorized"
    )
    assert wrong not in str(caught.value)


def test_server_errors_that_persist_fail_the_pull(fake: FakeTracker) -> None:
    fake.fail(f"{PROJECT}/deployments", 503, times=100)
    sleeps: list[float] = []
    with pytest.raises(ConnectorError, match="HTTP 503, the tracker failed"):
        source(fake, sleeps).pull(None)
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_token_is_in_no_repr_error_or_log(
    fake: FakeTracker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = source(fake)
    assert TOKEN not in repr(shop.config)
    assert TOKEN not in repr(shop)
    assert TOKEN not in repr(shop.http)
    fake.fail(f"{PROJECT}/issues", 429, headers={"Retry-After": "1"})
    shop.pull(None)
    fake.fail(f"{PROJECT}/issues", 500, times=100)
    with pytest.raises(ConnectorError) as caught:
        shop.pull(None)
    assert TOKEN not in str(caught.value)
    assert "waiting" in caplog.text
    assert TOKEN not in caplog.text


def test_a_project_and_url_are_checked() -> None:
    with pytest.raises(InputError, match="must start with https://"):
        GitLabConfig("shop", "gitlab.com", GITLAB_PROJECT, TOKEN)
    with pytest.raises(InputError, match="project must be"):
        GitLabConfig("shop", HOST, "/", TOKEN)


# -- deployments, changes, incidents --------------------------------------------------------


def test_deployments_changes_and_incidents(fake: FakeTracker) -> None:
    delivery = source(fake).pull(None).delivery

    results = {
        d.deployment_id: (d.result, d.finished_at.strftime("%m-%d %H:%M"), d.counts)
        for d in delivery.deployments
    }
    assert results == {
        "41": ("success", "03-01 12:05", True),  # the job's finished_at
        "42": ("failed", "03-05 12:03", False),
        "43": ("canceled", "03-06 12:02", False),  # no job: updated_at
        "44": ("success", "03-07 12:10", True),
        "46": ("success", "03-09 10:05", True),
        # 45 is staging (filtered out by environment=production); 47 is still running.
    }
    assert {d.environment for d in delivery.deployments} == {"production"}
    changes = {c.change_id: (c.deployment_id, c.committed_at) for c in delivery.changes}
    assert changes == {
        "!1": ("41", at("03-01 11:00")),
        # merged 11:00 at +01:00: 10:00 UTC.
        "!2": ("44", at("03-05 10:00")),
        # Listed by 44 and by 46: 44 shipped it first.
        "!3": ("44", at("03-07 11:30")),
        "!4": ("46", at("03-09 09:00")),
    }
    # Merge requests are read for the successful deployments only.
    asked = {s.path.split("/")[-2] for s in fake.requests if s.path.endswith("/merge_requests")}
    assert asked == {"41", "44", "46"}
    assert [(i.incident_id, i.created_at, i.resolved_at) for i in delivery.incidents] == [
        ("5002", at("03-03 08:00"), at("03-03 11:00"))
    ]


# -- over HTTP ------------------------------------------------------------------------------


def test_the_fake_served_over_http_gives_the_same_pull() -> None:
    fake = gitlab_fake()
    with serve(fake) as url:
        config = GitLabConfig("shop", url, GITLAB_PROJECT, TOKEN, scoped_label_prefix="workflow")
        with GitLabSource(config, sleep=lambda _s: None) as shop:
            batch = shop.pull(None)
    assert fake.seen(f"{PROJECT}/issues")  # %2F reached the server as sent
    assert histories(batch) == EXPECTED
    assert len(batch.delivery.changes) == 4
