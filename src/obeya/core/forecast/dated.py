"""Forecasts from a dated daily throughput: the one path from a stream's history to a forecast,
whether the throughput came from a file (``obeya forecast FILE``) or a stored stream (the CLI's
``--stream``, the API and the forecast page). The start defaults to the day after the data's
last day and the trials sample the ``history_days`` days before it, by default the 84 days
before it but none before the stream's first finish (docs/forecasting.md); the forecast
carries the window it sampled (``history``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

from obeya.core.forecast.montecarlo import (
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    HowManyForecast,
    WhenForecast,
    default_start,
    history_of,
    how_many,
    when,
)
from obeya.errors import InputError


def forecast_when(
    throughput_daily: Mapping[str, int],
    items: int,
    *,
    history_days: int | None = None,
    start: date | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> WhenForecast:
    """When will ``items`` more items be done (``obeya forecast when``)?

    ``throughput_daily`` maps ``YYYY-MM-DD`` (UTC) to items finished that day
    (``FlowReport.throughput_daily``). ``start`` defaults to the day after its last day; the
    trials sample the window :func:`~obeya.core.forecast.montecarlo.history_of` gives
    (``history_days`` None: the default window, cut at the first finish).
    """
    begin = start or default_start(throughput_daily)
    window = history_of(throughput_daily, begin, history_days)
    result = when(window.counts, items, trials=trials, seed=seed, start=begin)
    return dataclasses.replace(result, history=window)


def forecast_how_many(
    throughput_daily: Mapping[str, int],
    days: int | None = None,
    *,
    by: date | None = None,
    history_days: int | None = None,
    start: date | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    max_days: int | None = None,
) -> HowManyForecast:
    """How many items will be done in ``days`` days from the start, the start included
    (``obeya forecast how-many``); or, with ``by`` instead of ``days``, by the end of that
    date. Start and history as :func:`forecast_when`. ``max_days`` refuses a longer horizon
    (the API's guard: the work grows with trials × days)."""
    if (days is None) == (by is None):
        raise InputError(
            "give {opt:days} (the horizon, ≥ 1) or {opt:by} (an end date, YYYY-MM-DD), one of them",
            field="days",
        )
    begin = start or default_start(throughput_daily)
    window = history_of(throughput_daily, begin, history_days)
    if by is not None:
        assert begin is not None  # history_window refuses a history without a day
        if by < begin:
            raise InputError(
                f"{{opt:by}} is {by}, before the forecast's start {begin}; give a later date",
                field="by",
                value=by,
            )
        days = (by - begin).days + 1
    assert days is not None
    if max_days is not None and days > max_days:
        field = "days" if by is None else "by"
        raise InputError(
            f"a horizon of {days:,} days is over the limit of {max_days:,}; give a shorter "
            f"{{opt:{field}}}",
            field=field,
            value=days if by is None else by,
        )
    result = how_many(window.counts, days, trials=trials, seed=seed, start=begin)
    return dataclasses.replace(result, history=window)
