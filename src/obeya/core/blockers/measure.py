"""What the blocked-time figures need from the flow analysis, fetched on its backend: each
item's start and finish (:func:`~obeya.core.metrics.engine.item_spans`, the flow report's own),
the active visits of the blocked items, so that no convention is computed twice, and the
teams of the items the cross-team view names (:func:`item_teams`)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import ibis
import pyarrow as pa

from obeya.core.blockers.cross_team import cross_team, team_ids
from obeya.core.blockers.figures import BlockedFigures, Span, blocked_figures
from obeya.core.blockers.intervals import Interval
from obeya.core.blockers.model import Blocker
from obeya.core.events import EventLog
from obeya.core.metrics import expressions as x
from obeya.core.metrics import fetch
from obeya.core.metrics.filters import FlowFilter
from obeya.core.workflow import Category, Workflow


def blocked_of_log(
    log: EventLog,
    blockers: Sequence[Blocker],
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    flow_efficiency: float | None = None,
    backend: Any = None,
    spans: pa.Table | None = None,
) -> BlockedFigures:
    """The figures of ``blockers`` over ``log`` as its flow report sees it (same workflow,
    same filter); ``flow_efficiency``: that report's; ``spans``: its items' spans, when it
    kept them (``FlowReport.spans``), else they are computed here."""
    from obeya.core.metrics.engine import duckdb_backend, item_spans, log_table

    flt = flt or FlowFilter()
    con = backend if backend is not None else duckdb_backend()
    try:
        if spans is None:
            spans = item_spans(log, workflow, flt, backend=con)
        with log_table(con, log) as loaded:
            return _figures(con, loaded.events, spans, blockers, workflow, flt, flow_efficiency)
    finally:
        if backend is None:
            con.disconnect()


def blocked_of_table(
    con: Any,
    events: Any,
    blockers: Sequence[Blocker],
    workflow: Workflow | None = None,
    flt: FlowFilter | None = None,
    *,
    flow_efficiency: float | None = None,
    source: str = "<events>",
    spans: pa.Table | None = None,
) -> BlockedFigures:
    """:func:`blocked_of_log` for events already a table of ``con`` (a stream's events on
    the PostgreSQL server, a Parquet dataset): nothing leaves the engine but the spans."""
    from obeya.core.metrics.analysis import FlowAnalysis

    flt = flt or FlowFilter()
    if spans is None:
        spans = FlowAnalysis(con, events, workflow, flt, source=source).item_spans()
    return _figures(con, events, spans, blockers, workflow, flt, flow_efficiency)


def _figures(
    con: Any,
    events: Any,
    spans_table: pa.Table,
    blockers: Sequence[Blocker],
    workflow: Workflow | None,
    flt: FlowFilter,
    flow_efficiency: float | None,
) -> BlockedFigures:
    spans: dict[str, Span] = {
        str(r["item_id"]): (r["start_t"], r["finish_t"]) for r in spans_table.to_pylist()
    }
    last = max((t for t in spans_table.column("last_t").to_pylist() if t is not None), default=0)
    # The end of the data as the flow report's as_of: the window's last microsecond, if any.
    as_of = flt.until_us - 1 if flt.until_us is not None else int(last)
    visits = None
    if workflow is not None:
        blocked = sorted({b.item_id for b in blockers if spans.get(b.item_id, (None,))[0]})
        visits = active_visits(con, events, workflow, flt, blocked)
    figures = blocked_figures(
        blockers,
        spans,
        as_of=as_of,
        since=flt.since_us,
        until=flt.until_us,
        active_visits=visits,
        flow_efficiency=flow_efficiency,
    )
    teams = item_teams(con, events, team_ids(blockers))
    kept = {b.item_id: spans[b.item_id] for b in blockers if b.item_id in spans}
    matrix = cross_team(blockers, spans, teams, since=flt.since_us, until=flt.until_us)
    return dataclasses.replace(figures, cross_team=matrix, spans=kept, teams=teams)


def item_teams(con: Any, events: Any, item_ids: Sequence[str]) -> dict[str, str]:
    """Per item of ``item_ids``, the team of its last event (by time, then sequence) that
    names one (a blank team names none). Every event counts, whatever the filter: an item's
    team is who it is, not what the window shows of it."""
    if not item_ids:
        return {}
    e = events.select("item_id", "t", "seq", "team")
    e = e.filter(e.item_id.isin(list(item_ids)) & e.team.notnull() & (e.team.strip() != ""))
    latest = ibis.window(group_by=e.item_id, order_by=[ibis.desc(e.t), ibis.desc(e.seq)])
    e = e.mutate(rank=ibis.row_number().over(latest))
    rows = fetch.arrow(con, e.filter(e.rank == 0).select("item_id", "team")).to_pylist()
    return {str(r["item_id"]): str(r["team"]) for r in rows}


def active_visits(
    con: Any, events: Any, workflow: Workflow, flt: FlowFilter, item_ids: Sequence[str]
) -> dict[str, list[Interval]]:
    """The completed visits of ``item_ids`` to active states, ``[entered, next event)``: the
    visits the flow report sums into active time (expressions.annotated_events)."""
    if not item_ids:
        return {}
    chosen = x.filtered_events(events, flt)
    chosen = chosen.filter(chosen.item_id.isin(list(item_ids)))
    e = x.annotated_events(chosen, workflow, workflow.state_order())
    e = e.filter((e.category == x.category_code(Category.ACTIVE)) & e.next_t.notnull())
    rows = fetch.arrow(con, e.select("item_id", "t", "next_t")).to_pylist()
    found: dict[str, list[Interval]] = defaultdict(list)
    for r in rows:
        found[str(r["item_id"])].append((int(r["t"]), int(r["next_t"])))
    return dict(found)
