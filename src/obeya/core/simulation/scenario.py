"""A simulation scenario as plain data, and its TOML form (docs/simulation.md).

Units: days everywhere (arrival rate in items per day, process times in days). Arrivals are
Poisson at ``arrival_rate_per_day`` or replayed from ``arrival_times_days`` (days from the
start, e.g. taken from history). A step's ``complete_accurate`` (%C&A) is the share of passes
that need no rework; the rest repeat the step. ``wip_limit`` caps the items inside a step, its
queue included (0 = no limit); ``servers = 0`` means unlimited (a delay: nobody queues).
``batch_size`` items are worked together and move on together; ``availability`` is the share
of time the servers can work (process times stretch by 1 ÷ availability); ``visit_share`` is
the share of items that pass through the step at all (the rest skip it). A share may be
written as a fraction or in percent: ``complete_accurate = 0.9`` or ``"90%"`` (or ``"90 %"``).
Validation is early and names the field: ``scenario.toml: step[0].complete_accurate is 1.5``.
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obeya.core.shares import parse_share
from obeya.core.tomlfile import read_toml, refuse_unknown
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

_TOP_KEYS = {
    "name",
    "arrival_rate_per_day",
    "arrival_times_days",
    "days",
    "warmup_days",
    "replications",
    "seed",
    "step",
}
_STEP_KEYS = {
    "name",
    "servers",
    "process_time_days",
    "complete_accurate",
    "wip_limit",
    "batch_size",
    "availability",
    "visit_share",
}
_DIST_KEYS = {"distribution", "mean", "sigma", "values"}


class ScenarioError(InputError):
    """A scenario that breaks a rule; the message names the field."""


@dataclass(frozen=True)
class Distribution:
    """Process time in days. ``lognormal``: ``mean`` is the mean of the time itself and
    ``sigma`` the standard deviation of its logarithm; ``empirical`` draws uniformly from
    ``values``."""

    kind: str
    mean: float = 0.0
    sigma: float = 0.0
    values: tuple[float, ...] = ()

    @property
    def expected(self) -> float:
        """The mean process time in days."""
        if self.kind == "empirical":
            return math.fsum(self.values) / len(self.values)
        return self.mean


@dataclass(frozen=True)
class SimStep:
    name: str
    process_time: Distribution
    servers: int = 1  # 0 = unlimited
    complete_accurate: float = 1.0
    wip_limit: int = 0
    batch_size: int = 1
    availability: float = 1.0
    visit_share: float = 1.0


@dataclass(frozen=True)
class Scenario:
    #: Poisson arrivals per day; ignored when ``arrival_times_days`` replays arrivals.
    arrival_rate_per_day: float | None
    days: float
    steps: tuple[SimStep, ...]
    warmup_days: float = 0.0
    replications: int = DEFAULT_REPLICATIONS
    seed: int = DEFAULT_SEED
    name: str = "scenario"
    #: Arrival instants in days from the start, sorted; empty = Poisson arrivals.
    arrival_times_days: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        validate(self)

    @property
    def mean_arrival_rate(self) -> float:
        """Items per day arriving in the measurement window (the rate, or the replay's)."""
        if not self.arrival_times_days:
            assert self.arrival_rate_per_day is not None
            return self.arrival_rate_per_day
        inside = sum(1 for t in self.arrival_times_days if self.warmup_days <= t < self.days)
        return inside / (self.days - self.warmup_days)


def validate(sc: Scenario, where: str = "scenario") -> None:
    """Raise :class:`ScenarioError` naming the first field that breaks a rule."""
    if sc.arrival_times_days:
        if sc.arrival_rate_per_day is not None:
            raise ScenarioError(
                f"{where}: give arrival_rate_per_day or arrival_times_days, not both"
            )
        times = sc.arrival_times_days
        if not all(0 <= t <= MAX_DAYS for t in times):
            raise ScenarioError(
                f"{where}: arrival_times_days must hold days ≥ 0 (and at most {MAX_DAYS:g})"
            )
        if any(b < a for a, b in itertools.pairwise(times)):
            raise ScenarioError(f"{where}: arrival_times_days must be in increasing order")
    elif sc.arrival_rate_per_day is None:
        raise ScenarioError(f"{where}: field 'arrival_rate_per_day' is missing")
    elif not 0 < sc.arrival_rate_per_day <= MAX_RATE_PER_DAY:  # NaN fails too
        raise ScenarioError(
            f"{where}: arrival_rate_per_day is {sc.arrival_rate_per_day}; it must be > 0 "
            f"and at most {MAX_RATE_PER_DAY:g}"
        )
    if not 0 <= sc.warmup_days <= MAX_DAYS:
        raise ScenarioError(
            f"{where}: warmup_days is {sc.warmup_days}; it cannot be negative "
            f"(or over {MAX_DAYS:g})"
        )
    if not (sc.days > sc.warmup_days and sc.days <= MAX_DAYS):
        raise ScenarioError(
            f"{where}: days is {sc.days}; it must be longer than warmup_days ({sc.warmup_days})"
            f" and at most {MAX_DAYS:g}"
        )
    if not 1 <= sc.replications <= MAX_COUNT:
        raise ScenarioError(
            f"{where}: replications is {sc.replications}; it must be at least 1 "
            f"(and at most {MAX_COUNT:,})"
        )
    if not -MAX_SEED <= sc.seed <= MAX_SEED:
        raise ScenarioError(f"{where}: seed is {sc.seed}; give a whole number within ±2**62")
    if not sc.steps:
        raise ScenarioError(f"{where}: field 'step' is empty; give at least one [[step]]")
    seen: set[str] = set()
    for i, s in enumerate(sc.steps):
        at = f"{where}: step[{i}]"
        if not s.name.strip():
            raise ScenarioError(f"{at}.name is empty")
        if s.name in seen:
            raise ScenarioError(f"{at}.name {s.name!r} is used by two steps; names must differ")
        seen.add(s.name)
        if not 0 <= s.servers <= MAX_COUNT:
            raise ScenarioError(
                f"{at}.servers is {s.servers}; give 0 (unlimited) or more, at most {MAX_COUNT:,}"
            )
        if not 0 < s.complete_accurate <= 1:
            raise ScenarioError(
                f"{at}.complete_accurate is {s.complete_accurate}; give a share in (0, 1]"
            )
        if not 0 <= s.wip_limit <= MAX_COUNT:
            raise ScenarioError(
                f"{at}.wip_limit is {s.wip_limit}; give 0 (no limit) or more, at most {MAX_COUNT:,}"
            )
        if not 1 <= s.batch_size <= MAX_COUNT:
            raise ScenarioError(
                f"{at}.batch_size is {s.batch_size}; it must be at least 1 "
                f"(and at most {MAX_COUNT:,})"
            )
        if s.wip_limit and s.wip_limit < s.batch_size:
            raise ScenarioError(
                f"{at}.wip_limit is {s.wip_limit}; it must hold a whole batch "
                f"(batch_size {s.batch_size}) or the step never starts"
            )
        if not MIN_AVAILABILITY <= s.availability <= 1:
            raise ScenarioError(
                f"{at}.availability is {s.availability}; give a share in (0, 1] "
                f"(at least {MIN_AVAILABILITY:g})"
            )
        if not 0 < s.visit_share <= 1:
            raise ScenarioError(f"{at}.visit_share is {s.visit_share}; give a share in (0, 1]")
        _validate_distribution(s.process_time, f"{at}.process_time_days")


def _validate_distribution(d: Distribution, at: str) -> None:
    if d.kind not in DISTRIBUTIONS:
        raise ScenarioError(
            f"{at}.distribution {d.kind!r} is unknown; use one of {', '.join(DISTRIBUTIONS)}"
        )
    if d.kind == "empirical":
        if not d.values:
            raise ScenarioError(f"{at}.values is empty; an empirical distribution needs values")
        if not all(0 <= v <= MAX_DAYS for v in d.values) or not any(d.values):
            raise ScenarioError(
                f"{at}.values must be ≥ 0 (and at most {MAX_DAYS:g} days) with at least one > 0"
            )
        return
    if not 0 < d.mean <= MAX_DAYS:
        raise ScenarioError(f"{at}.mean is {d.mean}; it must be > 0 (and at most {MAX_DAYS:g})")
    if d.kind == "lognormal" and not 0 < d.sigma <= MAX_SIGMA:
        raise ScenarioError(
            f"{at}.sigma is {d.sigma}; a lognormal needs sigma > 0 (and at most {MAX_SIGMA:g})"
        )


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario TOML file; errors name the file and the field."""
    path = Path(path)
    doc = read_toml(path, ScenarioError)
    return scenario_from_dict(doc, where=str(path))


def scenario_from_dict(doc: dict[str, Any], where: str = "scenario") -> Scenario:
    """Build a scenario from its TOML form (a dict), checking types and names of fields."""
    refuse_unknown(doc, _TOP_KEYS, where, ScenarioError)
    raw_steps = doc.get("step", [])
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        raise ScenarioError(f"{where}: field 'step' must be an array of tables ([[step]])")
    steps = tuple(_step(s, f"{where}: step[{i}]") for i, s in enumerate(raw_steps))
    if "days" not in doc:
        raise ScenarioError(f"{where}: field 'days' is missing")
    try:
        return Scenario(
            name=_str(doc.get("name", "scenario"), f"{where}: name"),
            arrival_rate_per_day=(
                _num(doc["arrival_rate_per_day"], f"{where}: arrival_rate_per_day")
                if "arrival_rate_per_day" in doc
                else None
            ),
            arrival_times_days=_nums(
                doc.get("arrival_times_days", []), f"{where}: arrival_times_days"
            ),
            days=_num(doc["days"], f"{where}: days"),
            warmup_days=_num(doc.get("warmup_days", 0.0), f"{where}: warmup_days"),
            replications=_int(
                doc.get("replications", DEFAULT_REPLICATIONS), f"{where}: replications"
            ),
            seed=_int(doc.get("seed", DEFAULT_SEED), f"{where}: seed"),
            steps=steps,
        )
    except ScenarioError as exc:  # name the file rather than "scenario"
        message = str(exc)
        if message.startswith("scenario: "):
            message = f"{where}: " + message.removeprefix("scenario: ")
        raise ScenarioError(message) from None


def _step(raw: dict[str, Any], at: str) -> SimStep:
    refuse_unknown(raw, _STEP_KEYS, at, ScenarioError)
    if "name" not in raw:
        raise ScenarioError(f"{at}.name is missing")
    if "process_time_days" not in raw:
        raise ScenarioError(f"{at}.process_time_days is missing")
    dist = raw["process_time_days"]
    if not isinstance(dist, dict):
        raise ScenarioError(
            f"{at}.process_time_days must be a table, e.g. "
            '{ distribution = "exponential", mean = 0.5 }'
        )
    return SimStep(
        name=_str(raw["name"], f"{at}.name"),
        servers=_int(raw.get("servers", 1), f"{at}.servers"),
        complete_accurate=_share(raw.get("complete_accurate", 1.0), f"{at}.complete_accurate"),
        wip_limit=_int(raw.get("wip_limit", 0), f"{at}.wip_limit"),
        batch_size=_int(raw.get("batch_size", 1), f"{at}.batch_size"),
        availability=_share(raw.get("availability", 1.0), f"{at}.availability"),
        visit_share=_share(raw.get("visit_share", 1.0), f"{at}.visit_share"),
        process_time=_distribution(dist, f"{at}.process_time_days"),
    )


def _distribution(raw: dict[str, Any], at: str) -> Distribution:
    refuse_unknown(raw, _DIST_KEYS, at, ScenarioError)
    kind = _str(raw.get("distribution", ""), f"{at}.distribution")
    if kind not in DISTRIBUTIONS:
        raise ScenarioError(
            f"{at}.distribution {kind!r} is unknown; use one of {', '.join(DISTRIBUTIONS)}"
        )
    return Distribution(
        kind=kind,
        mean=_num(raw.get("mean", 0.0), f"{at}.mean"),
        sigma=_num(raw.get("sigma", 0.0), f"{at}.sigma"),
        values=_nums(raw.get("values", []), f"{at}.values"),
    )


def _num(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{at} is {value!r}; give a number")
    return float(value)


def _share(value: Any, at: str) -> float:
    """A share: a number (``0.9``) as :func:`_num`, or text in percent or as a fraction
    (``"90%"``, ``"90 %"``, ``"0.9"``) read by :func:`obeya.core.shares.parse_share`."""
    if not isinstance(value, str):
        return _num(value, at)
    try:
        return parse_share(value, field=at)
    except InputError as exc:
        raise ScenarioError(str(exc), field=at.rpartition(": ")[2], value=value) from None


def _nums(values: Any, at: str) -> tuple[float, ...]:
    if not isinstance(values, list):
        raise ScenarioError(f"{at} must be a list of numbers")
    return tuple(_num(v, f"{at}[{i}]") for i, v in enumerate(values))


def _int(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{at} is {value!r}; give a whole number")
    return value


def _str(value: Any, at: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{at} is {value!r}; give a string")
    return value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as :func:`scenario_from_dict` reads it (the JSON twin of the TOML form)."""
    doc: dict[str, Any] = tomllib.loads(scenario_toml(scenario))
    return doc


def scenario_toml(scenario: Scenario) -> str:
    """The scenario in the TOML form :func:`load_scenario` reads (defaults left out)."""
    sc = scenario
    lines = [f"name = {_toml_str(sc.name)}"]
    if sc.arrival_times_days:
        lines.append(f"arrival_times_days = {_toml_list(sc.arrival_times_days)}")
    else:
        lines.append(f"arrival_rate_per_day = {sc.arrival_rate_per_day!r}")
    lines += [
        f"days = {sc.days!r}",
        f"warmup_days = {sc.warmup_days!r}",
        f"replications = {sc.replications}",
        f"seed = {sc.seed}",
    ]
    for step in sc.steps:
        lines += [
            "",
            "[[step]]",
            f"name = {_toml_str(step.name)}",
            f"servers = {step.servers}",
            f"process_time_days = {_toml_distribution(step.process_time)}",
            f"complete_accurate = {step.complete_accurate!r}",
            f"wip_limit = {step.wip_limit}",
        ]
        optional = {"batch_size": 1, "availability": 1.0, "visit_share": 1.0}
        lines += [
            f"{key} = {getattr(step, key)!r}"
            for key, default in optional.items()
            if getattr(step, key) != default
        ]
    return "\n".join(lines) + "\n"


def _toml_distribution(d: Distribution) -> str:
    parts = [f'distribution = "{d.kind}"']
    if d.kind == "empirical":
        parts.append(f"values = {_toml_list(d.values)}")
    else:
        parts.append(f"mean = {d.mean!r}")
    if d.kind == "lognormal":
        parts.append(f"sigma = {d.sigma!r}")
    return "{ " + ", ".join(parts) + " }"


def _toml_list(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


def _toml_str(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes for quotes, \\ and controls).
    return json.dumps(text, ensure_ascii=False)
