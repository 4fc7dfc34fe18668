"""The improvement roadmap: kaizen (incremental) and kaikaku (breakthrough) items linked to the
waste or the constraint they attack on a map, scored by WSJF, and the kaizen events that work
on them.

- Cost of delay = business value + time criticality + risk reduction / opportunity enablement
  (each on the team's relative scale, e.g. 1, 2, 3, 5, 8, 13, 20).
- WSJF = cost of delay ÷ job size.
- Order (quick wins first): items still to do (idea, planned, in progress) before done or
  dropped ones; among them WSJF highest first, then the smaller job, then the key. An item is
  a *quick win* when its WSJF is in the top third of the open items' and its job size is at
  most the open items' median.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Annotated, Any, ClassVar

from obeya.core.documents import Document, Fail, choice, day, number, text, texts
from obeya.core.steering.impediment_link import (
    BlockedItem,
    BlockedReason,
    BlockingTeam,
    WaitingTeam,
)

KINDS = ("kaizen", "kaikaku")
STATUSES = ("idea", "planned", "in progress", "done", "dropped")
OPEN = ("idea", "planned", "in progress")
#: What on a map an item attacks: a waste category, or the constraint.
TARGETS = (
    "constraint",
    "waiting",
    "rework",
    "handoffs",
    "inventory",
    "task switching",
    "extra features",
    "defects",
)
#: How a score is asked for: each on the team's relative scale.
_SCORE = "a number ≥ 0 on the team's scale"


@dataclass(frozen=True, kw_only=True)
class Improvement(Document):
    """An item of the roadmap, scored for WSJF (module docstring)."""

    noun: ClassVar[str] = "improvement"

    key: Annotated[str, text("Key", "A short id, e.g. I-3.", nonempty=True)]
    title: Annotated[str, text("Title", "What changes.", nonempty=True)]
    kind: Annotated[str, choice("Kind", KINDS, "Incremental or breakthrough.")] = "kaizen"
    status: Annotated[str, choice("Status", STATUSES)] = "idea"
    owners: Annotated[tuple[str, ...], texts("Owners", "Separated by commas.")] = ()
    map: Annotated[str, text("Map", "The map whose waste or constraint it attacks.")] = ""
    step: Annotated[str, text("Step", "The step of that map.")] = ""
    target: Annotated[str, choice("Attacks", TARGETS, "A waste, or the constraint.")] = "constraint"
    business_value: Annotated[float, number("Business value", low=0, what=_SCORE)]
    time_criticality: Annotated[float, number("Time criticality", low=0, what=_SCORE)]
    risk_reduction: Annotated[
        float, number("Risk reduction / opportunity enablement", low=0, what=_SCORE)
    ] = 0.0
    job_size: Annotated[
        float, number("Job size", low=0, above=True, what="a number > 0 on the team's scale")
    ]
    # The impediment it came from (core/steering/impediment_link.py).
    blocked_item: BlockedItem = ""
    blocked_reason: BlockedReason = ""
    waiting_team: WaitingTeam = ""
    blocking_team: BlockingTeam = ""

    @property
    def cost_of_delay(self) -> float:
        return self.business_value + self.time_criticality + self.risk_reduction

    @property
    def wsjf(self) -> float:
        return self.cost_of_delay / self.job_size


def roadmap(items: Iterable[Improvement]) -> list[dict[str, Any]]:
    """The items in roadmap order (module docstring), each with its cost of delay, WSJF,
    rank and whether it is a quick win."""
    every = list(items)
    open_items = [i for i in every if i.status in OPEN]
    quick: set[str] = set()
    if open_items:
        scores = sorted((i.wsjf for i in open_items), reverse=True)
        top_third = scores[max(0, (len(scores) + 2) // 3 - 1)]
        small = median(i.job_size for i in open_items)
        quick = {i.key for i in open_items if i.wsjf >= top_third and i.job_size <= small}
    ordered = sorted(every, key=lambda i: (i.status not in OPEN, -i.wsjf, i.job_size, i.key))
    return [
        {
            **i.to_dict(),
            "cost_of_delay": round(i.cost_of_delay, 9),
            "wsjf": round(i.wsjf, 9),
            "rank": rank,
            "quick_win": i.key in quick,
        }
        for rank, i in enumerate(ordered, start=1)
    ]


@dataclass(frozen=True, kw_only=True)
class KaizenEvent(Document):
    """A kaizen event: when, who took part, what came out, the roadmap items it worked on."""

    noun: ClassVar[str] = "kaizen event"

    key: Annotated[str, text("Key", "A short id, e.g. K-2.", nonempty=True)]
    title: Annotated[str, text("Title", nonempty=True)]
    start: Annotated[date, day("Start")]
    end: Annotated[date | None, day("End", "Blank: the day it started.")] = None
    participants: Annotated[tuple[str, ...], texts("Participants", "Separated by commas.")] = ()
    outcomes: Annotated[tuple[str, ...], texts("Outcomes", "One a line.")] = ()
    improvements: Annotated[
        tuple[str, ...], texts("Improvements", "Keys of the roadmap items it worked on.")
    ] = ()

    @classmethod
    def settle(cls, values: dict[str, Any], fail: Fail) -> None:
        start, end = values["start"], values["end"] or values["start"]
        if end < start:
            raise fail("end", f"is {end}, before start {start}", end.isoformat())
        values["end"] = end
