"""The workflow editor: what each state of a stream means for flow, edited beside its effect.

The page lists the stream's states (those of its data and those its workflow names) with
their category and their position in flow order, and the workflow's finish convention.
"Infer from data" fills the form with :meth:`~obeya.workspace.Workspace.infer_workflow`'s
proposal, each state with the evidence and the reason for its category; "Preview" shows
the key figures under the edited workflow beside the current ones, with the plausibility
flags of the edited one, and saves nothing. "Save" (a stream editor) stores it, on the
workflow the page was loaded with: the form carries a fingerprint of it (``base``), and a
save over a workflow someone changed since is refused. The dashboard's "use first / last
entry" button sets the finish alone.

Every figure comes from :meth:`~obeya.workspace.Workspace.flow`, so a preview shows what the
dashboard will show once saved.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.auth import caller
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.access import Role
from obeya.core.metrics import FlowReport, caveats, convention_line
from obeya.core.shares import percent_of
from obeya.core.workflow import FINISHES, Category, Workflow
from obeya.core.workflow_infer import StateStats, items_of
from obeya.errors import InputError, ObeyaError, StoreError, WorkflowError
from obeya.web.forms import form_number
from obeya.web.pages import templates
from obeya.workspace import Workspace

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

#: The categories a state can be given, in the order the form offers them.
CATEGORIES = [c.value for c in Category]
FINISH_LABELS = {
    "last": "Last entry into done (default)",
    "first": "First entry into done (ActionableAgile, Jira's resolution date)",
}


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(form_fields)]


def fingerprint(workflow: Workflow | None) -> str:
    """A short fingerprint of a stored workflow: the version a form was loaded at."""
    text = "" if workflow is None else workflow.to_toml()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _url(name: str) -> str:
    return f"/streams/{quote(name, safe='')}/workflow"


# -- the form ---------------------------------------------------------------------------------


def form_of(workflow: Workflow | None, states: list[str]) -> dict[str, Any]:
    """The form's rows for ``workflow``: every state of ``states`` and those the workflow
    names, in flow order, with its category and position (1, 2, ...)."""
    ordered = workflow.state_order(states) if workflow is not None else list(states)
    rows = [
        {
            "name": state,
            "category": (workflow.category_of(state) if workflow else Category.UNMAPPED).value,
            "position": str(k + 1),
        }
        for k, state in enumerate(ordered)
    ]
    return {"rows": rows, "finish": workflow.finish if workflow is not None else "last"}


def form_from_post(fields: Mapping[str, str]) -> dict[str, Any]:
    """The rows as posted (``state-0-name``, ``state-0-category``, ``state-0-position``...)."""
    rows = []
    i = 0
    while f"state-{i}-name" in fields:
        rows.append(
            {
                "name": fields[f"state-{i}-name"],
                "category": fields.get(f"state-{i}-category", "").strip(),
                "position": fields.get(f"state-{i}-position", "").strip(),
            }
        )
        i += 1
    return {"rows": rows, "finish": fields.get("finish", "last").strip()}


def build_workflow(form: Mapping[str, Any], base: Workflow | None, source: str) -> Workflow:
    """The workflow a form describes. Categories and ``order`` follow the positions (ties keep
    the rows' order); ``order`` is written only where it differs from the default (backlog,
    active, waiting, done as listed). Stages are kept from ``base``. Errors name the state
    and the field."""
    placed: list[tuple[float, int, str, str]] = []
    for i, row in enumerate(form["rows"]):
        state, category = row["name"], row["category"]
        if category not in CATEGORIES:
            raise InputError(
                f"state {state!r}: category {category!r} is not one of {', '.join(CATEGORIES)}",
                field=f"state-{i}-category",
                value=category,
            )
        text = row["position"] or str(i + 1)
        position = form_number(text, f"state {state!r}: position", float)
        placed.append((float(position), i, state, category))
    placed.sort()
    lists: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for _, _, state, category in placed:
        lists[category].append(state)
    flow = [state for _, _, state, category in placed if category != Category.UNMAPPED.value]
    default = [*lists["backlog"], *lists["active"], *lists["waiting"], *lists["done"]]
    return Workflow(
        backlog=tuple(lists["backlog"]),
        active=tuple(lists["active"]),
        waiting=tuple(lists["waiting"]),
        done=tuple(lists["done"]),
        order=tuple(flow) if flow != default else (),
        stages=base.stages if base is not None else (),
        source=source,
        finish=form["finish"],
    )


def why_inferred(stats: StateStats) -> str:
    """The "Why inferred" cell of a state: the evidence ``obeya workflow infer`` prints (items
    visiting, shares beginning and ending there), then the reason."""
    return (
        f"{items_of(stats.items)} · {percent_of(stats.first_share)} begin here · "
        f"{percent_of(stats.last_share)} end here · {stats.reason}"
    )


# -- figures ----------------------------------------------------------------------------------


def figures(report: FlowReport) -> dict[str, Any]:
    """The key figures of a report, as the page compares them."""
    ct = report.cycle_time_days
    return {
        "cycle_p50": ct.p50,
        "cycle_p85": ct.p85,
        "finished": report.items.finished,
        "throughput_per_week": report.velocity_per_week(),
        "wip": report.wip_now,
        "flow_efficiency": report.flow_efficiency,
        "convention": convention_line(report.conventions),
    }


FIGURE_ROWS = (
    ("cycle_p50", "Cycle time p50", "days"),
    ("cycle_p85", "Cycle time p85", "days"),
    ("finished", "Finished items", "count"),
    ("throughput_per_week", "Throughput", "per week"),
    ("wip", "WIP now", "count"),
    ("flow_efficiency", "Flow efficiency", "share"),
)


def shown(value: float | int | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "count":
        return f"{int(value):,}"
    return f"{value:,.1f}"


# -- the page ---------------------------------------------------------------------------------


def _page(
    request: Request,
    ws: Workspace,
    name: str,
    *,
    form: dict[str, Any] | None = None,
    candidate: Workflow | None = None,
    flags: list[dict[str, Any]] | None = None,
    heading: str = "",
    reasons: dict[str, str] | None = None,
    base: str | None = None,
    error: str | None = None,
    error_field: str | None = None,
    error_title: str = "Not previewed.",
    notice: str | None = None,
    status: int = 200,
) -> Response:
    info = ws.stream(name)
    current = ws.reports.report(name, detail=False)
    if form is None:
        form = form_of(info.workflow, current.cumulative_flow.states)
    proposed: FlowReport | None = None
    if candidate is not None and error is None:
        try:
            proposed = ws.flow(name, workflow=candidate)
            if flags is None:
                flags = [
                    f.to_dict()
                    for f in ws.workflow_flags(name, candidate, proposed.flow_efficiency)
                ]
        except ObeyaError as exc:  # e.g. a workflow that names no state of the data
            error, status = str(exc), exc.http_status
    if flags is None and candidate is None and info.workflow is not None:
        flags = [
            f.to_dict() for f in ws.workflow_flags(name, info.workflow, current.flow_efficiency)
        ]
    # What the figures shown say little about (every cycle time 0 …), beside the flags.
    said = proposed if proposed is not None else current
    flags = (flags or []) + [
        {"rule": "caveat", "state": None, "value": None, "message": text.rstrip(".")}
        for text in caveats(said.to_dict())
    ]
    can_edit = caller(request).principal.allows(Role.EDITOR, name)
    return templates.TemplateResponse(
        request,
        "workflow.html",
        {
            "info": info,
            "form": form,
            "categories": CATEGORIES,
            "finishes": [(f, FINISH_LABELS[f]) for f in FINISHES],
            "current": figures(current),
            "proposed": figures(proposed) if proposed is not None else None,
            "figure_rows": FIGURE_ROWS,
            "shown": shown,
            "flags": flags,
            "heading": heading,
            "reasons": reasons or {},
            "base": base if base is not None else fingerprint(info.workflow),
            "error": error,
            "error_field": error_field,
            "error_title": error_title,
            "notice": notice,
            "can_edit": can_edit,
            "page_url": _url(name),
            "stream_url": f"/streams/{quote(name, safe='')}",
        },
        status_code=status,
    )


def _refused(
    request: Request,
    ws: Workspace,
    name: str,
    exc: ObeyaError,
    *,
    form: dict[str, Any] | None = None,
    base: str | None = None,
    title: str = "Not previewed.",
) -> Response:
    """The page again with why ``exc`` refused the form (the field it names, if any)."""
    return _page(
        request,
        ws,
        name,
        form=form,
        base=base,
        error=str(exc),
        error_field=exc.field if isinstance(exc, InputError) else None,
        error_title=title,
        status=exc.http_status,
    )


@router.get("/streams/{name}/workflow", response_class=HTMLResponse)
def workflow_page(request: Request, ctx: Ctx, name: str, saved: int | None = None) -> Response:
    """The stream's workflow, its figures and its flags."""
    notice = "Workflow saved: the dashboard now uses it." if saved else None
    return _page(request, ctx.workspace, name, notice=notice)


@router.post("/streams/{name}/workflow/preview", response_class=HTMLResponse)
def preview_page(request: Request, ctx: Ctx, name: str, fields: Fields) -> Response:
    """Preview the edited workflow (``action=preview``) or infer one from the data
    (``action=infer``): figures beside the current ones, nothing saved."""
    ws = ctx.workspace
    base = fields.get("base", "")
    if fields.get("action") == "infer":
        proposal = ws.infer_workflow(name)
        finish = fields.get("finish", "last").strip()
        stored = ws.stream(name).workflow
        try:
            inferred = dataclasses.replace(
                proposal.workflow,
                finish=finish,
                stages=stored.stages if stored is not None else (),
                source=f"workflow of {name!r}",
            )
        except WorkflowError as exc:
            return _refused(request, ws, name, exc)
        # The proposal's own flags were measured with finish "last"; with another finish the
        # efficiency differs, so they are measured again.
        flags = [f.to_dict() for f in proposal.flags] if finish == "last" else None
        return _page(
            request,
            ws,
            name,
            form=form_of(inferred, [s.state for s in proposal.states]),
            candidate=inferred,
            flags=flags,
            heading="Inferred from the data",
            reasons={s.state: why_inferred(s) for s in proposal.states},
            base=base,
        )
    form = form_from_post(fields)
    try:
        candidate = build_workflow(form, ws.stream(name).workflow, f"workflow of {name!r}")
    except InputError as exc:
        return _refused(request, ws, name, exc, form=form, base=base)
    return _page(request, ws, name, form=form, candidate=candidate, heading="Edited", base=base)


@router.post("/streams/{name}/workflow", response_class=HTMLResponse)
def save_page(request: Request, ctx: Ctx, name: str, fields: Fields) -> Response:
    """Save the edited workflow, on the workflow the page was loaded with."""
    ws = ctx.workspace
    base = fields.get("base", "")
    form = form_from_post(fields)
    stored = ws.stream(name).workflow
    try:
        candidate = build_workflow(form, stored, f"workflow of {name!r}")
        if base != fingerprint(stored):
            raise StoreError(
                f"the workflow of {name!r} changed since this page was loaded; reload the "
                "page to edit the newest one (nothing was saved)"
            )
        ws.flow(name, workflow=candidate)  # refuses a workflow that names no state of the data
        ws.set_workflow(name, candidate)
    except ObeyaError as exc:
        return _refused(request, ws, name, exc, form=form, base=base, title="Not saved.")
    return RedirectResponse(f"{_url(name)}?saved=1", status_code=303)


@router.post("/streams/{name}/workflow/finish")
def finish_page(request: Request, ctx: Ctx, name: str, fields: Fields) -> Response:
    """Set the workflow's finish convention alone (the dashboard's switch), then show the
    dashboard with it."""
    ws = ctx.workspace
    stored = ws.stream(name).workflow
    finish = fields.get("finish", "").strip()
    if stored is None:
        raise WorkflowError(
            f"value stream {name!r} has no workflow: without one every item finishes at its "
            "last event; give it a workflow first",
            field="finish",
            value=finish,
        )
    ws.set_workflow(name, dataclasses.replace(stored, finish=finish))
    return RedirectResponse(f"/streams/{quote(name, safe='')}", status_code=303)
