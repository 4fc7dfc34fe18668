"""A simulation scenario as plain data, and its TOML form (docs/simulation.md).

Units: days everywhere (arrival rate in items per day, process times in days). A step's
``complete_accurate`` (%C&A) is the share of passes that need no rework; the rest repeat the
step. ``wip_limit`` caps the items inside a step, its queue included (0 = no limit).
Validation is early and names the field: ``scenario.toml: step[0].complete_accurate is 1.5``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obeya.errors import InputError

DISTRIBUTIONS = ("exponential", "lognormal", "constant", "empirical")
DEFAULT_REPLICATIONS = 5
DEFAULT_SEED = 1

_TOP_KEYS = {"name", "arrival_rate_per_day", "days", "warmup_days", "replications", "seed", "step"}
_STEP_KEYS = {"name", "servers", "process_time_days", "complete_accurate", "wip_limit"}
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
    servers: int = 1
    complete_accurate: float = 1.0
    wip_limit: int = 0


@dataclass(frozen=True)
class Scenario:
    arrival_rate_per_day: float
    days: float
    steps: tuple[SimStep, ...]
    warmup_days: float = 0.0
    replications: int = DEFAULT_REPLICATIONS
    seed: int = DEFAULT_SEED
    name: str = "scenario"

    def __post_init__(self) -> None:
        validate(self)


def validate(sc: Scenario, where: str = "scenario") -> None:
    """Raise :class:`ScenarioError` naming the first field that breaks a rule."""
    if not (sc.arrival_rate_per_day > 0 and math.isfinite(sc.arrival_rate_per_day)):
        raise ScenarioError(
            f"{where}: arrival_rate_per_day is {sc.arrival_rate_per_day}; it must be > 0"
        )
    if sc.warmup_days < 0:
        raise ScenarioError(f"{where}: warmup_days is {sc.warmup_days}; it cannot be negative")
    if not (sc.days > sc.warmup_days and math.isfinite(sc.days)):
        raise ScenarioError(
            f"{where}: days is {sc.days}; it must be longer than warmup_days ({sc.warmup_days})"
        )
    if sc.replications < 1:
        raise ScenarioError(f"{where}: replications is {sc.replications}; it must be at least 1")
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
        if s.servers < 1:
            raise ScenarioError(f"{at}.servers is {s.servers}; a step needs at least 1")
        if not 0 < s.complete_accurate <= 1:
            raise ScenarioError(
                f"{at}.complete_accurate is {s.complete_accurate}; give a share in (0, 1]"
            )
        if s.wip_limit < 0:
            raise ScenarioError(f"{at}.wip_limit is {s.wip_limit}; give 0 (no limit) or more")
        _validate_distribution(s.process_time, f"{at}.process_time_days")


def _validate_distribution(d: Distribution, at: str) -> None:
    if d.kind not in DISTRIBUTIONS:
        raise ScenarioError(
            f"{at}.distribution {d.kind!r} is unknown; use one of {', '.join(DISTRIBUTIONS)}"
        )
    if d.kind == "empirical":
        if not d.values:
            raise ScenarioError(f"{at}.values is empty; an empirical distribution needs values")
        if any(v < 0 or not math.isfinite(v) for v in d.values) or not any(d.values):
            raise ScenarioError(f"{at}.values must be ≥ 0 with at least one > 0")
        return
    if not (d.mean > 0 and math.isfinite(d.mean)):
        raise ScenarioError(f"{at}.mean is {d.mean}; it must be > 0")
    if d.kind == "lognormal" and not (d.sigma > 0 and math.isfinite(d.sigma)):
        raise ScenarioError(f"{at}.sigma is {d.sigma}; a lognormal needs sigma > 0")


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario TOML file; errors name the file and the field."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return scenario_from_dict(doc, where=str(path))


def scenario_from_dict(doc: dict[str, Any], where: str = "scenario") -> Scenario:
    """Build a scenario from its TOML form (a dict), checking types and names of fields."""
    _refuse_unknown(doc, _TOP_KEYS, where)
    raw_steps = doc.get("step", [])
    if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
        raise ScenarioError(f"{where}: field 'step' must be an array of tables ([[step]])")
    steps = tuple(_step(s, f"{where}: step[{i}]") for i, s in enumerate(raw_steps))
    if "arrival_rate_per_day" not in doc:
        raise ScenarioError(f"{where}: field 'arrival_rate_per_day' is missing")
    if "days" not in doc:
        raise ScenarioError(f"{where}: field 'days' is missing")
    try:
        return Scenario(
            name=_str(doc.get("name", "scenario"), f"{where}: name"),
            arrival_rate_per_day=_num(
                doc["arrival_rate_per_day"], f"{where}: arrival_rate_per_day"
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
    _refuse_unknown(raw, _STEP_KEYS, at)
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
        complete_accurate=_num(raw.get("complete_accurate", 1.0), f"{at}.complete_accurate"),
        wip_limit=_int(raw.get("wip_limit", 0), f"{at}.wip_limit"),
        process_time=_distribution(dist, f"{at}.process_time_days"),
    )


def _distribution(raw: dict[str, Any], at: str) -> Distribution:
    _refuse_unknown(raw, _DIST_KEYS, at)
    kind = _str(raw.get("distribution", ""), f"{at}.distribution")
    if kind not in DISTRIBUTIONS:
        raise ScenarioError(
            f"{at}.distribution {kind!r} is unknown; use one of {', '.join(DISTRIBUTIONS)}"
        )
    values = raw.get("values", [])
    if not isinstance(values, list):
        raise ScenarioError(f"{at}.values must be a list of numbers")
    return Distribution(
        kind=kind,
        mean=_num(raw.get("mean", 0.0), f"{at}.mean"),
        sigma=_num(raw.get("sigma", 0.0), f"{at}.sigma"),
        values=tuple(_num(v, f"{at}.values[{i}]") for i, v in enumerate(values)),
    )


def _refuse_unknown(raw: dict[str, Any], known: set[str], at: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ScenarioError(
            f"{at}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(known))}"
        )


def _num(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{at} is {value!r}; give a number")
    return float(value)


def _int(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{at} is {value!r}; give a whole number")
    return value


def _str(value: Any, at: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{at} is {value!r}; give a string")
    return value
