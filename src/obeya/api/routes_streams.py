"""The REST API under /api: value streams, their flow report, charts and imports.

Routes are plain ``def``: the workspace blocks (database, analytics), so FastAPI runs them in
its thread pool and the event loop stays free.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response

from obeya.api.auth import sees
from obeya.api.deps import AppContext, app_version, context, encoded_response, flow_filter
from obeya.api.gate import GuardedRoute
from obeya.api.models import (
    BODY_ERRORS,
    ERRORS,
    ErrorResponse,
    FlowDocument,
    Health,
    ImportResponse,
    StreamDetail,
    StreamSummary,
)
from obeya.api.uploads import column_map, import_upload, parse_workflow
from obeya.core.metrics import FlowFilter
from obeya.render.charts import CHARTS, chart_kind

router = APIRouter(prefix="/api", route_class=GuardedRoute)

Ctx = Annotated[AppContext, Depends(context)]
Filter = Annotated[FlowFilter, Depends(flow_filter)]
StreamName = Annotated[str, Path(description="The value stream's name.")]
Column = Annotated[str | None, Form(description="Column (XES key) holding this field.")]


@router.get("/health", response_model=Health, tags=["service"])
def health(ctx: Ctx) -> Health:
    """Liveness and the app store's backend; fails (500) when the database is unreachable."""
    _, dialect = ctx.workspace.health()
    return Health(status="ok", version=app_version(), database=dialect)


@router.get("/streams", response_model=list[StreamSummary], tags=["streams"])
def list_streams(ctx: Ctx, request: Request) -> list[StreamSummary]:
    """The value streams the caller may see, by name."""
    return [StreamSummary.of(i) for i in ctx.workspace.streams() if sees(request, i.name)]


@router.get("/streams/{name}", response_model=StreamDetail, responses=ERRORS, tags=["streams"])
def get_stream(ctx: Ctx, name: StreamName) -> StreamDetail:
    """One value stream, with its workflow as TOML."""
    return StreamDetail.of(ctx.workspace.stream(name))


@router.get("/streams/{name}/flow", response_model=FlowDocument, responses=ERRORS, tags=["flow"])
def get_flow(
    ctx: Ctx,
    request: Request,
    name: StreamName,
    flt: Filter,
    detail: Annotated[
        bool, Query(description="Add per-item lists: scatter points and aging items.")
    ] = False,
) -> Response:
    """The flow report: the same document as ``obeya metrics --stream NAME --json``."""
    encoded = ctx.workspace.reports.encoded_document(name, flt, detail=detail)
    return encoded_response(encoded, request)


@router.get("/charts", tags=["charts"])
def list_charts() -> list[dict[str, str]]:
    """The charts ``/api/streams/{name}/charts/{chart}`` can draw."""
    return [{"name": kind.name, "title": kind.title} for kind in CHARTS.values()]


@router.get(
    "/streams/{name}/charts/{chart}",
    response_model=dict[str, Any],
    responses=ERRORS,
    tags=["charts"],
)
def get_chart(
    ctx: Ctx,
    request: Request,
    name: StreamName,
    chart: Annotated[str, Path(description=f"One of: {', '.join(CHARTS)}.")],
    flt: Filter,
) -> Response:
    """A chart of the flow report as a Vega-Lite spec (render it with vega-embed)."""
    encoded = ctx.workspace.reports.encoded_chart(name, chart_kind(chart), flt)
    return encoded_response(encoded, request)


@router.post(
    "/streams/{name}/import",
    response_model=ImportResponse,
    responses={
        **BODY_ERRORS,
        413: {"model": ErrorResponse, "description": "The file is over the upload limit."},
    },
    tags=["streams"],
)
def import_into_stream(
    ctx: Ctx,
    name: StreamName,
    file: Annotated[UploadFile, File(description="CSV, XES or Jira JSON; may be gzipped.")],
    workflow: Annotated[
        str | None, Form(description="Workflow TOML; becomes the stream's workflow.")
    ] = None,
    format: Annotated[
        str | None, Form(description="csv, wide, xes or jira (default: from the content).")
    ] = None,
    item_column: Column = None,
    state_column: Column = None,
    timestamp_column: Column = None,
    type_column: Column = None,
    team_column: Column = None,
    assignee_column: Column = None,
    title_column: Column = None,
    created_column: Column = None,
    state_columns: Annotated[
        str | None,
        Form(
            description="A wide file's state columns in flow order (a,b=B,c: b read as state "
            "B); default: every column but the item id and the fields.",
            max_length=4000,
        ),
    ] = None,
    strict: Annotated[
        bool,
        Form(description="Refuse a file whose events go backwards in time (else kept, flagged)."),
    ] = False,
) -> ImportResponse:
    """Append a file's events to a stream (created if new), all or nothing.

    Events already stored are skipped, so uploading the same file twice adds nothing.
    """
    columns = column_map(
        {
            "item_id": item_column,
            "state": state_column,
            "timestamp": timestamp_column,
            "type": type_column,
            "team": team_column,
            "assignee": assignee_column,
            "title": title_column,
            "created": created_column,
            "state_columns": state_columns,
        }
    )
    result = import_upload(
        ctx.workspace,
        name,
        file.file,
        file.filename,
        workflow=parse_workflow(workflow),
        columns=columns,
        file_format=format,
        limit=ctx.limits.upload,
        strict=strict,
    )
    return ImportResponse.of(result)
