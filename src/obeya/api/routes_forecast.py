"""The REST API of Monte Carlo forecasts of a stored stream: when, how many, their charts and
the backtest (docs/forecasting.md, "In the web app and the API").

Each document is the one ``obeya forecast when|how-many|backtest --stream NAME --json`` prints:
the routes, the page and the CLI ask the workspace's forecasts
(:class:`obeya.workspace_forecast.Forecasts`).

A request may not tie up the server: trials are capped (``MAX_TRIALS``,
``MAX_BACKTEST_TRIALS``) and so is the how-many horizon (``MAX_DAYS``, the limit ``when`` has
too), all in :mod:`obeya.workspace_forecast`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from obeya.api.deps import AppContext, context
from obeya.api.gate import GuardedRoute
from obeya.api.models import ERRORS
from obeya.core.forecast import (
    DEFAULT_BACKTEST_HISTORY_DAYS,
    DEFAULT_BACKTEST_SEED,
    DEFAULT_BACKTEST_TRIALS,
    DEFAULT_EVERY_DAYS,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
)
from obeya.render.forecast import how_many_histogram, when_histogram
from obeya.workspace_forecast import MAX_BACKTEST_TRIALS, MAX_TRIALS

router = APIRouter(prefix="/api", tags=["forecast"], route_class=GuardedRoute)

Ctx = Annotated[AppContext, Depends(context)]
StreamName = Annotated[str, Path(description="The value stream's name.")]
HistoryDays = Annotated[
    int,
    Query(
        description="Days of history before the start whose finishes are sampled.",
        ge=1,
        le=36_500,  # a century: further back than any calendar the report lays out
    ),
]
WindowDays = Annotated[
    int | None,
    Query(
        description="Days of history before the start whose finishes are sampled (default: "
        "the 84 days before it, but none before the stream's first finish).",
        ge=1,
        le=36_500,
    ),
]
Start = Annotated[
    date | None,
    Query(description="Forecast start, YYYY-MM-DD (default: the day after the last finish)."),
]
Trials = Annotated[int, Query(description="Monte Carlo trials (≥ 1).", le=MAX_TRIALS)]
Seed = Annotated[int, Query(description="Random seed: the same seed gives the same figures.")]
Items = Annotated[int, Query(description="Items still to do (≥ 1).")]
Days = Annotated[
    int | None,
    Query(description="Horizon in days, the start day included (≥ 1); or give by."),
]
By = Annotated[
    date | None,
    Query(description="Instead of days: the horizon's last day, YYYY-MM-DD (≥ the start)."),
]


class _Forecast(BaseModel):
    model_config = ConfigDict(extra="allow")

    percentiles: dict[str, int] = Field(
        description='"50", "70", "85", "95" → days from the start (when) or items (how-many).'
    )
    trials: int
    history_days: int = Field(description="Days sampled (the history window's length).")
    history: dict[str, Any] | None = Field(
        default=None,
        description='The days sampled: "start" and "end" (YYYY-MM-DD, both included), '
        '"days", and "starts_at": "first_finish" (the default window, cut at the stream\'s '
        'first finish), "default" (the 84 days before the start) or "given" (history_days).',
    )
    start: str | None = Field(description="Day 1 of the forecast, YYYY-MM-DD.")
    seed: int
    histogram: dict[str, int] = Field(description="Outcome → number of trials that had it.")


class WhenDocument(_Forecast):
    """``obeya forecast when --json``: days until ``items`` are done, per confidence level."""

    items: int
    dates: dict[str, str] | None = Field(
        description="Per confidence level, the day by whose end the items are done."
    )


class HowManyDocument(_Forecast):
    """``obeya forecast how-many --json``: items done in ``days`` days, per confidence level
    (the largest count at least p % of the trials reached)."""

    days: int
    end: str | None = Field(description="The horizon's last day, YYYY-MM-DD.")


class BacktestDocument(BaseModel):
    """``obeya forecast backtest --json``: how-many (or, with ``items``, when) forecasts at
    past origins against what happened."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(description='"how-many", or "when" with items.')
    items: int | None = Field(description="The items of a when backtest, else null.")
    censored: int = Field(description="When: origins whose items were not all done in the data.")
    horizon_days: int
    history_days: int
    every_days: int
    trials: int
    seed: int
    origins: int
    skipped: int = Field(description="Origins left out: no finish in their window.")
    calibration: dict[str, float] = Field(
        description='"50" … "95" → percent of origins whose actual reached the forecast.'
    )
    mean_error: float
    mean_absolute_error: float
    mean_absolute_percentage_error: float | None
    forecasts: list[dict[str, Any]]


@router.get("/streams/{name}/forecast/when", response_model=WhenDocument, responses=ERRORS)
def get_when(
    ctx: Ctx,
    name: StreamName,
    items: Items,
    history_days: WindowDays = None,
    start: Start = None,
    trials: Trials = DEFAULT_TRIALS,
    seed: Seed = DEFAULT_SEED,
) -> JSONResponse:
    """When will ``items`` more items be done? Days and dates at 50/70/85/95 % confidence:
    the same document as ``obeya forecast when --stream NAME --json``."""
    result = ctx.workspace.forecasts.when(
        name, items, history_days=history_days, start=start, trials=trials, seed=seed
    )
    return JSONResponse(result.to_dict())


@router.get("/streams/{name}/forecast/when/chart", responses=ERRORS)
def get_when_chart(
    ctx: Ctx,
    name: StreamName,
    items: Items,
    history_days: WindowDays = None,
    start: Start = None,
    trials: Trials = DEFAULT_TRIALS,
    seed: Seed = DEFAULT_SEED,
) -> dict[str, Any]:
    """The when forecast's histogram (trials per number of days) with the 50/70/85/95 %
    lines, as a Vega-Lite spec (render it with vega-embed). Same parameters as ``when``."""
    result = ctx.workspace.forecasts.when(
        name, items, history_days=history_days, start=start, trials=trials, seed=seed
    )
    return when_histogram(result.to_dict())


@router.get("/streams/{name}/forecast/how-many", response_model=HowManyDocument, responses=ERRORS)
def get_how_many(
    ctx: Ctx,
    name: StreamName,
    days: Days = None,
    by: By = None,
    history_days: WindowDays = None,
    start: Start = None,
    trials: Trials = DEFAULT_TRIALS,
    seed: Seed = DEFAULT_SEED,
) -> JSONResponse:
    """How many items will be done in ``days`` days (or by the end of ``by``)? Counts at
    50/70/85/95 % confidence: the same document as ``obeya forecast how-many --stream NAME
    --json``."""
    result = ctx.workspace.forecasts.how_many(
        name, days, by=by, history_days=history_days, start=start, trials=trials, seed=seed
    )
    return JSONResponse(result.to_dict())


@router.get("/streams/{name}/forecast/how-many/chart", responses=ERRORS)
def get_how_many_chart(
    ctx: Ctx,
    name: StreamName,
    days: Days = None,
    by: By = None,
    history_days: WindowDays = None,
    start: Start = None,
    trials: Trials = DEFAULT_TRIALS,
    seed: Seed = DEFAULT_SEED,
) -> dict[str, Any]:
    """The how-many forecast's histogram (trials per number of items) with the 50/70/85/95 %
    lines, as a Vega-Lite spec. Same parameters as ``how-many``."""
    result = ctx.workspace.forecasts.how_many(
        name, days, by=by, history_days=history_days, start=start, trials=trials, seed=seed
    )
    return how_many_histogram(result.to_dict())


@router.get("/streams/{name}/forecast/backtest", response_model=BacktestDocument, responses=ERRORS)
def get_backtest(
    ctx: Ctx,
    name: StreamName,
    horizon_days: Annotated[
        int, Query(description="Days forecast from each origin (≥ 1).")
    ] = DEFAULT_HORIZON_DAYS,
    history_days: HistoryDays = DEFAULT_BACKTEST_HISTORY_DAYS,
    every_days: Annotated[
        int, Query(description="Days between consecutive origins (≥ 1).")
    ] = DEFAULT_EVERY_DAYS,
    trials: Annotated[
        int, Query(description="Trials per origin (≥ 1).", le=MAX_BACKTEST_TRIALS)
    ] = DEFAULT_BACKTEST_TRIALS,
    seed: Seed = DEFAULT_BACKTEST_SEED,
    items: Annotated[
        int | None,
        Query(description="Backtest when this many items are done, instead of how-many."),
    ] = None,
) -> JSONResponse:
    """Can the stream's forecasts be trusted? How-many (or, with ``items``, when) forecasts at
    past origins from the history before each, against what happened: calibration per
    percentile and the p50's errors. The same document as
    ``obeya forecast backtest --stream NAME --json``."""
    result = ctx.workspace.forecasts.backtest(
        name,
        items=items,
        horizon_days=horizon_days,
        history_days=history_days,
        every_days=every_days,
        trials=trials,
        seed=seed,
    )
    return JSONResponse(result.to_dict())
