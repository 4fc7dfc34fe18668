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

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar

from obeya.core.documents import Document, Fail, choice, day, number, tables, text, whole
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


@dataclass(frozen=True, kw_only=True)
class KeyResult(Document):
    """A key result: bound to a live metric, or kept by hand (``current``, ignored when bound
    to a metric)."""

    noun: ClassVar[str] = "key result"

    key: Annotated[str, text("Key", "A short id, e.g. KR-1.", nonempty=True)]
    title: Annotated[str, text("Title", "What is to be reached.", nonempty=True)]
    metric: Annotated[
        str | None,
        choice(
            "Metric",
            tuple(METRICS),
            "The flow metric it is measured by; none: kept by hand.",
            labels={m: f"{m} ({unit})" for m, (_, unit, _) in METRICS.items()},
            none="by hand",
        ),
    ] = None
    comparator: Annotated[
        str, choice("Comparator", COMPARATORS, "Met at or below (<=) or above (>=).")
    ]
    target: Annotated[float, number("Target", "The value to reach.")]
    by: Annotated[date | None, day("By", "The date to reach it by, YYYY-MM-DD.")] = None
    baseline: Annotated[
        float | None, number("Baseline", "Its value when it was set (for progress).")
    ] = None
    current: Annotated[float | None, number("Value now", "By hand.")] = None
    window_days: Annotated[
        int,
        whole(
            "Window days",
            "A bound key result is measured on this many last days of the stream.",
            low=1,
            what="a whole number of days ≥ 1",
        ),
    ] = DEFAULT_WINDOW_DAYS

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


@dataclass(frozen=True)
class Objective(Document):
    """A shared objective and its key results."""

    noun: ClassVar[str] = "objective"

    key: Annotated[str, text("Key", "A short id, e.g. O-1.", nonempty=True)]
    title: Annotated[str, text("Title", "What the teams aim for.", nonempty=True)]
    description: Annotated[str, text("Description", "More words.", long=True)] = ""
    owner: Annotated[str, text("Owner", "Who owns it.")] = ""
    key_results: Annotated[tuple[KeyResult, ...], tables("Key results")] = ()

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        keys = [r.key for r in values["key_results"]]
        uses = Counter(keys)  # counted once: a 4 MB body's 60,000 key results in a blink
        duplicate = next((k for k in keys if uses[k] > 1), None)
        if duplicate is not None:
            raise fail("key_results", f"use the key {duplicate!r} twice; keys must differ", keys)

    @property
    def bound_metrics(self) -> set[str]:
        return {kr.metric for kr in self.key_results if kr.metric}

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
                source = f"{kr.metric.replace('_', ' ')} over the last {kr.window_days} days"
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


def measure(metric: str, report: Doc) -> float | None:
    """The value of ``metric`` in a flow report document."""
    if metric not in METRICS:
        raise InputError(f"metric {metric!r} is unknown; use one of {', '.join(METRICS)}")
    value = METRICS[metric][0](report)
    return None if value is None else float(value)
