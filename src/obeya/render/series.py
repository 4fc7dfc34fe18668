"""Charts of flow over time: cumulative flow, weekly throughput and daily WIP.

Their x axis is the calendar (UTC days), so they share one time axis style and a hover rule
that reads out every value of the day under the pointer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import altair as alt

from obeya.render import numbers, theme
from obeya.render.parts import (
    MAX_DAYS,
    WEEK_MS,
    Categories,
    Doc,
    Rows,
    Spec,
    count_axis,
    count_noun,
    day_axis,
    empty,
    every_nth,
    finish,
    hover_rule,
)

#: A history whose first 1% of arrivals took more than half of its days starts drawing there.
LEAD_IN_SHARE = 0.01


def focus(doc: Doc) -> tuple[str, int] | None:
    """The first day worth drawing on a time chart, and the items that arrived before it.

    An export often reaches far back for a handful of old items (the bundled sample: 1% of its
    items arrived over the first two of its two years), and drawn to scale the other 99% crowd
    into a sliver at the right edge. When the first 1% of arrivals took more than half of the
    days, the cumulative flow and WIP charts start where they end, and say so. Nothing is
    dropped: cumulative flow still counts the early items in its bands. None when the history
    is not like that.
    """
    cfd = doc.get("cumulative_flow") or {}
    states = cfd.get("states") or []
    days: list[str] = list(cfd.get("days") or [])
    if not states or len(days) < 30:
        return None
    arrived: list[int] = list((cfd.get("counts") or {}).get(states[0]) or [])
    if len(arrived) != len(days) or arrived[-1] < 100:
        return None
    start = next(i for i, n in enumerate(arrived) if n >= LEAD_IN_SHARE * arrived[-1])
    if start <= len(days) // 2:
        return None
    return days[start], arrived[start - 1] if start else 0


def _focus_note(doc: Doc) -> tuple[str | None, list[str]]:
    """The first day to draw (None: all of them) and the subtitle line that says so."""
    start = focus(doc)
    if start is None:
        return None, []
    day, before = start
    return day, [
        f"Drawn from {day}: only {count_noun(before, 'item')} (under 1%) arrived before it"
    ]


def cumulative_flow(doc: Doc, categories: Categories = None) -> Spec:
    """Stacked bands, one per state in flow order, first state on top and done at the bottom.

    The report counts, per day, the items that reached each state *or a later one*; the band of
    a state is the difference from the next state's count: the items whose furthest state is
    that one. Stacked, the top edge is every item that arrived and the bottom band grows with
    every item finished, as in a classic cumulative flow diagram.
    """
    title = "Cumulative flow"
    cfd = doc.get("cumulative_flow") or {}
    states: list[str] = list(cfd.get("states") or [])
    days: list[str] = list(cfd.get("days") or [])
    counts: Mapping[str, list[int]] = cfd.get("counts") or {}
    if not states or not days:
        return empty(title, "No items in this window.")
    keys = [f"s{i}" for i in range(len(states))]
    first, note = _focus_note(doc)
    shown = [i for i, day in enumerate(days) if first is None or day >= first]
    rows: Rows = []
    for d in (shown[i] for i in every_nth([days[i] for i in shown], MAX_DAYS)):
        row: dict[str, Any] = {"day": days[d]}
        for i, state in enumerate(states):
            reached = counts[state][d]
            later = counts[states[i + 1]][d] if i + 1 < len(states) else 0
            row[keys[i]] = reached - later
        rows.append(row)
    drawn = [r["day"] for r in rows]
    legend = [
        {"key": key, "state": state, "stack": len(states) - i}
        for i, (key, state) in enumerate(zip(keys, states, strict=True))
    ]
    colour = alt.Color(
        "state:N",
        title="State",
        scale=alt.Scale(domain=states, range=theme.state_colours(states, categories)),
        legend=alt.Legend(columns=min(len(states), 5), symbolType="square"),
    )
    # The stack is computed explicitly (done at the bottom, first state on top): Vega-Lite's
    # implicit area stacking orders bands by colour domain, not by flow.
    bands = (
        alt.Chart(alt.Data(name="cfd"))
        .transform_fold(keys, as_=["key", "items"])
        .transform_lookup(
            lookup="key",
            from_=alt.LookupData(
                data=alt.Data(name="cfd_states"), key="key", fields=["state", "stack"]
            ),
        )
        .transform_stack(
            stack="items",
            groupby=["day"],
            as_=["bottom", "top"],
            sort=[alt.SortField("stack", order="ascending")],
        )
        .mark_area(opacity=0.92, interpolate="step-after", strokeWidth=0)
        .encode(
            x=day_axis("day", days=drawn),
            y=count_axis("top", "Items (cumulative)"),
            y2="bottom:Q",
            color=colour,
        )
    )
    tooltip = [alt.Tooltip("day:N", title="Day")] + [
        alt.Tooltip(f"{key}:Q", title=state) for key, state in zip(keys, states, strict=True)
    ]
    rule = hover_rule("cfd", day_axis("day", days=drawn), tooltip)
    subtitle = [
        "Items per day by the furthest state reached · finished at the bottom, arrivals on top",
        *note,
    ]
    spec = finish(
        alt.layer(bands, rule).properties(title=alt.Title(title, subtitle=subtitle)),
        {"cfd": rows, "cfd_states": legend},
        height=theme.TALL,
    )
    return spec


def throughput(doc: Doc) -> Spec:
    """Items finished per ISO week as bars, with the mean (flow velocity) as a dashed line."""
    title = "Throughput per week"
    weekly: Mapping[str, int] = doc.get("throughput_weekly") or {}
    if not weekly:
        return empty(title, "No item finished in this window.")
    # A week cut by the window's start (``since`` mid-week) or holding the data's end counts
    # only some of its days: drawn lighter and said, so a low bar is not read as a change of
    # pace.
    as_of = (doc.get("aging_wip") or {}).get("as_of")
    since = (doc.get("filter") or {}).get("since")
    rows: Rows = []
    for week, n in sorted(weekly.items()):
        monday = date.fromisoformat(week)
        sunday = (monday + timedelta(days=6)).isoformat()
        first = since if since is not None and week < since <= sunday else week
        last = as_of if as_of is not None and week <= as_of < sunday else sunday
        partial = (first, last) != (week, sunday)
        rows.append(
            {
                "week": week,
                "week_end": (monday + timedelta(days=7)).isoformat(),
                "items": n,
                "partial": partial,
                "counted": f"{_day(first)} to {_day(last)} (part of the week)"
                if partial
                else "all 7",
            }
        )
    mean = sum(weekly.values()) / len(weekly)
    # Up to 16 weeks, a tick on every Monday lines up with the bars; beyond, the time axis
    # picks its own (fewer) ticks.
    mondays = [r["week"] for r in rows] if len(rows) <= 16 else None
    bars = (
        alt.Chart(alt.Data(name="weeks"))
        .mark_bar(stroke="#ffffff", strokeWidth=1, color=theme.PRIMARY)
        .encode(
            x=day_axis(
                "week",
                "Week starting",
                min_step=WEEK_MS,
                ticks=mondays,
                days=[rows[0]["week"], rows[-1]["week_end"]],
            ),
            x2="week_end:T",
            y=count_axis("items", "Items finished"),
            y2=alt.datum(0),
            opacity=alt.condition("datum.partial", alt.value(0.45), alt.value(1.0)),
            tooltip=[
                alt.Tooltip("week:N", title="Week of"),
                alt.Tooltip("items:Q", title="Items finished"),
                alt.Tooltip("counted:N", title="Days counted"),
            ],
        )
    )
    # As the dashboard's tile: a decimal helps at 1.5 a week, not at 1,416.
    shown = numbers.rate(mean)
    mean_row = [{"value": round(mean, 3), "text": f"mean {shown} / week"}]
    base = alt.Chart(alt.Data(name="mean"))
    line = base.mark_rule(color=theme.MEAN, strokeDash=[6, 4], strokeWidth=1.5).encode(
        y="value:Q", tooltip=[alt.Tooltip("value:Q", title="Mean per week", format=".1f")]
    )
    label = base.mark_text(
        align="right",
        baseline="bottom",
        dx=-2,
        dy=-3,
        fontSize=11,
        fontWeight=600,
        color=theme.MEAN,
    ).encode(y="value:Q", x=alt.value("width"), text="text:N")
    subtitle = (
        f"{count_noun(sum(weekly.values()), 'item')} over {count_noun(len(weekly), 'week')} · "
        f"mean {shown} per week"
    )
    cut = [r["counted"].removesuffix(" (part of the week)") for r in rows if r["partial"]]
    lines = [subtitle]
    if cut:  # a second line: the first is as long as a narrow chart shows
        lines.append(f"lighter: part of a week ({'; '.join(cut)})")
    chart = alt.layer(bars, line, label).properties(title=alt.Title(title, subtitle=lines))
    return finish(chart, {"weeks": rows, "mean": mean_row})


def _day(iso: str) -> str:
    """``May 22`` for 2012-05-22: a day within a week's bar needs no year."""
    return date.fromisoformat(iso).strftime("%b %d").replace(" 0", " ")


def wip(doc: Doc) -> Spec:
    """Work in progress at the end of each day, as a step line over a light area."""
    title = "Work in progress"
    daily: Mapping[str, int] = doc.get("wip_daily") or {}
    if not daily:
        return empty(title, "No item was in progress in this window.")
    first, note = _focus_note(doc)
    rows: Rows = [
        {"day": day, "wip": n} for day, n in sorted(daily.items()) if first is None or day >= first
    ]
    base = alt.Chart(alt.Data(name="wip"))
    x = day_axis("day", days=[r["day"] for r in rows])
    area = base.mark_area(interpolate="step-after", opacity=0.15, color=theme.PRIMARY).encode(
        x=x, y=count_axis("wip", "Items in progress")
    )
    line = base.mark_line(interpolate="step-after", strokeWidth=1.5, color=theme.PRIMARY).encode(
        x=x, y="wip:Q"
    )
    rule = hover_rule(
        "wip",
        x,
        [alt.Tooltip("day:N", title="Day"), alt.Tooltip("wip:Q", title="In progress")],
    )
    load = (doc.get("flow_framework") or {}).get("load")
    peak = max(daily.values())
    subtitle = f"Items started and not finished at the end of each day · peak {numbers.count(peak)}"
    if load is not None:
        subtitle += f" · now {numbers.count(load)}"
    chart = alt.layer(area, line, rule).properties(
        title=alt.Title(title, subtitle=[subtitle, *note])
    )
    return finish(chart, {"wip": rows})
