"""The ground-truth stream (truth_stream.py) checked against figures worked out by hand: its
calendar, its release days, its loads, its routing shares and its demand, read back from the log
it writes with the tests' own calendar arithmetic, so a slip in the generator cannot hide behind
the same slip here."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from obeya.core.metrics.engine import analyse_log
from obeya.core.workflow import Workflow
from simulation.truth_stream import (
    WORKFLOW_TOML,
    Event,
    TrueStream,
    generate,
    to_event_log,
    true_effects,
    true_lead_times,
)

pytestmark = pytest.mark.slow  # long simulated streams (`make test`, not `make check`)

LONG_DAYS = 10 * 364  # ten years: loads and shares to about 1 % (one standard deviation)
WARMUP_DAYS = 28
ACTIVE_STEP = {"In Analysis": "Analysis", "In Development": "Development", "In Test": "Testing"}
HOUR = timedelta(hours=1)


Visit = tuple[datetime, datetime | None, str | None]  # start, end (None: unfinished), assignee


@pytest.fixture(scope="module")
def long_log() -> list[Event]:
    events: list[Event] = generate(TrueStream(), LONG_DAYS, seed=11)
    return events


def working_hours(a: datetime, b: datetime) -> float:
    """Hours of [a, b) inside Monday–Friday 09:00–17:00 UTC, day by day."""
    total = timedelta()
    day = a.date()
    while day <= b.date():
        if day.weekday() < 5:
            opens = datetime.combine(day, time(9), UTC)
            closes = datetime.combine(day, time(17), UTC)
            total += max(timedelta(), min(b, closes) - max(a, opens))
        day += timedelta(days=1)
    return total / HOUR


def next_release(moment: datetime) -> datetime:
    """The first Tuesday or Thursday 14:00 UTC strictly after ``moment``."""
    candidate = datetime.combine(moment.date(), time(14), UTC)
    while candidate <= moment or candidate.weekday() not in (1, 3):
        candidate += timedelta(days=1)
    return candidate


def by_item(events: list[Event]) -> dict[str, list[Event]]:
    items: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        items[event.item_id].append(event)
    return items


def visits(events: list[Event]) -> dict[str, list[Visit]]:
    """Each active state's visits: from its event to the item's next event."""
    found: dict[str, list[Visit]] = defaultdict(list)
    for history in by_item(events).values():
        for i, event in enumerate(history):
            if event.state in ACTIVE_STEP:
                end = history[i + 1].timestamp if i + 1 < len(history) else None
                found[event.state].append((event.timestamp, end, event.assignee))
    return found


def transitions(events: list[Event]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for history in by_item(events).values():
        for before, after in itertools.pairwise(history):
            counts[before.state, after.state] += 1
    return counts


def test_active_work_happens_only_in_working_hours(long_log: list[Event]) -> None:
    """Work starts only on weekdays 09:00–17:00 and ends inside them (at 17:00 at the latest);
    the working time of a visit, its elapsed time less the nights and weekends in it, averages
    the true mean process time, so work really pauses outside the calendar; one person works
    one item at a time, and each step serves its queue first come, first served."""
    found = visits(long_log)
    means = {"In Analysis": 1.6, "In Development": 2.5, "In Test": 1.0}
    for state, spells in found.items():
        worked = []
        for start, end, assignee in spells:
            assert start.weekday() < 5 and 9 <= start.hour < 17, (state, start)
            assert assignee is not None and assignee.startswith(ACTIVE_STEP[state].lower())
            if end is None:
                continue
            assert end.weekday() < 5 and time(9) < end.time() <= time(17), (state, end)
            hours = working_hours(start, end)
            assert hours <= (end - start) / HOUR
            if end.date() > start.date():  # across a night: at least 16 idle hours in it
                assert (end - start) / HOUR - hours >= 16 - 1e-9
            worked.append(hours)
        assert np.mean(worked) == pytest.approx(means[state], rel=0.05), state
    for state, spells in found.items():
        people: dict[str, list[Visit]] = defaultdict(list)
        for spell in spells:
            people[str(spell[2])].append(spell)
        for own in people.values():
            own.sort(key=lambda v: v[0])
            for (_, end, _), (next_start, _, _) in itertools.pairwise(own):
                assert end is not None and end <= next_start, state
    for state in ACTIVE_STEP:  # first come, first served: starts in order of queue entry
        starts = []
        for history in by_item(long_log).values():
            for before, after in itertools.pairwise(history):
                if after.state == state:
                    starts.append((after.timestamp, before.timestamp))
        starts.sort()
        queued = [q for _, q in starts]
        assert queued == sorted(queued), state


def test_releases_fall_on_tuesdays_and_thursdays_at_two(long_log: list[Event]) -> None:
    """Every item reaches Done at a release, Tuesday or Thursday 14:00:00 UTC, straight from
    Awaiting Release, at the first release after it got there."""
    done = [e for e in long_log if e.state == "Done"]
    assert len(done) > 10_000
    for event in done:
        stamp = event.timestamp
        assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta()
        assert stamp.weekday() in (1, 3) and stamp.time() == time(14), stamp
    for history in by_item(long_log).values():
        for before, after in itertools.pairwise(history):
            if after.state == "Done":
                assert before.state == "Awaiting Release"
                assert after.timestamp == next_release(before.timestamp)


def test_each_step_is_loaded_as_the_hand_formula_says(long_log: list[Event]) -> None:
    """Busy person-hours ÷ (people × working hours) after warm-up equals
    λ × passes × mean ÷ (people × 40 h): Analysis 30 × 1.6 ÷ 80 = 60 %, Development
    30 × 1.25 × 2.5 ÷ 120 ≈ 78.1 %, Testing 30 × 1.25 × 1.0 ÷ 80 ≈ 46.9 %."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    lo, hi = start + timedelta(days=WARMUP_DAYS), start + timedelta(days=LONG_DAYS)
    capacity = working_hours(lo, hi)
    assert capacity == pytest.approx(40 * (LONG_DAYS - WARMUP_DAYS) / 7)
    people = {"In Analysis": 2, "In Development": 3, "In Test": 2}
    expected = {"In Analysis": 0.60, "In Development": 0.78125, "In Test": 0.46875}
    for state, spells in visits(long_log).items():
        busy = sum(
            working_hours(max(s, lo), min(e or hi, hi)) for s, e, _ in spells if (e or hi) > lo
        )
        assert busy / (people[state] * capacity) == pytest.approx(expected[state], rel=0.05)


def test_routing_shares_are_the_true_ones(long_log: list[Event]) -> None:
    """20 % of tests send the item back to development; 25 % of analyses wait for the
    customer, who then hands the item to development; no other route exists."""
    moves = transitions(long_log)
    tests = sum(n for (a, _), n in moves.items() if a == "In Test")
    analyses = sum(n for (a, _), n in moves.items() if a == "In Analysis")
    assert moves["In Test", "Ready for Development"] / tests == pytest.approx(0.20, abs=0.02)
    assert moves["In Analysis", "Waiting for Customer"] / analyses == pytest.approx(0.25, abs=0.02)
    allowed = {
        ("Ready for Analysis", "In Analysis"),
        ("In Analysis", "Waiting for Customer"),
        ("In Analysis", "Ready for Development"),
        ("Waiting for Customer", "Ready for Development"),
        ("Ready for Development", "In Development"),
        ("In Development", "Ready for Test"),
        ("Ready for Test", "In Test"),
        ("In Test", "Ready for Development"),
        ("In Test", "Awaiting Release"),
        ("Awaiting Release", "Done"),
    }
    assert set(moves) == allowed


def test_demand_is_thirty_a_week_on_weekdays_in_office_hours(long_log: list[Event]) -> None:
    """Each item starts with Ready for Analysis at its arrival; arrivals come at 30 a week,
    Monday–Friday between 08:00 and 18:00 only."""
    histories = by_item(long_log)
    arrivals = [history[0] for history in histories.values()]
    assert all(e.state == "Ready for Analysis" for e in arrivals)
    for event in arrivals:
        assert event.timestamp.weekday() < 5 and 8 <= event.timestamp.hour < 18
    assert len(arrivals) / (LONG_DAYS / 7) == pytest.approx(30, rel=0.05)
    assert [e.item_id for e in arrivals] == sorted(e.item_id for e in arrivals)


def test_the_log_reads_into_the_product_with_the_workflow() -> None:
    """The CSV path gives a log the workflow maps completely; the product's lead times are
    the generator's own (Done − arrival, for every finished item)."""
    stream = TrueStream()
    events = generate(stream, 182, seed=5)
    log = to_event_log(events, "truth")
    assert log.source == "truth" and log.table.num_rows == len(events)
    workflow = Workflow.from_toml_text(WORKFLOW_TOML)
    report = analyse_log(log, workflow)
    assert report.unmapped_states == []
    truth = true_lead_times(stream, 182, seed=5, warmup_days=0)
    assert report.items.total == len(by_item(events))
    assert report.items.finished == report.lead_time_days.count == len(truth)
    assert report.lead_time_days.p50 == pytest.approx(float(np.percentile(truth, 50)), abs=1e-6)
    assignees = log.table.column("assignee").to_pylist()
    states = log.table.column("state").to_pylist()
    for state, assignee in zip(states, assignees, strict=True):
        assert (assignee is not None) == (state in ACTIVE_STEP)


def test_more_people_at_the_constraint_shorten_lead_time_and_more_demand_lengthens_it() -> None:
    """On common random numbers, +1 developer (the constraint) shortens the lead time and
    +10 % demand lengthens it: the p50 in the right direction, the mean by more than three
    standard errors (the p50 jumps across the gaps that release days leave between lead
    times, so its standard error over a few replications is rough)."""
    effects = true_effects(TrueStream(), days=364, replications=6, seed=3)
    assert effects.constraint == "Development"
    assert effects.utilisation["Development"] == pytest.approx(0.78125, abs=0.04)
    more_people, more_demand = effects.people_effect["Development"], effects.demand_effect
    assert more_people.p50 < 0 and more_people.mean + 3 * more_people.mean_se < 0
    assert more_demand.p50 > 0 and more_demand.mean - 3 * more_demand.mean_se > 0
