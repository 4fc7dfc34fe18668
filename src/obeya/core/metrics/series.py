"""Dense daily and weekly series from per-day counts.

The engine aggregates events to at most one row per day; these helpers only lay those few rows
out on a calendar (a handful of numpy operations per series, never a loop per event).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

EPOCH = date(1970, 1, 1)
IntArray = npt.NDArray[np.int64]


def day_to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def date_to_day(moment: date) -> int:
    return (moment - EPOCH).days


def monday_of(days: IntArray) -> IntArray:
    """Day number of the ISO week's Monday (1970-01-01 was a Thursday)."""
    return days - (days + 3) % 7


def dense(days: Iterable[int], counts: Iterable[int], first: int, last: int) -> IntArray:
    """Counts laid on every day from ``first`` to ``last`` inclusive (missing days are 0)."""
    out = np.zeros(max(last - first + 1, 0), dtype=np.int64)
    d = np.asarray(list(days), dtype=np.int64)
    c = np.asarray(list(counts), dtype=np.int64)
    keep = (d >= first) & (d <= last)
    np.add.at(out, d[keep] - first, c[keep])
    return out


def weekly(daily: IntArray, first: int) -> tuple[IntArray, IntArray]:
    """Sum a dense daily series into ISO weeks: (Monday day numbers, sums)."""
    if daily.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    days = np.arange(first, first + daily.size, dtype=np.int64)
    mondays = monday_of(days)
    weeks = np.arange(mondays[0], mondays[-1] + 1, 7, dtype=np.int64)
    sums = np.zeros(weeks.size, dtype=np.int64)
    np.add.at(sums, (mondays - weeks[0]) // 7, daily)
    return weeks, sums


def keyed(days: IntArray, values: Iterable[int | float]) -> dict[str, int | float]:
    """``{YYYY-MM-DD: value}`` for JSON documents."""
    return {day_to_date(int(d)).isoformat(): v for d, v in zip(days, values, strict=True)}
