"""`obeya connect` + `obeya sync` + `obeya metrics --stream S --json` against fake trackers
served over HTTP on a free port, equal to the same history imported from a file; a repeated
sync adds nothing, an interrupted one loses nothing and stores nothing, and the token is
read from the environment, never stored or shown."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.fake_git_trackers import (
    GITHUB_REPO,
    GITLAB_PROJECT,
    TOKEN,
    github_fake,
    gitlab_fake,
)
from connectors.fake_git_trackers import serve as serve_git
from connectors.fake_jira import Change, FakeJira, Issue
from connectors.fake_jira import serve as serve_jira
from obeya.cli.main import app
from obeya.workspace import Workspace

runner = CliRunner()
JIRA_TOKEN = "jira-Secr3t-never-shown"
WORKFLOW = """backlog = ["To Do"]
active = ["In Progress"]
done = ["Done"]
"""
# Three issues worked by hand, in Europe/Berlin (UTC+1 in January):
# PAY-1 created 01-02 09:00 local (08:00 UTC), In Progress 01-03 10:00 (09:00 UTC),
#       Done 01-05 16:00 (15:00 UTC);
# PAY-2 created 01-02 11:00, In Progress 01-04 09:00, Done 01-09 12:00;
# PAY-3 created 01-08 08:00, In Progress 01-09 13:00 (still in progress).
ISSUES = [
    Issue("PAY-1", "2024-01-02T08:00", [Change("2024-01-03T09:00", "In Progress"),
                                        Change("2024-01-05T15:00", "Done")], type="Bug"),
    Issue("PAY-2", "2024-01-02T10:00", [Change("2024-01-04T08:00", "In Progress"),
                                        Change("2024-01-09T11:00", "Done")], type="Story"),
    Issue("PAY-3", "2024-01-08T07:00", [Change("2024-01-09T12:00", "In Progress")],
          type="Story"),
]  # fmt: skip
# The same history as a file: item ids are Jira's immutable ids (10000 + place in the list).
FILE_ROWS = [
    ("10000", "To Do", "2024-01-02T08:00:00Z", "Bug"),
    ("10000", "In Progress", "2024-01-03T09:00:00Z", "Bug"),
    ("10000", "Done", "2024-01-05T15:00:00Z", "Bug"),
    ("10001", "To Do", "2024-01-02T10:00:00Z", "Story"),
    ("10001", "In Progress", "2024-01-04T08:00:00Z", "Story"),
    ("10001", "Done", "2024-01-09T11:00:00Z", "Story"),
    ("10002", "To Do", "2024-01-08T07:00:00Z", "Story"),
    ("10002", "In Progress", "2024-01-09T12:00:00Z", "Story"),
]


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def metrics(stream: str) -> dict[str, Any]:
    doc = json.loads(invoke("metrics", "--stream", stream, "--json").stdout)
    doc.pop("source")
    return doc


def write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.usefixtures("obeya_home")
def test_jira_sync_equals_the_same_history_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = tmp_path / "w.toml"
    workflow.write_text(WORKFLOW)
    file = write_csv(tmp_path / "pay.csv", FILE_ROWS, ("item_id", "state", "timestamp", "type"))
    invoke("import", str(file), "--stream", "From file", "--workflow", str(workflow))
    fake = FakeJira(ISSUES, time_zone="Europe/Berlin", email="ann@example.com", token=JIRA_TOKEN)
    monkeypatch.setenv("PAY_JIRA_TOKEN", JIRA_TOKEN)
    with serve_jira(fake) as url:
        added = invoke(
            "connect", "jira", "pay", "--url", url, "--jql", "project = PAY",
            "--stream", "Live", "--email", "ann@example.com", "--token-env", "PAY_JIRA_TOKEN",
            "--workflow", str(workflow),
        )  # fmt: skip
        assert "PAY_JIRA_TOKEN" in added.stdout and JIRA_TOKEN not in added.stdout
        first = json.loads(invoke("sync", "pay", "--json").stdout)
        assert first[0]["items"] == 3 and first[0]["events_added"] == 8
        assert metrics("Live") == metrics("From file")
        # Nothing changed since: a second sync reads the overlap again and adds nothing.
        again = json.loads(invoke("sync", "--json").stdout)
        assert again[0]["events_added"] == 0
        # PAY-3 finishes; the tracker fails mid-sync (503 until the retries give up): the
        # sync stores nothing and keeps its checkpoint.
        fake.issues[2].changes.append(Change("2024-01-10T09:00", "Done"))
        fake.issues[2].updated = "2024-01-10T09:00"
        checkpoint = Workspace().connectors.get("pay").checkpoint
        monkeypatch.setattr("obeya.connectors.http.BACKOFF_SECONDS", 0.0)
        fake.fail("/rest/api/3/search/jql", 503, times=100)
        failed = runner.invoke(app, ["sync", "pay"])
        assert failed.exit_code == 1 and "connector 'pay'" in failed.output
        assert "HTTP 503" in failed.output and JIRA_TOKEN not in failed.output
        with Workspace() as ws:
            assert ws.connectors.get("pay").checkpoint == checkpoint
            assert ws.stream("Live").events == 8
            listed = ws.connectors.get("pay").last_result
        assert listed is not None and listed["ok"] is False
        fake.faults.clear()
        resumed = json.loads(invoke("sync", "pay", "--json").stdout)
        assert resumed[0]["events_added"] == 1
    # The file gains the same event: the figures are equal again.
    more = write_csv(
        tmp_path / "more.csv", [("10002", "Done", "2024-01-10T09:00:00Z", "Story")],
        ("item_id", "state", "timestamp", "type"),
    )  # fmt: skip
    invoke("import", str(more), "--stream", "From file")
    assert metrics("Live") == metrics("From file")
    listing = invoke("connectors").stdout
    assert "pay" in listing and "jira" in listing and JIRA_TOKEN not in listing
    stored = json.loads(invoke("connectors", "--json").stdout)
    assert JIRA_TOKEN not in json.dumps(stored) and stored[0]["secret_env"] == "PAY_JIRA_TOKEN"


def _events_csv(stream: str, path: Path) -> Path:
    """The stream's events as a CSV file, the way a user would export them."""
    with Workspace() as ws:
        table = ws.events(stream).table.to_pylist()
    from obeya.core.events import from_micros

    rows = [
        (r["item_id"], r["state"], from_micros(r["t"]).isoformat(), r["type"] or "") for r in table
    ]
    return write_csv(path, rows, ("item_id", "state", "timestamp", "type"))


@pytest.mark.usefixtures("obeya_home")
@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_git_tracker_sync_equals_its_history_from_a_file(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_TOKEN", TOKEN)
    fake = github_fake() if kind == "github" else gitlab_fake()
    serve = serve_git
    with serve(fake) as url:
        if kind == "github":
            options = ["--repo", GITHUB_REPO, "--api-url", url,
                       "--state-label", "In Progress", "--state-label", "Review"]  # fmt: skip
        else:
            options = ["--url", url, "--project", GITLAB_PROJECT,
                       "--scoped-label-prefix", "workflow"]  # fmt: skip
        invoke("connect", kind, "shop", *options, "--stream", "Shop", "--token-env", "SHOP_TOKEN")
        [first] = json.loads(invoke("sync", "shop", "--json").stdout)
        assert first["ok"] and first["events_added"] > 0
        assert first["delivery"]["deployments"]["added"] > 0
        [again] = json.loads(invoke("sync", "shop", "--json").stdout)
        assert again["events_added"] == 0
        assert all(v["added"] == 0 for v in again["delivery"].values())
    # The stream took the workflow the tracker proposed; the same events from a file, with
    # that workflow, give the same figures.
    with Workspace() as ws:
        workflow = ws.stream("Shop").workflow
    assert workflow is not None
    toml = tmp_path / "w.toml"
    toml.write_text(workflow.to_toml())
    file = _events_csv("Shop", tmp_path / "shop.csv")
    invoke("import", str(file), "--stream", "From file", "--workflow", str(toml))
    assert metrics("Shop") == metrics("From file")
    # Its deployments give DORA figures.
    dora = json.loads(invoke("dora", "--stream", "Shop", "--json").stdout)
    assert dora["deployment_frequency"]["deployments"] >= 1
