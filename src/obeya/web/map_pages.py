"""The value stream map pages: saved maps, one map edited beside its live drawing, and
variants compared side by side.

The pages use the same workspace calls and calculations as ``/api/maps``: a page's figures are
:func:`obeya.core.maps.calculations.calculate` of the map, and its drawing is
:func:`obeya.render.vsm_svg.render_svg`. The edit form is a table of text fields; it is turned
into a map on top of the version it was loaded from (``expected_version``), so what the table
does not show (batch size, availability, handoffs, information flows...) is kept. "Preview"
draws the edited map without saving (HTMX swaps the drawing and figures in; without
JavaScript the form posts and the whole page comes back); "Save" stores a new version, and a
save made on a stale version is refused with the store's message.

An edit the map cannot take is refused in words the table uses: the step by its row number and
name, the field by its column label ("Step 3 (Review): Share of items is 'abc'; give a
number"), the model's own errors said the same way from the fields they carry.
The share of items is edited as a percentage (see :func:`percent_value`); the map keeps the
fraction.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.auth import sees
from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.maps.calculations import MapFigures, calculate
from obeya.core.maps.compare import FigureDelta
from obeya.core.maps.files import map_to_dict
from obeya.core.maps.model import Link, MapError, Step, ValueStreamMap
from obeya.errors import InputError, ObeyaError
from obeya.render import map_figures
from obeya.render.map_figures import map_share
from obeya.render.numbers import hours, money, number, parse_share, share_text
from obeya.render.vsm_svg import render_svg
from obeya.store import StoredMap
from obeya.web.forms import form_version
from obeya.web.pages import templates
from obeya.workspace import discovered_message

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

#: The author the pages pass when they save: the store records the signed-in user instead,
#: so the forms ask for no author.
WEB_AUTHOR = "web"

#: The editable columns of a step: form key, label, Step field, blank means None.
STEP_FIELDS = (
    ("name", "Step", "name"),
    ("team", "Team", "team"),
    ("pt", "PT h", "process_time_hours"),
    ("lt", "LT h", "lead_time_hours"),
    ("ca", "%C&A", "complete_accurate"),
    ("people", "People", "people"),
    ("capacity", "Capacity/day", "capacity_per_day"),
    ("inventory", "Inventory before", "inventory_before"),
    ("visits", "Share of items", "visit_share"),
    ("link", "Link", "link"),
)
OPTIONAL = {"team", "capacity"}
#: Map-level fields: form key, label, ValueStreamMap field, help.
MAP_FIELDS = (
    ("demand", "Demand per day", "demand_per_day", "items the customer needs a day"),
    ("hours", "Available hours per day", "available_hours_per_day", "working hours a day"),
    ("cost", "Hourly cost", "hourly_cost", "money per hour, to price the waste"),
)
LINKS = [link.value for link in Link]
#: The label of each map and step field in an error message: the table's column labels, the
#: step's name as "Name", and the step fields the table does not show.
FIELD_LABELS = {
    **{attr: label for _, label, attr in STEP_FIELDS},
    **{attr: label for _, label, attr, _ in MAP_FIELDS},
    "name": "Name",
    "availability": "Availability",
    "batch_size": "Batch size",
    "handoffs": "Handoffs",
}

#: Figures where lower is better (suffixes of the compared names), and higher is better.
LOWER_BETTER = (
    "lead_time_hours",
    "process_time_hours",
    "wait_hours",
    "inventory_wait_hours",
    "handoffs",
)
HIGHER_BETTER = ("activity_ratio", "complete_accurate")
FIGURE_LABELS = {
    "lead_time_hours": "Lead time",
    "process_time_hours": "Process time",
    "wait_hours": "Wait",
    "activity_ratio": "Activity ratio",
    "rolled_complete_accurate": "Rolled %C&A",
    "complete_accurate": "%C&A",
    "takt_time_hours": "Takt time",
    "inventory_wait_hours": "Inventory wait",
    "capacity_per_day": "Capacity per day",
    "utilisation": "Utilisation",
    "handoffs": "Handoffs per item",
    "visit_share": "Share of items",
    "people": "People",
    "hours_per_item": "hours per item",
    "money_per_period": "money per period",
}
WASTE_LABELS = {
    "waiting": "Waiting",
    "rework": "Rework",
    "handoffs": "Handoffs",
    "partially_done_work": "Partially done work",
    "total": "All waste",
}


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields (the map forms upload no files)."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(form_fields)]


def _url(name: str, variant: str | None = None) -> str:
    path = f"/maps/{quote(name, safe='')}"
    return path if variant is None else f"{path}/{quote(variant, safe='')}"


def _no_compare(variant: str) -> None:
    if variant == "compare":
        raise InputError("'compare' cannot name a variant: /maps/{name}/compare compares")


# -- formatting: obeya.render.numbers, by figure kind (obeya.render.map_figures) ----------------


def percent_text(value: float) -> str:
    """A share (0.05) as the form shows it, in percent ("5 %"); up to 6 significant digits."""
    return share_text(value)


def field_text(value: Any) -> str:
    """A map value in a form field; floats without noise, up to 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.value
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# -- the edit form as rows of text, and back into a map ---------------------------------------


def form_of(vsm: ValueStreamMap) -> dict[str, Any]:
    """The form's text values for a map: ``rows`` (one per step) and the map-level fields."""
    rows = [
        {
            "orig": s.name,
            **{key: field_text(getattr(s, attr)) for key, _, attr in STEP_FIELDS},
            "visits": percent_text(s.visit_share),
        }
        for s in vsm.steps
    ]
    level = {key: field_text(getattr(vsm, attr)) for key, _, attr, _ in MAP_FIELDS}
    return {"rows": rows, "level": level}


def form_from_post(fields: Mapping[str, str]) -> dict[str, Any]:
    """The form's text values as posted; rows ticked "remove" are left out."""
    # Rows are s-<i>-<field>; a posted name that is not (s-abc-name) is no row of this form.
    indices = sorted(
        {
            int(parts[1])
            for parts in (key.split("-", 2) for key in fields)
            if len(parts) == 3 and parts[0] == "s" and parts[1].isdigit() and len(parts[1]) < 6
        }
    )
    rows = []
    for i in indices:
        if fields.get(f"s-{i}-remove"):
            continue
        row = {key: fields.get(f"s-{i}-{key}", "").strip() for key, _, _ in STEP_FIELDS}
        row["orig"] = fields.get(f"s-{i}-orig", "")
        rows.append(row)
    level = {key: fields.get(key, "").strip() for key, _, _, _ in MAP_FIELDS}
    return {"rows": rows, "level": level}


def _value(text: str, original: Any, where: str, optional: bool) -> float | None:
    """A number from a field; unchanged text keeps the stored value exactly."""
    if original is not None and not isinstance(original, str) and text == field_text(original):
        return float(original)
    if not text:
        if optional:
            return None
        raise MapError(f"{where} is empty; give a number")
    try:
        value = float(text)
    except ValueError:
        raise MapError(f"{where} is {text!r}; give a number") from None
    if not math.isfinite(value):
        raise MapError(f"{where} is {text!r}; give a number")
    return value


def _squeeze(text: str) -> str:
    return "".join(text.split())


def percent_value(text: str, original: float | None, where: str) -> float:
    """A share of items from a field in percent, as a fraction: "5", "5 %" and "5%" are 0.05.

    A bare number of 1 or less is refused: it may be a fraction (0.05 for 5 %) or a percentage
    (0.05 %); with the % sign it is the percentage. Unchanged text (spaces aside) keeps the
    stored value exactly."""
    if original is not None and _squeeze(text) == _squeeze(percent_text(original)):
        return float(original)
    body = text.strip()
    sign = body.endswith("%")
    body = body.removesuffix("%").strip()
    if not body:
        raise MapError(f"{where} is empty; give a percentage, e.g. 100 % (every item)")
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise MapError(f"{where} is {text!r}; give a number, in percent") from None
    if not value.is_finite():
        raise MapError(f"{where} is {text!r}; give a number, in percent")
    # Compared before dividing (1e999999 % must not overflow); a share too small for a float
    # (1e-400 %) is 0.
    share = float(value.scaleb(-2)) if 0 < value <= 100 else 0.0
    if share == 0:
        raise MapError(
            f"{where} is {text!r}; give a percentage above 0 and at most 100 "
            "(5 %: one item in twenty)"
        )
    if not sign and value <= 1:
        fraction, percent = f"{value.normalize():f}", f"{(value * 100).normalize():f}"
        raise MapError(
            f"{where} is {text!r}; it is in percent: write {percent} for {percent} % of the "
            f"items, or {fraction} % if you mean {fraction} %"
        )
    return share


def share_value(text: str, original: float | None, where: str) -> float:
    """%C&A from a field, as every share is typed: ``0.9``, ``90%`` or ``90 %`` (a bare number
    above 1 is refused, not guessed at); unchanged text keeps the stored value exactly."""
    if original is not None and text == field_text(original):
        return float(original)
    if not text.strip():
        raise MapError(f"{where} is empty; give a share, e.g. 0.9 or 90 %")
    try:
        return parse_share(text, field=where)
    except InputError as exc:
        raise MapError(str(exc)) from None


def _step_ref(i: int, name: str) -> str:
    """A step as the editor names it: its row number and its name."""
    return f"Step {i + 1} ({name})" if name.strip() else f"Step {i + 1}"


def readable(error: MapError, steps: Sequence[Step]) -> str:
    """A model error in the editor's words, from the fields it carries: ``steps[2]`` is
    "Step 3 (Review)", a field is its column label, a share of items is in percent."""
    if error.field == "steps":
        return "The map has no steps left; keep at least one"
    if error.field is None:
        return str(error)
    label = FIELD_LABELS.get(error.field, error.field.replace("_", " "))
    if error.step is None:
        return f"{label} {error.rule}"
    i = error.step
    ref = _step_ref(i, steps[i].name if i < len(steps) else "")
    if error.field == "visit_share" and isinstance(error.value, float):
        shown = percent_text(error.value)
        return f"{ref}: {label} is {shown}; give a percentage above 0 and at most 100"
    rule = error.rule
    if error.other is not None:  # the other field the rule names, by its label too
        rule = rule.replace(error.other, FIELD_LABELS.get(error.other, error.other))
    return f"{ref}: {label} {rule}"


def build_map(base: ValueStreamMap, form: dict[str, Any]) -> ValueStreamMap:
    """The map the form describes, on top of ``base`` (what the form does not show is kept).

    Raises :class:`MapError` naming the step by its row number and name and the field by its
    label (a model error translated by :func:`readable`)."""
    old = {s.name: s for s in base.steps}
    steps: list[Step] = []
    renamed: dict[str, str] = {}
    for i, row in enumerate(form["rows"]):
        step = old.get(row["orig"]) or Step(name="", process_time_hours=0.0, lead_time_hours=0.0)
        changes: dict[str, Any] = {"name": row["name"]}
        for key, label, attr in STEP_FIELDS:
            where = f"{_step_ref(i, row['name'])}: {label}"
            if key == "name":
                continue
            if key == "team":
                changes["team"] = row["team"] or None
            elif key == "link":
                try:
                    changes["link"] = Link(row["link"] or "push")
                except ValueError:
                    raise MapError(
                        f"{where} is {row['link']!r}; give one of {', '.join(LINKS)}"
                    ) from None
            elif key == "visits":
                changes[attr] = percent_value(row[key], step.visit_share, where)
            elif key == "ca":
                changes[attr] = share_value(row[key], step.complete_accurate, where)
            else:
                changes[attr] = _value(row[key], getattr(step, attr), where, key in OPTIONAL)
        steps.append(dataclasses.replace(step, **changes) if step.name else Step(**changes))
        if row["orig"] and row["orig"] in old and row["orig"] != row["name"]:
            renamed[row["orig"]] = row["name"]
    flows = tuple(
        dataclasses.replace(
            f, source=renamed.get(f.source, f.source), target=renamed.get(f.target, f.target)
        )
        for f in base.information_flows
        if f.source in {*renamed, *(s.name for s in steps), "customer", "supplier", "control"}
        and f.target in {*renamed, *(s.name for s in steps), "customer", "supplier", "control"}
    )
    # Loops back follow their steps' renames; a loop whose step is gone goes with it.
    position = {s.name: i for i, s in enumerate(steps)}
    moved = (
        dataclasses.replace(
            loop,
            source=renamed.get(loop.source, loop.source),
            target=renamed.get(loop.target, loop.target),
        )
        for loop in base.rework_loops
    )
    loops = tuple(
        loop
        for loop in moved
        if loop.source in position
        and loop.target in position
        and position[loop.target] < position[loop.source]
    )
    level: dict[str, Any] = {}
    for key, label, attr, _ in MAP_FIELDS:
        value = _value(form["level"][key], getattr(base, attr), label, key != "hours")
        level[attr] = value
    try:
        return dataclasses.replace(
            base,
            steps=tuple(steps),
            information_flows=flows,
            rework_loops=loops,
            extra=dict(base.extra),
            **level,
        )
    except MapError as error:
        raise MapError(readable(error, steps)) from None
    except TypeError as error:  # pragma: no cover - a field the form cannot produce
        raise MapError(str(error)) from None


def _new_row(form: dict[str, Any]) -> None:
    taken = {row["name"] for row in form["rows"]}
    n = len(form["rows"]) + 1
    name = "New step"
    while name in taken:
        name = f"New step {n}"
        n += 1
    form["rows"].append(
        {
            "orig": "",
            "name": name,
            "team": "",
            "pt": "1",
            "lt": "1",
            "ca": "1",
            "people": "1",
            "capacity": "",
            "inventory": "0",
            "visits": "100 %",
            "link": "push",
        }
    )


# -- what a map page shows --------------------------------------------------------------------


def figures_view(figs: MapFigures) -> dict[str, Any]:
    """The figures panel: totals, the constraint and waste, formatted with their raw values."""
    totals = [
        ("lead_time_hours", "Lead time", hours(figs.lead_time_hours), figs.lead_time_hours),
        (
            "process_time_hours",
            "Process time",
            hours(figs.process_time_hours),
            figs.process_time_hours,
        ),
        ("activity_ratio", "Activity ratio", map_share(figs.activity_ratio), figs.activity_ratio),
        (
            "rolled_complete_accurate",
            "Rolled %C&A",
            map_share(figs.rolled_complete_accurate),
            figs.rolled_complete_accurate,
        ),
        ("takt_time_hours", "Takt time", hours(figs.takt_time_hours), figs.takt_time_hours),
    ]
    waste = figs.waste
    rows = [
        {
            "key": c.category,
            "label": WASTE_LABELS[c.category],
            "hours": hours(c.hours_per_item),
            "raw": c.hours_per_item,
            "money": money(c.money_per_period),
            "biggest": c.category == waste.biggest,
            "bar": (
                c.hours_per_item / waste.total_hours_per_item * 100
                if waste.total_hours_per_item
                else 0.0
            ),
        }
        for c in waste.categories
    ]
    return {
        "totals": [
            {"key": k, "label": label, "value": text, "raw": raw} for k, label, text, raw in totals
        ],
        "days": {
            "lead_time_hours": figs.lead_time_hours / 24 if figs.lead_time_hours >= 24 else None,
            "process_time_hours": (
                figs.process_time_hours / 24 if figs.process_time_hours >= 24 else None
            ),
        },
        "constraint": figs.constraint,
        "waste": rows,
        "waste_total": hours(waste.total_hours_per_item),
        "waste_money": money(waste.total_money_per_period),
        "priced": waste.total_money_per_period is not None,
        "period_days": number(waste.period_days),
        "steps": [
            {
                "name": s.name,
                "capacity": number(s.capacity_per_day),
                "utilisation": map_share(s.utilisation),
                "wait": hours(s.wait_hours),
            }
            for s in figs.steps
        ],
    }


def _live(vsm: ValueStreamMap) -> dict[str, Any]:
    figs = calculate(vsm)
    return {"svg": render_svg(vsm, figs), "figures": figures_view(figs)}


def _map_page(
    request: Request,
    ctx: AppContext,
    stored: StoredMap,
    *,
    form: dict[str, Any] | None = None,
    draft: ValueStreamMap | None = None,
    error: str | None = None,
    copy_error: str | None = None,
    notice: str | None = None,
    message: str = "",
    copy_to: str = "future",
    expected_version: int | None = None,
    status: int = 200,
    partial: bool = False,
) -> Response:
    vsm = stored.map
    shown = draft if draft is not None else vsm
    others = [
        info.variant
        for info in ctx.workspace.maps()
        if info.name == vsm.name and info.variant != vsm.variant
    ]
    context_: dict[str, Any] = {
        "vsm": vsm,
        "stored": stored,
        "live": _live(shown),
        "preview": draft is not None and error is None,
        "draft_failed": error is not None,
        "error": error,
        "copy_error": copy_error,
        "notice": notice,
        "form": form if form is not None else form_of(vsm),
        "step_fields": STEP_FIELDS,
        "map_fields": MAP_FIELDS,
        "links": LINKS,
        "message": message,
        "copy_to": copy_to,
        "expected_version": (
            expected_version if expected_version is not None else stored.version.version
        ),
        "history": list(reversed(ctx.workspace.map_history(vsm.name, vsm.variant))),
        "others": others,
        # An unedited discovered map is the stream's twin: simulate that, not a second model.
        "twin_stream": ctx.workspace.map_twin_stream(stored),
        "page_url": _url(vsm.name, vsm.variant),
        "map_url": _url(vsm.name),
        "quoted_variant": quote(vsm.variant, safe=""),
    }
    name = "map_live.html" if partial else "map.html"
    return templates.TemplateResponse(request, name, context_, status_code=status)


# -- routes -----------------------------------------------------------------------------------


@router.get("/maps", response_class=HTMLResponse)
def maps_page(request: Request, ctx: Ctx) -> Response:
    """Saved maps and their variants, and a button per stream to discover its map."""
    workspace = ctx.workspace
    return templates.TemplateResponse(
        request,
        "maps.html",
        {
            "maps": [m for m in workspace.maps() if sees(request, m.stream)],
            "streams": [i for i in workspace.streams() if i.events and sees(request, i.name)],
            "url": _url,
        },
    )


@router.post("/streams/{stream}/map")
def discover_page(request: Request, ctx: Ctx, stream: str, fields: Fields) -> Response:
    """Discover the stream's current-state map, save it as variant "current", show it."""
    workspace = ctx.workspace
    name = fields.get("name", "").strip() or stream
    _, drawn = workspace.discovered_map(stream, name)
    workspace.save_map(
        drawn,
        author=WEB_AUTHOR,
        message=discovered_message(stream),
        stream=stream,
    )
    return RedirectResponse(f"{_url(name, 'current')}?saved=1", status_code=303)


@router.get("/maps/{name}/compare", response_class=HTMLResponse)
def compare_page(
    request: Request, ctx: Ctx, name: str, variants: str = "current,future"
) -> Response:
    """Variants side by side: their drawings and every figure with delta and % change."""
    workspace = ctx.workspace
    names = [v.strip() for v in variants.split(",") if v.strip()]
    comparison = workspace.compare_map_variants(name, names)
    stored = [workspace.get_map(name, v) for v in names]
    drawings = [
        {"variant": s.map.variant, "version": s.version.version, "svg": render_svg(s.map)}
        for s in stored
    ]
    tables = [
        {
            "variant": v.variant,
            "constraint": v.constraint,
            "biggest_waste": v.biggest_waste,
            "groups": compare_rows(v.figures),
        }
        for v in comparison.variants
    ]
    available = sorted({info.variant for info in workspace.maps() if info.name == name})
    return templates.TemplateResponse(
        request,
        "map_compare.html",
        {
            "name": name,
            "base": names[0],
            "base_constraint": comparison.base.constraint.step
            if comparison.base.constraint
            else None,
            "base_waste": comparison.base.waste.biggest,
            "drawings": drawings,
            "tables": tables,
            "variants": ",".join(names),
            "available": available,
            "map_url": _url(name),
            "url": _url,
        },
    )


@router.get("/maps/{name}/{variant}.svg")
def map_svg(ctx: Ctx, name: str, variant: str) -> Response:
    """The drawing, to download or paste into a slide."""
    vsm = ctx.workspace.get_map(name, variant).map
    return Response(
        render_svg(vsm),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{_filename(name, variant)}.svg"'},
    )


@router.get("/maps/{name}/{variant}.png")
def map_png(ctx: Ctx, name: str, variant: str) -> Response:
    """The drawing as a PNG, for slides and documents that take no SVG."""
    from obeya.render.raster import svg_to_png

    vsm = ctx.workspace.get_map(name, variant).map
    return Response(
        svg_to_png(render_svg(vsm)),
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="{_filename(name, variant)}.png"'},
    )


@router.get("/maps/{name}/{variant}.json")
def map_json(ctx: Ctx, name: str, variant: str) -> Response:
    """The map document (a map file that ``obeya map`` and the API read back)."""
    vsm = ctx.workspace.get_map(name, variant).map
    return Response(
        json.dumps(map_to_dict(vsm), ensure_ascii=False, indent=2) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_filename(name, variant)}.json"'},
    )


def _filename(name: str, variant: str) -> str:
    text = f"{name}-{variant}"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)


@router.get("/maps/{name}/{variant}", response_class=HTMLResponse)
def map_page(
    request: Request, ctx: Ctx, name: str, variant: str, saved: int | None = None
) -> Response:
    """The drawing, its figures, the editable table of steps and the history."""
    stored = ctx.workspace.get_map(name, variant)
    notice = f"Saved version {saved}." if saved is not None else None
    return _map_page(request, ctx, stored, notice=notice)


@router.post("/maps/{name}/{variant}/preview", response_class=HTMLResponse)
def preview_page(request: Request, ctx: Ctx, name: str, variant: str, fields: Fields) -> Response:
    """The edited map drawn, nothing saved: the drawing and figures alone for HTMX, else the
    whole page."""
    return _edit(request, ctx, name, variant, fields, action="preview")


@router.post("/maps/{name}/{variant}", response_class=HTMLResponse)
def edit_page(request: Request, ctx: Ctx, name: str, variant: str, fields: Fields) -> Response:
    """The edit form's buttons: preview, add a step, save."""
    return _edit(request, ctx, name, variant, fields, action=fields.get("action") or "preview")


def _edit(
    request: Request,
    ctx: Ctx,
    name: str,
    variant: str,
    fields: dict[str, str],
    *,
    action: str,
) -> Response:
    workspace = ctx.workspace
    partial = request.headers.get("HX-Request") == "true" and action == "preview"
    expected = form_version(fields.get("expected_version"))
    newest = workspace.get_map(name, variant)
    base = newest if expected == newest.version.version else _version(ctx, name, variant, expected)
    form = form_from_post(fields)
    if action == "add":
        _new_row(form)
    message = fields.get("message", "").strip()
    keep: dict[str, Any] = {"message": message, "expected_version": expected}
    try:
        draft = build_map(base.map, form)
    except MapError as error:
        status = 200 if partial else error.http_status
        return _map_page(
            request,
            ctx,
            newest,
            form=form,
            error=str(error),
            status=status,
            partial=partial,
            **keep,
        )
    if action != "save":
        return _map_page(request, ctx, newest, form=form, draft=draft, partial=partial, **keep)
    try:
        saved = workspace.save_map(
            draft, author=WEB_AUTHOR, message=message, expected_version=expected
        )
    except ObeyaError as error:
        return _map_page(
            request,
            ctx,
            newest,
            form=form,
            error=str(error),
            status=error.http_status,
            **keep,
        )
    return RedirectResponse(f"{_url(name, variant)}?saved={saved.version}", status_code=303)


def _version(ctx: AppContext, name: str, variant: str, version: int) -> StoredMap:
    return ctx.workspace.get_map(name, variant, version)


@router.post("/maps/{name}/{variant}/copy", response_class=HTMLResponse)
def copy_page(request: Request, ctx: Ctx, name: str, variant: str, fields: Fields) -> Response:
    """Start a variant as a copy of this one, and go to it."""
    to = fields.get("to", "").strip()
    try:
        if not to:
            raise InputError("give the new variant a name, e.g. future")
        _no_compare(to)
        ctx.workspace.copy_map_variant(name, variant, to, author=WEB_AUTHOR)
    except ObeyaError as error:
        stored = ctx.workspace.get_map(name, variant)
        return _map_page(
            request, ctx, stored, copy_error=str(error), copy_to=to, status=error.http_status
        )
    return RedirectResponse(f"{_url(name, to)}?saved=1", status_code=303)


# -- the comparison table ---------------------------------------------------------------------


def _direction(figure: str) -> int:
    """-1: lower is better, +1: higher is better, 0: it depends."""
    if figure.startswith("waste."):
        return -1
    last = figure.rsplit(".", 1)[-1]
    if last in LOWER_BETTER:
        return -1
    if last in HIGHER_BETTER or last == "rolled_complete_accurate":
        return 1
    return 0


def _minus(text: str) -> str:
    """The page's typographic minus sign (−) in a signed figure."""
    return text.replace("-", "−")


def compare_rows(figures: tuple[FigureDelta, ...]) -> list[dict[str, Any]]:
    """The comparison's rows grouped for reading: totals, each step, waste."""
    groups: dict[str, dict[str, Any]] = {}
    for f in figures:
        parts = f.figure.split(".")
        if parts[0] == "totals":
            group, label = "Totals", FIGURE_LABELS.get(parts[1], parts[1])
        elif parts[0] == "steps":
            step, key = ".".join(parts[1:-1]), parts[-1]
            group, label = f"Step: {step}", FIGURE_LABELS.get(key, key)
        else:
            category, key = parts[1], parts[2]
            group = "Waste"
            label = f"{WASTE_LABELS.get(category, category)}, {FIGURE_LABELS.get(key, key)}"
        kind = map_figures.kind(f.figure)
        direction = _direction(f.figure)
        verdict = ""
        if f.delta and direction:
            verdict = "better" if f.delta * direction > 0 else "worse"
        groups.setdefault(group, {"title": group, "rows": []})["rows"].append(
            {
                "figure": f.figure,
                "label": label,
                "base": map_figures.shown(f.base, kind),
                "value": map_figures.shown(f.value, kind),
                "delta": _minus(map_figures.delta(f.delta, kind)),
                "change": _minus(map_figures.change(f.change_pct)),
                "raw_delta": "" if f.delta is None else repr(f.delta),
                "verdict": verdict,
                "changed": f.changed,
            }
        )
    return list(groups.values())
