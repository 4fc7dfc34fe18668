"""What-ifs in the stream's terms on a twin: one more person at a step, a tenth more demand
(``obeya what-if twin.toml --future "NAME: Build.people=+1"``).

Changes are those of :mod:`obeya.core.simulation.whatif` (``STEP.servers=+1`` — a step's
``people``, which ``people`` also names — and ``arrivals=+10%``), made to the twin; every
future runs from the same ``as_of``, WIP and seeds as the current state (common random
numbers), and each figure's difference is paired by replication, with its 95 % CI, in the
document shape of a scenario what-if (``scenarios[i].difference.lead_time_p50.percent``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from obeya.core.maps.calculations import near_capacity
from obeya.core.shares import percent_of
from obeya.core.simulation.engine import Budget, mean_ci95, utilisation_reason
from obeya.core.simulation.whatif import Change, Difference, parse_change
from obeya.core.twin.engine import TwinRun, run_twin
from obeya.core.twin.load import step_loads
from obeya.core.twin.measure import (
    UNFINISHED_WARNING,
    WindowFigures,
    longer_run_days,
    run_windows,
    unfinished_share,
)
from obeya.core.twin.model import MAX_PEOPLE, Twin, TwinError

FIGURES = ("lead_time_p50", "lead_time_p85", "lead_time_mean", "throughput_per_day", "wip")
LEAD_TIMES = ("lead_time_p50", "lead_time_p85", "lead_time_mean")


def parse_twin_change(text: str) -> Change:
    """``Build.people=+1`` (or ``servers``), ``arrivals=+10%``; other fields are refused."""
    target, _, value = text.partition("=")
    step, dot, field = target.strip().rpartition(".")
    people = bool(dot) and field.strip() == "people"
    change = parse_change(f"{step}.servers={value}" if people else text)
    if change.step is not None and change.field != "servers":
        raise TwinError(
            f"change {text!r}: a twin's step changes by people (STEP.people=+1); "
            f"{change.field} belongs to scenario files"
        )
    return replace(change, field="people") if people else change


def apply_twin_changes(twin: Twin, changes: Sequence[Change], name: str) -> Twin:
    """``twin`` with ``changes`` made (people of a step; arrivals), named ``name``."""
    steps = list(twin.steps)
    arrivals = twin.arrivals
    for change in changes:
        if change.step is None:
            per_day = arrivals.per_week / 7
            new = change.applied(per_day) * 7
            if new < 0:
                raise TwinError(f"change {change}: arrivals cannot fall below 0")
            arrivals = replace(arrivals, per_week=new)
            continue
        k = next((i for i, s in enumerate(steps) if s.name == change.step), None)
        if k is None:
            known = ", ".join(s.name for s in steps)
            state = next((s for s in twin.states if s.name == change.step), None)
            if state is not None and state.kind == "delay":
                raise TwinError(
                    f"change {change}: {change.step!r} is a state nobody works in the twin (a "
                    f"delay: {state.evidence}), so no person shortens it; the steps people "
                    f"work are {known}"
                )
            raise TwinError(f"change {change}: the twin has no step {change.step!r} ({known})")
        people = round(change.applied(steps[k].people))
        if not 1 <= people <= MAX_PEOPLE:
            raise TwinError(
                f"change {change}: {change.step} would have {people} people; keep at least 1"
            )
        steps[k] = replace(steps[k], people=people)
    return replace(twin, name=name, steps=tuple(steps), arrivals=arrivals)


@dataclass(frozen=True)
class TwinResult:
    """One state of a twin what-if: its run and per-replication figures."""

    twin: Twin
    run: TwinRun
    windows: tuple[WindowFigures, ...]
    changes: tuple[Change, ...]

    def figure(self, key: str, r: int) -> float:
        w = self.windows[r]
        lead = w.lead_times_days
        if key == "lead_time_p50":
            return w.lead_time_p50
        if key == "lead_time_p85":
            return w.lead_time_p85
        if key == "lead_time_mean":
            return float(lead.mean()) if lead.size else float("nan")
        if key == "throughput_per_day":
            return w.throughput_per_day
        return w.wip_mean

    def mean(self, key: str) -> float:
        """The state's figure: percentiles of the lead times of every replication pooled
        (as ``obeya simulate`` gives them), other figures the mean over replications."""
        if key in ("lead_time_p50", "lead_time_p85"):
            pooled = np.concatenate([w.lead_times_days for w in self.windows])
            q = 50 if key == "lead_time_p50" else 85
            return float(np.percentile(pooled, q)) if pooled.size else float("nan")
        return _finite_mean([self.figure(key, r) for r in range(len(self.windows))])[0]

    def utilisation(self) -> list[float]:
        cal = self.twin.calendar
        hours = cal.working(self.run.end) - cal.working(self.twin.as_of)
        reps = self.run.replications
        return [
            float(np.mean([r.busy_hours[k] for r in reps])) / (s.servers * hours) if hours else 0.0
            for k, s in enumerate(self.twin.steps)
        ]

    def to_dict(self) -> dict[str, Any]:
        def ci(key: str) -> list[float] | None:
            _, interval = _finite_mean([self.figure(key, r) for r in range(len(self.windows))])
            return None if interval is None else list(interval)

        use = self.utilisation()
        offered = {load.name: load.utilisation for load in step_loads(self.twin)}
        top = max(range(len(use)), key=lambda k: use[k]) if use else None
        return {
            "scenario": self.twin.name,
            "changes": [str(c) for c in self.changes],
            "arrival_rate_per_day": self.twin.arrivals.per_week / 7,
            "days": self.run.days,
            "seed": self.run.seed,
            "replications": len(self.windows),
            "lead_time_days": {
                "p50": self.mean("lead_time_p50"),
                "p50_ci95": ci("lead_time_p50"),
                "p85": self.mean("lead_time_p85"),
                "p85_ci95": ci("lead_time_p85"),
                "mean": self.mean("lead_time_mean"),
                "mean_ci95": ci("lead_time_mean"),
            },
            "throughput_per_day": self.mean("throughput_per_day"),
            "throughput_per_day_ci95": ci("throughput_per_day"),
            "wip": self.mean("wip"),
            "wip_ci95": ci("wip"),
            "steps": [
                {
                    "name": s.name,
                    "people": s.people,
                    "servers": s.servers,
                    "utilisation": use[k],
                    "offered_load": offered[s.name],
                }
                for k, s in enumerate(self.twin.steps)
            ],
            "constraint": None if top is None else self.twin.steps[top].name,
            "constraint_reason": None if top is None else utilisation_reason(use[top] or 0.0),
            "constraint_binding": top is not None and near_capacity(use[top]),
            "warnings": [
                f"{name}: offered {percent_of(load)} of its capacity; its queue grows for as long "
                "as the run"
                for name, load in offered.items()
                if load >= 1.0
            ],
        }


@dataclass(frozen=True)
class TwinWhatIf:
    results: tuple[TwinResult, ...]

    @property
    def too_short(self) -> bool:
        """Whether a state left too many of its items unfinished for its lead times to mean
        much: only the quick ones finished, and a change in the mix of which ones did would
        read as a change in lead time."""
        return any(unfinished_share(r.windows) > UNFINISHED_WARNING for r in self.results)

    def differences(self, index: int) -> dict[str, Difference]:
        """Per figure, the future's minus the current state's, paired by replication; lead
        times get no confidence interval (so no significance) from a run :attr:`too_short`."""
        base, other = self.results[0], self.results[index]
        out = {}
        for key in FIGURES:
            pairs = [other.figure(key, r) - base.figure(key, r) for r in range(len(base.windows))]
            value, interval = _finite_mean(pairs)
            if key in LEAD_TIMES and self.too_short:
                interval = None
            reference = base.mean(key)
            percent = 100 * value / reference if reference and math.isfinite(value) else None
            out[key] = Difference(value, interval, percent)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The document; a run :attr:`too_short` keeps its keys but gives no lead time and no
        lead-time difference (null): those of the quick items alone would read as an effect
        (more demand, shorter lead times)."""
        scenarios = []
        short = self.too_short
        for i, result in enumerate(self.results):
            doc = result.to_dict()
            if short:
                doc["lead_time_days"] = dict.fromkeys(doc["lead_time_days"])
            if i:
                doc["difference"] = {k: d.to_dict() for k, d in self.differences(i).items()}
                if short:
                    for key in LEAD_TIMES:
                        doc["difference"][key] = Difference(math.nan, None, None).to_dict()
            scenarios.append(doc)
        warnings = []
        if short:
            worst = max(unfinished_share(r.windows) for r in self.results)
            base = self.results[0]
            longer = longer_run_days(base.windows, base.run.days)
            warnings.append(
                f"up to {percent_of(worst)} of the items started in a run had not finished by its "
                "end, so its lead times would be those of the quick ones alone; they are left out. "
                f"Run at least {longer:.0f} days to compare lead times"
            )
        document: dict[str, Any] = _json_safe(
            {"baseline": self.results[0].twin.name, "scenarios": scenarios, "warnings": warnings}
        )
        return document


def _json_safe(value: Any) -> Any:
    """The document with every NaN or infinity as null (JSON has neither): a figure of a
    state where no item finished."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _finite_mean(values: Sequence[float]) -> tuple[float, tuple[float, float] | None]:
    """Mean and 95 % CI of the finite values (a replication where no item finished has no
    lead time); NaN when there is none."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, None
    return mean_ci95(finite)


def twin_what_if(
    twin: Twin,
    futures: Sequence[tuple[str, Sequence[Change]]],
    *,
    days: float | None = None,
    replications: int | None = None,
    budget: Budget | None = None,
) -> TwinWhatIf:
    """Run ``twin`` and each future (a name and its changes) with the same seeds."""
    if not futures:
        raise TwinError("what-if: give at least one future state to compare")
    states: list[tuple[Twin, tuple[Change, ...]]] = [(twin, ())]
    for name, changes in futures:
        try:
            states.append((apply_twin_changes(twin, changes, name), tuple(changes)))
        except TwinError as exc:
            raise TwinError(f"future {name!r}: {exc}") from None
    names = [t.name for t, _ in states]
    if len(set(names)) != len(names):
        raise TwinError(f"what-if: names must differ ({', '.join(names)})")
    results = []
    for state, changes in states:
        run = run_twin(state, days=days, replications=replications, budget=budget)
        results.append(TwinResult(state, run, tuple(run_windows(run)), changes))
    return TwinWhatIf(tuple(results))
