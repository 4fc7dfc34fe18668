"""Discovery on small logs worked by hand: every figure's arithmetic is in the comments."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.cli.maps_discover import discover_command
from obeya.core.events import EventLog
from obeya.core.maps.discovery import discover
from obeya.core.workflow import Workflow
from obeya.errors import InputError

T0 = datetime(2024, 1, 1)

WORKFLOW = """backlog = ["To Do"]
active = ["Dev", "Test"]
waiting = ["Ready for Dev", "Ready for Test"]
done = ["Done"]
order = ["To Do", "Ready for Dev", "Dev", "Ready for Test", "Test", "Done"]
"""
STAGES = """
[stages]
Develop = ["Ready for Dev", "Dev"]
Verify = ["Ready for Test", "Test"]
Finish = ["Done"]
"""

# (item, state, hours after T0, assignee)
# A flows straight through: Develop 1→7 (LT 6 h; Dev 3→7, PT 4 h), Verify 7→10 (LT 3 h; Test
#   8→10, PT 2 h); the assignee never changes at a step entry (alice→alice, bob→bob).
# B goes back from Verify to Develop (rework): Develop 2→4 and 5→9 (PT = LT = 2 + 4 = 6 h),
#   Verify 4→5 and 9→10 (PT = LT = 1 + 1 = 2 h); all four entries change assignee
#   (alice→bob, bob→carol, carol→dave, dave→carol).
# C is still in Develop at its last event: its visit is open, so it adds no time and no %C&A;
#   its entry (alice→alice) is no handoff; it waited in Ready for Dev 2→4.
ROWS = [
    ("A", "To Do", 0, "alice"),
    ("A", "Ready for Dev", 1, "alice"),
    ("A", "Dev", 3, "bob"),
    ("A", "Ready for Test", 7, "bob"),
    ("A", "Test", 8, "carol"),
    ("A", "Done", 10, "carol"),
    ("B", "To Do", 0, "alice"),
    ("B", "Dev", 2, "bob"),
    ("B", "Test", 4, "carol"),
    ("B", "Dev", 5, "dave"),
    ("B", "Test", 9, "carol"),
    ("B", "Done", 10, "carol"),
    ("C", "To Do", 0, "alice"),
    ("C", "Ready for Dev", 2, "alice"),
    ("C", "Dev", 4, "erin"),
]


def make_log(with_assignee: bool = True) -> EventLog:
    return EventLog.from_rows(
        {
            "item_id": item,
            "state": state,
            "timestamp": T0 + timedelta(hours=hours),
            **({"assignee": who} if with_assignee else {}),
        }
        for item, state, hours, who in ROWS
    )


@pytest.fixture
def staged() -> Workflow:
    return Workflow.from_toml_text(WORKFLOW + STAGES)


def test_two_stages_with_active_and_waiting_states(staged: Workflow) -> None:
    d = discover(make_log(), staged)
    # Finish holds only a done state: no step.
    assert [s.name for s in d.steps] == ["Develop", "Verify"]
    develop, verify = d.steps
    assert develop.states == ("Ready for Dev", "Dev")
    # Items with a completed visit: A and B (C's visit is open).
    assert develop.items == 2 and verify.items == 2
    # Develop PT: A 4 h, B 6 h -> mean 5; LT: A 6 h, B 6 h -> 6.
    assert develop.process_time_hours == pytest.approx(5.0)
    assert develop.lead_time_hours == pytest.approx(6.0)
    # Verify PT: A 2, B 2 -> 2; LT: A 3, B 2 -> 2.5.
    assert verify.process_time_hours == pytest.approx(2.0)
    assert verify.lead_time_hours == pytest.approx(2.5)
    # Waiting in Ready for Dev: A 2 h + C 2 h = 4 item-hours over the 10 h of the log.
    assert develop.inventory_before == pytest.approx(0.4)
    # Ready for Test: A 1 h over 10 h.
    assert verify.inventory_before == pytest.approx(0.1)
    assert d.inventory_days == pytest.approx(10 / 24)
    # Demand served: A, B and C entered a step over 10 h = 10/24 day -> 7.2 items a day.
    assert d.demand_items == 3
    assert d.demand_per_day == pytest.approx(7.2)


def test_rework_lowers_complete_accurate(staged: Workflow) -> None:
    develop, verify = discover(make_log(), staged).steps
    # First visits completed: A and B in both steps; B comes back to Develop each time.
    assert (develop.complete_accurate, develop.complete_accurate_items) == (0.5, 2)
    assert (verify.complete_accurate, verify.complete_accurate_items) == (0.5, 2)


def test_open_visit_is_excluded_from_times() -> None:
    # C alone: its Develop visit never ends, so nothing is measured in Develop.
    log = EventLog.from_rows(
        (item, state, T0 + timedelta(hours=h)) for item, state, h, _ in ROWS if item == "C"
    )
    develop, verify = discover(log, Workflow.from_toml_text(WORKFLOW + STAGES)).steps
    assert develop.items == 0 and develop.process_time_hours is None
    assert develop.lead_time_hours is None and develop.complete_accurate is None
    assert develop.complete_accurate_items == 0
    # Still waiting at the end of the data: Ready for Dev 2→4 over the log's 4 h.
    assert develop.inventory_before == pytest.approx(0.5)
    assert verify.items == 0


def test_handoffs_from_assignee_changes(staged: Workflow) -> None:
    d = discover(make_log(), staged)
    develop, verify = d.steps
    assert d.handoff_column == "assignee"
    # Develop entries: A 0, B 2 (at 2 h and 5 h), C 0 -> 2 handoffs / 3 items.
    assert develop.handoff_items == 3
    assert develop.handoffs == pytest.approx(2 / 3)
    # Verify entries: A 0, B 2 -> 2 / 2 items.
    assert (verify.handoffs, verify.handoff_items) == (1.0, 2)


def test_no_handoffs_without_people_columns(staged: Workflow) -> None:
    d = discover(make_log(with_assignee=False), staged)
    assert d.handoff_column is None
    assert all(s.handoffs is None for s in d.steps)


def test_team_is_used_when_there_is_no_assignee(staged: Workflow) -> None:
    # Only B's Test (4 h) and Dev (5 h) events are team qa; every other event is team dev.
    teams = {("B", "Test", 4): "qa", ("B", "Dev", 5): "qa"}
    log = EventLog.from_rows(
        {
            "item_id": item,
            "state": state,
            "timestamp": T0 + timedelta(hours=h),
            "team": teams.get((item, state, h), "dev"),
        }
        for item, state, h, _ in ROWS
    )
    d = discover(log, staged)
    assert d.handoff_column == "team"
    develop, verify = d.steps
    # Develop entries: B at 2 h dev→dev, at 5 h qa→qa; A and C dev→dev: 0 / 3 items.
    assert develop.handoffs == pytest.approx(0.0)
    # Verify entries: B at 4 h dev→qa and at 9 h qa→dev, A dev→dev: 2 / 2 items.
    assert verify.handoffs == pytest.approx(1.0)


def test_without_stages_each_started_state_is_a_step() -> None:
    d = discover(make_log(), Workflow.from_toml_text(WORKFLOW))
    # Active and waiting states in the workflow's order; To Do and Done are no steps.
    assert [s.name for s in d.steps] == ["Ready for Dev", "Dev", "Ready for Test", "Test"]
    ready, dev, ready_test, test = d.steps
    # Ready for Dev: A's 1→3 completed (2 h, waiting so PT 0); C's 2→4 completed too (→ Dev).
    assert ready.items == 2
    assert (ready.process_time_hours, ready.lead_time_hours) == (0.0, 2.0)
    # Dev: A 3→7 (4 h), B 2→4 + 5→9 (6 h), C open -> mean 5; B came back to Dev: 1/2.
    assert dev.items == 2
    assert dev.process_time_hours == pytest.approx(5.0)
    assert dev.lead_time_hours == pytest.approx(5.0)
    assert dev.complete_accurate == 0.5
    # Test: A 8→10 (2 h), B 4→5 + 9→10 (2 h); B's first Test visit went back to Dev: rework.
    assert test.lead_time_hours == pytest.approx(2.0)
    assert test.complete_accurate == 0.5
    assert ready_test.items == 1


def test_without_workflow_each_state_is_a_step_in_mean_position_order() -> None:
    d = discover(make_log(), None)
    # Mean positions: To Do 0, Ready for Dev 1, Dev 2, Ready for Test 3, Test 10/3, Done 5.
    names = [s.name for s in d.steps]
    assert names == ["To Do", "Ready for Dev", "Dev", "Ready for Test", "Test", "Done"]
    todo = d.steps[0]
    # Every state counts as worked: To Do A 1 h, B 2 h, C 2 h -> mean 5/3 = PT = LT.
    assert todo.process_time_hours == todo.lead_time_hours == pytest.approx(5 / 3)
    assert todo.inventory_before == 0.0
    # Done is every item's last event: never a completed visit.
    assert d.steps[-1].items == 0


def test_contract_and_map(staged: Workflow) -> None:
    d = discover(make_log(), staged)
    doc = json.loads(json.dumps(d.to_dict()))
    required = {"name", "items", "process_time_hours", "lead_time_hours", "complete_accurate"}
    for step in doc["steps"]:
        assert required | {"states", "handoffs", "inventory_before"} <= set(step)
        assert 0 <= step["complete_accurate"] <= 1
    totals = doc["totals"]
    # LT 6 + 2.5, PT 5 + 2, ratio 7 / 8.5, rolled 0.5 × 0.5.
    assert totals["lead_time_hours"] == pytest.approx(8.5)
    assert totals["process_time_hours"] == pytest.approx(7.0)
    assert totals["activity_ratio"] == pytest.approx(7 / 8.5)
    assert totals["rolled_complete_accurate"] == pytest.approx(0.25)
    vsm = d.to_map("Team A")
    assert [s.name for s in vsm.steps] == ["Develop", "Verify"]
    assert vsm.step("Verify").lead_time_hours == pytest.approx(2.5)
    assert vsm.step("Develop").items == 2 and vsm.step("Develop").people == 1.0


def test_map_of_unmeasured_steps_still_validates() -> None:
    # Only C (open visit): no figures; the map gets 0 h and 100 % C&A rather than failing.
    log = EventLog.from_rows(
        (item, state, T0 + timedelta(hours=h)) for item, state, h, _ in ROWS if item == "C"
    )
    vsm = discover(log, Workflow.from_toml_text(WORKFLOW + STAGES)).to_map("C")
    assert vsm.step("Develop").complete_accurate == 1.0
    assert vsm.step("Develop").lead_time_hours == 0.0


# -- the command ------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def root() -> typer.Typer:
    root = typer.Typer()
    root.command("discover")(discover_command)

    @root.callback()
    def _group() -> None:
        """Keeps ``discover`` a sub-command, as on the ``map`` sub-app."""

    return root


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "items.csv"
    lines = ["key,status,at,owner"]
    for item, state, h, who in ROWS:
        lines.append(f"{item},{state},{(T0 + timedelta(hours=h)).isoformat()}Z,{who}")
    data.write_text("\n".join(lines) + "\n")
    workflow = tmp_path / "workflow.toml"
    workflow.write_text(WORKFLOW + STAGES)
    return data, workflow


COLUMN_OPTIONS = [
    "--item-column",
    "key",
    "--state-column",
    "status",
    "--timestamp-column",
    "at",
    "--assignee-column",
    "owner",
]


def test_command_json(root: typer.Typer, files: tuple[Path, Path]) -> None:
    data, workflow = files
    args = ["discover", str(data), "--workflow", str(workflow), *COLUMN_OPTIONS, "--json"]
    result = runner.invoke(root, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["name"] for s in doc["steps"]] == ["Develop", "Verify"]
    assert doc["steps"][1]["lead_time_hours"] == pytest.approx(2.5)
    assert doc["steps"][0]["handoffs"] == pytest.approx(2 / 3)
    assert doc["totals"]["rolled_complete_accurate"] == pytest.approx(0.25)


def test_command_table(root: typer.Typer, files: tuple[Path, Path]) -> None:
    data, workflow = files
    result = runner.invoke(
        root, ["discover", str(data), "--workflow", str(workflow), *COLUMN_OPTIONS]
    )
    assert result.exit_code == 0, result.output
    assert "Develop" in result.stdout and "Verify" in result.stdout
    assert "Total LT 8.5 h" in result.stdout
    assert "rolled %C&A 25 %" in result.stdout


def test_command_needs_file_or_stream(root: typer.Typer) -> None:
    result = runner.invoke(root, ["discover"])
    assert result.exit_code == 2


def test_command_reports_bad_workflow(root: typer.Typer, files: tuple[Path, Path]) -> None:
    data, _ = files
    result = runner.invoke(root, ["discover", str(data), "--workflow", str(data.parent / "x.toml")])
    assert result.exit_code == 1
    assert "x.toml" in result.output


def test_command_on_a_stored_stream(
    root: typer.Typer, files: tuple[Path, Path], obeya_home: Path
) -> None:
    data, workflow = files
    imported = runner.invoke(
        app, ["import", str(data), "--stream", "S", "--workflow", str(workflow), *COLUMN_OPTIONS]
    )
    assert imported.exit_code == 0, imported.output
    stored = runner.invoke(root, ["discover", "--stream", "S", "--json"])
    assert stored.exit_code == 0, stored.output
    one_shot = runner.invoke(
        root, ["discover", str(data), "--workflow", str(workflow), *COLUMN_OPTIONS, "--json"]
    )
    a, b = json.loads(stored.stdout), json.loads(one_shot.stdout)
    a.pop("source")
    b.pop("source")
    assert a == b


def test_no_step_is_a_clear_error() -> None:
    only_done = Workflow.from_toml_text('backlog = ["To Do"]\ndone = ["Done", "Dev"]\n')
    with pytest.raises(InputError, match="no step to map"):
        discover(make_log(), only_done)


def test_a_loop_back_is_found_and_drawn_on_the_map(staged: Workflow) -> None:
    """B goes from Verify (Test 4→5) straight back to Develop (Dev 5→9): one move back; two
    items (A and B) completed a Verify visit, so 0.5 moves back per item that passes it. One
    move is at least 5 % of the three items that entered a step, so the map keeps the loop,
    its file reads it back, and a loop that goes forward or names no step is refused."""
    from obeya.core.maps.files import dump_map_toml, map_from_dict
    from obeya.core.maps.model import MapError, ReworkLoop
    from obeya.core.tomlfile import parse_toml

    d = discover(make_log(), staged)
    assert [(x.source, x.target, x.moves, x.share) for x in d.loops] == [
        ("Verify", "Develop", 1, 0.5)
    ]
    assert d.to_dict()["rework_loops"] == [
        {"from": "Verify", "to": "Develop", "moves": 1, "share": 0.5}
    ]
    vsm = d.to_map("Team A")
    assert vsm.rework_loops == (ReworkLoop("Verify", "Develop", 0.5),)
    text = dump_map_toml(vsm)
    assert "[[rework_loop]]" in text
    assert map_from_dict(parse_toml(text, "t.toml", MapError), "t.toml") == vsm
    raw = parse_toml(text, "t.toml", MapError)
    raw["rework_loop"] = [{"source": "Develop", "target": "Verify", "share": 0.5}]
    with pytest.raises(MapError, match=r"rework_loops\[0\]: 'Verify' does not come before"):
        map_from_dict(raw, "t.toml")
    raw["rework_loop"] = [{"source": "Verify", "target": "Nowhere", "share": 0.5}]
    with pytest.raises(MapError, match=r"rework_loops\[0\]\.target 'Nowhere' is no step"):
        map_from_dict(raw, "t.toml")


def test_the_table_keeps_every_figure_whole_on_a_narrow_terminal() -> None:
    """On an 80-column terminal the discovered Helpdesk map's figures are printed in full
    (the step names wrap instead): each step's item count, as counted by the discovery, is
    on the page, and no cell is cut short with an ellipsis."""
    from rich.console import Console

    from obeya.cli.maps_discover import print_discovery
    from obeya.ingest import read_events

    from support import DATASETS

    result = discover(read_events(DATASETS / "helpdesk.xes.gz"), None)
    console = Console(width=80, record=True)
    print_discovery(result, console)
    text = console.export_text()
    assert "…" not in text
    table = text.split("Total LT")[0]
    for step in result.steps:
        assert f"{step.items:,}" in table
    assert max(len(line.rstrip()) for line in table.splitlines()) <= 80


def test_a_state_the_twin_finds_nobody_works_is_measured_as_waiting() -> None:
    """Helpdesk's inferred workflow calls "Resolve ticket" active, but a resolved ticket is
    closed by the clock (the twin makes it a delay): discovered with the twin, its step keeps
    its lead time and has no process time, as the saved map and the twin have it; discovered
    from the workflow alone it would count the month's wait as work."""
    from obeya.core.maps.discovery import discover_with_twin
    from obeya.core.workflow_infer import infer_workflow
    from obeya.ingest import read_events

    from support import DATASETS

    log = read_events(DATASETS / "helpdesk.xes.gz")
    workflow = infer_workflow(log)[0]
    assert "Resolve ticket" in workflow.active
    plain = {s.name: s for s in discover(log, workflow).steps}
    found, twin = discover_with_twin(log, workflow)
    assert twin.state("Resolve ticket").kind == "delay"
    step = next(s for s in found.steps if s.name == "Resolve ticket")
    assert plain["Resolve ticket"].process_time_hours == plain["Resolve ticket"].lead_time_hours
    assert step.process_time_hours == 0
    assert step.lead_time_hours == plain["Resolve ticket"].lead_time_hours
    worked = next(s for s in found.steps if s.name == "Take in charge ticket")
    assert worked.process_time_hours == plain["Take in charge ticket"].process_time_hours > 0


def test_a_history_no_twin_can_be_fitted_to_is_still_mapped() -> None:
    """Every event at one instant: no twin can run from it (its history has no span), yet
    the map is discovered as it is, without the twin's reading of the workflow."""
    from obeya.core.maps.discovery import discover_with_twin
    from obeya.core.twin.fit import fit_twin
    from obeya.core.twin.model import TwinError

    moment = datetime(2024, 1, 1)
    rows = [
        {"item_id": f"I{i}", "state": state, "timestamp": moment}
        for i in range(3)
        for state in ("Doing", "Done")
    ]
    log = EventLog.from_rows(rows, source="one instant")
    workflow = Workflow.from_mapping({"active": ["Doing"], "done": ["Done"]})
    with pytest.raises(TwinError):
        fit_twin(log, workflow)
    found, twin = discover_with_twin(log, workflow)
    assert twin is None
    assert [s.name for s in found.steps] == ["Doing"]
    assert found.steps[0].items == 3
