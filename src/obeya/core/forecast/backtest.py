"""Backtesting of the Monte Carlo forecasts: can this stream's forecasts be trusted?

Both questions are backtested: *how many* items in a horizon (:func:`backtest`) and *when*
will N items be done (:func:`backtest_when`, at the end of this docstring).

At a series of past dates (the *origins*) the forecast is made from the history before the
origin only, exactly as :func:`~obeya.core.forecast.montecarlo.how_many` would have made it
that day, and compared with what then happened: the items actually finished in the horizon
that starts on the origin.

- Origins run from the data's first day + ``history_days`` (the first with a full window) to
  its last day − ``horizon_days``, every ``every_days`` days. Each origin's window is the
  ``history_days`` days before it (:func:`history_window`); its horizon the ``horizon_days``
  days from it, the origin included. Days the data does not list count 0.
- An origin whose window has no finish at all cannot be forecast: it is skipped and counted.
- Every origin's forecast uses the same ``trials`` and ``seed``, so each is the figure
  ``obeya forecast how-many --start ORIGIN`` gives with those options.
- ``calibration[p]``: the percentage of origins whose actual count reached the p-percentile
  forecast (actual ≥ forecast). The how-many percentiles read "at least p % of trials
  delivered this many", so well-calibrated forecasts score about p; well above p means the
  forecasts were too low (the stream sped up), well below p too high (it slowed down).
- Errors of the p50 forecast against the actual: ``mean_absolute_error`` (items),
  ``mean_error`` (signed, forecast − actual: negative = forecasts too low) and
  ``mean_absolute_percentage_error`` (percent of the actual, origins with an actual of 0
  left out; None when every actual is 0).

When (``backtest_when``): at each origin the forecast is ``when(items)`` from the window
before it, and the actual is the number of days from the origin (day 1) to the day the
``items``-th item after it finished. Origins whose ``items`` finishes did not all happen
before the data's last day cannot be scored: they are left out and counted in ``censored``.
``calibration[p]``: the percentage of origins whose actual took at most the p-percentile
forecast (the when percentiles read "p % of trials were done within this many days"), so
again well-calibrated forecasts score about p. Errors are in days (forecast − actual).

See docs/forecasting.md, "Backtesting".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from obeya.core.forecast.montecarlo import PERCENTILES, IntArray, how_many, when
from obeya.errors import InputError

DEFAULT_HORIZON_DAYS = 14
DEFAULT_BACKTEST_HISTORY_DAYS = 84
DEFAULT_EVERY_DAYS = 7
DEFAULT_BACKTEST_TRIALS = 2000
DEFAULT_BACKTEST_SEED = 1


@dataclass(frozen=True)
class BacktestPoint:
    """One origin: the forecast made that day and what happened in its horizon."""

    origin: date
    percentiles: dict[int, int]
    actual: int  # items done in the horizon (how many), or days to the items-th finish (when)
    horizon_days: int  # of a when backtest: the actual days

    @property
    def end(self) -> date:
        """The last day of the horizon (of a when backtest: the day the items were done)."""
        return self.origin + timedelta(days=self.horizon_days - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin.isoformat(),
            "end": self.end.isoformat(),
            "percentiles": {str(p): v for p, v in self.percentiles.items()},
            "actual": self.actual,
        }


@dataclass(frozen=True)
class Backtest:
    """Forecasts at past origins against the actual outcomes (see the module docstring)."""

    points: tuple[BacktestPoint, ...]
    skipped: int
    horizon_days: int
    history_days: int
    every_days: int
    trials: int
    seed: int
    #: None for a how-many backtest; the items of a when backtest.
    items: int | None = None
    #: Origins of a when backtest whose items were not all done by the data's last day.
    censored: int = 0

    @property
    def kind(self) -> str:
        return "how-many" if self.items is None else "when"

    @property
    def origins(self) -> int:
        """How many origins were forecast (the skipped ones not included)."""
        return len(self.points)

    def _forecasts(self) -> IntArray:
        """origins × percentiles, in the order of :data:`PERCENTILES`."""
        return np.array(
            [[pt.percentiles[p] for p in PERCENTILES] for pt in self.points], dtype=np.int64
        ).reshape(len(self.points), len(PERCENTILES))

    def _actuals(self) -> IntArray:
        return np.array([pt.actual for pt in self.points], dtype=np.int64)

    @property
    def calibration(self) -> dict[int, float]:
        """Per p, the percentage of origins whose actual met the p-percentile forecast: at
        least the forecast items (how many), at most the forecast days (when)."""
        if self.items is None:
            reached = self._actuals()[:, None] >= self._forecasts()
        else:
            reached = self._actuals()[:, None] <= self._forecasts()
        shares = 100 * reached.mean(axis=0)
        return {p: float(share) for p, share in zip(PERCENTILES, shares, strict=True)}

    def _p50_errors(self) -> IntArray:
        errors: IntArray = self._forecasts()[:, PERCENTILES.index(50)] - self._actuals()
        return errors

    @property
    def mean_error(self) -> float:
        """Mean of p50 forecast − actual, in items or days (negative: forecasts too low)."""
        return float(self._p50_errors().mean())

    @property
    def mean_absolute_error(self) -> float:
        """Mean of |p50 forecast − actual|, in items or days."""
        return float(np.abs(self._p50_errors()).mean())

    @property
    def mean_absolute_percentage_error(self) -> float | None:
        """Mean of |p50 forecast − actual| / actual, in percent, over origins with actual > 0."""
        actuals = self._actuals()
        seen = actuals > 0
        if not seen.any():
            return None
        return float(100 * (np.abs(self._p50_errors()[seen]) / actuals[seen]).mean())

    def to_dict(self) -> dict[str, Any]:
        mape = self.mean_absolute_percentage_error
        return {
            "kind": self.kind,
            "items": self.items,
            "censored": self.censored,
            "horizon_days": self.horizon_days,
            "history_days": self.history_days,
            "every_days": self.every_days,
            "trials": self.trials,
            "seed": self.seed,
            "origins": self.origins,
            "skipped": self.skipped,
            "calibration": {str(p): round(v, 2) for p, v in self.calibration.items()},
            "mean_error": round(self.mean_error, 3),
            "mean_absolute_error": round(self.mean_absolute_error, 3),
            "mean_absolute_percentage_error": None if mape is None else round(mape, 3),
            "forecasts": [pt.to_dict() for pt in self.points],
        }


def backtest(
    throughput_daily: Mapping[str, int],
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    history_days: int = DEFAULT_BACKTEST_HISTORY_DAYS,
    every_days: int = DEFAULT_EVERY_DAYS,
    trials: int = DEFAULT_BACKTEST_TRIALS,
    seed: int = DEFAULT_BACKTEST_SEED,
) -> Backtest:
    """Forecast how many items at past origins and compare with the actual counts."""
    _check(horizon_days=horizon_days, history_days=history_days, every_days=every_days)
    first, counts, cumulative = _dense(throughput_daily, trials, seed)
    span = counts.size
    # Origin offsets from the first day: first + history_days .. last − horizon_days.
    offsets = np.arange(history_days, span - 1 - horizon_days + 1, every_days)
    if offsets.size == 0:
        last = first + timedelta(days=span - 1)
        raise InputError(
            f"the data spans {span:,} days ({first} to {last}), too short for "
            f"{history_days:,} days of history before an origin and a {horizon_days:,}-day "
            "horizon after it; give fewer {opt:history_days} or a shorter {opt:horizon_days}",
            field="history_days",
            value=history_days,
        )
    window_totals = cumulative[offsets] - cumulative[offsets - history_days]
    actuals = cumulative[offsets + horizon_days] - cumulative[offsets]
    points = []
    for offset, total, actual in zip(
        offsets.tolist(), window_totals.tolist(), actuals.tolist(), strict=True
    ):
        if total == 0:
            continue
        origin = first + timedelta(days=offset)
        window = counts[offset - history_days : offset].tolist()
        forecast = how_many(window, horizon_days, trials=trials, seed=seed, start=origin)
        points.append(BacktestPoint(origin, forecast.percentiles, int(actual), horizon_days))
    skipped = int(offsets.size) - len(points)
    _some(points, skipped, history_days)
    return Backtest(
        points=tuple(points),
        skipped=skipped,
        horizon_days=horizon_days,
        history_days=history_days,
        every_days=every_days,
        trials=trials,
        seed=seed,
    )


def backtest_when(
    throughput_daily: Mapping[str, int],
    *,
    items: int,
    history_days: int = DEFAULT_BACKTEST_HISTORY_DAYS,
    every_days: int = DEFAULT_EVERY_DAYS,
    trials: int = DEFAULT_BACKTEST_TRIALS,
    seed: int = DEFAULT_BACKTEST_SEED,
) -> Backtest:
    """Forecast when ``items`` items are done at past origins and compare with the days it
    actually took (see the module docstring)."""
    _check(items=items, history_days=history_days, every_days=every_days)
    first, counts, cumulative = _dense(throughput_daily, trials, seed)
    span = counts.size
    offsets = np.arange(history_days, span, every_days)
    if offsets.size == 0:
        raise InputError(
            f"the data spans {span:,} days, too short for {history_days:,} days "
            "of history before an origin; give fewer {opt:history_days}",
            field="history_days",
            value=history_days,
        )
    # The items-th finish after an origin falls on the first day whose cumulative count
    # reaches the origin's count + items (searchsorted over the prefix sums).
    targets = cumulative[offsets] + items
    done_at = np.searchsorted(cumulative, targets, side="left")  # index = offset + days
    done = targets <= cumulative[-1]
    window_totals = cumulative[offsets] - cumulative[offsets - history_days]
    points = []
    for offset, total, ok, at in zip(
        offsets.tolist(), window_totals.tolist(), done.tolist(), done_at.tolist(), strict=True
    ):
        if total == 0 or not ok:
            continue
        origin = first + timedelta(days=offset)
        window = counts[offset - history_days : offset].tolist()
        forecast = when(window, items, trials=trials, seed=seed, start=origin)
        actual_days = at - offset
        points.append(BacktestPoint(origin, forecast.percentiles, actual_days, actual_days))
    censored = int(np.count_nonzero(~done))
    skipped = int(np.count_nonzero(done & (window_totals == 0)))
    _some(points, skipped + censored, history_days)
    return Backtest(
        points=tuple(points),
        skipped=skipped,
        horizon_days=0,
        history_days=history_days,
        every_days=every_days,
        trials=trials,
        seed=seed,
        items=items,
        censored=censored,
    )


def _check(**values: int) -> None:
    for field, value in values.items():
        if value <= 0:
            raise InputError(
                f"{{opt:{field}}} is {value}; give at least 1", field=field, value=value
            )


def _dense(
    throughput_daily: Mapping[str, int], trials: int, seed: int
) -> tuple[date, IntArray, IntArray]:
    """The first day, the dense daily counts from it to the last day, and their prefix sums
    (``cumulative[i]`` = items done before day i), which give every window and horizon."""
    _check(trials=trials)
    if seed < 0:
        raise InputError(f"{{opt:seed}} is {seed}; give 0 or more", field="seed", value=seed)
    if not throughput_daily:
        raise InputError("no throughput history: the data has no finished item to backtest")
    first = date.fromisoformat(min(throughput_daily))
    last = date.fromisoformat(max(throughput_daily))
    counts = np.zeros((last - first).days + 1, dtype=np.int64)
    for day, n in throughput_daily.items():
        if n < 0:
            raise InputError(
                f"a day's finished count cannot be negative ({day})", field="throughput_daily"
            )
        counts[(date.fromisoformat(day) - first).days] = n
    cumulative: IntArray = np.concatenate(([0], np.cumsum(counts)))
    return first, counts, cumulative


def _some(points: list[BacktestPoint], left_out: int, history_days: int) -> None:
    if not points:
        raise InputError(
            f"no origin could be scored: {left_out:,} origins had no throughput history in "
            f"the {history_days:,}-day window before them or no outcome in the data; widen "
            "the {opt:history_days} (or forecast fewer items)"
        )
