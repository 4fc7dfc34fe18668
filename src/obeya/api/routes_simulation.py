"""The REST API of simulation and what-if (docs/simulation.md, "In the web app and the API").

``POST /api/simulate`` takes a scenario in its JSON form (the dict
:func:`~obeya.core.simulation.scenario_from_dict` reads: the TOML file's keys) and answers with
``SimulationResult.to_dict()``, the document of ``obeya simulate FILE --json``.
``POST /api/what-if`` compares a baseline with future states (changes such as
``Build.servers=2``, or whole scenarios) and answers with ``WhatIf.to_dict()``, the document of
``obeya what-if --json``. ``GET /api/maps/{name}/{variant}/scenario`` turns a saved map into a
scenario (``obeya map to-scenario``). A scenario that breaks a rule is refused with 422 and a
message naming the step and the field (``scenario: step[0] ('Build'): servers is -1; ...``).

A simulation is CPU-bound work, so it never runs on the event loop: the routes run it in a
worker thread that stops when the client leaves (:func:`obeya.api.running.run_cancellable`).
A request may not tie up the server either: the workspace's simulations
(:mod:`obeya.workspace_simulation`) cap replications and future states and hold every request
to a work budget in simulated events.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS, MAX_VERSION
from obeya.api.running import run_cancellable
from obeya.core.simulation import ScenarioError, scenario_from_dict, scenario_to_dict
from obeya.core.simulation.whatif import parse_change
from obeya.render.simulation import what_if_chart
from obeya.workspace_simulation import FutureSpec

router = APIRouter(prefix="/api", tags=["simulation"], route_class=GuardedRoute)

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
async def post_simulate(ctx: Ctx, request: Request, body: ScenarioBody) -> JSONResponse:
    """Simulate a scenario: lead time, throughput, WIP, utilisation per step and the
    constraint, with 95 % confidence intervals over replications. The same document as
    ``obeya simulate FILE --json``. At most 50 replications, and a work budget of 2,000,000
    simulated events by default (``OBEYA_MAX_SIM_EVENTS``); the run stops if the client
    leaves."""

    def work(cancel: threading.Event) -> dict[str, Any]:
        scenario = scenario_from_dict(body, where="scenario")
        return ctx.workspace.simulations.run(scenario, cancel).to_dict()

    return JSONResponse(await run_cancellable(request, work))


@router.post("/what-if", response_model=WhatIfDocument, responses=BODY_ERRORS)
async def post_what_if(
    ctx: Ctx,
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
        doc = ctx.workspace.simulations.what_if(baseline, futures, cancel=cancel).to_dict()
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
    scenario = ctx.workspace.simulations.map_scenario(
        name,
        variant,
        version,
        distribution=distribution,
        days=days,
        warmup_days=warmup_days,
        replications=replications,
        seed=seed,
    )
    return scenario_to_dict(scenario)
