"""Simulations a server runs for a request: the ``simulations`` part of the Workspace.

A simulation is CPU-bound, so a request may not tie up the server: replications are capped
(:data:`MAX_REPLICATIONS`), so is the number of future states (:data:`MAX_FUTURES`), and every
request has a work budget in simulated events (:func:`max_sim_events`, ``OBEYA_MAX_SIM_EVENTS``,
default :data:`DEFAULT_MAX_SIM_EVENTS`): a run whose estimate
(:func:`~obeya.core.simulation.engine.estimate_work`: days × arrival rate × events per item,
which grow with rework 1 ÷ %C&A, × replications) exceeds it is refused before it starts, and
the engine stops a run that uses more than its estimate allowed. Larger runs belong on the
command line, which simulates a file with no such limit. The API's routes and the pages call
these, so a page shows the figures of the API's document. :class:`RunSize` is the same
estimate for a whole request, for a page to size its defaults and say what would fit.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from obeya.core.simulation import Scenario, ScenarioError, SimulationResult, simulate
from obeya.core.simulation.engine import Budget, WorkEstimate, estimate_work
from obeya.core.simulation.scenario import MAX_DAYS
from obeya.core.simulation.whatif import Change, WhatIf, apply_changes, what_if
from obeya.errors import InputError
from obeya.settings import SETTINGS, setting

if TYPE_CHECKING:
    from obeya.core.twin.holdout import HoldoutCheck
    from obeya.core.twin.model import Twin
    from obeya.workspace import Workspace

#: Most replications one request runs.
MAX_REPLICATIONS = 50
#: The work budget of one request, in simulated events over every replication and scenario
#: (``OBEYA_MAX_SIM_EVENTS`` overrides it). The engine processes some 150,000–250,000 events a
#: second (``bench/simulate.py``), so this is about ten seconds of one core.
SIM_EVENTS_ENV = "OBEYA_MAX_SIM_EVENTS"
DEFAULT_MAX_SIM_EVENTS = SETTINGS[SIM_EVENTS_ENV].default
#: The engine may overrun an accepted estimate by this share before it stops the run: the
#: estimate is an expectation, a run's random draws may need a little more.
ESTIMATE_SLACK = 1.1
#: Most future states one what-if compares with its baseline.
MAX_FUTURES = 8
#: The most replications a twin's check may ask of the server (each is two runs).
MAX_TWIN_REPLICATIONS = 20
#: The most futures one request may compare with the twin's current state.
MAX_TWIN_FUTURES = 5


def max_sim_events() -> int:
    """The work budget of one request (``OBEYA_MAX_SIM_EVENTS``, read at each request)."""
    return setting(SIM_EVENTS_ENV)


def check_size(scenario: Scenario, where: str = "scenario", *, spent: float = 0.0) -> float:
    """Refuse a run the server should not do in a request, naming the field to lower; return
    its estimated events. ``spent``: events the request's earlier scenarios will use; the
    refusal says the total, which is what is compared with the limit."""
    check_replications(scenario, where)
    limit = max_sim_events()
    estimate = estimate_work(scenario)
    if spent + estimate.events > limit:
        total = (
            f"; with the {spent:,.0f} of the scenarios before it that is "
            f"{spent + estimate.events:,.0f} in all, and"
            if spent
            else ";"
        )
        raise ScenarioError(
            f"{where}: the run would take about {estimate.events:,.0f} simulated events: "
            f"{estimate.explain(scenario.days, scenario.arrival_rate_per_day)}{total} "
            f"the server runs at most {limit:,} per request ({SIM_EVENTS_ENV}): lower days, "
            "arrival_rate_per_day or replications, or raise complete_accurate (or run it with "
            "`obeya simulate`)"
        )
    return estimate.events


def check_replications(scenario: Scenario, where: str = "scenario") -> None:
    """Refuse more replications than a request may run (:data:`MAX_REPLICATIONS`)."""
    if scenario.replications > MAX_REPLICATIONS:
        raise ScenarioError(
            f"{where}: replications is {scenario.replications}; the server runs at most "
            f"{MAX_REPLICATIONS} (run larger simulations with `obeya simulate`)"
        )


def _arrivals(scenario: Scenario, days: float) -> float:
    """Arrivals before ``days`` in one replication, as :func:`estimate_work` counts them."""
    if scenario.arrival_times_days:
        return float(bisect_left(scenario.arrival_times_days, days))
    assert scenario.arrival_rate_per_day is not None
    return scenario.arrival_rate_per_day * days


@dataclasses.dataclass(frozen=True)
class RunSize:
    """The work of a request's runs: :func:`estimate_work` of each scenario as it will run
    (the baseline first; all share its days and replications), their total in simulated
    events, and the server's limit (:func:`max_sim_events`) it is compared with; and, from
    the same estimate, the span and the replications that would fit."""

    scenarios: tuple[Scenario, ...]
    estimates: tuple[WorkEstimate, ...]
    limit: int

    @property
    def days(self) -> float:
        return self.scenarios[0].days

    @property
    def replications(self) -> int:
        return self.scenarios[0].replications

    @property
    def total(self) -> float:
        """Simulated events of every scenario together, summed as :func:`run_what_if` does."""
        total = 0.0
        for estimate in self.estimates:
            total += estimate.events
        return total

    @property
    def fits(self) -> bool:
        return self.total <= self.limit

    def events(self, days: float | None = None, replications: int | None = None) -> float:
        """The total over ``days`` (whole span, warm-up included) and ``replications``, the
        run's own by default: arrivals × events per item × replications, each scenario's."""
        span = self.days if days is None else days
        runs = self.replications if replications is None else replications
        total = 0.0
        for scenario, estimate in zip(self.scenarios, self.estimates, strict=True):
            total += _arrivals(scenario, span) * estimate.events_per_item * runs
        return total

    def max_days(self, replications: int | None = None) -> int:
        """The longest span in whole days that fits (0: not even one day does)."""
        low, high = 0, int(MAX_DAYS)
        if self.events(high, replications) <= self.limit:
            return high
        while low < high:  # the events only grow with the span
            middle = (low + high + 1) // 2
            if self.events(middle, replications) <= self.limit:
                low = middle
            else:
                high = middle - 1
        return low

    def max_replications(self, days: float | None = None) -> int:
        """The most replications (up to :data:`MAX_REPLICATIONS`) that fit over ``days``."""
        one = self.events(days, 1)
        most = MAX_REPLICATIONS if one <= 0 else min(MAX_REPLICATIONS, math.floor(self.limit / one))
        while most > 0 and self.events(days, most) > self.limit:  # rounding, at the edge
            most -= 1
        return most


def request_size(scenarios: Sequence[Scenario]) -> RunSize:
    """The size of a request that runs ``scenarios`` (as they will run) against the budget."""
    return RunSize(
        scenarios=tuple(scenarios),
        estimates=tuple(estimate_work(s) for s in scenarios),
        limit=max_sim_events(),
    )


def request_budget(cancel: threading.Event | None = None) -> Budget:
    """The budget of an accepted request: the limit with :data:`ESTIMATE_SLACK`."""
    return Budget(max_events=int(max_sim_events() * ESTIMATE_SLACK), cancelled=cancel)


def run_simulation(scenario: Scenario, cancel: threading.Event | None = None) -> SimulationResult:
    """Simulate ``scenario`` once its size is checked (a request's)."""
    check_size(scenario)
    return simulate(scenario, request_budget(cancel))


FutureSpec = Scenario | tuple[str, Sequence[Change]]


def what_if_runs(
    baseline: Scenario, futures: Sequence[FutureSpec], *, where: str | None = "futures"
) -> list[tuple[str, Scenario]]:
    """Every scenario of a what-if as it will run (the baseline's seed, replications and
    span), the baseline first, each with the name its errors start with: ``baseline``,
    ``futures[i]`` (``where``), or the future's name when ``where`` is None."""
    if len(futures) > MAX_FUTURES:
        raise ScenarioError(
            f"futures: {len(futures)} future states; the server compares at most {MAX_FUTURES}"
        )
    runs = [("baseline", baseline)]
    for i, future in enumerate(futures):
        if isinstance(future, Scenario):
            at = f"{where}[{i}]" if where else f"future state '{future.name}'"
            built = dataclasses.replace(
                future,
                seed=baseline.seed,
                replications=baseline.replications,
                days=baseline.days,
                warmup_days=baseline.warmup_days,
            )
        else:
            at = f"{where}[{i}]" if where else f"future state '{future[0]}'"
            try:
                built = apply_changes(baseline, future[1], future[0])
            except ScenarioError as exc:
                raise ScenarioError(f"{at}: {exc}" if where else str(exc)) from None
        runs.append((at, built))
    return runs


def run_what_if(
    baseline: Scenario,
    futures: Sequence[FutureSpec],
    *,
    where: str | None = "futures",
    cancel: threading.Event | None = None,
) -> WhatIf:
    """:func:`~obeya.core.simulation.whatif.what_if` once the size of every scenario is
    checked, as it will run (:func:`what_if_runs`), against one budget for the whole
    request. Errors about a future state start with ``futures[i]`` (``where``), or its name
    when ``where`` is None."""
    spent = 0.0
    for at, scenario in what_if_runs(baseline, futures, where=where):
        spent += check_size(scenario, at, spent=spent)
    return what_if(baseline, futures, request_budget(cancel))


class Simulations:
    """Runs of a request, within the server's budget, and a saved map as a scenario."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def run(self, scenario: Scenario, cancel: threading.Event | None = None) -> SimulationResult:
        return run_simulation(scenario, cancel)

    def what_if(
        self,
        baseline: Scenario,
        futures: Sequence[FutureSpec],
        *,
        where: str | None = "futures",
        cancel: threading.Event | None = None,
    ) -> WhatIf:
        return run_what_if(baseline, futures, where=where, cancel=cancel)

    def what_if_size(
        self, baseline: Scenario, futures: Sequence[FutureSpec], *, where: str | None = "futures"
    ) -> RunSize:
        """The size of a what-if against the server's budget, before (or instead of) running
        it; errors as :meth:`what_if`'s for a future that cannot be built or too many
        replications."""
        runs = what_if_runs(baseline, futures, where=where)
        for at, scenario in runs:
            check_replications(scenario, at)
        return request_size([scenario for _, scenario in runs])

    def map_scenario(
        self, name: str, variant: str = "current", version: int | None = None, **options: Any
    ) -> Scenario:
        """The saved map as a scenario (``obeya map to-scenario``): demand becomes the arrival
        rate, people servers, hands-on hours days on one server. ``options`` as
        :func:`~obeya.core.simulation.from_map.scenario_from_map`'s."""
        from obeya.core.simulation.from_map import scenario_from_map

        return scenario_from_map(self._workspace.get_map(name, variant, version).map, **options)

    def twin_check(
        self,
        stream: str,
        holdout: str | None,
        validate_from: date | None,
        replications: int,
        cancel: threading.Event | None = None,
    ) -> HoldoutCheck:
        """The hold-out check of the stream's twin, within the server's budget: cut at a
        share of the items (``20%``, ``20 %`` or ``0.2``) or at a date, one of them."""
        share, split = parse_holdout(holdout, validate_from)
        if not 1 <= replications <= MAX_TWIN_REPLICATIONS:
            raise InputError(
                f"replications is {replications}; give 1 to {MAX_TWIN_REPLICATIONS}",
                field="replications",
                value=replications,
            )
        return self._workspace.twin_check(
            stream,
            share=share,
            split=split,
            replications=replications,
            budget=request_budget(cancel),
        )

    def twin_what_if(
        self,
        stream: str,
        futures: Sequence[tuple[str, Sequence[str]]],
        days: float | None = None,
        replications: int | None = None,
        cancel: threading.Event | None = None,
        twin: Twin | None = None,
    ) -> dict[str, Any]:
        """Futures of the stream's twin (changes as the CLI writes them, parsed here: an
        error names the future), within the server's budget; ``twin``: the stream's, when
        already fitted."""
        from obeya.core.twin.model import TwinError
        from obeya.core.twin.whatif import parse_twin_change

        parsed = []
        for i, (label, changes) in enumerate(futures):
            try:
                parsed.append((label, [parse_twin_change(c) for c in changes]))
            except InputError as exc:
                raise TwinError(f"futures[{i}] ({label}): {exc}") from None
        comparison = self._workspace.twin_what_if(
            stream,
            parsed,
            days=days,
            replications=replications,
            budget=request_budget(cancel),
            twin=twin,
        )
        return comparison.to_dict()


def parse_holdout(
    holdout: str | None, validate_from: date | None
) -> tuple[float | None, datetime | None]:
    """The cut of a check: a share of the items (``20%``, ``20 %`` or ``0.2``) or a date."""
    from obeya.render.numbers import parse_share

    if (holdout is None) == (validate_from is None):
        raise InputError("give holdout (e.g. 20%) or validate_from (a date), one of them")
    if validate_from is not None:
        return None, datetime.combine(validate_from, time(), UTC)
    assert holdout is not None
    return parse_share(holdout, field="holdout"), None
