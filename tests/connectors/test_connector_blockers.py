"""Blockers from the trackers: Jira's Flagged field and "is blocked by" links, GitHub's and
GitLab's ``blocked_label``, through recorded answers in the documented shapes; stored with the
sync, the same again on a second sync, and in the flow report (``blocked``).

The Jira scenario, worked by hand (UTC; the fake writes Europe/Berlin, UTC+1 in January; the
search gives 2 issues a page and embeds 2 histories of each, so longer changelogs are fetched):

=======  =====  ============================================================================
issue    id     history
=======  =====  ============================================================================
PAY-1    10000  created 01-02 08:00; In Progress 01-03 09:00; flagged 01-03 12:00, cleared
                01-04 12:00; linked "is blocked by PAY-2" 01-04 08:00 (still linked);
                flagged 01-05 09:00 (still flagged)
PAY-2    10001  created 01-02 10:00; In Progress 01-03 08:00; Done 01-06 10:00; "is blocked
                by OPS-1" (done, outside the JQL: no history, no known end)
PAY-3    10002  created 01-05 07:00; "is blocked by PAY-1" with no changelog entry (a link
                older than the changelog); linked to PAY-9 01-05 10:00, removed 01-06 11:00;
                linked to PAY-8 01-06 12:00 and the link gone with no removal recorded
OPS-1    10003  created 01-01 08:00; Done 01-02 12:00 (not in ``project = PAY``)
=======  =====  ============================================================================
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.fake_git_trackers import (
    GITHUB_REPO,
    GITLAB_PROJECT,
    TOKEN,
    FakeTracker,
    github_fake,
    gitlab_fake,
)
from connectors.fake_jira import Change, FakeJira, Issue, flag, link
from obeya.cli.main import app
from obeya.connectors.github import GitHubConfig, GitHubSource
from obeya.connectors.gitlab import GitLabConfig, GitLabSource
from obeya.connectors.jira import JiraConfig, JiraSource
from obeya.core.blockers import Blocker
from obeya.core.events import to_micros
from obeya.core.workflow import Workflow
from obeya.errors import WorkflowError
from obeya.workspace import Workspace

JIRA_TOKEN = "jira-Secr3t-never-shown"
EMAIL = "ann@example.com"
WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
done = ["Done"]
"""


def t(text: str) -> int:
    """``01-03 12:00`` (2024, UTC) in microseconds."""
    return to_micros(datetime.fromisoformat(f"2024-{text}:00").replace(tzinfo=UTC))


def jira_fake() -> FakeJira:
    issues = [
        Issue(
            "PAY-1",
            "2024-01-02T08:00",
            [
                Change("2024-01-03T09:00", "In Progress"),
                flag("2024-01-03T12:00"),
                link("2024-01-04T08:00", "PAY-2"),
                flag("2024-01-04T12:00", on=False),
                flag("2024-01-05T09:00"),
            ],
            blocked_by=["PAY-2"],
        ),
        Issue(
            "PAY-2",
            "2024-01-02T10:00",
            [Change("2024-01-03T08:00", "In Progress"), Change("2024-01-06T10:00", "Done")],
            blocked_by=["OPS-1"],
        ),
        Issue(
            "PAY-3",
            "2024-01-05T07:00",
            [
                link("2024-01-05T10:00", "PAY-9"),
                link("2024-01-06T11:00", "PAY-9", made=False),
                link("2024-01-06T12:00", "PAY-8"),
            ],
            blocked_by=["PAY-1"],
        ),
        Issue("OPS-1", "2024-01-01T08:00", [Change("2024-01-02T12:00", "Done")]),
    ]
    return FakeJira(
        issues,
        time_zone="Europe/Berlin",
        email=EMAIL,
        token=JIRA_TOKEN,
        max_results=2,
        embedded_histories=2,
    )


JIRA_BLOCKERS = (
    Blocker("10000", t("01-03 12:00"), t("01-04 12:00"), "Flagged"),
    # The link still there ends when PAY-2 reached Done (read in the same pull). A blocking
    # issue is named by its id, as items are (PAY-1 is 10000, PAY-2 10001: their places).
    Blocker("10000", t("01-04 08:00"), t("01-06 10:00"), "blocked by PAY-2", "10001"),
    Blocker("10000", t("01-05 09:00"), None, "Flagged"),
    # A link the changelog never mentions blocks from the issue's creation; PAY-1 is open.
    Blocker("10002", t("01-05 07:00"), None, "blocked by PAY-1", "10000"),
    # PAY-9 is neither pulled nor linked any more: only its key is known.
    Blocker("10002", t("01-05 10:00"), t("01-06 11:00"), "blocked by PAY-9", "PAY-9"),
)


def jira_source(fake: FakeJira) -> JiraSource:
    config = JiraConfig("pay", "https://example.atlassian.net", "project = PAY", EMAIL, JIRA_TOKEN)
    return JiraSource(config, transport=fake.transport(), sleep=lambda _s: None)


def test_jira_flagged_changes_and_blocked_by_links_are_blockers() -> None:
    fake = jira_fake()
    batch = jira_source(fake).pull(None)
    assert batch.blockers == JIRA_BLOCKERS
    # the search paged (2 a page) and the truncated changelogs were fetched
    assert len(fake.requests) > 4
    assert any("/changelog" in seen.path for seen in fake.requests)
    notes = "\n".join(batch.notes)
    assert "PAY-2: OPS-1, which blocks it, is done but was not read in this pull" in notes
    assert "PAY-3: the changelog links it to PAY-8 (is blocked by) but the link is gone" in notes
    # The same pull again gives the same blockers (their keys are stable).
    assert jira_source(fake).pull(None).blockers == JIRA_BLOCKERS


def test_jira_data_center_reads_the_same_blockers() -> None:
    fake = jira_fake()
    fake.cloud, fake.embedded_histories = False, None
    config = JiraConfig("pay", "https://jira.example.com", "project = PAY", None, JIRA_TOKEN)
    batch = JiraSource(config, transport=fake.transport(), sleep=lambda _s: None).pull(None)
    assert batch.blockers == JIRA_BLOCKERS


# -- GitHub, GitLab ------------------------------------------------------------------------------


def _github_event(
    fake: FakeTracker, number: int, ident: int, kind: str, at: str, label: str
) -> None:
    """A ``labeled``/``unlabeled`` event in GitHub's shape, put in time order in the issue's
    recorded events (copied from a recorded one, so every field GitHub sends is there)."""
    events = fake.lists[f"/repos/{GITHUB_REPO}/issues/{number}/events"]
    template = next(e for e in fake.lists[f"/repos/{GITHUB_REPO}/issues/1/events"] if e["label"])
    event = copy.deepcopy(template)
    event.update(
        id=ident,
        node_id=f"LE_lADOAAAB{ident}",
        url=f"https://api.github.com/repos/{GITHUB_REPO}/issues/events/{ident}",
        event=kind,
        created_at=at,
        label={"name": label, "color": "b60205"},
    )
    events.append(event)
    events.sort(key=lambda e: (e["created_at"], e["id"]))


def github_with_blocked_labels() -> FakeTracker:
    """Issue #1 (id 2001, events paged 3 at a time) labelled ``blocked`` 03-02 12:00 to 03-03
    12:00, and again from 03-04 16:00, never removed (closed 03-05 12:00 with it on: still
    blocked); ``blocker`` on 03-04 17:00 is another label. #3 (id 2003) labelled ``Blocked``
    (the case differs) 03-04 11:00 and unlabelled the same second (blocked nothing), then
    again 03-05 08:00 until 03-06 10:00."""
    fake = github_fake()
    _github_event(fake, 1, 39001, "labeled", "2024-03-02T12:00:00Z", "blocked")
    _github_event(fake, 1, 39002, "unlabeled", "2024-03-03T12:00:00Z", "blocked")
    _github_event(fake, 1, 39003, "labeled", "2024-03-04T16:00:00Z", "blocked")
    _github_event(fake, 1, 39004, "labeled", "2024-03-04T17:00:00Z", "blocker")
    _github_event(fake, 3, 39005, "labeled", "2024-03-04T11:00:00Z", "Blocked")
    _github_event(fake, 3, 39006, "unlabeled", "2024-03-04T11:00:00Z", "Blocked")
    _github_event(fake, 3, 39007, "labeled", "2024-03-05T08:00:00Z", "Blocked")
    _github_event(fake, 3, 39008, "unlabeled", "2024-03-06T10:00:00Z", "Blocked")
    return fake


GIT_BLOCKERS = {
    "github": (
        Blocker("2001", t("03-02 12:00"), t("03-03 12:00"), "blocked"),
        Blocker("2001", t("03-04 16:00"), None, "blocked"),
        Blocker("2003", t("03-05 08:00"), t("03-06 10:00"), "blocked"),
    ),
    "gitlab": (
        Blocker("5001", t("03-02 12:00"), t("03-03 12:00"), "blocked"),
        Blocker("5001", t("03-04 16:00"), None, "blocked"),
        Blocker("5003", t("03-05 08:00"), t("03-06 10:00"), "blocked"),
    ),
}


def _gitlab_event(
    fake: FakeTracker, iid: int, ident: int, action: str, at: str, label: str
) -> None:
    """A resource label event in GitLab's shape, in time order in the issue's recording."""
    events = fake.lists[f"/api/v4/projects/group%2Fshop/issues/{iid}/resource_label_events"]
    template = fake.lists["/api/v4/projects/group%2Fshop/issues/1/resource_label_events"][0]
    event = copy.deepcopy(template)
    event.update(
        id=ident,
        created_at=at,
        resource_id=5000 + iid,
        action=action,
        label={"id": 590, "name": label, "color": "#b60205", "description": None},
    )
    events.append(event)
    events.sort(key=lambda e: (e["created_at"], e["id"]))


def gitlab_with_blocked_labels() -> FakeTracker:
    """The same label history as GitHub's, on issues #1 (id 5001, label events paged 3 at a
    time) and #3 (id 5003)."""
    fake = gitlab_fake()
    _gitlab_event(fake, 1, 49001, "add", "2024-03-02T12:00:00.000Z", "blocked")
    _gitlab_event(fake, 1, 49002, "remove", "2024-03-03T12:00:00.000Z", "blocked")
    _gitlab_event(fake, 1, 49003, "add", "2024-03-04T16:00:00.000Z", "blocked")
    _gitlab_event(fake, 1, 49004, "add", "2024-03-04T17:00:00.000Z", "blocker")
    _gitlab_event(fake, 3, 49005, "add", "2024-03-04T11:00:00.000Z", "Blocked")
    _gitlab_event(fake, 3, 49006, "remove", "2024-03-04T11:00:00.000Z", "Blocked")
    _gitlab_event(fake, 3, 49007, "add", "2024-03-05T08:00:00.000Z", "Blocked")
    _gitlab_event(fake, 3, 49008, "remove", "2024-03-06T10:00:00.000Z", "Blocked")
    return fake


def test_github_blocked_label_events_are_blockers() -> None:
    fake = github_with_blocked_labels()
    config = GitHubConfig(
        "shop", GITHUB_REPO, TOKEN, state_labels=("In Progress", "Review"), blocked_label="blocked"
    )
    batch = GitHubSource(config, transport=fake.transport(), sleep=lambda _s: None).pull(None)
    assert batch.blockers == GIT_BLOCKERS["github"]
    # issue #1's events came in pages of 3, the blocked label's among them
    assert len(fake.seen(f"/repos/{GITHUB_REPO}/issues/1/events")) == 3
    # without the setting, no blockers
    plain = GitHubConfig("shop", GITHUB_REPO, TOKEN, state_labels=("In Progress", "Review"))
    assert GitHubSource(plain, transport=fake.transport()).pull(None).blockers == ()


def test_gitlab_blocked_label_events_are_blockers() -> None:
    fake = gitlab_with_blocked_labels()
    config = GitLabConfig(
        "shop", "https://gitlab.example.com", GITLAB_PROJECT, TOKEN, blocked_label="blocked"
    )
    batch = GitLabSource(config, transport=fake.transport(), sleep=lambda _s: None).pull(None)
    assert batch.blockers == GIT_BLOCKERS["gitlab"]
    # the label events are read for the blocked label even without scoped labels, every page
    path = "/api/v4/projects/group%2Fshop/issues/1/resource_label_events"
    assert len(fake.seen(path)) == 3
    # without it (and no scoped labels) the label events are not even asked for
    plain = GitLabConfig("shop", "https://gitlab.example.com", GITLAB_PROJECT, TOKEN)
    before = len(fake.requests)
    assert GitLabSource(plain, transport=fake.transport()).pull(None).blockers == ()
    assert not [r for r in fake.requests[before:] if r.path.endswith("resource_label_events")]


# -- the workflow setting ------------------------------------------------------------------------


def test_the_workflow_names_the_blocked_label_and_keeps_it() -> None:
    workflow = Workflow.from_toml_text(WORKFLOW + 'blocked_label = "blocked"\n')
    assert workflow.blocked_label == "blocked"
    assert Workflow.from_toml_text(workflow.to_toml()) == workflow
    assert Workflow.from_toml_text(WORKFLOW).blocked_label is None
    assert "blocked_label" not in Workflow.from_toml_text(WORKFLOW).to_toml()
    with pytest.raises(WorkflowError, match="blocked_label"):
        Workflow.from_toml_text(WORKFLOW + "blocked_label = 3\n")
    with pytest.raises(WorkflowError, match="blocked_label"):
        Workflow.from_toml_text(WORKFLOW + 'blocked_label = " "\n')


# -- a sync stores them ---------------------------------------------------------------------------

runner = CliRunner()


def _metrics(stream: str) -> dict[str, Any]:
    result = runner.invoke(app, ["metrics", "--stream", stream, "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.mark.usefixtures("obeya_home")
def test_a_jira_sync_stores_its_blockers_once_and_the_flow_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAY_JIRA_TOKEN", JIRA_TOKEN)
    fake = jira_fake()
    settings = {"url": "https://example.atlassian.net", "jql": "project = PAY", "email": EMAIL}
    with Workspace() as ws:
        ws.initialise()
        workflow = Workflow.from_toml_text(WORKFLOW)
        ws.connectors.add(
            "pay", "jira", "Pay", settings, secret_env="PAY_JIRA_TOKEN", workflow=workflow,
            local=True,
        )  # fmt: skip
        first = ws.connectors.sync("pay", transport=fake.transport(), sleep=lambda _s: None)
        assert first.blockers.to_dict() == {"given": 5, "added": 5, "updated": 0}
        assert ws.blockers("Pay") == JIRA_BLOCKERS
        result = ws.connectors.get("pay").last_result
        assert result is not None and result["blockers"]["added"] == 5
        again = ws.connectors.sync("pay", transport=fake.transport(), sleep=lambda _s: None)
        # Incremental: the issues updated since the checkpoint (less the overlap) again.
        assert (again.blockers.added, again.blockers.updated) == (0, 0)
        assert again.events.events_added == 0
        assert ws.blockers("Pay") == JIRA_BLOCKERS
        # PAY-1's flag is cleared: the next (incremental) sync closes that blocker.
        fake.issues[0].changes.append(flag("2024-01-07T09:00", on=False))
        third = ws.connectors.sync("pay", transport=fake.transport(), sleep=lambda _s: None)
        assert third.blockers.updated == 1 and third.blockers.added == 0
        closed = Blocker("10000", t("01-05 09:00"), t("01-07 09:00"), "Flagged")
        assert closed in ws.blockers("Pay")
    blocked = _metrics("Pay")["blocked"]
    # The data ends at 01-06 10:00 (PAY-2 done). PAY-2, the one finished item, was never
    # blocked (its OPS-1 link was left out). PAY-1 is blocked then: flagged since 01-05 09:00,
    # in one run with its PAY-2 link (01-04 08:00) and its first flag (01-03 12:00): 2 days
    # 22 hours. PAY-3 has not started, so its blocker does not count yet.
    assert blocked["blockers"] == 5 and blocked["finished_items"] == 1
    assert blocked["items_blocked"] == 0 and blocked["by_reason"] == {}
    assert blocked["now"] == [
        {
            "item_id": "10000",
            "reason": "Flagged",
            "reasons": ["Flagged"],
            "since": "2024-01-03T12:00:00Z",
            "age_days": pytest.approx(2 + 22 / 24),
            "waits_on": [],  # a flag names nobody
        }
    ]


@pytest.mark.usefixtures("obeya_home")
@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_a_git_tracker_sync_reads_the_workflows_blocked_label(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", TOKEN)
    if kind == "github":
        fake = github_with_blocked_labels()
        settings: dict[str, Any] = {"repo": GITHUB_REPO, "state_labels": ["In Progress", "Review"]}
        workflow = Workflow.from_toml_text(
            'active = ["Open", "In Progress", "Review"]\ndone = ["Done"]\n'
            'blocked_label = "blocked"\n'
        )
    else:
        fake = gitlab_with_blocked_labels()
        settings = {"url": "https://gitlab.example.com", "project": GITLAB_PROJECT,
                    "scoped_label_prefix": "workflow"}  # fmt: skip
        workflow = Workflow.from_toml_text(
            'active = ["Open", "In Progress", "Review"]\ndone = ["Done"]\n'
            'blocked_label = "blocked"\n'
        )
    with Workspace() as ws:
        ws.initialise()
        ws.connectors.add(
            "shop", kind, "Shop", settings, secret_env="SHOP_TOKEN", workflow=workflow, local=True
        )
        first = ws.connectors.sync("shop", transport=fake.transport(), sleep=lambda _s: None)
        assert first.blockers.added == 3
        assert ws.blockers("Shop") == GIT_BLOCKERS[kind]
        again = ws.connectors.sync("shop", transport=fake.transport(), sleep=lambda _s: None)
        assert (again.blockers.added, again.blockers.updated) == (0, 0)
        assert ws.blockers("Shop") == GIT_BLOCKERS[kind]
    blocked = _metrics("Shop")["blocked"]
    # #1 (Open 03-01 09:00 → Done 03-05 12:00) blocked 03-02 12:00–03-03 12:00 and from
    # 03-04 16:00 to its finish: 1 day + 20 hours. #3 is open again (not finished), and no
    # blocker is open at the end of the data.
    assert blocked["items_blocked"] == 1
    assert blocked["blocked_days"] == pytest.approx(1 + 20 / 24)
    assert blocked["by_reason"] == {"blocked": pytest.approx(1 + 20 / 24)}
    assert blocked["now"] == []


def test_the_user_guide_says_what_fills_blockers() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    assert "blocked_label" in guide and "Flagged" in guide and "is blocked by" in guide
