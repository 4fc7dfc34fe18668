"""Blocked time from the command line: `obeya metrics FILE --blockers B.csv`, and
`obeya import blockers FILE --stream S` then `obeya metrics --stream S`. The fixture and the
hand-worked figures are in tests/core/test_blockers.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from obeya.cli.main import app

runner = CliRunner()
DATA = Path(__file__).parents[1] / "core" / "data" / "blockers"
EVENTS, WORKFLOW, BLOCKERS = DATA / "events.csv", DATA / "workflow.toml", DATA / "blockers.csv"


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_one_shot_json() -> None:
    doc = json.loads(
        run(
            "metrics",
            str(EVENTS),
            "--workflow",
            str(WORKFLOW),
            "--blockers",
            str(BLOCKERS),
            "--json",
        )
    )
    blocked = doc["blocked"]
    assert blocked["scope"].startswith("finished items")
    assert blocked["as_of"] == "2024-01-14T00:00:00Z"
    assert (blocked["finished_items"], blocked["items_blocked"]) == (4, 4)
    assert (blocked["blocked_days"], blocked["cycle_time_days"]) == (12.0, 31.0)
    assert blocked["share_of_cycle_time"] == pytest.approx(12 / 31, abs=1e-9)
    assert blocked["days"] == {"p50": 3.5, "p85": 4.0}
    assert blocked["by_reason"] == {"env": 7.0, "vendor": 7.0, "review": 4.0}
    assert doc["flow_efficiency"] == pytest.approx(27 / 31, abs=1e-9)
    assert blocked["flow_efficiency_blocked_as_waiting"] == pytest.approx(19 / 31, abs=1e-9)
    assert blocked["now"] == [
        {
            "item_id": "F",
            "reason": "vendor",
            "reasons": ["vendor", "env"],
            "since": "2024-01-09T00:00:00Z",
            "age_days": 5.0,
            "waits_on": ["Ops"],
        }
    ]
    assert blocked["unmatched_items"] == 1


def test_no_blockers_no_block() -> None:
    doc = json.loads(run("metrics", str(EVENTS), "--workflow", str(WORKFLOW), "--json"))
    assert "blocked" not in doc


def test_window_is_respected() -> None:
    doc = json.loads(
        run(
            "metrics", str(EVENTS), "--workflow", str(WORKFLOW), "--blockers", str(BLOCKERS),
            "--since", "2024-01-10", "--until", "2024-01-11", "--json",
        )
    )  # fmt: skip
    # A and D: 7 of 17 days (tests/core/test_blockers.py, test_window).
    assert doc["blocked"]["share_of_cycle_time"] == pytest.approx(7 / 17, abs=1e-9)
    assert [n["item_id"] for n in doc["blocked"]["now"]] == ["C", "F"]


def test_text_output_has_a_blocked_line() -> None:
    text = run("metrics", str(EVENTS), "--workflow", str(WORKFLOW), "--blockers", str(BLOCKERS))
    # 12 / 31 = 38.7 %, shown as 39 %; p85 4.0 days.
    assert "blocked (share of cycle time)" in text
    assert "38.7 % · 4 of 4 items, p85 4.0 days · 1 blocked now" in text


def test_a_bad_blockers_file_names_file_row_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("item_id,blocked_at,unblocked_at,reason\nA,2024-01-05,2024-01-04,env\n")
    result = runner.invoke(
        app, ["metrics", str(EVENTS), "--workflow", str(WORKFLOW), "--blockers", str(bad)]
    )
    assert result.exit_code == 1
    assert f"{bad}, row 2, field 'unblocked_at'" in result.output


def test_import_into_a_stream_is_idempotent(obeya_home: Path) -> None:
    run("import", str(EVENTS), "--stream", "S", "--workflow", str(WORKFLOW))
    assert "blocked" not in json.loads(run("metrics", "--stream", "S", "--json"))
    first = run("import", "blockers", str(BLOCKERS), "--stream", "S")
    assert "14 blockers read, 14 new, 0 updated" in first
    doc = json.loads(run("metrics", "--stream", "S", "--json"))
    again = run("import", "blockers", str(BLOCKERS), "--stream", "S")
    assert "14 blockers read, 0 new, 0 updated" in again
    assert json.loads(run("metrics", "--stream", "S", "--json")) == doc
    assert doc["blocked"]["share_of_cycle_time"] == pytest.approx(12 / 31, abs=1e-9)


def test_blockers_option_is_for_a_file(obeya_home: Path) -> None:
    result = runner.invoke(app, ["metrics", "--stream", "S", "--blockers", str(BLOCKERS)])
    assert result.exit_code == 2


TEAMS = DATA / "teams"


def test_an_impediment_becomes_a_risk_and_an_improvement(obeya_home: Path) -> None:
    """The cross-team fixture (tests/core/test_blockers_cross_team.py): Pay waits on Plat,
    9 blocked days in the 28 days up to 12 January: 2.25 a week."""
    run("import", str(TEAMS / "events.csv"), "--stream", "T", "--workflow", str(WORKFLOW))
    run("import", "blockers", str(TEAMS / "blockers.csv"), "--stream", "T")
    doc = json.loads(run("metrics", "--stream", "T", "--json"))
    assert doc["blocked"]["cross_team"]["cross_team_days"] == 15.0
    said = run(
        "blockers", "to-risk", "--stream", "T", "--waiting-team", "Pay", "--blocking-team", "Plat"
    )
    assert "saved risk 'R-1' from the impediment Pay waits on Plat" in said
    board = json.loads(run("risk", "board", "--stream", "T", "--json"))
    [card] = board["board"]["open"]
    assert card["impediment_cost"]["blocked_days_per_week"] == 2.25
    assert (card["impediment_cost"]["since"], card["impediment_cost"]["until"]) == (
        "2023-12-15",
        "2024-01-12",
    )
    assert "costs 2.2 blocked d/week" in run("risk", "board", "--stream", "T")
    again = runner.invoke(
        app,
        [
            "blockers",
            "to-risk",
            "--stream",
            "T",
            "--waiting-team",
            "Pay",
            "--blocking-team",
            "Plat",
        ],
    )
    assert again.exit_code == 1  # a second risk would count the exposure twice
    assert "the impediment 'Pay waits on Plat' is already risk R-1" in again.output
    nothing = runner.invoke(app, ["blockers", "to-risk", "--stream", "T"])
    assert "name the impediment: a blocked item with its reason" in nothing.output
    said = run("blockers", "to-improvement", "P1", "--reason", "api", "--stream", "T")
    assert "saved improvement 'I-1' from the impediment P1 blocked by api" in said
    missing = runner.invoke(app, ["blockers", "to-risk", "P1", "--reason", "x", "--stream", "T"])
    assert missing.exit_code == 1
    assert "has no impediment 'P1 blocked by x'" in missing.output
