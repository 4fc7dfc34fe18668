"""What part of the history a flow analysis looks at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from obeya.core.events import to_micros
from obeya.errors import InputError


@dataclass(frozen=True)
class FlowFilter:
    """Item types and a window of UTC dates, both ends inclusive (see docs/conventions.md).

    ``calendar_days`` reports cycle and lead time as whole calendar days (end date − start
    date + 1), as Kanban tools do, instead of fractional days.
    """

    types: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    calendar_days: bool = False

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise InputError(
                f"the window starts on {self.since}, after it ends on {self.until}: give a "
                "start on or before the end"
            )

    @property
    def since_us(self) -> int | None:
        """First microsecond of the window, or None."""
        if self.since is None:
            return None
        return to_micros(datetime(self.since.year, self.since.month, self.since.day, tzinfo=UTC))

    @property
    def until_us(self) -> int | None:
        """First microsecond after the window, or None."""
        if self.until is None:
            return None
        end = self.until + timedelta(days=1)
        return to_micros(datetime(end.year, end.month, end.day, tzinfo=UTC))

    @property
    def windowed(self) -> bool:
        return self.since is not None or self.until is not None
