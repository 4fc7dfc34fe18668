"""Monte Carlo forecasts of a stream from its daily throughput.

Each trial replays the future one day at a time, every day's count drawn at random, with
replacement, from the daily counts of the history window (zero days included). The draws are
vectorised: all trials advance together on a ``trials × days`` array, never in a per-trial
Python loop.

- :func:`when` — "when will these N items be done": per trial, the number of days from the
  start until the cumulative count reaches N. Percentile p is the smallest number of days by
  which at least p % of the trials had finished.
- :func:`how_many` — "how many items in D days": per trial, the total of D draws. Percentile p
  is read conservatively: the largest count that at least p % of the trials reached, so 85 %
  of trials delivered at least the p85 figure.

Both readings are the empirical quantile by the inverted CDF (numpy's
``method="inverted_cdf"``), taken from the top for how-many; there is no interpolation, so
every figure is an outcome some trial had. See docs/forecasting.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from obeya.errors import InputError

#: The confidence levels every forecast reports.
PERCENTILES: tuple[int, ...] = (50, 70, 85, 95)
DEFAULT_TRIALS = 10_000
DEFAULT_SEED = 1
DEFAULT_HISTORY_DAYS = 84
DEFAULT_MAX_DAYS = 3650

#: Most cells drawn at once (trials × days); bounds memory whatever the horizon.
_CHUNK_CELLS = 4_000_000

IntArray = npt.NDArray[np.int64]


# -- history -----------------------------------------------------------------------------------


def default_start(throughput_daily: Mapping[str, int]) -> date | None:
    """The day after the last day of the data (None when it has no day at all)."""
    if not throughput_daily:
        return None
    return date.fromisoformat(max(throughput_daily)) + timedelta(days=1)


#: Where a history window begins (``HistoryWindow.starts_at``): the stream's first finish
#: (the default window reached back before it), the default window's first day, or the first
#: of the days the user asked for.
FIRST_FINISH = "first_finish"
DEFAULT_WINDOW = "default"
GIVEN = "given"


@dataclass(frozen=True)
class HistoryWindow:
    """The days whose finished counts a forecast samples: ``start`` to ``end`` inclusive (the
    day before the forecast's start), and why it begins where it does (``starts_at``)."""

    start: date
    end: date
    counts: tuple[int, ...]
    starts_at: str

    @property
    def days(self) -> int:
        return len(self.counts)

    @property
    def finished(self) -> int:
        """Items finished in the window: what the trials know of the pace."""
        return sum(self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "finished": self.finished,
            "starts_at": self.starts_at,
        }

    def describe(self) -> str:
        """``the 23 days from 2012-04-30 (the first finish) to 2012-05-22``."""
        why = {FIRST_FINISH: " (the first finish)", GIVEN: " (as asked)"}.get(self.starts_at, "")
        return (
            f"the {self.days:,} day{'s' if self.days != 1 else ''} from "
            f"{self.start.isoformat()}{why} to {self.end.isoformat()}"
        )


def first_finish(throughput_daily: Mapping[str, int]) -> date | None:
    """The first day with a finished item (None when there is none)."""
    days = [day for day, count in throughput_daily.items() if count > 0]
    return date.fromisoformat(min(days)) if days else None


def history_of(
    throughput_daily: Mapping[str, int],
    start: date | None = None,
    history_days: int | None = None,
) -> HistoryWindow:
    """The history window before ``start`` (default: the day after the data's last day).

    ``history_days`` given: exactly those days before the start (``starts_at`` "given"). Not
    given: the :data:`DEFAULT_HISTORY_DAYS` days before it, but none before the stream's first
    finish, since the days before a stream delivered anything say nothing of its pace
    ("first_finish" when that cut the window, else "default"). ``throughput_daily`` maps
    ``YYYY-MM-DD`` to a count (``FlowReport.throughput_daily``); days it does not list count 0.
    """
    if history_days is not None:
        _positive(history_days, "history_days")
    if start is None:
        start = default_start(throughput_daily)
        if start is None:
            raise InputError(
                "no throughput history: the data has no finished item; give a {opt:start} and "
                "data with finished items",
                field="start",
            )
    end = start - timedelta(days=1)
    if history_days is not None:
        first, starts_at = start - timedelta(days=history_days), GIVEN
    else:
        first, starts_at = start - timedelta(days=DEFAULT_HISTORY_DAYS), DEFAULT_WINDOW
        finish = first_finish(throughput_daily)
        if finish is not None and finish > first:
            first, starts_at = finish, FIRST_FINISH
        if first > end:
            raise InputError(
                f"no throughput history before {start.isoformat()}: the history starts at the "
                f"stream's first finish, {first.isoformat()}; give a later {{opt:start}}, or "
                "{opt:history_days} to sample the days before it",
                field="start",
                value=start,
            )
    counts = tuple(
        int(throughput_daily.get((first + timedelta(days=i)).isoformat(), 0))
        for i in range((end - first).days + 1)
    )
    return HistoryWindow(start=first, end=end, counts=counts, starts_at=starts_at)


def history_window(
    throughput_daily: Mapping[str, int],
    start: date | None = None,
    history_days: int = DEFAULT_HISTORY_DAYS,
) -> list[int]:
    """The finished counts of the ``history_days`` days before ``start``, oldest first
    (exactly those days: :func:`history_of` with the days given)."""
    return list(history_of(throughput_daily, start, history_days).counts)


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Forecast:
    percentiles: dict[int, int]
    histogram: dict[int, int]
    trials: int
    history_days: int
    seed: int
    start: date | None
    #: The days sampled, when the forecast was made from dated throughput.
    history: HistoryWindow | None = field(default=None, kw_only=True)

    def _common(self) -> dict[str, Any]:
        return {
            "percentiles": {str(p): v for p, v in self.percentiles.items()},
            "trials": self.trials,
            "history_days": self.history_days,
            "history": self.history.to_dict() if self.history is not None else None,
            "start": self.start.isoformat() if self.start else None,
            "seed": self.seed,
            "histogram": {str(v): n for v, n in self.histogram.items()},
        }


@dataclass(frozen=True)
class WhenForecast(_Forecast):
    """Days from the start (day 1 = the start date) until ``items`` are done."""

    items: int

    @property
    def dates(self) -> dict[int, date] | None:
        """Per percentile, the date by whose end the items are done."""
        if self.start is None:
            return None
        return {p: self.start + timedelta(days=d - 1) for p, d in self.percentiles.items()}

    def to_dict(self) -> dict[str, Any]:
        dates = self.dates
        return {
            **self._common(),
            "items": self.items,
            "dates": None if dates is None else {str(p): d.isoformat() for p, d in dates.items()},
        }


@dataclass(frozen=True)
class HowManyForecast(_Forecast):
    """Items done in the ``days`` days from the start (the start date included)."""

    days: int

    @property
    def end(self) -> date | None:
        """The last day of the horizon."""
        return None if self.start is None else self.start + timedelta(days=self.days - 1)

    def to_dict(self) -> dict[str, Any]:
        end = self.end
        return {**self._common(), "days": self.days, "end": end.isoformat() if end else None}


# -- forecasts ---------------------------------------------------------------------------------


def when(
    daily_throughput: Sequence[int],
    items: int,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    max_days: int = DEFAULT_MAX_DAYS,
    start: date | None = None,
) -> WhenForecast:
    """How many days until ``items`` more items are done (see the module docstring)."""
    _positive(items, "items")
    _positive(max_days, "max_days")
    history = _history(daily_throughput, trials, seed, start)
    days = simulate_when(history, items, trials=trials, seed=seed, max_days=max_days)
    unfinished = int(np.count_nonzero(days == 0))
    if unfinished:
        raise InputError(
            f"{items:,} items are not done within {max_days:,} days in {unfinished:,} of "
            f"{trials:,} trials at the pace of the history; forecast fewer {{opt:items}} or "
            "widen the {opt:history_days}",
            field="items",
            value=items,
        )
    return WhenForecast(
        percentiles=_at_most(days, trials),
        histogram=_histogram(days),
        trials=trials,
        history_days=len(history),
        seed=seed,
        start=start,
        items=items,
    )


def how_many(
    daily_throughput: Sequence[int],
    days: int,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    start: date | None = None,
) -> HowManyForecast:
    """How many items are done in ``days`` days (see the module docstring)."""
    if days <= 0:
        raise InputError(
            f"{{opt:days}} is {days}: a horizon of no days forecasts nothing; give 1 or more",
            field="days",
            value=days,
        )
    history = _history(daily_throughput, trials, seed, start)
    totals = simulate_how_many(history, days, trials=trials, seed=seed)
    return HowManyForecast(
        percentiles=_at_least(totals, trials),
        histogram=_histogram(totals),
        trials=trials,
        history_days=len(history),
        seed=seed,
        start=start,
        days=days,
    )


def simulate_how_many(history: IntArray, days: int, *, trials: int, seed: int) -> IntArray:
    """Per trial, the total of ``days`` draws from ``history`` (the raw trial outcomes)."""
    rng = np.random.default_rng(seed)
    totals = np.zeros(trials, dtype=np.int64)
    block = max(1, min(days, _CHUNK_CELLS // trials))
    done = 0
    while done < days:
        width = min(block, days - done)
        picks = rng.integers(0, len(history), size=(trials, width), dtype=_index_dtype(history))
        totals += history[picks].sum(axis=1, dtype=np.int64)
        done += width
    return totals


def simulate_when(
    history: IntArray, items: int, *, trials: int, seed: int, max_days: int
) -> IntArray:
    """Per trial, the day (1-based) on which the running total reaches ``items``; 0 when it
    does not within ``max_days``. The trials still running advance together, a block of days
    at a time."""
    rng = np.random.default_rng(seed)
    mean = float(history.mean())
    # A first block that finishes nearly every trial, then smaller ones for the stragglers.
    block = int(min(max_days, max(16, np.ceil(1.25 * items / mean) + 8)))
    index = _index_dtype(history)
    # 32-bit sums when no trial can overflow them (half the memory traffic of 64-bit ones).
    small = items + int(history.max()) * (max_days + 1) < 2**31
    total: type[np.signedinteger[Any]] = np.int32 if small else np.int64
    counts = history.astype(total)
    days = np.zeros(trials, dtype=np.int64)
    carried = np.zeros(trials, dtype=np.int64)
    running = np.arange(trials)
    elapsed = 0
    while running.size and elapsed < max_days:
        width = min(block, max_days - elapsed, max(1, _CHUNK_CELLS // running.size))
        picks = rng.integers(0, len(history), size=(running.size, width), dtype=index)
        cumulative = np.cumsum(counts[picks], axis=1, dtype=total)
        cumulative += carried[running, None].astype(total)
        reached = cumulative[:, -1] >= items
        first = np.argmax(cumulative[reached] >= items, axis=1)
        days[running[reached]] = elapsed + first + 1
        carried[running] = cumulative[:, -1]
        running = running[~reached]
        elapsed += width
    return days


# -- helpers -----------------------------------------------------------------------------------


def _history(
    daily_throughput: Sequence[int], trials: int, seed: int, start: date | None
) -> IntArray:
    _positive(trials, "trials")
    if seed < 0:
        raise InputError(f"{{opt:seed}} is {seed}; give 0 or more", field="seed", value=seed)
    history = np.asarray(list(daily_throughput), dtype=np.int64)
    if history.size == 0:
        raise InputError(
            "the history window is empty; give {opt:history_days} ≥ 1", field="history_days"
        )
    if (history < 0).any():
        raise InputError("a day's finished count cannot be negative", field="daily_throughput")
    if not history.any():
        before = f" before {start.isoformat()}" if start else ""
        raise InputError(
            f"no throughput history in the {history.size} days{before}; widen the "
            "{opt:history_days}",
            field="history_days",
            value=history.size,
        )
    return history


def _index_dtype(history: IntArray) -> type[np.unsignedinteger[Any]]:
    """The narrowest index type: numpy draws 16-bit integers several times faster."""
    return np.uint16 if len(history) <= 2**16 else np.uint64


def _positive(value: int, field: str) -> None:
    if value <= 0:
        raise InputError(f"{{opt:{field}}} is {value}; give at least 1", field=field, value=value)


def _rank(p: int, trials: int) -> int:
    """How many trials make at least p % of them: ceil(p × trials / 100)."""
    return -(-p * trials // 100)


def _at_most(outcomes: IntArray, trials: int) -> dict[int, int]:
    """Per p, the smallest outcome that at least p % of trials are at or below."""
    ordered = np.sort(outcomes)
    return {p: int(ordered[_rank(p, trials) - 1]) for p in PERCENTILES}


def _at_least(outcomes: IntArray, trials: int) -> dict[int, int]:
    """Per p, the largest outcome that at least p % of trials are at or above."""
    ordered = np.sort(outcomes)
    return {p: int(ordered[trials - _rank(p, trials)]) for p in PERCENTILES}


def _histogram(outcomes: IntArray) -> dict[int, int]:
    values, counts = np.unique(outcomes, return_counts=True)
    return {int(v): int(n) for v, n in zip(values, counts, strict=True)}
