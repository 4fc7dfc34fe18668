"""The server-rendered pages: the list of value streams and a stream's flow dashboard.

Pages call the same workspace, report cache and chart builders as the API, and read their
figures from the same report document, so the page and ``/api/.../flow`` never disagree.
Charts are embedded as inline Vega-Lite specs, drawn in the browser by the vendored vega-embed;
nothing is loaded from the internet.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup

from obeya.api.auth import caller, require_on, sees
from obeya.api.deps import AppContext, app_version, context, make_filter
from obeya.api.gate import GuardedRoute
from obeya.api.uploads import column_map, import_upload, parse_workflow
from obeya.core.access import Role
from obeya.core.metrics import FlowFilter, caveats, convention_line
from obeya.errors import ObeyaError
from obeya.render.charts import CHARTS
from obeya.web import filters, view
from obeya.web.forms import form_date

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
filters.register(templates.env)

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
Text = Annotated[str, Form()]

#: Charts in dashboard order; "wide" ones take the full row.
DASHBOARD = (
    ("cumulative-flow", True),
    ("cycle-time-scatter", True),
    ("cycle-time-histogram", False),
    ("throughput", False),
    ("wip", False),
    ("aging-wip", False),
    ("flow-distribution", False),
    ("time-in-state", False),
)
COLUMN_FIELDS = (
    ("item_id", "Item id", "item_id"),
    ("state", "State", "state"),
    ("timestamp", "Timestamp", "timestamp"),
    ("type", "Type", "type"),
    ("team", "Team", "team"),
    ("assignee", "Assignee", "assignee"),
    ("title", "Title", "title"),
    ("created", "Created", "created"),
    ("state_columns", "State columns (wide CSV)", "every other column"),
)


templates.env.globals["version"] = app_version()


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden CSRF field every form that posts carries (the guard checks it)."""
    token = getattr(context["request"].state, "csrf", "")
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


templates.env.globals["csrf_field"] = csrf_field
templates.env.globals["quote"] = lambda s: quote(str(s), safe="")


def _flag(value: str | None) -> bool:
    """A checkbox or query flag, read as the API reads booleans ("true", "1", "on", ...)."""
    return value is not None and value.strip().lower() in ("1", "true", "on", "yes", "y", "t")


def _ranges(page: str, flt: FlowFilter, as_of: str | None) -> list[dict[str, Any]]:
    """Links to the last 4, 13, 26 and 52 weeks of the data, and to the whole history.

    Weeks are counted back from the end of the data (not from today), so an old export still
    shows its own recent past.
    """
    links: list[dict[str, Any]] = []
    if as_of:
        end = date.fromisoformat(as_of[:10])
        for weeks in (4, 13, 26, 52):
            since = end - timedelta(days=7 * weeks - 1)
            ranged = replace(flt, since=since, until=end)
            links.append(
                {
                    "label": f"Last {weeks} weeks",
                    "url": f"{page}?{_query(ranged)}",
                    "current": flt.since == since and flt.until == end,
                }
            )
    whole = replace(flt, since=None, until=None)
    links.append(
        {
            "label": "All history",
            "url": f"{page}?{_query(whole)}" if _query(whole) else page,
            "current": flt.since is None and flt.until is None,
        }
    )
    return links


def _query(flt: FlowFilter, **extra: str) -> str:
    """The query string that reproduces ``flt`` (for the JSON and chart links)."""
    pairs: list[tuple[str, str]] = [("type", t) for t in flt.types]
    if flt.since:
        pairs.append(("since", flt.since.isoformat()))
    if flt.until:
        pairs.append(("until", flt.until.isoformat()))
    if flt.calendar_days:
        pairs.append(("calendar_days", "true"))
    pairs += list(extra.items())
    return urlencode(pairs)


# -- the list of value streams ----------------------------------------------------------------


def _index(
    request: Request,
    ctx: AppContext,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    workspace = ctx.workspace
    rows = []
    for info in workspace.streams():
        if not sees(request, info.name):
            continue
        doc: dict[str, Any] | None = None
        if info.events:
            try:
                doc = workspace.reports.document(info.name, FlowFilter(), detail=False)
            except ObeyaError:
                doc = None  # the list still shows the stream; its page says what is wrong
        rows.append({"info": info, "headline": view.stream_row(doc)})
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "streams": rows,
            "form": form or {},
            "error": error,
            "notice": notice,
            "columns": COLUMN_FIELDS,
        },
        status_code=status,
    )


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request, ctx: Ctx, notice: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    return _index(request, ctx, notice=notice)


@router.post("/import", response_class=HTMLResponse)
def import_page(
    request: Request,
    ctx: Ctx,
    stream: Text,
    file: Annotated[UploadFile, File()],
    file_format: Text = "",
    workflow: Text = "",
    item_id: Text = "",
    state: Text = "",
    timestamp: Text = "",
    type: Text = "",
    team: Text = "",
    assignee: Text = "",
    title: Text = "",
    created: Text = "",
    state_columns: Text = "",
    strict: Text = "",
) -> Response:
    """The import form: on success, go to the stream's dashboard; else show the form again."""
    fields = {
        "item_id": item_id,
        "state": state,
        "timestamp": timestamp,
        "type": type,
        "team": team,
        "assignee": assignee,
        "title": title,
        "created": created,
        "state_columns": state_columns,
    }
    require_on(request, Role.EDITOR, stream.strip())
    try:
        result = import_upload(
            ctx.workspace,
            stream,
            file.file,
            file.filename,
            workflow=parse_workflow(workflow),
            columns=column_map(dict(fields)),
            file_format=file_format or None,
            limit=ctx.limits.upload,
            strict=bool(strict),
        )
    except ObeyaError as exc:
        form = {
            "stream": stream,
            "file_format": file_format,
            "workflow": workflow,
            "strict": bool(strict),
            **fields,
        }
        return _index(request, ctx, form=form, error=str(exc), status=exc.http_status)
    name = result.stream.name
    notice = urlencode({"added": result.events_added, "read": result.events_in_file})
    return RedirectResponse(f"/streams/{quote(name, safe='')}?{notice}", status_code=303)


# -- a stream's dashboard ---------------------------------------------------------------------


@router.get("/streams/{name}", response_class=HTMLResponse)
def dashboard(
    request: Request,
    ctx: Ctx,
    name: str,
    type: Annotated[list[str] | None, Query()] = None,
    since: str | None = None,
    until: str | None = None,
    calendar_days: str | None = None,
    added: int | None = None,
    read: int | None = None,
) -> Response:
    """Headline tiles and charts of one stream, for the filter in the query string."""
    workspace = ctx.workspace
    info = workspace.stream(name)
    flt = make_filter(
        type or [], form_date(since, "since"), form_date(until, "until"), _flag(calendar_days)
    )
    doc = workspace.reports.document(name, flt, detail=True)
    # The type choices and the quick ranges come from the whole history, whatever the filter.
    everything = doc
    if flt != FlowFilter():
        everything = workspace.reports.document(name, FlowFilter(), detail=False)
    charts = [
        {
            "name": key,
            "title": CHARTS[key].title,
            "wide": wide,
            "spec": workspace.reports.chart(name, CHARTS[key], flt),
        }
        for key, wide in DASHBOARD
    ]
    quoted = quote(name, safe="")
    notice = None
    if added is not None and read is not None:
        notice = f"Imported {added:,} new events (of {read:,} in the file)."
    blocked = view.blocked_view(doc)
    if blocked is not None:
        from obeya.render.blocked import BLOCKED_BY_REASON

        blocked["chart"] = workspace.reports.chart(name, BLOCKED_BY_REASON, flt)
        # The map's handoffs: the discovered map of the stream, when there is one.
        maps = [m for m in workspace.maps() if m.stream == name and m.variant == "current"]
        blocked["map_url"] = (
            f"/maps/{quote(maps[0].name, safe='')}/current#waste-heading" if maps else None
        )
    return templates.TemplateResponse(
        request,
        "stream.html",
        {
            "info": info,
            "doc": doc,
            "tiles": view.headline(doc),
            "charts": charts,
            "types": view.types_of(everything),
            "flt": flt,
            "json_url": f"/api/streams/{quoted}/flow?{_query(flt)}",
            "chart_query": _query(flt),
            "page_url": f"/streams/{quoted}",
            "ranges": _ranges(
                f"/streams/{quoted}", flt, (everything.get("aging_wip") or {}).get("as_of")
            ),
            "notice": notice,
            "blocked": blocked,
            "can_edit": caller(request).principal.allows(Role.EDITOR, info.name),
            **_conventions(request, info, doc),
        },
    )


def _conventions(request: Request, info: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's conventions line and its switch to the other finish convention
    (web/workflow_pages.py sets it, for a stream editor)."""
    finish = doc["conventions"]["finish"]
    return {
        "convention": convention_line(doc["conventions"]),
        "caveats": caveats(doc),
        "other_finish": "first" if finish == "last" else "last",
        "can_edit_workflow": caller(request).principal.allows(Role.EDITOR, info.name),
    }


@router.get("/favicon.ico")
def favicon() -> Response:
    """The icon, for what asks /favicon.ico without reading a page's <link rel="icon"> (a
    browser showing an SVG or a JSON download, a bookmark); a 404 there only fills logs."""
    return Response(
        (STATIC / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# -- errors as pages --------------------------------------------------------------------------


def error_page(request: Request, status: int, body: dict[str, Any]) -> Response:
    """The API's error body, shown to a person (see :mod:`obeya.api.errors`); a person not
    signed in is sent to the sign-in page, and back here after."""
    if status == 401 and request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?{urlencode({'next': target})}", status_code=303)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "error": body["error"]}, status_code=status
    )
