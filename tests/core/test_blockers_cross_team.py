"""Blocked time across team boundaries (docs/conventions.md, "Blocked time across teams"):
the matrix of blocked days by (waiting team, blocking team), worked by hand on
tests/core/data/blockers/teams, and checked against a second computation (an hour grid, and
the teams read by pyarrow instead of the engine).

The fixture (days of January 2024, midnight UTC; workflow: Dev active, Done done):

- Teams from the events, the last event naming one: P1 Pay; P2 Pay (Web in the backlog, then
  Pay; its Done names none); L1, L2 Plat; W1 Web; N1 none.
- P1, cycle [2, 12): api on L1 [3, 6) (its row says Ops, but L1's events say Plat) and api2
  on L2 [5, 9): Pay → Plat, union [3, 9) = 6 d. ops, team Ops only, open from 10: runs to the
  finish, Pay → Ops 2 d. "no dependency" names nobody: not in the matrix.
- P2, cycle [3, 9): api on L1 [1, 5) clipped to [3, 5) and api on L2 [8, 20) clipped to
  [8, 9): Pay → Plat 3 d. env on EXT-1 (no events; row team Ops) [6, 7): Pay → Ops 1 d.
- W1, cycle [4, 10): design on P1 [5, 8): Web → Pay 3 d; review, team Web [6, 9): Web → Web
  3 d (same team: not cross-team); pre on L1 [2, 4) is before the start: nothing.
- N1, cycle [2, 8), no team: x on L1 [3, 5): (no team) → Plat 2 d (not cross-team).
- L2 is unfinished (Dev 2, Wait 11): its wait on P1 is outside the scope (finished items).

Pairs: Pay→Plat 9, Pay→Ops 3, Web→Pay 3, Web→Web 3, (no team)→Plat 2; cross-team days
9 + 3 + 3 = 15. Waits (blockers naming whom): 12 rows − "no dependency" = 11.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from obeya.core.blockers import Blocker
from obeya.core.blockers.cross_team import NO_TEAM, blocking_team, cross_team, names_whom
from obeya.core.blockers.measure import blocked_of_log
from obeya.core.events import to_micros
from obeya.core.metrics import FlowFilter
from obeya.core.metrics.engine import item_spans
from obeya.core.steering.team_throughput import item_teams as teams_by_arrow
from obeya.core.workflow import Workflow
from obeya.ingest import read_events
from obeya.ingest.blockers import read_blockers

DATA = Path(__file__).parent / "data" / "blockers"
HOUR = 3_600_000_000


def day(d: int) -> int:
    return to_micros(datetime(2024, 1, d, tzinfo=UTC))


@pytest.fixture(scope="module")
def fixture() -> tuple:
    log = read_events(DATA / "teams" / "events.csv")
    workflow = Workflow.from_toml(DATA / "workflow.toml")
    return log, workflow, read_blockers(DATA / "teams" / "blockers.csv")


def pairs_of(doc: dict) -> list[tuple[str, str, float, bool]]:
    return [(p["waiting_team"], p["blocking_team"], p["days"], p["cross_team"]) for p in doc]


def test_hand_worked_matrix(fixture) -> None:
    log, workflow, blockers = fixture
    blocked = blocked_of_log(log, blockers, workflow)
    doc = blocked.to_dict()["cross_team"]
    assert doc["waits"] == 11
    assert pairs_of(doc["pairs"]) == [
        ("Pay", "Plat", 9.0, True),
        ("Pay", "Ops", 3.0, True),
        ("Web", "Pay", 3.0, True),
        ("Web", "Web", 3.0, False),
        (NO_TEAM, "Plat", 2.0, False),
    ]
    assert doc["teams"] == ["Ops", "Pay", "Plat", "Web", NO_TEAM]
    assert doc["matrix"] == {
        "Pay": {"Ops": 3.0, "Plat": 9.0},
        "Web": {"Pay": 3.0, "Web": 3.0},
        NO_TEAM: {"Plat": 2.0},
    }
    assert doc["cross_team_days"] == 15.0
    assert pairs_of(doc["top_pairs"]) == pairs_of(doc["pairs"])[:3]
    pay_plat, pay_ops = doc["pairs"][0], doc["pairs"][1]
    assert pay_plat["items"] == [
        {"item_id": "P1", "days": 6.0, "blocking_items": ["L1", "L2"], "reasons": ["api", "api2"]},
        {"item_id": "P2", "days": 3.0, "blocking_items": ["L1", "L2"], "reasons": ["api"]},
    ]
    assert pay_ops["items"] == [
        {"item_id": "P1", "days": 2.0, "blocking_items": [], "reasons": ["ops"]},
        {"item_id": "P2", "days": 1.0, "blocking_items": ["EXT-1"], "reasons": ["env"]},
    ]
    # The keys the first part of the issue defined are all still there, unchanged in meaning.
    assert {"share_of_cycle_time", "items_blocked", "days", "by_reason", "now"} <= set(
        blocked.to_dict()
    )


def test_window(fixture) -> None:
    """--until 2024-01-10 (finish before Jan 11): P1, finished on the 12th, leaves; the
    rest stay. Pay→Plat 3, Pay→Ops 1, Web→Pay 3, Web→Web 3, (no team)→Plat 2."""
    log, workflow, blockers = fixture
    flt = FlowFilter(until=date(2024, 1, 10))
    doc = blocked_of_log(log, blockers, workflow, flt).to_dict()["cross_team"]
    assert pairs_of(doc["pairs"]) == [
        ("Pay", "Plat", 3.0, True),
        ("Web", "Pay", 3.0, True),
        ("Web", "Web", 3.0, False),
        (NO_TEAM, "Plat", 2.0, False),
        ("Pay", "Ops", 1.0, True),
    ]
    assert doc["cross_team_days"] == 7.0


def test_teams_from_the_engine_match_a_second_reading(fixture) -> None:
    log, workflow, blockers = fixture
    blocked = blocked_of_log(log, blockers, workflow)
    arrow = teams_by_arrow(log)
    assert dict(blocked.teams) == {k: v for k, v in arrow.items() if k in blocked.teams}
    assert dict(blocked.teams) == {
        "P1": "Pay",
        "P2": "Pay",
        "L1": "Plat",
        "L2": "Plat",
        "W1": "Web",
    }


def hour_grid(blockers: list[Blocker], spans: dict, teams: dict) -> dict[tuple[str, str], float]:
    """The second computation: every hour of every finished item's cycle, and the pairs whose
    blockers cover it; days = hours ÷ 24. No interval arithmetic at all."""
    hours: dict[tuple[str, str], int] = {}
    for item, (start, finish) in spans.items():
        if start is None or finish is None:
            continue
        own = [b for b in blockers if b.item_id == item and names_whom(b)]
        for h in range(start, finish, HOUR):
            covering = {
                (teams.get(item, NO_TEAM), blocking_team(b, teams))
                for b in own
                if b.blocked_at <= h < (finish if b.unblocked_at is None else b.unblocked_at)
            }
            for pair in covering:
                hours[pair] = hours.get(pair, 0) + 1
    return {pair: n / 24 for pair, n in hours.items()}


def test_the_fixture_against_the_hour_grid(fixture) -> None:
    log, workflow, blockers = fixture
    spans = {
        r["item_id"]: (r["start_t"], r["finish_t"]) for r in item_spans(log, workflow).to_pylist()
    }
    teams = teams_by_arrow(log)
    matrix = cross_team(blockers, spans, teams)
    assert {(p.waiting, p.blocking): p.days for p in matrix.pairs} == hour_grid(
        list(blockers), spans, teams
    )


@pytest.mark.parametrize("seed", range(20))
def test_random_blockers_against_the_hour_grid(seed: int) -> None:
    """Random items, teams and blockers on whole hours (open ones, overlaps, blocks outside
    the cycle, waits on items with and without a team)."""
    rng = random.Random(seed)
    base = day(1)
    items = [f"I{i}" for i in range(8)]
    spans: dict[str, tuple[int | None, int | None]] = {}
    for item in items:
        start = base + rng.randrange(0, 100) * HOUR
        finish = start + rng.randrange(1, 80) * HOUR if rng.random() < 0.8 else None
        spans[item] = (start, finish)
    teams = {i: rng.choice(["A", "B", "C"]) for i in items if rng.random() < 0.8}
    blockers = []
    for n in range(30):
        item = rng.choice(items)
        at = base + rng.randrange(-10, 190) * HOUR
        end = None if rng.random() < 0.2 else at + rng.randrange(0, 40) * HOUR
        on = rng.choice([*items, "OUT", None])
        team = rng.choice(["A", "B", "C", None])
        blockers.append(Blocker(item, at, end, f"r{n % 3}", on, team))
    matrix = cross_team(blockers, spans, teams)
    expected = hour_grid(blockers, spans, teams)
    assert {(p.waiting, p.blocking): p.days for p in matrix.pairs} == pytest.approx(expected)
    for pair in matrix.pairs:
        assert pair.days == pytest.approx(sum(i.days for i in pair.items))
