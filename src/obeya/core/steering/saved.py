"""Dependency plans and experiments as saved records: the store keeps their definitions, and
the figures (the critical path, the verdict) are computed again from the stream's data each
time they are read, so they follow the data.

A plan record is the plan file's tables (``start``, ``[[task]]``…) with dates as
``YYYY-MM-DD`` text; an experiment record names its hypothesis, metric, guard and windows
(``baseline`` and ``trial`` as ``YYYY-MM-DD..YYYY-MM-DD``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from obeya.core.steering.dependencies import Plan, cycle_error, find_cycle, plan_from_dict
from obeya.core.steering.experiments import (
    DEFAULT_ALPHA,
    Window,
    check_windows,
    metric,
    parse_window,
)
from obeya.core.steering.fields import Fields
from obeya.errors import InputError


@dataclass(frozen=True)
class PlanRecord:
    key: str
    plan: Plan
    document: dict[str, Any]  # the plan's tables, dates as text

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **self.document}


def plan_record_from_dict(doc: Mapping[str, Any], where: str = "plan") -> PlanRecord:
    """A plan record: the plan is checked as a plan file is (ids, cycles, fields)."""
    key = doc.get("key")
    label = f"{where} {key!r}" if isinstance(key, str) and key else where
    f = Fields(doc, label, {"key", "name", "start", "task", "stream"})
    record_key = f.required_text("key")
    tables = {k: v for k, v in doc.items() if k not in ("key", "stream")}
    as_dates = dict(tables)
    if "start" in as_dates:
        as_dates["start"] = f.date("start")
    if isinstance(as_dates.get("task"), list):
        as_dates["task"] = [_task_dates(t, f"{label}: task[{i}]") for i, t in
                            enumerate(as_dates["task"])]  # fmt: skip
    plan = plan_from_dict(as_dates, label)
    cycle = find_cycle(plan)
    if cycle is not None:
        raise cycle_error(plan, cycle)
    return PlanRecord(record_key, plan, _texts(tables))


def _task_dates(task: Any, where: str) -> Any:
    if not isinstance(task, Mapping) or task.get("need_by") is None:
        return task
    f = Fields(task, where, set(task))
    return {**task, "need_by": f.date("need_by")}


def _texts(tables: Mapping[str, Any]) -> dict[str, Any]:
    """Dates as text, so the document is JSON."""

    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in tables.items()}


@dataclass(frozen=True)
class ExperimentRecord:
    key: str
    hypothesis: str
    metric: str
    baseline: Window
    trial: Window
    guard: str | None = None
    alpha: float = DEFAULT_ALPHA
    owner: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "hypothesis": self.hypothesis,
            "metric": self.metric,
            "guard": self.guard,
            "baseline": f"{self.baseline.start}..{self.baseline.end}",
            "trial": f"{self.trial.start}..{self.trial.end}",
            "alpha": self.alpha,
            "owner": self.owner,
        }


def experiment_record_from_dict(
    doc: Mapping[str, Any], where: str = "experiment"
) -> ExperimentRecord:
    key = doc.get("key")
    label = f"{where} {key!r}" if isinstance(key, str) and key else where
    known = {"key", "hypothesis", "metric", "guard", "baseline", "trial", "alpha", "owner",
             "stream"}  # fmt: skip
    f = Fields(doc, label, known)
    chosen = f.text("metric", "cycle_time")
    guard = f.text("guard", "") or None
    try:
        metric(chosen, "metric")
        if guard is not None:
            metric(guard, "guard")
        baseline = parse_window(f.required_text("baseline"), "baseline")
        trial = parse_window(f.required_text("trial"), "trial")
        check_windows(baseline, trial)
    except InputError as exc:  # name the record, then the field the core named
        raise InputError(f"{label}: {exc}") from None
    return ExperimentRecord(
        key=f.required_text("key"),
        hypothesis=f.required_text("hypothesis"),
        metric=chosen,
        guard=guard,
        baseline=baseline,
        trial=trial,
        alpha=f.number("alpha", DEFAULT_ALPHA, low=1e-9, high=0.5, what="a level in (0, 0.5]"),
        owner=f.text("owner", ""),
    )
