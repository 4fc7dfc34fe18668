"""The steering pages of a value stream: the ROAM risk board, objectives with their key
results, the improvement roadmap with its kaizen events, and each record's history.

Every figure comes from the workspace's views (``risk_board``, ``objectives``, ``roadmap``):
exposure, overdue, progress, WSJF and the roadmap order are the core's, never recomputed here.
Forms post text; this module turns it into the record's document and saves it through
:meth:`~obeya.workspace.Workspace.save_record`, which checks it. An edit names the version it
was loaded at (``expected_version``); a save on a stale version, or a document the core
refuses, shows the message beside the form with what the user typed kept.

"Today" (what is overdue) is the server's date unless the query string (or a form's hidden
field) gives ``today=YYYY-MM-DD``: a review can be read as of a past day, and tests pin it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.documents import Declared, declared, declared_field, from_text, share, split_list
from obeya.core.steering.objectives import METRICS, KeyResult, Objective
from obeya.core.steering.risks import STATES, Risk
from obeya.core.steering.roadmap import KINDS, STATUSES, TARGETS, Improvement
from obeya.errors import InputError, NotFoundError, ObeyaError, VersionConflict
from obeya.render.numbers import show
from obeya.store.versioning import flatten
from obeya.web.document_forms import FormField, form_fields, form_values, posted_document
from obeya.web.forms import form_date, form_number, form_version
from obeya.web.map_pages import WEB_AUTHOR
from obeya.web.pages import templates

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

#: Key result rows on the "add an objective" form.
KEY_RESULT_ROWS = 5
#: A key result row is left out unless one of these is filled in.
_ROW_SIGNS = ("key", "title", "target")
#: The fields of a key result counted in its metric's unit (a share metric's in percent).
_IN_UNIT = ("target", "baseline")
#: The record kinds with a history page, by the URL segment of their page.
HISTORY_KINDS = {
    "risks": "risk",
    "objectives": "objective",
    "roadmap": "improvement",
    "dependencies": "plan",
    "experiments": "experiment",
}
STATE_LABELS = {
    "open": "Open",
    "owned": "Owned",
    "accepted": "Accepted",
    "mitigated": "Mitigated",
    "resolved": "Resolved",
}
#: The fields of a roadmap item, and its scores with their labels, as declared.
ITEM_FIELDS = tuple(f.name for f in declared(Improvement))
SCORES = tuple((f.name, f.label) for f in declared(Improvement) if f.kind == "float")


# -- reading forms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """A posted form: every field as text (stripped), repeated fields (checkboxes) kept."""

    pairs: tuple[tuple[str, str], ...]

    def text(self, key: str) -> str:
        values = self.values(key)
        return values[-1] if values else ""

    def values(self, key: str) -> list[str]:
        return [v.strip() for k, v in self.pairs if k == key]

    def as_dict(self) -> dict[str, str]:
        return {k: v.strip() for k, v in self.pairs}


async def posted(request: Request) -> Posted:
    form = await request.form()
    return Posted(tuple((k, v) for k, v in form.multi_items() if isinstance(v, str)))


Form = Annotated[Posted, Depends(posted)]


def optional_number(text: str, label: str) -> float | None:
    """A number from a field; blank is None (the core says when it is needed)."""
    return None if not text else float(form_number(text, label, float))


def today_of(value: str | None) -> date:
    """The page's "today": ``today=YYYY-MM-DD`` when given, else the server's date."""
    return form_date(value, "today") or date.today()


def stream_url(name: str, page: str = "") -> str:
    path = f"/streams/{quote(name, safe='')}"
    return f"{path}/{page}" if page else path


def _with_today(url: str, today: str | None, **extra: str) -> str:
    pairs = {**extra, **({"today": today} if today else {})}
    return f"{url}?{urlencode(pairs)}" if pairs else url


def _expected(form: Posted) -> int:
    return form_version(form.text("expected_version"), blank=0)


def _save_posted(
    ctx: AppContext,
    name: str,
    form: Posted,
    kind: str,
    build: Callable[[Posted], dict[str, Any]],
    message: str,
    expected: int = 0,
) -> str:
    """The record a form describes, saved in stream ``name`` on version ``expected`` (0: a
    new record, which takes the next key of its kind when the form gives none); its key. The
    form's own message, if any, explains the change."""
    saved = ctx.workspace.steering.save_record(
        kind,
        build(form),
        author=WEB_AUTHOR,
        message=form.text("message") or message,
        stream=name,
        expected_version=expected,
    )
    return saved.key


def adding(error: ObeyaError, kind: str, key: Any) -> str:
    """The message of a refused "add" form: a taken key says so in words."""
    if isinstance(error, VersionConflict) and error.taken:
        return f"there is already a {kind} {key!r}; change it on its own form, or pick another key"
    return str(error)


# -- risks ------------------------------------------------------------------------------------


def risk_document(form: Posted, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The risk the form describes; an edit form (``base``) changes only what it shows, and
    never the key."""
    return posted_document(Risk, form.as_dict(), base=base, skip=("key",) if base else ())


def _risks_page(
    request: Request,
    ctx: AppContext,
    name: str,
    today: str | None,
    *,
    add: dict[str, str] | None = None,
    add_error: str | None = None,
    edit_key: str | None = None,
    edit: dict[str, str] | None = None,
    edit_error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    workspace = ctx.workspace
    info = workspace.stream(name)
    view = workspace.steering.risk_board(name, today_of(today))
    versions = {r.key: r.version.version for r in workspace.steering.records("risk", name)}
    next_key = workspace.steering.next_key("risk", name)
    forms: dict[str, dict[str, str]] = {}
    edits: dict[str, list[FormField]] = {}
    for state, cards in view["board"].items():
        for i, card in enumerate(cards, start=1):
            key = card["key"]
            forms[key] = {
                **form_values(Risk, card),
                "expected_version": str(versions.get(key, 0)),
                "message": "",
            }
            if key == edit_key and edit is not None:
                forms[key] = {**forms[key], **edit}
            edits[key] = form_fields(Risk, forms[key], id_prefix=f"e-{i}-{state}-", skip=("key",))
    added = add or {"state": "open"}
    return templates.TemplateResponse(
        request,
        "risks.html",
        {
            "info": info,
            "view": view,
            "columns": [(s, STATE_LABELS[s], view["board"][s]) for s in STATES],
            "states": [(s, STATE_LABELS[s]) for s in STATES],
            "forms": forms,
            "edits": edits,
            "add": added,
            "add_fields": form_fields(Risk, added, id_prefix="r-", next_key=next_key),
            "add_error": add_error,
            "next_key": next_key,
            "edit_key": edit_key,
            "edit_error": edit_error,
            "notice": notice,
            "today": today or "",
            "page_url": stream_url(name, "risks"),
            "stream_url": stream_url(name),
        },
        status_code=status,
    )


@router.get("/streams/{name}/risks", response_class=HTMLResponse)
def risks_page(
    request: Request, ctx: Ctx, name: str, today: str | None = None, saved: str | None = None
) -> Response:
    """The ROAM board: a column per state, highest exposure first, overdue and unowned risks
    marked; a form to add a risk and one per risk to change it."""
    notice = f"Saved risk {saved}." if saved else None
    return _risks_page(request, ctx, name, today, notice=notice)


@router.post("/streams/{name}/risks", response_class=HTMLResponse)
def add_risk(request: Request, ctx: Ctx, name: str, form: Form) -> Response:
    """Add a risk (refused when the key is taken: version 0 is expected)."""
    today = form.text("today") or None
    ctx.workspace.stream(name)
    try:
        key = _save_posted(ctx, name, form, "risk", risk_document, "added on the risk board")
    except ObeyaError as error:
        return _risks_page(
            request,
            ctx,
            name,
            today,
            add=form.as_dict(),
            add_error=adding(error, "risk", form.text("key")),
            status=error.http_status,
        )
    url = _with_today(stream_url(name, "risks"), today, saved=key)
    return RedirectResponse(url, status_code=303)


@router.post("/streams/{name}/risks/{key}", response_class=HTMLResponse)
def edit_risk(request: Request, ctx: Ctx, name: str, key: str, form: Form) -> Response:
    """Change a risk's state, owner, probability, impact or due date, on the version the
    form was loaded at; a stale version is refused and the form keeps what was typed."""
    today = form.text("today") or None
    workspace = ctx.workspace
    ctx.workspace.steering.stream_record("risk", key, name)
    try:
        expected = _expected(form)
        base = workspace.steering.stream_record("risk", key, name, expected or None).document
        workspace.steering.save_record(
            "risk",
            risk_document(form, base),
            author=WEB_AUTHOR,
            message=form.text("message"),
            stream=name,
            expected_version=expected,
        )
    except ObeyaError as error:
        if isinstance(error, NotFoundError):
            raise
        return _risks_page(
            request,
            ctx,
            name,
            today,
            edit_key=key,
            edit=form.as_dict(),
            edit_error=str(error),
            status=error.http_status,
        )
    url = _with_today(stream_url(name, "risks"), today, saved=key)
    return RedirectResponse(f"{url}#risk-{quote(key, safe='')}", status_code=303)


# -- history ----------------------------------------------------------------------------------


def history_rows(history: list[tuple[Any, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Newest first: each version's author, time, message and its changed fields with the
    value before and after."""
    rows = []
    before: dict[str, Any] = {}
    for version, document in history:
        after = flatten(document)
        rows.append(
            {
                "version": version.version,
                "author": version.author,
                "created_at": version.created_at,
                "message": version.message,
                "changes": [
                    {"field": f, "before": show(before.get(f)), "after": show(after.get(f))}
                    for f in version.changes
                ],
            }
        )
        before = after
    return list(reversed(rows))


@router.get("/streams/{name}/{page}/{key}/history", response_class=HTMLResponse)
def history_page(request: Request, ctx: Ctx, name: str, page: str, key: str) -> Response:
    """Every version of a risk, objective or roadmap item: who, when, why, what changed."""
    kind = HISTORY_KINDS.get(page)
    if kind is None:
        raise NotFoundError(f"no page {page!r}; history is kept for {', '.join(HISTORY_KINDS)}")
    info = ctx.workspace.stream(name)
    ctx.workspace.steering.stream_record(kind, key, name)
    history = ctx.workspace.steering.record_history(kind, key, stream=name)
    return templates.TemplateResponse(
        request,
        "record_history.html",
        {
            "info": info,
            "kind": kind,
            "key": key,
            "title": _title(history[-1][1], key),
            "rows": history_rows(history),
            "back_url": stream_url(name, page),
            "back_label": page.capitalize(),
            "stream_url": stream_url(name),
        },
    )


def _title(document: dict[str, Any], key: str) -> str:
    """What a record is called: a title, a plan's name or an experiment's hypothesis."""
    return str(document.get("title") or document.get("name") or document.get("hypothesis") or key)


# -- objectives -------------------------------------------------------------------------------


def in_unit(f: Declared, metric: str | None) -> Declared:
    """A key result's target or baseline as its metric counts: a share metric's (flow
    efficiency, defect share...) typed as 0.2, 20% or 20 %, another's as a number."""
    if metric in METRICS and METRICS[metric][1] == "share":
        return replace(f, spec=share(f.spec.label, f.spec.help))
    return f


def objective_document(form: Posted) -> dict[str, Any]:
    """The objective on the "add" form; key result rows with no key, title and target are
    left out."""
    posted = form.as_dict()
    results = []
    for i in range(KEY_RESULT_ROWS):
        prefix, where = f"kr-{i}-", f"key result {i + 1}"
        if not any(form.text(prefix + name) for name in _ROW_SIGNS):
            continue
        metric = form.text(prefix + "metric") or None
        read = {
            name: partial(from_text, in_unit(declared_field(KeyResult, name), metric), where=where)
            for name in _IN_UNIT
        }
        results.append(
            posted_document(KeyResult, posted, name_prefix=prefix, where=where, read=read)
        )
    return {**posted_document(Objective, posted), "key_results": results}


def _kr_rows(values: dict[str, str]) -> list[list[FormField]]:
    """The key result rows of the "add" form, their fields named ``kr-<row>-<field>``; no
    field is required, a blank row is left out."""

    def row(i: int) -> list[FormField]:
        prefix = f"kr-{i}-"
        return form_fields(
            KeyResult,
            values,
            id_prefix=prefix,
            name_prefix=prefix,
            label=lambda label: f"Key result {i + 1}: {label.lower()}",
            required=False,
        )

    return [row(i) for i in range(KEY_RESULT_ROWS)]


def _objectives_page(
    request: Request,
    ctx: AppContext,
    name: str,
    today: str | None,
    *,
    add: dict[str, str] | None = None,
    add_error: str | None = None,
    update_for: str | None = None,
    update: dict[str, str] | None = None,
    update_error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    workspace = ctx.workspace
    info = workspace.stream(name)
    view = workspace.steering.objectives(name, today_of(today))
    versions = {r.key: r.version.version for r in workspace.steering.records("objective", name)}
    next_key = workspace.steering.next_key("objective", name)
    return templates.TemplateResponse(
        request,
        "objectives.html",
        {
            "info": info,
            "view": view,
            "versions": versions,
            "add": add or {},
            "add_fields": form_fields(Objective, add or {}, id_prefix="o-", next_key=next_key),
            "kr_labels": [f.label for f in declared(KeyResult)],
            "kr_rows": _kr_rows(add or {}),
            "add_error": add_error,
            "next_key": next_key,
            "update_for": update_for,
            "update": update or {},
            "update_error": update_error,
            "notice": notice,
            "today": today or "",
            "page_url": stream_url(name, "objectives"),
            "stream_url": stream_url(name),
        },
        status_code=status,
    )


@router.get("/streams/{name}/objectives", response_class=HTMLResponse)
def objectives_page(
    request: Request, ctx: Ctx, name: str, today: str | None = None, saved: str | None = None
) -> Response:
    """Objectives with each key result's value now, where it comes from, target, progress."""
    notice = f"Saved objective {saved}." if saved else None
    return _objectives_page(request, ctx, name, today, notice=notice)


@router.post("/streams/{name}/objectives", response_class=HTMLResponse)
def add_objective(request: Request, ctx: Ctx, name: str, form: Form) -> Response:
    today = form.text("today") or None
    ctx.workspace.stream(name)
    try:
        key = _save_posted(ctx, name, form, "objective", objective_document, "objective set")
    except ObeyaError as error:
        return _objectives_page(
            request,
            ctx,
            name,
            today,
            add=form.as_dict(),
            add_error=adding(error, "objective", form.text("key")),
            status=error.http_status,
        )
    url = _with_today(stream_url(name, "objectives"), today, saved=key)
    return RedirectResponse(url, status_code=303)


@router.post("/streams/{name}/objectives/{key}/results/{result}", response_class=HTMLResponse)
def update_key_result(
    request: Request, ctx: Ctx, name: str, key: str, result: str, form: Form
) -> Response:
    """A by-hand key result's value now, saved as the objective's next version."""
    today = form.text("today") or None
    workspace = ctx.workspace
    ctx.workspace.steering.stream_record("objective", key, name)
    where = f"{key}/{result}"
    try:
        expected = _expected(form)
        doc = workspace.steering.stream_record("objective", key, name, expected or None).document
        results = [dict(r) for r in doc.get("key_results", [])]
        found = [r for r in results if r.get("key") == result]
        if not found:
            raise InputError(f"objective {key!r} has no key result {result!r}")
        if found[0].get("metric"):
            raise InputError(
                f"key result {result!r} is measured from {found[0]['metric']}; "
                "only a key result kept by hand takes a value"
            )
        found[0]["current"] = from_text(declared_field(KeyResult, "current"), form.text("current"))
        workspace.steering.save_record(
            "objective",
            {**doc, "key_results": results},
            author=WEB_AUTHOR,
            message=form.text("message") or f"{result}: value now {form.text('current')}",
            stream=name,
            expected_version=expected,
        )
    except ObeyaError as error:
        if isinstance(error, NotFoundError):
            raise
        return _objectives_page(
            request,
            ctx,
            name,
            today,
            update_for=where,
            update=form.as_dict(),
            update_error=str(error),
            status=error.http_status,
        )
    url = _with_today(stream_url(name, "objectives"), today, saved=key)
    return RedirectResponse(f"{url}#objective-{quote(key, safe='')}", status_code=303)


# -- roadmap ----------------------------------------------------------------------------------


def item_document(form: Posted) -> dict[str, Any]:
    """The improvement item on the roadmap form."""
    doc: dict[str, Any] = {
        "key": form.text("key"),
        "title": form.text("title"),
        "kind": form.text("kind") or "kaizen",
        "status": form.text("status") or "idea",
        "owners": split_list(form.text("owners")),
        "map": form.text("map"),
        "step": form.text("step"),
        "target": form.text("target") or "constraint",
    }
    for key, label in SCORES:
        doc[key] = optional_number(form.text(key), label)
    if doc["risk_reduction"] is None:
        doc.pop("risk_reduction")  # the core's default: 0
    return doc


def event_document(form: Posted) -> dict[str, Any]:
    """The kaizen event on its form (outcomes one per line)."""
    return {
        "key": form.text("key"),
        "title": form.text("title"),
        "start": form.text("start") or None,
        "end": form.text("end") or None,
        "participants": split_list(form.text("participants")),
        "outcomes": [line.strip() for line in form.text("outcomes").splitlines() if line.strip()],
        "improvements": [v for v in form.values("improvements") if v],
    }


def _item_form(stored: Any | None) -> dict[str, str]:
    if stored is None:
        return {"kind": "kaizen", "status": "idea", "target": "constraint", "expected_version": "0"}
    doc = stored.document
    values = {k: show(doc.get(k)) if k in dict(SCORES) else doc.get(k) for k in ITEM_FIELDS}
    values["owners"] = ", ".join(doc.get("owners", []))
    values["expected_version"] = str(stored.version.version)
    return {k: str(v or "") for k, v in values.items()}


def _roadmap_page(
    request: Request,
    ctx: AppContext,
    name: str,
    *,
    item: dict[str, str] | None = None,
    item_error: str | None = None,
    event: dict[str, Any] | None = None,
    event_error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    workspace = ctx.workspace
    info = workspace.stream(name)
    events = sorted(
        (r.document for r in workspace.steering.records("kaizen-event", name)),
        key=lambda e: (e["start"], e["key"]),
        reverse=True,
    )
    editing = item is not None and item.get("expected_version", "0") not in ("", "0")
    return templates.TemplateResponse(
        request,
        "roadmap.html",
        {
            "info": info,
            "items": workspace.steering.roadmap(name),
            "events": events,
            "item": item or _item_form(None),
            "editing": editing,
            "item_error": item_error,
            "event": event or {},
            "event_error": event_error,
            "next_item": workspace.steering.next_key("improvement", name),
            "next_event": workspace.steering.next_key("kaizen-event", name),
            "kinds": KINDS,
            "statuses": STATUSES,
            "targets": TARGETS,
            "scores": SCORES,
            "notice": notice,
            "page_url": stream_url(name, "roadmap"),
            "stream_url": stream_url(name),
        },
        status_code=status,
    )


@router.get("/streams/{name}/roadmap", response_class=HTMLResponse)
def roadmap_page(
    request: Request, ctx: Ctx, name: str, edit: str | None = None, saved: str | None = None
) -> Response:
    """The improvement items in roadmap order, a form to add one (or edit the item named by
    ``edit``), and the kaizen events."""
    item = None
    if edit:
        item = _item_form(ctx.workspace.steering.stream_record("improvement", edit, name))
    notice = f"Saved {saved}." if saved else None
    return _roadmap_page(request, ctx, name, item=item, notice=notice)


@router.post("/streams/{name}/roadmap", response_class=HTMLResponse)
def save_item(request: Request, ctx: Ctx, name: str, form: Form) -> Response:
    """Add an improvement item, or save an edit on the version it was loaded at."""
    ctx.workspace.stream(name)
    try:
        expected = _expected(form)
        key = _save_posted(
            ctx,
            name,
            form,
            "improvement",
            item_document,
            ("edited" if expected else "added to the roadmap"),
            expected=expected,
        )
    except ObeyaError as error:
        return _roadmap_page(
            request,
            ctx,
            name,
            item=form.as_dict(),
            item_error=adding(error, "roadmap item", form.text("key")),
            status=error.http_status,
        )
    url = _with_today(stream_url(name, "roadmap"), None, saved=key)
    return RedirectResponse(url, status_code=303)


@router.post("/streams/{name}/kaizen-events", response_class=HTMLResponse)
def add_event(request: Request, ctx: Ctx, name: str, form: Form) -> Response:
    """Record a kaizen event: when, who took part, what came out, which items it worked on."""
    ctx.workspace.stream(name)
    try:
        key = _save_posted(ctx, name, form, "kaizen-event", event_document, "kaizen event recorded")
    except ObeyaError as error:
        event: dict[str, Any] = {**form.as_dict(), "improvements": form.values("improvements")}
        return _roadmap_page(
            request,
            ctx,
            name,
            event=event,
            event_error=adding(error, "kaizen event", form.text("key")),
            status=error.http_status,
        )
    url = _with_today(stream_url(name, "roadmap"), None, saved=key)
    return RedirectResponse(f"{url}#events-heading", status_code=303)


# -- impediments ------------------------------------------------------------------------------

#: What an impediment becomes, by the URL segment of its form, and the page that shows it.
IMPEDIMENT_KINDS = {"risk": ("risk", "risks"), "improvement": ("improvement", "roadmap")}


@router.post("/streams/{name}/blockers/{kind}", response_class=HTMLResponse)
def impediment_record(request: Request, ctx: Ctx, name: str, kind: str, form: Form) -> Response:
    """The dashboard's one click: a blocked item's blocker (``item_id``, ``reason``) or a
    cross-team pair (``waiting_team``, ``blocking_team``) saved as a new risk or improvement
    that keeps the link; then its board, at the new record."""
    from obeya.core.blockers.impediments import Impediment

    if kind not in IMPEDIMENT_KINDS:
        raise NotFoundError(f"an impediment becomes a risk or an improvement, not a {kind!r}")
    ctx.workspace.stream(name)
    record_kind, page = IMPEDIMENT_KINDS[kind]
    try:
        impediment = Impediment(
            form.text("item_id"),
            form.text("reason"),
            form.text("waiting_team"),
            form.text("blocking_team"),
        )
    except ValueError as error:
        raise InputError(str(error)) from None
    saved = ctx.workspace.steering.record_impediment(
        record_kind, name, impediment, author=WEB_AUTHOR
    )
    anchor = f"#risk-{quote(saved.key, safe='')}" if record_kind == "risk" else ""
    return RedirectResponse(
        _with_today(stream_url(name, page), None, saved=saved.key) + anchor, status_code=303
    )
