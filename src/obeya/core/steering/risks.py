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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from obeya.core.steering.fields import Fields, iso

#: The ROAM states, in board order; ``open`` = not ROAMed yet.
STATES = ("open", "owned", "accepted", "mitigated", "resolved")
_KEYS = {
    "key",
    "title",
    "description",
    "teams",
    "probability",
    "impact",
    "owner",
    "due",
    "state",
    "stream",
}


@dataclass(frozen=True)
class Risk:
    key: str
    title: str
    probability: float  # 0..1
    impact: float  # ≥ 0, on the register's scale
    state: str = "open"
    description: str = ""
    teams: tuple[str, ...] = ()
    owner: str = ""
    due: date | None = None

    @property
    def exposure(self) -> float:
        return self.probability * self.impact

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today and self.state != "resolved"

    @property
    def unowned(self) -> bool:
        return not self.owner and self.state != "resolved"

    def to_dict(self) -> dict[str, Any]:
        """The stored document (what :func:`risk_from_dict` reads back)."""
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "teams": list(self.teams),
            "probability": self.probability,
            "impact": self.impact,
            "owner": self.owner,
            "due": iso(self.due),
            "state": self.state,
        }

    def view(self, today: date) -> dict[str, Any]:
        """The document with what is derived from it: exposure and the flags."""
        return {
            **self.to_dict(),
            "exposure": round(self.exposure, 9),
            "overdue": self.overdue(today),
            "unowned": self.unowned,
        }


def risk_from_dict(doc: Mapping[str, Any], where: str = "risk") -> Risk:
    """A risk from its document; InputError naming the field."""
    key = doc.get("key")
    f = Fields(doc, f"{where} {key!r}" if isinstance(key, str) and key else where, _KEYS)
    return Risk(
        key=f.required_text("key"),
        title=f.required_text("title"),
        description=f.text("description", ""),
        teams=f.texts("teams"),
        probability=f.number("probability", low=0.0, high=1.0, what="a share in [0, 1]"),
        impact=f.number("impact", low=0.0, what="a number ≥ 0"),
        owner=f.text("owner", ""),
        due=f.date("due"),
        state=f.choice("state", STATES, "open"),
    )


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
