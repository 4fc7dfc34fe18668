"""Dependencies: the plan file, cycles, the critical path method, the cross-team matrix,
need-by dates, dependencies at risk, the CLI and the drawing."""

from __future__ import annotations

import itertools
import json
import random
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from obeya.cli.main import app
from obeya.core.events import EventLog
from obeya.core.forecast import history_window, when
from obeya.core.steering.dependencies import (
    Plan,
    PlanError,
    Task,
    dependency_matrix,
    dependency_risks,
    find_cycle,
    load_plan,
    plan_from_dict,
    provider_forecast,
    schedule,
    topological_order,
)
from obeya.core.steering.team_throughput import throughput_by_team
from obeya.render.dependency_svg import dependency_svg

runner = CliRunner()
SAMPLE_PLAN = Path(__file__).parents[2] / "src" / "obeya" / "samples" / "plan.toml"

# A textbook network, worked by hand (finish-to-start, days):
#
#   task  dur  depends on   ES  EF   LS  LF   total slack  free slack
#   A      3   –             0   3    0   3   0            min(3, 3) − 3 = 0
#   B      4   A             3   7    3   7   0            7 − 7 = 0
#   C      2   A             3   5    9  11   6            5 − 5 = 0
#   D      5   B             7  12    7  12   0            12 − 12 = 0
#   E      1   C             5   6   11  12   6            12 − 6 = 6
#   F      2   D, E         12  14   12  14   0            14 − 14 = 0
#
# Forward: EF = ES + dur, ES = max EF of the dependencies; F ends at 14 = the duration.
# Backward: LF of F = 14; LF = min LS of the dependents; LS = LF − dur.
# Paths: A-B-D-F = 3+4+5+2 = 14 (critical), A-C-E-F = 3+2+1+2 = 8 (slack 6).
TEXTBOOK = """
name = "Textbook"
start = 2025-03-03

[[task]]
id = "A"
team = "Red"
duration_days = 3

[[task]]
id = "B"
team = "Red"
duration_days = 4
depends_on = ["A"]

[[task]]
id = "C"
team = "Blue"
duration_days = 2
depends_on = ["A"]

[[task]]
id = "D"
team = "Blue"
duration_days = 5
depends_on = ["B"]
need_by = 2025-03-13

[[task]]
id = "E"
team = "Green"
duration_days = 1
depends_on = ["C"]
need_by = 2025-03-20

[[task]]
id = "F"
team = "Green"
duration_days = 2
depends_on = ["D", "E"]
"""

EXPECTED = {  # id: (ES, EF, LS, LF, total slack, free slack)
    "A": (0, 3, 0, 3, 0, 0),
    "B": (3, 7, 3, 7, 0, 0),
    "C": (3, 5, 9, 11, 6, 0),
    "D": (7, 12, 7, 12, 0, 0),
    "E": (5, 6, 11, 12, 6, 6),
    "F": (12, 14, 12, 14, 0, 0),
}


def write(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_textbook_cpm(tmp_path: Path) -> None:
    sched = schedule(load_plan(write(tmp_path, TEXTBOOK)))
    times = sched.by_id
    for tid, (es, ef, ls, lf, slack, free) in EXPECTED.items():
        t = times[tid]
        assert (t.early_start, t.early_finish, t.late_start, t.late_finish) == (es, ef, ls, lf)
        assert (t.total_slack, t.free_slack) == (slack, free), tid
    assert sched.duration == 14
    assert sched.critical_path == ("A", "B", "D", "F")
    assert sched.critical_tasks == ["A", "B", "D", "F"]
    # Dates: day 0 is 2025-03-03; F runs days 12–14, so it is done by the end of 03-16.
    assert sched.end == date(2025, 3, 16)
    # D (days 7–12) is done by 03-14, one day after its need-by date; E (done 03-08) in time.
    checks = {c.task_id: c for c in sched.need_by_checks()}
    assert checks["D"].early_finish == date(2025, 3, 14)
    assert checks["D"].days_late == 1
    assert checks["E"].days_late == 0
    assert [c.task_id for c in sched.need_by_misses()] == ["D"]


def _brute_force(tasks: dict[str, tuple[Fraction, list[str]]]) -> tuple[Fraction, set[str]]:
    """Longest path by enumerating every path from a task with no dependency to a task
    nothing depends on: (its length, the tasks on some longest path)."""
    dependents: dict[str, list[str]] = {t: [] for t in tasks}
    for t, (_, deps) in tasks.items():
        for d in deps:
            dependents[d].append(t)
    paths: list[list[str]] = []

    def walk(path: list[str]) -> None:
        nxt = dependents[path[-1]]
        if not nxt:
            paths.append(path)
        for n in nxt:
            walk([*path, n])

    for t, (_, deps) in tasks.items():
        if not deps:
            walk([t])
    lengths = [sum((tasks[t][0] for t in p), Fraction(0)) for p in paths]
    best = max(lengths)
    on_best = {t for p, n in zip(paths, lengths, strict=True) if n == best for t in p}
    return best, on_best


@pytest.mark.parametrize("seed", range(12))
def test_cpm_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(3, 9)
    ids = [f"T{i}" for i in range(n)]
    tasks: dict[str, tuple[Fraction, list[str]]] = {}
    for i, tid in enumerate(ids):
        deps = sorted(rng.sample(ids[:i], rng.randint(0, min(i, 3))))
        # durations in quarter days, some zero (milestones)
        tasks[tid] = (Fraction(rng.randint(0, 24), 4), deps)
    order = ids[:]
    rng.shuffle(order)  # plan order need not be topological
    plan = Plan(
        task=tuple(
            Task(
                id=t,
                team=f"team{int(t[1:]) % 3}",
                duration_days=float(tasks[t][0]),
                depends_on=tuple(tasks[t][1]),
            )
            for t in order
        )
    )
    sched = schedule(plan)
    best, on_best = _brute_force(tasks)
    assert sched.duration == best
    assert set(sched.critical_tasks) == on_best
    path = sched.critical_path
    assert sum((tasks[t][0] for t in path), Fraction(0)) == best
    for a, b in itertools.pairwise(path):
        assert a in tasks[b][1]  # each waits for the one before
    assert not tasks[path[0]][1]


def test_several_critical_chains_pick_plan_order() -> None:
    # Two equal chains A-B-D and A-C-D: the path takes B, first in plan order; both critical.
    plan = Plan(
        task=(
            Task(id="A", team="x", duration_days=1),
            Task(id="C", team="x", duration_days=2, depends_on=("A",)),
            Task(id="B", team="x", duration_days=2, depends_on=("A",)),
            Task(id="D", team="x", duration_days=1, depends_on=("B", "C")),
        )
    )
    sched = schedule(plan)
    assert sched.critical_path == ("A", "C", "D")
    assert set(sched.critical_tasks) == {"A", "B", "C", "D"}


def test_cycle_is_reported_with_its_ids(tmp_path: Path) -> None:
    text = """
[[task]]
id = "A"
team = "x"
duration_days = 1
depends_on = ["C"]

[[task]]
id = "B"
team = "x"
duration_days = 1
depends_on = ["A"]

[[task]]
id = "C"
team = "y"
duration_days = 1
depends_on = ["B"]

[[task]]
id = "D"
team = "y"
duration_days = 1
"""
    path = write(tmp_path, text)
    plan = load_plan(path)
    assert find_cycle(plan) == ["A", "C", "B", "A"]
    with pytest.raises(PlanError, match=r"plan\.toml: a cycle: A → C → B → A"):
        schedule(plan)
    result = runner.invoke(app, ["deps", "critical-path", str(path), "--json"])
    assert result.exit_code == 1
    assert "a cycle: A → C → B → A" in result.output


def test_self_dependency_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\ndepends_on = ["A"]\n'
    )
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert str(caught.value) == (
        f"{path}: depends_on of task[0] ('A') lists the task itself: a task cannot wait for itself"
    )
    assert caught.value.field == "depends_on" and caught.value.value == "A"


@pytest.mark.parametrize(
    ("tasks", "message", "field", "value"),
    [
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\ndepends_on = ["Z"]\n',
            r"plan\.toml: depends_on of task\[0\] \('A'\) lists unknown id 'Z'; known ids: A$",
            "depends_on",
            "Z",
        ),
        (  # the index is the task's place in the file: C is the third [[task]]
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\n'
            '[[task]]\nid = "B"\nteam = "x"\nduration_days = 1\ndepends_on = ["A"]\n'
            '[[task]]\nid = "C"\nteam = "y"\nduration_days = 1\ndepends_on = ["A", "Z"]\n',
            r"plan\.toml: depends_on of task\[2\] \('C'\) lists unknown id 'Z'; "
            r"known ids: A, B, C$",
            "depends_on",
            "Z",
        ),
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\n'
            '[[task]]\nid = "A"\nteam = "y"\nduration_days = 2\n',
            r"plan\.toml: id of task\[1\] is 'A', already the id of task\[0\]; ids must differ",
            "id",
            "A",
        ),
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = -2\n',
            r"plan\.toml: task\[0\] \('A'\): duration_days is -2; give days ≥ 0, at most 3,652,058",
            "duration_days",
            -2,
        ),
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = "5"\n',
            r"plan\.toml: task\[0\] \('A'\): duration_days is '5'; give days ≥ 0",
            "duration_days",
            "5",
        ),
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration = 5\n',
            r"plan\.toml: task\[0\] \('A'\): unknown field 'duration'; known fields: id, name, "
            r"team, duration_days, depends_on, need_by, items$",
            "duration",
            5,
        ),
        (
            '[[task]]\nid = "A"\nduration_days = 5\n',
            r"plan\.toml: task\[0\] \('A'\): team is missing$",
            "team",
            None,
        ),
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\nneed_by = "soon"\n',
            r"plan\.toml: task\[0\] \('A'\): need_by is 'soon'; give a date as YYYY-MM-DD$",
            "need_by",
            "soon",
        ),
        (
            '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\ndepends_on = ["B", "B"]\n'
            '[[task]]\nid = "B"\nteam = "x"\nduration_days = 1\n',
            r"plan\.toml: task\[0\] \('A'\): depends_on lists 'B' twice$",
            "depends_on",
            ["B", "B"],
        ),
        (
            'name = "Nothing yet"\n',
            r"plan\.toml: task is empty; give at least one \[\[task\]\]$",
            "task",
            [],
        ),
    ],
)
def test_bad_plans_name_file_task_and_field(
    tmp_path: Path, tasks: str, message: str, field: str, value: object
) -> None:
    path = write(tmp_path, tasks)
    with pytest.raises(PlanError, match=message) as caught:
        load_plan(path)
    assert (caught.value.field, caught.value.value) == (field, value)
    svg = tmp_path / "out.svg"
    result = runner.invoke(app, ["deps", "draw", str(path), "-o", str(svg)])
    assert result.exit_code == 1
    assert not svg.exists()  # nothing saved


def test_a_file_without_a_name_is_named_by_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[[task]]\nid = "A"\nteam = "x"\nduration_days = 1\n', "release.toml")
    assert load_plan(path).name == "release"
    assert load_plan(write(tmp_path, TEXTBOOK)).name == "Textbook"


def test_a_plan_reads_back_what_it_writes(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, TEXTBOOK))
    doc = plan.to_dict()
    assert list(doc) == ["name", "start", "task"] and doc["start"] == "2025-03-03"
    assert list(doc["task"][0]) == [
        "id", "name", "team", "duration_days", "depends_on", "need_by", "items"
    ]  # fmt: skip
    assert plan_from_dict(doc, plan.source) == plan


def test_dependency_matrix_by_hand(tmp_path: Path) -> None:
    # Red: A, B; Blue: C, D; Green: E, F.
    # B (Red) → A (Red); C (Blue) → A (Red); D (Blue) → B (Red); E (Green) → C (Blue);
    # F (Green) → D (Blue), E (Green).
    matrix = dependency_matrix(load_plan(write(tmp_path, TEXTBOOK)))
    assert matrix == {
        "Red": {"Red": 1, "Blue": 0, "Green": 0},
        "Blue": {"Red": 2, "Blue": 0, "Green": 0},
        "Green": {"Red": 0, "Blue": 2, "Green": 1},
    }


def _steady(days: int, per_day: int, last: date) -> dict[str, int]:
    return {(last - timedelta(days=i)).isoformat(): per_day for i in range(days)}


def test_at_risk_exact_for_a_steady_provider() -> None:
    # Exactly 2 items every day: 10 items take exactly 5 days, done by start + 4.
    start = date(2025, 3, 3)
    daily = _steady(84, 2, start - timedelta(days=1))
    for need_by, expected in [
        (start + timedelta(days=4), 1.0),
        (start + timedelta(days=10), 1.0),
        (start + timedelta(days=3), 0.0),
        (start - timedelta(days=1), 0.0),
    ]:
        forecast, on_time = provider_forecast(daily, 10, need_by, start=start, trials=500)
        assert on_time == expected, need_by
        assert forecast.histogram == {5: 500}


def test_at_risk_matches_the_when_histogram() -> None:
    rng = random.Random(7)
    last = date(2025, 2, 28)
    daily = {(last - timedelta(days=i)).isoformat(): rng.choice([0, 0, 1, 2, 5]) for i in range(84)}
    start = date(2025, 3, 3)  # later than the data: the window is the data's last 84 days
    need_by = date(2025, 3, 14)
    forecast, on_time = provider_forecast(daily, 20, need_by, start=start, trials=4000, seed=3)
    reference = when(
        history_window(daily, date(2025, 3, 1), 84), 20, trials=4000, seed=3, start=start
    )
    assert forecast.histogram == reference.histogram
    allowed = (need_by - start).days + 1  # 12 days: 03-03 … 03-14
    expected = sum(n for d, n in reference.histogram.items() if d <= allowed) / 4000
    assert on_time == expected
    assert 0 < on_time < 1


def test_dependency_risks_start_at_the_early_start(tmp_path: Path) -> None:
    # D starts on day 7 (2025-03-10); its team Blue finishes 1 item a day, so 4 items are
    # done by the end of 03-13: on time for need_by 03-13, at risk for 03-12.
    text = TEXTBOOK.replace("need_by = 2025-03-13", "need_by = 2025-03-13\nitems = 4")
    sched = schedule(load_plan(write(tmp_path, text)))
    by_team = {"Blue": _steady(84, 1, date(2025, 3, 2))}
    (risk,) = dependency_risks(sched, by_team, trials=200)
    assert risk.start == date(2025, 3, 10)
    assert risk.on_time == 1.0 and not risk.at_risk
    assert risk.dependents == ("F",)
    late = schedule(load_plan(write(tmp_path, text.replace("2025-03-13", "2025-03-12"))))
    (risk,) = dependency_risks(late, by_team, trials=200)
    assert risk.on_time == 0.0 and risk.at_risk
    with pytest.raises(PlanError, match=r"task\[3\] \('D'\): field 'team': no history of team"):
        dependency_risks(sched, {"Red": by_team["Blue"]}, trials=200)


def test_throughput_by_team_counts_the_finishing_team() -> None:
    log = EventLog.from_rows(
        [
            {"item_id": "a", "state": "Doing", "timestamp": "2025-01-01T10:00", "team": "X"},
            {"item_id": "a", "state": "Done", "timestamp": "2025-01-02T10:00", "team": "Y"},
            {"item_id": "b", "state": "Doing", "timestamp": "2025-01-01T11:00", "team": "X"},
            {"item_id": "b", "state": "Done", "timestamp": "2025-01-04T10:00"},
        ]
    )
    assert throughput_by_team(log) == {
        "X": {"2025-01-02": 0, "2025-01-03": 0, "2025-01-04": 1},
        "Y": {"2025-01-02": 1, "2025-01-03": 0, "2025-01-04": 0},
    }


def test_cli_json_keys(tmp_path: Path) -> None:
    result = runner.invoke(app, ["deps", "critical-path", str(write(tmp_path, TEXTBOOK)), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["critical_path"] == ["A", "B", "D", "F"]
    assert doc["duration_days"] == 14
    assert doc["slack_days"] == {"A": 0, "B": 0, "C": 6, "D": 0, "E": 6, "F": 0}
    assert doc["critical_tasks"] == ["A", "B", "D", "F"]
    assert doc["end"] == "2025-03-16"


def test_cli_text_and_at_risk_on_the_sample(tmp_path: Path) -> None:
    result = runner.invoke(app, ["deps", "critical-path", str(SAMPLE_PLAN)])
    assert result.exit_code == 0, result.output
    assert "Critical path: API → DATA → APP → E2E → LOAD → LAUNCH" in result.output
    history = SAMPLE_PLAN.parent / "plan_history.csv.gz"
    result = runner.invoke(
        app, ["deps", "at-risk", str(SAMPLE_PLAN), "--history", str(history), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [d["id"] for d in doc["dependencies"]] == ["AUTH", "LEDGER", "LABEL"]
    assert all(0 <= d["probability_on_time"] <= 1 for d in doc["dependencies"])
    assert doc["at_risk"] == [
        d["id"] for d in doc["dependencies"] if d["probability_on_time"] < 0.85
    ]


def test_svg_is_well_formed_and_names_every_task(tmp_path: Path) -> None:
    plan = load_plan(SAMPLE_PLAN)
    svg = dependency_svg(schedule(plan))
    root = ET.fromstring(svg)
    ids = {g.get("data-id") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert {t.id for t in plan.tasks} <= ids
    for task in plan.tasks:
        assert task.id in svg
    critical = {g.get("data-id") for g in root.iter() if g.get("class") == "task critical"}
    assert critical == set(schedule(plan).critical_tasks)
    png = tmp_path / "plan.png"
    result = runner.invoke(app, ["deps", "draw", str(SAMPLE_PLAN), "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- numbers and dates a plan cannot hold; the server's size caps ------------------------------


@pytest.mark.parametrize(
    ("doc", "message", "field"),
    [
        (
            {"task": [{"id": "A", "team": "x", "duration_days": 1e308}], "start": "2025-01-01"},
            "plan 'p': task[0] ('A'): duration_days is 1e+308; give days ≥ 0, at most 3,652,058",
            "duration_days",
        ),
        (
            {"task": [{"id": "A", "team": "x", "duration_days": float("nan")}]},
            "plan 'p': task[0] ('A'): duration_days is nan; give days ≥ 0",
            "duration_days",
        ),
        (
            {"task": [{"id": "A", "team": "x", "duration_days": 1, "items": 10**30}]},
            "plan 'p': task[0] ('A'): items is 1000000000000000000000000000000; give a whole "
            "number of items from 1 to 1,000,000",
            "items",
        ),
        (  # 9999-12-31 + 3 days: the last task would be done on 10000-01-02
            {"task": [{"id": "A", "team": "x", "duration_days": 3}], "start": "9999-12-31"},
            "field 'start': 3 days from 9999-12-31 run past 9999-12-31",
            None,
        ),
        (  # each duration fits the calendar; their chain from 2025 does not
            {
                "start": "2025-01-01",
                "task": [
                    {"id": "A", "team": "x", "duration_days": 2_000_000},
                    {"id": "B", "team": "x", "duration_days": 2_000_000, "depends_on": ["A"]},
                ],
            },
            "field 'start': 4,000,000 days from 2025-01-01 run past 9999-12-31",
            None,
        ),
    ],
)
def test_numbers_and_dates_out_of_range_name_the_field(
    doc: dict[str, object], message: str, field: str | None
) -> None:
    from obeya.core.steering.saved import plan_record_from_dict

    with pytest.raises(PlanError) as caught:
        schedule(plan_record_from_dict({**doc, "key": "p"}).plan)
    assert message in str(caught.value)
    assert caught.value.field == field


def test_a_plan_ending_on_the_last_date_is_fine() -> None:
    # A 1-day task from 9999-12-31 is done by the end of that day: nothing overflows.
    plan = Plan(task=(Task(id="A", team="x", duration_days=1.0),), start=date(9999, 12, 31))
    assert schedule(plan).end == date(9999, 12, 31)


def test_a_forecast_past_the_calendar_is_refused() -> None:
    task = Task(id="A", team="x", duration_days=1.0, need_by=date(9999, 12, 31), items=3)
    plan = Plan(task=(task,), start=date(9999, 1, 1))
    daily = {"9998-12-30": 1}
    with pytest.raises(PlanError, match="field 'start': 3,650 days from 9999-01-01 run past"):
        dependency_risks(schedule(plan), {"x": daily})


def test_size_caps_name_the_field_and_the_cap() -> None:
    from obeya.core.steering.dependencies import check_plan_size

    tasks = tuple(Task(id=f"T{i}", team=f"team{i % 3}", duration_days=1.0) for i in range(6))
    last = Task(id="Z", team="team0", duration_days=1.0, depends_on=("T0", "T1", "T2"))
    plan = Plan(task=(*tasks, last))
    check_plan_size(plan, max_tasks=7, max_dependencies=3, max_teams=3)  # at the caps: fine
    with pytest.raises(PlanError, match="field 'task': 7 tasks; the server schedules at most 6"):
        check_plan_size(plan, max_tasks=6)
    with pytest.raises(PlanError, match=r"field 'depends_on': 3 dependencies .* at most 2"):
        check_plan_size(plan, max_dependencies=2)
    with pytest.raises(PlanError, match="field 'team': 3 teams; the server schedules at most 2"):
        check_plan_size(plan, max_teams=2)


def test_wide_plans_keep_plan_order_among_ready_tasks() -> None:
    # 300 independent tasks then one waiting for all: the order is the plan's (a heap of
    # plan positions must give what sorting the ready list gave).
    tasks = [Task(id=f"T{i:03d}", team="x", duration_days=float(i % 5)) for i in range(300)]
    tasks.reverse()
    last = Task(id="End", team="x", duration_days=1.0, depends_on=tuple(t.id for t in tasks))
    order = [t.id for t in topological_order(Plan(task=(*tasks, last)))]
    assert order == [t.id for t in tasks] + ["End"]


def test_critical_path_route_caps(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBEYA_MAX_PLAN_TASKS", "3")
    tasks = [{"id": f"T{i}", "team": "x", "duration_days": 1} for i in range(4)]
    response = client.post("/api/deps/critical-path", json={"task": tasks})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == (
        "plan: field 'task': 4 tasks; the server schedules at most 3 "
        "(use `obeya deps critical-path` for larger plans)"
    )
    assert client.post("/api/deps/critical-path", json={"task": tasks[:3]}).status_code == 200
    late = {"task": tasks[:1], "start": "9999-12-31"}
    late["task"][0]["duration_days"] = 2
    response = client.post("/api/deps/critical-path", json=late)
    assert response.status_code == 422 and "field 'start'" in response.text


@pytest.mark.parametrize("field", ["items", "duration_days"])
def test_a_number_past_any_float_is_refused_not_a_crash(field: str) -> None:
    # JSON reads 10**400 as an int that no float holds; the bound check must say so.
    task = {"id": "A", "team": "Core", "duration_days": 1, field: 10**400}
    with pytest.raises(PlanError) as caught:
        Task.from_dict(task, "plan")
    assert caught.value.field == field
    assert str(caught.value).startswith(f"plan: {field} has 401 digits; give ")
