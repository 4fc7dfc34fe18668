"""The REST API of steering (docs/steering.md): records of every kind (risks, objectives,
improvements, kaizen events, teams, people, stream profiles) saved in versions, and the views
built on them — the ROAM board, objectives with live key results, the roadmap, skill coverage
and the stream at a glance. The documents are those of the CLI's ``--json``.

A save names the version it was made on (``expected_version``, 0 for a new record); when the
record moved on since, the answer is 409 and nothing is saved.

Keys are unique per stream: ``/api/records/{kind}/{key}?stream=NAME`` names the record of that
stream; without ``stream``, the one stream holding the key (or the record of no stream: teams,
people, stream profiles). ``POST /api/records/{kind}`` adds a record under the next key of its
kind in its stream (R-1, R-2…).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from obeya.api.auth import API_AUTHOR, require_on, require_save, sees
from obeya.api.deps import AppContext, check_day, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import (
    BODY_ERRORS,
    ERRORS,
    MAX_VERSION,
    AnyDocument,
    ErrorResponse,
    StreamMove,
    stream_query,
)
from obeya.core.access import Role
from obeya.core.steering.kinds import KINDS
from obeya.errors import ForbiddenError, InputError
from obeya.settings import setting
from obeya.store.records import RecordVersion, StoredRecord

router = APIRouter(prefix="/api", tags=["steering"], route_class=GuardedRoute)

Ctx = Annotated[AppContext, Depends(context)]
Kind = Annotated[str, Path(description=f"The record kind: {', '.join(KINDS)}.")]
Key = Annotated[str, Path(description="The record's key, e.g. R-7.")]
StreamName = Annotated[str, Path(description="The value stream's name.")]
OfStream = Annotated[
    str | None,
    stream_query(
        "The record's value stream: keys are unique per stream, so it is needed when several "
        "streams have the key."
    ),
]
Today = Annotated[
    date | None,
    Query(description="Judge due dates and progress as of this day (default: today)."),
]
STALE = "The record changed since expected_version (nothing was saved)."
#: A drawing is SVG (default) or PNG, not JSON.
DRAWING_TYPES: dict[str, Any] = {"image/svg+xml": {}, "image/png": {}}


class RecordSaveBody(BaseModel):
    """A record to save as its next version."""

    document: AnyDocument = Field(
        description="The record (the fields of its TOML table; of a declared kind, the "
        "<Kind>Document schema); its key is the path's."
    )
    stream: str | None = Field(
        default=None, description="The value stream of a risk, objective, improvement or event."
    )
    expected_version: int | None = Field(
        default=None,
        description="The version the change was made on (0: a new record); 409 if it moved on.",
    )
    message: str = Field(default="", description="Why it changed.")


class RecordAddBody(BaseModel):
    """A record to add under the next key of its kind in its stream (R-1, R-2…)."""

    document: AnyDocument = Field(
        description="The record (the fields of its TOML table; of a declared kind, the "
        "<Kind>Document schema)."
    )
    stream: str | None = Field(default=None, description="The value stream it belongs to.")
    message: str = Field(default="", description="Why it was added.")


class VersionOut(BaseModel):
    kind: str
    key: str
    stream: str | None = None
    version: int
    author: str
    message: str
    created_at: str
    changes: list[str]

    @classmethod
    def of(cls, v: RecordVersion) -> VersionOut:
        return cls(**v.to_dict())


class RecordOut(BaseModel):
    kind: str
    key: str
    stream: str | None
    document: AnyDocument = Field(
        description="The record: a risk's is a RiskDocument, an objective's an "
        "ObjectiveDocument... (a plan or an experiment: the tables of its file)."
    )
    version: VersionOut

    @classmethod
    def of(cls, r: StoredRecord) -> RecordOut:
        return cls(
            kind=r.kind,
            key=r.key,
            stream=r.stream,
            document=r.document,
            version=VersionOut.of(r.version),
        )


class HistoryOut(BaseModel):
    version: VersionOut
    document: AnyDocument = Field(description="The record as that version saved it.")


@router.get("/records/{kind}", response_model=list[RecordOut], responses=ERRORS)
def list_records(
    ctx: Ctx,
    request: Request,
    kind: Kind,
    stream: Annotated[str | None, stream_query("Only this stream's.")] = None,
) -> list[RecordOut]:
    """The records of a kind (newest versions), by key."""
    return [
        RecordOut.of(r)
        for r in ctx.workspace.steering.records(kind, stream)
        if sees(request, r.stream)
    ]


def _of(request: Request, stream: str | None) -> str | None:
    """The stream of the record a call names: the query's, else the one stream the access
    check found the key in (so the route reads what was checked), else none: the records of
    no stream (teams, people), so a key of several streams is a miss that names none."""
    if stream:
        return stream
    if getattr(request.state, "scope_found", False):
        found: str | None = request.state.scope_stream
        return found
    return None


def _said(document: dict[str, Any], stream: str | None) -> str | None:
    """The stream a body names: a stream in the document wins over the body's."""
    named = document.get("stream")
    return named.strip() if isinstance(named, str) and named.strip() else stream


@router.post(
    "/records/{kind}",
    status_code=201,
    response_model=VersionOut,
    responses={**BODY_ERRORS, 409: {"model": ErrorResponse, "description": STALE}},
)
def add_record(ctx: Ctx, request: Request, kind: Kind, body: RecordAddBody) -> VersionOut:
    """Add a record under the next key of its kind in its stream (``R-`` risks, ``O-``
    objectives, ``I-`` improvements, ``K-`` kaizen events, ``P-`` plans, ``E-``
    experiments): 1 + the highest number used there. A key in the document is kept (409 if
    taken). Needs the editor role on the stream."""
    stream = _said(body.document, body.stream)
    require_on(request, Role.EDITOR, stream)
    saved = ctx.workspace.steering.save_record(
        kind,
        {k: v for k, v in body.document.items() if k != "stream"},
        author=API_AUTHOR,
        message=body.message or "added",
        stream=stream,
        expected_version=0,
    )
    return VersionOut.of(saved)


@router.get("/records/{kind}/{key}", response_model=RecordOut, responses=ERRORS)
def get_record(
    ctx: Ctx,
    request: Request,
    kind: Kind,
    key: Key,
    stream: OfStream = None,
    version: Annotated[
        int | None, Query(description="An older version.", ge=1, le=MAX_VERSION)
    ] = None,
) -> RecordOut:
    """One record, its newest version (or ``version``)."""
    return RecordOut.of(
        ctx.workspace.steering.record(kind, key, version, stream=_of(request, stream))
    )


@router.put(
    "/records/{kind}/{key}",
    response_model=VersionOut,
    responses={**BODY_ERRORS, 409: {"model": ErrorResponse, "description": STALE}},
)
def save_record(
    ctx: Ctx, request: Request, kind: Kind, key: Key, body: RecordSaveBody, stream: OfStream = None
) -> VersionOut:
    """Check the record and save it as its next version; errors name the field. The record
    is that of ``?stream=``, else of the stream the body names, else of the one stream
    holding the key. A body naming another stream than the record's is refused: saves never
    move a record (``…/move`` does); to save the same key in another stream, name it in
    ``?stream=``."""
    said = _said(body.document, body.stream)
    if stream and said and said != stream:
        raise InputError(
            f"the query names value stream {stream!r} and the body {said!r}; name one",
            field="stream",
            value=said,
        )
    found = getattr(request.state, "scope_found", False)
    held: str | None = request.state.scope_stream if found else None
    if not stream and found and said and said != held:
        raise ForbiddenError(
            f"{kind} {key!r} is not in the value stream this save names: a save never moves "
            f"a record. To save a {kind} {key!r} of that stream, name it in the query "
            "(?stream=NAME); to move this one, ask an admin of both streams"
        )
    target = stream or said or held
    require_save(request, target)
    saved = ctx.workspace.steering.save_record(
        kind,
        {**{k: v for k, v in body.document.items() if k != "stream"}, "key": key},
        author=API_AUTHOR,
        message=body.message,
        stream=target,
        expected_version=body.expected_version,
    )
    return VersionOut.of(saved)


@router.get("/records/{kind}/{key}/history", response_model=list[HistoryOut], responses=ERRORS)
def record_history(
    ctx: Ctx, request: Request, kind: Kind, key: Key, stream: OfStream = None
) -> list[HistoryOut]:
    """Every version, oldest first: who, when, why, what changed, and the document."""
    return [
        HistoryOut(version=VersionOut.of(v), document=doc)
        for v, doc in ctx.workspace.steering.record_history(kind, key, stream=_of(request, stream))
    ]


@router.delete("/records/{kind}/{key}", status_code=204, responses=ERRORS)
def delete_record(
    ctx: Ctx, request: Request, kind: Kind, key: Key, stream: OfStream = None
) -> None:
    """Delete the record and its history."""
    ctx.workspace.steering.delete_record(kind, key, stream=_of(request, stream))


@router.post("/records/{kind}/{key}/move", status_code=204, responses=BODY_ERRORS)
def move_record(
    ctx: Ctx, request: Request, kind: Kind, key: Key, body: StreamMove, stream: OfStream = None
) -> None:
    """Move the record to another value stream: an admin's act, on the stream it leaves and
    the one it joins. Saves never move a record."""
    require_on(request, Role.ADMIN, body.stream)
    ctx.workspace.steering.move_record(kind, key, body.stream, stream=_of(request, stream))


@router.get("/streams/{name}/risks", responses=ERRORS)
def risk_board(ctx: Ctx, name: StreamName, today: Today = None) -> dict[str, Any]:
    """The ROAM board (``obeya risk board --json``): risks by state, highest exposure first;
    overdue and unowned flagged."""
    return ctx.workspace.steering.risk_board(name, today)


@router.get("/streams/{name}/objectives", responses=ERRORS)
def objectives(ctx: Ctx, name: StreamName, today: Today = None) -> dict[str, Any]:
    """Objectives with each key result's value now (``obeya objective list --json``)."""
    return ctx.workspace.steering.objectives(name, today)


@router.get("/streams/{name}/roadmap", responses=ERRORS)
def roadmap(ctx: Ctx, name: StreamName) -> list[dict[str, Any]]:
    """The improvement roadmap, quick wins first, then by WSJF (``obeya roadmap --json``)."""
    return ctx.workspace.steering.roadmap(name)


@router.get("/streams/{name}/overview", responses=ERRORS)
def overview(ctx: Ctx, name: StreamName, today: Today = None) -> dict[str, Any]:
    """The value stream at a glance (``obeya overview --json``)."""
    return ctx.workspace.steering.overview(name, today)


@router.get("/streams/{name}/plans/{key}", responses=ERRORS)
def plan(ctx: Ctx, name: StreamName, key: Key) -> dict[str, Any]:
    """A saved dependency plan: critical path, slack, need-by misses and the tasks at risk
    by their team's Monte Carlo forecast on the stream's history."""
    return ctx.workspace.steering.plan(name, key)


@router.get("/streams/{name}/experiments/{key}", responses=ERRORS)
def experiment(ctx: Ctx, name: StreamName, key: Key) -> dict[str, Any]:
    """A saved experiment evaluated on the stream's data now (the document of
    ``obeya experiment evaluate --json`` under ``result``)."""
    return ctx.workspace.steering.experiment(name, key)


@router.get(
    "/streams/{name}/plans/{key}/drawing",
    responses={**ERRORS, 200: {"content": DRAWING_TYPES, "description": "The drawing."}},
    response_class=Response,
)
def plan_drawing(
    ctx: Ctx,
    name: StreamName,
    key: Key,
    format: Annotated[str, Query(description="svg or png.", pattern="^(svg|png)$")] = "svg",
) -> Response:
    """The saved plan's dependency graph, the critical path in red."""
    from obeya.core.steering.dependencies import schedule
    from obeya.core.steering.saved import plan_record_from_dict
    from obeya.render.dependency_svg import dependency_svg

    record = plan_record_from_dict(ctx.workspace.steering.stream_record("plan", key, name).document)
    return _drawing(dependency_svg(schedule(record.plan)), format)


@router.post("/deps/critical-path", responses=BODY_ERRORS)
def critical_path(
    plan: Annotated[
        dict[str, Any],
        Body(description="A plan: `start` (date) and `task` tables as in a plan file."),
    ],
) -> dict[str, Any]:
    """The critical path of a plan sent as JSON (``obeya deps critical-path --json``). At
    most 5,000 tasks (``OBEYA_MAX_PLAN_TASKS``), 50,000 dependencies and 200 teams."""
    from obeya.core.steering import dependencies as deps
    from obeya.core.steering.saved import plan_record_from_dict

    tasks = plan.get("task")
    cap = setting("OBEYA_MAX_PLAN_TASKS")
    if isinstance(tasks, list) and len(tasks) > cap:  # before parsing them one by one
        raise deps.PlanError(
            f"plan: field 'task': {len(tasks):,} tasks; the server schedules at most {cap:,} "
            "(use `obeya deps critical-path` for larger plans)"
        )
    parsed = plan_record_from_dict({**plan, "key": "plan"}, "plan").plan
    deps.check_plan_size(parsed, max_tasks=cap)
    return deps.schedule(parsed).to_dict()


@router.post("/families/cluster", responses=BODY_ERRORS)
def families(
    file: Annotated[UploadFile, File(description="products.csv: product,steps,technologies,…")],
    threshold: Annotated[float, Query(description="Distance cut, 0..1.")] = 0.5,
    weights: Annotated[
        str | None, Query(description="e.g. steps=0.4,technologies=0.2 (normalised).")
    ] = None,
) -> dict[str, Any]:
    """Product families of an uploaded catalogue (``obeya families cluster --json``). At most
    1,000 products (``OBEYA_MAX_FAMILY_PRODUCTS``) and 1,000 distinct steps. A plain ``def``:
    FastAPI runs it in its thread pool, so clustering never holds the event loop."""
    from obeya.core.steering import families as fam
    from obeya.errors import InputError

    raw = file.file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{file.filename}: not UTF-8 text") from None
    products = fam.parse_products(text, source=file.filename or "products.csv")
    fam.check_catalogue_size(
        products,
        where=f"file: {file.filename or 'products.csv'}",
        max_products=setting("OBEYA_MAX_FAMILY_PRODUCTS"),
    )
    chosen = fam.parse_weights(weights) if weights is not None else None
    return fam.cluster_products(products, threshold=threshold, weights=chosen).to_dict()


@router.get("/streams/{name}/experiment", responses=ERRORS)
def evaluate_experiment(
    ctx: Ctx,
    name: StreamName,
    baseline: Annotated[str, Query(description="YYYY-MM-DD..YYYY-MM-DD, both inclusive.")],
    trial: Annotated[str, Query(description="YYYY-MM-DD..YYYY-MM-DD, both inclusive.")],
    metric: Annotated[str, Query(description="cycle_time, lead_time or flow_efficiency.")] = (
        "cycle_time"
    ),
    guard: Annotated[str | None, Query(description="A guard metric.")] = None,
) -> dict[str, Any]:
    """An experiment on the stream's data (``obeya experiment evaluate --stream --json``)."""
    from obeya.core.metrics import FlowFilter
    from obeya.core.steering.experiments import parse_window, run_experiment

    base, test = parse_window(baseline, "baseline"), parse_window(trial, "trial")
    for where, window in (("baseline", base), ("trial", test)):
        check_day(where, window.start)
        check_day(where, window.end)
    flt = FlowFilter(since=min(base.start, test.start), until=max(base.end, test.end))
    rows = ctx.workspace.flow(name, flt, detail=True).scatter
    return run_experiment(rows, base, test, target=metric, guard=guard).to_dict()


def _drawing(svg: str, format: str) -> Response:
    if format == "png":
        from obeya.render.raster import svg_to_png

        return Response(svg_to_png(svg), media_type="image/png")
    return Response(svg, media_type="image/svg+xml")


@router.get("/teams/coverage", responses=ERRORS)
def coverage(ctx: Ctx) -> dict[str, Any]:
    """Skills per stream, the skills it lacks, people split across streams."""
    return ctx.workspace.steering.coverage()
