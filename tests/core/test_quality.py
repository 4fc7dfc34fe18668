"""Quality beside flow: the reopen rate and the share of defects among finished items, by hand
and, on the BPIC 2013 log, against a pandas count of its own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from core.test_flow_real_logs import BPIC_CSV, sample_workflow
from obeya.core.events import EventLog
from obeya.core.metrics import FlowFilter
from obeya.core.workflow import Workflow

WORKFLOW = Workflow.from_toml_text(
    """backlog = ["To Do"]
active = ["Doing"]
done = ["Done", "Closed"]
"""
)
T0 = datetime(2024, 1, 1)
# A (Bug): Doing, Done, reopened (Doing), Done again: finished, reopened once.
# B (bug, lower case): Doing, Done, Closed: done → done is no reopen.
# C (Story): Doing, Done: finished, not reopened.
# D (Story): Doing, Done, then Doing: reopened but in progress now — not among the finished.
# E (no type): Doing, Done in the second week.
ROWS = [
    ("A", "Bug", "Doing", 0), ("A", "Bug", "Done", 1), ("A", "Bug", "Doing", 2),
    ("A", "Bug", "Done", 3),
    ("B", "bug", "Doing", 0), ("B", "bug", "Done", 2), ("B", "bug", "Closed", 3),
    ("C", "Story", "Doing", 1), ("C", "Story", "Done", 4),
    ("D", "Story", "Doing", 1), ("D", "Story", "Done", 2), ("D", "Story", "Doing", 5),
    ("E", None, "Doing", 6), ("E", None, "Done", 8),
]  # fmt: skip


def log() -> EventLog:
    return EventLog.from_rows(
        {"item_id": i, "type": t, "state": s, "timestamp": T0 + timedelta(days=d)}
        for i, t, s, d in ROWS
    )


def test_reopen_rate_and_defect_share_by_hand(analyse: Any) -> None:
    quality = analyse(log(), WORKFLOW).to_dict()["quality"]
    # Finished: A, B, C, E. Reopened among them: A (D is reopened but not finished): 1 / 4.
    # Typed: A, B, C; defects: A (Bug) and B (bug): 2 / 3.
    assert quality == {
        "finished": 4,
        "reopened_items": 1,
        "reopen_rate": 0.25,
        "typed_items": 3,
        "defect_items": 2,
        "defect_share": pytest.approx(2 / 3),
        "defect_types": ["bug", "defect"],
    }


def test_a_window_counts_the_items_finished_in_it(analyse: Any) -> None:
    # Finishes: A and B on day 3 (2024-01-04), C on day 4 (01-05), E on day 8 (01-09).
    flt = FlowFilter(since=date(2024, 1, 5))
    quality = analyse(log(), WORKFLOW, flt).to_dict()["quality"]
    # From 2024-01-05: C and E; neither reopened; typed C only, no defect: the types seen
    # tell no defect, so there is no share (not 0 %).
    assert (quality["finished"], quality["reopened_items"], quality["defect_items"]) == (2, 0, 0)
    assert quality["defect_share"] is None


def test_without_a_workflow_nothing_tells_a_reopen(analyse: Any) -> None:
    quality = analyse(log(), None).to_dict()["quality"]
    assert quality["reopened_items"] is None and quality["reopen_rate"] is None


def test_bpic_reopen_rate_against_pandas(analyse: Any) -> None:
    workflow, mapping = sample_workflow()
    frame = pd.read_csv(BPIC_CSV, usecols=["case_id", "status", "timestamp"])
    frame["t"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["seq"] = range(len(frame))
    frame = frame.sort_values(["case_id", "t", "seq"])
    done = frame["status"].isin(mapping["done"])
    previous_done = done.groupby(frame["case_id"]).shift(1, fill_value=False)
    reopens = (~done & previous_done).groupby(frame["case_id"]).sum()
    finished = done.groupby(frame["case_id"]).last()
    expected = int(((reopens > 0) & finished).sum())
    from obeya.ingest import ColumnMap, read_events

    events = read_events(BPIC_CSV, columns=ColumnMap(item_id="case_id", state="status"))
    quality = analyse(events, workflow).to_dict()["quality"]
    assert quality["finished"] == int(finished.sum())
    assert quality["reopened_items"] == expected
    assert expected > 100  # the log does reopen incidents: Resolved → In Progress
