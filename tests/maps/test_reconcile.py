"""The map's lead time beside the measured one, worked by hand: the measured mean is, exactly,
the steps' means per item (skips counting zero) plus the time outside every step."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from obeya.core.events import EventLog
from obeya.core.maps.discovery import discover
from obeya.core.workflow import Workflow

WORKFLOW = Workflow.from_toml_text(
    """backlog = ["To Do"]
active = ["Dev", "Test"]
done = ["Resolved", "Closed"]

[stages]
Develop = ["Dev"]
Verify = ["Test"]
Close = ["Resolved", "Closed"]
"""
)
T0 = datetime(2024, 1, 1)
# A: Dev 1→3, Test 3→4, Resolved 4→6, Closed 6: lead 1→6 = 5 days: Develop 2, Verify 1, 2 days
#    outside every step (resolved, not yet closed).
# B: Dev 2→6, Closed 6: lead 4 days, all in Develop; it skips Verify.
ROWS = [
    ("A", "To Do", 0), ("A", "Dev", 1), ("A", "Test", 3), ("A", "Resolved", 4), ("A", "Closed", 6),
    ("B", "To Do", 0), ("B", "Dev", 2), ("B", "Closed", 6),
]  # fmt: skip


def test_the_measured_mean_splits_into_steps_and_outside() -> None:
    log = EventLog.from_rows((i, s, T0 + timedelta(days=d)) for i, s, d in ROWS)
    found = discover(log, WORKFLOW)
    split = found.reconciliation
    assert split is not None
    assert split.items == 2
    assert split.measured_mean_hours == pytest.approx(4.5 * 24)  # (5 + 4) / 2 days
    # Develop: (2 + 4) / 2 = 3 days; Verify: (1 + 0) / 2 = 0.5 day; outside: (2 + 0) / 2 = 1.
    assert split.step_mean_hours == pytest.approx({"Develop": 72.0, "Verify": 12.0})
    assert split.outside_hours == pytest.approx(24.0)
    # Both finished items passed Develop, one of the two Verify.
    shares = {s.name: s.visit_share for s in found.steps}
    assert shares == {"Develop": 1.0, "Verify": 0.5}
    # The map adds means over visitors weighed by the share that visits: Develop mean of
    # 2 and 4 days = 3 d × 1, Verify 1 d × ½ — the steps' hours exactly, as no item is open.
    assert split.map_hours == pytest.approx(3 * 24 + 0.5 * 24)
    assert "outside every step" in split.explanation
    assert found.to_dict()["lead_time_reconciliation"]["outside_hours"] == pytest.approx(24.0)
