"""Propose a workflow from the data, for the user to edit.

Each state is placed by its name (``Wait - User`` waits, ``Closed`` is done), else by what the
data says of it (is it where items begin? where they end?). The proposal is a starting point:
the TOML it writes says why each state went where it did, quoting the words of a name that
placed it.

A proposal (or any workflow, :func:`review`) is also checked for results that are rarely true
(docs/conventions.md, "Plausibility flags"): a flow efficiency over 60 %, a state classed
active that holds most of the time items spend in process — a wait taken for work, as the
Helpdesk log's ``Resolve ticket`` (a month between resolving a ticket and closing it) — and a
state placed by its name where the data would have placed it elsewhere: the sample's
``In Call``, a call, where 93 % of the incidents that reach it end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
#: A state its name leaves open is done when at least this share of the items visiting it end
#: there; a state its name places as active or waiting is flagged at the same share.
ENDS_THERE = 0.60
#: A state its name leaves open is backlog when at least this share of the items visiting it
#: begin there; a state its name places as active or waiting is flagged at the same share.
BEGINS_THERE = 0.80
#: A state whose name says backlog is backlog only if at least this share begin there
#: (``Open`` also names a ticket being worked, in some service desks).
BACKLOG_NAME_BEGINS = 0.30


@dataclass(frozen=True)
class NameRule:
    """Words in a state's name that place it: ``says`` is what they say, in the reason."""

    category: Category
    pattern: re.Pattern[str]
    says: str


def _words(alternatives: str, *, not_after_for: bool = False) -> re.Pattern[str]:
    # Whole words, any case. "Selected for Development", "Ready for Test": a name that says
    # an item is *for* a step does not say it is in it.
    guard = r"(?<!\bfor )" if not_after_for else ""
    return re.compile(rf"\b{guard}(?:{alternatives})\b", re.IGNORECASE)


#: The name rules, first match wins. Words match whole (``created_date`` holds no word
#: ``created``: ``_`` joins words). Past participles of work (``Tested``, ``Developed``,
#: ``Fixed``) are left to the data: they name a step finished, not one under way.
NAME_RULES: tuple[NameRule, ...] = (
    # "Dev Done", "Analysis Complete": a board's queue between two steps, not the end.
    NameRule(
        Category.WAITING,
        _words(
            r"(?:dev|development|analysis|design|build|coding|review|test|testing|qa|ux)"
            r"[ -]*(?:done|complete[d]?|finished)"
        ),
        "one step is done and the next has not begun",
    ),
    NameRule(
        Category.DONE,
        _words(
            r"done|closed?|resolved|complete[d]?|cancell?ed|rejected|won'?t|released|"
            r"deployed|finished|delivered|shipped|merged|archived|duplicate"
        ),
        "done",
    ),
    NameRule(
        Category.WAITING,
        _words(r"wait\w*|await\w*|block\w*|queued?|pending|on hold|hold|paused|parked"),
        "waiting",
    ),
    NameRule(Category.WAITING, _words("ready"), "it is ready for a step it is not yet in"),
    NameRule(Category.WAITING, _words("assigned"), "it is assigned, a queue for its assignee"),
    NameRule(
        Category.ACTIVE,
        _words(
            r"in progress|progress|doing|develop|developing|development|review|reviewing|"
            r"test|testing|in call|call|work|working|implement|implementing|implementation|"
            r"build|building|analysis|analyse|analyze|analysing|analyzing|design|designing|"
            r"fix|fixing|investigate|investigating|investigation|coding|active",
            not_after_for=True,
        ),
        "work happens here",
    ),
)
#: Backlog words place a state only where enough items begin (:data:`BACKLOG_NAME_BEGINS`).
BACKLOG_NAME = NameRule(
    Category.BACKLOG,
    _words(r"to ?do|backlog|open|new|created|proposed|funnel|selected|requested|idea|triage"),
    "backlog",
)


@dataclass(frozen=True)
class StateStats:
    """The evidence on one state and where it is placed: ``category`` and ``reason`` are those
    of the proposal (:func:`infer_workflow`) or, from :func:`state_stats`, of the state alone;
    ``name_match`` is the text of its name that placed it ("": the data placed it)."""

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
    name_match: str = ""


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
    """Per state, in the order items visit them: the evidence, and where the state alone
    would be placed (:func:`classify`)."""
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
        category, reason, matched = classify(str(r["state"]), first_share, last_share)
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
                name_match=matched,
            )
        )
    return out


def classify(state: str, first_share: float, last_share: float) -> tuple[Category, str, str]:
    """Where ``state`` alone goes, why, and the text of its name that placed it ("" if the data
    did). Names speak first (a tracker's states are named by people), then where items are:
    ``first_share`` / ``last_share`` of the items visiting it begin / end there."""
    for rule in NAME_RULES:
        found = rule.pattern.search(state)
        if found:
            return rule.category, f"its name says {rule.says} ({found.group()!r})", found.group()
    backlog = BACKLOG_NAME.pattern.search(state)
    if backlog and first_share >= BACKLOG_NAME_BEGINS:
        begin = percent_of(first_share)
        reason = f"its name says backlog ({backlog.group()!r}) and {begin} begin there"
        return Category.BACKLOG, reason, backlog.group()
    if last_share >= ENDS_THERE:
        return Category.DONE, f"{percent_of(last_share)} of the items visiting it end there", ""
    if first_share >= BEGINS_THERE:
        reason = f"{percent_of(first_share)} of the items visiting it begin there"
        return Category.BACKLOG, reason, ""
    named = (
        f"its name says backlog ({backlog.group()!r}) but only "
        f"{_below(first_share, BACKLOG_NAME_BEGINS)} begin there "
        f"({percent_of(BACKLOG_NAME_BEGINS)} needed)"
        if backlog
        else "nothing in its name places it"
    )
    reason = (
        f"active by default: {named}, and too few of its items begin or end there to make it "
        f"a start ({percent_of(BEGINS_THERE)}) or an end ({percent_of(ENDS_THERE)})"
    )
    return Category.ACTIVE, reason, ""


def _below(share: float, limit: float) -> str:
    """``share`` in percent, with a decimal where rounding would show it at ``limit``: 59.7 %,
    not 60 %, against 60 %."""
    text = percent_of(share)
    return percent_of(share, 1) if text == percent_of(limit) else text


def infer_workflow(
    log: EventLog, stats: list[StateStats] | None = None
) -> tuple[Workflow, list[StateStats]]:
    """A proposed workflow and the evidence for it; states come in the order items visit them.
    ``stats``: the log's :func:`state_stats`, when the caller has them already. The workflow
    is built from the evidence returned, so each state's ``category`` and ``reason`` there are
    the ones the workflow holds, adjustments included."""
    if stats is None:
        stats = state_stats(log)
    stats = _with_an_end(stats)
    lists: dict[Category, list[str]] = {c: [] for c in Category}
    for s in stats:
        lists[s.category].append(s.state)
    workflow = Workflow(
        backlog=tuple(lists[Category.BACKLOG]),
        active=tuple(lists[Category.ACTIVE]),
        waiting=tuple(lists[Category.WAITING]),
        done=tuple(lists[Category.DONE]),
        order=tuple(s.state for s in stats),
        source=log.source,
    )
    return workflow, stats


def _with_an_end(stats: list[StateStats]) -> list[StateStats]:
    """``stats`` with a done state: every workflow needs an end. If neither a name nor the
    data made one, the state items most often end in is done, saying so."""
    if not stats or any(s.category == Category.DONE for s in stats):
        return stats
    best = max(stats, key=lambda s: s.last_share)  # the first of equals, in flow order
    tied = sum(s.last_share == best.last_share for s in stats) > 1
    reason = (
        "no state is done by its name or by where its items end, and a workflow needs a done "
        f"state: {percent_of(best.last_share)} of the items that visit it end there, "
        f"{'as many as at any other' if tied else 'the most of any state'}"
    )
    if best.name_match:
        reason += f" (by its name alone: {best.category.value}, as {best.reason})"
    moved = replace(best, category=Category.DONE, reason=reason, name_match="")
    return [moved if s is best else s for s in stats]


@dataclass(frozen=True)
class Proposal:
    """A proposed workflow, the evidence for it, its flow efficiency and its flags. Each
    state's category in ``states`` is the one ``workflow`` gives it (checked)."""

    workflow: Workflow
    states: list[StateStats]
    flow_efficiency: float | None
    flags: list[Flag]

    def __post_init__(self) -> None:
        for s in self.states:
            held = self.workflow.category_of(s.state)
            if held != s.category:
                raise ValueError(
                    f"state {s.state!r}: the evidence says {s.category.value}, the workflow "
                    f"{held.value}; a proposal's evidence must be the workflow's"
                )

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
    flags.extend(_name_against_data(categories, stats))
    return flags


def _name_against_data(categories: dict[str, Category], stats: Sequence[StateStats]) -> list[Flag]:
    """States classed active or waiting as their name says, where the data alone would have
    placed them elsewhere: most items that visit them end there (:data:`ENDS_THERE`: they
    never finish) or, for a waiting state, begin there (:data:`BEGINS_THERE`: their cycle
    time starts with time spent in a queue)."""
    flags: list[Flag] = []
    for s in stats:
        category = categories.get(s.state)
        if not s.name_match or category != s.category:
            continue  # placed by the data, or not as its name says
        if category not in (Category.ACTIVE, Category.WAITING):
            continue  # a backlog or a done state is where items may rest
        classed = f"{s.state!r} is classed {category.value}, as its name says ({s.name_match!r})"
        if s.last_share >= ENDS_THERE:
            ending = round(s.items * s.last_share)
            flags.append(
                Flag(
                    "most_end_there",
                    s.state,
                    s.last_share,
                    f"{classed}, but {percent_of(s.last_share)} of the items that visit it end "
                    f"there ({ending:,} items, all counted as work in progress): if it is where "
                    "work ends, class it done",
                )
            )
        # Work that starts on arrival is common (an incident opened "In Progress"); a queue
        # where most items begin is a backlog by another name.
        if category == Category.WAITING and s.first_share >= BEGINS_THERE:
            beginning = round(s.items * s.first_share)
            flags.append(
                Flag(
                    "most_begin_there",
                    s.state,
                    s.first_share,
                    f"{classed}, but {percent_of(s.first_share)} of the items that visit it "
                    f"begin there ({beginning:,} items, whose cycle time starts with their first "
                    "event): if items wait there before work starts, class it backlog",
                )
            )
    return flags


def items_of(count: int) -> str:
    """``1 item``, ``4,123 items``."""
    return f"{count:,} item{'' if count == 1 else 's'}"


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
            f"#   {s.state!r}: {items_of(s.items)}, {percent_of(s.first_share)} begin, "
            f"{percent_of(s.last_share)} end -> {s.category.value} ({s.reason})"
        )
    return "\n".join(lines) + "\n" + proposal.workflow.to_toml()


def proposal_toml(log: EventLog) -> str:
    """The proposed workflow as TOML, with its flags and evidence as comments."""
    return proposal_text(propose(log), log.source)
