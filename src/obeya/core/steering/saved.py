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
from typing import Annotated, Any, ClassVar

from obeya.core.documents import Document, Fail, choice, number, text
from obeya.core.steering.dependencies import Plan, cycle_error, find_cycle
from obeya.core.steering.experiments import (
    DEFAULT_ALPHA,
    METRICS,
    Window,
    check_windows,
    parse_window,
)
from obeya.errors import InputError

WINDOW_HELP = "a window as YYYY-MM-DD..YYYY-MM-DD (both days inclusive, UTC)"
LEVEL = "a level in (0, 0.5]"


@dataclass(frozen=True, kw_only=True)
class SavedPlan(Plan):
    """A plan as the store keeps it: a key beside the plan's fields, which it declares once
    (:class:`~obeya.core.steering.dependencies.Plan`); a plan without a name is named by its
    key."""

    key: Annotated[str, text("Key", "Blank: the next P- number.", nonempty=True)]
    name: Annotated[str, text("Name", "Blank: the key.")] = ""

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        values["name"] = values["name"] or values["key"]
        super().settle(values, fail)


@dataclass(frozen=True)
class PlanRecord:
    key: str
    plan: Plan
    document: dict[str, Any]  # the plan's fields, dates as text

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **self.document}


def plan_record_from_dict(doc: Mapping[str, Any], where: str = "plan") -> PlanRecord:
    """A plan record: the plan is checked as a plan file is (fields, ids), and for cycles;
    messages start ``plan 'P-1'``."""
    saved = SavedPlan.from_dict(doc, where)
    source = f"{where} {doc['key']!r}"  # as from_dict named the record in its messages
    plan = Plan(name=saved.name, start=saved.start, task=saved.task, source=source)
    cycle = find_cycle(plan)
    if cycle is not None:
        raise cycle_error(plan, cycle)
    return PlanRecord(saved.key, plan, plan.to_dict())


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
