"""The reference implementation itself, checked on logs small enough to work out by hand.

The figures below are computed in the comments, from the definitions of docs/conventions.md,
not by running code: if the reference disagrees with a hand-worked figure, the reference is
wrong.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from reference.pandas_flow import flow_metrics
from support import DATASETS

WORKFLOW = {
    "backlog": ["To Do"],
    "active": ["In Progress", "Review"],
    "waiting": ["Blocked"],
    "done": ["Done"],
}

# 2024-01-01 is a Monday. Rows are deliberately not in item or time order (the reference must
# sort by timestamp), except the tie of E, whose file order decides the outcome.
#
# A  reopened:      To Do 01-01 00:00, In Progress 01-02, Done 01-04, In Progress 01-05,
#                   Done 01-16.  start 01-02, finish 01-16 → cycle 14 d, lead 15 d,
#                   active = In Progress 01-02→01-04 (2 d) + 01-05→01-16 (11 d) = 13 d.
# B  skips states:  To Do 01-01 12:00, Review 01-02 12:00, Done 01-03 00:00 (never In Progress).
#                   start 01-02 12:00 → cycle 0.5 d, lead 1.5 d, active (Review) 0.5 d.
# C  never started: To Do 01-01, then the unmapped "Triage" 01-03. No start, no finish.
# D  single event:  In Progress 01-03 06:00. Started, in progress, no completed visit.
# E  tie:           To Do 01-01, In Progress 01-02, Review 01-03 00:00, Done 01-03 00:00, Done
#                   written after Review. File order puts Done last → finished 01-03, cycle 1 d,
#                   lead 2 d, active = In Progress 1 d + Review 0 d = 1 d. (Sorting the tie by
#                   state name would put Review last and leave E unfinished.)
ROWS = [
    ("A", "In Progress", "2024-01-05T00:00:00Z", "story"),
    ("B", "To Do", "2024-01-01T12:00:00Z", "bug"),
    ("A", "To Do", "2024-01-01T00:00:00Z", "story"),
    ("C", "To Do", "2024-01-01T00:00:00Z", "story"),
    ("E", "To Do", "2024-01-01T00:00:00Z", "story"),
    ("A", "Done", "2024-01-16T00:00:00Z", "story"),
    ("B", "Done", "2024-01-03T00:00:00Z", "bug"),
    ("E", "Review", "2024-01-03T00:00:00Z", "story"),
    ("E", "Done", "2024-01-03T00:00:00Z", "story"),
    ("A", "In Progress", "2024-01-02T00:00:00Z", "story"),
    ("B", "Review", "2024-01-02T12:00:00Z", "bug"),
    ("E", "In Progress", "2024-01-02T00:00:00Z", "story"),
    ("C", "Triage", "2024-01-03T00:00:00Z", "story"),
    ("D", "In Progress", "2024-01-03T06:00:00Z", "bug"),
    ("A", "Done", "2024-01-04T00:00:00Z", "story"),
]


def events(rows: list[tuple[str, str, str, str]] = ROWS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "state", "timestamp", "type"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["seq"] = range(len(frame))
    return frame


def days(first: str, last: str) -> list[str]:
    return [d.date().isoformat() for d in pd.date_range(first, last, freq="D")]


def test_items_cycle_and_lead_time() -> None:
    m = flow_metrics(events(), WORKFLOW)
    assert m["items"] == {"total": 5, "finished": 3}
    # Cycle times sorted: 0.5, 1, 14. Linear percentile at rank q·(n−1) = q·2:
    # p50 → rank 1 → 1; p70 → 1.4 → 1 + 0.4·13 = 6.2; p85 → 1.7 → 1 + 0.7·13 = 10.1;
    # p95 → 1.9 → 1 + 0.9·13 = 12.7; mean 15.5 / 3.
    assert m["cycle_time_days"] == pytest.approx(
        {"p50": 1.0, "p70": 6.2, "p85": 10.1, "p95": 12.7, "mean": 15.5 / 3}
    )
    # Lead times (creation = first event) sorted: 1.5, 2, 15 → p70 = 2 + 0.4·13 = 7.2, ...
    assert m["lead_time_days"] == pytest.approx(
        {"p50": 2.0, "p70": 7.2, "p85": 11.1, "p95": 13.7, "mean": 18.5 / 3}
    )
    # Σ active / Σ cycle = (13 + 0.5 + 1) / (14 + 0.5 + 1).
    assert m["flow_efficiency"] == pytest.approx(14.5 / 15.5)
    assert m["unmapped_states"] == ["Triage"]


def test_per_item_table() -> None:
    table = flow_metrics(events(), WORKFLOW)["per_item"].set_index("item_id")
    utc = "UTC"
    assert table.loc["A", "start"] == pd.Timestamp("2024-01-02", tz=utc)
    assert table.loc["A", "finish"] == pd.Timestamp("2024-01-16", tz=utc)
    assert table.loc["A", "active_days"] == pytest.approx(13.0)
    assert table.loc["B", "start"] == pd.Timestamp("2024-01-02 12:00", tz=utc)
    assert table.loc["B", "cycle_time_days"] == pytest.approx(0.5)
    assert pd.isna(table.loc["C", "start"]) and pd.isna(table.loc["C", "finish"])
    assert table.loc["D", "start"] == pd.Timestamp("2024-01-03 06:00", tz=utc)
    assert pd.isna(table.loc["D", "finish"]) and pd.isna(table.loc["D", "cycle_time_days"])
    assert table.loc["E", "finish"] == pd.Timestamp("2024-01-03", tz=utc)
    assert table.loc["E", "active_days"] == pytest.approx(1.0)


def test_throughput_and_wip() -> None:
    m = flow_metrics(events(), WORKFLOW)
    # Finishes: B and E on Wed 01-03 (week of 01-01), A on Tue 01-16 (week of 01-15).
    assert m["throughput_weekly"] == {"2024-01-01": 2, "2024-01-08": 0, "2024-01-15": 1}
    daily = m["throughput_daily"]
    assert list(daily) == days("2024-01-03", "2024-01-16")
    assert daily["2024-01-03"] == 2 and daily["2024-01-16"] == 1 and sum(daily.values()) == 3
    # Starts: A, B, E on 01-02, D on 01-03. From the first start day to the last event day:
    # 01-02: 3 started − 0 finished = 3; 01-03: 4 − 2 (B, E) = 2; ... 01-16: 4 − 3 = 1 (D).
    wip = m["wip_daily"]
    assert list(wip) == days("2024-01-02", "2024-01-16")
    assert wip["2024-01-02"] == 3
    assert all(wip[d] == 2 for d in days("2024-01-03", "2024-01-15"))
    assert wip["2024-01-16"] == 1


def test_time_in_state() -> None:
    m = flow_metrics(events(), WORKFLOW)
    tis = m["time_in_state_hours"]
    # To Do: A 24, B 24, C 48, E 24 → median 24; p85 at rank 2.55 → 24 + 0.55·24 = 37.2.
    assert tis["To Do"] == pytest.approx({"median": 24.0, "p85": 37.2, "items": 4})
    # In Progress: A 48 + 264 = 312 (two visits add up), E 24; D's visit is not completed.
    # median 168; p85 = 24 + 0.85·288 = 268.8.
    assert tis["In Progress"] == pytest.approx({"median": 168.0, "p85": 268.8, "items": 2})
    # Review: B 12, E 0 (the tie: a completed visit of no length) → median 6, p85 10.2.
    assert tis["Review"] == pytest.approx({"median": 6.0, "p85": 10.2, "items": 2})
    # Done: only A's first, reopened visit 01-04 → 01-05 is completed.
    assert tis["Done"] == pytest.approx({"median": 24.0, "p85": 24.0, "items": 1})
    # Triage (C's last event) and Blocked (never entered) have no completed visit.
    assert "Triage" not in tis and "Blocked" not in tis


def test_cumulative_flow() -> None:
    cfd = flow_metrics(events(), WORKFLOW)["cumulative_flow"]
    # Unmapped first, then backlog, active, waiting, done as listed.
    assert list(cfd) == ["Triage", "To Do", "In Progress", "Review", "Blocked", "Done"]
    # Furthest rank reached, by day. A: To Do 01-01, In Progress 01-02, Done 01-04 (its
    # reopening does not lower it). B: To Do 01-01, Review 01-02, Done 01-03. C: To Do 01-01
    # (Triage ranks lower). D: In Progress 01-03. E: To Do 01-01, In Progress 01-02, Done 01-03.
    # Done counts an item from its finish on: A, reopened, only from 01-16 (its last Done).
    expected = {
        #             Triage To Do  IP  Review Blocked Done
        "2024-01-01": (4, 4, 0, 0, 0, 0),
        "2024-01-02": (4, 4, 3, 1, 0, 0),
        "2024-01-03": (5, 5, 4, 2, 2, 2),
        "2024-01-04": (5, 5, 4, 3, 3, 2),
        "2024-01-15": (5, 5, 4, 3, 3, 2),
        "2024-01-16": (5, 5, 4, 3, 3, 3),
    }
    for day, counts in expected.items():
        assert tuple(cfd[state][day] for state in cfd) == counts, day
    assert list(cfd["Done"]) == days("2024-01-01", "2024-01-16")


def test_without_workflow_cases_run_first_to_last_event() -> None:
    m = flow_metrics(events(), None)
    # Every item finishes: A 15, B 1.5, C 2, D 0 (single event), E 2 days.
    # Sorted 0, 1.5, 2, 2, 15: p50 = 2; p85 at rank 3.4 → 2 + 0.4·13 = 7.2; mean 20.5 / 5.
    assert m["items"] == {"total": 5, "finished": 5}
    assert m["cycle_time_days"]["p50"] == pytest.approx(2.0)
    assert m["cycle_time_days"]["p85"] == pytest.approx(7.2)
    assert m["cycle_time_days"]["mean"] == pytest.approx(4.1)
    assert m["flow_efficiency"] is None
    assert m["unmapped_states"] == []


def test_window_and_type_filters() -> None:
    m = flow_metrics(events(), WORKFLOW, since="2024-01-03", until="2024-01-03")
    # Events on 01-03: B, C, D, E (A has none). Finished on 01-03: B (0.5 d) and E (1 d).
    assert m["items"] == {"total": 4, "finished": 2}
    assert m["cycle_time_days"]["p50"] == pytest.approx(0.75)
    assert m["throughput_daily"] == {"2024-01-03": 2}
    assert m["wip_daily"] == {"2024-01-03": 2}  # A and D
    assert m["cumulative_flow"]["Done"] == {"2024-01-03": 2}

    bugs = flow_metrics(events(), WORKFLOW, types=["bug"])
    # Bugs: B (finished, 0.5 d) and D (in progress).
    assert bugs["items"] == {"total": 2, "finished": 1}
    assert bugs["cycle_time_days"]["p95"] == pytest.approx(0.5)


def test_created_column_sets_lead_time() -> None:
    frame = events()
    frame["created"] = pd.Timestamp("2023-12-31", tz="UTC")  # a day before the first event
    m = flow_metrics(frame, WORKFLOW)
    assert m["lead_time_days"]["p50"] == pytest.approx(3.0)  # E: 12-31 → 01-03


def test_calendar_days() -> None:
    m = flow_metrics(events(), WORKFLOW, calendar_days=True)
    # B 01-02 → 01-03 = 2 days; E 01-02 → 01-03 = 2; A 01-02 → 01-16 = 15.
    assert m["cycle_time_days"]["p50"] == pytest.approx(2.0)
    assert m["cycle_time_days"]["mean"] == pytest.approx(19 / 3)


def test_duplicate_events_are_refused() -> None:
    rows = [*ROWS, ("D", "In Progress", "2024-01-03T06:00:00Z", "bug")]
    with pytest.raises(ValueError, match=r"rows 13 and 15"):
        flow_metrics(events(rows), WORKFLOW)


BPIC = DATASETS / "bpic2013_incidents_transitions.csv.gz"


def test_runs_on_the_bpic_log_in_seconds() -> None:
    raw = pd.read_csv(BPIC)
    frame = pd.DataFrame(
        {
            "item_id": raw["case_id"],
            "state": raw["status"],
            "timestamp": pd.to_datetime(raw["timestamp"], utc=True),
            "seq": range(len(raw)),
        }
    )
    workflow = {
        "backlog": ["Assigned"],
        "active": ["In Progress", "In Call"],
        "waiting": [
            "Awaiting Assignment",
            "Wait",
            "Wait - User",
            "Wait - Implementation",
            "Wait - Vendor",
            "Wait - Customer",
        ],
        "done": ["Resolved", "Closed", "Cancelled"],
    }
    began = time.perf_counter()
    m = flow_metrics(frame, workflow)
    elapsed = time.perf_counter() - began
    assert elapsed < 10
    assert m["items"]["total"] == 7554
    # Last events (README and a direct count): Closed 5573, Resolved 90, Cancelled 1.
    assert m["items"]["finished"] == 5573 + 90 + 1
    assert m["unmapped_states"] == ["Unmatched"]
    assert 0 < m["flow_efficiency"] < 1
    assert len(m["per_item"]) == 7554
