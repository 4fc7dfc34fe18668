"""A stream's twin: its summary, its file and its hold-out check (docs/simulation.md, "The
twin"), the documents of ``obeya calibrate --stream NAME [--holdout 20%] --json``.

Fitting reads the stream's events (bounded by what an import accepts); the runs of a check
are bounded by the server's simulation budget (``OBEYA_MAX_SIM_EVENTS``) and stop when the
client leaves, like every simulation route."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS
from obeya.api.running import run_cancellable
from obeya.core.twin.files import twin_toml
from obeya.core.twin.holdout import HoldoutCheck
from obeya.core.twin.model import Twin, TwinError
from obeya.core.twin.summary import twin_summary
from obeya.core.twin.whatif import parse_twin_change
from obeya.errors import InputError
from obeya.render.numbers import parse_share
from obeya.workspace_simulation import request_budget

router = APIRouter(prefix="/api", tags=["twin"], route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
StreamName = Annotated[str, Path(description="The value stream's name.")]
#: The most replications a check may ask of the server (each is two runs).
MAX_REPLICATIONS = 20
AsOf = Annotated[
    datetime | None,
    Query(description="Fit the history up to this time (ISO 8601; UTC unless it says)."),
]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/streams/{name}/twin", responses=ERRORS)
def get_twin(ctx: Ctx, name: StreamName, as_of: AsOf = None) -> dict[str, Any]:
    """The stream's twin fitted to its history: people per step (and by which rule), the
    working calendar, each state's kind, routing and times, arrivals, the items in progress,
    and the load each step is offered."""
    return twin_summary(ctx.workspace.stream_twin(name, _utc(as_of)))


@router.get(
    "/streams/{name}/twin/file",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"application/toml": {}}, "description": "The twin file."},
    },
)
def get_twin_file(ctx: Ctx, name: StreamName, as_of: AsOf = None) -> Response:
    """The twin as the TOML file ``obeya simulate`` and ``obeya what-if`` read."""
    twin = ctx.workspace.stream_twin(name, _utc(as_of))
    return Response(
        twin_toml(twin),
        media_type="application/toml",
        headers={"Content-Disposition": 'attachment; filename="twin.toml"'},
    )


def parse_holdout(
    holdout: str | None, validate_from: date | None
) -> tuple[float | None, datetime | None]:
    """The cut of a check: a share of the items (``20%``, ``20 %`` or ``0.2``) or a date."""
    if (holdout is None) == (validate_from is None):
        raise InputError("give holdout (e.g. 20%) or validate_from (a date), one of them")
    if validate_from is not None:
        return None, datetime.combine(validate_from, time(), UTC)
    assert holdout is not None
    return parse_share(holdout, field="holdout"), None


def run_check(
    ctx: AppContext,
    name: str,
    holdout: str | None,
    validate_from: date | None,
    replications: int,
    cancel: threading.Event | None,
) -> HoldoutCheck:
    """The check as the route and the page run it: within the server's budget."""
    share, split = parse_holdout(holdout, validate_from)
    return ctx.workspace.twin_check(
        name, share=share, split=split, replications=replications, budget=request_budget(cancel)
    )


@router.get("/streams/{name}/twin/holdout", responses=ERRORS)
async def get_twin_holdout(
    ctx: Ctx,
    request: Request,
    name: StreamName,
    holdout: Annotated[
        str | None,
        Query(description="The last share of items to hold out, e.g. 20%.", max_length=12),
    ] = None,
    validate_from: Annotated[date | None, Query(description="Or cut at this date (UTC).")] = None,
    replications: Annotated[int, Query(ge=1, le=MAX_REPLICATIONS)] = 5,
) -> JSONResponse:
    """Fit the twin before the cut, run it over what followed (its own arrivals, and the
    arrivals that came), and compare throughput, lead time p50/p85, mean WIP and the
    distance of lead times with what happened and with the trivial baseline, with a plain
    verdict: the ``holdout`` document of ``obeya calibrate --holdout``."""

    def work(cancel: threading.Event) -> dict[str, Any]:
        return run_check(ctx, name, holdout, validate_from, replications, cancel).to_dict()

    return JSONResponse(await run_cancellable(request, work))


#: The most futures one request may compare with the current state.
MAX_FUTURES = 5


class TwinFuture(BaseModel):
    """A future state of the twin: its name and its changes."""

    name: str = Field(max_length=200)
    changes: list[Annotated[str, Field(max_length=200)]] = Field(
        min_length=1,
        max_length=20,
        description='Changes as the CLI writes them: "Development.people=+1", "arrivals=+10%".',
    )


class TwinWhatIfBody(BaseModel):
    futures: list[TwinFuture] = Field(min_length=1, max_length=MAX_FUTURES)
    days: float | None = Field(default=None, gt=0, le=3650)
    replications: int | None = Field(default=None, ge=1, le=MAX_REPLICATIONS)


def run_twin_what_if(
    ctx: AppContext,
    name: str,
    futures: list[tuple[str, list[str]]],
    days: float | None,
    replications: int | None,
    cancel: threading.Event | None,
    twin: Twin | None = None,
) -> dict[str, Any]:
    """The what-if as the route and the page run it: changes parsed (the error names the
    future), within the server's budget; ``twin``: the stream's, when already fitted."""
    parsed = []
    for i, (label, changes) in enumerate(futures):
        try:
            parsed.append((label, [parse_twin_change(c) for c in changes]))
        except InputError as exc:
            raise TwinError(f"futures[{i}] ({label}): {exc}") from None
    comparison = ctx.workspace.twin_what_if(
        name, parsed, days=days, replications=replications, budget=request_budget(cancel), twin=twin
    )
    return comparison.to_dict()


@router.post("/streams/{name}/twin/what-if", responses=BODY_ERRORS)
async def post_twin_what_if(
    ctx: Ctx, request: Request, name: StreamName, body: TwinWhatIfBody
) -> JSONResponse:
    """The stream's twin against future states of it — one more person at a step, a tenth
    more demand — with the same seeds, paired differences and 95 % CIs: the document of
    ``obeya what-if TWIN.toml --future ... --json``."""
    futures = [(f.name, list(f.changes)) for f in body.futures]

    def work(cancel: threading.Event) -> dict[str, Any]:
        return run_twin_what_if(ctx, name, futures, body.days, body.replications, cancel)

    return JSONResponse(await run_cancellable(request, work))
