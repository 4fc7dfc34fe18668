"""Risks, objectives, the roadmap and skill coverage, worked by hand; records saved in
versions with their history, stale edits refused, files loaded all or nothing; on SQLite and
PostgreSQL alike (the ``workspace`` fixture follows the suite's database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from obeya.core.metrics import FlowFilter
from obeya.core.steering.objectives import KeyResult, Objective, measure
from obeya.core.steering.risks import Risk, board, summary
from obeya.core.steering.roadmap import Improvement, roadmap
from obeya.core.steering.teams import Person, StreamProfile, Team, coverage
from obeya.core.workflow import Workflow
from obeya.errors import InputError, StoreError
from obeya.store import Store
from obeya.store.migrate import alembic_config, head_revision
from obeya.workspace import Workspace

TODAY = date(2024, 3, 1)


def risk(key: str, p: float, impact: float, **more: Any) -> dict[str, Any]:
    return {"key": key, "title": f"risk {key}", "probability": p, "impact": impact, **more}


# -- risks --------------------------------------------------------------------------------------


def test_the_roam_board_by_hand() -> None:
    risks = [
        Risk.from_dict(risk("R1", 0.5, 4, owner="ana", state="owned")),  # exposure 2.0
        Risk.from_dict(risk("R2", 0.9, 3, due="2024-02-01")),  # 2.7, overdue, unowned
        Risk.from_dict(risk("R3", 0.2, 5, owner="bo", state="owned", due="2024-04-01")),  # 1.0
        Risk.from_dict(risk("R4", 1.0, 5, due="2024-01-01", state="resolved")),  # 5.0, done
        Risk.from_dict(risk("R5", 0.3, 4, owner="cy", state="owned")),  # 1.2
    ]
    columns = board(risks, TODAY)
    assert list(columns) == ["open", "owned", "accepted", "mitigated", "resolved"]
    assert [r["key"] for r in columns["owned"]] == ["R1", "R5", "R3"]  # 2.0, 1.2, 1.0
    assert [r["exposure"] for r in columns["owned"]] == [2.0, 1.2, 1.0]
    [r2] = columns["open"]
    assert (r2["key"], r2["exposure"], r2["overdue"], r2["unowned"]) == ("R2", 2.7, True, True)
    [r4] = columns["resolved"]
    assert (r4["overdue"], r4["unowned"]) == (False, False)  # resolved: nothing to chase
    s = summary(risks, TODAY)
    assert s["overdue"] == ["R2"] and s["unowned"] == ["R2"]
    assert s["open_exposure"] == pytest.approx(2.0 + 2.7 + 1.0 + 1.2)
    assert s["by_state"] == {"open": 1, "owned": 3, "accepted": 0, "mitigated": 0, "resolved": 1}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"probability": 1.4}, "risk 'R1': probability is 1.4; give a share in [0, 1]"),
        ({"impact": -1}, "impact is -1; give a number ≥ 0"),
        ({"state": "ignored"}, "state is 'ignored'; give one of open, owned"),
        ({"due": "tomorrow"}, "due is 'tomorrow'; give a date as YYYY-MM-DD"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"title": " "}, "title is empty"),
    ],
)
def test_a_bad_risk_names_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Risk.from_dict({**risk("R1", 0.5, 4), **change})


# -- objectives ---------------------------------------------------------------------------------


def test_key_result_progress_by_hand() -> None:
    lower = KeyResult(
        key="KR", title="p85", comparator="<=", target=10, baseline=25, metric="cycle_time_p85"
    )
    assert lower.progress(21.25) == pytest.approx((25 - 21.25) / (25 - 10))  # 0.25
    assert lower.progress(30) == 0.0 and lower.progress(9) == 1.0 and lower.met(10)
    higher = KeyResult(key="KR", title="eff", comparator=">=", target=0.3, baseline=0.1)
    assert higher.progress(0.25) == pytest.approx(0.75) and not higher.met(0.25)
    assert (
        KeyResult(key="KR", title="x", comparator=">=", target=5).progress(3) is None
    )  # no baseline: unknown
    assert (
        KeyResult(key="KR", title="x", comparator=">=", target=5).progress(6) == 1.0
    )  # met, whatever the start


def test_an_objective_bound_to_an_unknown_metric_is_refused() -> None:
    doc = {
        "key": "O1",
        "title": "Faster",
        "key_results": [
            {"key": "KR1", "title": "t", "metric": "velocity", "comparator": "<=", "target": 1}
        ],
    }
    with pytest.raises(
        InputError,
        match=r"objective 'O1': key_results\[0\]: metric is 'velocity'; give one of cycle_time_p50",
    ):
        Objective.from_dict(doc)
    doc["key_results"][0].update(metric="cycle_time_p85", comparator="<")
    with pytest.raises(InputError, match="comparator is '<'; give one of <=, >="):
        Objective.from_dict(doc)


def test_a_bound_key_result_is_measured_on_its_window(workspace: Workspace) -> None:
    # Tiny finishes A (2 days) on 01-04, B (6) on 01-09 and C (4) on 01-12, its last day.
    # The last 7 days (01-06 .. 01-12) hold B and C: p85 of [4, 6] = 4 + 0.85 × 2 = 5.7.
    # The last 28 days hold all three: p85 of [2, 4, 6] = 5.4.
    objective = {
        "key": "O1",
        "title": "Faster",
        "key_results": [
            {"key": "week", "title": "w", "metric": "cycle_time_p85", "comparator": "<=",
             "target": 5, "baseline": 7, "window_days": 7},
            {"key": "month", "title": "m", "metric": "cycle_time_p85", "comparator": "<=",
             "target": 5},
            {"key": "nps", "title": "n", "comparator": ">=", "target": 50, "baseline": 30,
             "current": 45},
        ],
    }  # fmt: skip
    workspace.steering.save_record("objective", objective, author="ana", stream="Tiny")
    doc = workspace.steering.objectives("Tiny", TODAY)
    assert doc["as_of"] == "2024-01-12"
    week, month, nps = doc["objectives"][0]["key_results"]
    assert week["value"] == pytest.approx(5.7) and month["value"] == pytest.approx(5.4)
    window = workspace.flow(
        "Tiny", FlowFilter(since=date(2024, 1, 6), until=date(2024, 1, 12))
    ).to_dict()
    assert week["value"] == measure("cycle_time_p85", window)
    assert week["progress"] == pytest.approx((7 - 5.7) / (7 - 5))  # 0.65
    assert (month["met"], month["progress"]) == (False, None)
    assert (nps["value"], nps["progress"], nps["source"]) == (45, 0.75, "by hand")
    # No key result is met (5.7 > 5, 5.4 > 5, 45 < 50): the objective is at 0 of 3.
    assert (doc["objectives"][0]["met"], doc["objectives"][0]["progress"]) == (0, 0.0)


# -- roadmap ------------------------------------------------------------------------------------


def test_the_roadmap_order_by_hand() -> None:
    # key: BV, TC, RR, size → CoD, WSJF
    # A: 8, 5, 3, 3 → 16, 5.33   B: 13, 8, 8, 13 → 29, 2.23   C: 3, 2, 1, 1 → 6, 6.0
    # D: 5, 5, 5, 3 → 15, 5.0 (done: goes last)   E: 2, 1, 0, 2 → 3, 1.5
    table = {
        "A": (8, 5, 3, 3, "planned"),
        "B": (13, 8, 8, 13, "idea"),
        "C": (3, 2, 1, 1, "in progress"),
        "D": (5, 5, 5, 3, "done"),
        "E": (2, 1, 0, 2, "idea"),
    }
    items = [
        Improvement.from_dict(
            {"key": k, "title": k, "business_value": bv, "time_criticality": tc,
             "risk_reduction": rr, "job_size": size, "status": status}
        )
        for k, (bv, tc, rr, size, status) in table.items()
    ]  # fmt: skip
    ordered = roadmap(items)
    assert [i["key"] for i in ordered] == ["C", "A", "B", "E", "D"]
    assert [i["wsjf"] for i in ordered] == pytest.approx([6.0, 16 / 3, 29 / 13, 1.5, 5.0])
    # Open WSJFs 6, 5.33, 2.23, 1.5: the top third is ≥ 5.33; median size of 1, 3, 13, 2 is 2.5.
    assert [i["key"] for i in ordered if i["quick_win"]] == ["C"]
    with pytest.raises(InputError, match="job_size is 0"):
        Improvement.from_dict({"key": "X", "title": "x", "business_value": 1,
                               "time_criticality": 1, "job_size": 0})  # fmt: skip


# -- teams --------------------------------------------------------------------------------------


def test_coverage_by_hand() -> None:
    teams = [Team("web", "Web", ("Shop",)), Team("data", "Data", ("Shop", "Reports"))]
    people = [
        Person("ana", "Ana", ("web",), ("react", "testing")),
        Person("bo", "Bo", ("data",), ("sql",)),
        Person("cy", "Cy", ("web",), ("react",)),
        Person("di", "Di", (), ("design",)),
    ]
    profiles = [StreamProfile("Shop", needs=("react", "sql", "security"))]
    doc = coverage(teams, people, profiles)
    shop, reports = sorted(doc["streams"], key=lambda r: r["stream"], reverse=True)
    assert shop["stream"] == "Shop" and shop["people"] == ["ana", "bo", "cy"]
    assert shop["skills"] == {"react": 2, "security": 0, "sql": 1, "testing": 1}
    assert shop["lacking"] == ["security"]
    assert reports["people"] == ["bo"] and reports["lacking"] == []
    assert doc["split_people"] == {"bo": ["Reports", "Shop"]}
    assert doc["unassigned_people"] == ["di"]
    with pytest.raises(InputError, match="person 'eve': teams names 'ops'"):
        coverage(teams, [Person("eve", "Eve", ("ops",))])


# -- the store ----------------------------------------------------------------------------------


def test_versions_history_and_a_stale_edit(workspace: Workspace) -> None:
    first = workspace.steering.save_record("risk", risk("R1", 0.5, 4), author="ana", stream="Tiny")
    assert (first.version, first.changes) == (1, ())
    second = workspace.steering.save_record(
        "risk",
        risk("R1", 0.5, 4, owner="bo", state="owned"),
        author="bo",
        message="I take it",
        expected_version=1,
        stream="Tiny",
    )
    assert (second.version, second.changes) == (2, ("owner", "state"))
    # Someone who loaded version 1 tries to save: refused, and nothing is written.
    with pytest.raises(StoreError, match=r"changed since version 1 \(now 2\) by bo"):
        workspace.steering.save_record(
            "risk", risk("R1", 0.9, 4), author="cy", expected_version=1, stream="Tiny"
        )
    history = workspace.steering.record_history("risk", "R1")
    assert [(v.version, v.author, v.message) for v, _ in history] == [
        (1, "ana", ""),
        (2, "bo", "I take it"),
    ]
    before, after = history[0][1], history[1][1]
    assert (before["owner"], after["owner"]) == ("", "bo")
    assert workspace.steering.record("risk", "R1", version=1).document["state"] == "open"
    [stored] = workspace.steering.records("risk", "Tiny")
    assert (stored.version.version, stored.stream, stored.document["owner"]) == (2, "Tiny", "bo")
    with pytest.raises(StoreError, match="has not been saved yet"):
        workspace.steering.save_record("risk", risk("R9", 0.1, 1), author="a", expected_version=3,
                              stream="Tiny")  # fmt: skip
    with pytest.raises(InputError, match="give the value stream it belongs to"):
        workspace.steering.save_record("risk", risk("R8", 0.1, 1), author="a")


def test_a_file_loads_all_or_nothing(workspace: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        '[[person]]\nkey = "ana"\nteams = ["web"]\nskills = ["react"]\n\n'
        '[[team]]\nkey = "web"\nstreams = ["Tiny"]\n\n'
        '[[risk]]\nkey = "R1"\ntitle = "t"\nprobability = 0.2\nimpact = 3\n',
        encoding="utf-8",
    )
    saved = workspace.steering.load_steering_file(good, author="ana", stream="Tiny")
    assert sorted((v.kind, v.key) for v in saved) == [
        ("person", "ana"),
        ("risk", "R1"),
        ("team", "web"),
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[risk]]\nkey = "R2"\ntitle = "t"\nprobability = 0.2\nimpact = 3\n\n'
        '[[risk]]\nkey = "R3"\ntitle = "t"\nprobability = 2\nimpact = 3\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"bad.toml: risk\[1\] 'R3': probability is 2"):
        workspace.steering.load_steering_file(bad, author="ana", stream="Tiny")
    assert [r.key for r in workspace.steering.records("risk")] == ["R1"]  # R2 was not saved either
    # A failure inside the store (a stream that does not exist) rolls back the whole file.
    other = tmp_path / "other.toml"
    other.write_text(
        '[[risk]]\nkey = "R4"\ntitle = "t"\nprobability = 0.2\nimpact = 3\n\n'
        '[[risk]]\nkey = "R5"\ntitle = "t"\nprobability = 0.2\nimpact = 3\nstream = "Nope"\n',
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="Nope"):
        workspace.steering.load_steering_file(other, author="ana", stream="Tiny")
    assert [r.key for r in workspace.steering.records("risk")] == ["R1"]


def test_a_database_at_0002_upgrades_keeping_its_maps(empty_database_url: str) -> None:
    import json
    from datetime import UTC, datetime

    from obeya.core.maps.files import map_to_dict
    from obeya.core.maps.model import Step, ValueStreamMap

    line = ValueStreamMap("Line", (Step("Build", process_time_hours=1, lead_time_hours=2),))
    saved = datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
    with Store(empty_database_url) as store:
        with store.engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "0002")
            # The map as the release at 0002 saved it: written with plain SQL, since this
            # release's save_map writes to tables of later revisions (the audit log).
            tables = sa.MetaData()
            tables.reflect(connection, only=["maps", "map_versions"])
            map_id = connection.execute(
                tables.tables["maps"]
                .insert()
                .values(
                    name="Line",
                    variant="current",
                    stream_id=None,
                    current_version=1,
                    created_at=saved,
                    updated_at=saved,
                )
                .returning(tables.tables["maps"].c.id)
            ).scalar_one()
            connection.execute(
                tables.tables["map_versions"]
                .insert()
                .values(
                    map_id=map_id,
                    version=1,
                    document=json.dumps(map_to_dict(line), ensure_ascii=False, sort_keys=True),
                    author="ana",
                    message="first cut",
                    created_at=saved,
                )
            )
        assert store.schema_revision() == "0002"
        assert "records" not in sa.inspect(store.engine).get_table_names()
        store.initialise()
        assert store.schema_revision() == head_revision()
        stored = store.maps.get("Line")
        assert stored.map == line
        version = stored.version
        assert (version.version, version.author, version.message) == (1, "ana", "first cut")
        assert version.created_at == saved
        store.maps.save(line, author="bo", message="again", expected_version=1)
        assert [v.version for v in store.maps.history("Line")] == [1, 2]
        store.records.save("team", "web", {"key": "web", "name": "Web", "streams": []}, author="a")
        assert [r.key for r in store.records.all("team")] == ["web"]


def test_a_save_never_moves_a_record_and_move_does(workspace: Workspace) -> None:
    """Keys are unique per stream: a save naming another stream saves that stream's record of
    the key, never moves this one; ``move_record`` moves it (refused where the key is taken),
    and a record of no stream (a team) cannot move into one."""
    from obeya.errors import StoreError

    ws = workspace
    ws.store.create_stream("Alpha")
    ws.store.create_stream("Beta")
    risk = {"key": "R-1", "title": "Vendor late", "probability": 0.4, "impact": 5}
    ws.steering.save_record("risk", risk, author="ana", stream="Alpha")
    ws.steering.save_record("risk", {**risk, "impact": 1}, author="bo", stream="Beta")
    alpha = ws.steering.record("risk", "R-1", stream="Alpha")
    assert (alpha.stream, alpha.version.version, alpha.document["impact"]) == ("Alpha", 1, 5)
    assert ws.steering.record("risk", "R-1", stream="Beta").document["impact"] == 1
    with pytest.raises(InputError, match="several value streams"):
        ws.steering.record("risk", "R-1")  # which one? the stream is needed
    with pytest.raises(StoreError, match="value stream 'Beta' has a risk 'R-1' already"):
        ws.steering.move_record("risk", "R-1", "Beta", stream="Alpha")
    ws.steering.delete_record("risk", "R-1", stream="Beta")
    ws.steering.move_record("risk", "R-1", "Beta", stream="Alpha")
    assert ws.steering.record("risk", "R-1").stream == "Beta"
    ws.steering.save_record("risk", {**risk, "impact": 1}, author="bo", stream="Beta")
    assert ws.steering.record("risk", "R-1").version.version == 2
    ws.steering.save_record(
        "team", {"key": "T-1", "name": "One", "streams": ["Alpha"]}, author="ana"
    )
    with pytest.raises(InputError, match="belongs to no value stream"):
        ws.steering.move_record("team", "T-1", "Alpha")
    with pytest.raises(InputError, match="name the one to move it to"):
        ws.steering.move_record("risk", "R-1", None)


def test_an_objective_gaining_on_flow_while_reopens_rise_is_flagged(tmp_path: Path) -> None:
    # A stream with 40 items finished in the 28 days before the last 28 (2 reopened: 5 %) and
    # 40 in the last 28 days (16 reopened: 40 %), each done in one day. An objective bound to
    # cycle time (met: p85 = 1 day ≤ 3) carries the flag; the guard compares 2 of 40 with 16
    # of 40 by Fisher's exact test.
    from scipy.stats import fisher_exact

    from obeya.core.events import EventLog

    end = datetime(2024, 3, 31, 12)
    rows = []
    for k in range(40):
        for recent, reopened in ((False, k < 2), (True, k < 16)):
            finish = end - timedelta(days=(k % 27) + (0 if recent else 28))
            item = f"{'R' if recent else 'B'}{k}"
            rows += [(item, "Doing", finish - timedelta(days=1)), (item, "Done", finish)]
            if reopened:
                rows[-1] = (item, "Done", finish - timedelta(hours=12))
                rows += [(item, "Doing", finish - timedelta(hours=6)), (item, "Done", finish)]
    with Workspace(f"sqlite:///{tmp_path / 'g.db'}") as ws:
        ws.initialise()
        workflow = Workflow(backlog=(), active=("Doing",), done=("Done",))
        ws.store.append_events("Q", EventLog.from_rows(rows), source="q", workflow=workflow)
        objective = {
            "key": "O1",
            "title": "Faster",
            "key_results": [
                {"key": "ct", "title": "c", "metric": "cycle_time_p85", "comparator": "<=",
                 "target": 3},
            ],
        }  # fmt: skip
        ws.steering.save_record("objective", objective, author="ana", stream="Q")
        doc = ws.steering.objectives("Q", date(2024, 4, 1))
    [rate] = doc["quality_guard"]["rates"]
    assert (rate["baseline"]["events"], rate["baseline"]["of"]) == (2, 40)
    assert (rate["trial"]["events"], rate["trial"]["of"]) == (16, 40)
    expected = fisher_exact([[2, 38], [16, 24]]).pvalue
    assert rate["p_value"] == pytest.approx(expected) and rate["rose"]
    [flag] = doc["objectives"][0]["quality_flags"]
    assert flag.startswith("the reopen rate rose from 5.0% to 40.0% in the last 28 days")
