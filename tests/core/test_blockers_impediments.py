"""An impediment's cost per week (docs/conventions.md, "Impediments as risks and
improvements"), worked by hand on the cross-team fixture (tests/core/data/blockers/teams; its
items and intervals are described in tests/core/test_blockers_cross_team.py).

The end of the data is P1's finish, Friday 2024-01-12, so the four weeks are [2023-12-15,
2024-01-12): the whole of the fixture's history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from obeya.core.blockers.impediments import (
    Impediment,
    blocked_days_so_far,
    cost_window,
    improvement_document,
    risk_document,
    weekly_cost,
)
from obeya.core.blockers.measure import blocked_of_log
from obeya.core.events import to_micros
from obeya.core.steering.risks import Risk
from obeya.core.steering.roadmap import Improvement
from obeya.core.workflow import Workflow
from obeya.ingest import read_events
from obeya.ingest.blockers import read_blockers

DATA = Path(__file__).parent / "data" / "blockers"


def moment(y: int, m: int, d: int, h: int = 0) -> int:
    return to_micros(datetime(y, m, d, h, tzinfo=UTC))


@pytest.fixture(scope="module")
def measured() -> tuple:
    log = read_events(DATA / "teams" / "events.csv")
    blockers = read_blockers(DATA / "teams" / "blockers.csv")
    blocked = blocked_of_log(log, blockers, Workflow.from_toml(DATA / "workflow.toml"))
    return blockers, blocked


def cost(measured: tuple, impediment: Impediment) -> tuple[float, tuple[str, ...]]:
    blockers, blocked = measured
    found = weekly_cost(impediment, blockers, blocked.spans, blocked.teams, blocked.as_of)
    return found.days_per_week, found.items


def test_the_window_is_the_four_weeks_up_to_the_end_of_the_data() -> None:
    assert cost_window(moment(2024, 1, 12)) == (moment(2023, 12, 15), moment(2024, 1, 12))
    # Not whole calendar weeks: a wait begun this week counts from its first day.
    assert cost_window(moment(2024, 1, 14, 23)) == (
        moment(2023, 12, 17, 23),
        moment(2024, 1, 14, 23),
    )


def test_an_item_blocker_costs_its_days_in_the_window(measured) -> None:
    _, blocked = measured
    assert blocked.as_of == moment(2024, 1, 12)
    # P1's api blocker, [3, 6): 3 days, all before Jan 8: 3 ÷ 4.
    assert cost(measured, Impediment("P1", "api")) == (0.75, ("P1",))
    # P1's ops blocker, open from Jan 10, runs to P1's finish on Jan 12: 2 days ÷ 4; a blocker
    # begun in the last week costs at once.
    assert cost(measured, Impediment("P1", "ops")) == (0.5, ("P1",))


def test_a_pair_costs_its_items_days_in_the_window(measured) -> None:
    # Pay → Plat: P1 [3, 9) = 6 d (api on L1 [3, 6) and api2 on L2 [5, 9) merged); P2 from its
    # start, [3, 5), and [8, 9) up to its finish: 3 d. 9 ÷ 4.
    assert cost(measured, Impediment("", "", "Pay", "Plat")) == (2.25, ("P1", "P2"))
    # Plat → Pay: L2 is unfinished and still blocked (open from Jan 3, it runs to the end of
    # the data): its cost counts, [3, 12) = 9 d ÷ 4, though the matrix (finished items) has
    # no such pair.
    assert cost(measured, Impediment("", "", "Plat", "Pay")) == (2.25, ("L2",))


def test_documents_made_from_an_impediment_are_valid_records(measured) -> None:
    blockers, blocked = measured
    pair = Impediment("", "", "Pay", "Plat")
    so_far = blocked_days_so_far(pair, blockers, blocked.spans, blocked.teams, blocked.as_of)
    assert so_far == 9.0  # P1 6 + P2 3, as the matrix has it
    risk = Risk.from_dict({"key": "R-1", **risk_document(pair, so_far)})
    assert (risk.probability, risk.impact, risk.state) == (1.0, 3.0, "open")
    assert risk.teams == ("Pay", "Plat")
    assert (risk.waiting_team, risk.blocking_team, risk.blocked_item) == ("Pay", "Plat", "")
    assert "9.0 blocked days so far" in risk.description
    item = Improvement.from_dict({"key": "I-1", **improvement_document(Impediment("P1", "api"))})
    assert (item.blocked_item, item.blocked_reason, item.target) == ("P1", "api", "waiting")
    assert Impediment.of_record(item.to_dict()) == Impediment("P1", "api")
    assert (
        Impediment.of_record(
            Risk.from_dict({"key": "R-2", "title": "t", "probability": 0.1, "impact": 1}).to_dict()
        )
        is None
    )


@pytest.mark.parametrize(
    "fields",
    [("P1", "", "", ""), ("P1", "api", "Pay", ""), ("", "", "Pay", ""), ("", "", "", "")],
)
def test_half_an_impediment_is_refused(fields: tuple[str, str, str, str]) -> None:
    with pytest.raises(ValueError):
        Impediment(*fields)
