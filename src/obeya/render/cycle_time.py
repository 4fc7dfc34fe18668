"""Charts of items against cycle time: the scatterplot, the histogram and aging WIP.

All three draw the report's p50/p85/p95 lines, so a finished item's cycle time and an open
item's age are read against the same yardstick.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import altair as alt

from obeya.render import numbers, theme
from obeya.render.parts import (
    MAX_POINTS,
    Doc,
    LogScale,
    Rows,
    Spec,
    count_axis,
    count_noun,
    cycle_time_axis,
    day_axis,
    empty,
    finish,
    histogram,
    log_floor_note,
    log_scale,
    percentile_lines,
    percentile_rows,
    percentile_subtitle,
    sample_evenly,
)


def cycle_time_scatter(doc: Doc) -> Spec:
    """Each finished item at its finish date and cycle time, with the percentile lines.

    Beyond 5,000 items an evenly spaced sample (in finish order) is drawn; the percentile
    lines still come from every item.
    """
    title = "Cycle time scatterplot"
    points = sorted(doc.get("scatter") or [], key=lambda p: (p["finished"], str(p["item_id"])))
    if not points:
        return empty(title, "No item finished in this window.")
    shown = sample_evenly(points, MAX_POINTS)
    rows: Rows = [
        {
            "item_id": str(p["item_id"]),
            "type": p.get("type") or "(none)",
            "finished": p["finished"],
            "cycle_time_days": round(float(p["cycle_time_days"]), 3),
            "lead_time_days": None
            if p.get("lead_time_days") is None
            else round(float(p["lead_time_days"]), 3),
        }
        for p in shown
    ]
    subtitle = f"{count_noun(len(points), 'finished item')} · {percentile_subtitle(doc)}"
    if len(shown) < len(points):
        subtitle += f" · {numbers.count(len(shown))} shown"
    drawn = [r["cycle_time_days"] for r in rows]
    log = log_scale(drawn, (doc.get("cycle_time_days") or {}).get("p85"))
    field = _on_log(rows, "cycle_time_days", log)
    note = log_floor_note(drawn, log, "item")
    dots = (
        alt.Chart(alt.Data(name="scatter"))
        .mark_circle(size=40, opacity=0.5, color=theme.PRIMARY)
        .encode(
            x=day_axis("finished", "Finish date", padding=10, days=[r["finished"] for r in rows]),
            y=cycle_time_axis(field, "Cycle time (days)", log),
            tooltip=[
                alt.Tooltip("item_id:N", title="Item"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("finished:N", title="Finished"),
                alt.Tooltip("cycle_time_days:Q", title="Cycle time (days)", format=".1f"),
                alt.Tooltip("lead_time_days:Q", title="Lead time (days)", format=".1f"),
            ],
        )
    )
    chart = (
        alt.layer(dots, percentile_lines("y"))
        .resolve_scale(color="independent")
        .properties(title=alt.Title(title, subtitle=[subtitle, note] if note else subtitle))
    )
    lines = _lines_on(percentile_rows(doc), log)
    return finish(chart, {"scatter": rows, "percentiles": lines}, height=theme.TALL)


def cycle_time_histogram(doc: Doc) -> Spec:
    """How many items took how long, binned over every finished item, with percentile lines."""
    title = "Cycle time distribution"
    values = [float(p["cycle_time_days"]) for p in doc.get("scatter") or []]
    if not values:
        return empty(title, "No item finished in this window.")
    bins = histogram(values)
    lines = percentile_rows(doc)
    for i, row in enumerate(lines):
        row["offset"] = 2 + 14 * i
    bars = (
        alt.Chart(alt.Data(name="histogram"))
        .mark_bar(stroke="#ffffff", strokeWidth=1)
        .encode(
            x=alt.X("start:Q", bin="binned", title="Cycle time (days)", scale=alt.Scale(zero=True)),
            x2="end:Q",
            y=count_axis("items", "Items"),
            y2=alt.datum(0),
            color=alt.Color(
                "overflow:N",
                scale=alt.Scale(domain=[False, True], range=[theme.PRIMARY, "#93c5fd"]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("range:N", title="Cycle time"),
                alt.Tooltip("items:Q", title="Items"),
            ],
        )
    )
    subtitle = f"{count_noun(len(values), 'finished item')} · {percentile_subtitle(doc)}"
    if bins and bins[-1]["overflow"]:
        subtitle += " · last bar: the longest 1%"
    chart = (
        alt.layer(bars, percentile_lines("x"))
        .resolve_scale(color="independent")
        .properties(title=alt.Title(title, subtitle=subtitle))
    )
    return finish(chart, {"histogram": bins, "percentiles": lines})


def _band(age: float, ct: Mapping[str, Any]) -> str:
    """Which aging band an age falls in, with the same bounds as the report's summary."""
    for name, label in zip(theme.PERCENTILES, theme.AGING_BANDS, strict=False):
        if ct.get(name) is None or age < ct[name]:
            return label
    return theme.AGING_BANDS[-1]


def aging_wip(doc: Doc) -> Spec:
    """Every item in progress by its current state and age, against the cycle-time lines.

    An item above the p85 line is already older than 85% of finished items were when they
    finished: it needs attention now. Dots are spread sideways by a hash of the item id, so
    the picture is the same on every load.
    """
    title = "Aging work in progress"
    aging = doc.get("aging_wip") or {}
    items = aging.get("items_detail") or []
    if not items:
        return empty(title, "No item is in progress.")
    ct = doc.get("cycle_time_days") or {}
    order = list((doc.get("cumulative_flow") or {}).get("states") or [])
    present = {str(i["state"]) for i in items}
    states = [s for s in order if s in present] + sorted(present.difference(order))
    ordered = sorted(items, key=lambda i: (-float(i["age_days"]), str(i["item_id"])))
    shown = sample_evenly(ordered, MAX_POINTS)
    rows: Rows = [
        {
            "item_id": str(i["item_id"]),
            "type": i.get("type") or "(none)",
            "state": str(i["state"]),
            "started": i.get("started"),
            "age_days": round(float(i["age_days"]), 3),
            "band": _band(float(i["age_days"]), ct),
            "jitter": zlib.crc32(str(i["item_id"]).encode()) / 0xFFFFFFFF,
        }
        for i in shown
    ]
    late = sum(1 for i in items if _band(float(i["age_days"]), ct) in theme.AGING_BANDS[2:])
    subtitle = f"{count_noun(len(items), 'item')} in progress"
    if aging.get("as_of"):
        subtitle += f" as of {aging['as_of']}"
    subtitle += f" · {numbers.count(late)} older than p85"
    if len(shown) < len(items):
        subtitle += f" · {numbers.count(len(shown))} shown"
    ages = [r["age_days"] for r in rows]
    log = log_scale(ages, ct.get("p85"))
    field = _on_log(rows, "age_days", log)
    note = log_floor_note(ages, log, "item")
    dots = (
        alt.Chart(alt.Data(name="aging"))
        .mark_circle(size=50, opacity=0.75, stroke="#ffffff", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "state:N",
                title="Current state",
                sort=states,
                scale=alt.Scale(domain=states, paddingInner=0.2),
                axis=alt.Axis(
                    labelAngle=0 if len(states) <= 3 else -30,
                    labelAlign="center" if len(states) <= 3 else "right",
                    labelLimit=140,
                ),
            ),
            xOffset=alt.XOffset("jitter:Q", scale=alt.Scale(domain=[0, 1])),
            y=cycle_time_axis(field, "Age (days)", log),
            color=alt.Color(
                "band:N",
                title="Age vs cycle time",
                scale=alt.Scale(domain=list(theme.AGING_BANDS), range=list(theme.AGING_COLOURS)),
            ),
            tooltip=[
                alt.Tooltip("item_id:N", title="Item"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("state:N", title="State"),
                alt.Tooltip("started:N", title="Started"),
                alt.Tooltip("age_days:Q", title="Age (days)", format=".1f"),
            ],
        )
    )
    chart = (
        alt.layer(dots, percentile_lines("y"))
        .resolve_scale(color="independent")
        .properties(title=alt.Title(title, subtitle=[subtitle, note] if note else subtitle))
    )
    lines = _lines_on(percentile_rows(doc), log)
    return finish(chart, {"aging": rows, "percentiles": lines}, height=theme.TALL)


def _on_log(rows: Rows, field: str, log: LogScale | None) -> str:
    """The field the y axis draws: ``field`` itself, or on a log scale a copy of it raised
    to the floor (``field_drawn``), so that no 0 reaches the scale while tooltips keep the
    true value."""
    if log is None:
        return field
    for row in rows:
        row[f"{field}_drawn"] = log.shown(row[field])
    return f"{field}_drawn"


def _lines_on(lines: Rows, log: LogScale | None) -> Rows:
    """The percentile lines, those under a log scale's floor drawn at it (labels unchanged)."""
    if log is not None:
        for row in lines:
            row["value"] = log.shown(row["value"])
    return lines
