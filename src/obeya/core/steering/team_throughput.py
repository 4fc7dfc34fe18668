"""Each team's daily throughput from one event log, for the forecasts of dependencies at risk
(docs/steering.md).

One flow analysis of the whole log (the same metrics as ``obeya metrics``) gives every
finished item and the day it finished; each item counts for the team of its last event that
names a team (the team that finished it). Items without a team are left out.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pyarrow.compute as pc

from obeya.core.events import EventLog
from obeya.core.metrics import FlowFilter
from obeya.core.workflow import Workflow


def item_teams(log: EventLog) -> dict[str, str]:
    """Per item, the team of its last event (by time, then file order) that names one."""
    table = log.table.select(["item_id", "team", "t", "seq"])
    table = table.filter(pc.is_valid(table.column("team")))
    table = table.sort_by([("t", "ascending"), ("seq", "ascending")])
    # Without threads the group-by keeps the table's order, so "last" is the latest event.
    last = table.group_by("item_id", use_threads=False).aggregate([("team", "last")])
    return dict(
        zip(
            last.column("item_id").to_pylist(),
            last.column("team_last").to_pylist(),
            strict=True,
        )
    )


def throughput_by_team(
    log: EventLog,
    workflow: Workflow | None = None,
    *,
    backend: Any = None,
) -> dict[str, dict[str, int]]:
    """Per team, ``YYYY-MM-DD`` → items finished that day (UTC), as
    ``FlowReport.throughput_daily``. Every team's mapping spans the same days, from the log's
    first finish to its last, so that every team's forecast starts from the same end of the
    data; days without a finish are 0."""
    from obeya.core.metrics.engine import analyse_log

    report = analyse_log(log, workflow, FlowFilter(), detail=True, backend=backend)
    teams = item_teams(log)
    counts: dict[str, Counter[str]] = {}
    for row in report.scatter:
        team = teams.get(str(row["item_id"]))
        if team is not None:
            counts.setdefault(team, Counter())[row["finished"]] += 1
    if not report.throughput_daily:
        return {}
    first = date.fromisoformat(min(report.throughput_daily))
    last = date.fromisoformat(max(report.throughput_daily))
    days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    return {team: {d: c.get(d, 0) for d in days} for team, c in sorted(counts.items())}
