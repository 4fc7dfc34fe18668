"""Blocked time (docs/conventions.md, "Blocked time"): hand-worked intervals through the whole
path (reader, item spans, active visits, figures), and the interval union against a sweep.

The fixture, tests/core/data/blockers (days of January 2024, midnight UTC; Dev is active,
Wait waiting, Done done):

- A: Dev 2, Wait 4, Dev 6, Done 10. Cycle 8 d; active [2,4) + [6,10) = 6 d.
  env [3,5) and vendor [4,7) overlap: union [3,7) = 4 d blocked (env 2, vendor 3).
  Blocked inside active visits: [3,4) + [6,7) = 2 d.
- B: Dev 5, Done 9. Cycle 4 d, active 4 d. env [1,3) is before the start: 0; review [4,6)
  is clipped to [5,6): 1 d; env [9 12:00, 11) is after the finish: 0. In active: 1 d.
- C: Dev 2, Done 12. Cycle 10 d, active 10 d. vendor open from 8 runs to the finish, 12;
  env [8,10) at the same time: union [8,12) = 4 d (vendor 4, env 2). In active: 4 d.
- D, reopened: Dev 2, Done 5, Dev 7, Done 11 (finish: the last entry into done). Cycle 9 d;
  active [2,5) + [7,11) = 7 d. review and env, both [5,8): the same span with two reasons,
  3 d blocked once, but 3 d for each reason. In active: [7,8) = 1 d.
- E, never started: its blocker counts nothing.
- F, unfinished: Dev 3, Wait 14 (the last event of the data: the end is Jan 14).
  vendor open from 9 and env [12,20): blocked now since Jan 9, 5 days, vendor first.
- X has no events: one unmatched item.

Finished: A, B, C, D. Σ cycle = 8 + 4 + 10 + 9 = 31 d; Σ blocked = 4 + 1 + 4 + 3 = 12 d.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from obeya.core.blockers import Blocker, blocked_figures
from obeya.core.blockers.intervals import clip, length, merge, overlap
from obeya.core.blockers.measure import blocked_of_log
from obeya.core.events import MICROS_PER_DAY, to_micros
from obeya.core.metrics import FlowFilter
from obeya.core.metrics.engine import analyse_log
from obeya.core.workflow import Workflow
from obeya.ingest import read_events
from obeya.ingest.blockers import read_blockers

DATA = Path(__file__).parent / "data" / "blockers"


def day(d: int, hour: int = 0) -> int:
    return to_micros(datetime(2024, 1, d, hour, tzinfo=UTC))


@pytest.fixture(scope="module")
def fixture() -> tuple:
    log = read_events(DATA / "events.csv")
    workflow = Workflow.from_toml(DATA / "workflow.toml")
    return log, workflow, read_blockers(DATA / "blockers.csv")


def test_hand_worked_figures(fixture) -> None:
    log, workflow, blockers = fixture
    report = analyse_log(log, workflow)
    # Σ active = 6 + 4 + 10 + 7 = 27 d of 31 d: the report's own figure, unchanged.
    assert report.flow_efficiency == pytest.approx(27 / 31, abs=1e-12)
    blocked = blocked_of_log(log, blockers, workflow, flow_efficiency=report.flow_efficiency)
    assert blocked.as_of == day(14)
    assert blocked.finished_items == 4
    assert blocked.items_blocked == 4
    assert blocked.blocked_days == 12.0
    assert blocked.cycle_time_days == 31.0
    assert blocked.share_of_cycle_time == pytest.approx(12 / 31, abs=1e-15)
    # Blocked days 1, 3, 4, 4: p50 at rank 1.5 = 3 + 0.5 × (4 − 3) = 3.5; p85 at rank
    # 2.55, between 4 and 4 = 4.
    assert (blocked.days_p50, blocked.days_p85) == (3.5, 4.0)
    # env: A 2 + B 0 + C 2 + D 3 = 7; vendor: A 3 + C 4 = 7; review: B 1 + D 3 = 4.
    assert blocked.by_reason == {"env": 7.0, "vendor": 7.0, "review": 4.0}
    assert list(blocked.by_reason) == ["env", "vendor", "review"]  # most days first, then name
    # (27 − (2 + 1 + 4 + 1)) / 31 = 19 / 31.
    assert blocked.flow_efficiency_blocked_as_waiting == pytest.approx(19 / 31, abs=1e-12)
    assert [n.to_dict() for n in blocked.now] == [
        {
            "item_id": "F",
            "reason": "vendor",
            "reasons": ["vendor", "env"],
            "since": "2024-01-09T00:00:00Z",
            "age_days": 5.0,
            # vendor names nobody; env [12, 20) names the team Ops.
            "waits_on": ["Ops"],
        }
    ]
    assert blocked.unmatched_items == 1
    assert blocked.blockers == 14


def test_window(fixture) -> None:
    """--since 2024-01-10 --until 2024-01-11: A (finished 10) and D (11) only.
    Cycle 8 + 9 = 17 d, blocked 4 + 3 = 7 d; env A 2 + D 3 = 5, review D 3, vendor A 3.
    Active 6 + 7 = 13 d, blocked in it 2 + 1 = 3 d: (13 − 3) / 17. The end is the window's
    last microsecond, Jan 12 − 1 µs: C (finished on the 12th) is then in progress and blocked
    by vendor since the 8th; F by vendor since the 9th (env begins on the 12th)."""
    log, workflow, blockers = fixture
    flt = FlowFilter(since=date(2024, 1, 10), until=date(2024, 1, 11))
    report = analyse_log(log, workflow, flt)
    blocked = blocked_of_log(log, blockers, workflow, flt, flow_efficiency=report.flow_efficiency)
    end = day(12) - 1
    assert blocked.as_of == end
    assert (blocked.finished_items, blocked.items_blocked) == (2, 2)
    assert (blocked.blocked_days, blocked.cycle_time_days) == (7.0, 17.0)
    assert blocked.share_of_cycle_time == pytest.approx(7 / 17, abs=1e-15)
    assert blocked.by_reason == {"env": 5.0, "review": 3.0, "vendor": 3.0}
    assert list(blocked.by_reason) == ["env", "review", "vendor"]
    assert blocked.flow_efficiency_blocked_as_waiting == pytest.approx(10 / 17, abs=1e-12)
    now = [(n.item_id, n.reasons, n.age_days) for n in blocked.now]
    assert now == [
        ("C", ("vendor",), (end - day(8)) / MICROS_PER_DAY),
        ("F", ("vendor",), (end - day(9)) / MICROS_PER_DAY),
    ]


def test_no_blockers_leave_efficiency_as_it_is(fixture) -> None:
    log, workflow, _ = fixture
    report = analyse_log(log, workflow)
    blocked = blocked_of_log(log, (), workflow, flow_efficiency=report.flow_efficiency)
    assert blocked.flow_efficiency_blocked_as_waiting == report.flow_efficiency
    assert (blocked.items_blocked, blocked.share_of_cycle_time, blocked.now) == (0, 0.0, [])
    assert (blocked.days_p50, blocked.by_reason) == (None, {})


def test_without_workflow_no_efficiency(fixture) -> None:
    """Without a workflow an item runs from its first event to its last: F is finished then,
    on the 14th, and nothing is blocked now."""
    log, _, blockers = fixture
    blocked = blocked_of_log(log, blockers)
    assert blocked.flow_efficiency_blocked_as_waiting is None
    assert blocked.now == []
    assert blocked.finished_items == 6


def test_intervals() -> None:
    assert merge([(5, 7), (1, 3), (3, 4), (2, 2), (6, 9)]) == [(1, 4), (5, 9)]
    assert clip([(1, 4), (5, 9)], 2, 6) == [(2, 4), (5, 6)]
    assert length([(2, 4), (5, 6)]) == 3
    assert overlap([(0, 10)], [(2, 3), (5, 12)]) == 6
    assert overlap([(0, 2), (4, 6)], [(1, 5)]) == 2


MINUTE = 60_000_000


@pytest.mark.parametrize("seed", range(25))
def test_union_equals_a_minute_sweep(seed: int) -> None:
    """Every figure by a second method: minute by minute, is some blocker (of this reason)
    over this minute of the item's cycle, and is it an active minute?"""
    rng = random.Random(seed)
    spans: dict[str, tuple[int | None, int | None]] = {}
    visits: dict[str, list[tuple[int, int]]] = {}
    blockers: list[Blocker] = []
    horizon = 600
    for k in range(8):
        item = f"I{k}"
        start = rng.choice([None, rng.randrange(0, 200)])
        finish = None
        if start is not None and rng.random() < 0.8:
            finish = start + rng.randrange(0, 300)
        spans[item] = (
            None if start is None else start * MINUTE,
            None if finish is None else finish * MINUTE,
        )
        cuts = sorted(rng.sample(range(0, horizon), 6))
        visits[item] = [
            (a * MINUTE, b * MINUTE) for a, b in zip(cuts[::2], cuts[1::2], strict=True)
        ]
        for _ in range(rng.randrange(0, 6)):
            a = rng.randrange(0, horizon - 1)
            b = None if rng.random() < 0.25 else rng.randrange(a, horizon)
            blockers.append(
                Blocker(item, a * MINUTE, None if b is None else b * MINUTE, rng.choice("xyz"))
            )
    as_of = horizon * MINUTE
    efficiency = 0.5
    got = blocked_figures(
        blockers, spans, as_of=as_of, active_visits=visits, flow_efficiency=efficiency
    )

    def covered(b: Blocker, m: int, finish: int) -> bool:
        end = finish if b.unblocked_at is None else b.unblocked_at // MINUTE
        return b.blocked_at // MINUTE <= m < end

    blocked_days, cycle, in_active = [], 0, 0
    reasons: dict[str, int] = {}
    for item, (start_us, finish_us) in spans.items():
        if start_us is None or finish_us is None:
            continue
        start, finish = start_us // MINUTE, finish_us // MINUTE
        cycle += finish - start
        own = [b for b in blockers if b.item_id == item]
        minutes = [m for m in range(start, finish) if any(covered(b, m, finish) for b in own)]
        if own:
            blocked_days.append(len(minutes))
        active = {m for a, b in visits[item] for m in range(a // MINUTE, b // MINUTE)}
        in_active += len(active.intersection(minutes))
        for reason in "xyz":
            mine = [b for b in own if b.reason == reason]
            n = sum(1 for m in range(start, finish) if any(covered(b, m, finish) for b in mine))
            reasons[reason] = reasons.get(reason, 0) + n
    per_day = MICROS_PER_DAY / MINUTE
    assert got.blocked_days * per_day == pytest.approx(sum(blocked_days), abs=1e-9)
    assert got.cycle_time_days * per_day == pytest.approx(cycle, abs=1e-9)
    assert got.items_blocked == sum(1 for n in blocked_days if n > 0)
    positive = [n / per_day for n in blocked_days if n > 0]
    if positive:
        expected = np.percentile(positive, [50, 85])
        assert (got.days_p50, got.days_p85) == pytest.approx(tuple(expected), abs=1e-12)
    assert {r: d * per_day for r, d in got.by_reason.items()} == pytest.approx(
        {r: n for r, n in reasons.items() if n > 0}, abs=1e-9
    )
    if cycle:
        assert got.share_of_cycle_time == pytest.approx(sum(blocked_days) / cycle, abs=1e-12)
        assert got.flow_efficiency_blocked_as_waiting == pytest.approx(
            efficiency - in_active / cycle, abs=1e-12
        )
    # Blocked now: in progress at the end and some blocker over its last minute.
    now_items = {
        item
        for item, (s, f) in spans.items()
        if s is not None
        and s <= as_of
        and (f is None or f > as_of)
        and any(
            b.item_id == item
            and b.blocked_at <= as_of
            and (b.unblocked_at is None or b.unblocked_at > as_of)
            for b in blockers
        )
    }
    assert {n.item_id for n in got.now} == now_items


def test_the_report_keeps_its_spans_for_the_blocked_figures(fixture) -> None:
    # The flow report's own pass gives the spans (no second pass over the events): the same
    # figures as spans computed apart, with or without a window.
    log, workflow, blockers = fixture
    for flt in (FlowFilter(), FlowFilter(since=date(2024, 1, 10), until=date(2024, 1, 11))):
        report = analyse_log(log, workflow, flt, spans=True)
        assert report.spans is not None and "spans" not in report.to_dict()
        kept = blocked_of_log(log, blockers, workflow, flt, spans=report.spans)
        assert kept.to_dict() == blocked_of_log(log, blockers, workflow, flt).to_dict()
    assert analyse_log(log, workflow).spans is None
