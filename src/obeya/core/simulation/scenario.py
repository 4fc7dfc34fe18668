"""A simulation scenario as a declared document, and its TOML form (docs/simulation.md).

Units: days everywhere (arrival rate in items per day, process times in days). Arrivals are
Poisson at ``arrival_rate_per_day`` or replayed from ``arrival_times_days`` (days from the
start, e.g. taken from history). A step's ``complete_accurate`` (%C&A) is the share of passes
that need no rework; the rest repeat the step. ``wip_limit`` caps the items inside a step, its
queue included (0 = no limit); ``servers = 0`` means unlimited (a delay: nobody queues).
``batch_size`` items are worked together and move on together; ``availability`` is the share
of time the servers can work (process times stretch by 1 ÷ availability); ``visit_share`` is
the share of items that pass through the step at all (the rest skip it). A share may be
written as a fraction or in percent: ``complete_accurate = 0.9`` or ``"90%"`` (or ``"90 %"``).

:class:`Scenario`, :class:`SimStep` and :class:`Distribution` are documents
(:mod:`obeya.core.documents`): their fields, bounds and TOML keys are declared once, and
reading, refusing an unknown field and writing back (:meth:`~Scenario.to_dict`) follow from
that. Rules across fields live in each class's ``settle``. Errors name the file, the step and
the field: ``scenario.toml: step[0] ('Build'): complete_accurate is 1.5; give a share in
(0, 1]``. A scenario built in code is checked the same way, by reading its own document.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from obeya.core.documents import (
    Document,
    Fail,
    Spec,
    choice,
    declared,
    number,
    numbers,
    share,
    table,
    tables,
    text,
    whole,
)
from obeya.core.tomlfile import read_toml
from obeya.errors import InputError

DISTRIBUTIONS = ("exponential", "lognormal", "constant", "empirical")
DEFAULT_REPLICATIONS = 5
DEFAULT_SEED = 1
#: Bounds that keep every sum of days a finite float and every count an ordinary integer
#: (JSON and TOML allow 1e308 days or 10**40 servers; the engine's arithmetic does not).
MAX_DAYS = 1e9
MAX_RATE_PER_DAY = 1e9
MAX_COUNT = 1_000_000_000
MAX_SEED = 2**62  # seed + replication stays a 64-bit TOML integer
#: The smallest availability: process times stretch by 1 ÷ availability.
MIN_AVAILABILITY = 1e-6
#: The largest lognormal sigma: exp(sigma²) and the draws stay finite floats.
MAX_SIGMA = 10.0


class ScenarioError(InputError):
    """A scenario that breaks a rule; the message names the field."""


def _count(label: str, help: str, *, low: int, what: str) -> Spec:
    """A whole number from ``low`` to :data:`MAX_COUNT`."""
    return whole(label, help, low=low, high=MAX_COUNT, what=what)


def _days(label: str, help: str, *, above: bool = False) -> Spec:
    """A number of days from 0 (exclusive when ``above``) to :data:`MAX_DAYS`."""
    low = ">" if above else "≥"
    what = f"a number of days {low} 0, at most {MAX_DAYS:g}"
    return number(label, help, low=0.0, high=MAX_DAYS, above=above, what=what)


def _positive_share(label: str, help: str) -> Spec:
    """A share more than none (none: a step that always reworks or is never visited)."""
    return share(label, help, above=True, what="a share in (0, 1]")


@dataclass(frozen=True)
class Distribution(Document):
    """Process time in days. ``lognormal``: ``mean`` is the mean of the time itself and
    ``sigma`` the standard deviation of its logarithm; ``empirical`` draws uniformly from
    ``values``."""

    noun: ClassVar[str] = "process time"
    error: ClassVar[type[InputError]] = ScenarioError

    distribution: Annotated[
        str, choice("Distribution", DISTRIBUTIONS, "How process times are drawn.")
    ]
    mean: Annotated[
        float,
        number(
            "Mean",
            "The mean process time in days (not for empirical).",
            low=0.0,
            high=MAX_DAYS,
            what=f"a number of days > 0, at most {MAX_DAYS:g}",
        ),
    ] = 0.0
    sigma: Annotated[
        float,
        number(
            "Sigma",
            "Lognormal: the standard deviation of the logarithm of the time.",
            low=0.0,
            high=MAX_SIGMA,
            what=f"a number > 0, at most {MAX_SIGMA:g}",
        ),
    ] = 0.0
    values: Annotated[
        tuple[float, ...],
        numbers(
            "Values",
            "Empirical: process times in days, drawn uniformly.",
            low=0.0,
            high=MAX_DAYS,
            what=f"a number of days ≥ 0, at most {MAX_DAYS:g}",
        ),
    ] = ()

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        kind = values["distribution"]
        if kind == "empirical":
            if not any(values["values"]):  # none, or all 0: no time at all
                raise fail(
                    "values",
                    f"is {list(values['values'])}; an empirical distribution needs values, "
                    "at least one > 0",
                    list(values["values"]),
                )
            return
        if values["mean"] <= 0:
            raise fail(
                "mean",
                f"is {values['mean']}; {_a(kind)} distribution needs a mean > 0 (days)",
                values["mean"],
            )
        if kind == "lognormal" and values["sigma"] <= 0:
            raise fail(
                "sigma",
                f"is {values['sigma']}; a lognormal needs sigma > 0 (at most {MAX_SIGMA:g})",
                values["sigma"],
            )

    @property
    def kind(self) -> str:
        """The distribution's name (``exponential``...): the document's ``distribution``."""
        return self.distribution

    @property
    def expected(self) -> float:
        """The mean process time in days."""
        if self.distribution == "empirical":
            return math.fsum(self.values) / len(self.values)
        return self.mean


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


@dataclass(frozen=True)
class SimStep(Document):
    """A step of the simulated stream (the module docstring says what each field means)."""

    noun: ClassVar[str] = "step"
    error: ClassVar[type[InputError]] = ScenarioError
    ident: ClassVar[str] = "name"

    name: Annotated[str, text("Name", "The step's name, unique in the scenario.", nonempty=True)]
    process_time_days: Annotated[
        Distribution,
        table("Process time (days)", 'e.g. { distribution = "exponential", mean = 0.5 }'),
    ]
    servers: Annotated[
        int,
        _count(
            "Servers",
            "People or slots working in parallel; 0: unlimited (a delay).",
            low=0,
            what=f"a whole number ≥ 0 (0: unlimited), at most {MAX_COUNT:,}",
        ),
    ] = 1
    complete_accurate: Annotated[
        float,
        _positive_share("%C&A", "The share of passes that need no rework; the rest repeat."),
    ] = 1.0
    wip_limit: Annotated[
        int,
        _count(
            "WIP limit",
            "The most items inside the step, its queue included; 0: no limit.",
            low=0,
            what=f"a whole number ≥ 0 (0: no limit), at most {MAX_COUNT:,}",
        ),
    ] = 0
    batch_size: Annotated[
        int,
        _count(
            "Batch size",
            "Items worked together and moved on together.",
            low=1,
            what=f"a whole number ≥ 1, at most {MAX_COUNT:,}",
        ),
    ] = 1
    availability: Annotated[
        float,
        share(
            "Availability",
            "The share of the time the servers can work.",
            low=MIN_AVAILABILITY,
            what=f"a share in (0, 1], at least {MIN_AVAILABILITY:g}",
        ),
    ] = 1.0
    visit_share: Annotated[
        float, _positive_share("Visit share", "The share of items that pass through the step.")
    ] = 1.0

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        wip, batch = values["wip_limit"], values["batch_size"]
        if wip and wip < batch:
            raise fail(
                "wip_limit",
                f"is {wip}; it must hold a whole batch (batch_size {batch}) or the step "
                "never starts",
                wip,
            )

    @property
    def process_time(self) -> Distribution:
        """The process time in days (the document's ``process_time_days``)."""
        return self.process_time_days


#: True while :meth:`Scenario.from_dict` builds a scenario it has checked field by field.
_READING: ContextVar[bool] = ContextVar("reading_scenario", default=False)


@dataclass(frozen=True, kw_only=True)
class Scenario(Document):
    """A value stream to simulate: its arrivals, its steps and how long and often to run."""

    noun: ClassVar[str] = "scenario"
    error: ClassVar[type[InputError]] = ScenarioError

    name: Annotated[str, text("Name", "What the scenario is called in results.")] = "scenario"
    #: Poisson arrivals per day; None when ``arrival_times_days`` replays arrivals.
    arrival_rate_per_day: Annotated[
        float | None,
        number(
            "Arrival rate per day",
            "Items per day, arriving as a Poisson process; or give arrival times.",
            low=0.0,
            high=MAX_RATE_PER_DAY,
            above=True,
            what=f"a number of items per day > 0, at most {MAX_RATE_PER_DAY:g}",
        ),
    ] = None
    #: Arrival instants in days from the start, sorted; empty = Poisson arrivals.
    arrival_times_days: Annotated[
        tuple[float, ...],
        numbers(
            "Arrival times (days)",
            "Arrivals replayed, in days from the start, in increasing order; or give a rate.",
            low=0.0,
            high=MAX_DAYS,
            what=f"a number of days ≥ 0, at most {MAX_DAYS:g}",
        ),
    ] = ()
    days: Annotated[float, _days("Days", "The simulated span in days.", above=True)]
    warmup_days: Annotated[
        float, _days("Warm-up days", "Items that arrive earlier are not measured.")
    ] = 0.0
    replications: Annotated[
        int,
        _count(
            "Replications",
            "Runs with seeds seed, seed + 1, …; results are their mean.",
            low=1,
            what=f"a whole number ≥ 1, at most {MAX_COUNT:,}",
        ),
    ] = DEFAULT_REPLICATIONS
    seed: Annotated[
        int,
        whole(
            "Seed",
            "Replication r draws from seed + r.",
            low=-MAX_SEED,
            high=MAX_SEED,
            what="a whole number within ±2**62",
        ),
    ] = DEFAULT_SEED
    #: The steps in the order items visit them (``[[step]]`` in a file).
    step: Annotated[tuple[SimStep, ...], tables("Steps", "The steps, in order.")]

    def __post_init__(self) -> None:
        if not _READING.get():  # built in code: checked as a file is
            validate(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], where: str | None = None) -> Self:
        """The scenario in ``doc`` (a TOML file's or a JSON body's); ScenarioError naming
        ``where``, the step and the field."""
        reading = _READING.set(True)
        try:
            return super().from_dict(doc, where)
        finally:
            _READING.reset(reading)

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        rate, times = values["arrival_rate_per_day"], values["arrival_times_days"]
        if times and rate is not None:
            raise fail(
                "arrival_rate_per_day",
                "is given with arrival_times_days; give arrival_rate_per_day or "
                "arrival_times_days, not both",
                rate,
            )
        if not times and rate is None:
            raise fail(
                "arrival_rate_per_day",
                "is missing; give it (items per day) or arrival_times_days",
                None,
            )
        late = next((k for k, (a, b) in enumerate(itertools.pairwise(times)) if b < a), None)
        if late is not None:
            raise fail(
                "arrival_times_days",
                f"must be in increasing order: [{late + 1}] is {times[late + 1]}, "
                f"before [{late}] ({times[late]})",
                list(times),
            )
        days, warmup = values["days"], values["warmup_days"]
        if days <= warmup:
            raise fail("days", f"is {days}; it must be longer than warmup_days ({warmup})", days)
        steps = values["step"]
        if not steps:
            raise fail("step", "is empty; give at least one [[step]]", [])
        uses = Counter(s.name for s in steps)
        twice = next((s.name for s in steps if uses[s.name] > 1), None)
        if twice is not None:
            raise fail("step", f"names {twice!r} twice; steps must have different names", twice)

    @property
    def steps(self) -> tuple[SimStep, ...]:
        """The steps in order (the document's ``step``)."""
        return self.step

    @property
    def mean_arrival_rate(self) -> float:
        """Items per day arriving in the measurement window (the rate, or the replay's)."""
        if not self.arrival_times_days:
            assert self.arrival_rate_per_day is not None
            return self.arrival_rate_per_day
        inside = sum(1 for t in self.arrival_times_days if self.warmup_days <= t < self.days)
        return inside / (self.days - self.warmup_days)


def validate(sc: Scenario, where: str = "scenario") -> None:
    """Raise :class:`ScenarioError` naming the first field of ``sc`` (a scenario built in code)
    that breaks a rule: its document is read as a file's is, so every bound and rule is the
    declared one."""
    Scenario.from_dict(sc.to_dict(), where)


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario TOML file; errors name the file, the step and the field."""
    path = Path(path)
    return scenario_from_dict(read_toml(path, ScenarioError), where=str(path))


def scenario_from_dict(doc: Mapping[str, Any], where: str = "scenario") -> Scenario:
    """The scenario in its TOML form (a dict: a file's or a JSON body's); errors start with
    ``where``."""
    return Scenario.from_dict(doc, where)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as :func:`scenario_from_dict` reads it: every field (JSON)."""
    return scenario.to_dict()


def scenario_toml(scenario: Scenario) -> str:
    """The scenario in the TOML form :func:`load_scenario` reads: its document without the
    fields left at their default (and without null, which TOML has not)."""
    doc = _lean(scenario)
    rows = doc.pop("step")
    lines = [f"{key} = {_toml(value)}" for key, value in doc.items()]
    for row in rows:
        lines += ["", "[[step]]", *(f"{key} = {_toml(value)}" for key, value in row.items())]
    return "\n".join(lines) + "\n"


def _lean(document: Document) -> dict[str, Any]:
    """``document.to_dict()`` without null and the optional fields at their default."""
    doc = document.to_dict()
    for f in declared(type(document)):
        value = getattr(document, f.name)
        if value is None or (not f.required and value == f.default):
            del doc[f.name]
        elif f.kind == "table":
            doc[f.name] = _lean(value)
        elif f.kind == "tables":
            doc[f.name] = [_lean(t) for t in value]
    return doc


def _toml(value: Any) -> str:
    """A TOML value: text, a number, a list, or a table (inline)."""
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes for quotes, \\ and controls).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)  # int or float: finite, as the scenario's bounds keep them
