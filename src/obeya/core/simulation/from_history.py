"""A scenario fitted to a stream's history, and its calibration: does the simulated current
state reproduce the measured throughput and lead time? (docs/simulation.md, "Calibration")

The model, from the discovered steps of the log (:func:`obeya.core.maps.discovery.step_samples`):

- Arrivals: every item that entered a step, at the time it entered, replayed (``replay``) or
  as a Poisson process at the same mean rate (``poisson``). The simulated span is the log's,
  from its first to its last event, with no warm-up: items arriving late stay unfinished at the
  end, as they did in reality.
- Steps: each discovered step, with unlimited servers (the elapsed time in a step already holds
  the waits for its people) and no rework (the time of every visit is in the sample). Its
  time is the item's elapsed time in the step, over finished items, drawn from the sample
  itself (``empirical``; at most :data:`MAX_VALUES` evenly spaced quantiles) or from a
  lognormal fitted to it (``lognormal``: maximum likelihood on the logarithms of the positive
  times). ``visit_share``: the share of finished items that spent time in the step.
- Time outside every step until the finish (e.g. resolved, waiting to be closed; reopened items
  between visits) becomes a last step, named after the workflow's stage of done states when
  there is one, else ``Until finish``: without it the model would leave out time the measured
  lead time holds.
- Lead time is measured as it is simulated: from the item's first event in a step to its
  finish (the conventions' finish: its last event, in a done state).

What it cannot reproduce (the calibration says how far off it is): the times of one item's
steps are drawn independently, so a correlation between them (an item slow in one step is slow
in the next) is lost; and the model has no capacity, so it cannot show a queue the data did
not have — for capacity what-ifs, give the steps servers (``servers``) and process times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from obeya.core.events import MICROS_PER_DAY, EventLog
from obeya.core.maps.discovery import StepSamples, step_samples
from obeya.core.simulation.engine import CI, SimulationResult, simulate
from obeya.core.simulation.scenario import Distribution, Scenario, ScenarioError, SimStep
from obeya.core.workflow import Category, Workflow

FITS = ("empirical", "lognormal")
ARRIVALS = ("replay", "poisson")
#: Most values an empirical step keeps (evenly spaced quantiles of a larger sample).
MAX_VALUES = 2000
#: The calibration passes when a simulated figure is within this share of the measured one.
TOLERANCE = 0.15
TAIL_STEP = "Until finish"


@dataclass(frozen=True)
class Measured:
    """The history's own figures, defined as the simulation measures them."""

    items: int  # items that entered a step
    finished: int
    days: float
    throughput_per_day: float
    lead_time_p50: float
    lead_time_p85: float
    lead_time_mean: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "finished": self.finished,
            "days": self.days,
            "throughput_per_day": self.throughput_per_day,
            "lead_time_days": {
                "p50": self.lead_time_p50,
                "p85": self.lead_time_p85,
                "mean": self.lead_time_mean,
            },
        }


@dataclass(frozen=True)
class HistoryModel:
    scenario: Scenario
    measured: Measured
    fit: str
    arrivals: str


def scenario_from_history(
    log: EventLog,
    workflow: Workflow | None = None,
    *,
    fit: str = "empirical",
    arrivals: str = "replay",
    replications: int = 5,
    seed: int = 1,
    backend: Any = None,
) -> HistoryModel:
    """The current state of ``log`` as a scenario, with the figures it should reproduce."""
    if fit not in FITS:
        raise ScenarioError(f"fit {fit!r} is unknown; use one of {', '.join(FITS)}")
    if arrivals not in ARRIVALS:
        raise ScenarioError(f"arrivals {arrivals!r} is unknown; use one of {', '.join(ARRIVALS)}")
    samples = step_samples(log, workflow, backend=backend)
    return _model(samples, workflow, log.source, fit, arrivals, replications, seed)


def _model(
    samples: StepSamples,
    workflow: Workflow | None,
    source: str,
    fit: str,
    arrivals: str,
    replications: int,
    seed: int,
) -> HistoryModel:
    day = float(MICROS_PER_DAY)
    items = samples.items
    ids = np.asarray(items.column("item_id").to_pylist(), dtype=object)
    entered, finish, is_done = samples.item_times()
    days = (samples.last_us - samples.first_us) / day
    if not is_done.any() or days <= 0:
        raise ScenarioError(
            f"{source}: no item finished, so there is no history to fit a simulation to"
        )
    lead_us = (finish - entered)[is_done]
    finished_ids = set(ids[is_done].tolist())
    n_finished = int(is_done.sum())

    times = samples.times
    t_ids = times.column("item_id").to_pylist()
    t_step = times.column("step").to_numpy()
    t_lt = times.column("lt_us").to_numpy().astype(np.int64)
    keep = np.fromiter((i in finished_ids for i in t_ids), dtype=bool, count=len(t_ids))
    steps: list[SimStep] = []
    for k, (name, _) in enumerate(samples.steps):
        sample = t_lt[keep & (t_step == k)] / day
        step = _fitted(name, sample, n_finished, fit)
        if step is not None:
            steps.append(step)
    # Time outside every step until the finish: lead time minus the item's steps.
    per_item = dict.fromkeys(finished_ids, 0)
    for item_id, lt in zip(np.asarray(t_ids, dtype=object)[keep], t_lt[keep], strict=True):
        per_item[item_id] += int(lt)
    in_steps = np.asarray([per_item[i] for i in ids[is_done]], dtype=np.int64)
    tail = np.maximum(lead_us - in_steps, 0) / day
    tail_step = _fitted(_tail_name(workflow), tail, n_finished, fit)
    if tail_step is not None:
        steps.append(tail_step)
    if not steps:
        raise ScenarioError(f"{source}: no finished item spent time in a step")

    offsets = np.sort((entered - samples.first_us) / day)
    rate: float | None = None
    replay: tuple[float, ...] = ()
    if arrivals == "replay":
        replay = tuple(float(t) for t in offsets)
    else:
        rate = len(offsets) / days
    scenario = Scenario(
        name=f"{source} (fitted: {fit}, arrivals {arrivals})",
        arrival_rate_per_day=rate,
        arrival_times_days=replay,
        days=days,
        warmup_days=0.0,
        replications=replications,
        seed=seed,
        steps=tuple(steps),
    )
    lead_days = lead_us / day
    measured = Measured(
        items=len(ids),
        finished=n_finished,
        days=days,
        throughput_per_day=n_finished / days,
        lead_time_p50=float(np.percentile(lead_days, 50)),
        lead_time_p85=float(np.percentile(lead_days, 85)),
        lead_time_mean=float(lead_days.mean()),
    )
    return HistoryModel(scenario, measured, fit, arrivals)


def _tail_name(workflow: Workflow | None) -> str:
    """The workflow's stage of done states (e.g. ``Close``), else :data:`TAIL_STEP`."""
    if workflow is not None:
        categories = workflow.categories()
        for name, states in workflow.stages:
            if states and all(categories.get(s) == Category.DONE for s in states):
                return name
    return TAIL_STEP


def _fitted(name: str, sample: np.ndarray[Any, Any], items: int, fit: str) -> SimStep | None:
    """A step of unlimited servers drawing ``sample``'s times; None without a positive time."""
    positive = sample[sample > 0]
    if positive.size == 0:
        return None
    if fit == "lognormal":
        logs = np.log(positive)
        sigma = float(logs.std())
        if sigma <= 0:  # one value, or all equal: a constant time
            dist = Distribution("constant", mean=float(positive[0]))
        else:
            mean = math.exp(float(logs.mean()) + sigma**2 / 2)
            dist = Distribution("lognormal", mean=mean, sigma=sigma)
        share = positive.size / items
    else:
        values = np.sort(sample)
        if values.size > MAX_VALUES:
            values = np.quantile(values, (np.arange(MAX_VALUES) + 0.5) / MAX_VALUES)
        dist = Distribution("empirical", values=tuple(round(float(v), 6) for v in values))
        share = sample.size / items
    return SimStep(name, dist, servers=0, visit_share=min(1.0, share))


@dataclass(frozen=True)
class Check:
    """One figure: measured, simulated (with its 95 % CI) and the relative error.
    ``required``: the calibration passes only when every required figure is within
    :data:`TOLERANCE` (throughput and median lead time); the others are for information."""

    figure: str
    measured: float
    simulated: float
    ci95: CI | None
    required: bool = True

    @property
    def error(self) -> float:
        return (self.simulated - self.measured) / self.measured if self.measured else math.inf

    @property
    def within_tolerance(self) -> bool:
        return abs(self.error) <= TOLERANCE

    def to_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "measured": self.measured,
            "simulated": self.simulated,
            "simulated_ci95": None if self.ci95 is None else list(self.ci95),
            "error": self.error,
            "within_tolerance": self.within_tolerance,
            "required": self.required,
        }


@dataclass(frozen=True)
class Calibration:
    model: HistoryModel
    result: SimulationResult
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.within_tolerance for c in self.checks if c.required)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fit": self.model.fit,
            "arrivals": self.model.arrivals,
            "tolerance": TOLERANCE,
            "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks],
            "measured": self.model.measured.to_dict(),
            "simulation": self.result.to_dict(),
        }


def calibrate(model: HistoryModel) -> Calibration:
    """Simulate the fitted current state and compare it with the measured figures."""
    result = simulate(model.scenario)
    m = model.measured
    checks = (
        Check(
            "throughput_per_day",
            m.throughput_per_day,
            result.throughput_per_day,
            result.throughput_ci95,
        ),
        Check("lead_time_p50", m.lead_time_p50, result.lead_time_p50, result.lead_time_p50_ci95),
        Check(
            "lead_time_p85",
            m.lead_time_p85,
            result.lead_time_p85,
            result.lead_time_p85_ci95,
            required=False,
        ),
    )
    return Calibration(model, result, checks)
