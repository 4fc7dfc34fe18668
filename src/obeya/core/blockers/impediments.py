"""An impediment turned into a risk or an improvement, and what it costs per week
(docs/conventions.md, "Impediments as risks and improvements").

An impediment is either a blocked item's blocker (the item and its reason) or a cross-team
pair (the waiting team and the team it waits on). The risk or improvement made from it keeps
that link in four fields (``blocked_item``, ``blocked_reason``, ``waiting_team``,
``blocking_team``), so the ROAM board can show what it costs:

    blocked days per week = the blocked days of the linked items over the 28 days up to the
    end of the data ÷ 4.

The window runs up to the end of the data, so a wait still running costs from its first day
(four full calendar weeks before the current one would show a blocker begun this week as 0).

Unlike the flow figures, every started item counts here, finished or not (an item blocked
now is the cost still running): its blockers of the link are merged, an open one running to
the item's finish or to the end of the data, clipped to its cycle and to the four weeks.
Plain Python over integer microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from obeya.core.blockers.cross_team import NO_TEAM, blocking_team, names_whom
from obeya.core.blockers.figures import Span
from obeya.core.blockers.intervals import Interval, clip, length, merge
from obeya.core.blockers.model import Blocker
from obeya.core.events import MICROS_PER_DAY, from_micros

#: Weeks the cost per week is averaged over, up to the end of the data.
COST_WEEKS = 4
#: Impact a risk made from an impediment starts with: the middle of the 1–5 scale, until the
#: teams rate it on the board.
DEFAULT_IMPACT = 3.0
#: The cost per week, said where it is shown.
COST_RULE = (
    f"blocked days of the linked items over the {COST_WEEKS * 7} days up to the end of the "
    f"data, ÷ {COST_WEEKS}"
)
#: The record fields that hold the link, in the order the records declare them.
LINK_FIELDS = ("blocked_item", "blocked_reason", "waiting_team", "blocking_team")


@dataclass(frozen=True)
class Impediment:
    """What a risk or improvement came from: ``item_id`` and ``reason`` (a blocker), or
    ``waiting_team`` and ``blocking_team`` (a cross-team pair)."""

    item_id: str = ""
    reason: str = ""
    waiting_team: str = ""
    blocking_team: str = ""

    def __post_init__(self) -> None:
        pair = bool(self.waiting_team or self.blocking_team)
        if not self.item_id and not pair:
            raise ValueError(
                "name the impediment: a blocked item with its reason, or the waiting team "
                "and the blocking team"
            )
        if self.item_id and pair:
            raise ValueError("an impediment is a blocked item or a pair of teams, not both")
        if self.item_id and not self.reason:
            raise ValueError("a blocked item's impediment needs its reason")
        if not self.item_id and not (self.waiting_team and self.blocking_team):
            raise ValueError("a cross-team impediment needs the waiting and the blocking team")

    @property
    def is_pair(self) -> bool:
        return not self.item_id

    @property
    def label(self) -> str:
        if self.is_pair:
            return f"{self.waiting_team} waits on {self.blocking_team}"
        return f"{self.item_id} blocked by {self.reason}"

    def fields(self) -> dict[str, str]:
        """The link as the record's fields."""
        values = (self.item_id, self.reason, self.waiting_team, self.blocking_team)
        return dict(zip(LINK_FIELDS, values, strict=True))

    @classmethod
    def of_record(cls, document: Mapping[str, Any]) -> Impediment | None:
        """The link a risk's or improvement's document holds (None: it holds none, or only
        part of one)."""
        values = [str(document.get(f) or "") for f in LINK_FIELDS]
        try:
            return cls(*values) if any(values) else None
        except ValueError:
            return None

    def matches(self, blocker: Blocker, teams: Mapping[str, str]) -> bool:
        """Whether ``blocker`` is (part of) this impediment."""
        if not self.is_pair:
            return blocker.item_id == self.item_id and blocker.reason == self.reason
        return (
            names_whom(blocker)
            and teams.get(blocker.item_id, NO_TEAM) == self.waiting_team
            and blocking_team(blocker, teams) == self.blocking_team
        )


@dataclass(frozen=True)
class WeeklyCost:
    """Blocked days per week of an impediment over ``[since, until)`` (microseconds)."""

    days_per_week: float
    since: int
    until: int
    items: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "blocked_days_per_week": self.days_per_week,
            "weeks": COST_WEEKS,
            "since": from_micros(self.since).date().isoformat(),
            "until": from_micros(self.until).date().isoformat(),
            "items": list(self.items),
        }


def cost_window(as_of: int) -> tuple[int, int]:
    """The :data:`COST_WEEKS` weeks up to ``as_of``, the end of the data."""
    return as_of - COST_WEEKS * 7 * MICROS_PER_DAY, as_of


def weekly_cost(
    impediment: Impediment,
    blockers: Sequence[Blocker],
    spans: Mapping[str, Span],
    teams: Mapping[str, str],
    as_of: int,
) -> WeeklyCost:
    """What ``impediment`` cost per week (module docstring): ``spans``, each blocked item's
    start and finish; ``teams``, item → team; ``as_of``, the end of the data."""
    since, until = cost_window(as_of)
    total = 0
    items: list[str] = []
    for item, runs in linked_runs(impediment, blockers, spans, teams, as_of).items():
        us = length(clip(runs, since, until))
        if us > 0:
            total += us
            items.append(item)
    return WeeklyCost(total / MICROS_PER_DAY / COST_WEEKS, since, until, tuple(items))


def blocked_days_so_far(
    impediment: Impediment,
    blockers: Sequence[Blocker],
    spans: Mapping[str, Span],
    teams: Mapping[str, str],
    as_of: int,
) -> float:
    """The impediment's blocked days over the whole history, counted as :func:`weekly_cost`
    counts them but with no window."""
    runs = linked_runs(impediment, blockers, spans, teams, as_of)
    return sum(length(r) for r in runs.values()) / MICROS_PER_DAY


def linked_runs(
    impediment: Impediment,
    blockers: Sequence[Blocker],
    spans: Mapping[str, Span],
    teams: Mapping[str, str],
    as_of: int,
) -> dict[str, list[Interval]]:
    """Per started item, the union of its blockers that are ``impediment``, an open one
    running to the item's finish (or ``as_of`` while unfinished), clipped to its cycle."""
    mine = [b for b in blockers if impediment.matches(b, teams)]
    found: dict[str, list[Interval]] = {}
    for item in sorted({b.item_id for b in mine}):
        start, finish = spans.get(item, (None, None))
        if start is None:
            continue
        end = finish if finish is not None else as_of
        own = (
            (b.blocked_at, end if b.unblocked_at is None else b.unblocked_at)
            for b in mine
            if b.item_id == item
        )
        found[item] = clip(merge(own), start, end)
    return found


def risk_document(impediment: Impediment, blocked_days: float) -> dict[str, Any]:
    """A new risk from ``impediment`` (``blocked_days``: its blocked days so far, for the
    description). It has happened already, so probability 1; impact
    :data:`DEFAULT_IMPACT` until the teams rate it; open until they talk it through."""
    teams = [t for t in (impediment.waiting_team, impediment.blocking_team) if t]
    return {
        "title": f"Impediment: {impediment.label}",
        "description": _description(impediment, blocked_days),
        "teams": teams,
        "probability": 1.0,
        "impact": DEFAULT_IMPACT,
        "state": "open",
        **impediment.fields(),
    }


def improvement_document(impediment: Impediment) -> dict[str, Any]:
    """A new roadmap item (a kaizen idea attacking waiting) from ``impediment``. Its scores
    are 0 and its job size 1 until the team scores it, so it sits below scored items."""
    return {
        "title": f"Remove the impediment: {impediment.label}",
        "kind": "kaizen",
        "status": "idea",
        "target": "waiting",
        "business_value": 0.0,
        "time_criticality": 0.0,
        "risk_reduction": 0.0,
        "job_size": 1.0,
        **impediment.fields(),
    }


def _description(impediment: Impediment, blocked_days: float) -> str:
    return (
        f"From the blocked time of the stream: {impediment.label}, "
        f"{blocked_days:.1f} blocked days so far."
    )
