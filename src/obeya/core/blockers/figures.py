"""The blocked-time figures of a flow report (the ``blocked`` block of its JSON).

Conventions (docs/conventions.md, "Blocked time"): an item's blocked time is the union of its
blockers' intervals, an open one (no ``unblocked_at``) running to the item's finish or, while
it is unfinished, to the end of the data; clipped to the item's cycle, ``[start, finish]``
(``[start, end of data]`` while unfinished); an item never started has none. The figures are
over the finished items whose finish falls in the window, as cycle time is. Percentiles are
linear interpolation between ranks (numpy's default), days fractional (86,400 s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from obeya.core.blockers.intervals import Interval, clip, length, merge, overlap
from obeya.core.blockers.model import Blocker, iso
from obeya.core.events import MICROS_PER_DAY

if TYPE_CHECKING:
    from obeya.core.blockers.cross_team import CrossTeam

#: An item's start and finish (integer microseconds UTC; None: not started / not finished).
Span = tuple[int | None, int | None]

#: What the figures are taken over, said in the document.
SCOPE = "finished items (finish in the window)"


@dataclass(frozen=True)
class BlockedNow:
    """An item blocked at the end of the data: since when (the start of the blocked run that
    covers the end, whatever the reasons, even if it began before the item started) and the
    reasons blocking it then, the longest-standing first; whom it waits on (the blocking
    items, else the teams, the blockers name), for whom to call."""

    item_id: str
    since: int
    reasons: tuple[str, ...]
    age_days: float
    waits_on: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "reason": self.reasons[0],
            "reasons": list(self.reasons),
            "since": iso(self.since),
            "age_days": self.age_days,
            "waits_on": list(self.waits_on),
        }


@dataclass(frozen=True)
class BlockedFigures:
    """Blocked time over the finished items, and what is blocked now. Days are fractional."""

    as_of: int
    finished_items: int
    items_blocked: int
    blocked_days: float
    cycle_time_days: float
    share_of_cycle_time: float | None
    days_p50: float | None
    days_p85: float | None
    by_reason: dict[str, float]
    now: list[BlockedNow]
    #: Today's flow efficiency with blocked time inside active visits counted as waiting;
    #: None without a workflow (or no cycle time to divide by).
    flow_efficiency_blocked_as_waiting: float | None
    #: Blockers whose item is not among the analysed ones (no events, or another type).
    unmatched_items: int
    blockers: int = 0
    notes: list[str] = field(default_factory=list)
    #: Who waits on whom (cross_team.py); None when not computed (no item teams asked).
    cross_team: CrossTeam | None = None
    #: Start and finish of every item with a blocker, and the teams of the items the
    #: cross-team view names: what an impediment's cost per week is measured on
    #: (impediments.py), kept beside the document, not in it.
    spans: Mapping[str, Span] = field(default_factory=dict, repr=False, compare=False)
    teams: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": SCOPE,
            "as_of": iso(self.as_of),
            "blockers": self.blockers,
            "finished_items": self.finished_items,
            "items_blocked": self.items_blocked,
            "blocked_days": self.blocked_days,
            "cycle_time_days": self.cycle_time_days,
            "share_of_cycle_time": self.share_of_cycle_time,
            "days": {"p50": self.days_p50, "p85": self.days_p85},
            "by_reason": self.by_reason,
            "now": [n.to_dict() for n in self.now],
            "flow_efficiency_blocked_as_waiting": self.flow_efficiency_blocked_as_waiting,
            "unmatched_items": self.unmatched_items,
            **({} if self.cross_team is None else {"cross_team": self.cross_team.to_dict()}),
        }


def blocked_figures(
    blockers: Sequence[Blocker],
    spans: Mapping[str, Span],
    *,
    as_of: int,
    since: int | None = None,
    until: int | None = None,
    active_visits: Mapping[str, Sequence[Interval]] | None = None,
    flow_efficiency: float | None = None,
) -> BlockedFigures:
    """The figures of ``blockers`` laid over the items' ``spans``.

    ``as_of``: the end of the data (microseconds). ``since``/``until``: the window's first
    microsecond and the first after it (None: open); an item counts when its finish falls in
    it. ``active_visits``: each blocked item's completed visits to active states, as the flow
    report counts active time; with ``flow_efficiency`` (Σ active ÷ Σ cycle time), the
    efficiency with blocked active time moved to waiting is
    ``flow_efficiency − Σ overlap ÷ Σ cycle time``.
    """
    by_item: dict[str, list[Blocker]] = defaultdict(list)
    for b in blockers:
        by_item[b.item_id].append(b)
    finished = [
        item
        for item, (start, finish) in spans.items()
        if start is not None
        and finish is not None
        and (since is None or finish >= since)
        and (until is None or finish < until)
    ]
    blocked_us: list[int] = []
    cycle_us = 0
    active_overlap = 0
    reason_us: dict[str, int] = defaultdict(int)
    for item in finished:
        start, finish = spans[item]
        assert start is not None and finish is not None
        cycle_us += finish - start
        own = by_item.get(item, [])
        if not own:
            continue
        runs = clip(merge(b.interval(finish) for b in own), start, finish)
        blocked_us.append(length(runs))
        if active_visits is not None:
            visits = clip(merge(active_visits.get(item, ())), start, finish)
            active_overlap += overlap(runs, visits)
        for reason in {b.reason for b in own}:
            same = (b.interval(finish) for b in own if b.reason == reason)
            reason_us[reason] += length(clip(merge(same), start, finish))
    days = [us / MICROS_PER_DAY for us in blocked_us if us > 0]
    p50, p85 = (float(v) for v in np.percentile(days, [50, 85])) if days else (None, None)
    efficiency = None
    if flow_efficiency is not None and active_visits is not None and cycle_us > 0:
        efficiency = flow_efficiency - active_overlap / cycle_us
    by_reason = {
        reason: us / MICROS_PER_DAY
        for reason, us in sorted(reason_us.items(), key=lambda kv: (-kv[1], kv[0]))
        if us > 0
    }
    return BlockedFigures(
        as_of=as_of,
        finished_items=len(finished),
        items_blocked=len(days),
        blocked_days=sum(blocked_us) / MICROS_PER_DAY,
        cycle_time_days=cycle_us / MICROS_PER_DAY,
        share_of_cycle_time=sum(blocked_us) / cycle_us if cycle_us > 0 else None,
        days_p50=p50,
        days_p85=p85,
        by_reason=by_reason,
        now=blocked_now(by_item, spans, as_of),
        flow_efficiency_blocked_as_waiting=efficiency,
        unmatched_items=sum(1 for item in by_item if item not in spans),
        blockers=len(blockers),
    )


def blocked_now(
    by_item: Mapping[str, Sequence[Blocker]], spans: Mapping[str, Span], as_of: int
) -> list[BlockedNow]:
    """Items in progress at ``as_of`` (started by then, not finished by then) with a blocker
    covering it (``blocked_at ≤ as_of < unblocked_at``, or still open), oldest first."""
    found: list[BlockedNow] = []
    for item, own in by_item.items():
        start, finish = spans.get(item, (None, None))
        if start is None or start > as_of or (finish is not None and finish <= as_of):
            continue
        covering = [b for b in own if b.blocked_at <= as_of and _open_at(b, as_of)]
        if not covering:
            continue
        # The run of the union (open blockers without end) that holds as_of.
        runs = merge((b.blocked_at, _open_end(b, as_of)) for b in own if b.blocked_at <= as_of)
        since = next(s for s, e in runs if s <= as_of < e)
        first: dict[str, int] = {}
        whom: dict[str, None] = {}
        for b in sorted(covering, key=lambda b: (b.blocked_at, b.reason)):
            first.setdefault(b.reason, b.blocked_at)
            if b.blocking_item or b.team:
                whom.setdefault(b.blocking_item or b.team or "")
        age = (as_of - since) / MICROS_PER_DAY
        found.append(BlockedNow(item, since, tuple(first), age, tuple(whom)))
    return sorted(found, key=lambda n: (n.since, n.item_id))


def _open_at(b: Blocker, moment: int) -> bool:
    return b.unblocked_at is None or b.unblocked_at > moment


def _open_end(b: Blocker, as_of: int) -> int:
    return as_of + 1 if b.unblocked_at is None else b.unblocked_at
