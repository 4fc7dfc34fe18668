"""A stream's forecast page: when will N items be done, how many in D days (or by a date), the
histogram of the trials, and the backtest that says how far to trust them.

The page asks the workspace's forecasts (:class:`obeya.workspace_forecast.Forecasts`), as
``/api/streams/{name}/forecast/...`` does, and shows the figures of the same JSON documents,
so the page, the API and ``obeya forecast ... --stream NAME --json`` agree. The form is a
plain GET: a forecast is a link that can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.core.forecast import (
    DEFAULT_BACKTEST_TRIALS,
    DEFAULT_EVERY_DAYS,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    default_start,
)
from obeya.core.forecast.caveats import backtest_caveats, forecast_caveats
from obeya.errors import InputError
from obeya.render.forecast import how_many_histogram, when_histogram
from obeya.web.forms import form_date, form_int
from obeya.web.pages import templates
from obeya.workspace_forecast import MAX_TRIALS

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
Ctx = Annotated[AppContext, Depends(context)]

QUESTIONS = ("when", "how-many")


@dataclass
class Options:
    """The form's fields as typed values; blank fields take the CLI's defaults."""

    question: str | None = None
    items: int | None = None
    days: int | None = None
    by: date | None = None
    #: None: the default window (84 days, none before the first finish).
    history_days: int | None = None
    start: date | None = None
    trials: int = DEFAULT_TRIALS
    seed: int = DEFAULT_SEED
    horizon_days: int = DEFAULT_HORIZON_DAYS
    every_days: int = DEFAULT_EVERY_DAYS
    #: The fields as typed, to show the form again as it was sent.
    raw: dict[str, str] = field(default_factory=dict)

    def api_query(self) -> str:
        """The query string of the same forecast on the API."""
        pairs: list[tuple[str, Any]] = []
        if self.question == "when":
            pairs.append(("items", self.items))
        elif self.by is not None:
            pairs.append(("by", self.by.isoformat()))
        else:
            pairs.append(("days", self.days))
        if self.history_days is not None:
            pairs.append(("history_days", self.history_days))
        if self.start is not None:
            pairs.append(("start", self.start.isoformat()))
        pairs += [("trials", self.trials), ("seed", self.seed)]
        return urlencode(pairs)

    @property
    def backtest_items(self) -> int | None:
        """A when question backtests when its items are done; else how many in a horizon."""
        return self.items if self.question == "when" else None

    def backtest_query(self) -> str:
        query: dict[str, Any] = {
            "horizon_days": self.horizon_days,
            "history_days": self.history_days or DEFAULT_HISTORY_DAYS,
            "every_days": self.every_days,
            "trials": DEFAULT_BACKTEST_TRIALS,
            "seed": self.seed,
        }
        if self.backtest_items is not None:
            del query["horizon_days"]
            query["items"] = self.backtest_items
        return urlencode(query)


def _options(fields: dict[str, str | None]) -> Options:
    """The form read into :class:`Options`; InputError naming the first bad field."""
    raw = {k: v for k, v in fields.items() if v is not None}
    question = (fields.get("question") or "").strip() or None
    if question is not None and question not in QUESTIONS:
        raise InputError(f"question: {question!r} is not one of {', '.join(QUESTIONS)}")
    options = Options(question=question, raw=raw)
    options.items = form_int(fields.get("items"), "items")
    options.days = form_int(fields.get("days"), "days")
    options.by = form_date(fields.get("by"), "by")
    options.start = form_date(fields.get("start"), "start")
    options.history_days = form_int(fields.get("history_days"), "history_days")
    for name, default in (
        ("trials", DEFAULT_TRIALS),
        ("seed", DEFAULT_SEED),
        ("horizon_days", DEFAULT_HORIZON_DAYS),
        ("every_days", DEFAULT_EVERY_DAYS),
    ):
        value = form_int(fields.get(name), name)
        setattr(options, name, default if value is None else value)
    if options.trials > MAX_TRIALS:
        raise InputError(
            f"{{opt:trials}} is {options.trials:,}; give at most {MAX_TRIALS:,}",
            field="trials",
            value=options.trials,
        )
    if question == "when" and options.items is None:
        raise InputError("give the number of {opt:items} still to do", field="items")
    if question == "how-many" and options.by is not None:
        options.days = None  # a date, when given, wins over the default number of days
    return options


def _forecast(ctx: AppContext, name: str, options: Options) -> dict[str, Any]:
    """The forecast the form asks for: its document, table rows, chart and API links."""
    quoted = quote(name, safe="")
    common: dict[str, Any] = {
        "history_days": options.history_days,
        "start": options.start,
        "trials": options.trials,
        "seed": options.seed,
    }
    if options.question == "when":
        assert options.items is not None
        doc = ctx.workspace.forecasts.when(name, options.items, **common).to_dict()
        spec = when_histogram(doc)
        dates = doc["dates"] or {}
        rows = [
            {"p": p, "value": value, "date": dates.get(p)}
            for p, value in doc["percentiles"].items()
        ]
    else:
        forecasts = ctx.workspace.forecasts
        doc = forecasts.how_many(name, options.days, by=options.by, **common).to_dict()
        spec = how_many_histogram(doc)
        rows = [{"p": p, "value": value} for p, value in doc["percentiles"].items()]
    path = f"/api/streams/{quoted}/forecast/{options.question}"
    counts = ctx.workspace.reports.report(name, detail=False).items
    return {
        "question": options.question,
        "doc": doc,
        "caveats": forecast_caveats(doc, counts.in_progress + counts.not_started),
        "rows": rows,
        "spec": spec,
        "json_url": f"{path}?{options.api_query()}",
        "chart_url": f"{path}/chart?{options.api_query()}",
    }


def _backtest(ctx: AppContext, name: str, options: Options) -> dict[str, Any]:
    """The backtest summary, or why there is none (too little history is common)."""
    url = f"/api/streams/{quote(name, safe='')}/forecast/backtest?{options.backtest_query()}"
    try:
        result = ctx.workspace.forecasts.backtest(
            name,
            horizon_days=options.horizon_days,
            history_days=options.history_days or DEFAULT_HISTORY_DAYS,
            every_days=options.every_days,
            trials=DEFAULT_BACKTEST_TRIALS,
            seed=options.seed,
            items=options.backtest_items,
        )
    except InputError as exc:
        return {"error": str(exc), "json_url": url}
    doc = result.to_dict()
    return {
        "doc": doc,
        "caveats": backtest_caveats(doc),
        "first": doc["forecasts"][0]["origin"],
        "last": doc["forecasts"][-1]["origin"],
        "json_url": url,
    }


@router.get("/streams/{name}/forecast", response_class=HTMLResponse)
def forecast_page(
    request: Request,
    ctx: Ctx,
    name: str,
    question: str | None = None,
    items: str | None = None,
    days: str | None = None,
    by: str | None = None,
    history_days: str | None = None,
    start: str | None = None,
    trials: str | None = None,
    seed: str | None = None,
    horizon_days: str | None = None,
    every_days: str | None = None,
) -> Response:
    """The form; with a question, its forecast; and the stream's backtest."""
    info = ctx.workspace.stream(name)  # an unknown stream is a 404 page
    fields = {
        "question": question,
        "items": items,
        "days": days,
        "by": by,
        "history_days": history_days,
        "start": start,
        "trials": trials,
        "seed": seed,
        "horizon_days": horizon_days,
        "every_days": every_days,
    }
    forecast: dict[str, Any] | None = None
    backtest: dict[str, Any] | None = None
    error: str | None = None
    status = 200
    options = Options(raw={k: v for k, v in fields.items() if v is not None})
    try:
        options = _options(fields)
    except InputError as exc:
        error, status = str(exc), exc.http_status
    else:
        try:
            if options.question is not None:
                forecast = _forecast(ctx, name, options)
        except InputError as exc:
            error, status = str(exc), exc.http_status
        backtest = _backtest(ctx, name, options)
    daily = ctx.workspace.forecasts.throughput(name)
    return templates.TemplateResponse(
        request,
        "forecast.html",
        {
            "info": info,
            "form": options,
            "raw": options.raw,
            "forecast": forecast,
            "backtest": backtest,
            "error": error,
            "last_day": max(daily, default=None),
            "default_start": default_start(daily),
            "page_url": f"/streams/{quote(name, safe='')}/forecast",
            "defaults": {
                "history_days": DEFAULT_HISTORY_DAYS,
                "trials": DEFAULT_TRIALS,
                "seed": DEFAULT_SEED,
                "horizon_days": DEFAULT_HORIZON_DAYS,
                "every_days": DEFAULT_EVERY_DAYS,
            },
        },
        status_code=status,
    )
