"""Delivery beside flow: a stream's DORA metrics and its delivery records, and the live
connectors that fill streams from trackers (docs/conventions.md, "Delivery metrics";
docs/connectors.md).

A connector's token never passes through the API: it names the environment variable of the
server that holds it (``secret_env``). Listing connectors shows only those of streams the
caller sees; adding one needs the admin role on the workspace (it sends a server variable
to the URL it names; the variable must begin with ``OBEYA_TOKEN_``), syncing one the editor
role on its stream, removing one the admin role there.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from obeya.api.auth import require_on, sees
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import BODY_ERRORS, ERRORS
from obeya.api.uploads import spooled
from obeya.core.access import Role

router = APIRouter(prefix="/api", tags=["delivery"], route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
StreamName = Annotated[str, Path(description="The value stream's name.")]
ConnectorName = Annotated[str, Path(description="The connector's name.")]


@router.get("/streams/{name}/dora", responses=ERRORS)
def get_dora(
    ctx: Ctx,
    name: StreamName,
    since: Annotated[date | None, Query(description="Window start (UTC day).")] = None,
    until: Annotated[date | None, Query(description="Window end (UTC day), inclusive.")] = None,
) -> dict[str, Any]:
    """The stream's delivery metrics: the document of ``obeya dora --stream NAME --json``."""
    return ctx.workspace.delivery.dora(name, since=since, until=until).to_dict()


@router.post("/streams/{name}/delivery/{kind}", responses=BODY_ERRORS)
def import_delivery(
    ctx: Ctx,
    name: StreamName,
    kind: Annotated[
        Literal["deployments", "changes", "incidents"], Path(description="What the CSV holds.")
    ],
    file: Annotated[UploadFile, File(description="The CSV (docs/conventions.md).")],
) -> dict[str, Any]:
    """Add and update the stream's deployments, changes or incidents from a CSV, all or
    nothing; the same file again changes nothing."""
    with spooled(file.file, file.filename, ctx.limits.upload) as path:
        counts = ctx.workspace.delivery.import_file(kind, path, name)
    return {"kind": kind, **counts.to_dict()}


class ConnectorBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["jira", "github", "gitlab"]
    stream: str = Field(min_length=1, max_length=200)
    settings: dict[str, Any] = Field(
        description="jira: url, jql, email (Cloud); github: repo, state_labels; gitlab: url, "
        "project, scoped_label_prefix"
    )
    secret_env: str = Field(
        min_length=1,
        max_length=100,
        description="The server's environment variable holding the token (OBEYA_TOKEN_…).",
    )


@router.get("/connectors", responses=ERRORS)
def list_connectors(ctx: Ctx, request: Request) -> list[dict[str, Any]]:
    """The connectors of the streams the caller sees, with their last sync."""
    return [c.to_dict() for c in ctx.workspace.connectors.list() if sees(request, c.stream)]


@router.post("/connectors", responses=BODY_ERRORS, status_code=201)
def add_connector(ctx: Ctx, request: Request, body: ConnectorBody) -> dict[str, Any]:
    """Add a connector (a workspace admin: a connector binds a server variable to a URL, so
    only those who run the workspace may; the variable must begin with OBEYA_TOKEN_)."""
    require_on(request, Role.ADMIN, None)
    info = ctx.workspace.connectors.add(
        body.name, body.kind, body.stream, body.settings, secret_env=body.secret_env
    )
    return info.to_dict()


@router.post("/connectors/{connector}/sync", responses=ERRORS)
def sync_connector(ctx: Ctx, connector: ConnectorName) -> dict[str, Any]:
    """Pull what changed since the last sync and store it, all or nothing."""
    ctx.workspace.connectors.sync(connector)
    return ctx.workspace.connectors.get(connector).to_dict()


@router.delete("/connectors/{connector}", responses=ERRORS, status_code=204)
def delete_connector(ctx: Ctx, connector: ConnectorName) -> None:
    """Forget the connector; its stream and what it synced stay."""
    ctx.workspace.connectors.remove(connector)
