"""``obeya dora`` end to end: the JSON document, the table, and the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.main import app

runner = CliRunner()

# Counted: d1 (Mon 01-01), d2 (Wed 01-03). c1: 10:00 − 04:00 = 6 h; c2: 12 h.
# i1 (no deployment) → latest counted before 01-03 13:00 is d2: 1 of 2 failed; resolved in 2 h.
DEPLOYMENTS = """deployment_id,environment,finished_at,result
d1,production,2024-01-01T10:00:00Z,success
d2,production,2024-01-03T12:00:00Z,success
d3,staging,2024-01-03T12:00:00Z,success
"""
CHANGES = """change_id,committed_at,deployment_id
c1,2024-01-01T04:00:00Z,d1
c2,2024-01-03T00:00:00Z,d2
"""
INCIDENTS = """incident_id,created_at,resolved_at
i1,2024-01-03T13:00:00Z,2024-01-03T15:00:00Z
"""


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    paths = []
    for name, text in (("d", DEPLOYMENTS), ("c", CHANGES), ("i", INCIDENTS)):
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        paths.append(str(path))
    d, c, i = paths
    return ["--deployments", d, "--changes", c, "--incidents", i]


def test_json_document(files: list[str]) -> None:
    result = runner.invoke(app, ["dora", *files, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {
        "window",
        "deployment_frequency",
        "lead_time_for_changes_hours",
        "change_failure_rate",
        "failed_deployments",
        "recovery_time_hours",
        "unmatched_changes",
        "bands",
        "weekly",
    }
    assert doc["window"] == {
        "since": "2024-01-01",
        "until": "2024-01-03",
        "days": 3,
        "weeks": pytest.approx(3 / 7),
    }
    assert doc["deployment_frequency"]["deployments"] == 2
    assert doc["lead_time_for_changes_hours"] == {"p50": 9.0, "p85": 11.1, "changes": 2}
    assert doc["change_failure_rate"] == 0.5
    assert doc["recovery_time_hours"]["p50"] == 2.0
    assert set(doc["bands"]) == {
        "deployment_frequency",
        "lead_time_for_changes",
        "change_failure_rate",
        "recovery_time",
    }
    assert doc["weekly"][0]["week"] == "2024-01-01"


def test_window_options(files: list[str]) -> None:
    result = runner.invoke(
        app, ["dora", *files, "--since", "2024-01-02", "--until", "2024-01-08", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["window"]["days"] == 7
    assert doc["deployment_frequency"]["deployments"] == 1  # d2 only


def test_table(files: list[str]) -> None:
    result = runner.invoke(app, ["dora", *files])
    assert result.exit_code == 0, result.output
    for text in (
        "deployment frequency",
        "lead time for changes",
        "change failure rate",
        "recovery time",
        "50 %",  # as the delivery page's tile shows it
        "elite",
    ):
        assert text in result.stdout


def test_a_bad_file_names_file_row_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(DEPLOYMENTS + "d4,production,next tuesday,success\n")
    result = runner.invoke(app, ["dora", "--deployments", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv" in result.stderr and "row 5" in result.stderr
    assert "finished_at" in result.stderr


def test_deployments_or_stream_is_required() -> None:
    result = runner.invoke(app, ["dora"])
    assert result.exit_code == 2
    assert "--deployments" in result.stderr and "--stream" in result.stderr
    both = runner.invoke(app, ["dora", "--deployments", "d.csv", "--stream", "web"])
    assert both.exit_code == 2


def test_a_bad_date_is_a_usage_error(files: list[str]) -> None:
    result = runner.invoke(app, ["dora", *files, "--since", "January"])
    assert result.exit_code == 2
    assert "not a date" in result.stderr


def test_nothing_to_report(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("deployment_id,environment,finished_at,result\nd1,staging,2024-01-01,success\n")
    result = runner.invoke(app, ["dora", "--deployments", str(path)])
    assert result.exit_code == 1
    assert "no deployment to report on" in result.stderr
