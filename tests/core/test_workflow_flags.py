"""Plausibility flags of an inferred (or any) workflow: a flow efficiency over 60 %, and a
state classed active holding most of the time items spend in process."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from obeya.core.events import EventLog
from obeya.core.workflow import Workflow
from obeya.core.workflow_infer import flow_efficiency, propose, review, state_stats
from obeya.ingest import read_events

from reference.pandas_flow import flow_metrics
from support import DATASETS

HELPDESK = DATASETS / "helpdesk.xes.gz"


@pytest.fixture(scope="module")
def helpdesk() -> EventLog:
    return read_events(HELPDESK)


def visit_hours(log: EventLog) -> pd.Series:
    """Hours of every completed visit, summed per state, computed with pandas from the
    events: a visit runs from an event to the item's next (timestamp order, ties in file
    order)."""
    frame = log.table.select(["item_id", "state", "t", "seq"]).to_pandas()
    frame = frame.sort_values(["item_id", "t", "seq"])
    frame["next_t"] = frame.groupby("item_id")["t"].shift(-1)
    done = frame.dropna(subset=["next_t"])
    return ((done["next_t"] - done["t"]) / 3.6e9).groupby(done["state"]).sum()


def test_helpdesk_proposal_is_flagged(helpdesk: EventLog) -> None:
    """The issue's case: the proposal classes 'Resolve ticket' (a month between resolving a
    ticket and closing it) as active, and reports a flow efficiency near 92 %."""
    proposal = propose(helpdesk)
    workflow = proposal.workflow
    assert "Resolve ticket" in workflow.active
    # The efficiency, computed again by the independent item-by-item reference.
    frame = helpdesk.table.select(["item_id", "state", "t", "seq"]).to_pandas()
    frame["timestamp"] = pd.to_datetime(frame["t"], unit="us", utc=True)
    mapping = {k: list(getattr(workflow, k)) for k in ("backlog", "active", "waiting", "done")}
    expected = flow_metrics(frame, mapping, keep_repeats=True)["flow_efficiency"]
    assert proposal.flow_efficiency == pytest.approx(expected, rel=1e-9)
    assert expected > 0.9
    # Resolve ticket's share of the hours spent in active and waiting states, by pandas.
    hours = visit_hours(helpdesk)
    in_process = hours[[s for s in hours.index if s in (*workflow.active, *workflow.waiting)]]
    share = hours["Resolve ticket"] / in_process.sum()
    assert share > 0.5
    flags = {(f.rule, f.state): f for f in proposal.flags}
    assert set(flags) == {("flow_efficiency", None), ("active_state_share", "Resolve ticket")}
    assert flags["flow_efficiency", None].value == pytest.approx(expected, rel=1e-9)
    assert flags["active_state_share", "Resolve ticket"].value == pytest.approx(share, rel=1e-9)
    assert (
        "'Resolve ticket' is classed active"
        in flags["active_state_share", "Resolve ticket"].message
    )
    # The proposal's document and TOML carry them.
    doc = proposal.to_dict()
    assert [f["rule"] for f in doc["flags"]] == [f.rule for f in proposal.flags]
    assert doc["flags"][1]["state"] == "Resolve ticket"


def test_helpdesk_with_resolve_ticket_waiting_is_not_flagged(helpdesk: EventLog) -> None:
    """Class the wait as waiting and both flags go: no other active state holds half the
    time, and the efficiency falls far below 60 %."""
    proposal = propose(helpdesk)
    wf = proposal.workflow
    fixed = replace(
        wf,
        active=tuple(s for s in wf.active if s != "Resolve ticket"),
        waiting=(*wf.waiting, "Resolve ticket"),
    )
    efficiency = flow_efficiency(helpdesk, fixed)
    assert efficiency is not None and efficiency < 0.6
    assert review(fixed, proposal.states, efficiency) == []


# A plausible stream, by hand. Per item: To Do -> In Progress (1 d) -> Waiting for review (3 d)
# -> In Review (1 d) -> Done. Active: 2 d of a 5 d cycle (40 %); In Progress and In Review hold
# 1 / 5 = 20 % of the in-process time each, Waiting for review 60 % (but it waits).
PLAUSIBLE = EventLog.from_rows(
    [
        row
        for item, day in (("A", 1), ("B", 3), ("C", 8))
        for row in (
            (item, "To Do", f"2024-02-{day:02d}T00:00:00"),
            (item, "In Progress", f"2024-02-{day + 1:02d}T00:00:00"),
            (item, "Waiting for review", f"2024-02-{day + 2:02d}T00:00:00"),
            (item, "In Review", f"2024-02-{day + 5:02d}T00:00:00"),
            (item, "Done", f"2024-02-{day + 6:02d}T00:00:00"),
        )
    ]
)


def test_a_plausible_stream_raises_no_flag() -> None:
    proposal = propose(PLAUSIBLE)
    assert proposal.workflow.waiting == ("Waiting for review",)
    assert proposal.flow_efficiency == pytest.approx(2 / 5)
    assert proposal.flags == []


def test_the_same_wait_classed_active_is_flagged_with_hand_computed_values() -> None:
    """With "Waiting for review" classed active: efficiency (1 + 3 + 1) / 5 = 100 %, and it
    holds 3 / 5 = 60 % of the in-process time (> 50 %); the two others 20 % each."""
    wrong = Workflow(
        backlog=("To Do",),
        active=("In Progress", "Waiting for review", "In Review"),
        done=("Done",),
    )
    efficiency = flow_efficiency(PLAUSIBLE, wrong)
    assert efficiency == pytest.approx(1.0)
    flags = review(wrong, state_stats(PLAUSIBLE), efficiency)
    assert [(f.rule, f.state) for f in flags] == [
        ("flow_efficiency", None),
        ("active_state_share", "Waiting for review"),
    ]
    assert flags[1].value == pytest.approx(0.6)
    assert "3.0 days at the median" in flags[1].message


def test_a_proposal_from_given_stats_is_the_proposal_from_the_log() -> None:
    """The workspace hands propose the stats it has cached: the proposal is the same."""
    assert propose(PLAUSIBLE, state_stats(PLAUSIBLE)) == propose(PLAUSIBLE)
