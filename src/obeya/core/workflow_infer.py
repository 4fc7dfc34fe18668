"""Propose a workflow from the data, for the user to edit.

Each state is placed by what the data says of it (is it where items begin? where they end?)
and by its name (``Wait - User`` waits, ``Closed`` is done). The proposal is a starting point:
the TOML it writes says why each state went where it did.

A proposal (or any workflow, :func:`review`) is also checked for results that are rarely true
(docs/conventions.md, "Plausibility flags"): a flow efficiency over 60 %, and a state classed
active that holds most of the time items spend in process — a wait taken for work, as the
Helpdesk log's ``Resolve ticket`` (a month between resolving a ticket and closing it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis

from obeya.core.events import MICROS_PER_HOUR, EventLog
from obeya.core.shares import percent_of
from obeya.core.workflow import Category, Workflow

#: A flow efficiency above this is flagged: knowledge work rarely passes 40 %, and a figure
#: this high usually means waits are classed as active.
EFFICIENCY_LIMIT = 0.60
#: An active state holding more than this share of the time items spend in process (completed
#: visits to active and waiting states) is flagged: most of the elapsed time in one "working"
#: state is more often a queue than work.
ACTIVE_SHARE_LIMIT = 0.50

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
    hours: float = 0.0  # summed hours of the completed visits to it (all items)
    median_visit_hours: float | None = None  # of one completed visit


@dataclass(frozen=True)
class Flag:
    """A result that is rarely true, for the user to check: ``rule`` names the rule,
    ``state`` the state it is about (None: the whole workflow), ``value`` the measured figure
    (a fraction)."""

    rule: str
    state: str | None
    value: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "state": self.state,
            "value": self.value,
            "message": self.message,
        }


def state_stats(log: EventLog) -> list[StateStats]:
    con = ibis.duckdb.connect()
    try:
        e = con.create_table("events", log.table, temp=True)
        w = ibis.window(group_by=e.item_id, order_by=[e.t, e.seq])
        pos = ibis.row_number().over(w)
        visit = (e.t.lead().over(w) - e.t).cast("float64") / MICROS_PER_HOUR
        rows = (
            e.mutate(
                pos=pos, n=e.item_id.count().over(ibis.window(group_by=e.item_id)), visit=visit
            )
            .mutate(first=lambda t: t.pos == 0, last=lambda t: t.pos == t.n - 1)
            .group_by("state")
            .aggregate(
                events=lambda t: t.count(),
                items=lambda t: t.item_id.nunique(),
                firsts=lambda t: t.item_id.count(where=t.first),
                lasts=lambda t: t.item_id.count(where=t.last),
                mean_position=lambda t: (t.pos / t.n.clip(lower=1)).mean(),
                hours=lambda t: t.visit.sum(),
                median_visit=lambda t: t.visit.quantile(0.5),
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
                hours=float(r["hours"] or 0.0),
                median_visit_hours=(
                    None if r["median_visit"] is None else float(r["median_visit"])
                ),
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
        return Category.BACKLOG, f"its name says backlog and {percent_of(first_share)} begin there"
    if last_share >= 0.6:
        return Category.DONE, f"{percent_of(last_share)} of the items visiting it end there"
    if first_share >= 0.8:
        return Category.BACKLOG, f"{percent_of(first_share)} of the items visiting it begin there"
    return Category.ACTIVE, "work happens here (neither a start, an end nor a wait)"


def infer_workflow(
    log: EventLog, stats: list[StateStats] | None = None
) -> tuple[Workflow, list[StateStats]]:
    """A proposed workflow and the evidence for it; states come in the order items visit them.
    ``stats``: the log's :func:`state_stats`, when the caller has them already."""
    if stats is None:
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


@dataclass(frozen=True)
class Proposal:
    """A proposed workflow, the evidence for it, its flow efficiency and its flags."""

    workflow: Workflow
    states: list[StateStats]
    flow_efficiency: float | None
    flags: list[Flag]

    def to_dict(self) -> dict[str, Any]:
        wf = self.workflow
        return {
            "workflow": {
                "backlog": list(wf.backlog),
                "active": list(wf.active),
                "waiting": list(wf.waiting),
                "done": list(wf.done),
                "order": list(wf.order),
                "finish": wf.finish,
            },
            "flow_efficiency": self.flow_efficiency,
            "flags": [f.to_dict() for f in self.flags],
            "states": [
                {
                    "state": s.state,
                    "category": s.category.value,
                    "reason": s.reason,
                    "items": s.items,
                    "events": s.events,
                    "first_share": s.first_share,
                    "last_share": s.last_share,
                    "hours": s.hours,
                    "median_visit_hours": s.median_visit_hours,
                }
                for s in self.states
            ],
        }


def propose(log: EventLog, stats: list[StateStats] | None = None) -> Proposal:
    """The proposed workflow of :func:`infer_workflow`, checked (:func:`review`); ``stats``:
    the log's :func:`state_stats`, when the caller has them already."""
    workflow, stats = infer_workflow(log, stats)
    efficiency = flow_efficiency(log, workflow)
    return Proposal(workflow, stats, efficiency, review(workflow, stats, efficiency))


def flow_efficiency(log: EventLog, workflow: Workflow) -> float | None:
    """The stream's flow efficiency under ``workflow`` (docs/conventions.md)."""
    from obeya.core.metrics.engine import analyse_log

    return analyse_log(log, workflow).flow_efficiency


def review(workflow: Workflow, stats: Sequence[StateStats], efficiency: float | None) -> list[Flag]:
    """The plausibility flags of ``workflow`` on a log (``stats``: its :func:`state_stats`;
    ``efficiency``: its flow efficiency under ``workflow``). Rules in docs/conventions.md."""
    flags: list[Flag] = []
    if efficiency is not None and efficiency > EFFICIENCY_LIMIT:
        flags.append(
            Flag(
                "flow_efficiency",
                None,
                efficiency,
                f"flow efficiency is {percent_of(efficiency)}, above "
                f"{percent_of(EFFICIENCY_LIMIT)}: knowledge work rarely gets there; check that "
                "no state classed active is really a wait",
            )
        )
    categories = workflow.categories()
    in_process = sum(
        s.hours for s in stats if categories.get(s.state) in (Category.ACTIVE, Category.WAITING)
    )
    if in_process > 0:
        for s in stats:
            share = s.hours / in_process
            if categories.get(s.state) != Category.ACTIVE or share <= ACTIVE_SHARE_LIMIT:
                continue
            visit = (
                ""
                if s.median_visit_hours is None
                else f" (a visit lasts {_duration(s.median_visit_hours)} at the median)"
            )
            flags.append(
                Flag(
                    "active_state_share",
                    s.state,
                    share,
                    f"{s.state!r} is classed active but holds {percent_of(share)} of the time "
                    f"items spend in process{visit}; if items mostly wait there (for someone, a "
                    "customer, a release), class it waiting",
                )
            )
    return flags


def _duration(hours: float) -> str:
    return f"{hours:,.1f} h" if hours < 48 else f"{hours / 24:,.1f} days"


def proposal_text(proposal: Proposal, source: str) -> str:
    """The proposal as TOML, its flags and the evidence for each state as comments."""
    lines = [
        f"# Workflow proposed by `obeya workflow infer` from {source}.",
        "# Edit it: move states between categories; `order` is the flow order for cumulative",
        '# flow; `finish = "first"` ends cycle time at the first entry into done.',
    ]
    if proposal.flow_efficiency is not None:
        lines.append(
            f"# Flow efficiency with this workflow: {percent_of(proposal.flow_efficiency)}."
        )
    for flag in proposal.flags:
        lines.append(f"# CHECK ({flag.rule}): {flag.message}.")
    lines.append("# Evidence per state (items visiting, share beginning / ending there):")
    for s in proposal.states:
        lines.append(
            f"#   {s.state!r}: {s.items} items, {percent_of(s.first_share)} begin, "
            f"{percent_of(s.last_share)} end -> {s.category.value} ({s.reason})"
        )
    return "\n".join(lines) + "\n" + proposal.workflow.to_toml()


def proposal_toml(log: EventLog) -> str:
    """The proposed workflow as TOML, with its flags and evidence as comments."""
    return proposal_text(propose(log), log.source)
