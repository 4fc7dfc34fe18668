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
from typing import Annotated, Any, ClassVar

from obeya.core.documents import Document, Fail, choice, number, text
from obeya.core.steering.dependencies import Plan, cycle_error, find_cycle, plan_from_dict
from obeya.core.steering.experiments import (
    DEFAULT_ALPHA,
    METRICS,
    Window,
    check_windows,
    parse_window,
)
from obeya.core.steering.fields import Fields
from obeya.errors import InputError

WINDOW_HELP = "a window as YYYY-MM-DD..YYYY-MM-DD (both days inclusive, UTC)"
LEVEL = "a level in (0, 0.5]"


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


@dataclass(frozen=True, kw_only=True)
class ExperimentRecord(Document):
    """A saved experiment: its hypothesis, the metric it targets and the one it guards, and
    its two windows, as ``YYYY-MM-DD..YYYY-MM-DD`` (both days inclusive, UTC)."""

    noun: ClassVar[str] = "experiment"

    key: Annotated[str, text("Key", "Blank: the next E- number.", nonempty=True)]
    hypothesis: Annotated[
        str, text("Hypothesis", "What should change, and why.", nonempty=True, long=True)
    ]
    metric: Annotated[str, choice("Metric", tuple(METRICS), "The figure it should move.")] = (
        "cycle_time"
    )
    guard: Annotated[
        str | None, choice("Guard", tuple(METRICS), "A figure that must not worsen.", none="None")
    ] = None
    baseline: Annotated[str, text("Baseline", WINDOW_HELP, nonempty=True)]
    trial: Annotated[str, text("Trial", WINDOW_HELP, nonempty=True)]
    alpha: Annotated[
        float, number("Alpha", "The test's level.", low=0.0, high=0.5, above=True, what=LEVEL)
    ] = DEFAULT_ALPHA
    owner: Annotated[str, text("Owner")] = ""

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        windows = []
        for name in ("baseline", "trial"):
            try:
                window = parse_window(values[name], name)
            except InputError:
                raise fail(name, f"is {values[name]!r}; give {WINDOW_HELP}", values[name]) from None
            values[name] = str(window)  # as written back: 2024-01-01..2024-01-31
            windows.append(window)
        try:
            check_windows(*windows)
        except InputError as exc:
            raise fail("trial", str(exc).removeprefix("trial: "), values["trial"]) from None

    def windows(self) -> tuple[Window, Window]:
        """The baseline and trial windows."""
        return parse_window(self.baseline, "baseline"), parse_window(self.trial, "trial")


def experiment_record_from_dict(
    doc: Mapping[str, Any], where: str = "experiment"
) -> ExperimentRecord:
    return ExperimentRecord.from_dict(doc, where)
