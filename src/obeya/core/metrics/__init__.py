"""Flow metrics: cycle and lead time, throughput, WIP, aging, cumulative flow, flow efficiency,
net flow, time in state and the Flow Framework, computed set-wise on an Ibis backend."""

from obeya.core.metrics.analysis import FlowAnalysis
from obeya.core.metrics.filters import FlowFilter
from obeya.core.metrics.report import CumulativeFlow, Distribution, FlowReport, ItemCounts

__all__ = [
    "CumulativeFlow",
    "Distribution",
    "FlowAnalysis",
    "FlowFilter",
    "FlowReport",
    "ItemCounts",
]
