"""Dependency plans of a value stream in the browser: the saved plans, and per plan its
drawing, the critical path method table, need-by misses, the cross-team matrix and the
dependencies at risk, with forms to create a plan and to add, change or remove a task.

Every figure is the workspace's (:meth:`~obeya.workspace.Workspace.plan`, the document
``GET /api/streams/{name}/plans/{key}`` returns) and the drawing is
:func:`obeya.render.dependency_svg.dependency_svg`, which escapes every text it draws. A form
turns its fields into the plan document and saves it through
:meth:`~obeya.workspace.Workspace.save_record`, which checks the whole plan with the core
(ids, ``depends_on``, cycles, durations): a refusal shows the core's message, naming the task
and the field, beside the form with what was typed kept, and nothing is saved. Each change is
the plan's next version, saved on the version the page was loaded at (409 when stale).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.documents import split_list
from obeya.core.steering.dependencies import schedule
from obeya.core.steering.saved import plan_record_from_dict
from obeya.errors import InputError, NotFoundError, ObeyaError
from obeya.render.dependency_svg import dependency_svg
from obeya.web.forms import form_number, form_version
from obeya.web.map_pages import WEB_AUTHOR
from obeya.web.pages import templates
from obeya.web.steering_pages import Form, Posted, adding, stream_url

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

#: The URL segment of the pages (and of the plans' history, see ``steering_pages``).
PAGE = "dependencies"
#: A task's fields on the forms, in form order: (form field, label).
TASK_FIELDS = (
    ("task_id", "Task id"),
    ("task_name", "Task name"),
    ("task_team", "Team"),
    ("task_duration_days", "Duration days"),
    ("task_depends_on", "Depends on"),
    ("task_need_by", "Need by"),
    ("task_items", "Items"),
)


def task_document(form: Posted) -> dict[str, Any]:
    """The ``[[task]]`` table the form describes; blank optional fields are left out, so the
    core's defaults apply (no dependencies, no need-by date, no items)."""
    task: dict[str, Any] = {"id": form.text("task_id"), "team": form.text("task_team")}
    name = form.text("task_name")
    if name:
        task["name"] = name
    duration = form.text("task_duration_days")
    if duration:
        days = float(form_number(duration, "Duration days", float))
        task["duration_days"] = int(days) if days.is_integer() else days
    depends = split_list(form.text("task_depends_on"))
    if depends:
        task["depends_on"] = depends
    if form.text("task_need_by"):
        task["need_by"] = form.text("task_need_by")
    if form.text("task_items"):
        task["items"] = int(form_number(form.text("task_items"), "Items", int))
    return task


def with_task(doc: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """The plan with ``task`` added at the end, or in place of the task with its id."""
    tasks = [dict(t) for t in doc.get("task", [])]
    for i, old in enumerate(tasks):
        if old.get("id") == task["id"]:
            tasks[i] = task
            break
    else:
        tasks.append(task)
    return {**doc, "task": tasks}


def without_task(doc: dict[str, Any], task_id: str) -> dict[str, Any]:
    tasks = [dict(t) for t in doc.get("task", [])]
    kept = [t for t in tasks if t.get("id") != task_id]
    if len(kept) == len(tasks):
        raise InputError(f"the plan has no task {task_id!r}; reload the page")
    return {**doc, "task": kept}


def _expected(form: Posted) -> int:
    return form_version(form.text("expected_version"))


def _require_plan(ctx: AppContext, name: str, key: str) -> None:
    ctx.workspace.stream(name)  # an unknown stream is named as such, before its plans
    ctx.workspace.steering.stream_record("plan", key, name)


# -- the list of plans ------------------------------------------------------------------------


def _plans_page(
    request: Request,
    ctx: AppContext,
    name: str,
    *,
    create: dict[str, str] | None = None,
    create_error: str | None = None,
    status: int = 200,
) -> Response:
    workspace = ctx.workspace
    info = workspace.stream(name)
    plans = []
    for stored in workspace.steering.records("plan", name):
        view = workspace.steering.plan(name, stored.key)
        plans.append(
            {
                "key": stored.key,
                "name": stored.document.get("name") or stored.key,
                "version": stored.version.version,
                "tasks": len(view["tasks"]),
                "view": view,
                "misses": [m for m in view["need_by"] if m["missed"]],
                "at_risk": [r for r in view["at_risk"] if r["at_risk"]],
            }
        )
    return templates.TemplateResponse(
        request,
        "plans.html",
        {
            "info": info,
            "plans": plans,
            "create": create or {},
            "create_error": create_error,
            "next_key": workspace.steering.next_key("plan", name),
            "task_fields": TASK_FIELDS,
            "page_url": stream_url(name, PAGE),
            "stream_url": stream_url(name),
        },
        status_code=status,
    )


@router.get("/streams/{name}/dependencies", response_class=HTMLResponse)
def plans_page(request: Request, ctx: Ctx, name: str) -> Response:
    """The stream's dependency plans (length, critical path, need-by misses, tasks at risk)
    and a form to create one."""
    return _plans_page(request, ctx, name)


@router.post("/streams/{name}/dependencies", response_class=HTMLResponse)
def create_plan(request: Request, ctx: Ctx, name: str, form: Form) -> Response:
    """Create a plan with its first task (a plan has at least one); refused when the key is
    taken."""
    ctx.workspace.stream(name)
    key = form.text("key")
    try:
        doc: dict[str, Any] = {"key": key or None, "name": form.text("name") or key}
        if not doc["name"]:
            doc.pop("name")  # a plan numbered by the store is named by its key
        if form.text("start"):
            doc["start"] = form.text("start")
        doc["task"] = [task_document(form)]
        key = ctx.workspace.steering.save_record(
            "plan",
            doc,
            author=WEB_AUTHOR,
            message=form.text("message") or "plan created",
            stream=name,
            expected_version=0,
        ).key
    except ObeyaError as error:
        return _plans_page(
            request,
            ctx,
            name,
            create=form.as_dict(),
            create_error=adding(error, "plan", key),
            status=error.http_status,
        )
    return RedirectResponse(f"{_plan_url(name, key)}?saved=1", status_code=303)


# -- one plan ---------------------------------------------------------------------------------


def _plan_url(name: str, key: str) -> str:
    return f"{stream_url(name, PAGE)}/{quote(key, safe='')}"


def _plan_page(
    request: Request,
    ctx: AppContext,
    name: str,
    key: str,
    *,
    task: dict[str, str] | None = None,
    task_error: str | None = None,
    remove_error: str | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    """``saved``: the page after a save says which version it made."""
    workspace = ctx.workspace
    info = workspace.stream(name)  # an unknown stream is named as such, before its plans
    stored = workspace.steering.stream_record("plan", key, name)
    notice = f"Saved as version {stored.version.version}." if saved else None
    view = workspace.steering.plan(name, key)
    record = plan_record_from_dict(stored.document)
    version = str(stored.version.version)
    has_forecasts = any(t.items is not None and t.need_by is not None for t in record.plan.tasks)
    return templates.TemplateResponse(
        request,
        "plan.html",
        {
            "info": info,
            "key": key,
            "doc": stored.document,
            "version": stored.version.version,
            "view": view,
            # Server-built SVG: dependency_svg escapes every id, name and team it draws.
            "svg": Markup(dependency_svg(schedule(record.plan))),
            "by_id": {t["id"]: t for t in stored.document.get("task", [])},
            "has_forecasts": has_forecasts,
            "task": task or {"expected_version": version},
            "task_error": task_error,
            "remove_error": remove_error,
            "expected_version": version,
            "task_fields": TASK_FIELDS,
            "notice": notice,
            "plan_url": _plan_url(name, key),
            "page_url": stream_url(name, PAGE),
            "stream_url": stream_url(name),
        },
        status_code=status,
    )


@router.get("/streams/{name}/dependencies/{key}", response_class=HTMLResponse)
def plan_page(
    request: Request, ctx: Ctx, name: str, key: str, saved: str | None = None
) -> Response:
    """One plan: the drawing, the CPM table, the critical path, need-by misses, the
    cross-team matrix and the dependencies at risk; forms to add, change or remove a task."""
    return _plan_page(request, ctx, name, key, saved=bool(saved))


@router.post("/streams/{name}/dependencies/{key}/tasks", response_class=HTMLResponse)
def save_task(request: Request, ctx: Ctx, name: str, key: str, form: Form) -> Response:
    """Add a task (or change the task with the same id) as the plan's next version, on the
    version the form was loaded at."""
    _require_plan(ctx, name, key)
    workspace = ctx.workspace
    try:
        expected = _expected(form)
        task = task_document(form)
        if not task["id"]:
            raise InputError("Task id is empty; give the task an id, e.g. API")
        base = workspace.steering.stream_record("plan", key, name, expected).document
        changed = any(t.get("id") == task["id"] for t in base.get("task", []))
        workspace.steering.save_record(
            "plan",
            with_task(base, task),
            author=WEB_AUTHOR,
            message=form.text("message")
            or f"task {task['id']} {'changed' if changed else 'added'}",
            stream=name,
            expected_version=expected,
        )
    except ObeyaError as error:
        if isinstance(error, NotFoundError) and "version" not in str(error):
            raise
        return _plan_page(
            request,
            ctx,
            name,
            key,
            task=form.as_dict(),
            task_error=str(error),
            status=error.http_status,
        )
    return RedirectResponse(f"{_plan_url(name, key)}?saved=1", status_code=303)


@router.post("/streams/{name}/dependencies/{key}/remove", response_class=HTMLResponse)
def remove_task(request: Request, ctx: Ctx, name: str, key: str, form: Form) -> Response:
    """Remove the task ``task_id`` as the plan's next version (refused, with the core's
    message, when another task still depends on it or it is the last one)."""
    _require_plan(ctx, name, key)
    workspace = ctx.workspace
    task_id = form.text("task_id")
    try:
        expected = _expected(form)
        base = workspace.steering.stream_record("plan", key, name, expected).document
        workspace.steering.save_record(
            "plan",
            without_task(base, task_id),
            author=WEB_AUTHOR,
            message=form.text("message") or f"task {task_id} removed",
            stream=name,
            expected_version=expected,
        )
    except ObeyaError as error:
        if isinstance(error, NotFoundError) and "version" not in str(error):
            raise
        return _plan_page(
            request,
            ctx,
            name,
            key,
            remove_error=f"Task {task_id} not removed: {error}",
            status=error.http_status,
        )
    return RedirectResponse(f"{_plan_url(name, key)}?saved=1", status_code=303)
