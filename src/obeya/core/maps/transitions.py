"""Time between consecutive states: the directly-follows graph with its performance.

For every pair of states (a, b) where an item's event in state b directly follows its event in
state a (ordered by time, ties in file order), the number of such transitions and the time
between the two events. This is the "performance directly-follows graph" of process mining,
the raw material of a map's links; it is computed set-wise like every flow metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from obeya.core.events import MICROS_PER_HOUR, EventLog
from obeya.core.metrics.expressions import in_units


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    count: int
    mean_hours: float
    median_hours: float
    min_hours: float
    max_hours: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "count": self.count,
            "mean_hours": self.mean_hours,
            "median_hours": self.median_hours,
            "min_hours": self.min_hours,
            "max_hours": self.max_hours,
        }


def directly_follows(log: EventLog, *, backend: Any = None) -> list[Transition]:
    """Every directly-follows pair of states with its count and hours between the events,
    most frequent first (ties by source, then target). Medians interpolate linearly."""
    con = backend if backend is not None else ibis.duckdb.connect()
    name = f"obeya_dfg_{id(log):x}"
    events = con.create_table(name, log.table.select(["item_id", "state", "t", "seq"]), temp=True)
    try:
        w = ibis.window(group_by=events.item_id, order_by=[events.t, events.seq])
        steps = events.mutate(target=events.state.lead().over(w), next_t=events.t.lead().over(w))
        steps = steps.filter(steps.target.notnull())
        hours = in_units(steps.next_t - steps.t, MICROS_PER_HOUR)
        steps = steps.mutate(hours=hours)
        pairs = steps.group_by([steps.state, steps.target]).aggregate(
            count=steps.count(),
            mean_hours=steps.hours.mean(),
            median_hours=steps.hours.quantile(0.5),
            min_hours=steps.hours.min(),
            max_hours=steps.hours.max(),
        )
        rows = pairs.to_pyarrow().to_pylist()
    finally:
        con.drop_table(name, force=True)
        if backend is None:
            con.disconnect()
    out = [
        Transition(
            source=str(r["state"]),
            target=str(r["target"]),
            count=int(r["count"]),
            mean_hours=float(r["mean_hours"]),
            median_hours=float(r["median_hours"]),
            min_hours=float(r["min_hours"]),
            max_hours=float(r["max_hours"]),
        )
        for r in rows
    ]
    return sorted(out, key=lambda tr: (-tr.count, tr.source, tr.target))
