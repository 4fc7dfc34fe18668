"""The REST API of simulation and what-if (docs/simulation.md, "In the web app and the API").

``POST /api/simulate`` takes a scenario in its JSON form (the dict
:func:`~obeya.core.simulation.scenario_from_dict` reads: the TOML file's keys) and answers with
``SimulationResult.to_dict()``, the document of ``obeya simulate FILE --json``.
``POST /api/what-if`` compares a baseline with future states (changes such as
``Build.servers=2``, or whole scenarios) and answers with ``WhatIf.to_dict()``, the document of
``obeya what-if --json``. ``GET /api/maps/{name}/{variant}/scenario`` turns a saved map into a
scenario (``obeya map to-scenario``). A scenario that breaks a rule is refused with 422 and a
message naming the field (``scenario: step[0].servers is -1; ...``).

A simulation is CPU-bound work, so it never runs on the event loop: the routes run it in a
worker thread and, while it runs, look every :data:`POLL_SECONDS` whether the client is still
there; when it has gone, they set the run's cancel flag and the engine stops within a fraction
of a second. A request may not tie up the server either: replications are capped
(:data:`MAX_REPLICATIONS`), so is the number of future states (:data:`MAX_FUTURES`), and every
request has a work budget in simulated events (:func:`max_sim_events`, ``OBEYA_MAX_SIM_EVENTS``,
default :data:`DEFAULT_MAX_SIM_EVENTS`): a run whose estimate
(:func:`~obeya.core.simulation.engine.estimate_work`: days × arrival rate × events per item,
which grow with rework 1 ÷ %C&A, × replications) exceeds it is refused before it starts, and
the engine stops a run that uses more than its estimate allowed. Larger runs belong on the
command line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS, MAX_VERSION
from obeya.core.simulation import (
    Scenario,
    ScenarioError,
    SimulationResult,
    scenario_from_dict,
    scenario_to_dict,
    simulate,
)
from obeya.core.simulation.engine import Budget, estimate_work
from obeya.core.simulation.from_map import scenario_from_map
from obeya.core.simulation.whatif import (
    Change,
    WhatIf,
    apply_changes,
    parse_change,
    what_if,
)
from obeya.render.simulation import what_if_chart
from obeya.settings import SETTINGS, setting

router = APIRouter(prefix="/api", tags=["simulation"], route_class=GuardedRoute)

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
#: How often a running simulation's route looks whether its client has gone (seconds).
POLL_SECONDS = 0.25

T = TypeVar("T")


def max_sim_events() -> int:
    """The work budget of one request (``OBEYA_MAX_SIM_EVENTS``, read at each request)."""
    return setting(SIM_EVENTS_ENV)


Ctx = Annotated[AppContext, Depends(context)]

_MM1: dict[str, Any] = {
    "name": "current",
    "arrival_rate_per_day": 4.0,
    "days": 1500,
    "warmup_days": 100,
    "replications": 4,
    "seed": 1,
    "step": [
        {
            "name": "Build",
            "servers": 1,
            "process_time_days": {"distribution": "exponential", "mean": 0.2},
        }
    ],
}
_WHAT_IF_EXAMPLE: Any = {
    "baseline": _MM1,
    "futures": [{"name": "Two builders", "changes": ["Build.servers=2"]}],
}
ScenarioBody = Annotated[
    dict[str, Any],
    Body(
        description="A scenario in its JSON form: the keys of a scenario TOML file "
        "(docs/simulation.md), steps under `step`.",
        openapi_examples={"M/M/1": {"summary": "One step, 80 % busy", "value": _MM1}},
    ),
]


class Future(BaseModel):
    """A future state: changes to the baseline, or a scenario of its own."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None,
        description="The future state's name (default: its changes, or the scenario's name).",
    )
    changes: list[str] | None = Field(
        default=None,
        description="Changes to the baseline, `STEP.FIELD=VALUE` or `FIELD=VALUE` for the "
        "stream: servers, wip_limit, batch_size, availability, complete_accurate, "
        "visit_share; arrival_rate_per_day.",
        examples=[["Build.servers=2", "Build.wip_limit=4"]],
    )
    scenario: dict[str, Any] | None = Field(
        default=None,
        description="A whole scenario instead of changes (its seed, replications, days and "
        "warm-up are the baseline's, so the comparison stays paired).",
    )


class WhatIfRequest(BaseModel):
    """The current state and the future states to compare with it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [_WHAT_IF_EXAMPLE]},
    )

    baseline: dict[str, Any] = Field(description="The current state's scenario (JSON form).")
    futures: list[Future] = Field(description="One or more future states.")


class SimulationDocument(BaseModel):
    """``obeya simulate FILE --json``: the aggregate over replications with 95 % confidence
    intervals, per step figures, the constraint, and each replication (docs/simulation.md)."""

    model_config = ConfigDict(extra="allow")

    scenario: str
    replications: int
    lead_time_days: dict[str, Any] = Field(description="p50, p85, mean and their *_ci95.")
    throughput_per_day: float
    throughput_per_day_ci95: list[float] | None
    wip: float
    wip_ci95: list[float] | None
    steps: list[dict[str, Any]]
    constraint: str
    per_replication: list[dict[str, Any]]


class WhatIfDocument(BaseModel):
    """``obeya what-if --json``: each scenario's figures (the baseline first) and, for each
    future state, ``difference``: per figure the paired difference with its 95 % interval,
    percent of the baseline and ``significant`` (the interval leaves out zero). With
    ``chart=true``, ``chart`` holds the comparison as a Vega-Lite spec."""

    model_config = ConfigDict(extra="allow")

    baseline: str
    scenarios: list[dict[str, Any]]
    chart: dict[str, Any] | None = None


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
    """Simulate ``scenario`` once its size is checked (the route's)."""
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


async def run_cancellable(request: Request, work: Callable[[threading.Event], T]) -> T:
    """``work(cancel)`` in a worker thread, never on the event loop. Every
    :data:`POLL_SECONDS` the route looks whether the client is still there; once it has
    gone (or the route itself is cancelled, e.g. at shutdown), ``cancel`` is set and the
    engine stops at its next check (:data:`~obeya.core.simulation.engine.CHECK_EVERY` events,
    a fraction of a second)."""
    cancel = threading.Event()
    job = asyncio.ensure_future(anyio.to_thread.run_sync(work, cancel))
    try:
        while True:
            done, _ = await asyncio.wait({job}, timeout=POLL_SECONDS)
            if done:
                return job.result()
            if await request.is_disconnected():
                cancel.set()
                return await job  # SimulationCancelled, within a check of the engine
    finally:
        cancel.set()


def _future(future: Future, i: int) -> FutureSpec:
    at = f"futures[{i}]"
    if (future.changes is None) == (future.scenario is None):
        raise ScenarioError(f"{at}: give changes or scenario (one of them)")
    if future.scenario is not None:
        scenario = scenario_from_dict(future.scenario, where=f"{at}.scenario")
        return dataclasses.replace(scenario, name=future.name) if future.name else scenario
    assert future.changes is not None
    if not future.changes:
        raise ScenarioError(f"{at}.changes is empty; give at least one, e.g. Build.servers=2")
    changes = []
    for k, text in enumerate(future.changes):
        try:
            changes.append(parse_change(text))
        except ScenarioError as exc:
            raise ScenarioError(f"{at}.changes[{k}]: {exc}") from None
    return (future.name or ", ".join(future.changes)), changes


@router.post("/simulate", response_model=SimulationDocument, responses=BODY_ERRORS)
async def post_simulate(request: Request, body: ScenarioBody) -> JSONResponse:
    """Simulate a scenario: lead time, throughput, WIP, utilisation per step and the
    constraint, with 95 % confidence intervals over replications. The same document as
    ``obeya simulate FILE --json``. At most 50 replications, and a work budget of 2,000,000
    simulated events by default (``OBEYA_MAX_SIM_EVENTS``); the run stops if the client
    leaves."""

    def work(cancel: threading.Event) -> dict[str, Any]:
        scenario = scenario_from_dict(body, where="scenario")
        return run_simulation(scenario, cancel).to_dict()

    return JSONResponse(await run_cancellable(request, work))


@router.post("/what-if", response_model=WhatIfDocument, responses=BODY_ERRORS)
async def post_what_if(
    request: Request,
    body: WhatIfRequest,
    chart: Annotated[
        bool, Query(description="Also return the comparison chart (Vega-Lite) as `chart`.")
    ] = False,
) -> JSONResponse:
    """Compare the current state with future states side by side, with paired 95 %
    confidence intervals (every scenario runs the baseline's seeds). The same document as
    ``obeya what-if --json``. One work budget covers every scenario of the request."""

    def work(cancel: threading.Event) -> dict[str, Any]:
        baseline = scenario_from_dict(body.baseline, where="baseline")
        futures = [_future(f, i) for i, f in enumerate(body.futures)]
        if not futures:
            raise ScenarioError("futures is empty; give at least one future state to compare")
        doc = run_what_if(baseline, futures, cancel=cancel).to_dict()
        if chart:
            doc["chart"] = what_if_chart(doc)
        return doc

    return JSONResponse(await run_cancellable(request, work))


@router.get("/maps/{name}/{variant}/scenario", responses=ERRORS)
def map_scenario(
    ctx: Ctx,
    name: Annotated[str, Path(description="The map's name.")],
    variant: Annotated[str, Path(description="The map's variant, e.g. current or future.")],
    version: Annotated[
        int | None, Query(description="A given version (default: newest).", ge=1, le=MAX_VERSION)
    ] = None,
    distribution: Annotated[
        Literal["exponential", "constant"],
        Query(description="Process times: exponential or constant, with the map's mean."),
    ] = "exponential",
    days: Annotated[float, Query(description="Simulated days.")] = 2000.0,
    warmup_days: Annotated[float, Query(description="Warm-up days left out.")] = 200.0,
    replications: Annotated[int, Query(description="Replications (≥ 1).")] = 5,
    seed: Annotated[int, Query(description="Seed of replication 0.")] = 1,
) -> dict[str, Any]:
    """The saved map as a simulation scenario in its JSON form, ready for ``POST
    /api/simulate`` (the scenario ``obeya map to-scenario NAME`` writes): demand becomes the
    arrival rate, people become servers, hands-on hours become days on one server."""
    vsm = ctx.workspace.get_map(name, variant, version).map
    scenario = scenario_from_map(
        vsm,
        distribution=distribution,
        days=days,
        warmup_days=warmup_days,
        replications=replications,
        seed=seed,
    )
    return scenario_to_dict(scenario)
