"""Discrete-event simulation of a scenario with SimPy (docs/simulation.md).

Items arrive as a Poisson process; each step is a :class:`simpy.Resource` with ``servers``
slots served first come, first served. After a pass an item leaves the step with probability
%C&A, otherwise it joins the step's queue again (rework). A WIP limit is a
:class:`simpy.Container` of tokens: an item takes one before it enters the step (its queue
included) and gives it back once it holds the next step's token, or on leaving the stream.

Measurement window: from ``warmup_days`` to ``days``. Lead times and queue times are those of
items that arrived in the window and finished before its end; throughput counts every
finish in the window; utilisation is the busy server time inside the window divided by
servers × window. Replication ``r`` draws from ``random.Random(seed + r)``; the aggregate
is the mean over replications with a 95 % confidence interval (Student's t).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from statistics import fmean, stdev
from typing import Any

import numpy as np
import simpy

from obeya.core.simulation.scenario import Distribution, Scenario, ScenarioError

CI = tuple[float, float]

# Two-sided 95 % quantiles of Student's t (0.975), for when scipy is not installed.
_T975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
}  # fmt: skip


def t_quantile_975(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom."""
    try:
        from scipy.stats import t as student_t

        return float(student_t.ppf(0.975, df))
    except ImportError:  # pragma: no cover - scipy comes with the dev tools
        if df <= 30:
            return _T975[max(df, 1)]
        return 1.96 + 2.4 / df  # within 0.003 of the exact value above 30


def mean_ci95(values: Sequence[float]) -> tuple[float, CI | None]:
    """The mean of ``values`` and its 95 % confidence interval (None for one value)."""
    m = fmean(values)
    if len(values) < 2:
        return m, None
    half = t_quantile_975(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return m, (m - half, m + half)


@dataclass(frozen=True)
class StepStats:
    name: str
    servers: int
    utilisation: float
    mean_queue_days: float
    utilisation_ci95: CI | None = None
    mean_queue_days_ci95: CI | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "servers": self.servers,
            "utilisation": self.utilisation,
            "utilisation_ci95": _ci(self.utilisation_ci95),
            "mean_queue_days": self.mean_queue_days,
            "mean_queue_days_ci95": _ci(self.mean_queue_days_ci95),
        }


@dataclass(frozen=True)
class ReplicationResult:
    replication: int
    seed: int
    items: int  # items that arrived in the window and finished: the lead-time sample
    lead_time_p50: float
    lead_time_p85: float
    lead_time_mean: float
    throughput_per_day: float
    steps: tuple[StepStats, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "replication": self.replication,
            "seed": self.seed,
            "items": self.items,
            "lead_time_days": {
                "p50": self.lead_time_p50,
                "p85": self.lead_time_p85,
                "mean": self.lead_time_mean,
            },
            "throughput_per_day": self.throughput_per_day,
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(frozen=True)
class SimulationResult:
    scenario: Scenario
    replications: tuple[ReplicationResult, ...]
    lead_time_p50: float
    lead_time_p85: float
    lead_time_mean: float
    lead_time_mean_ci95: CI | None
    throughput_per_day: float
    throughput_ci95: CI | None
    steps: tuple[StepStats, ...]
    constraint: str  # the step with the highest utilisation

    def to_dict(self) -> dict[str, Any]:
        sc = self.scenario
        return {
            "scenario": sc.name,
            "arrival_rate_per_day": sc.arrival_rate_per_day,
            "days": sc.days,
            "warmup_days": sc.warmup_days,
            "seed": sc.seed,
            "replications": len(self.replications),
            "lead_time_days": {
                "p50": self.lead_time_p50,
                "p85": self.lead_time_p85,
                "mean": self.lead_time_mean,
                "mean_ci95": _ci(self.lead_time_mean_ci95),
            },
            "throughput_per_day": self.throughput_per_day,
            "throughput_per_day_ci95": _ci(self.throughput_ci95),
            "steps": [s.to_dict() for s in self.steps],
            "constraint": self.constraint,
            "per_replication": [r.to_dict() for r in self.replications],
        }


def _ci(ci: CI | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def simulate(scenario: Scenario) -> SimulationResult:
    """Run the scenario's replications and aggregate them (mean, 95 % CI)."""
    reps = tuple(_replicate(scenario, r) for r in range(scenario.replications))
    lt_mean, lt_ci = mean_ci95([r.lead_time_mean for r in reps])
    tp, tp_ci = mean_ci95([r.throughput_per_day for r in reps])
    steps = []
    for k, step in enumerate(scenario.steps):
        util, util_ci = mean_ci95([r.steps[k].utilisation for r in reps])
        queue, queue_ci = mean_ci95([r.steps[k].mean_queue_days for r in reps])
        steps.append(StepStats(step.name, step.servers, util, queue, util_ci, queue_ci))
    constraint = max(steps, key=lambda s: s.utilisation).name
    return SimulationResult(
        scenario=scenario,
        replications=reps,
        lead_time_p50=fmean(r.lead_time_p50 for r in reps),
        lead_time_p85=fmean(r.lead_time_p85 for r in reps),
        lead_time_mean=lt_mean,
        lead_time_mean_ci95=lt_ci,
        throughput_per_day=tp,
        throughput_ci95=tp_ci,
        steps=tuple(steps),
        constraint=constraint,
    )


def _sampler(d: Distribution, rng: random.Random) -> Callable[[], float]:
    if d.kind == "exponential":
        rate = 1.0 / d.mean
        return lambda: rng.expovariate(rate)
    if d.kind == "lognormal":
        mu = math.log(d.mean) - d.sigma**2 / 2  # so that the mean of the time is d.mean
        sigma = d.sigma
        return lambda: rng.lognormvariate(mu, sigma)
    if d.kind == "constant":
        mean = d.mean
        return lambda: mean
    values = d.values
    return lambda: rng.choice(values)


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def _replicate(sc: Scenario, r: int) -> ReplicationResult:
    seed = sc.seed + r
    rng = random.Random(seed)
    env = simpy.Environment()
    n = len(sc.steps)
    start, end = sc.warmup_days, sc.days
    servers = [simpy.Resource(env, capacity=s.servers) for s in sc.steps]
    slots = [
        simpy.Container(env, capacity=s.wip_limit, init=s.wip_limit) if s.wip_limit else None
        for s in sc.steps
    ]
    draws = [_sampler(s.process_time, rng) for s in sc.steps]
    passing = [s.complete_accurate for s in sc.steps]
    busy = [0.0] * n
    in_service: list[dict[int, float]] = [{} for _ in range(n)]
    queue_total = [0.0] * n
    lead_times: list[float] = []
    finished = 0

    def item(ident: int, arrived: float) -> Generator[simpy.Event, Any, None]:
        nonlocal finished
        waits = [0.0] * n
        held: simpy.Container | None = None
        for k in range(n):
            entered = env.now
            slot = slots[k]
            if slot is not None:
                yield slot.get(1)
            if held is not None:
                yield held.put(1)
            held = slot
            while True:
                with servers[k].request() as request:
                    yield request
                    waits[k] += env.now - entered
                    began = env.now
                    in_service[k][ident] = began
                    yield env.timeout(draws[k]())
                    del in_service[k][ident]
                    busy[k] += _overlap(began, env.now, start, end)
                if passing[k] >= 1.0 or rng.random() < passing[k]:
                    break
                entered = env.now
        if held is not None:
            yield held.put(1)
        if env.now >= start:
            finished += 1
        if arrived >= start:
            lead_times.append(env.now - arrived)
            for k in range(n):
                queue_total[k] += waits[k]

    def source() -> Generator[simpy.Event, Any, None]:
        ident = 0
        rate = sc.arrival_rate_per_day
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(item(ident, env.now))
            ident += 1

    env.process(source())
    env.run(until=end)
    for k in range(n):  # work still in progress at the end counts up to the end
        busy[k] += sum(_overlap(began, end, start, end) for began in in_service[k].values())
    if not lead_times:
        raise ScenarioError(
            f"scenario '{sc.name}', replication {r}: no item that arrived after the warm-up "
            "finished before the end; lengthen days or add capacity"
        )
    span = end - start
    lt = np.asarray(lead_times)
    count = len(lead_times)
    steps = tuple(
        StepStats(
            name=s.name,
            servers=s.servers,
            utilisation=busy[k] / (s.servers * span),
            mean_queue_days=queue_total[k] / count,
        )
        for k, s in enumerate(sc.steps)
    )
    return ReplicationResult(
        replication=r,
        seed=seed,
        items=count,
        lead_time_p50=float(np.percentile(lt, 50)),
        lead_time_p85=float(np.percentile(lt, 85)),
        lead_time_mean=float(lt.mean()),
        throughput_per_day=finished / span,
        steps=steps,
    )
