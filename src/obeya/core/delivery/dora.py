"""The four DORA delivery metrics of a :class:`DeliveryHistory` over a window of UTC days.

The definitions (docs/conventions.md, "Delivery metrics (DORA)"):

- Only *counted* deployments take part: production and successful (:attr:`Deployment.counts`).
- The window is ``since`` to ``until``, UTC dates, both included; each missing end is the first
  or last UTC day with a counted deployment. ``days = until − since + 1``, ``weeks = days / 7``.
- **Deployment frequency**: counted deployments finished in the window ÷ days
  (``per_day``), and distinct UTC days with one ÷ weeks (``days_per_week``).
- **Lead time for changes**: ``finished_at − committed_at`` in hours, over the changes shipped
  by a counted deployment of the window (a negative one, committed after its deployment, is
  kept: it is what the data says). ``p50`` and ``p85`` by linear interpolation (numpy's
  default).
- **Change failure rate**: counted deployments of the window with at least one incident ÷
  counted deployments of the window. An incident belongs to its ``deployment_id`` when that
  deployment counts (to none when it names another), else to the latest counted deployment
  finished strictly before the incident was created (ties: the one listed last); incidents of
  any date count. None when the window has no counted deployment, or the history no incident
  at all (nothing says whether any deployment failed).
- **Failed deployment recovery time**: ``resolved_at − created_at`` in hours of the incidents
  created in the window and resolved; unresolved ones are counted apart.
- **Weekly**: per ISO week (keyed by its Monday) that the window touches, the same counts and
  medians restricted to the week's days inside the window.
- **Unmatched changes**: changes naming a deployment id the history does not hold.

Every time is a timezone-aware datetime (a naive one is taken as UTC); days are UTC days.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from obeya.core.delivery.bands import (
    Band,
    change_failure_rate_band,
    deployment_frequency_band,
    lead_time_band,
    recovery_time_band,
)
from obeya.core.delivery.records import DeliveryHistory, Deployment, Incident
from obeya.errors import InputError

#: Decimal places kept in the JSON document (as in the flow report): far below any meaningful
#: difference, enough to hide last-bit differences in float arithmetic.
DECIMALS = 9

_HOUR_SECONDS = 3600.0


@dataclass(frozen=True)
class Percentiles:
    """``p50`` and ``p85`` (linear interpolation) of ``count`` values; None when there are none."""

    p50: float | None
    p85: float | None
    count: int

    @staticmethod
    def of(values: Sequence[float]) -> Percentiles:
        if not values:
            return Percentiles(None, None, 0)
        p50, p85 = np.percentile(np.asarray(values, dtype=float), [50, 85])
        return Percentiles(float(p50), float(p85), len(values))


@dataclass(frozen=True)
class WeekRow:
    """One ISO week of the window, for a trend chart."""

    week: date  # its Monday
    deployments: int
    failed_deployments: int
    lead_time_for_changes_hours_p50: float | None
    recovery_time_hours_p50: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            "deployments": self.deployments,
            "failed_deployments": self.failed_deployments,
            "lead_time_for_changes_hours_p50": self.lead_time_for_changes_hours_p50,
            "recovery_time_hours_p50": self.recovery_time_hours_p50,
        }


@dataclass(frozen=True)
class DoraReport:
    """Every DORA figure of one window as plain values; :meth:`to_dict` is the JSON document of
    ``obeya dora --json`` (and of anything else that shows the report)."""

    since: date
    until: date
    deployments: int
    days_with_deployments: int
    lead_time_for_changes_hours: Percentiles
    failed_deployments: int
    has_incidents: bool
    recovery_time_hours: Percentiles
    unresolved_incidents: int
    unmatched_changes: int
    weekly: tuple[WeekRow, ...]

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def weeks(self) -> float:
        return self.days / 7

    @property
    def deployments_per_day(self) -> float:
        return self.deployments / self.days

    @property
    def deployment_days_per_week(self) -> float:
        return self.days_with_deployments / self.weeks

    @property
    def change_failure_rate(self) -> float | None:
        """A fraction; None without a counted deployment in the window, or without incidents."""
        if self.deployments == 0 or not self.has_incidents:
            return None
        return self.failed_deployments / self.deployments

    def bands(self) -> dict[str, Band | None]:
        """Each metric's DORA 2023 band (:mod:`obeya.core.delivery.bands`), None: no data."""
        return {
            "deployment_frequency": deployment_frequency_band(
                self.deployment_days_per_week, self.deployments_per_day
            ),
            "lead_time_for_changes": lead_time_band(self.lead_time_for_changes_hours.p50),
            "change_failure_rate": change_failure_rate_band(self.change_failure_rate),
            "recovery_time": recovery_time_band(self.recovery_time_hours.p50),
        }

    def to_dict(self) -> dict[str, Any]:
        lead = self.lead_time_for_changes_hours
        recovery = self.recovery_time_hours
        doc = {
            "window": {
                "since": self.since.isoformat(),
                "until": self.until.isoformat(),
                "days": self.days,
                "weeks": self.weeks,
            },
            "deployment_frequency": {
                "days_per_week": self.deployment_days_per_week,
                "per_day": self.deployments_per_day,
                "deployments": self.deployments,
                "days_with_deployments": self.days_with_deployments,
            },
            "lead_time_for_changes_hours": {
                "p50": lead.p50,
                "p85": lead.p85,
                "changes": lead.count,
            },
            "change_failure_rate": self.change_failure_rate,
            "failed_deployments": self.failed_deployments,
            "recovery_time_hours": {
                "p50": recovery.p50,
                "p85": recovery.p85,
                "incidents": recovery.count,
                "unresolved": self.unresolved_incidents,
            },
            "unmatched_changes": self.unmatched_changes,
            "bands": self.bands(),
            "weekly": [row.to_dict() for row in self.weekly],
        }
        tidy: dict[str, Any] = _tidy(doc)
        return tidy


def dora_report(
    history: DeliveryHistory, since: date | None = None, until: date | None = None
) -> DoraReport:
    """The DORA figures of ``history`` from ``since`` to ``until`` (UTC dates, inclusive).

    Raises :class:`~obeya.errors.InputError` when the window cannot be set (no counted
    deployment and an end not given) or is empty (``since`` after ``until``), or when two
    deployments share an id.
    """
    _refuse_duplicate_ids(history.deployments)
    counted = [d for d in history.deployments if d.counts]
    since, until = _window(counted, since, until)

    def inside(day: date) -> bool:
        return since <= day <= until

    in_window = {d.deployment_id: d for d in counted if inside(_day(d.finished_at))}
    failed = _failed(counted, history.incidents) & in_window.keys()

    known = {d.deployment_id for d in history.deployments}
    unmatched = sum(1 for c in history.changes if c.deployment_id not in known)
    # (week, hours) of each change shipped by a counted deployment of the window
    lead: list[tuple[date, float]] = []
    for change in history.changes:
        shipped = in_window.get(change.deployment_id)
        if shipped is not None:
            hours = _hours(_utc(shipped.finished_at) - _utc(change.committed_at))
            lead.append((_monday(_day(shipped.finished_at)), hours))

    recovery: list[tuple[date, float]] = []
    unresolved = 0
    for incident in history.incidents:
        created = _day(incident.created_at)
        if not inside(created):
            continue
        if incident.resolved_at is None:
            unresolved += 1
        else:
            hours = _hours(_utc(incident.resolved_at) - _utc(incident.created_at))
            recovery.append((_monday(created), hours))

    weekly = _weekly(since, until, in_window.values(), failed, lead, recovery)
    return DoraReport(
        since=since,
        until=until,
        deployments=len(in_window),
        days_with_deployments=len({_day(d.finished_at) for d in in_window.values()}),
        lead_time_for_changes_hours=Percentiles.of([h for _, h in lead]),
        failed_deployments=len(failed),
        has_incidents=bool(history.incidents),
        recovery_time_hours=Percentiles.of([h for _, h in recovery]),
        unresolved_incidents=unresolved,
        unmatched_changes=unmatched,
        weekly=weekly,
    )


def _refuse_duplicate_ids(deployments: Sequence[Deployment]) -> None:
    repeated = [i for i, n in Counter(d.deployment_id for d in deployments).items() if n > 1]
    if repeated:
        raise InputError(
            f"deployment id {repeated[0]!r} appears more than once; each deployment needs its "
            "own id"
        )


def _window(
    counted: Sequence[Deployment], since: date | None, until: date | None
) -> tuple[date, date]:
    """The window's first and last day: as given, else the first and last counted day."""
    if since is None or until is None:
        if not counted:
            raise InputError(
                "no deployment to report on: none is in production with a successful result "
                "(environment 'production', result 'success'); check the deployments, or give "
                "both {opt:since} and {opt:until} to report on an empty window"
            )
        days = [_day(d.finished_at) for d in counted]
        since = min(days) if since is None else since
        until = max(days) if until is None else until
    if since > until:
        raise InputError(
            f"the window is empty: it starts on {since.isoformat()}, after its end "
            f"{until.isoformat()}; give a {{opt:since}} on or before {{opt:until}}"
        )
    return since, until


def _failed(counted: Sequence[Deployment], incidents: Iterable[Incident]) -> set[str]:
    """Ids of the counted deployments with at least one incident attributed to them."""
    ids = {d.deployment_id for d in counted}
    # Stable sort: of deployments finished at the same instant, the one listed last is latest.
    ordered = sorted(counted, key=lambda d: _utc(d.finished_at))
    finishes = [_utc(d.finished_at) for d in ordered]
    failed: set[str] = set()
    for incident in incidents:
        if incident.deployment_id:
            if incident.deployment_id in ids:
                failed.add(incident.deployment_id)
            continue
        # the latest counted deployment finished strictly before the incident was created
        before = bisect_left(finishes, _utc(incident.created_at)) - 1
        if before >= 0:
            failed.add(ordered[before].deployment_id)
    return failed


def _weekly(
    since: date,
    until: date,
    deployments: Iterable[Deployment],
    failed: set[str],
    lead: Sequence[tuple[date, float]],
    recovery: Sequence[tuple[date, float]],
) -> tuple[WeekRow, ...]:
    counts: Counter[date] = Counter()
    failures: Counter[date] = Counter()
    for d in deployments:
        week = _monday(_day(d.finished_at))
        counts[week] += 1
        failures[week] += int(d.deployment_id in failed)
    lead_by_week = _group(lead)
    recovery_by_week = _group(recovery)
    rows = []
    week = _monday(since)
    while week <= until:
        rows.append(
            WeekRow(
                week=week,
                deployments=counts[week],
                failed_deployments=failures[week],
                lead_time_for_changes_hours_p50=Percentiles.of(lead_by_week.get(week, [])).p50,
                recovery_time_hours_p50=Percentiles.of(recovery_by_week.get(week, [])).p50,
            )
        )
        week += timedelta(days=7)
    return tuple(rows)


def _group(pairs: Iterable[tuple[date, float]]) -> dict[date, list[float]]:
    grouped: dict[date, list[float]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(moment: datetime) -> date:
    return _utc(moment).date()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _hours(span: timedelta) -> float:
    return span.total_seconds() / _HOUR_SECONDS


def _tidy(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value
