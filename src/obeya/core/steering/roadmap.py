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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Any

from obeya.core.steering.fields import Fields, iso

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
_ITEM_KEYS = {
    "key",
    "title",
    "kind",
    "status",
    "owners",
    "map",
    "step",
    "target",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "stream",
}
_EVENT_KEYS = {"key", "title", "start", "end", "participants", "outcomes", "improvements", "stream"}


@dataclass(frozen=True)
class Improvement:
    key: str
    title: str
    business_value: float
    time_criticality: float
    risk_reduction: float
    job_size: float
    kind: str = "kaizen"
    status: str = "idea"
    owners: tuple[str, ...] = ()
    map: str = ""  # the map (name) whose waste or constraint it attacks
    step: str = ""
    target: str = "constraint"

    @property
    def cost_of_delay(self) -> float:
        return self.business_value + self.time_criticality + self.risk_reduction

    @property
    def wsjf(self) -> float:
        return self.cost_of_delay / self.job_size

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "owners": list(self.owners),
            "map": self.map,
            "step": self.step,
            "target": self.target,
            "business_value": self.business_value,
            "time_criticality": self.time_criticality,
            "risk_reduction": self.risk_reduction,
            "job_size": self.job_size,
        }


def improvement_from_dict(doc: Mapping[str, Any], where: str = "improvement") -> Improvement:
    key = doc.get("key")
    f = Fields(doc, f"{where} {key!r}" if isinstance(key, str) and key else where, _ITEM_KEYS)
    score = "a number ≥ 0 on the team's scale"
    return Improvement(
        key=f.required_text("key"),
        title=f.required_text("title"),
        kind=f.choice("kind", KINDS, "kaizen"),
        status=f.choice("status", STATUSES, "idea"),
        owners=f.texts("owners"),
        map=f.text("map", ""),
        step=f.text("step", ""),
        target=f.choice("target", TARGETS, "constraint"),
        business_value=f.number("business_value", low=0, what=score),
        time_criticality=f.number("time_criticality", low=0, what=score),
        risk_reduction=f.number("risk_reduction", 0.0, low=0, what=score),
        job_size=f.number("job_size", low=1e-9, what="a number > 0 on the team's scale"),
    )


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


@dataclass(frozen=True)
class KaizenEvent:
    key: str
    title: str
    start: date
    end: date
    participants: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    improvements: tuple[str, ...] = ()  # keys of the roadmap items it worked on

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "start": iso(self.start),
            "end": iso(self.end),
            "participants": list(self.participants),
            "outcomes": list(self.outcomes),
            "improvements": list(self.improvements),
        }


def kaizen_event_from_dict(doc: Mapping[str, Any], where: str = "kaizen event") -> KaizenEvent:
    key = doc.get("key")
    f = Fields(doc, f"{where} {key!r}" if isinstance(key, str) and key else where, _EVENT_KEYS)
    start, end = f.date("start"), f.date("end")
    if start is None:
        raise f.fail("start", "is missing; give a date as YYYY-MM-DD")
    end = end or start
    if end < start:
        raise f.fail("end", f"is {end}, before start {start}")
    return KaizenEvent(
        key=f.required_text("key"),
        title=f.required_text("title"),
        start=start,
        end=end,
        participants=f.texts("participants"),
        outcomes=f.texts("outcomes"),
        improvements=f.texts("improvements"),
    )
