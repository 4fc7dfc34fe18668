"""Flow metrics on small logs worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

from datetime import date

import pytest

from obeya.core.events import EventLog
from obeya.core.metrics import FlowFilter
from obeya.core.workflow import Workflow

WORKFLOW = Workflow.from_toml_text(
    """
backlog = ["To Do"]
active = ["In Progress", "In Review"]
waiting = ["Blocked", "Ready for Test"]
done = ["Done", "Won't Do"]
"""
)


def log(*rows: tuple[str, str, str] | dict[str, object]) -> EventLog:
    return EventLog.from_rows(rows)


# A: straight through. Start Jan 2 (In Progress), finish Jan 6 (Done) -> 4.0 days.
#    Active: In Progress Jan 2-3 (1 d) + In Review Jan 5-6 (1 d) = 2 d; Blocked Jan 3-5 waits.
# B: reopened and finished again. Start Jan 2, Done Jan 4, back to In Progress Jan 5,
#    Done Jan 8 -> finish Jan 8, cycle 6.0 days; active = Jan 2-4 (2 d) + Jan 5-8 (3 d) = 5 d.
# C: reopened and not finished: Done Jan 3, In Progress Jan 7 -> in progress, no cycle time.
# D: never started (only To Do).
# E: skipped states: To Do Jan 1 -> Done Jan 3: start = finish = Jan 3, cycle 0.
# F: a single event, In Progress on Jan 4: started, in progress.
FIXTURE = log(
    ("A", "To Do", "2024-01-01T00:00:00"),
    ("A", "In Progress", "2024-01-02T00:00:00"),
    ("A", "Blocked", "2024-01-03T00:00:00"),
    ("A", "In Review", "2024-01-05T00:00:00"),
    ("A", "Done", "2024-01-06T00:00:00"),
    ("B", "In Progress", "2024-01-02T00:00:00"),
    ("B", "Done", "2024-01-04T00:00:00"),
    ("B", "In Progress", "2024-01-05T00:00:00"),
    ("B", "Done", "2024-01-08T00:00:00"),
    ("C", "To Do", "2024-01-01T00:00:00"),
    ("C", "In Progress", "2024-01-02T00:00:00"),
    ("C", "Done", "2024-01-03T00:00:00"),
    ("C", "In Progress", "2024-01-07T00:00:00"),
    ("D", "To Do", "2024-01-02T00:00:00"),
    ("E", "To Do", "2024-01-01T00:00:00"),
    ("E", "Done", "2024-01-03T00:00:00"),
    ("F", "In Progress", "2024-01-04T00:00:00"),
)


def test_items_and_cycle_time(analyse) -> None:
    r = analyse(FIXTURE, WORKFLOW)
    assert r.items.to_dict() == {
        "total": 6,
        "started": 5,  # all but D
        "finished": 3,  # A, B, E
        "in_progress": 2,  # C (reopened), F
        "not_started": 1,
    }
    ct = r.cycle_time_days
    # Cycle times sorted: E 0, A 4, B 6. numpy linear percentiles: p50 = 4,
    # p85 = 4 + 0.7 * (6 - 4) = 5.4, p95 = 4 + 0.9 * 2 = 5.8, mean = 10 / 3.
    assert ct.p50 == pytest.approx(4.0)
    assert ct.p85 == pytest.approx(5.4)
    assert ct.p95 == pytest.approx(5.8)
    assert ct.mean == pytest.approx(10 / 3)
    assert ct.count == 3


def test_lead_time_from_first_event_or_created(analyse) -> None:
    # Lead time A = Jan 1 -> Jan 6 = 5, B = Jan 2 -> Jan 8 = 6, E = Jan 1 -> Jan 3 = 2.
    r = analyse(FIXTURE, WORKFLOW)
    assert r.lead_time_days.p50 == pytest.approx(5.0)
    assert r.lead_time_days.mean == pytest.approx(13 / 3)
    # A created field (Jira) wins over the first event.
    created = log(
        {
            "item_id": "X",
            "state": "In Progress",
            "timestamp": "2024-03-05T00:00:00",
            "created": "2024-03-01T00:00:00",
        },
        {
            "item_id": "X",
            "state": "Done",
            "timestamp": "2024-03-06T12:00:00",
            "created": "2024-03-01T00:00:00",
        },
    )
    r = analyse(created, WORKFLOW)
    assert r.lead_time_days.p50 == pytest.approx(5.5)
    assert r.cycle_time_days.p50 == pytest.approx(1.5)


def test_flow_efficiency(analyse) -> None:
    # Active: A 2 d, B 5 d, E 0. Cycle: 4 + 6 + 0 = 10 d -> 7 / 10.
    r = analyse(FIXTURE, WORKFLOW)
    assert r.flow_efficiency == pytest.approx(0.7)
    per_item = {p["item_id"]: p["flow_efficiency"] for p in r.scatter}
    assert per_item == {"A": pytest.approx(0.5), "B": pytest.approx(5 / 6), "E": None}


def test_throughput_and_wip(analyse) -> None:
    r = analyse(FIXTURE, WORKFLOW)
    # Finishes: E Jan 3, A Jan 6, B Jan 8; days between with none are listed as 0.
    assert r.throughput_daily == {
        "2024-01-03": 1,
        "2024-01-04": 0,
        "2024-01-05": 0,
        "2024-01-06": 1,
        "2024-01-07": 0,
        "2024-01-08": 1,
    }
    # 2024-01-01 is a Monday: E and A finish that week, B the next.
    assert r.throughput_weekly == {"2024-01-01": 2, "2024-01-08": 1}
    # Starts: A, B, C Jan 2; E Jan 3; F Jan 4.  Finishes (final): E Jan 3, A Jan 6, B Jan 8.
    # WIP = started - finished by the end of each day.
    assert r.wip_daily == {
        "2024-01-02": 3,
        "2024-01-03": 3,
        "2024-01-04": 4,
        "2024-01-05": 4,
        "2024-01-06": 3,
        "2024-01-07": 3,
        "2024-01-08": 2,
    }
    # Net flow per week = finished - started: week 1: 2 - 5; week 2: 1 - 0.
    assert r.net_flow_weekly == {"2024-01-01": -3, "2024-01-08": 1}


def test_aging_wip(analyse) -> None:
    # As of the last event (Jan 8): C started Jan 2 -> 6 d, F started Jan 4 -> 4 d.
    r = analyse(FIXTURE, WORKFLOW)
    ages = {a["item_id"]: (a["state"], a["age_days"]) for a in r.aging_wip}
    assert ages == {
        "C": ("In Progress", pytest.approx(6.0)),
        "F": ("In Progress", pytest.approx(4.0)),
    }
    # p50 = 4, p85 = 5.4, p95 = 5.8: F (4.0) sits in p50..p85, C (6.0) above p95.
    assert r.aging_summary()["bands"] == {
        "below_p50": 0,
        "p50_to_p85": 1,
        "p85_to_p95": 0,
        "above_p95": 1,
    }


def test_time_in_state_sums_visits(analyse) -> None:
    r = analyse(FIXTURE, WORKFLOW)
    tis = r.time_in_state_hours
    # Completed visits to In Progress, summed per item: A 24 h, B 48 + 72 = 120 h, C 24 h
    # (C's second visit and F's only visit are open). Median of [24, 24, 120] = 24;
    # p85 = 24 + 0.7 * (120 - 24) = 91.2.
    assert tis["In Progress"] == {
        "median": pytest.approx(24.0),
        "p85": pytest.approx(91.2),
        "items": 3,
    }
    # Done: B's first visit Jan 4-5 (24 h) and C's Jan 3-7 (96 h) are completed.
    assert tis["Done"]["items"] == 2
    assert tis["Done"]["median"] == pytest.approx(60.0)
    # To Do: A 24, C 24, E 48 (D's only visit is open).
    assert tis["To Do"] == {"median": pytest.approx(24.0), "p85": pytest.approx(40.8), "items": 3}
    assert "Ready for Test" not in tis


def test_cumulative_flow(analyse) -> None:
    wf = Workflow.from_toml_text(
        'backlog = ["To Do"]\nactive = ["In Progress"]\nwaiting = []\ndone = ["Done"]\n'
    )
    data = log(
        ("A", "To Do", "2024-01-01T10:00:00"),
        ("A", "In Progress", "2024-01-02T10:00:00"),
        ("A", "Done", "2024-01-03T10:00:00"),
        ("A", "In Progress", "2024-01-04T10:00:00"),  # reopened: its furthest stays Done,
        ("B", "In Progress", "2024-01-02T11:00:00"),  # skipped To Do: reached it too
        ("C", "To Do", "2024-01-03T09:00:00"),
        ("C", "Done", "2024-01-04T09:00:00"),
    )
    r = analyse(data, wf)
    cfd = r.cumulative_flow
    assert cfd.states == ["To Do", "In Progress", "Done"]
    assert cfd.days == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    # but a done band counts only finished items (as throughput and WIP do): A is in progress
    # at its last event, so Done holds C alone, from Jan 4; A stays in In Progress's band.
    assert cfd.counts == {
        "To Do": [1, 2, 3, 3],
        "In Progress": [0, 2, 2, 3],
        "Done": [0, 0, 0, 1],
    }


def test_ties_keep_file_order(analyse) -> None:
    # Same timestamp: file order decides. X ends Done (finished), Y ends In Progress.
    data = log(
        ("X", "In Progress", "2024-01-01T00:00:00"),
        ("X", "In Progress", "2024-01-02T00:00:00"),
        ("X", "Done", "2024-01-02T00:00:00"),
        ("Y", "In Progress", "2024-01-01T00:00:00"),
        ("Y", "Done", "2024-01-02T00:00:00"),
        ("Y", "In Progress", "2024-01-02T00:00:00"),
    )
    r = analyse(data, WORKFLOW)
    assert r.items.finished == 1
    assert [s["item_id"] for s in r.scatter] == ["X"]
    assert r.cycle_time_days.p50 == pytest.approx(1.0)


def test_without_workflow_case_duration(analyse) -> None:
    # Every item runs from its first to its last event: P 1.5 d, Q 0 d (single event), R 3 d.
    data = log(
        ("P", "register", "2024-02-01T00:00:00"),
        ("P", "check", "2024-02-01T12:00:00"),
        ("P", "close", "2024-02-02T12:00:00"),
        ("Q", "register", "2024-02-03T00:00:00"),
        ("R", "register", "2024-02-03T00:00:00"),
        ("R", "close", "2024-02-06T00:00:00"),
    )
    r = analyse(data)
    assert r.items.finished == 3
    assert r.cycle_time_days.p50 == pytest.approx(1.5)
    assert r.cycle_time_days.mean == pytest.approx(1.5)
    assert r.flow_efficiency is None
    # P finishes Fri Feb 2 and Q Sat Feb 3 (week of Mon Jan 29), R Tue Feb 6.
    assert r.throughput_weekly == {"2024-01-29": 2, "2024-02-05": 1}


def test_window_counts_items_finished_in_it(analyse) -> None:
    # Window Jan 5 .. Jan 8: A (finished Jan 6) and B (Jan 8) count with their full cycle
    # times, though they started before the window; E (finished Jan 3) does not.
    flt = FlowFilter(since=date(2024, 1, 5), until=date(2024, 1, 8))
    r = analyse(FIXTURE, WORKFLOW, flt)
    assert r.items.finished == 2
    assert r.cycle_time_days.p50 == pytest.approx(5.0)
    assert r.throughput_weekly == {"2024-01-01": 1, "2024-01-08": 1}
    # Items with an event in the window: A (Jan 5, 6), B (5, 8), C (Jan 7).
    assert r.items.total == 3
    assert list(r.wip_daily) == ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"]
    assert r.wip_daily["2024-01-05"] == 4


def test_type_filter(analyse) -> None:
    data = log(
        {
            "item_id": "S",
            "state": "In Progress",
            "timestamp": "2024-01-01T00:00:00",
            "type": "story",
        },
        {"item_id": "S", "state": "Done", "timestamp": "2024-01-03T00:00:00", "type": "story"},
        {"item_id": "G", "state": "In Progress", "timestamp": "2024-01-01T00:00:00", "type": "bug"},
        {"item_id": "G", "state": "Done", "timestamp": "2024-01-02T00:00:00", "type": "bug"},
    )
    r = analyse(data, WORKFLOW, FlowFilter(types=("bug",)))
    assert r.items.total == 1
    assert r.cycle_time_days.p50 == pytest.approx(1.0)
    whole = analyse(data, WORKFLOW)
    assert whole.distribution_finished == {"story": 0.5, "bug": 0.5}


def test_calendar_days(analyse) -> None:
    # A: Jan 2 -> Jan 6 is 5 calendar days inclusive; B: Jan 2 -> Jan 8, 7; E: 1.
    r = analyse(FIXTURE, WORKFLOW, FlowFilter(calendar_days=True))
    assert r.cycle_time_days.p50 == 5.0
    assert r.cycle_time_days.mean == pytest.approx(13 / 3)


def test_unmapped_states_are_reported(analyse) -> None:
    data = log(("Z", "Triage", "2024-01-01T00:00:00"), ("Z", "Done", "2024-01-02T00:00:00"))
    r = analyse(data, WORKFLOW)
    assert r.unmapped_states == ["Triage"]
    assert r.cycle_time_days.p50 == 0.0  # Triage counts as not started
