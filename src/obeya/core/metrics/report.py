"""The flow report: every figure of one analysis, as plain Python values.

The CLI prints it, the API returns ``to_dict()`` and the pages chart it, so all three show the
same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from obeya.core.metrics.filters import FlowFilter

if TYPE_CHECKING:
    from obeya.core.blockers.figures import BlockedFigures


@dataclass(frozen=True)
class Distribution:
    """Percentiles (linear interpolation), mean and sample size; None where there is no data."""

    p50: float | None = None
    p70: float | None = None
    p85: float | None = None
    p95: float | None = None
    mean: float | None = None
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "p50": self.p50,
            "p70": self.p70,
            "p85": self.p85,
            "p95": self.p95,
            "mean": self.mean,
            "count": self.count,
        }


@dataclass(frozen=True)
class ItemCounts:
    total: int
    started: int
    finished: int
    in_progress: int
    not_started: int

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "started": self.started,
            "finished": self.finished,
            "in_progress": self.in_progress,
            "not_started": self.not_started,
        }


#: Item types (compared without case) counted as defects among the finished items.
DEFECT_TYPES = ("bug", "defect")


@dataclass(frozen=True)
class Quality:
    """Quality beside flow, over the finished items: how many were reopened (left a done
    state for one that is not, before they finished; None without a workflow to tell done)
    and how many are defects (their type is one of :data:`DEFECT_TYPES`; ``typed``: those
    with a type at all). Without a defect among them the share is None, not 0: the stream's
    types then do not tell defects (BPIC's are impact levels), which 0 % would misread."""

    finished: int
    reopened: int | None
    typed: int
    defects: int

    @property
    def reopen_rate(self) -> float | None:
        if self.reopened is None or self.finished == 0:
            return None
        return self.reopened / self.finished

    @property
    def defect_share(self) -> float | None:
        return self.defects / self.typed if self.typed and self.defects else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "finished": self.finished,
            "reopened_items": self.reopened,
            "reopen_rate": self.reopen_rate,
            "typed_items": self.typed,
            "defect_items": self.defects,
            "defect_share": self.defect_share,
            "defect_types": list(DEFECT_TYPES),
        }


@dataclass(frozen=True)
class CumulativeFlow:
    """For each day and state (in flow order), items that reached that state or beyond."""

    states: list[str]
    days: list[str]
    counts: dict[str, list[int]]

    def to_dict(self) -> dict[str, Any]:
        return {"states": self.states, "days": self.days, "counts": self.counts}


#: Where cycle and lead time end, per finish convention (a workflow's ``finish``).
FINISH_WORDS = {"last": "last entry into done", "first": "first entry into done"}


def flow_conventions(finish: str | None, calendar_days: bool = False) -> dict[str, Any]:
    """The conventions behind a report's figures, in docs/conventions.md's words.

    ``finish``: the workflow's finish convention, None without a workflow (each item then runs
    from its first event to its last).
    """
    if finish is None:
        start, end = "first event", "last event"
    else:
        start, end = "first commitment", FINISH_WORDS[finish]
    return {
        "finish": finish,
        "cycle_time": {"from": start, "to": end},
        "lead_time": {"from": "creation", "to": end},
        "finished": "last event" if finish is None else "last event in a done state",
        "days": "calendar" if calendar_days else "fractional",
    }


def convention_line(doc: dict[str, Any]) -> str:
    """One line saying where cycle time starts and ends, for beside the figures:
    ``Cycle time: first commitment → last entry into done.``"""
    cycle = doc["cycle_time"]
    days = " Whole calendar days." if doc["days"] == "calendar" else ""
    return f"Cycle time: {cycle['from']} → {cycle['to']}.{days}"


def caveats(doc: dict[str, Any]) -> list[str]:
    """What a reader of a flow document should know before believing its figures, in words:
    figures that are right by the conventions but say little (every cycle time 0)."""
    found = []
    cycle = doc["cycle_time_days"]
    if cycle["count"] and cycle["p95"] == 0:  # 95 % or more of them at 0 (none is negative)
        found.append(
            f"{'Every' if cycle['mean'] == 0 else 'Nearly every'} finished item "
            "has a cycle time of 0 days: it starts and finishes at the same event. A file with "
            "one state per item gives that, e.g. a creation date and a finish date where the "
            "creation is read as the item's creation, not as a state. Lead time, from creation "
            "to finish, is the figure to read here; or map a state for the start."
        )
    return found


@dataclass(frozen=True)
class FlowReport:
    source: str
    has_workflow: bool
    filter: FlowFilter
    as_of: str | None
    items: ItemCounts
    cycle_time_days: Distribution
    lead_time_days: Distribution
    flow_efficiency: float | None
    throughput_daily: dict[str, int]
    throughput_weekly: dict[str, int]
    wip_daily: dict[str, int]
    arrivals_weekly: dict[str, int]
    net_flow_weekly: dict[str, int]
    cumulative_flow: CumulativeFlow
    time_in_state_hours: dict[str, dict[str, float | int | None]]
    aging_wip: list[dict[str, Any]]
    distribution_finished: dict[str, float]
    distribution_wip: dict[str, float]
    unmapped_states: list[str] = field(default_factory=list)
    scatter: list[dict[str, Any]] = field(default_factory=list)
    quality: Quality | None = None
    #: The workflow's finish convention ("last" or "first"); None without a workflow.
    finish: str | None = None
    #: What the reader kept but flagged (``LogWarning.to_dict()``), e.g. backwards events.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: Blocked time (docs/conventions.md, "Blocked time"); None when no blockers were given.
    blocked: BlockedFigures | None = None
    #: Each item's start and finish from the report's own pass (``report(spans=True)``), for
    #: figures laid over items (blocked time) to clip to without a second pass; never in the
    #: document, and dropped once used.
    spans: Any = field(default=None, repr=False, compare=False)

    @property
    def conventions(self) -> dict[str, Any]:
        return flow_conventions(self.finish, self.filter.calendar_days)

    @property
    def wip_now(self) -> int:
        return len(self.aging_wip)

    def velocity_per_week(self) -> float | None:
        weeks = list(self.throughput_weekly.values())
        return sum(weeks) / len(weeks) if weeks else None

    def aging_summary(self) -> dict[str, Any]:
        """How the ages of work in progress compare with the cycle-time percentiles."""
        ct = self.cycle_time_days
        bands = {"below_p50": 0, "p50_to_p85": 0, "p85_to_p95": 0, "above_p95": 0}
        for item in self.aging_wip:
            age = item["age_days"]
            if ct.p50 is None or age < ct.p50:
                bands["below_p50"] += 1
            elif ct.p85 is None or age < ct.p85:
                bands["p50_to_p85"] += 1
            elif ct.p95 is None or age < ct.p95:
                bands["p85_to_p95"] += 1
            else:
                bands["above_p95"] += 1
        return {"items": len(self.aging_wip), "as_of": self.as_of, "bands": bands}

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        """The JSON document of ``obeya metrics --json`` and of the API.

        ``detail`` adds the per-item lists (scatter points, aging items), which grow with the
        number of items.
        """
        doc: dict[str, Any] = {
            "source": self.source,
            "workflow": self.has_workflow,
            "filter": {
                "types": list(self.filter.types),
                "since": self.filter.since.isoformat() if self.filter.since else None,
                "until": self.filter.until.isoformat() if self.filter.until else None,
                "calendar_days": self.filter.calendar_days,
            },
            "items": self.items.to_dict(),
            "cycle_time_days": self.cycle_time_days.to_dict(),
            "lead_time_days": self.lead_time_days.to_dict(),
            "flow_efficiency": self.flow_efficiency,
            "throughput_daily": self.throughput_daily,
            "throughput_weekly": self.throughput_weekly,
            "wip_daily": self.wip_daily,
            "arrivals_weekly": self.arrivals_weekly,
            "net_flow_weekly": self.net_flow_weekly,
            "cumulative_flow": self.cumulative_flow.to_dict(),
            "time_in_state_hours": self.time_in_state_hours,
            "aging_wip": self.aging_summary(),
            "flow_framework": {
                "velocity_per_week": self.velocity_per_week(),
                "time_days": self.cycle_time_days.to_dict(),
                "efficiency": self.flow_efficiency,
                "load": self.wip_now,
                "distribution": self.distribution_finished,
                "distribution_wip": self.distribution_wip,
            },
            "unmapped_states": self.unmapped_states,
            "quality": None if self.quality is None else self.quality.to_dict(),
            "conventions": self.conventions,
            "warnings": self.warnings,
        }
        if self.blocked is not None:
            doc["blocked"] = self.blocked.to_dict()
        if detail:
            doc["aging_wip"]["items_detail"] = self.aging_wip
            doc["scatter"] = self.scatter
        tidy: dict[str, Any] = _tidy(doc)
        return tidy


#: Decimal places kept in documents: far below any meaningful difference (a microsecond is
#: 1.2e-11 days) yet enough to hide the last-bit differences between backends' arithmetic.
DECIMALS = 9


def _tidy(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value
