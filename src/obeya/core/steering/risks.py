"""The risk register, ROAMed: every risk is Resolved, Owned, Accepted or Mitigated once the
teams have talked it through, and ``open`` until then.

- ``exposure`` = probability × impact (impact on the register's own scale, 1–5 by default;
  the same scale across a register so exposures compare).
- A risk is *overdue* when its due date has passed and it is not resolved, and *unowned* when
  it has no owner and is not resolved; both stand out on the board.
- The board is ordered by state (open first: it still needs talking about), then by exposure,
  highest first, then by key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar

from obeya.core.documents import Document, choice, day, number, share, text, texts
from obeya.core.steering.impediment_link import (
    BlockedItem,
    BlockedReason,
    BlockingTeam,
    WaitingTeam,
)

#: The ROAM states, in board order; ``open`` = not ROAMed yet.
STATES = ("open", "owned", "accepted", "mitigated", "resolved")


@dataclass(frozen=True, kw_only=True)
class Risk(Document):
    """A risk of the register; its fields, in this order, are its document's
    (:mod:`obeya.core.documents`)."""

    noun: ClassVar[str] = "risk"

    key: Annotated[str, text("Key", "A short id, e.g. R-7.", nonempty=True)]
    title: Annotated[str, text("Title", "What could happen.", nonempty=True)]
    description: Annotated[str, text("Description", "More words.", long=True)] = ""
    teams: Annotated[
        tuple[str, ...], texts("Teams", "The teams affected, separated by commas.")
    ] = ()
    probability: Annotated[float, share("Probability", "A share from 0 to 1 (0.3, 30 %).")]
    impact: Annotated[
        float,
        number("Impact", "On the register's scale (1–5).", low=0.0, what="a number ≥ 0"),
    ]
    owner: Annotated[str, text("Owner", "Who owns it.")] = ""
    due: Annotated[date | None, day("Due", "YYYY-MM-DD.")] = None
    state: Annotated[str, choice("State", STATES, "The ROAM state; open until talked through.")] = (
        "open"
    )
    # The impediment it came from (core/steering/impediment_link.py).
    blocked_item: BlockedItem = ""
    blocked_reason: BlockedReason = ""
    waiting_team: WaitingTeam = ""
    blocking_team: BlockingTeam = ""

    @property
    def exposure(self) -> float:
        return self.probability * self.impact

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today and self.state != "resolved"

    @property
    def unowned(self) -> bool:
        return not self.owner and self.state != "resolved"

    def view(self, today: date) -> dict[str, Any]:
        """The document with what is derived from it: exposure and the flags."""
        return {
            **self.to_dict(),
            "exposure": round(self.exposure, 9),
            "overdue": self.overdue(today),
            "unowned": self.unowned,
        }


def board(risks: Iterable[Risk], today: date) -> dict[str, list[dict[str, Any]]]:
    """The ROAM board: per state (every state present, in :data:`STATES` order) its risks,
    highest exposure first."""
    columns: dict[str, list[Risk]] = {state: [] for state in STATES}
    for risk in risks:
        columns[risk.state].append(risk)
    return {
        state: [r.view(today) for r in sorted(rs, key=lambda r: (-r.exposure, r.key))]
        for state, rs in columns.items()
    }


def summary(risks: Iterable[Risk], today: date) -> dict[str, Any]:
    """Counts a manager reads first: by state, overdue, unowned, and the total exposure of
    what is not resolved."""
    items = list(risks)
    live = [r for r in items if r.state != "resolved"]
    return {
        "risks": len(items),
        "by_state": {s: sum(1 for r in items if r.state == s) for s in STATES},
        "overdue": sorted(r.key for r in items if r.overdue(today)),
        "unowned": sorted(r.key for r in items if r.unowned),
        "open_exposure": round(sum(r.exposure for r in live), 9),
    }
