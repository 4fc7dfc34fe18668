"""Who waits on whom: blocked days by (waiting team, blocking team), the ``cross_team`` part
of the ``blocked`` block (docs/conventions.md, "Blocked time across teams").

A blocker enters the matrix when it names whom the item waits on: a ``blocking_item``, or
only a ``team``. The waiting team is the blocked item's team (its last event naming one);
the blocking team is the blocking item's team from the events, else the blocker's ``team``,
else :data:`NO_TEAM`. A pair is *cross-team* when both teams are known and differ: that is
the impediment at an integration point the value stream manager owns.

The days follow figures.py: over the finished items whose finish falls in the window, each
pair's intervals of one item merged on their own (so an item waiting on two teams at once
counts for both pairs, and the pairs may add up to more than ``blocked_days``), an open one
running to the finish, clipped to the item's cycle. Plain Python over integer microseconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from obeya.core.blockers.figures import Span
from obeya.core.blockers.intervals import clip, length, merge
from obeya.core.blockers.model import Blocker
from obeya.core.events import MICROS_PER_DAY

#: The team of an item no event names a team for, and of a wait that names none.
NO_TEAM = "(no team)"
#: Cross-team pairs listed first in ``top_pairs``.
TOP_PAIRS = 5


@dataclass(frozen=True)
class PairItem:
    """One item behind a pair: its days waiting on the other team, on what and why."""

    item_id: str
    days: float
    blocking_items: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "days": self.days,
            "blocking_items": list(self.blocking_items),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class TeamPair:
    """Blocked days of the ``waiting`` team's items on the ``blocking`` team; items with the
    most days first."""

    waiting: str
    blocking: str
    days: float
    items: tuple[PairItem, ...]

    @property
    def cross_team(self) -> bool:
        return NO_TEAM not in (self.waiting, self.blocking) and self.waiting != self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {
            "waiting_team": self.waiting,
            "blocking_team": self.blocking,
            "days": self.days,
            "cross_team": self.cross_team,
            "items": [i.to_dict() for i in self.items],
        }


@dataclass(frozen=True)
class CrossTeam:
    """Every (waiting, blocking) pair with blocked days, most days first, then by names."""

    waits: int
    pairs: tuple[TeamPair, ...]

    @property
    def teams(self) -> list[str]:
        """The teams of the matrix, :data:`NO_TEAM` last."""
        named = {p.waiting for p in self.pairs} | {p.blocking for p in self.pairs}
        return sorted(named - {NO_TEAM}) + ([NO_TEAM] if NO_TEAM in named else [])

    @property
    def top_pairs(self) -> list[TeamPair]:
        return [p for p in self.pairs if p.cross_team][:TOP_PAIRS]

    @property
    def cross_team_days(self) -> float:
        return sum((p.days for p in self.pairs if p.cross_team), 0.0)

    def matrix(self) -> dict[str, dict[str, float]]:
        """Waiting team → blocking team → days (pairs without days left out)."""
        rows: dict[str, dict[str, float]] = {}
        for team in self.teams:
            row = {p.blocking: p.days for p in self.pairs if p.waiting == team}
            if row:
                rows[team] = {t: row[t] for t in self.teams if t in row}
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "waits": self.waits,
            "teams": self.teams,
            "matrix": self.matrix(),
            "cross_team_days": self.cross_team_days,
            "pairs": [p.to_dict() for p in self.pairs],
            "top_pairs": [p.to_dict() for p in self.top_pairs],
        }


def names_whom(blocker: Blocker) -> bool:
    """Whether a blocker says whom the item waits on (a blocking item or a team)."""
    return bool(blocker.blocking_item) or bool(blocker.team)


def blocking_team(blocker: Blocker, teams: Mapping[str, str]) -> str:
    """The team a blocker waits on: its blocking item's (events), else its own ``team``."""
    if blocker.blocking_item and blocker.blocking_item in teams:
        return teams[blocker.blocking_item]
    return blocker.team or NO_TEAM


def team_ids(blockers: Sequence[Blocker]) -> list[str]:
    """The items whose team the matrix needs: blocked items and the items they wait on."""
    ids = {b.item_id for b in blockers if names_whom(b)}
    ids |= {b.blocking_item for b in blockers if b.blocking_item}
    return sorted(ids)


def cross_team(
    blockers: Sequence[Blocker],
    spans: Mapping[str, Span],
    teams: Mapping[str, str],
    *,
    since: int | None = None,
    until: int | None = None,
) -> CrossTeam:
    """The matrix of ``blockers`` over the items' ``spans`` (microseconds; see the module
    docstring). ``teams``: item → its team (items without one absent). ``since``/``until``:
    the window, as :func:`~obeya.core.blockers.figures.blocked_figures` takes it."""
    waiting = [b for b in blockers if names_whom(b)]
    by_item: dict[str, list[Blocker]] = defaultdict(list)
    for b in waiting:
        by_item[b.item_id].append(b)
    cells: dict[tuple[str, str], list[PairItem]] = defaultdict(list)
    cell_us: dict[tuple[str, str], int] = defaultdict(int)
    for item, own in by_item.items():
        start, finish = spans.get(item, (None, None))
        if start is None or finish is None:
            continue
        if (since is not None and finish < since) or (until is not None and finish >= until):
            continue
        by_pair: dict[tuple[str, str], list[Blocker]] = defaultdict(list)
        for b in own:
            by_pair[(teams.get(item, NO_TEAM), blocking_team(b, teams))].append(b)
        for pair, same in by_pair.items():
            runs = clip(merge(b.interval(finish) for b in same), start, finish)
            us = length(runs)
            if us <= 0:
                continue
            cell_us[pair] += us
            cells[pair].append(
                PairItem(
                    item,
                    us / MICROS_PER_DAY,
                    tuple(sorted({b.blocking_item for b in same if b.blocking_item})),
                    tuple(sorted({b.reason for b in same})),
                )
            )
    pairs = [
        TeamPair(w, b, cell_us[(w, b)] / MICROS_PER_DAY, tuple(sorted(items, key=_most_days)))
        for (w, b), items in cells.items()
    ]
    pairs.sort(key=lambda p: (-p.days, p.waiting, p.blocking))
    return CrossTeam(waits=len(waiting), pairs=tuple(pairs))


def _most_days(item: PairItem) -> tuple[float, str]:
    return (-item.days, item.item_id)
