"""Propose a workflow from the data, for the user to edit.

Each state is placed by what the data says of it (is it where items begin? where they end?)
and by its name (``Wait - User`` waits, ``Closed`` is done). The proposal is a starting point:
the TOML it writes says why each state went where it did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ibis

from obeya.core.events import EventLog
from obeya.core.workflow import Category, Workflow

_DONE = re.compile(
    r"\b(done|closed?|resolved|complete[d]?|cancell?ed|rejected|won'?t|released|deployed|"
    r"finished|delivered|shipped|merged|archived|duplicate)\b",
    re.IGNORECASE,
)
_BACKLOG = re.compile(
    r"\b(to ?do|backlog|open|new|created|proposed|funnel|selected|requested|idea|triage)\b",
    re.IGNORECASE,
)
_ACTIVE = re.compile(
    r"\b(in progress|progress|doing|develop\w*|review\w*|test\w*|in call|call|work\w*|"
    r"implement\w*|build\w*|analy\w*|design\w*|fix\w*|investigat\w*|coding|active)\b",
    re.IGNORECASE,
)
_WAITING = re.compile(
    r"\b(wait\w*|block\w*|queue\w*|await\w*|ready|pending|on hold|hold|paused|parked|"
    r"assigned|unmatched)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StateStats:
    state: str
    events: int
    items: int
    first_share: float  # of items visiting it, share whose first event it is
    last_share: float  # of items visiting it, share whose last event it is
    mean_position: float
    category: Category
    reason: str


def state_stats(log: EventLog) -> list[StateStats]:
    con = ibis.duckdb.connect()
    try:
        e = con.create_table("events", log.table, temp=True)
        w = ibis.window(group_by=e.item_id, order_by=[e.t, e.seq])
        pos = ibis.row_number().over(w)
        rows = (
            e.mutate(pos=pos, n=e.item_id.count().over(ibis.window(group_by=e.item_id)))
            .mutate(first=lambda t: t.pos == 0, last=lambda t: t.pos == t.n - 1)
            .group_by("state")
            .aggregate(
                events=lambda t: t.count(),
                items=lambda t: t.item_id.nunique(),
                firsts=lambda t: t.item_id.count(where=t.first),
                lasts=lambda t: t.item_id.count(where=t.last),
                mean_position=lambda t: (t.pos / t.n.clip(lower=1)).mean(),
            )
            .order_by("mean_position")
            .to_pyarrow()
            .to_pylist()
        )
    finally:
        con.disconnect()
    out = []
    for r in rows:
        items = max(int(r["items"]), 1)
        first_share = int(r["firsts"]) / items
        last_share = int(r["lasts"]) / items
        category, reason = _classify(str(r["state"]), first_share, last_share)
        out.append(
            StateStats(
                state=str(r["state"]),
                events=int(r["events"]),
                items=int(r["items"]),
                first_share=first_share,
                last_share=last_share,
                mean_position=float(r["mean_position"]),
                category=category,
                reason=reason,
            )
        )
    return out


def _classify(state: str, first_share: float, last_share: float) -> tuple[Category, str]:
    """Names speak first (a tracker's states are named by people), then where items are."""
    if _DONE.search(state):
        return Category.DONE, "its name says done"
    if _WAITING.search(state):
        return Category.WAITING, "its name says waiting"
    if _ACTIVE.search(state):
        return Category.ACTIVE, "its name says work happens here"
    if _BACKLOG.search(state) and first_share >= 0.3:
        return Category.BACKLOG, f"its name says backlog and {first_share:.0%} begin there"
    if last_share >= 0.6:
        return Category.DONE, f"{last_share:.0%} of the items visiting it end there"
    if first_share >= 0.8:
        return Category.BACKLOG, f"{first_share:.0%} of the items visiting it begin there"
    return Category.ACTIVE, "work happens here (neither a start, an end nor a wait)"


def infer_workflow(log: EventLog) -> tuple[Workflow, list[StateStats]]:
    """A proposed workflow and the evidence for it; states come in the order items visit them."""
    stats = state_stats(log)
    lists: dict[Category, list[str]] = {c: [] for c in Category}
    for s in stats:
        lists[s.category].append(s.state)
    if not lists[Category.DONE] and stats:
        # Every workflow needs an end: take the state items most often end in.
        best = max(stats, key=lambda s: s.last_share)
        for values in lists.values():
            if best.state in values:
                values.remove(best.state)
        lists[Category.DONE].append(best.state)
    workflow = Workflow(
        backlog=tuple(lists[Category.BACKLOG]),
        active=tuple(lists[Category.ACTIVE]),
        waiting=tuple(lists[Category.WAITING]),
        done=tuple(lists[Category.DONE]),
        order=tuple(s.state for s in stats),
        source=log.source,
    )
    return workflow, stats


def proposal_toml(log: EventLog) -> str:
    """The proposed workflow as TOML, with the evidence for each state as comments."""
    workflow, stats = infer_workflow(log)
    lines = [
        f"# Workflow proposed by `obeya workflow infer` from {log.source}.",
        "# Edit it: move states between categories; `order` is the flow order for cumulative",
        "# flow. Evidence per state (items visiting, share beginning / ending there):",
    ]
    for s in stats:
        lines.append(
            f"#   {s.state!r}: {s.items} items, {s.first_share:.0%} begin, "
            f"{s.last_share:.0%} end -> {s.category.value} ({s.reason})"
        )
    return "\n".join(lines) + "\n" + workflow.to_toml()
