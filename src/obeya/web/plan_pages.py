"""Dependency plans of a value stream in the browser: the saved plans, and per plan its
drawing, the critical path method table, need-by misses, the cross-team matrix and the
dependencies at risk, with forms to create a plan and to add, edit or remove a task.

Every figure is the workspace's (:meth:`~obeya.workspace.Workspace.plan`, the document
``GET /api/streams/{name}/plans/{key}`` returns) and the drawing is
:func:`obeya.render.dependency_svg.dependency_svg`, which escapes every text it draws. A form
turns its fields into the plan document and saves it through
:meth:`~obeya.workspace.Workspace.save_record`, which checks the whole plan with the core
(ids, ``depends_on``, cycles, durations). The task that was typed is checked first here, so
that a refusal speaks the form's words (``Task E: Duration days is -1; …``, not the file's
``task[4] ('E'): duration_days``) and marks the input to fix; it is shown beside the form
with what was typed kept, and nothing is saved. Adding a task never replaces one: an id
already in the plan is refused, and a task is changed through its **Edit** link, which
loads it into the form (``?edit=ID``, the form's hidden ``original_id``). Each change is the
plan's next version, saved on the version the page was loaded at (409 when stale).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.documents import declared, split_list
from obeya.core.steering.dependencies import Task, find_cycle, plan_from_dict, schedule
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
#: How the forms label a task's fields: as :class:`Task` declares them, but for the id and
#: the name, which the forms call "Task id" and "Task name" (the plan has a name too).
TASK_LABELS = {f.name: f.label for f in declared(Task)} | {"id": "Task id", "name": "Task name"}
#: A task's fields on the forms, in form order: (form field, label).
TASK_FIELDS = tuple((f"task_{name}", label) for name, label in TASK_LABELS.items())


def task_document(form: Posted) -> dict[str, Any]:
    """The ``[[task]]`` table the form describes; blank optional fields are left out, so the
    core's defaults apply (no dependencies, no need-by date, no items). A number that is not
    one is refused naming the task and the field as the form labels it."""
    task: dict[str, Any] = {"id": form.text("task_id"), "team": form.text("task_team")}
    name = form.text("task_name")
    if name:
        task["name"] = name
    if form.text("task_duration_days"):
        days = float(_typed_number(form, task["id"], "duration_days", float))
        task["duration_days"] = int(days) if days.is_integer() else days
    depends = split_list(form.text("task_depends_on"))
    if depends:
        task["depends_on"] = depends
    if form.text("task_need_by"):
        task["need_by"] = form.text("task_need_by")
    if form.text("task_items"):
        task["items"] = int(_typed_number(form, task["id"], "items", int))
    return task


def _typed_number(
    form: Posted, task_id: str, name: str, kind: type[int] | type[float]
) -> int | float:
    typed = form.text(f"task_{name}")
    try:
        return form_number(typed, TASK_LABELS[name], kind)
    except InputError as error:
        raise InputError(f"{_task_named(task_id)}: {error}", field=name, value=typed) from None


def _task_named(task_id: str) -> str:
    return f"Task {task_id}" if task_id else "The task"


def check_task(tasks: list[dict[str, Any]], task: dict[str, Any]) -> None:
    """Refuse ``task``, one of the plan's ``tasks`` (as the plan would be saved), in the
    form's words, with the error's ``field`` naming the input to mark: its own fields as
    :class:`Task` declares them, then its depends-on, then a cycle through it. The core
    checks the whole plan again when it is saved; the other tasks are a saved plan's, so
    only this one can be wrong."""
    where = _task_named(task["id"])
    if not task["id"]:
        raise InputError(f"{TASK_LABELS['id']} is empty; give the task an id, e.g. API", field="id")
    try:
        Task.from_dict(task, where)
    except InputError as error:
        raise _in_form_words(error, where) from None
    ids = [t.get("id") for t in tasks]
    others = ", ".join(sorted(str(i) for i in ids if i != task["id"])) or "none"
    depends = TASK_LABELS["depends_on"]
    for dep in task.get("depends_on", []):
        if dep == task["id"]:
            raise InputError(
                f"{where}: {depends} lists the task itself; a task cannot wait for itself",
                field="depends_on",
                value=dep,
            )
        if dep not in ids:
            raise InputError(
                f"{where}: {depends} lists unknown id {dep!r}; known ids: {others}",
                field="depends_on",
                value=dep,
            )
    cycle = find_cycle(plan_from_dict({"task": tasks}))
    if cycle is not None:
        raise InputError(
            f"{where}: {depends} makes a cycle: {' → '.join(cycle)} (each task waits for "
            f"the next); take one of these ids out of {depends}",
            field="depends_on",
        )


def _in_form_words(error: InputError, where: str) -> InputError:
    """The core's ``Task E: duration_days is -1; …`` as the form labels the field."""
    message, code = str(error), f"{where}: {error.field} "
    if error.field in TASK_LABELS and message.startswith(code):
        message = f"{where}: {TASK_LABELS[error.field]} {message[len(code) :]}"
    return InputError(message, field=error.field, value=error.value)


def _about(task: dict[str, Any]) -> str:
    """`` (Auth service, Payments)``: a task's name and team, to say which task an id is."""
    about = ", ".join(str(v) for v in (task.get("name"), task.get("team")) if v)
    return f" ({about})" if about else ""


def with_task(
    doc: dict[str, Any], task: dict[str, Any], original_id: str | None = None
) -> dict[str, Any]:
    """The plan with ``task`` added at the end or, with ``original_id``, in place of the task
    with that id (an edit, which keeps the id). Adding an id the plan has is refused: that
    would replace a task silently."""
    tasks = [dict(t) for t in doc.get("task", [])]
    at = {t.get("id"): i for i, t in enumerate(tasks)}
    if not original_id:
        if task["id"] in at:
            raise InputError(
                f"Task {task['id']} already exists{_about(tasks[at[task['id']]])}; edit it, "
                "or give another id",
                field="id",
                value=task["id"],
            )
        return {**doc, "task": [*tasks, task]}
    if original_id not in at:
        raise InputError(f"the plan has no task {original_id!r}; reload the page")
    if task["id"] != original_id:
        raise InputError(
            f"{TASK_LABELS['id']} cannot change on an edit (it is {original_id}); add a task "
            f"with the new id, then remove {original_id}",
            field="id",
            value=task["id"],
        )
    tasks[at[original_id]] = task
    return {**doc, "task": tasks}


def without_task(doc: dict[str, Any], task_id: str) -> dict[str, Any]:
    """The plan without the task ``task_id``; refused while other tasks depend on it, naming
    them all (the plan would no longer say what they wait for), and for its only task."""
    tasks = [dict(t) for t in doc.get("task", [])]
    kept = [t for t in tasks if t.get("id") != task_id]
    if len(kept) == len(tasks):
        raise InputError(f"the plan has no task {task_id!r}; reload the page")
    if not kept:
        raise InputError(f"{task_id} is the plan's only task; a plan has at least one")
    waiting = [str(t.get("id")) for t in kept if task_id in t.get("depends_on", [])]
    if waiting:
        verb = "depends" if len(waiting) == 1 else "depend"
        them = "its" if len(waiting) == 1 else "their"
        raise InputError(
            f"{_and(waiting)} {verb} on {task_id}; take {task_id} out of {them} "
            f"{TASK_LABELS['depends_on']} first, or remove {'it' if len(waiting) == 1 else 'them'}",
            field="depends_on",
            value=task_id,
        )
    return {**doc, "task": kept}


def _and(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
    create_field: str | None = None,
    status: int = 200,
) -> Response:
    """``create_field``: the first task's field a refusal is about, marked on the form."""
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
            "create_field": create_field,
            "next_key": workspace.steering.next_key("plan", name),
            "task_fields": TASK_FIELDS,
            "page_url": stream_url(name, PAGE),
            "stream_url": stream_url(name),
            "waits": _waits_between_teams(workspace, name),
        },
        status_code=status,
    )


def _waits_between_teams(workspace: Any, name: str) -> list[dict[str, Any]]:
    """The dependencies the history shows: the stream's top cross-team waits from its blocked
    time (the dashboard's "Who waits on whom"), over its whole history; none without
    blockers."""
    blocked = workspace.steering.blocked(name)
    if blocked is None or blocked.cross_team is None:
        return []
    return [pair.to_dict() for pair in blocked.cross_team.top_pairs]


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
        check_task(doc["task"], doc["task"][0])
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
            create_field=_task_field(error),
            status=error.http_status,
        )
    return RedirectResponse(f"{_plan_url(name, key)}?saved=1", status_code=303)


# -- one plan ---------------------------------------------------------------------------------


def _plan_url(name: str, key: str) -> str:
    return f"{stream_url(name, PAGE)}/{quote(key, safe='')}"


def _task_field(error: ObeyaError) -> str | None:
    """The task field (as :class:`Task` declares it) an error is about, if any."""
    field = error.field if isinstance(error, InputError) else None
    return field if field in TASK_LABELS else None


def _task_form(task: dict[str, Any], version: str) -> dict[str, str]:
    """The form's fields showing a saved task, to edit it on ``version``."""
    days = task.get("duration_days")
    shown = {
        "task_id": task["id"],
        "task_name": task.get("name") or "",
        "task_team": task.get("team") or "",
        "task_duration_days": "" if days is None else _typed(days),
        "task_depends_on": ", ".join(task.get("depends_on") or []),
        "task_need_by": task.get("need_by") or "",
        "task_items": "" if task.get("items") is None else str(task["items"]),
    }
    return {**shown, "original_id": task["id"], "expected_version": version}


def _typed(days: float) -> str:
    """Days as typed: ``3``, ``3.5``, ``1234567`` (never ``1.23457e+06``)."""
    return str(int(days)) if float(days).is_integer() else repr(float(days))


def _plan_page(
    request: Request,
    ctx: AppContext,
    name: str,
    key: str,
    *,
    task: dict[str, str] | None = None,
    task_error: str | None = None,
    task_field: str | None = None,
    edit: str | None = None,
    remove_error: str | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    """``task``: the form as posted, after a refusal (``task_error``, about ``task_field``);
    ``edit``: the id of the task to load into the form; ``saved``: the page after a save says
    which version it made."""
    workspace = ctx.workspace
    info = workspace.stream(name)  # an unknown stream is named as such, before its plans
    stored = workspace.steering.stream_record("plan", key, name)
    notice = f"Saved as version {stored.version.version}." if saved else None
    view = workspace.steering.plan(name, key)
    record = plan_record_from_dict(stored.document)
    plan_version = str(stored.version.version)
    by_id = {t["id"]: t for t in stored.document.get("task", [])}
    if edit is not None:
        if edit not in by_id:
            raise NotFoundError(f"plan {key!r} has no task {edit!r}")
        task = _task_form(by_id[edit], plan_version)
    has_forecasts = any(t.items is not None and t.need_by is not None for t in record.plan.tasks)
    return templates.TemplateResponse(
        request,
        "plan.html",
        {
            "info": info,
            "key": key,
            "doc": stored.document,
            # Not "version": the layout shows the app's version under that name.
            "plan_version": stored.version.version,
            "view": view,
            # Server-built SVG: dependency_svg escapes every id, name and team it draws.
            "svg": Markup(dependency_svg(schedule(record.plan))),
            "by_id": by_id,
            "has_forecasts": has_forecasts,
            "task": task or {"expected_version": plan_version},
            "task_error": task_error,
            "task_field": task_field,
            "remove_error": remove_error,
            "expected_version": plan_version,
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
    request: Request,
    ctx: Ctx,
    name: str,
    key: str,
    saved: str | None = None,
    edit: str | None = None,
) -> Response:
    """One plan: the drawing, the CPM table, the critical path, need-by misses, the
    cross-team matrix and the dependencies at risk; forms to add a task, edit the task
    ``edit`` (loaded into the form) or remove one."""
    return _plan_page(request, ctx, name, key, saved=bool(saved), edit=edit or None)


@router.post("/streams/{name}/dependencies/{key}/tasks", response_class=HTMLResponse)
def save_task(request: Request, ctx: Ctx, name: str, key: str, form: Form) -> Response:
    """Add a task, or with ``original_id`` (the form of an **Edit** link) change that task,
    as the plan's next version, on the version the form was loaded at. Adding an id the plan
    already has is refused."""
    _require_plan(ctx, name, key)
    workspace = ctx.workspace
    try:
        expected = _expected(form)
        task = task_document(form)
        original_id = form.text("original_id") or None
        base = workspace.steering.stream_record("plan", key, name, expected).document
        doc = with_task(base, task, original_id)
        check_task(doc["task"], task)
        workspace.steering.save_record(
            "plan",
            doc,
            author=WEB_AUTHOR,
            message=form.text("message")
            or f"task {task['id']} {'changed' if original_id else 'added'}",
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
            task_field=_task_field(error),
            status=error.http_status,
        )
    return RedirectResponse(f"{_plan_url(name, key)}?saved=1", status_code=303)


@router.post("/streams/{name}/dependencies/{key}/remove", response_class=HTMLResponse)
def remove_task(request: Request, ctx: Ctx, name: str, key: str, form: Form) -> Response:
    """Remove the task ``task_id`` as the plan's next version (refused, naming them, while
    other tasks depend on it, and when it is the plan's only task)."""
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
