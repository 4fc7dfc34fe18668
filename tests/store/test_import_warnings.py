"""An import keeps what its reader flagged (backwards events) with the import: the stream's
info, the dashboard and archives carry it; --strict refuses the file and stores nothing.

The wide file below: row 3 (B) finishes the day before it was created, row 4 (C) too; A is in
order. Each row makes two events, so the file holds 6.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app_fixtures import TestClient, app_over, bearer, workspace  # noqa: F401 (the fixture)
from obeya.core.workflow import Workflow
from obeya.errors import NotFoundError, ParseError
from obeya.workspace import Workspace

WIDE = """\
id,created_date,finished_date
A,2024-01-01,2024-01-03
B,2024-01-05,2024-01-04
C,2024-01-07,2024-01-06
"""
WORKFLOW = Workflow.from_toml_text(
    'backlog = []\nactive = ["created_date"]\nwaiting = []\ndone = ["finished_date"]\n'
)


@pytest.fixture
def ws(database_url: str) -> Iterator[Workspace]:
    with Workspace(database_url) as opened:
        opened.initialise()
        yield opened


@pytest.fixture
def wide(tmp_path: Path) -> Path:
    path = tmp_path / "jira.csv"
    path.write_text(WIDE, encoding="utf-8")
    return path


def _import(ws: Workspace, path: Path, **options: object):
    from obeya.ingest import ColumnMap

    return ws.import_file(
        path, "Jira", columns=ColumnMap(item_id="id"), file_format="wide", **options
    )


def test_the_warning_is_stored_with_the_import_and_a_reimport_adds_nothing(
    ws: Workspace, wide: Path
) -> None:
    first = _import(ws, wide)
    assert (first.events_in_file, first.events_added) == (6, 6)
    [warning] = first.warnings
    assert (warning.count, warning.rows) == (2, (3, 4))
    assert ws.stream("Jira").warnings == (warning,)
    again = _import(ws, wide)
    assert (again.events_in_file, again.events_added) == (6, 0)
    assert ws.stream("Jira").warnings == (warning,)  # the same warning, shown once


def test_strict_refuses_and_stores_nothing(ws: Workspace, wide: Path) -> None:
    with pytest.raises(ParseError) as caught:
        _import(ws, wide, strict=True)
    assert caught.value.row == 3 and "2 events go backwards" in str(caught.value)
    with pytest.raises(NotFoundError):
        ws.stream("Jira")


def test_kept_backwards_items_are_in_progress_and_not_in_the_done_band(
    ws: Workspace, wide: Path
) -> None:
    _import(ws, wide)
    ws.set_workflow("Jira", WORKFLOW)
    report = ws.flow("Jira")
    # Ordered by time, B and C end in created_date (active): in progress; A alone finished.
    assert (report.items.finished, report.items.in_progress) == (1, 2)
    done = report.cumulative_flow.counts["finished_date"]
    assert max(done) == 1 and done[-1] == report.items.finished
    # Every item reached created_date, whatever its order.
    assert report.cumulative_flow.counts["created_date"][-1] == 3


def test_an_archive_carries_the_warnings(ws: Workspace, wide: Path, tmp_path: Path) -> None:
    _import(ws, wide)
    before = ws.stream("Jira").warnings
    archive = tmp_path / "a.obeya.zip"
    ws.export_archive(archive)
    ws.delete_stream("Jira")
    ws.restore_archive(archive)
    assert ws.stream("Jira").warnings == before != ()


def test_the_dashboard_shows_the_warning(workspace: Workspace) -> None:  # noqa: F811
    app = app_over(workspace)
    with TestClient(app, headers=bearer(workspace)) as browser:
        created = browser.post(
            "/import",
            data={"stream": "Jira", "file_format": "wide", "item_id": "id"},
            files={"file": ("jira.csv", WIDE.encode(), "text/csv")},
            follow_redirects=False,
        )
        assert created.status_code == 303, created.text
        page = browser.get(created.headers["location"]).text
    assert "Import warning:" in page
    assert "2 events go backwards in time" in page and "rows 3, 4" in page
    # One sentence, ended: "…from its first event to its last." then what a refusal does.
    assert "from its first event to its last. An import that refuses" in " ".join(page.split())
    # Without a workflow the page says these items count as finished, as the figures do.
    report = workspace.flow("Jira")
    assert (report.items.finished, report.items.in_progress) == (3, 0)
    assert "so these items count as finished" in page
    workspace.set_workflow("Jira", WORKFLOW)
    with TestClient(app, headers=bearer(workspace)) as browser:
        mapped = browser.get(created.headers["location"]).text
    assert "Import warning:" in mapped and "so these items count as finished" not in mapped
    # A stream imported in order shows none.
    with TestClient(app, headers=bearer(workspace, "other")) as browser:
        assert "Import warning:" not in browser.get("/streams/Tiny").text
