"""Improvement experiments of a value stream in the browser: the saved experiments with their
verdicts, and a form that evaluates an experiment on the stream's data (Evaluate) or saves it
as a record (Save), then shows the result with a chart of both windows' values.

Every figure is the core's: :func:`~obeya.core.steering.experiments.run_experiment` on the
stream's per-item rows, as ``GET /api/streams/{name}/experiment`` and ``obeya experiment
evaluate --stream`` compute it; a saved experiment is read through
:meth:`~obeya.workspace.Workspace.experiment`, the path of the API and the overview. The chart
(:func:`obeya.render.experiment.experiment_chart`) is drawn from that document and the values
the core compared. Refusals (a window that is not dates, overlapping windows, a window without
finished items) are shown on the form, naming the field, with what was typed kept.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.metrics import FlowFilter
from obeya.core.steering.experiments import (
    METRICS,
    Window,
    check_windows,
    metric,
    run_experiment,
    window_values,
)
from obeya.core.steering.saved import experiment_record_from_dict
from obeya.errors import InputError, ObeyaError
from obeya.render.experiment import experiment_chart
from obeya.web.forms import form_date
from obeya.web.map_pages import WEB_AUTHOR
from obeya.web.pages import templates
from obeya.web.steering_pages import Form, Posted, adding, stream_url

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

PAGE = "experiments"
#: The windows on the form: (field prefix, the name errors and labels use).
WINDOWS = (("baseline", "Baseline"), ("trial", "Trial"))
VERDICTS = {
    "improved": ("✓", "Improved", "badge-ok"),
    "worse": ("✗", "Worse", "badge-alert"),
    "no change": ("=", "No change", ""),
}


templates.env.globals["verdicts"] = VERDICTS


# -- reading the form -------------------------------------------------------------------------


def form_window(form: Posted, prefix: str, label: str) -> Window:
    """A window from its from/to date fields; errors name the field as the page labels it."""
    start = form_date(form.text(f"{prefix}_from"), f"{label} from")
    end = form_date(form.text(f"{prefix}_to"), f"{label} to")
    if start is None or end is None:
        which = "from" if start is None else "to"
        raise InputError(f"{label} {which} is empty; give the window's {which} date, YYYY-MM-DD")
    return Window(start, end, label)


def experiment_document(form: Posted) -> dict[str, Any]:
    """The experiment record the form describes (windows as ``YYYY-MM-DD..YYYY-MM-DD``)."""
    baseline, trial = (form_window(form, prefix, label) for prefix, label in WINDOWS)
    check_windows(baseline, trial)
    return {
        "key": form.text("key"),
        "hypothesis": form.text("hypothesis"),
        "metric": form.text("metric") or "cycle_time",
        "guard": form.text("guard") or None,
        "baseline": str(baseline),
        "trial": str(trial),
        "owner": form.text("owner"),
    }


def _form_of(doc: dict[str, Any]) -> dict[str, str]:
    """A saved experiment as the form shows it (without its key: a new one needs its own)."""
    values = {
        "hypothesis": doc.get("hypothesis") or "",
        "metric": doc.get("metric") or "cycle_time",
        "guard": doc.get("guard") or "",
        "owner": doc.get("owner") or "",
    }
    for prefix, _ in WINDOWS:
        start, _, end = str(doc.get(prefix, "")).partition("..")
        values[f"{prefix}_from"], values[f"{prefix}_to"] = start, end
    return values


# -- evaluating -------------------------------------------------------------------------------


def _rows(ctx: AppContext, name: str, baseline: Window, trial: Window) -> list[dict[str, Any]]:
    """The stream's finished items over both windows, one row each (``FlowReport.scatter``)."""
    flt = FlowFilter(since=min(baseline.start, trial.start), until=max(baseline.end, trial.end))
    return ctx.workspace.flow(name, flt, detail=True).scatter


def _shown(
    doc: dict[str, Any], rows: list[dict[str, Any]], baseline: Window, trial: Window
) -> dict[str, Any]:
    """The result as the page shows it: the document and the chart of the values compared."""
    chosen = METRICS[doc["metric"]]
    spec = experiment_chart(
        doc, window_values(rows, baseline, chosen), window_values(rows, trial, chosen)
    )
    return {"doc": doc, "spec": spec}


def evaluate(ctx: AppContext, name: str, form: Posted) -> dict[str, Any]:
    """The experiment on the form, evaluated on the stream's data now (nothing is saved)."""
    baseline, trial = (form_window(form, prefix, label) for prefix, label in WINDOWS)
    check_windows(baseline, trial)
    target = form.text("metric") or "cycle_time"
    guard = form.text("guard") or None
    metric(target, "Metric")
    if guard is not None:
        metric(guard, "Guard")
    rows = _rows(ctx, name, baseline, trial)
    doc = run_experiment(rows, baseline, trial, target=target, guard=guard).to_dict()
    return _shown(doc, rows, baseline, trial)


def saved_result(ctx: AppContext, name: str, key: str) -> dict[str, Any]:
    """A saved experiment evaluated now (:meth:`Workspace.experiment`), with its chart."""
    record = experiment_record_from_dict(
        ctx.workspace.steering.stream_record("experiment", key, name).document
    )
    doc = ctx.workspace.steering.experiment(name, key)["result"]
    baseline, trial = record.windows()
    return _shown(doc, _rows(ctx, name, baseline, trial), baseline, trial)


# -- the page ---------------------------------------------------------------------------------


def _saved_list(ctx: AppContext, name: str) -> list[dict[str, Any]]:
    out = []
    for stored in ctx.workspace.steering.records("experiment", name):
        entry: dict[str, Any] = {"doc": stored.document, "version": stored.version.version}
        try:
            entry["result"] = ctx.workspace.steering.experiment(name, stored.key)["result"]
        except InputError as exc:  # e.g. a trial window the data does not reach yet
            entry["note"] = str(exc)
        out.append(entry)
    return out


def _page(
    request: Request,
    ctx: AppContext,
    name: str,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    result: dict[str, Any] | None = None,
    result_key: str | None = None,
    result_error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    info = ctx.workspace.stream(name)
    return templates.TemplateResponse(
        request,
        "experiments.html",
        {
            "info": info,
            "saved": _saved_list(ctx, name),
            "values": values or {"metric": "cycle_time"},
            "error": error,
            "result": result,
            "result_key": result_key,
            "result_error": result_error,
            "metrics": list(METRICS.values()),
            "windows": WINDOWS,
            "notice": notice,
            "next_key": ctx.workspace.steering.next_key("experiment", name),
            "page_url": stream_url(name, PAGE),
            "stream_url": stream_url(name),
        },
        status_code=status,
    )


@router.get("/streams/{name}/experiments", response_class=HTMLResponse)
def experiments_page(request: Request, ctx: Ctx, name: str) -> Response:
    """The saved experiments with their verdicts, and the form to evaluate or save one."""
    return _page(request, ctx, name)


@router.post("/streams/{name}/experiments", response_class=HTMLResponse)
def post_experiment(request: Request, ctx: Ctx, name: str, form: Form) -> Response:
    """``action=evaluate``: the result on the stream's data, not saved. ``action=save``: the
    experiment saved as a new record, then shown (a planned trial may not have data yet)."""
    ctx.workspace.stream(name)
    saving = form.text("action") == "save"
    try:
        if not saving:
            result = evaluate(ctx, name, form)
            return _page(request, ctx, name, values=form.as_dict(), result=result)
        doc = experiment_document(form)
        key = ctx.workspace.steering.save_record(
            "experiment",
            doc,
            author=WEB_AUTHOR,
            message=form.text("message") or "experiment saved",
            stream=name,
            expected_version=0,
        ).key
    except ObeyaError as error:
        message = adding(error, "experiment", form.text("key")) if saving else str(error)
        return _page(
            request, ctx, name, values=form.as_dict(), error=message, status=error.http_status
        )
    url = f"{stream_url(name, PAGE)}/{quote(key, safe='')}?saved=1#result"
    return RedirectResponse(url, status_code=303)


@router.get("/streams/{name}/experiments/{key}", response_class=HTMLResponse)
def experiment_page(
    request: Request, ctx: Ctx, name: str, key: str, saved: str | None = None
) -> Response:
    """A saved experiment evaluated on the stream's data now, beside the list and the form
    (filled with its hypothesis, metrics and windows)."""
    stored = ctx.workspace.steering.stream_record("experiment", key, name)
    result = None
    result_error = None
    try:
        result = saved_result(ctx, name, key)
    except InputError as exc:
        result_error = str(exc)
    notice = f"Saved experiment {key}." if saved else None
    return _page(
        request,
        ctx,
        name,
        values=_form_of(stored.document),
        result=result,
        result_key=key,
        result_error=result_error,
        notice=notice,
    )
