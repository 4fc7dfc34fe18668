"""Discrete-event simulation of a scenario with SimPy (docs/simulation.md).

Items arrive as a Poisson process or at replayed instants; each step is a
:class:`simpy.Resource` with ``servers`` slots served first come, first served (no resource
when servers are unlimited). An item skips a step with probability 1 − ``visit_share``. After
a pass an item leaves the step with probability %C&A, otherwise it joins the step's queue again
(rework). A step with ``batch_size`` b > 1 waits for b items, then one server works them one
after the other and they all move on together. Availability A stretches every process time by
1 ÷ A (the *effective process time* of Factory Physics for preemptive outages). A WIP limit is
a :class:`simpy.Container` of tokens: an item takes one before it enters the step (its queue
included) and gives it back once it holds the next step's token, or on leaving the stream.

Work is counted in *simulated events* (SimPy events processed, over every replication of a
run): a :class:`Budget` caps them and carries a cancel check, both looked at every
:data:`CHECK_EVERY` events, so a run that is too long or no longer wanted stops within a
fraction of a second. :func:`estimate_work` predicts the count before anything runs.

Measurement window: from ``warmup_days`` to ``days``. Lead times and queue times are those of
items that arrived in the window and finished before its end; throughput counts every
finish in the window; utilisation is the busy server time inside the window divided by
servers × window; WIP is the time-average count inside the window (of the stream, and of each
step from the moment an item reaches it, blocked or queued, until it leaves). Replication
``r`` draws from ``random.Random(seed + r)``; the aggregate is the mean over replications with
a 95 % confidence interval (Student's t).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from statistics import fmean, stdev
from typing import Any, Protocol, runtime_checkable

import numpy as np
import simpy

from obeya.core.maps.calculations import NEAR_CAPACITY, near_capacity
from obeya.core.shares import percent_of
from obeya.core.simulation.scenario import Distribution, Scenario, ScenarioError
from obeya.errors import ObeyaError

CI = tuple[float, float]


@runtime_checkable
class _Flag(Protocol):
    """A cancel flag such as :class:`threading.Event`."""

    def is_set(self) -> bool: ...


#: Events between two looks at the budget and the cancel check: some 0.05 s of work.
CHECK_EVERY = 10_000
#: SimPy events per item and per pass, as the model below schedules them (measured on
#: one-step streams; see :func:`estimate_work`): an item's arrival, its process start and end;
#: a pass on a limited step (request, work, release) or an unlimited one (work); taking and
#: giving back a WIP token; a batch's own process (start, request, work, release, end).
EVENTS_PER_ITEM = 3
EVENTS_PER_LIMITED_PASS = 3
EVENTS_PER_UNLIMITED_PASS = 1
EVENTS_PER_WIP_VISIT = 2
EVENTS_PER_BATCH = 5


class SimulationBudgetError(ScenarioError):
    """A run needed more simulated events than its budget allowed (422: the input is too
    large for where it runs)."""


class SimulationCancelled(ObeyaError):
    """A run stopped because its cancel check said so (the client went away)."""

    http_status = 499


@dataclass
class Budget:
    """Work allowed to one run (every replication, and every scenario of a what-if), shared
    by reference: ``max_events`` (None: no limit), ``cancelled`` (a callable or anything with
    ``is_set()``, e.g. :class:`threading.Event`; checked every :data:`CHECK_EVERY` events)
    and ``progress`` (called with the events used so far, as often). ``used`` counts."""

    max_events: int | None = None
    cancelled: Callable[[], bool] | _Flag | None = None
    progress: Callable[[int], None] | None = None
    used: int = 0

    def spend(self, events: int, where: str) -> None:
        """Count ``events``; raise when the budget is spent or the run is cancelled."""
        self.used += events
        if self.max_events is not None and self.used > self.max_events:
            raise SimulationBudgetError(
                f"{where}: stopped after {self.max_events:,} simulated events, the budget of "
                "this run, before the end of the run; lower days, arrival_rate_per_day or "
                "replications, or raise complete_accurate (rework repeats a step)"
            )
        flag = self.cancelled
        if flag is not None and (flag.is_set() if isinstance(flag, _Flag) else flag()):
            raise SimulationCancelled(f"{where}: cancelled after {self.used:,} simulated events")
        if self.progress is not None:
            self.progress(self.used)


@dataclass(frozen=True)
class WorkEstimate:
    """What a run will cost, in simulated events: arrivals × events per item × replications
    (see :func:`estimate_work`)."""

    arrivals: float  # per replication, warm-up included
    visits_per_item: float  # step passes per item: visit shares × 1 ÷ %C&A
    events_per_item: float
    replications: int
    replayed: bool = False

    @property
    def events(self) -> float:
        return self.arrivals * self.events_per_item * self.replications

    def explain(self, days: float, rate: float | None) -> str:
        """The product that makes the estimate, each factor named by its field."""
        if self.replayed or rate is None:
            arrivals = f"{self.arrivals:,.0f} arrivals in arrival_times_days before days"
        else:
            arrivals = f"days {days:,.6g} × arrival_rate_per_day {rate:,.6g}"
        return (
            f"{arrivals} × {self.events_per_item:,.4g} events per item "
            f"({self.visits_per_item:,.4g} step passes per item: visit_share × rework "
            f"1/complete_accurate) × replications {self.replications:,}"
        )


def estimate_work(scenario: Scenario) -> WorkEstimate:
    """Expected simulated events of a run of ``scenario``: every arrival before ``days``
    (warm-up included) costs :data:`EVENTS_PER_ITEM`, and each step it visits (share
    ``visit_share``) ``1 ÷ complete_accurate`` passes on average, each costing the events of a
    pass (a batch's own events shared by its items), plus a WIP token taken and given back.
    Queues that never drain (offered load ≥ 1) leave items unfinished, so the estimate is an
    upper bound for them rather than an underestimate."""
    sc = scenario
    if sc.arrival_times_days:
        arrivals: float = sum(1 for t in sc.arrival_times_days if t < sc.days)
    else:
        assert sc.arrival_rate_per_day is not None
        arrivals = sc.arrival_rate_per_day * sc.days
    visits = 0.0
    per_item = float(EVENTS_PER_ITEM)
    for step in sc.steps:
        passes = step.visit_share / step.complete_accurate
        pass_events: float = EVENTS_PER_LIMITED_PASS if step.servers else EVENTS_PER_UNLIMITED_PASS
        if step.batch_size > 1:  # the item's own wait, then the batch's events shared
            pass_events = 1 + (EVENTS_PER_BATCH + pass_events - 1) / step.batch_size
        visits += passes
        per_item += passes * pass_events
        if step.wip_limit:
            per_item += step.visit_share * EVENTS_PER_WIP_VISIT
    return WorkEstimate(
        arrivals=arrivals,
        visits_per_item=visits,
        events_per_item=per_item,
        replications=sc.replications,
        replayed=bool(sc.arrival_times_days),
    )


def t_quantile_975(df: int) -> float:
    """The 97.5th percentile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t as student_t  # scipy.stats takes half a second to import

    return float(student_t.ppf(0.975, df))


def mean_ci95(values: Sequence[float]) -> tuple[float, CI | None]:
    """The mean of ``values`` and its 95 % confidence interval (None for one value)."""
    m = fmean(values)
    if len(values) < 2:
        return m, None
    half = t_quantile_975(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return m, (m - half, m + half)


@dataclass(frozen=True)
class StepStats:
    """A step's figures. ``utilisation`` is None for unlimited servers (``servers = 0``);
    ``mean_busy`` (items in service on average) is given for every step."""

    name: str
    servers: int
    utilisation: float | None
    mean_queue_days: float
    mean_wip: float
    mean_busy: float
    utilisation_ci95: CI | None = None
    mean_queue_days_ci95: CI | None = None
    mean_wip_ci95: CI | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "servers": self.servers,
            "utilisation": self.utilisation,
            "utilisation_ci95": _ci(self.utilisation_ci95),
            "mean_queue_days": self.mean_queue_days,
            "mean_queue_days_ci95": _ci(self.mean_queue_days_ci95),
            "mean_wip": self.mean_wip,
            "mean_wip_ci95": _ci(self.mean_wip_ci95),
            "mean_busy": self.mean_busy,
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
    wip: float  # items in the stream, time-average over the window
    steps: tuple[StepStats, ...]
    #: The lead-time sample itself (days), for distances between distributions; not in
    #: :meth:`to_dict` (the documents carry its percentiles). The array the percentiles were
    #: computed from, kept as it is: no copy, no Python floats on every run.
    lead_times: np.ndarray[Any, Any] = field(
        default_factory=lambda: np.empty(0), repr=False, compare=False
    )

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
            "wip": self.wip,
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
    wip: float
    wip_ci95: CI | None
    steps: tuple[StepStats, ...]
    constraint: str
    constraint_reason: str
    #: Whether the constraint limits the flow (utilisation near capacity); if not, it is
    #: only the most loaded step, which pages call the highest load.
    constraint_binding: bool = True
    lead_time_p50_ci95: CI | None = None
    lead_time_p85_ci95: CI | None = None
    #: Steps offered more work than they can do: their queue grows for as long as the run.
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        sc = self.scenario
        return {
            "scenario": sc.name,
            "arrival_rate_per_day": sc.mean_arrival_rate,
            "arrivals": "replayed" if sc.arrival_times_days else "poisson",
            "days": sc.days,
            "warmup_days": sc.warmup_days,
            "seed": sc.seed,
            "replications": len(self.replications),
            "lead_time_days": {
                "p50": self.lead_time_p50,
                "p50_ci95": _ci(self.lead_time_p50_ci95),
                "p85": self.lead_time_p85,
                "p85_ci95": _ci(self.lead_time_p85_ci95),
                "mean": self.lead_time_mean,
                "mean_ci95": _ci(self.lead_time_mean_ci95),
            },
            "throughput_per_day": self.throughput_per_day,
            "throughput_per_day_ci95": _ci(self.throughput_ci95),
            "wip": self.wip,
            "wip_ci95": _ci(self.wip_ci95),
            "steps": [s.to_dict() for s in self.steps],
            "constraint": self.constraint,
            "constraint_reason": self.constraint_reason,
            "constraint_binding": self.constraint_binding,
            "warnings": list(self.warnings),
            "per_replication": [r.to_dict() for r in self.replications],
        }


def _ci(ci: CI | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def simulate(scenario: Scenario, budget: Budget | None = None) -> SimulationResult:
    """Run the scenario's replications and aggregate them (mean, 95 % CI). With a
    ``budget``, the events of every replication count against it and its cancel check is
    looked at as the run goes (:class:`SimulationBudgetError`, :class:`SimulationCancelled`)."""
    spent = budget if budget is not None else Budget()
    reps = tuple(_replicate(scenario, r, spent) for r in range(scenario.replications))
    p50, p50_ci = mean_ci95([r.lead_time_p50 for r in reps])
    p85, p85_ci = mean_ci95([r.lead_time_p85 for r in reps])
    lt_mean, lt_ci = mean_ci95([r.lead_time_mean for r in reps])
    tp, tp_ci = mean_ci95([r.throughput_per_day for r in reps])
    wip, wip_ci = mean_ci95([r.wip for r in reps])
    steps = []
    for k, step in enumerate(scenario.steps):
        util: float | None = None
        util_ci: CI | None = None
        if step.servers:
            util, util_ci = mean_ci95([r.steps[k].utilisation or 0.0 for r in reps])
        queue, queue_ci = mean_ci95([r.steps[k].mean_queue_days for r in reps])
        step_wip, step_wip_ci = mean_ci95([r.steps[k].mean_wip for r in reps])
        steps.append(
            StepStats(
                name=step.name,
                servers=step.servers,
                utilisation=util,
                mean_queue_days=queue,
                mean_wip=step_wip,
                mean_busy=fmean(r.steps[k].mean_busy for r in reps),
                utilisation_ci95=util_ci,
                mean_queue_days_ci95=queue_ci,
                mean_wip_ci95=step_wip_ci,
            )
        )
    constraint, reason, binding = _constraint(steps, tp)
    return SimulationResult(
        scenario=scenario,
        replications=reps,
        lead_time_p50=p50,
        lead_time_p85=p85,
        lead_time_mean=lt_mean,
        lead_time_mean_ci95=lt_ci,
        throughput_per_day=tp,
        throughput_ci95=tp_ci,
        wip=wip,
        wip_ci95=wip_ci,
        steps=tuple(steps),
        constraint=constraint,
        constraint_reason=reason,
        constraint_binding=binding,
        lead_time_p50_ci95=p50_ci,
        lead_time_p85_ci95=p85_ci,
        warnings=tuple(
            f"{name}: offered {percent_of(load)} of its capacity (arrivals × work per item ÷ "
            "servers); its queue grows for as long as the run, so the figures depend on the "
            "run's length — add servers, shorten the work or lower the arrivals"
            for name, load in offered_load(scenario).items()
            if load is not None and load >= 1.0
        ),
    )


def offered_load(scenario: Scenario) -> dict[str, float | None]:
    """Per step, the utilisation the arrivals ask of it: rate × visit share × process time ÷
    availability ÷ %C&A ÷ servers (None for unlimited servers). At 1 or more the step cannot
    keep up: no steady state exists."""
    rate = scenario.mean_arrival_rate
    return {
        s.name: (
            rate
            * s.visit_share
            * s.process_time.expected
            / (s.availability * s.complete_accurate * s.servers)
            if s.servers
            else None
        )
        for s in scenario.steps
    }


def _constraint(steps: Sequence[StepStats], throughput: float) -> tuple[str, str, bool]:
    """The step with the highest utilisation, and whether it binds (near its capacity, as a
    map says); with no limited step, the one items spend the longest in (its mean WIP ÷
    throughput, by Little's law), which binds nothing."""
    limited = [s for s in steps if s.utilisation is not None]
    if limited:
        top = max(limited, key=lambda s: s.utilisation or 0.0)
        binding = near_capacity(top.utilisation)
        return top.name, utilisation_reason(top.utilisation or 0.0), binding
    top = max(steps, key=lambda s: s.mean_wip)
    days = top.mean_wip / throughput if throughput > 0 else math.inf
    return (
        top.name,
        f"longest time in step ({days:.2f} days; no step has limited servers)",
        False,
    )


def utilisation_reason(utilisation: float) -> str:
    """Why the most utilised step is named: a constraint only near its capacity."""
    if near_capacity(utilisation):
        return f"highest utilisation ({percent_of(utilisation)})"
    return (
        f"highest utilisation ({percent_of(utilisation)}), but no step is near its capacity (all "
        f"under {percent_of(NEAR_CAPACITY)}): none limits the flow"
    )


def _sampler(d: Distribution, rng: random.Random, stretch: float) -> Callable[[], float]:
    """Draws of ``d`` in days, multiplied by ``stretch`` (1 ÷ availability)."""
    if d.kind == "exponential":
        rate = 1.0 / (d.mean * stretch)
        return lambda: rng.expovariate(rate)
    if d.kind == "lognormal":
        mu = math.log(d.mean * stretch) - d.sigma**2 / 2  # so that the mean is d.mean × stretch
        sigma = d.sigma
        return lambda: rng.lognormvariate(mu, sigma)
    if d.kind == "constant":
        mean = d.mean * stretch
        return lambda: mean
    values = tuple(v * stretch for v in d.values)
    return lambda: rng.choice(values)


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def _advance(env: simpy.Environment, end: float, budget: Budget, where: str) -> None:
    """Process every event before ``end``, as ``env.run(until=end)`` does (an event at
    ``end`` itself is left, as there), counting them against ``budget`` in chunks."""
    peek, step = env.peek, env.step
    done = 0
    while peek() < end:
        step()
        done += 1
        if done == CHECK_EVERY:
            budget.spend(done, where)
            done = 0
    budget.spend(done, where)


def _replicate(sc: Scenario, r: int, budget: Budget) -> ReplicationResult:
    seed = sc.seed + r
    rng = random.Random(seed)
    env = simpy.Environment()
    n = len(sc.steps)
    start, end = sc.warmup_days, sc.days
    servers = [simpy.Resource(env, capacity=s.servers) if s.servers else None for s in sc.steps]
    slots = [
        simpy.Container(env, capacity=s.wip_limit, init=s.wip_limit) if s.wip_limit else None
        for s in sc.steps
    ]
    draws = [_sampler(s.process_time, rng, 1.0 / s.availability) for s in sc.steps]
    passing = [s.complete_accurate for s in sc.steps]
    visiting = [s.visit_share for s in sc.steps]
    batch_sizes = [s.batch_size for s in sc.steps]
    forming: list[list[simpy.Event]] = [[] for _ in range(n)]
    busy = [0.0] * n  # server-days of work inside the window
    in_service: list[dict[int, float]] = [{} for _ in range(n)]
    at_step: list[dict[int, float]] = [{} for _ in range(n)]  # item → when it reached the step
    step_area = [0.0] * n  # item-days at each step inside the window
    in_stream: dict[int, float] = {}
    stream_area = 0.0
    queue_total = [0.0] * n
    lead_times: list[float] = []
    finished = 0
    jobs = iter(range(1 << 62))

    def work(k: int, days: float) -> Generator[simpy.Event, Any, None]:
        """Hold a server of step ``k`` (if limited) busy for ``days``, counting busy time."""
        job = next(jobs)
        began = env.now
        in_service[k][job] = began
        yield env.timeout(days)
        del in_service[k][job]
        busy[k] += _overlap(began, env.now, start, end)

    def serve(k: int) -> Generator[simpy.Event, Any, float]:
        """One pass of an item through step ``k``; returns when its work began."""
        if batch_sizes[k] > 1:
            done = env.event()
            forming[k].append(done)
            if len(forming[k]) == batch_sizes[k]:
                env.process(serve_batch(k, forming[k]))
                forming[k] = []
            began: float = yield done
            return began
        resource = servers[k]
        if resource is None:
            began = env.now
            yield from work(k, draws[k]())
            return began
        with resource.request() as request:
            yield request
            began = env.now
            yield from work(k, draws[k]())
        return began

    def serve_batch(k: int, members: list[simpy.Event]) -> Generator[simpy.Event, Any, None]:
        """A full batch: one server works its items one after the other, then all move on."""
        days = math.fsum(draws[k]() for _ in members)
        resource = servers[k]
        if resource is None:
            began = env.now
            yield from work(k, days)
        else:
            with resource.request() as request:
                yield request
                began = env.now
                yield from work(k, days)
        for member in members:
            member.succeed(began)

    def item(ident: int, arrived: float) -> Generator[simpy.Event, Any, None]:
        nonlocal finished, stream_area
        in_stream[ident] = arrived
        waits = [0.0] * n
        held: simpy.Container | None = None
        for k in range(n):
            if visiting[k] < 1.0 and rng.random() >= visiting[k]:
                continue
            entered = env.now
            at_step[k][ident] = entered
            slot = slots[k]
            if slot is not None:
                yield slot.get(1)
            if held is not None:
                yield held.put(1)
            held = slot
            while True:
                began = yield from serve(k)
                waits[k] += began - entered
                if passing[k] >= 1.0 or rng.random() < passing[k]:
                    break
                entered = env.now
            step_area[k] += _overlap(at_step[k].pop(ident), env.now, start, end)
        if held is not None:
            yield held.put(1)
        stream_area += _overlap(in_stream.pop(ident), env.now, start, end)
        if env.now >= start:
            finished += 1
        if arrived >= start:
            lead_times.append(env.now - arrived)
            for k in range(n):
                queue_total[k] += waits[k]

    def poisson() -> Generator[simpy.Event, Any, None]:
        assert sc.arrival_rate_per_day is not None
        rate = sc.arrival_rate_per_day
        for ident in jobs_of_items:
            yield env.timeout(rng.expovariate(rate))
            env.process(item(ident, env.now))

    def replay() -> Generator[simpy.Event, Any, None]:
        for ident, at in zip(jobs_of_items, sc.arrival_times_days, strict=False):
            if at >= end:
                return
            yield env.timeout(at - env.now)
            env.process(item(ident, env.now))

    jobs_of_items = iter(range(1 << 62))
    env.process(replay() if sc.arrival_times_days else poisson())
    _advance(env, end, budget, f"scenario '{sc.name}', replication {r}")
    for k in range(n):  # whatever is still inside at the end counts up to the end
        busy[k] += sum(_overlap(began, end, start, end) for began in in_service[k].values())
        step_area[k] += sum(_overlap(t, end, start, end) for t in at_step[k].values())
    stream_area += sum(_overlap(t, end, start, end) for t in in_stream.values())
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
            utilisation=busy[k] / (s.servers * span) if s.servers else None,
            mean_queue_days=queue_total[k] / count,
            mean_wip=step_area[k] / span,
            mean_busy=busy[k] / span,
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
        wip=stream_area / span,
        steps=steps,
        lead_times=lt,
    )
