"""Vega-Lite chart of a DORA report's weekly trend: counted deployments per ISO week as bars,
and the median lead time for changes of each week as a line on a second axis.

The chart takes the report document (``DoraReport.to_dict()``: the JSON of
``GET /api/streams/{name}/dora`` and ``obeya dora --json``), never the records, so it shows
only figures the API also gives. Lead times are drawn in hours, or in days when the longest
weekly median is 48 hours or more (as the page and the CLI print them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import altair as alt

from obeya.render import theme
from obeya.render.parts import (
    WEEK_MS,
    Doc,
    Rows,
    Spec,
    count_noun,
    day_axis,
    empty,
    finish,
)

TITLE = "Deployments and lead time for changes per week"
#: From this many hours on, a lead time reads better in days.
DAYS_FROM_HOURS = 48.0
#: Up to this many weeks, a tick on every Monday (as the throughput chart).
MONDAY_TICKS = 16
#: The lead time axis title: the line's amber, dark enough for text (4.5:1 on white).
LEAD_TITLE = "#b45309"


def lead_time_unit(hours: Sequence[float]) -> tuple[str, float]:
    """The unit lead times are shown in (``"hours"`` or ``"days"``) and the hours in one."""
    return ("days", 24.0) if max(hours, default=0.0) >= DAYS_FROM_HOURS else ("hours", 1.0)


def weekly_trend(doc: Doc) -> Spec:
    """Deployments per week (bars, left axis) and the week's lead time p50 (line, right
    axis); a week without a shipped change has no point on the line."""
    weekly: Sequence[Mapping[str, Any]] = doc.get("weekly") or []
    if not weekly:
        return empty(TITLE, "No week in this window.")
    leads = [
        float(w["lead_time_for_changes_hours_p50"])
        for w in weekly
        if w.get("lead_time_for_changes_hours_p50") is not None
    ]
    unit, per_unit = lead_time_unit(leads)
    rows: Rows = []
    for w in weekly:
        monday = date.fromisoformat(str(w["week"]))
        lead = w.get("lead_time_for_changes_hours_p50")
        recovery = w.get("recovery_time_hours_p50")
        rows.append(
            {
                "week": monday.isoformat(),
                "week_end": (monday + timedelta(days=7)).isoformat(),
                # the line's point sits mid-week, over the middle of the week's bar
                "middle": f"{(monday + timedelta(days=3)).isoformat()}T12:00:00Z",
                "deployments": int(w.get("deployments") or 0),
                "failed": int(w.get("failed_deployments") or 0),
                "lead": None if lead is None else round(float(lead) / per_unit, 3),
                "recovery_hours": None if recovery is None else round(float(recovery), 3),
            }
        )
    mondays = [r["week"] for r in rows] if len(rows) <= MONDAY_TICKS else None
    x = day_axis("week", "Week starting", min_step=WEEK_MS, ticks=mondays)
    tooltip = [
        alt.Tooltip("week:N", title="Week of"),
        alt.Tooltip("deployments:Q", title="Deployments", format=","),
        alt.Tooltip("failed:Q", title="Failed deployments", format=","),
        alt.Tooltip("lead:Q", title=f"Lead time p50 ({unit})", format=",.1f"),
        alt.Tooltip("recovery_hours:Q", title="Time to restore p50 (hours)", format=",.1f"),
    ]
    bars = (
        alt.Chart(alt.Data(name="weeks"))
        .mark_bar(stroke="#ffffff", strokeWidth=1, color=theme.PRIMARY)
        .encode(
            x=x,
            x2="week_end:T",
            y=alt.Y(
                "deployments:Q",
                title="Deployments",
                axis=alt.Axis(tickMinStep=1, format=",d", titleColor=theme.PRIMARY),
            ),
            y2=alt.datum(0),
            tooltip=tooltip,
        )
    )
    layers: list[Any] = [bars]
    with_lead = [r for r in rows if r["lead"] is not None]
    if with_lead:
        lead_axis = alt.Y(
            "lead:Q",
            title=f"Lead time p50 ({unit})",
            axis=alt.Axis(orient="right", titleColor=LEAD_TITLE, grid=False),
        )
        base = alt.Chart(alt.Data(name="lead")).encode(
            x=alt.X("middle:T"), y=lead_axis, tooltip=tooltip
        )
        line = base.mark_line(color=theme.SECONDARY, strokeWidth=2)
        points = base.mark_point(color=theme.SECONDARY, filled=True, size=50, shape="diamond")
        layers.append(alt.layer(line, points))
    total = sum(r["deployments"] for r in rows)
    parts = [f"{count_noun(total, 'deployment')} over {count_noun(len(rows), 'week')}"]
    if with_lead:
        parts.append(f"bars: deployments (left axis) · diamonds: lead time p50 in {unit} (right)")
    else:
        parts.append("no change shipped in the window: no lead time to draw")
    chart = alt.layer(*layers).properties(title=alt.Title(TITLE, subtitle=" · ".join(parts)))
    if with_lead:
        chart = chart.resolve_scale(y="independent")
    return finish(chart, {"weeks": rows, "lead": with_lead})
