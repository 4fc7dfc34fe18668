"""Delivery beside flow, as pages: a stream's DORA metrics (``/streams/{name}/delivery``) with
the form that imports deployments, changes and incidents, and the live connectors
(``/connectors``) with their last sync, a "Sync now" and the form that adds one.

The DORA page shows the figures of the document ``GET /api/streams/{name}/dora`` returns
(``DoraReport.to_dict()``, from :meth:`~obeya.workspace.Workspace.dora`), rounded for reading,
so the page, the API and ``obeya dora --stream NAME --json`` agree. Its window form is a plain
GET: a report is a link that can be shared.

A connector's token never passes through these pages: a connector names the environment
variable of the server that holds it, and the add form refuses anything that does not look
like a variable's name, without echoing it (a token pasted there by mistake is neither stored
nor shown). A failed sync shows the :class:`~obeya.errors.ConnectorError`'s message, which
never holds a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.auth import caller, require_on
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.uploads import spooled
from obeya.core.access import Role
from obeya.errors import InputError, ObeyaError
from obeya.render.delivery import lead_time_unit, weekly_trend
from obeya.render.numbers import DASH, count, duration_hours, number, timestamp
from obeya.store.connectors import KINDS, ConnectorInfo
from obeya.web.forms import form_date
from obeya.web.pages import templates
from obeya.workspace_delivery import DELIVERY_KINDS

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]
Text = Annotated[str, Form()]

#: The columns each delivery CSV needs (docs/conventions.md; obeya.ingest.delivery).
KIND_COLUMNS = {
    "deployments": "deployment_id, environment, finished_at, result",
    "changes": "change_id, committed_at, deployment_id",
    "incidents": "incident_id, created_at, resolved_at, and optionally deployment_id",
}
TRACKERS = {"jira": "Jira", "github": "GitHub", "gitlab": "GitLab"}
#: What a connector's token variable must look like: the conventional name of an environment
#: variable. Stricter than the store's rule on purpose: a token pasted here by mistake (they
#: hold lower-case letters or dashes) is refused instead of stored and shown as a name.
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,99}")
CONNECTOR_FIELDS = (
    "kind",
    "name",
    "stream",
    "token_env",
    "jira_url",
    "jql",
    "email",
    "repo",
    "state_labels",
    "gitlab_url",
    "project",
    "scoped_label_prefix",
)


# -- what the DORA page shows -----------------------------------------------------------------


@dataclass(frozen=True)
class DoraTile:
    """One DORA figure as the page shows it: the headline value and unit, the figure's other
    numbers, its definition in a line and its DORA band (None: no data to classify)."""

    key: str
    label: str
    value: str
    unit: str
    detail: str
    definition: str
    band: str | None
    raw: float | None


def duration(hours: float | None) -> tuple[str, str]:
    """Hours as (number, unit): hours to one decimal below 48 h, else days (as the CLI)."""
    if hours is None:
        return DASH, ""
    unit, per_unit = lead_time_unit([abs(hours)])
    return number(hours / per_unit, 1), unit


def dora_tiles(doc: Mapping[str, Any]) -> list[DoraTile]:
    """The four figures of a report document, in the order DORA lists them."""
    frequency = doc["deployment_frequency"]
    lead = doc["lead_time_for_changes_hours"]
    recovery = doc["recovery_time_hours"]
    bands = doc["bands"]
    deployments = int(frequency["deployments"])
    days = int(frequency["days_with_deployments"])
    lead_value, lead_unit = duration(lead["p50"])
    if lead["p50"] is None:
        lead_detail = "no change shipped by a counted deployment in the window"
    else:
        lead_detail = f"p85 {duration_hours(lead['p85'])} · {count(lead['changes'], 'change')}"
    rate = doc["change_failure_rate"]
    if rate is not None:
        failure_detail = (
            f"{count(doc['failed_deployments'])} failed of {count(deployments, 'deployment')}"
        )
    elif deployments == 0:
        failure_detail = "no counted deployment in the window"
    else:
        failure_detail = "no incidents given: nothing says which deployments failed"
    recovery_value, recovery_unit = duration(recovery["p50"])
    resolved, unresolved = count(recovery["incidents"]), count(recovery["unresolved"])
    resolved = f"{resolved} resolved, {unresolved} unresolved"
    recovery_detail = resolved
    if recovery["p50"] is not None:
        recovery_detail = f"p85 {duration_hours(recovery['p85'])} · {resolved}"
    return [
        DoraTile(
            "deployment_frequency",
            "Deployment frequency",
            number(frequency["days_per_week"], 2),
            "deployment days a week",
            f"{number(frequency['per_day'], 2)} deployments a day · "
            f"{count(deployments, 'deployment')} on {count(days, 'day')}",
            "Days with a successful production deployment, per week of the window.",
            bands["deployment_frequency"],
            frequency["days_per_week"],
        ),
        DoraTile(
            "lead_time_for_changes",
            "Lead time for changes",
            lead_value,
            f"{lead_unit}, p50" if lead_unit else "",
            lead_detail,
            "From commit to the production deployment that shipped it: median and p85.",
            bands["lead_time_for_changes"],
            lead["p50"],
        ),
        DoraTile(
            "change_failure_rate",
            "Change failure rate",
            # share(rate, 1) split into figure and unit, as the CLI prints it: "33.3 %".
            DASH if rate is None else number(rate * 100, 1, trim=True),
            "" if rate is None else "%",
            failure_detail,
            "Counted deployments that caused at least one incident, out of all counted.",
            bands["change_failure_rate"],
            rate,
        ),
        DoraTile(
            "recovery_time",
            "Time to restore",
            recovery_value,
            f"{recovery_unit}, p50" if recovery_unit else "",
            recovery_detail,
            "From an incident's creation to its resolution, for incidents of the window.",
            bands["recovery_time"],
            recovery["p50"],
        ),
    ]


def weekly_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The weekly trend as table rows (the chart's figures, for reading without it)."""
    return [
        {
            "week": w["week"],
            "deployments": w["deployments"],
            "failed": w["failed_deployments"],
            "lead": duration_hours(w["lead_time_for_changes_hours_p50"]),
            "recovery": duration_hours(w["recovery_time_hours_p50"]),
        }
        for w in doc["weekly"]
    ]


def _stream_url(name: str, suffix: str = "") -> str:
    return f"/streams/{quote(name, safe='')}{suffix}"


def _delivery_page(
    request: Request,
    ctx: AppContext,
    name: str,
    *,
    since: str | None = None,
    until: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    kind: str = "deployments",
    status: int = 200,
) -> Response:
    """The DORA page of stream ``name`` for the window; ``error``: an import refused."""
    info = ctx.workspace.stream(name)  # an unknown stream is a 404 page
    history = ctx.workspace.delivery.history(name)
    raw = {"since": since or "", "until": until or ""}
    report: dict[str, Any] | None = None
    window_error: str | None = None
    stored = {
        "deployments": len(history.deployments),
        "changes": len(history.changes),
        "incidents": len(history.incidents),
    }
    query = ""
    if any(stored.values()):
        try:
            first: date | None = form_date(since, "since")
            last: date | None = form_date(until, "until")
            query = urlencode(
                [(k, v.isoformat()) for k, v in (("since", first), ("until", last)) if v]
            )
            doc = ctx.workspace.delivery.dora(name, since=first, until=last).to_dict()
        except InputError as exc:
            window_error = str(exc)
            if error is None:
                status = exc.http_status
        else:
            report = {
                "doc": doc,
                "tiles": dora_tiles(doc),
                "weeks": weekly_rows(doc),
                "spec": weekly_trend(doc),
            }
    principal = caller(request).principal
    page_url = _stream_url(name, "/delivery")
    return templates.TemplateResponse(
        request,
        "delivery.html",
        {
            "info": info,
            "raw": raw,
            "report": report,
            "stored": stored,
            "window_error": window_error,
            "notice": notice,
            "error": error,
            "kind": kind if kind in DELIVERY_KINDS else "deployments",
            "kinds": KIND_COLUMNS,
            "can_import": principal.allows(Role.EDITOR, info.name),
            "page_url": page_url,
            "json_url": f"/api/streams/{quote(name, safe='')}/dora"
            + (f"?{query}" if query else ""),
        },
        status_code=status,
    )


@router.get("/streams/{name}/delivery", response_class=HTMLResponse)
def delivery_page(
    request: Request,
    ctx: Ctx,
    name: str,
    since: str | None = None,
    until: str | None = None,
    imported: str | None = None,
    added: int | None = None,
    updated: int | None = None,
    given: int | None = None,
) -> Response:
    """The stream's DORA figures over the window (blank: its counted deployments' span)."""
    notice = None
    if imported in DELIVERY_KINDS and None not in (added, updated, given):
        notice = (
            f"Imported {imported}: {added:,} added, {updated:,} updated "
            f"({given:,} in the file; the rest were stored already)."
        )
    return _delivery_page(request, ctx, name, since=since, until=until, notice=notice)


@router.post("/streams/{name}/delivery", response_class=HTMLResponse)
def import_delivery_page(
    request: Request,
    ctx: Ctx,
    name: str,
    file: Annotated[UploadFile, File()],
    kind: Text = "",
) -> Response:
    """The import form: on success back to the page with what was added; else the page with
    the reader's message (file, row and field), and nothing stored."""
    ctx.workspace.stream(name)  # the page's stream: an unknown one is a 404, never created
    try:
        if kind not in DELIVERY_KINDS:
            raise InputError(f"kind is {kind[:40]!r}; give one of {', '.join(DELIVERY_KINDS)}")
        with spooled(file.file, file.filename, ctx.limits.upload) as path:
            counts = ctx.workspace.delivery.import_file(kind, path, name)
    except ObeyaError as exc:
        return _delivery_page(request, ctx, name, error=str(exc), kind=kind, status=exc.http_status)
    notice = urlencode(
        {"imported": kind, "added": counts.added, "updated": counts.updated, "given": counts.given}
    )
    return RedirectResponse(_stream_url(name, f"/delivery?{notice}"), status_code=303)


# -- connectors --------------------------------------------------------------------------------


def _when(info: ConnectorInfo) -> str:
    if info.last_sync_at is None:
        return "never"
    return f"{timestamp(info.last_sync_at)} UTC"


def sync_summary(result: Mapping[str, Any]) -> str:
    """A successful sync's result in a sentence: items, new events, delivery records."""
    parts = [
        f"{count(int(result.get('items') or 0), 'item')} changed",
        f"{count(int(result.get('events_added') or 0), 'new event')}",
    ]
    for kind, counts in (result.get("delivery") or {}).items():
        if counts.get("added") or counts.get("updated"):
            added, updated = count(counts.get("added", 0)), count(counts.get("updated", 0))
            parts.append(f"{kind}: {added} added, {updated} updated")
    renamed = result.get("renamed_states") or {}
    if renamed:
        parts.append("renamed states " + ", ".join(f"{a} → {b}" for a, b in renamed.items()))
    return ", ".join(parts)


def connector_row(info: ConnectorInfo, request: Request) -> dict[str, Any]:
    """A connector as a row of the table, with what the caller may do to it."""
    principal = caller(request).principal
    last = info.last_result or {}
    ok = last.get("ok")
    return {
        "name": info.name,
        "tracker": TRACKERS.get(info.kind, info.kind),
        "stream": info.stream,
        "secret_env": info.secret_env,
        "last_sync": _when(info),
        "item_count": count(int(last.get("items") or 0)) if ok else DASH,
        "ok": ok,
        "result": (
            sync_summary(last) if ok else str(last.get("error") or "") if last else "not synced yet"
        ),
        "notes": list(last.get("notes") or [])[:5] if ok else [],
        "can_sync": principal.allows(Role.EDITOR, info.stream),
        "can_remove": principal.allows(Role.ADMIN, info.stream),
    }


def connector_settings(form: Mapping[str, str]) -> dict[str, Any]:
    """The settings of the add form's kind, from its own fields only; InputError naming the
    first field missing. The tracker's client checks the rest (URLs, owner/name)."""

    def need(field: str, label: str, example: str) -> str:
        value = form.get(field, "").strip()
        if not value:
            raise InputError(f"{label} is blank; give it, e.g. {example}")
        return value

    def optional(field: str) -> str | None:
        return form.get(field, "").strip() or None

    kind = form.get("kind", "")
    if kind == "jira":
        return {
            "url": need("jira_url", "Jira URL", "https://acme.atlassian.net"),
            "jql": need("jql", "JQL", "project = PAY"),
            "email": optional("email"),
        }
    if kind == "github":
        labels = [s.strip() for s in form.get("state_labels", "").split(",") if s.strip()]
        return {"repo": need("repo", "Repository", "octocat/hello-world"), "state_labels": labels}
    if kind == "gitlab":
        return {
            "url": need("gitlab_url", "GitLab URL", "https://gitlab.com"),
            "project": need("project", "Project", "acme/payments"),
            "scoped_label_prefix": optional("scoped_label_prefix"),
        }
    raise InputError(f"tracker is {kind[:40]!r}; give one of {', '.join(KINDS)}")


def _connectors_page(
    request: Request,
    ctx: AppContext,
    *,
    notice: str | None = None,
    error: str | None = None,
    error_title: str = "Not added.",
    form: Mapping[str, str] | None = None,
    synced: str | None = None,
    status: int = 200,
) -> Response:
    """The connectors of the streams the caller sees; ``synced``: the connector whose last
    result to show on top (just synced, or just failed)."""
    principal = caller(request).principal
    rows = [
        connector_row(info, request)
        for info in ctx.workspace.connectors.list()
        if principal.sees(info.stream)
    ]
    sync_result = next((r for r in rows if r["name"] == synced), None) if synced else None
    admin_streams = [
        s.name for s in ctx.workspace.streams() if principal.allows(Role.ADMIN, s.name)
    ]
    return templates.TemplateResponse(
        request,
        "connectors.html",
        {
            "rows": rows,
            "notice": notice,
            "error": error,
            "error_title": error_title,
            "sync_result": sync_result,
            "form": dict(form or {"kind": "jira"}),
            # A connector binds a server variable to a URL: workspace admins add them.
            "can_add": principal.allows(Role.ADMIN, None),
            "admin_streams": admin_streams,
            "trackers": TRACKERS,
        },
        status_code=status,
    )


@router.get("/connectors", response_class=HTMLResponse)
def connectors_page(
    request: Request,
    ctx: Ctx,
    synced: str | None = None,
    added: str | None = None,
    removed: str | None = None,
) -> Response:
    """The connectors, what each last sync did, and (for admins) the form to add one."""
    notice = None
    if added:
        notice = f"Added connector {added!r}. Press “Sync now” to pull its history."
    elif removed:
        notice = f"Removed connector {removed!r}; its value stream and what it synced stay."
    return _connectors_page(request, ctx, notice=notice, synced=synced)


@router.post("/connectors", response_class=HTMLResponse)
def add_connector_page(
    request: Request,
    ctx: Ctx,
    kind: Text = "",
    name: Text = "",
    stream: Text = "",
    token_env: Text = "",
    jira_url: Text = "",
    jql: Text = "",
    email: Text = "",
    repo: Text = "",
    state_labels: Text = "",
    gitlab_url: Text = "",
    project: Text = "",
    scoped_label_prefix: Text = "",
) -> Response:
    """Add a connector: a workspace admin (it binds a server variable to a URL)."""
    require_on(request, Role.ADMIN, None)
    target = stream.strip()
    values = (
        kind,
        name,
        stream,
        token_env,
        jira_url,
        jql,
        email,
        repo,
        state_labels,
        gitlab_url,
        project,
        scoped_label_prefix,
    )
    form = dict(zip(CONNECTOR_FIELDS, values, strict=True))
    variable = token_env.strip()
    try:
        if not name.strip():
            raise InputError("Name is blank; give the connector a name, e.g. pay-jira")
        if not target:
            raise InputError("Value stream is blank; name the stream the connector fills")
        if not ENV_NAME.fullmatch(variable):
            form["token_env"] = ""  # never shown again: it may be a token pasted by mistake
            raise InputError(
                "Token variable is not the name of an environment variable: give the NAME "
                "of the server's variable that holds the token (capitals, digits and _, "
                "e.g. PAY_JIRA_TOKEN), never the token itself"
            )
        settings = connector_settings(form)
        ctx.workspace.connectors.add(name.strip(), kind, target, settings, secret_env=variable)
    except ObeyaError as exc:
        return _connectors_page(request, ctx, error=str(exc), form=form, status=exc.http_status)
    return RedirectResponse(f"/connectors?{urlencode({'added': name.strip()})}", status_code=303)


@router.post("/connectors/{connector}/sync", response_class=HTMLResponse)
def sync_connector_page(request: Request, ctx: Ctx, connector: str) -> Response:
    """Sync now: pull what changed since the last sync, all or nothing. Success goes back to
    the list with the result on top; a failure (kept as the connector's last result) shows
    the page with the tracker's answer, at the error's status (502 for the tracker)."""
    ctx.workspace.connectors.get(connector)  # an unknown connector is a 404 page
    try:
        ctx.workspace.connectors.sync(connector)
    except ObeyaError as exc:
        return _connectors_page(
            request, ctx, error=str(exc), error_title="Sync failed.", status=exc.http_status
        )
    return RedirectResponse(f"/connectors?{urlencode({'synced': connector})}", status_code=303)


@router.post("/connectors/{connector}/delete", response_class=HTMLResponse)
def remove_connector_page(ctx: Ctx, connector: str) -> Response:
    """Forget the connector (admin on its stream); its stream and what it synced stay."""
    ctx.workspace.connectors.remove(connector)
    return RedirectResponse(f"/connectors?{urlencode({'removed': connector})}", status_code=303)
