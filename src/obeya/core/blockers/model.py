"""A blocker: one span of time during which an item could not move, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from obeya.core.events import from_micros


@dataclass(frozen=True)
class Blocker:
    """``item_id`` was blocked from ``blocked_at`` to ``unblocked_at`` (integer microseconds
    since the epoch, UTC; None: still blocked) for ``reason``. ``blocking_item`` and ``team``
    say who it waits on, where known (for the cross-team view)."""

    item_id: str
    blocked_at: int
    unblocked_at: int | None
    reason: str
    blocking_item: str | None = None
    team: str | None = None

    def __post_init__(self) -> None:
        if self.unblocked_at is not None and self.unblocked_at < self.blocked_at:
            raise ValueError(f"blocker of {self.item_id!r} ends before it begins")

    def interval(self, open_end: int) -> tuple[int, int]:
        """``[blocked_at, unblocked_at)``; a blocker still open runs to ``open_end`` (the
        item's finish, or the end of the data)."""
        return (self.blocked_at, open_end if self.unblocked_at is None else self.unblocked_at)

    @property
    def key(self) -> tuple[str, int, str]:
        """What names a blocker in a stream: an item blocked for one reason from one time."""
        return (self.item_id, self.blocked_at, self.reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "blocked_at": iso(self.blocked_at),
            "unblocked_at": None if self.unblocked_at is None else iso(self.unblocked_at),
            "reason": self.reason,
            "blocking_item": self.blocking_item,
            "team": self.team,
        }


def iso(micros: int) -> str:
    """``2024-03-01T09:00:00Z``."""
    return from_micros(micros).isoformat().replace("+00:00", "Z")
