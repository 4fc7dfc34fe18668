"""The DORA report of a small history worked out by hand: every rule of docs/conventions.md,
"Delivery metrics (DORA)", is exercised once, and every expected figure is derived in the
comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from obeya.core.delivery.dora import dora_report
from obeya.core.delivery.records import DeliveryHistory, Deployment
from obeya.errors import InputError
from obeya.ingest.delivery import read_delivery

# Columns in another order and an extra column (ignored); environment and result in any case.
# Counted (production + success): d1, d2, d3, d6, d7. d4 is staging, d5 failed.
# d2 and d3 finish on the same day (Wed 2024-01-03).
DEPLOYMENTS = """service,deployment_id,finished_at,environment,result
web,d1,2024-01-01T10:00:00Z,production,success
web,d2,2024-01-03T09:00:00Z,production,success
web,d3,2024-01-03T15:00:00Z,production,success
web,d4,2024-01-04T10:00:00Z,staging,success
web,d5,2024-01-05T10:00:00Z,production,failure
web,d6,2024-01-09T12:00:00Z,production,success
web,d7,2024-01-12T08:00:00Z,Production,SUCCESS
"""

# Lead times (deployment finished − committed):
#   c1 → d1: 06:00 → 10:00 = 4 h          c2 → d2: 01-02 09:00 → 01-03 09:00 = 24 h
#   c3 → d3: 13:00 → 15:00 = 2 h          c5 → d6: 01-08 06:00 → 01-09 12:00 = 30 h
#   c6 → d7: 01-11 14:00 → 01-12 08:00 = 18 h
# c4 ships on d5 (failed) and c8 on d4 (staging): known deployments that do not count, so
# left out but not unmatched. c7 names d99, which no file holds: the one unmatched change.
# c2's committed_at is naive (UTC).
CHANGES = """change_id,committed_at,deployment_id
c1,2024-01-01T06:00:00Z,d1
c2,2024-01-02 09:00:00,d2
c3,2024-01-03T13:00:00Z,d3
c4,2024-01-04T00:00:00Z,d5
c5,2024-01-08T06:00:00Z,d6
c6,2024-01-11T14:00:00Z,d7
c7,2024-01-05T00:00:00Z,d99
c8,2024-01-04T00:00:00Z,d4
"""

# Attribution for the change failure rate:
#   i0 (12-31, no deployment) was created before any deployment: attributed to none.
#   i1 (01-03 12:00, none): the latest counted deployment finished strictly before is d2.
#   i2 names d5, which does not count: attributed to none (no fall-back).
#   i3 names d6: d6 failed. It is unresolved.
#   i4 (none) is created at 01-09 12:00, the very instant d6 finished: strictly before it is
#      d3 (01-03 15:00), so d3 failed.
#   i5 names d1 and is created after the window: incidents of any date count, so d1 failed.
# Failed: d1, d2, d3, d6 of the five counted.
# Recovery (created in the window 01-01..01-12): i1 2 h, i2 1.5 h, i4 24 h resolved; i3
# unresolved; i0 and i5 are outside the window.
INCIDENTS = """incident_id,created_at,resolved_at,deployment_id
i0,2023-12-31T12:00:00Z,2023-12-31T13:00:00Z,
i1,2024-01-03T12:00:00Z,2024-01-03T14:00:00Z,
i2,2024-01-05T11:00:00Z,2024-01-05T12:30:00Z,d5
i3,2024-01-10T09:00:00Z,,d6
i4,2024-01-09T12:00:00Z,2024-01-10T12:00:00Z,
i5,2024-01-13T10:00:00Z,2024-01-13T11:00:00Z,d1
"""


@pytest.fixture
def history(tmp_path: Path) -> DeliveryHistory:
    files = {}
    for name, text in (("d", DEPLOYMENTS), ("c", CHANGES), ("i", INCIDENTS)):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(text)
    return read_delivery(files["d"], files["c"], files["i"])


def test_window_from_the_counted_deployments(history: DeliveryHistory) -> None:
    doc = dora_report(history).to_dict()
    # First and last counted days: d1 (01-01) and d7 (01-12): 12 days, 12/7 weeks.
    assert doc["window"] == {
        "since": "2024-01-01",
        "until": "2024-01-12",
        "days": 12,
        "weeks": pytest.approx(12 / 7),
    }
    # 5 counted deployments on 4 distinct days (01-01, 01-03 twice, 01-09, 01-12):
    # 4 / (12/7) = 2.333 days a week (high: at least once a week, not every working day);
    # 5 / 12 a day.
    assert doc["deployment_frequency"] == {
        "days_per_week": pytest.approx(28 / 12),
        "per_day": pytest.approx(5 / 12),
        "deployments": 5,
        "days_with_deployments": 4,
    }
    # Lead times sorted: 2, 4, 18, 24, 30. p50 = 18. p85: rank 0.85 × 4 = 3.4, so
    # 24 + 0.4 × (30 − 24) = 26.4.
    assert doc["lead_time_for_changes_hours"] == {
        "p50": pytest.approx(18.0),
        "p85": pytest.approx(26.4),
        "changes": 5,
    }
    assert doc["failed_deployments"] == 4
    assert doc["change_failure_rate"] == pytest.approx(4 / 5)
    # Recovery sorted: 1.5, 2, 24. p50 = 2. p85: rank 0.85 × 2 = 1.7: 2 + 0.7 × 22 = 17.4.
    assert doc["recovery_time_hours"] == {
        "p50": pytest.approx(2.0),
        "p85": pytest.approx(17.4),
        "incidents": 3,
        "unresolved": 1,
    }
    assert doc["unmatched_changes"] == 1
    # Lead time 18 h < 24 h: elite. 80 % > 15 %: low. Recovery 2 h: 1 h ≤ 2 h < 24 h: high.
    assert doc["bands"] == {
        "deployment_frequency": "high",
        "lead_time_for_changes": "elite",
        "change_failure_rate": "low",
        "recovery_time": "high",
    }
    # Week of 01-01: d1, d2, d3, all failed; lead 4, 24, 2 → median 4; recovery i1 2 h and
    # i2 1.5 h → 1.75. Week of 01-08: d6 (failed), d7; lead 30, 18 → 24; recovery i4 24 h.
    assert doc["weekly"] == [
        {
            "week": "2024-01-01",
            "deployments": 3,
            "failed_deployments": 3,
            "lead_time_for_changes_hours_p50": pytest.approx(4.0),
            "recovery_time_hours_p50": pytest.approx(1.75),
        },
        {
            "week": "2024-01-08",
            "deployments": 2,
            "failed_deployments": 1,
            "lead_time_for_changes_hours_p50": pytest.approx(24.0),
            "recovery_time_hours_p50": pytest.approx(24.0),
        },
    ]


def test_window_given(history: DeliveryHistory) -> None:
    doc = dora_report(history, since=date(2024, 1, 3), until=date(2024, 1, 9)).to_dict()
    assert doc["window"] == {"since": "2024-01-03", "until": "2024-01-09", "days": 7, "weeks": 1.0}
    # d2, d3 (01-03) and d6 (01-09): 3 deployments on 2 days in one week.
    assert doc["deployment_frequency"] == {
        "days_per_week": pytest.approx(2.0),
        "per_day": pytest.approx(3 / 7),
        "deployments": 3,
        "days_with_deployments": 2,
    }
    # d2, d3 and d6 all failed (d1's incident belongs to d1, outside the window): 3 / 3.
    assert doc["failed_deployments"] == 3
    assert doc["change_failure_rate"] == pytest.approx(1.0)
    # Lead times 24, 2, 30 → sorted 2, 24, 30: p50 24; p85 rank 1.7: 24 + 0.7 × 6 = 28.2.
    assert doc["lead_time_for_changes_hours"] == {
        "p50": pytest.approx(24.0),
        "p85": pytest.approx(28.2),
        "changes": 3,
    }
    # Created 01-03..01-09: i1 2 h, i2 1.5 h, i4 24 h (i3 is created on 01-10, outside).
    assert doc["recovery_time_hours"] == {
        "p50": pytest.approx(2.0),
        "p85": pytest.approx(17.4),
        "incidents": 3,
        "unresolved": 0,
    }
    # 24 h is not "less than one day": high, not elite.
    assert doc["bands"]["lead_time_for_changes"] == "high"
    # 01-03 is a Wednesday: the first row is its week, Monday 01-01, counting only 01-03 on.
    assert doc["weekly"] == [
        {
            "week": "2024-01-01",
            "deployments": 2,
            "failed_deployments": 2,
            "lead_time_for_changes_hours_p50": pytest.approx(13.0),  # median of 24 and 2
            "recovery_time_hours_p50": pytest.approx(1.75),  # median of 2 and 1.5
        },
        {
            "week": "2024-01-08",
            "deployments": 1,
            "failed_deployments": 1,
            "lead_time_for_changes_hours_p50": pytest.approx(30.0),
            "recovery_time_hours_p50": pytest.approx(24.0),  # i4
        },
    ]


def test_a_window_without_deployments(history: DeliveryHistory) -> None:
    # Thursday 02-01 to Wednesday 02-07: weeks of Monday 01-29 and 02-05, all zero.
    doc = dora_report(history, since=date(2024, 2, 1), until=date(2024, 2, 7)).to_dict()
    assert doc["deployment_frequency"]["deployments"] == 0
    assert doc["deployment_frequency"]["days_per_week"] == 0.0
    assert doc["change_failure_rate"] is None
    assert doc["lead_time_for_changes_hours"] == {"p50": None, "p85": None, "changes": 0}
    assert doc["recovery_time_hours"] == {"p50": None, "p85": None, "incidents": 0, "unresolved": 0}
    assert doc["bands"] == {
        "deployment_frequency": "low",
        "lead_time_for_changes": None,
        "change_failure_rate": None,
        "recovery_time": None,
    }
    assert [row["week"] for row in doc["weekly"]] == ["2024-01-29", "2024-02-05"]
    assert all(row["deployments"] == 0 for row in doc["weekly"])


def test_one_end_given_takes_the_other_from_the_data(history: DeliveryHistory) -> None:
    report = dora_report(history, since=date(2024, 1, 9))
    # until: the last counted day, 01-12: d6 and d7.
    assert (report.since, report.until, report.deployments) == (
        date(2024, 1, 9),
        date(2024, 1, 12),
        2,
    )


def test_without_incidents_there_is_no_change_failure_rate(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(DEPLOYMENTS)
    doc = dora_report(read_delivery(path, None, None)).to_dict()
    # Nothing says whether a deployment failed: null, not 0 % (elite).
    assert doc["change_failure_rate"] is None
    assert doc["failed_deployments"] == 0
    assert doc["bands"]["change_failure_rate"] is None
    assert doc["lead_time_for_changes_hours"]["changes"] == 0


def test_no_counted_deployment_and_no_window_is_refused(tmp_path: Path) -> None:
    staging = DeliveryHistory(
        deployments=(Deployment("x", "staging", datetime(2024, 1, 1, tzinfo=UTC), "success"),)
    )
    with pytest.raises(InputError, match="no deployment to report on"):
        dora_report(staging)
    with pytest.raises(InputError, match="no deployment to report on"):
        dora_report(DeliveryHistory())
    # With both ends given, an empty history is a report of zeros.
    report = dora_report(DeliveryHistory(), since=date(2024, 1, 1), until=date(2024, 1, 7))
    assert report.deployments == 0


def test_an_empty_window_is_refused(history: DeliveryHistory) -> None:
    with pytest.raises(InputError, match="the window is empty"):
        dora_report(history, since=date(2024, 1, 9), until=date(2024, 1, 8))


def test_a_change_committed_after_its_deployment_is_kept_as_data() -> None:
    from obeya.core.delivery.records import Change

    finished = datetime(2024, 1, 1, 10, tzinfo=UTC)
    history = DeliveryHistory(
        deployments=(Deployment("d", "production", finished, "success"),),
        changes=(Change("c", datetime(2024, 1, 1, 13, tzinfo=UTC), "d"),),
    )
    # 10:00 − 13:00 = −3 h: reported as it is.
    assert dora_report(history).lead_time_for_changes_hours.p50 == pytest.approx(-3.0)


def test_duplicate_deployment_ids_are_refused() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    twice = DeliveryHistory(
        deployments=(
            Deployment("d", "production", moment, "success"),
            Deployment("d", "production", moment, "success"),
        )
    )
    with pytest.raises(InputError, match="'d' appears more than once"):
        dora_report(twice)
