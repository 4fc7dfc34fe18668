"""When work happens: a weekly calendar of working hours (UTC), learned from the log.

People of a stream work some hours of the week; a task of 6 working hours started on Friday at
16:00 ends on Monday at 14:00 when the week is Monday–Friday 09:00–17:00. Process times are
therefore measured, and simulated, in *working* hours, and turned into elapsed time through
the calendar. Time is in hours since the Unix epoch (float; 1970-01-01 was a Thursday, so
epoch hour 0 is hour 72 of its week, weeks starting on Monday 00:00 UTC).

``open[h]`` is the share of hour ``h`` of the week (0 = Monday 00–01) that is working time:
1 or 0 when learned, any share in [0, 1] when a user edits it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HOURS_PER_WEEK = 168
#: Epoch hour 0 (Thursday 00:00 UTC) is this hour of its week.
_EPOCH_WEEK_HOUR = 72
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_hour(hours: Any) -> Any:
    """The hour of the week (0 = Monday 00:00–01:00 UTC) of epoch hours (scalar or array)."""
    return np.floor(np.asarray(hours) + _EPOCH_WEEK_HOUR).astype(np.int64) % HOURS_PER_WEEK


@dataclass(frozen=True)
class WorkCalendar:
    open: tuple[float, ...]
    #: Which evidence the calendar came from, in words (kept in the twin file).
    evidence: str = ""
    _cum: tuple[float, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.open) != HOURS_PER_WEEK:
            raise ValueError(f"a calendar has {HOURS_PER_WEEK} hours, not {len(self.open)}")
        cum = [0.0]
        for share in self.open:
            cum.append(cum[-1] + share)
        object.__setattr__(self, "_cum", tuple(cum))

    @classmethod
    def always(cls, evidence: str = "") -> WorkCalendar:
        return cls(tuple([1.0] * HOURS_PER_WEEK), evidence)

    @property
    def hours_per_week(self) -> float:
        return self._cum[-1]

    def working(self, hours: float) -> float:
        """Working hours from the epoch to ``hours`` (a clock that stops outside work)."""
        x = hours + _EPOCH_WEEK_HOUR
        weeks = math.floor(x / HOURS_PER_WEEK)
        inside = x - weeks * HOURS_PER_WEEK
        h = min(int(inside), HOURS_PER_WEEK - 1)
        return weeks * self._cum[-1] + self._cum[h] + (inside - h) * self.open[h]

    def working_array(self, hours: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """:meth:`working` of many instants at once."""
        cum = np.asarray(self._cum)
        share = np.asarray(self.open)
        x = np.asarray(hours, dtype=np.float64) + _EPOCH_WEEK_HOUR
        weeks = np.floor(x / HOURS_PER_WEEK)
        inside = x - weeks * HOURS_PER_WEEK
        h = np.minimum(inside.astype(np.int64), HOURS_PER_WEEK - 1)
        result: np.ndarray[Any, Any] = weeks * cum[-1] + cum[h] + (inside - h) * share[h]
        return result

    def add(self, hours: float, work: float) -> float:
        """The earliest instant by which ``work`` working hours are done, starting at
        ``hours``: a task ends inside working time, or at ``hours`` itself when it takes
        none."""
        if work <= 0:
            return hours
        return self._instant(self.working(hours) + work)

    def next_open(self, hours: float) -> float:
        """The first working instant at or after ``hours`` (people take new work then)."""
        x = hours + _EPOCH_WEEK_HOUR
        weeks = math.floor(x / HOURS_PER_WEEK)
        h = int(x - weeks * HOURS_PER_WEEK)
        if self.open[min(h, HOURS_PER_WEEK - 1)] > 0:
            return hours
        for step in range(1, HOURS_PER_WEEK + 1):
            k = h + step
            if self.open[k % HOURS_PER_WEEK] > 0:
                return (weeks * HOURS_PER_WEEK + k) - _EPOCH_WEEK_HOUR
        return hours  # an empty calendar is refused when a twin is read

    def _instant(self, target: float) -> float:
        total = self._cum[-1]
        weeks = math.floor(target / total)
        rest = target - weeks * total
        if rest <= 0 and weeks > 0:  # the end of the previous week's last working hour
            weeks -= 1
            rest = total
        i = bisect.bisect_left(self._cum, rest)  # cum[i-1] < rest <= cum[i]
        h = max(i - 1, 0)
        inside = h + ((rest - self._cum[h]) / self.open[h] if self.open[h] > 0 else 0.0)
        return weeks * HOURS_PER_WEEK + inside - _EPOCH_WEEK_HOUR
