"""Item types coded as integers inside an analysis (text is slow to aggregate on Spark): the
figures are those of the types as text, and an item's type is still its last event's type, else
the greatest of its types."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.test_quality import WORKFLOW, log
from obeya.core.events import EventLog
from obeya.core.metrics import analysis

T0 = datetime(2024, 1, 1)


def test_figures_are_the_same_with_types_left_as_text(analyse: Any, monkeypatch: Any) -> None:
    coded = analyse(log(), WORKFLOW).to_dict(detail=True)
    monkeypatch.setattr(analysis, "CODED_TYPES", 1)  # three types: more than the limit
    as_text = analyse(log(), WORKFLOW).to_dict(detail=True)
    assert as_text == coded
    # By hand (tests/core/test_quality.py): finished A (Bug), B (bug), C (Story), E (none).
    assert coded["flow_framework"]["distribution"] == {
        "Bug": 0.25, "bug": 0.25, "Story": 0.25, "(none)": 0.25
    }  # fmt: skip
    assert coded["quality"]["defect_items"] == 2


def test_an_items_type_is_its_last_events_else_its_greatest(analyse: Any) -> None:
    # X: story, then Bug, then a last event without a type → the greatest type, "story"
    # ("B" sorts before "s"). Y: story, then Bug last → "Bug".
    rows = [
        ("X", "story", "Doing", 0), ("X", "Bug", "Doing", 1), ("X", None, "Done", 2),
        ("Y", "story", "Doing", 0), ("Y", "Bug", "Done", 3),
    ]  # fmt: skip
    events = EventLog.from_rows(
        {"item_id": i, "type": t, "state": s, "timestamp": T0 + timedelta(days=d)}
        for i, t, s, d in rows
    )
    doc = analyse(events, WORKFLOW).to_dict(detail=True)
    assert {r["item_id"]: r["type"] for r in doc["scatter"]} == {"X": "story", "Y": "Bug"}
    assert doc["quality"]["defect_items"] == 1
