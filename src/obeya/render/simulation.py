"""Vega-Lite charts of simulations: scenarios side by side (what-if), and one scenario's steps.

Like the flow charts they take the JSON document the CLI and the API give (``WhatIf.to_dict()``,
``SimulationResult.to_dict()``), so a chart never shows a figure the API does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import altair as alt

from obeya.errors import InputError
from obeya.render import theme
from obeya.render.parts import Rows, Spec

#: The what-if panels: key in a scenario's document, and title.
_PANELS = (
    ("lead_time_mean", "Mean lead time (days)"),
    ("lead_time_p85", "Lead time p85 (days)"),
    ("throughput_per_day", "Throughput (items/day)"),
    ("wip", "WIP (items)"),
)


def _figure(doc: Mapping[str, Any], key: str) -> tuple[float, list[float] | None]:
    if key.startswith("lead_time_"):
        part = key.removeprefix("lead_time_")
        lead = doc["lead_time_days"]
        return lead[part], lead.get(f"{part}_ci95")
    return doc[key], doc.get(f"{key}_ci95")


def what_if_rows(doc: Mapping[str, Any]) -> Rows:
    """One row per scenario and figure: value and its 95 % interval (the interval collapses
    to the value when a scenario ran one replication)."""
    rows: Rows = []
    for scenario in doc["scenarios"]:
        for key, title in _PANELS:
            value, ci = _figure(scenario, key)
            if value is None:  # no figure (a run too short to tell lead times): no bar
                continue
            low, high = ci if ci else (value, value)
            rows.append(
                {
                    "scenario": scenario["scenario"],
                    "figure": title,
                    "value": round(value, 6),
                    "low": round(low, 6),
                    "high": round(high, 6),
                }
            )
    return rows


def what_if_chart(doc: Mapping[str, Any], *, width: int = 220) -> Spec:
    """Bars per scenario with their 95 % confidence intervals, one panel per figure; the
    baseline in grey, the future states in blue."""
    names = [s["scenario"] for s in doc["scenarios"]]
    colour = alt.Color(
        "scenario:N",
        title="Scenario",
        scale=alt.Scale(domain=names, range=[theme.MUTED] + [theme.PRIMARY] * (len(names) - 1)),
        legend=None,
    )
    base = alt.Chart(alt.Data(name="whatif")).encode(
        x=alt.X("scenario:N", title=None, sort=names, axis=alt.Axis(labelAngle=-20)),
    )
    bars = base.mark_bar().encode(
        y=alt.Y("value:Q", title=None),
        color=colour,
        tooltip=[
            alt.Tooltip("scenario:N", title="Scenario"),
            alt.Tooltip("figure:N", title="Figure"),
            alt.Tooltip("value:Q", title="Mean", format=".2f"),
            alt.Tooltip("low:Q", title="95 % CI from", format=".2f"),
            alt.Tooltip("high:Q", title="to", format=".2f"),
        ],
    )
    errors = base.mark_errorbar(ticks=True, color=theme.INK).encode(
        y=alt.Y("low:Q", title=None), y2="high:Q"
    )
    panels = [
        alt.layer(bars, errors)
        .transform_filter(alt.datum.figure == title)
        .properties(title=title, width=width, height=180)
        for _, title in _PANELS
    ]
    spec: Spec = alt.concat(*panels, columns=2).to_dict()
    spec["datasets"] = {"whatif": what_if_rows(doc)}
    spec["config"] = theme.config()
    spec["title"] = {
        "text": f"What-if against {doc['baseline']}",
        "subtitle": "Means over replications; whiskers: 95 % confidence intervals",
    }
    return spec


def step_chart(doc: Mapping[str, Any], *, width: int = 480) -> Spec:
    """One scenario's steps: utilisation (limited steps) and mean queue days, the constraint
    marked."""
    rows: Rows = [
        {
            "step": s["name"],
            "utilisation": s["utilisation"],
            "queue": round(s["mean_queue_days"], 6),
            "role": "constraint"
            if s["name"] == doc["constraint"] and doc["constraint_binding"]
            else "step",
        }
        for s in doc["steps"]
    ]
    order = [r["step"] for r in rows]
    colour = alt.Color(
        "role:N",
        title=None,
        scale=alt.Scale(domain=["step", "constraint"], range=[theme.PRIMARY, "#dc2626"]),
    )
    base = alt.Chart(alt.Data(name="steps")).encode(y=alt.Y("step:N", title=None, sort=order))
    util = (
        base.transform_filter("datum.utilisation != null")
        .mark_bar()
        .encode(
            x=alt.X("utilisation:Q", title="Utilisation", axis=alt.Axis(format="%")),
            color=colour,
            tooltip=[alt.Tooltip("step:N"), alt.Tooltip("utilisation:Q", format=".1%")],
        )
        .properties(width=width // 2, height=24 * len(rows))
    )
    queue = (
        base.mark_bar()
        .encode(
            x=alt.X("queue:Q", title="Mean queue (days)"),
            color=colour,
            tooltip=[alt.Tooltip("step:N"), alt.Tooltip("queue:Q", title="Queue", format=".2f")],
        )
        .properties(width=width // 2, height=24 * len(rows))
    )
    spec: Spec = alt.hconcat(util, queue).to_dict()
    spec["datasets"] = {"steps": rows}
    spec["config"] = theme.config()
    return spec


CHART_SUFFIXES = (".svg", ".png", ".json")


def save_chart(spec: Spec, path: Path) -> None:
    """Write ``spec`` as SVG or PNG (drawn in-process by vl-convert, no browser) or as the
    Vega-Lite JSON itself, by the file's suffix."""
    import json

    suffix = path.suffix.lower()
    if suffix not in CHART_SUFFIXES:
        raise InputError(f"{path}: give a chart file ending in {', '.join(CHART_SUFFIXES)}")
    if suffix == ".json":
        path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
        return
    import vl_convert

    if suffix == ".svg":
        path.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    else:
        path.write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
