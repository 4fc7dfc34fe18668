"""Vega-Lite charts of a Monte Carlo forecast: how many trials had each outcome, with the
50/70/85/95 % lines.

A chart takes the forecast document (``WhenForecast.to_dict()`` or
``HowManyForecast.to_dict()``: the JSON ``GET /api/streams/{name}/forecast/...`` returns and
``obeya forecast ... --json`` prints), never the throughput, so it shows only figures the API
also gives. Outcomes are whole numbers (days for when, items for how-many); each bar is
centred on the outcomes it holds, so a percentile line stands in the middle of its bar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import altair as alt

from obeya.render import theme
from obeya.render.numbers import count
from obeya.render.parts import Doc, Rows, Spec, count_axis, count_noun, empty, finish, nice_width

#: The confidence levels a forecast reports, and their line colours: p50 green, p85 amber and
#: p95 red as on every other chart (:mod:`obeya.render.theme`), p70 between green and amber.
CONFIDENCE = ("50", "70", "85", "95")
CONFIDENCE_COLOURS = ("#059669", "#65a30d", "#d97706", "#dc2626")

#: Up to this many distinct outcomes one bar each; a wider spread is binned (1, 2 or 5 × 10^k)
#: into about :data:`BINS` bars.
MAX_BARS = 60
BINS = 40


def when_histogram(doc: Doc) -> Spec:
    """Days until the items are done, per trial, with the day each confidence level is reached
    (the smallest number of days by which at least p % of the trials had finished)."""
    items = int(doc.get("items") or 0)
    title = f"When will {count_noun(items, 'item')} be done?"
    dates: Mapping[str, str] = doc.get("dates") or {}

    def label(p: str, value: int) -> str:
        when = f" · {_short(dates[p])}" if dates.get(p) else ""
        return f"{p} %: day {count(value)}{when}"

    subtitle = f"from {doc['start']}" if doc.get("start") else ""
    return _chart(doc, title, subtitle, "Days from the start (day 1 = the start)", "day", label)


def how_many_histogram(doc: Doc) -> Spec:
    """Items done in the horizon, per trial, with the count each confidence level reaches (the
    largest count at least p % of the trials delivered)."""
    days = int(doc.get("days") or 0)
    title = f"How many items in {count_noun(days, 'day')}?"

    def label(p: str, value: int) -> str:
        return f"{p} %: ≥ {count(value)}"

    subtitle = f"{doc['start']} to {doc['end']}" if doc.get("start") and doc.get("end") else ""
    return _chart(doc, title, subtitle, "Items done in the horizon", "item", label)


def _chart(
    doc: Doc,
    title: str,
    period: str,
    axis_title: str,
    noun: str,
    label: Callable[[str, int], str],
) -> Spec:
    histogram: Mapping[str, int] = doc.get("histogram") or {}
    if not histogram:
        return empty(title, "No trial to draw.")
    outcomes = {int(value): int(n) for value, n in histogram.items()}
    trials = int(doc.get("trials") or sum(outcomes.values()))
    bins = outcome_bins(outcomes, noun, trials)
    percentiles: Mapping[str, int] = doc.get("percentiles") or {}
    lines: Rows = [
        {
            "label": f"p{p}",
            "value": int(percentiles[p]),
            "text": label(p, int(percentiles[p])),
            "offset": 2 + 14 * i,
        }
        for i, p in enumerate(p for p in CONFIDENCE if percentiles.get(p) is not None)
    ]
    bars = (
        alt.Chart(alt.Data(name="outcomes"))
        .mark_bar(stroke="#ffffff", strokeWidth=1, color=theme.PRIMARY)
        .encode(
            # Not "nice": rounding the domain out would add an empty stretch, even below 0.
            x=alt.X(
                "start:Q",
                bin="binned",
                title=axis_title,
                scale=alt.Scale(zero=False, nice=False),
                axis=_whole_ticks(outcomes),
            ),
            x2="end:Q",
            y=count_axis("trials", "Trials"),
            y2=alt.datum(0),
            tooltip=[
                alt.Tooltip("range:N", title="Outcome"),
                alt.Tooltip("trials:Q", title="Trials", format=","),
                alt.Tooltip("share:Q", title="Share of trials", format=".1%"),
            ],
        )
    )
    subtitle = [
        " · ".join(
            part
            for part in (
                period,
                f"{count(trials, 'trial')} (seed {doc.get('seed')})",
                f"each day drawn from the {doc.get('history_days')} days before the start",
            )
            if part
        )
    ]
    chart = (
        alt.layer(bars, _confidence_lines())
        .resolve_scale(color="independent")
        .properties(title=alt.Title(title, subtitle=subtitle))
    )
    return finish(chart, {"outcomes": bins, "percentiles": lines})


#: Up to this many outcomes apart, each whole number is a tick.
TICK_EVERY_OUTCOME = 15


def _whole_ticks(outcomes: Mapping[int, int]) -> alt.Axis:
    """Outcomes are whole days or items, and a bar spans ±0.5 around its own: Vega's ticks
    would fall on the halves (or fifths, for one outcome). A few outcomes: one tick each;
    more: ticks a whole number apart."""
    low, high = min(outcomes), max(outcomes)
    if high - low <= TICK_EVERY_OUTCOME:
        return alt.Axis(values=list(range(low, high + 1)), format=",d")
    return alt.Axis(tickMinStep=1, format=",d")


def outcome_bins(outcomes: Mapping[int, int], noun: str, trials: int) -> Rows:
    """Trials per outcome (``outcomes``: whole-number outcome → trials), one bar per outcome
    when there are at most :data:`MAX_BARS` of them, else in bins of a nice width aligned on
    its multiples. A bar spans half a unit either side of the outcomes it holds."""
    low, high = min(outcomes), max(outcomes)
    width = 1 if high - low < MAX_BARS else int(nice_width(high - low, BINS))
    counts: dict[int, int] = {}
    for value, n in outcomes.items():
        counts[value // width] = counts.get(value // width, 0) + n
    rows: Rows = []
    for index in sorted(counts):
        first, last = index * width, index * width + width - 1
        span = count(first) if width == 1 else f"{count(first)}–{count(last)}"
        rows.append(
            {
                "start": first - 0.5,
                "end": last + 0.5,
                "trials": counts[index],
                "share": round(counts[index] / trials, 6) if trials else 0.0,
                "range": f"{span} {noun}{'' if width == 1 and first == 1 else 's'}",
            }
        )
    return rows


def _confidence_lines() -> alt.LayerChart:
    """Dashed lines at the percentiles, labelled at the top, a row per line so that close
    lines do not print over each other (as :func:`obeya.render.parts.percentile_lines`)."""
    base = alt.Chart(alt.Data(name="percentiles"))
    colour = alt.Color(
        "label:N",
        scale=alt.Scale(domain=[f"p{p}" for p in CONFIDENCE], range=list(CONFIDENCE_COLOURS)),
        legend=None,
    )
    rule = base.mark_rule(strokeDash=[6, 4], strokeWidth=1.5).encode(
        x=alt.X("value:Q"),
        color=colour,
        tooltip=[
            alt.Tooltip("text:N", title="Confidence"),
            alt.Tooltip("value:Q", title="Outcome", format=","),
        ],
    )
    text_mark: dict[str, Any] = {"align": "left", "baseline": "top", "dx": 4}
    where: dict[str, Any] = {"x": alt.X("value:Q"), "y": alt.Y("offset:Q", scale=None)}
    halo = base.mark_text(
        fontSize=11,
        fontWeight=600,
        stroke="#ffffff",
        strokeWidth=4,
        strokeJoin="round",
        **text_mark,
    ).encode(text="text:N", **where)
    text = base.mark_text(fontSize=11, fontWeight=600, **text_mark).encode(
        text="text:N", color=colour, **where
    )
    return alt.layer(rule, halo, text)


def _short(day: str) -> str:
    """``2024-01-22`` → ``22 Jan 2024``."""
    return date.fromisoformat(day).strftime("%d %b %Y").lstrip("0")
