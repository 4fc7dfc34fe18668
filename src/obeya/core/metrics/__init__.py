"""Flow metrics: cycle and lead time, throughput, WIP, aging, cumulative flow, flow efficiency,
net flow, time in state and the Flow Framework, computed set-wise on an Ibis backend.

``FlowAnalysis`` (and with it Ibis) loads on first use, so that a command can start the engine
in the background while it reads its input.
"""

from typing import TYPE_CHECKING, Any

from obeya.core.metrics.filters import FlowFilter
from obeya.core.metrics.report import (
    CumulativeFlow,
    Distribution,
    FlowReport,
    ItemCounts,
    caveats,
    convention_line,
    flow_conventions,
)

if TYPE_CHECKING:
    from obeya.core.metrics.analysis import FlowAnalysis


def __getattr__(name: str) -> Any:
    if name == "FlowAnalysis":
        from obeya.core.metrics.analysis import FlowAnalysis

        return FlowAnalysis
    raise AttributeError(name)


__all__ = [
    "CumulativeFlow",
    "Distribution",
    "FlowAnalysis",
    "FlowFilter",
    "FlowReport",
    "ItemCounts",
    "caveats",
    "convention_line",
    "flow_conventions",
]
