"""The DORA 2023 bands at and around every boundary (obeya.core.delivery.bands docstring)."""

from __future__ import annotations

import pytest

from obeya.core.delivery.bands import (
    change_failure_rate_band,
    deployment_frequency_band,
    lead_time_band,
    recovery_time_band,
)


@pytest.mark.parametrize(
    ("days_per_week", "per_day", "band"),
    [
        (7.0, 2.0, "elite"),  # every day, twice a day
        (5.0, 10 / 7, "elite"),  # every working day, twice a day: 10 a week
        (5.0, 1.0, "high"),  # not more than one a day on average
        (7.0, 1.0, "high"),  # once every day: "once per day", the top of high
        (4.9, 3.0, "high"),  # many a day, but not on every working day
        (1.0, 1 / 7, "high"),  # exactly once a week
        (0.99, 0.2, "medium"),
        (7 / 30, 1 / 30, "medium"),  # exactly once a month (30 days)
        (0.23, 0.04, "low"),  # a little less often than once a month
        (0.0, 0.0, "low"),
        (None, None, None),
    ],
)
def test_deployment_frequency(
    days_per_week: float | None, per_day: float | None, band: str | None
) -> None:
    assert deployment_frequency_band(days_per_week, per_day) == band


@pytest.mark.parametrize(
    ("hours", "band"),
    [
        (0.0, "elite"),
        (23.99, "elite"),
        (24.0, "high"),  # "less than one day" excludes one day
        (168.0, "high"),  # one week: named by high and medium, goes to the better
        (168.01, "medium"),
        (720.0, "medium"),  # one month (30 days)
        (720.01, "low"),
        (None, None),
    ],
)
def test_lead_time(hours: float | None, band: str | None) -> None:
    assert lead_time_band(hours) == band


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (0.0, "elite"),
        (0.05, "elite"),  # the elite cluster's own figure
        (0.0501, "high"),
        (0.10, "high"),
        (0.15, "medium"),
        (0.1501, "low"),
        (1.0, "low"),
        (None, None),
    ],
)
def test_change_failure_rate(rate: float | None, band: str | None) -> None:
    assert change_failure_rate_band(rate) == band


@pytest.mark.parametrize(
    ("hours", "band"),
    [
        (0.5, "elite"),
        (1.0, "high"),  # "less than one hour" excludes one hour
        (23.99, "high"),
        (24.0, "medium"),  # high is "less than one day"; medium starts at one day
        (168.0, "medium"),
        (168.01, "low"),  # between one week and one month: no cluster, the slower one
        (24.0 * 200, "low"),
        (None, None),
    ],
)
def test_recovery_time(hours: float | None, band: str | None) -> None:
    assert recovery_time_band(hours) == band
