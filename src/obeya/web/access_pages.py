"""Who may do what, and who did what: the admin's page of a stream (or of the workspace).

It lists the users with a role there, gives and takes roles, and shows the audit log — the same
as ``obeya user …``, ``obeya audit`` and ``/api/users``, ``/api/audit``. Only admins of the
stream (or of the workspace, for the workspace's page) may open it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.auth import caller, require
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import stream_query
from obeya.core.access import Role
from obeya.errors import ObeyaError
from obeya.store.versioning import changed_fields, flatten
from obeya.web.pages import templates

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
#: Audit entries the page shows (the API and the CLI give more).
SHOWN = 100


def _stream(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


def _changes(before: Any, after: Any) -> list[str]:
    """The fields an audit entry changed (every field of a document made or deleted)."""
    old = flatten(before) if isinstance(before, dict) else {}
    new = flatten(after) if isinstance(after, dict) else {}
    return list(changed_fields(old, new))


def _page(
    request: Request,
    ctx: AppContext,
    stream: str | None,
    *,
    notice: str = "",
    error: str = "",
    stream_error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    me = caller(request)
    require(me, Role.ADMIN, stream)
    access = ctx.workspace.access
    if stream is not None:
        ctx.workspace.stream(stream)  # 404 for a stream that is not there
    users = [
        {"name": u.name, "role": role.label, "password": u.password_hash is not None}
        for u in access.users()
        if (role := _role_here(u.grants, stream)) is not None
    ]
    entries = [
        {**e.to_dict(), "changes": _changes(e.before, e.after)}
        for e in access.audit_log(stream=stream, limit=SHOWN)
    ]
    places = [None, *(s.name for s in ctx.workspace.streams())]
    return templates.TemplateResponse(
        request,
        "access.html",
        {
            "stream": stream,
            "places": [p for p in places if me.principal.allows(Role.ADMIN, p)],
            "users": users,
            "entries": entries,
            "roles": [r.label for r in Role],
            "notice": notice,
            "error": error,
            "stream_error": stream_error,
            "values": values or {},
        },
        status_code=status,
    )


def _role_here(grants: Any, stream: str | None) -> Role | None:
    """The role granted exactly here (a workspace role shows on the workspace's page)."""
    return next((g.role for g in grants if g.stream == stream), None)


def _back(stream: str | None, notice: str) -> Response:
    query = {"notice": notice, **({"stream": stream} if stream else {})}
    return RedirectResponse(f"/access?{urlencode(query)}", status_code=303)


@router.get("/access", response_class=HTMLResponse)
def access_page(
    request: Request,
    ctx: Ctx,
    stream: Annotated[str | None, stream_query("The stream's page; none: the workspace's.")] = None,
    notice: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    where = _stream(stream)
    administers = caller(request).principal.administers
    if where is None and None not in administers and administers:
        where = administers[0]  # a stream's admin lands on their stream's page
    return _page(request, ctx, where, notice=notice)


@router.post("/access/roles", response_class=HTMLResponse)
def give_role(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    stream: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Give a role here, creating the user (with the password, if given) when new."""
    where = _stream(stream)
    require(caller(request), Role.ADMIN, where)
    try:
        ctx.workspace.access.add_user(
            name.strip(),
            Role.parse(role),
            where,
            password or None,
            may_reset_password=caller(request).principal.allows(Role.ADMIN, None),
        )
    except ObeyaError as error:
        values = {"name": name, "role": role}
        return _page(request, ctx, where, error=str(error), values=values, status=error.http_status)
    return _back(where, f"{name.strip()} is now {role} here")


@router.post("/access/roles/remove", response_class=HTMLResponse)
def take_role(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form()],
    stream: Annotated[str, Form()] = "",
) -> Response:
    where = _stream(stream)
    require(caller(request), Role.ADMIN, where)
    ctx.workspace.access.revoke(name, where)
    return _back(where, f"{name} has no role here any more")


@router.post("/streams/{name}/rename", response_class=HTMLResponse)
def rename_stream(
    request: Request, ctx: Ctx, name: str, new_name: Annotated[str, Form(max_length=200)]
) -> Response:
    """Rename the stream (its admins; the policy checked the role before the form was read).
    Roles, maps, records and the audit log follow it."""
    try:
        info = ctx.workspace.rename_stream(name, new_name)
    except ObeyaError as error:
        values = {"new_name": new_name}
        return _page(
            request, ctx, name, stream_error=str(error), values=values, status=error.http_status
        )
    return _back(info.name, f"{name} is now called {info.name}")


@router.post("/streams/{name}/delete", response_class=HTMLResponse)
def delete_stream(
    request: Request, ctx: Ctx, name: str, confirm: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Delete the stream once its name is typed again (its admins)."""
    if confirm.strip() != name:
        return _page(
            request,
            ctx,
            name,
            stream_error="type the stream's name exactly to confirm; nothing was deleted",
            status=422,
        )
    ctx.workspace.delete_stream(name)
    return RedirectResponse(
        f"/?{urlencode({'notice': f'Value stream {name} deleted.'})}", status_code=303
    )
