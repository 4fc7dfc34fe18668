"""The chart of blocked time by reason: one bar per reason, days over the finished items
(``blocked.by_reason`` of the flow report, read as the API returns it).

Not in :data:`~obeya.render.charts.CHARTS`: the dashboard shows it only for a stream with
blockers, in its "Blocked time" section, and the figures themselves are in the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt

from obeya.render import theme
from obeya.render.charts import ChartKind
from obeya.render.parts import Categories, Doc, Rows, Spec, empty, finish


def blocked_by_reason(doc: Doc, categories: Categories = None) -> Spec:
    """Blocked days per reason, most first; each reason's intervals merged on their own, so
    the bars may add up to more than the blocked days (docs/conventions.md)."""
    title = "Blocked days by reason"
    by_reason: Mapping[str, float] = (doc.get("blocked") or {}).get("by_reason") or {}
    if not by_reason:
        return empty(title, "No blocked time among the finished items.")
    reasons = list(by_reason)  # the document's order: most days first, then by name
    rows: Rows = [{"reason": r, "days": round(float(by_reason[r]), 6)} for r in reasons]
    base = alt.Chart(alt.Data(name="by_reason")).encode(
        y=alt.Y("reason:N", title="Reason", sort=reasons),
        x=alt.X("days:Q", title="Blocked days"),
    )
    bars = base.mark_bar(color=theme.SECONDARY).encode(
        tooltip=[
            alt.Tooltip("reason:N", title="Reason"),
            alt.Tooltip("days:Q", title="Days", format=".1f"),
        ]
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color=theme.INK).encode(
        text=alt.Text("days:Q", format=".1f")
    )
    height = max(120, min(theme.TALL, 32 * len(reasons) + 40))
    chart = alt.layer(bars, labels).properties(
        title=alt.Title(
            title, subtitle="Over the finished items; a span with two reasons counts for both"
        )
    )
    return finish(chart, {"by_reason": rows}, height=height)


BLOCKED_BY_REASON = ChartKind("blocked-by-reason", "Blocked days by reason", blocked_by_reason)
