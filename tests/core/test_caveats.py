"""Caveats: figures right by the conventions that say little, said in words beside them.

The wide file below has one state per item once its creation column is read as creation: A
was created on 1 January and finished on the 3rd, B on the 2nd and the 9th. Each item's only
event is its finish, so it starts there: cycle times 0 and 0; lead times 2 and 7 days.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.tiny import TINY_CSV
from app_fixtures import TestClient, app_over, bearer, workspace  # noqa: F401 (the fixture)
from obeya.cli.main import app
from obeya.core.metrics import caveats
from obeya.ingest import ColumnMap
from obeya.workspace import Workspace, analyse_file

WIDE = "id,created_date,finished_date\nA,2024-01-01,2024-01-03\nB,2024-01-02,2024-01-09\n"
CREATION = ColumnMap(item_id="id", created="created_date")


def _doc(cycle: dict[str, float | int | None]) -> dict[str, dict[str, float | int | None]]:
    return {"cycle_time_days": {"p50": None, "p70": None, "p85": None, **cycle}}


def test_a_file_with_one_state_per_item_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "jira.csv"
    path.write_text(WIDE, encoding="utf-8")
    doc = analyse_file(path, columns=CREATION, file_format="wide").to_dict()
    assert doc["cycle_time_days"]["count"] == 2 and doc["cycle_time_days"]["mean"] == 0
    assert doc["lead_time_days"]["mean"] == 4.5  # (2 + 7) / 2
    [caveat] = caveats(doc)
    assert caveat.startswith("Every finished item has a cycle time of 0 days")


def test_most_at_zero_is_nearly_every_and_a_real_spread_is_no_caveat(tmp_path: Path) -> None:
    # 20 items at 0 days and one at 10: p95 by linear interpolation is 0, the mean 10/21.
    assert caveats(_doc({"p95": 0.0, "mean": 10 / 21, "count": 21}))[0].startswith(
        "Nearly every finished item"
    )
    assert caveats(_doc({"p95": 0.5, "mean": 0.1, "count": 21})) == []
    assert caveats(_doc({"p95": None, "mean": None, "count": 0})) == []  # nothing finished
    path = tmp_path / "tiny.csv"
    path.write_text(TINY_CSV, encoding="utf-8")
    # No workflow: each item from its first event to its last, 3, 8 and 4 days (E: 0).
    assert caveats(analyse_file(path).to_dict()) == []


def test_the_cli_says_it_beside_the_json(tmp_path: Path) -> None:
    path = tmp_path / "jira.csv"
    path.write_text(WIDE, encoding="utf-8")
    args = ["metrics", str(path), "--format", "wide", "--item-column", "id"]
    result = CliRunner().invoke(app, [*args, "--created-column", "created_date", "--json"])
    assert result.exit_code == 0, result.output
    assert "note: Every finished item has a cycle time of 0 days" in " ".join(result.stderr.split())


def _pages(ws: Workspace, tmp_path: Path, suffix: str) -> tuple[str, str]:
    """The page ``/streams/NAME{suffix}`` of "Jira" (the file above, imported) and of Tiny."""
    path = tmp_path / "jira.csv"
    path.write_text(WIDE, encoding="utf-8")
    ws.import_file(path, "Jira", columns=CREATION, file_format="wide")
    with TestClient(app_over(ws), headers=bearer(ws)) as browser:
        jira = browser.get(f"/streams/Jira{suffix}").text
        return jira, browser.get(f"/streams/Tiny{suffix}").text


def test_the_dashboard_says_it_above_the_figures(workspace: Workspace, tmp_path: Path) -> None:  # noqa: F811
    page, tiny = _pages(workspace, tmp_path, "")
    assert "<strong>Read with care:</strong> Every finished item has a cycle time of 0" in page
    assert "Read with care" not in tiny


def test_the_workflow_page_says_it_of_the_figures_it_shows(
    workspace: Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    page, tiny = _pages(workspace, tmp_path, "/workflow")
    assert 'data-rule="caveat"' in page and "cycle time of 0 days" in page
    assert 'data-rule="caveat"' not in tiny
