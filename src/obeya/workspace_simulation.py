"""Simulations a server runs for a request: the ``simulations`` part of the Workspace.

A simulation is CPU-bound, so a request may not tie up the server: replications are capped
(:data:`MAX_REPLICATIONS`), so is the number of future states (:data:`MAX_FUTURES`), and every
request has a work budget in simulated events (:func:`max_sim_events`, ``OBEYA_MAX_SIM_EVENTS``,
default :data:`DEFAULT_MAX_SIM_EVENTS`): a run whose estimate
(:func:`~obeya.core.simulation.engine.estimate_work`: days × arrival rate × events per item,
which grow with rework 1 ÷ %C&A, × replications) exceeds it is refused before it starts, and
the engine stops a run that uses more than its estimate allowed. Larger runs belong on the
command line, which simulates a file with no such limit. The API's routes and the pages call
these, so a page shows the figures of the API's document.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from obeya.core.simulation import Scenario, ScenarioError, SimulationResult, simulate
from obeya.core.simulation.engine import Budget, estimate_work
from obeya.core.simulation.whatif import Change, WhatIf, apply_changes, what_if
from obeya.settings import SETTINGS, setting

if TYPE_CHECKING:
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


def max_sim_events() -> int:
    """The work budget of one request (``OBEYA_MAX_SIM_EVENTS``, read at each request)."""
    return setting(SIM_EVENTS_ENV)


def check_size(scenario: Scenario, where: str = "scenario", *, spent: float = 0.0) -> float:
    """Refuse a run the server should not do in a request, naming the field to lower; return
    its estimated events. ``spent``: events the request's earlier scenarios will use."""
    if scenario.replications > MAX_REPLICATIONS:
        raise ScenarioError(
            f"{where}: replications is {scenario.replications}; the server runs at most "
            f"{MAX_REPLICATIONS} (run larger simulations with `obeya simulate`)"
        )
    limit = max_sim_events()
    estimate = estimate_work(scenario)
    if spent + estimate.events > limit:
        before = f" (with the {spent:,.0f} of the scenarios before it)" if spent else ""
        raise ScenarioError(
            f"{where}: the run would take about {estimate.events:,.0f} simulated events"
            f"{before}: {estimate.explain(scenario.days, scenario.arrival_rate_per_day)}; "
            f"the server runs at most {limit:,} per request ({SIM_EVENTS_ENV}): lower days, "
            "arrival_rate_per_day or replications, or raise complete_accurate (or run it with "
            "`obeya simulate`)"
        )
    return estimate.events


def request_budget(cancel: threading.Event | None = None) -> Budget:
    """The budget of an accepted request: the limit with :data:`ESTIMATE_SLACK`."""
    return Budget(max_events=int(max_sim_events() * ESTIMATE_SLACK), cancelled=cancel)


def run_simulation(scenario: Scenario, cancel: threading.Event | None = None) -> SimulationResult:
    """Simulate ``scenario`` once its size is checked (a request's)."""
    check_size(scenario)
    return simulate(scenario, request_budget(cancel))


FutureSpec = Scenario | tuple[str, Sequence[Change]]


def run_what_if(
    baseline: Scenario,
    futures: Sequence[FutureSpec],
    *,
    where: str | None = "futures",
    cancel: threading.Event | None = None,
) -> WhatIf:
    """:func:`~obeya.core.simulation.whatif.what_if` once the size of every scenario is
    checked, as it will run (the baseline's seed, replications and span), against one budget
    for the whole request. Errors about a future state start with ``futures[i]``
    (``where``), or its name when ``where`` is None."""
    if len(futures) > MAX_FUTURES:
        raise ScenarioError(
            f"futures: {len(futures)} future states; the server compares at most {MAX_FUTURES}"
        )
    spent = check_size(baseline, "baseline")
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
        spent += check_size(built, at, spent=spent)
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

    def map_scenario(
        self, name: str, variant: str = "current", version: int | None = None, **options: Any
    ) -> Scenario:
        """The saved map as a scenario (``obeya map to-scenario``): demand becomes the arrival
        rate, people servers, hands-on hours days on one server. ``options`` as
        :func:`~obeya.core.simulation.from_map.scenario_from_map`'s."""
        from obeya.core.simulation.from_map import scenario_from_map

        return scenario_from_map(self._workspace.get_map(name, variant, version).map, **options)
