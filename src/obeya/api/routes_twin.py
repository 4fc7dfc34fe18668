"""A stream's twin: its summary, its file and its hold-out check (docs/simulation.md, "The
twin"), the documents of ``obeya calibrate --stream NAME [--holdout 20%] --json``.

Fitting reads the stream's events (bounded by what an import accepts); the runs of a check
are bounded by the server's simulation budget (``OBEYA_MAX_SIM_EVENTS``) and stop when the
client leaves, like every simulation route."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS
from obeya.api.running import run_cancellable
from obeya.core.twin.files import twin_toml
from obeya.core.twin.summary import twin_summary
from obeya.workspace_simulation import MAX_TWIN_FUTURES, MAX_TWIN_REPLICATIONS

router = APIRouter(prefix="/api", tags=["twin"], route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
StreamName = Annotated[str, Path(description="The value stream's name.")]
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
    replications: Annotated[int, Query(ge=1, le=MAX_TWIN_REPLICATIONS)] = 5,
) -> JSONResponse:
    """Fit the twin before the cut, run it over what followed (its own arrivals, and the
    arrivals that came), and compare throughput, lead time p50/p85, mean WIP and the
    distance of lead times with what happened and with the trivial baseline, with a plain
    verdict: the ``holdout`` document of ``obeya calibrate --holdout``."""

    def work(cancel: threading.Event) -> dict[str, Any]:
        check = ctx.workspace.simulations.twin_check(
            name, holdout, validate_from, replications, cancel
        )
        return check.to_dict()

    return JSONResponse(await run_cancellable(request, work))


class TwinFuture(BaseModel):
    """A future state of the twin: its name and its changes."""

    name: str = Field(max_length=200)
    changes: list[Annotated[str, Field(max_length=200)]] = Field(
        min_length=1,
        max_length=20,
        description='Changes as the CLI writes them: "Development.people=+1", "arrivals=+10%".',
    )


class TwinWhatIfBody(BaseModel):
    futures: list[TwinFuture] = Field(min_length=1, max_length=MAX_TWIN_FUTURES)
    days: float | None = Field(default=None, gt=0, le=3650)
    replications: int | None = Field(default=None, ge=1, le=MAX_TWIN_REPLICATIONS)


@router.post("/streams/{name}/twin/what-if", responses=BODY_ERRORS)
async def post_twin_what_if(
    ctx: Ctx, request: Request, name: StreamName, body: TwinWhatIfBody
) -> JSONResponse:
    """The stream's twin against future states of it — one more person at a step, a tenth
    more demand — with the same seeds, paired differences and 95 % CIs: the document of
    ``obeya what-if TWIN.toml --future ... --json``."""
    futures = [(f.name, list(f.changes)) for f in body.futures]

    def work(cancel: threading.Event) -> dict[str, Any]:
        return ctx.workspace.simulations.twin_what_if(
            name, futures, body.days, body.replications, cancel
        )

    return JSONResponse(await run_cancellable(request, work))
