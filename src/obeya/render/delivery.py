"""Vega-Lite chart of a DORA report's weekly trend: counted deployments per ISO week as bars,
and the median lead time for changes of each week as a line on a second axis.

The chart takes the report document (``DoraReport.to_dict()``: the JSON of
``GET /api/streams/{name}/dora`` and ``obeya dora --json``), never the records, so it shows
only figures the API also gives. Lead times are drawn in hours, or in days when the longest
weekly median is 48 hours or more (as the page and the CLI print them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import altair as alt

from obeya.render import theme
from obeya.render.parts import (
    Doc,
    Rows,
    Spec,
    count_noun,
    empty,
    finish,
)

#: Short, and its subtitle in short lines: a title wider than the chart squeezes the plot
#: (autosize "fit") on a phone.
TITLE = "Deployments and lead time"
#: From this many hours on, a lead time reads better in days.
DAYS_FROM_HOURS = 48.0
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
                "deployments": int(w.get("deployments") or 0),
                "failed": int(w.get("failed_deployments") or 0),
                "lead": None if lead is None else round(float(lead) / per_unit, 3),
                "recovery_hours": None if recovery is None else round(float(recovery), 3),
            }
        )
    # Weeks as ordered bands (ISO dates sort in time order): each bar fills its week, and the
    # line's point sits in the middle of its bar.
    x = alt.X(
        "week:O",
        title="Week starting (Monday)",
        axis=alt.Axis(
            labelExpr="utcFormat(toDate(datum.value), '%b %d')",
            labelAngle=0,
            labelOverlap=True,
        ),
    )
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
            y=alt.Y(
                "deployments:Q",
                title="Deployments",
                axis=alt.Axis(tickMinStep=1, format=",d", titleColor=theme.PRIMARY),
            ),
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
        base = alt.Chart(alt.Data(name="lead")).encode(x=x, y=lead_axis, tooltip=tooltip)
        line = base.mark_line(color=theme.SECONDARY, strokeWidth=2)
        points = base.mark_point(color=theme.SECONDARY, filled=True, size=50, shape="diamond")
        layers.append(alt.layer(line, points))
    total = sum(r["deployments"] for r in rows)
    parts = [f"{count_noun(total, 'deployment')} over {count_noun(len(rows), 'week')}"]
    if with_lead:
        parts += ["bars: deployments, left axis", f"diamonds: lead time p50 in {unit}, right axis"]
    else:
        parts.append("no change shipped in the window: no lead time")
    chart = alt.layer(*layers).properties(title=alt.Title(TITLE, subtitle=parts))
    if with_lead:
        chart = chart.resolve_scale(y="independent")
    return finish(chart, {"weeks": rows, "lead": with_lead})
