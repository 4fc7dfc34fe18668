"""Vega-Lite charts of a flow report, built with Altair: the catalogue the API and pages use.

Every chart takes the report document (``FlowReport.to_dict(detail=True)``, the same JSON the
API returns), never the database, so a chart can only show figures the API also gives. Each
returns a plain dict (a complete Vega-Lite spec with its data inline) that the browser renders
with vega-embed. ``categories`` (state → workflow category) colours states by what they mean
for flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from obeya.errors import NotFoundError
from obeya.render.breakdown import flow_distribution, time_in_state
from obeya.render.cycle_time import aging_wip, cycle_time_histogram, cycle_time_scatter
from obeya.render.parts import Categories, Doc, Spec
from obeya.render.series import cumulative_flow, throughput, wip

__all__ = [
    "CHARTS",
    "ChartKind",
    "aging_wip",
    "chart",
    "chart_kind",
    "cumulative_flow",
    "cycle_time_histogram",
    "cycle_time_scatter",
    "flow_distribution",
    "throughput",
    "time_in_state",
    "wip",
]


@dataclass(frozen=True)
class ChartKind:
    """A chart the API and the dashboard offer: its URL name, title and builder."""

    name: str
    title: str
    build: Callable[[Doc, Categories], Spec]


def _plain(fn: Callable[[Doc], Spec]) -> Callable[[Doc, Categories], Spec]:
    return lambda doc, categories: fn(doc)


CHARTS: dict[str, ChartKind] = {
    kind.name: kind
    for kind in (
        ChartKind("cumulative-flow", "Cumulative flow", cumulative_flow),
        ChartKind("cycle-time-scatter", "Cycle time scatterplot", _plain(cycle_time_scatter)),
        ChartKind("cycle-time-histogram", "Cycle time distribution", _plain(cycle_time_histogram)),
        ChartKind("throughput", "Throughput per week", _plain(throughput)),
        ChartKind("wip", "Work in progress", _plain(wip)),
        ChartKind("aging-wip", "Aging work in progress", _plain(aging_wip)),
        ChartKind("flow-distribution", "Flow distribution", _plain(flow_distribution)),
        ChartKind("time-in-state", "Time in state", time_in_state),
    )
}


def chart_kind(name: str) -> ChartKind:
    """The chart called ``name``; NotFoundError naming the charts there are if unknown."""
    kind = CHARTS.get(name)
    if kind is None:
        raise NotFoundError(f"no chart {name!r}; the charts are: {', '.join(CHARTS)}")
    return kind


def chart(name: str, doc: Doc, categories: Categories = None) -> Spec:
    """The spec of chart ``name`` for the report document ``doc``."""
    return chart_kind(name).build(doc, categories)
