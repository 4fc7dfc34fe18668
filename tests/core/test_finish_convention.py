"""The workflow's ``finish`` setting: cycle time to the last entry into done (the default) or to
the first, on a log worked out by hand; and the setting in the workflow file."""

from __future__ import annotations

from dataclasses import replace

import pytest

from obeya.core.events import EventLog
from obeya.core.metrics import convention_line
from obeya.core.workflow import Workflow
from obeya.errors import WorkflowError

WORKFLOW = Workflow.from_toml_text(
    """
backlog = ["To Do"]
active = ["In Progress"]
waiting = ["Blocked"]
done = ["Done", "Closed"]
"""
)
FIRST = replace(WORKFLOW, finish="first")

# X: committed Jan 2, Done Jan 5, reopened Jan 7, Done again Jan 10.
#    last: finish Jan 10, cycle 8 d, lead (from Jan 1) 9 d; active Jan 2-5 + Jan 7-10 = 6 d.
#    first: finish Jan 5, cycle 3 d, lead 4 d; active Jan 2-5 = 3 d (after Jan 5 it is done).
# Y: committed Jan 4, Blocked Jan 5, Done Jan 8, Closed Jan 9 (done -> done: no reopen).
#    last: finish Jan 9, cycle 5 d, lead (from Jan 2) 7 d; first: finish Jan 8, cycle 4 d,
#    lead 6 d; active Jan 4-5 = 1 d either way.
# Z: committed Jan 3, Done Jan 4, reopened Jan 6 and never done again: in progress under both
#    (an item is finished only while its last event is done).
LOG = EventLog.from_rows(
    [
        ("X", "To Do", "2024-01-01T00:00:00"),
        ("X", "In Progress", "2024-01-02T00:00:00"),
        ("X", "Done", "2024-01-05T00:00:00"),
        ("X", "In Progress", "2024-01-07T00:00:00"),
        ("X", "Done", "2024-01-10T00:00:00"),
        ("Y", "To Do", "2024-01-02T00:00:00"),
        ("Y", "In Progress", "2024-01-04T00:00:00"),
        ("Y", "Blocked", "2024-01-05T00:00:00"),
        ("Y", "Done", "2024-01-08T00:00:00"),
        ("Y", "Closed", "2024-01-09T00:00:00"),
        ("Z", "In Progress", "2024-01-03T00:00:00"),
        ("Z", "Done", "2024-01-04T00:00:00"),
        ("Z", "In Progress", "2024-01-06T00:00:00"),
    ]
)


def test_last_entry_into_done(analyse) -> None:
    r = analyse(LOG, WORKFLOW)
    assert r.items.finished == 2 and r.wip_now == 1  # X, Y finished; Z in progress
    # Cycle times X 8, Y 5: p50 = mean = 6.5; p85 = 5 + 0.85 * 3 = 7.55.
    assert r.cycle_time_days.p50 == pytest.approx(6.5)
    assert r.cycle_time_days.p85 == pytest.approx(7.55)
    assert r.lead_time_days.mean == pytest.approx((9 + 7) / 2)
    assert r.throughput_daily == {"2024-01-09": 1, "2024-01-10": 1}
    assert r.flow_efficiency == pytest.approx((6 + 1) / (8 + 5))
    # WIP at the end of Jan 6: X (Jan 2, finishes Jan 10), Y (Jan 4), Z (Jan 3) = 3.
    assert r.wip_daily["2024-01-06"] == 3
    assert r.quality is not None and r.quality.reopened == 1  # X
    assert r.to_dict()["conventions"] == {
        "finish": "last",
        "cycle_time": {"from": "first commitment", "to": "last entry into done"},
        "lead_time": {"from": "creation", "to": "last entry into done"},
        "finished": "last event in a done state",
        "days": "fractional",
    }


def test_first_entry_into_done(analyse) -> None:
    r = analyse(LOG, FIRST)
    assert r.items.finished == 2 and r.wip_now == 1  # the same items: Z is still in progress
    # Cycle times X 3, Y 4: p50 = mean = 3.5; p85 = 3 + 0.85 * 1 = 3.85.
    assert r.cycle_time_days.p50 == pytest.approx(3.5)
    assert r.cycle_time_days.p85 == pytest.approx(3.85)
    assert r.lead_time_days.mean == pytest.approx((4 + 6) / 2)
    # X finishes on Jan 5, Y on Jan 8; the series runs from the first finish to the last.
    assert r.throughput_daily == {
        "2024-01-05": 1,
        "2024-01-06": 0,
        "2024-01-07": 0,
        "2024-01-08": 1,
    }
    # Active time up to the finish only: X 3 d, Y 1 d, over cycle times 3 + 4.
    assert r.flow_efficiency == pytest.approx((3 + 1) / (3 + 4))
    # WIP at the end of Jan 6: X finished on Jan 5, so Y and Z = 2.
    assert r.wip_daily["2024-01-06"] == 2
    scatter = {p["item_id"]: p for p in r.scatter}
    assert scatter["X"]["cycle_time_days"] == pytest.approx(3.0)
    assert scatter["X"]["flow_efficiency"] == pytest.approx(1.0)
    assert r.to_dict()["conventions"]["cycle_time"]["to"] == "first entry into done"


def done_band(report, day: str) -> int:
    cfd = report.cumulative_flow
    return cfd.counts["Done"][cfd.days.index(day)]


def test_the_done_band_counts_items_from_their_finish(analyse) -> None:
    # End of Jan 6: X reached Done on Jan 5 and Z on Jan 4, but under "last" X finishes on
    # Jan 10 and Z never: 0. Under "first" X finished on Jan 5: 1. By Jan 10 both count X, Y.
    last, first = analyse(LOG, WORKFLOW), analyse(LOG, FIRST)
    assert (done_band(last, "2024-01-06"), done_band(first, "2024-01-06")) == (0, 1)
    assert (done_band(last, "2024-01-10"), done_band(first, "2024-01-10")) == (2, 2)
    # Bands below done are the furthest state reached, whatever the finish: X, Y, Z by Jan 4.
    assert last.cumulative_flow.counts["In Progress"] == first.cumulative_flow.counts["In Progress"]


def test_the_finish_changes_no_figure_that_does_not_depend_on_it(analyse) -> None:
    last, first = analyse(LOG, WORKFLOW), analyse(LOG, FIRST)
    assert first.time_in_state_hours == last.time_in_state_hours
    assert first.aging_wip == last.aging_wip  # Z alone, started Jan 3, at the end of the data
    assert first.items == last.items


def test_without_a_workflow_the_conventions_say_first_and_last_event(analyse) -> None:
    doc = analyse(LOG).to_dict()
    assert doc["conventions"]["finish"] is None
    assert doc["conventions"]["cycle_time"] == {"from": "first event", "to": "last event"}
    assert convention_line(doc["conventions"]) == "Cycle time: first event → last event."


def test_the_convention_line() -> None:
    from obeya.core.metrics import flow_conventions

    assert (
        convention_line(flow_conventions("last"))
        == "Cycle time: first commitment → last entry into done."
    )
    assert (
        convention_line(flow_conventions("first", calendar_days=True))
        == "Cycle time: first commitment → first entry into done. Whole calendar days."
    )


def test_the_workflow_file_reads_and_writes_finish() -> None:
    assert "finish" not in WORKFLOW.to_toml()  # the default is not written: files stay as they were
    parsed = Workflow.from_toml_text(WORKFLOW.to_toml() + 'finish = "first"\n')
    assert parsed.finish == "first"
    assert Workflow.from_toml_text(parsed.to_toml()) == replace(parsed, source="<workflow>")
    # Written before [stages], so it stays a top-level key.
    staged = replace(FIRST, stages=(("Develop", ("In Progress",)),))
    assert Workflow.from_toml_text(staged.to_toml()).finish == "first"


@pytest.mark.parametrize("value", ['"middle"', "1", '["first"]'])
def test_a_bad_finish_names_the_field_and_the_value(value: str) -> None:
    with pytest.raises(WorkflowError) as caught:
        Workflow.from_toml_text(WORKFLOW.to_toml() + f"finish = {value}\n", "wf.toml")
    message = str(caught.value)
    assert message.startswith("wf.toml: field 'finish'")
    assert '"last"' in message and '"first"' in message
    assert caught.value.field == "finish"
