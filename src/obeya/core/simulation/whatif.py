"""What-if: the current state against future states, simulated side by side.

Every scenario of a comparison runs with the same seeds (common random numbers), so the
replications are paired: replication ``r`` of a future state sees the same stream of random
draws as replication ``r`` of the baseline as far as their models agree. The difference of a
figure is then the mean of the per-replication differences with a paired 95 % confidence
interval, far narrower than the two separate intervals suggest, and a change is called
*significant* when that interval leaves out zero.

Changes are written ``STEP.FIELD=VALUE`` (``Build.servers=2``, ``Test.wip_limit=5``) or
``FIELD=VALUE`` for the stream (``arrival_rate_per_day=5``); see :data:`STEP_FIELDS`. A value
may also be relative to the baseline's, as a manager asks: ``Build.servers=+1`` (one more
person), ``Test.wip_limit=-2``, ``arrivals=+10%`` (demand grows a tenth; ``arrivals`` is short
for ``arrival_rate_per_day``, and replayed arrivals come closer together by the same factor).
A share (``complete_accurate``, ``visit_share``, ``availability``) is set as a fraction or in
percent, ``Build.complete_accurate=0.9`` or ``=90%``; only a signed percentage scales it
(``Review.availability=-20%``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from obeya.core.shares import parse_share
from obeya.core.simulation.engine import CI, Budget, SimulationResult, mean_ci95, simulate
from obeya.core.simulation.scenario import MAX_COUNT, Scenario, ScenarioError
from obeya.errors import InputError

#: Step fields a what-if may change, with the type of their value.
STEP_FIELDS: dict[str, type] = {
    "servers": int,
    "wip_limit": int,
    "batch_size": int,
    "availability": float,
    "complete_accurate": float,
    "visit_share": float,
}
#: Step fields that are shares: set outright as a fraction or in percent (``=0.9``, ``=90%``).
SHARE_FIELDS = frozenset({"availability", "complete_accurate", "visit_share"})
#: Stream fields a what-if may change.
STREAM_FIELDS: dict[str, type] = {"arrival_rate_per_day": float}
#: Short names a change may use for a field.
ALIASES = {"arrivals": "arrival_rate_per_day"}


@dataclass(frozen=True)
class Change:
    """One change: ``step`` None means a stream field. ``how``: ``set`` to ``value``, ``add``
    ``value`` to the baseline's, or ``scale`` the baseline's by ``value`` (``+10%`` is 1.1)."""

    field: str
    value: float
    step: str | None = None
    how: str = "set"

    def applied(self, current: float) -> float:
        """The value after the change, from the baseline's ``current``."""
        if self.how == "add":
            return current + self.value
        if self.how == "scale":
            return current * self.value
        return self.value

    def __str__(self) -> str:
        target = f"{self.step}." if self.step else ""
        if self.how == "scale":
            return f"{target}{self.field}={(self.value - 1) * 100:+g}%"
        value = int(self.value) if self.value == int(self.value) else self.value
        sign = "+" if self.how == "add" and self.value >= 0 else ""
        return f"{target}{self.field}={sign}{value}"


def parse_change(text: str) -> Change:
    """``"Build.servers=2"``, ``"Build.servers=+1"`` or ``"arrivals=+10%"`` → Change; the error
    says what is wrong and what is allowed."""
    target, sep, raw = text.partition("=")
    if not sep or not target.strip() or not raw.strip():
        raise ScenarioError(f"change {text!r}: write STEP.FIELD=VALUE, e.g. Build.servers=2")
    step, dot, field = target.strip().rpartition(".")
    field = ALIASES.get(field, field)
    fields = STEP_FIELDS if dot else STREAM_FIELDS
    raw = raw.strip()
    if dot and field in SHARE_FIELDS and raw[0] not in "+-":
        return Change(field, _share(text, field, raw), step.strip())
    if raw.endswith("%"):
        return _scaled(text, field, fields, raw[:-1], step.strip() if dot else None)
    how = "add" if raw[0] in "+-" else "set"
    if field not in fields:
        allowed = ", ".join(fields)
        raise ScenarioError(f"change {text!r}: field {field!r} cannot be changed; use {allowed}")
    kind = fields[field]
    kind_name = "a whole number" if kind is int else "a number"
    try:
        value = float(raw) if kind is float else int(raw)
    except ValueError:
        raise ScenarioError(f"change {text!r}: {field} needs {kind_name}, not {raw!r}") from None
    # A change is held as a float: refuse what no float (or no scenario) holds, such as
    # 1e400, nan or a 400-digit count, before it is converted or printed.
    if not (math.isfinite(value) if kind is float else abs(value) <= MAX_COUNT):
        raise ScenarioError(
            f"change {text!r}: {field} needs {kind_name}"
            + (f" up to {MAX_COUNT:,}" if kind is int else " (finite)")
        )
    return Change(field, float(value), step.strip() if dot else None, how)


def _share(text: str, field: str, raw: str) -> float:
    """A share set outright: ``0.9``, ``90%`` or ``90 %`` (a signed ``+10%`` scales instead)."""
    try:
        return parse_share(raw, field=field)
    except InputError as exc:
        raise ScenarioError(f"change {text!r}: {exc}", field=field, value=raw) from None


def _scaled(
    text: str, field: str, fields: dict[str, type], percent: str, step: str | None
) -> Change:
    """``FIELD=+10%``: the baseline's value times 1.1 (a count rounds to the nearest)."""
    if field not in fields:
        allowed = ", ".join(fields)
        raise ScenarioError(f"change {text!r}: field {field!r} cannot be changed; use {allowed}")
    try:
        share = float(percent)
    except ValueError:
        raise ScenarioError(f"change {text!r}: write a percentage such as +10% or -25%") from None
    if not math.isfinite(share) or share <= -100 or share > 10_000:
        raise ScenarioError(f"change {text!r}: a percentage above -100% and at most +10000%")
    return Change(field, 1 + share / 100, step, "scale")


def _changed(current: float, change: Change) -> float:
    return change.applied(current)


def apply_changes(scenario: Scenario, changes: Iterable[Change], name: str) -> Scenario:
    """``scenario`` with ``changes`` made, named ``name``; a step that is not in the scenario
    or a value the model refuses is an error naming the change."""
    steps = list(scenario.steps)
    names = [s.name for s in steps]
    stream: dict[str, Any] = {"name": name}
    for change in changes:
        if change.step is None:
            stream.update(_stream_change(scenario, stream, change))
            continue
        if change.step not in names:
            raise ScenarioError(
                f"change {change}: no step {change.step!r}; the steps are {', '.join(names)}"
            )
        k = names.index(change.step)
        current = getattr(steps[k], change.field)
        value: Any = _changed(float(current), change)
        if STEP_FIELDS[change.field] is int:
            value = round(value)
            # 0 means "no limit" for these counts: a relative change starts from a limit and
            # must leave one, or "one person fewer" would read as "unlimited people".
            if change.how != "set" and (current < 1 or value < 1):
                have = "no limit (0)" if current < 1 else f"{current}"
                raise ScenarioError(
                    f"change {change}: {change.step}.{change.field} is {have}; a relative "
                    "change must leave at least 1 (write the number itself)"
                )
        steps[k] = replace(steps[k], **{change.field: value})
    try:
        return replace(scenario, step=tuple(steps), **stream)
    except ScenarioError as exc:
        raise ScenarioError(f"what-if '{name}': {exc}", field=exc.field, value=exc.value) from None


def _stream_change(scenario: Scenario, made: dict[str, Any], change: Change) -> dict[str, Any]:
    """The stream fields ``change`` sets, on top of those ``made`` so far. Replayed arrivals
    (a calibrated scenario's) stay replayed under a relative change: their times are drawn
    together (or apart) by the factor, keeping their order and weekly shape; a new absolute
    rate replaces them."""
    times = made.get("arrival_times_days", scenario.arrival_times_days)
    rate = made.get("arrival_rate_per_day", scenario.arrival_rate_per_day)
    if change.how == "set":
        return {"arrival_rate_per_day": change.value, "arrival_times_days": ()}
    if not times:
        if rate is None:  # pragma: no cover - a scenario has a rate or a replay
            raise ScenarioError(f"change {change}: the scenario has no arrival rate to change")
        return {"arrival_rate_per_day": _changed(rate, change), "arrival_times_days": ()}
    observed = len(times) / scenario.days  # the replayed arrivals' rate per day
    factor = change.value if change.how == "scale" else (observed + change.value) / observed
    if factor <= 0:
        raise ScenarioError(f"change {change}: that leaves no arrivals")
    return {"arrival_times_days": tuple(t / factor for t in times if t / factor < scenario.days)}


@dataclass(frozen=True)
class Difference:
    """A future state's figure minus the baseline's, paired by replication."""

    value: float
    ci95: CI | None
    percent: float | None  # of the baseline's figure

    @property
    def significant(self) -> bool:
        return self.ci95 is not None and not (self.ci95[0] <= 0.0 <= self.ci95[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "ci95": None if self.ci95 is None else list(self.ci95),
            "percent": self.percent,
            "significant": self.significant,
        }


#: The figures compared: attributes of a replication and of the aggregate alike.
FIGURES = ("lead_time_p50", "lead_time_p85", "lead_time_mean", "throughput_per_day", "wip")


@dataclass(frozen=True)
class WhatIf:
    """Simulation results, the baseline first, and each future state's differences."""

    results: tuple[SimulationResult, ...]
    changes: tuple[tuple[Change, ...], ...]  # per result; the baseline's is empty

    @property
    def baseline(self) -> SimulationResult:
        return self.results[0]

    def differences(self, index: int) -> dict[str, Difference]:
        """Figures of result ``index`` minus the baseline's, paired by replication."""
        base, other = self.baseline.replications, self.results[index].replications
        out = {}
        for key in FIGURES:
            pairs = [getattr(o, key) - getattr(b, key) for b, o in zip(base, other, strict=True)]
            value, ci = mean_ci95(pairs)
            reference = getattr(self.baseline, key)
            out[key] = Difference(value, ci, 100 * value / reference if reference else None)
        return out

    def to_dict(self) -> dict[str, Any]:
        scenarios = []
        for i, (result, changes) in enumerate(zip(self.results, self.changes, strict=True)):
            doc = result.to_dict()
            doc.pop("per_replication")
            doc["changes"] = [str(c) for c in changes]
            if i:
                doc["difference"] = {k: d.to_dict() for k, d in self.differences(i).items()}
            scenarios.append(doc)
        return {"baseline": self.baseline.scenario.name, "scenarios": scenarios}


def what_if(
    baseline: Scenario,
    futures: Sequence[Scenario | tuple[str, Sequence[Change]]],
    budget: Budget | None = None,
) -> WhatIf:
    """Simulate ``baseline`` and each future state: a scenario of its own, or a name and the
    changes that make it from the baseline. Every future runs with the baseline's seed,
    replications and span, so the comparison is paired (see the module docstring). One
    ``budget`` covers every scenario of the comparison."""
    scenarios = what_if_scenarios(baseline, futures)  # every check before anything runs
    changes = [() if isinstance(f, Scenario) else tuple(f[1]) for f in futures]
    return WhatIf(tuple(simulate(s, budget) for s in scenarios), ((), *changes))


def what_if_scenarios(
    baseline: Scenario,
    futures: Sequence[Scenario | tuple[str, Sequence[Change]]],
) -> list[Scenario]:
    """The scenarios a what-if runs, the baseline first, each as it will run (the baseline's
    seed, replications, days and warm-up): what a caller sizes before running them."""
    if not futures:
        raise ScenarioError("what-if: give at least one future state to compare")
    scenarios: list[Scenario] = [baseline]
    for future in futures:
        if isinstance(future, Scenario):
            scenario = future
        else:
            scenario = apply_changes(baseline, tuple(future[1]), future[0])
        scenarios.append(
            replace(
                scenario,
                seed=baseline.seed,
                replications=baseline.replications,
                days=baseline.days,
                warmup_days=baseline.warmup_days,
            )
        )
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError(f"what-if: scenario names must differ ({', '.join(names)})")
    return scenarios
