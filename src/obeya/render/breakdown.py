"""Charts that break the flow down: by item type (distribution) and by state (time in state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt

from obeya.render import theme
from obeya.render.parts import (
    Categories,
    Doc,
    Rows,
    Spec,
    empty,
    finish,
)


def flow_distribution(doc: Doc) -> Spec:
    """Share of each item type among finished items and among work in progress."""
    title = "Flow distribution"
    framework = doc.get("flow_framework") or {}
    finished: Mapping[str, float] = framework.get("distribution") or {}
    in_progress: Mapping[str, float] = framework.get("distribution_wip") or {}
    if not finished and not in_progress:
        return empty(title, "No item started in this window.")
    types = sorted(
        set(finished) | set(in_progress),
        key=lambda t: (-finished.get(t, 0.0), -in_progress.get(t, 0.0), t),
    )
    sets = [("Finished", finished), ("In progress", in_progress)]
    rows: Rows = [
        {"type": t, "set": label, "share": round(float(shares.get(t, 0.0)), 6)}
        for t in types
        for label, shares in sets
        if shares
    ]
    colour = alt.Color(
        "set:N",
        title=None,
        scale=alt.Scale(domain=["Finished", "In progress"], range=[theme.PRIMARY, theme.SECONDARY]),
    )
    base = alt.Chart(alt.Data(name="distribution")).encode(
        y=alt.Y("type:N", title="Item type", sort=types),
        yOffset=alt.YOffset("set:N", sort=["Finished", "In progress"]),
        x=alt.X(
            "share:Q",
            title="Share of items",
            axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
            scale=alt.Scale(domain=[0, 1]),
        ),
    )
    bars = base.mark_bar(height={"band": 1}).encode(
        color=colour,
        tooltip=[
            alt.Tooltip("type:N", title="Type"),
            alt.Tooltip("set:N", title="Of"),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
        ],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, color=theme.INK).encode(
        text=alt.Text("share:Q", format=".0%")
    )
    height = max(120, min(theme.TALL, 46 * len(types) + 40))
    chart = alt.layer(bars, labels).properties(
        title=alt.Title(title, subtitle="Share of each item type, finished and in progress")
    )
    return finish(chart, {"distribution": rows}, height=height)


def time_in_state(doc: Doc, categories: Categories = None) -> Spec:
    """Median time an item spends in each state (bars) and the 85th percentile (ticks).

    Hours turn into days when the longest p85 passes three days, so the axis reads in the
    unit a person would say out loud.
    """
    title = "Time in state"
    stats: Mapping[str, Mapping[str, Any]] = doc.get("time_in_state_hours") or {}
    stats = {s: v for s, v in stats.items() if v.get("median") is not None}
    if not stats:
        return empty(title, "No completed visit to any state in this window.")
    order = list((doc.get("cumulative_flow") or {}).get("states") or [])
    states = [s for s in order if s in stats] + sorted(set(stats).difference(order))
    longest = max(float(v.get("p85") or v["median"]) for v in stats.values())
    unit, divisor = ("days", 24.0) if longest > 72 else ("hours", 1.0)
    rows: Rows = [
        {
            "state": s,
            "median": round(float(stats[s]["median"]) / divisor, 3),
            "p85": None
            if stats[s].get("p85") is None
            else round(float(stats[s]["p85"]) / divisor, 3),
            "items": stats[s].get("items"),
        }
        for s in states
    ]
    y = alt.Y("state:N", title=None, sort=states)
    base = alt.Chart(alt.Data(name="states"))
    tooltip = [
        alt.Tooltip("state:N", title="State"),
        alt.Tooltip("median:Q", title=f"Median ({unit})", format=".1f"),
        alt.Tooltip("p85:Q", title=f"85th percentile ({unit})", format=".1f"),
        alt.Tooltip("items:Q", title="Items"),
    ]
    bars = base.mark_bar(cornerRadiusEnd=2).encode(
        y=y,
        x=alt.X("median:Q", title=f"Median time in state ({unit})"),
        color=alt.Color(
            "state:N",
            scale=alt.Scale(domain=states, range=theme.state_colours(states, categories)),
            legend=None,
        ),
        tooltip=tooltip,
    )
    ticks = base.mark_tick(color=theme.INK, thickness=3, bandSize=18).encode(
        y=y, x="p85:Q", tooltip=tooltip
    )
    height = max(120, min(520, 28 * len(states) + 40))
    chart = alt.layer(bars, ticks).properties(
        title=alt.Title(title, subtitle=f"Bar: median {unit} per item · tick: 85th percentile")
    )
    return finish(chart, {"states": rows}, height=height)
