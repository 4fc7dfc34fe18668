"""Shared objectives and their key results. A key result is bound to a live flow metric
(``cycle_time_p85 <= 10`` by 2027-03-31, measured on the last ``window_days`` of the stream's
history) or kept by hand (``current`` updated by whoever owns it); its history is the record's
saved versions.

Progress of a key result with a baseline (its value when it was set): the share of the way
from the baseline to the target, 0..1 — (baseline − current) ÷ (baseline − target) for
``<=``, (current − baseline) ÷ (target − baseline) for ``>=`` — clamped to [0, 1]; it is 1
when the target is met. Without a baseline only ``met`` is known.

Progress of an objective: the share of its key results that are met (met ÷ all), so it is
1 exactly when every key result is met, and never more; a key result past its target counts
once, and one with no value yet counts as not met. The partial progress of its key results
shows beside them; it never adds up to the objective's (a mean of partial shares read 100 %
while a key result without a baseline was not met).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from obeya.core.steering.fields import Fields, iso
from obeya.errors import InputError

Doc = Mapping[str, Any]


def _distribution(name: str, part: str) -> Callable[[Doc], float | None]:
    return lambda doc: (doc.get(name) or {}).get(part)


def _throughput_per_week(doc: Doc) -> float | None:
    daily = doc.get("throughput_daily") or {}
    days = len(daily)
    return None if not days else 7 * sum(daily.values()) / days


#: The metrics a key result can be bound to: name → (how to read it from a flow report
#: document, unit, whether lower is better).
METRICS: dict[str, tuple[Callable[[Doc], float | None], str, bool]] = {
    "cycle_time_p50": (_distribution("cycle_time_days", "p50"), "days", True),
    "cycle_time_p85": (_distribution("cycle_time_days", "p85"), "days", True),
    "cycle_time_p95": (_distribution("cycle_time_days", "p95"), "days", True),
    "cycle_time_mean": (_distribution("cycle_time_days", "mean"), "days", True),
    "lead_time_p50": (_distribution("lead_time_days", "p50"), "days", True),
    "lead_time_p85": (_distribution("lead_time_days", "p85"), "days", True),
    "throughput_per_week": (_throughput_per_week, "items/week", False),
    "flow_efficiency": (lambda doc: doc.get("flow_efficiency"), "share", False),
    "wip": (lambda doc: (doc.get("items") or {}).get("in_progress"), "items", True),
    "reopen_rate": (_distribution("quality", "reopen_rate"), "share", True),
    "defect_share": (_distribution("quality", "defect_share"), "share", True),
}
#: Key results on these measure quality; the others flow, which a quality guard watches.
QUALITY_METRICS = frozenset({"reopen_rate", "defect_share"})
COMPARATORS = ("<=", ">=")
DEFAULT_WINDOW_DAYS = 28
_OBJECTIVE_KEYS = {"key", "title", "description", "owner", "key_results", "stream"}
_KR_KEYS = {
    "key",
    "title",
    "metric",
    "comparator",
    "target",
    "by",
    "baseline",
    "current",
    "window_days",
}


@dataclass(frozen=True)
class KeyResult:
    key: str
    title: str
    comparator: str
    target: float
    metric: str | None = None  # bound to a live metric, else kept by hand
    by: date | None = None
    baseline: float | None = None
    current: float | None = None  # by hand; ignored when bound to a metric
    window_days: int = DEFAULT_WINDOW_DAYS

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.target if self.comparator == "<=" else value >= self.target

    def progress(self, value: float | None) -> float | None:
        """Share of the way from the baseline to the target (module docstring)."""
        if value is None:
            return None
        if self.met(value):
            return 1.0
        if self.baseline is None or self.baseline == self.target:
            return None
        share = (value - self.baseline) / (self.target - self.baseline)
        return min(1.0, max(0.0, share))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "metric": self.metric,
            "comparator": self.comparator,
            "target": self.target,
            "by": iso(self.by),
            "baseline": self.baseline,
            "current": self.current,
            "window_days": self.window_days,
        }


@dataclass(frozen=True)
class Objective:
    key: str
    title: str
    key_results: tuple[KeyResult, ...]
    description: str = ""
    owner: str = ""

    @property
    def bound_metrics(self) -> set[str]:
        return {kr.metric for kr in self.key_results if kr.metric}

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "owner": self.owner,
            "key_results": [kr.to_dict() for kr in self.key_results],
        }

    def view(
        self,
        measured: Mapping[str, Mapping[int, float | None]],
        today: date,
        quality_flags: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The objective with each key result's current value, where it comes from, whether
        it is met and its progress. ``measured``: metric → window days → value.
        ``quality_flags``: quality rates of the stream that rose lately; an objective whose
        flow key results moved forward carries them (a flow gain bought with quality)."""
        results = []
        for kr in self.key_results:
            if kr.metric is not None:
                value = measured.get(kr.metric, {}).get(kr.window_days)
                source = f"{kr.metric} over the last {kr.window_days} days"
            else:
                value, source = kr.current, "by hand"
            results.append(
                {
                    **kr.to_dict(),
                    "value": value,
                    "source": source,
                    "met": kr.met(value),
                    "progress": kr.progress(value),
                    "overdue": kr.by is not None and kr.by < today and not kr.met(value),
                }
            )
        met = sum(1 for r in results if r["met"])
        gaining = any(
            r["metric"] is not None
            and r["metric"] not in QUALITY_METRICS
            and (r["met"] or (r["progress"] or 0) > 0)
            for r in results
        )
        return {
            **self.to_dict(),
            "key_results": results,
            "met": met,
            "progress": objective_progress(met, len(results)),
            "quality_flags": list(quality_flags) if gaining else [],
        }


def objective_progress(met: int, total: int) -> float | None:
    """The share of key results met (module docstring); None for an objective without any."""
    if total == 0:
        return None
    if not 0 <= met <= total:
        raise ValueError(f"{met} key results met out of {total}")
    return met / total


def objective_from_dict(doc: Mapping[str, Any], where: str = "objective") -> Objective:
    """An objective from its document; InputError naming the field (an unknown metric too)."""
    key = doc.get("key")
    label = f"{where} {key!r}" if isinstance(key, str) and key else where
    f = Fields(doc, label, _OBJECTIVE_KEYS)
    raw = doc.get("key_results", [])
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        raise f.fail("key_results", "must be a list of tables")
    results = tuple(_key_result(r, f"{label}: key_results[{i}]") for i, r in enumerate(raw))
    keys = [r.key for r in results]
    duplicate = next((k for k in keys if keys.count(k) > 1), None)
    if duplicate is not None:
        raise f.fail("key_results", f"use the key {duplicate!r} twice; keys must differ")
    return Objective(
        key=f.required_text("key"),
        title=f.required_text("title"),
        description=f.text("description", ""),
        owner=f.text("owner", ""),
        key_results=results,
    )


def _key_result(doc: Mapping[str, Any], where: str) -> KeyResult:
    f = Fields(doc, where, _KR_KEYS)
    metric = doc.get("metric")
    if metric is not None:
        metric = f.text("metric") or None
    if metric is not None and metric not in METRICS:
        raise f.fail("metric", f"{metric!r} is unknown; bind to one of {', '.join(METRICS)}")
    return KeyResult(
        key=f.required_text("key"),
        title=f.required_text("title"),
        metric=metric,
        comparator=f.choice("comparator", COMPARATORS),
        target=f.number("target"),
        by=f.date("by"),
        baseline=f.optional_number("baseline"),
        current=f.optional_number("current"),
        window_days=int(
            f.number("window_days", DEFAULT_WINDOW_DAYS, low=1, what="a whole number of days ≥ 1")
        ),
    )


def measure(metric: str, report: Doc) -> float | None:
    """The value of ``metric`` in a flow report document."""
    if metric not in METRICS:
        raise InputError(f"metric {metric!r} is unknown; use one of {', '.join(METRICS)}")
    value = METRICS[metric][0](report)
    return None if value is None else float(value)
