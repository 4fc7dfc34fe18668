"""Building blocks the charts share: percentile lines, hover rules, sampling, binning.

Data goes into a spec as named ``datasets`` rather than inline ``values`` on each layer: Altair
then validates only the (small) chart structure, not thousands of data rows, and a dataset two
layers use is written once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import altair as alt

from obeya.render import numbers, theme

Rows = list[dict[str, Any]]
Spec = dict[str, Any]
#: A flow report document, as ``FlowReport.to_dict(detail=True)`` makes it.
Doc = Mapping[str, Any]
#: State → workflow category (backlog, active, waiting, done), when the stream has a workflow.
Categories = Mapping[str, str] | None

#: Most points a per-item chart carries; more make the page heavy without showing more.
MAX_POINTS = 5_000
#: Most days a cumulative flow diagram carries; longer histories keep every n-th day.
MAX_DAYS = 1_000
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


def finish(chart: Any, datasets: Mapping[str, Rows], *, height: int = theme.HEIGHT) -> Spec:
    """The Vega-Lite dict of ``chart`` with its data, size and the common look."""
    spec: Spec = chart.properties(width="container", height=height).to_dict()
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    spec["config"] = theme.config()
    return spec


def empty(title: str, message: str) -> Spec:
    """A chart that says why there is nothing to draw, instead of empty axes."""
    chart = (
        alt.Chart(alt.Data(name="message"), title=title)
        .mark_text(fontSize=13, color=theme.MUTED)
        .encode(text="text:N")
    )
    return finish(chart, {"message": [{"text": message}]}, height=120)


def count_noun(n: int, noun: str) -> str:
    """``1 item``, ``2,500 items`` (:func:`obeya.render.numbers.count`)."""
    return numbers.count(n, noun)


def percentile_subtitle(doc: Doc) -> str:
    """``p50 8.3 d · p85 21.2 d · p95 46.4 d``, for a chart's subtitle."""
    ct = doc.get("cycle_time_days") or {}
    parts = [f"{p} {numbers.days(ct[p])} d" for p in theme.PERCENTILES if ct.get(p) is not None]
    return " · ".join(parts)


def sample_evenly(rows: Sequence[dict[str, Any]], cap: int = MAX_POINTS) -> Rows:
    """At most ``cap`` rows, evenly spaced through ``rows`` (same input, same output)."""
    if len(rows) <= cap:
        return list(rows)
    step = len(rows) / cap
    return [rows[math.floor(i * step)] for i in range(cap)]


def every_nth(items: Sequence[str], cap: int) -> list[int]:
    """Indexes of at most about ``cap`` evenly spaced items, always keeping the last one."""
    if len(items) <= cap:
        return list(range(len(items)))
    stride = math.ceil(len(items) / cap)
    picked = list(range(0, len(items), stride))
    if picked[-1] != len(items) - 1:
        picked.append(len(items) - 1)
    return picked


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` (0–100) by linear interpolation between closest ranks (as numpy)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentile_rows(doc: Mapping[str, Any], unit: str = "d") -> Rows:
    """The report's cycle-time p50/p85/p95 as rows for rule lines (missing ones left out)."""
    distribution = doc.get("cycle_time_days") or {}
    rows = []
    for name in theme.PERCENTILES:
        value = distribution.get(name)
        if value is not None:
            text = f"{name} {numbers.days(value)} {unit}"
            rows.append({"label": name, "value": value, "text": text})
    return rows


def percentile_colour() -> alt.Color:
    return alt.Color(
        "label:N",
        scale=alt.Scale(domain=list(theme.PERCENTILES), range=list(theme.PERCENTILE_COLOURS)),
        legend=None,
    )


def percentile_lines(channel: str) -> alt.LayerChart:
    """Dashed p50/p85/p95 lines across the plot, each labelled with its value.

    ``channel`` is the position channel that carries cycle time: "y" for horizontal lines
    (scatter, aging), "x" for vertical ones (histogram). Labels sit on a white halo so they
    stay legible over dots and bars.
    """
    base = alt.Chart(alt.Data(name="percentiles"))
    tooltip = [
        alt.Tooltip("label:N", title="Percentile"),
        alt.Tooltip("value:Q", title="Cycle time (days)", format=".1f"),
    ]
    rule = base.mark_rule(strokeDash=[6, 4], strokeWidth=1.5).encode(
        color=percentile_colour(), tooltip=tooltip
    )
    if channel == "y":
        rule = rule.encode(y=alt.Y("value:Q"))
        text_mark: dict[str, Any] = {"align": "right", "baseline": "bottom", "dx": -2, "dy": -3}
        where: dict[str, Any] = {"y": alt.Y("value:Q"), "x": alt.value("width")}
    else:
        rule = rule.encode(x=alt.X("value:Q"))
        text_mark = {"align": "left", "baseline": "top", "dx": 4}
        where = {"x": alt.X("value:Q"), "y": alt.Y("offset:Q", scale=None)}
    halo = base.mark_text(
        fontSize=11,
        fontWeight=600,
        stroke="#ffffff",
        strokeWidth=4,
        strokeJoin="round",
        **text_mark,
    ).encode(text="text:N", **where)
    text = base.mark_text(fontSize=11, fontWeight=600, **text_mark).encode(
        text="text:N", color=percentile_colour(), **where
    )
    return alt.layer(rule, halo, text)


#: Tick values on a log cycle-time axis: the numbers people round durations to. A log scale
#: has no 0 (nor any value at or under it): what is less than the axis's floor is drawn at it.
LOG_TICKS = (
    *(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500),
    *(1000, 2000, 5000, 10000, 20000, 50000),
)
#: Most decades a log axis spans under the 85th percentile: items done within minutes (or at
#: once: 0) would otherwise stretch it over empty decades.
LOG_DECADES_UNDER_P85 = 3


@dataclass(frozen=True)
class LogScale:
    """A logarithmic cycle-time axis from ``floor`` to its last tick. Values under the floor
    (0 among them) are drawn at it, and the chart says how many (:func:`log_floor_note`)."""

    floor: float
    ticks: tuple[float, ...]

    def shown(self, value: float) -> float:
        """Where ``value`` is drawn: itself, or the floor when under it."""
        return max(value, self.floor)


def log_scale(values: Sequence[float], p85: float | None) -> LogScale | None:
    """A log scale for cycle times or ages when a long tail would hide the rest, else None.

    When the longest value is more than eight times the 85th percentile, a linear axis packs
    almost every dot and all three percentile lines into its bottom tenth; a log scale with
    round-number ticks spreads them out. Its floor is the round number at or under the least
    positive value, but no more than three decades under p85; over three decades only the
    powers of ten are ticks.
    """
    top = max(values, default=0.0)
    if p85 is None or p85 <= 0 or top <= 8 * p85:
        return None
    least = max(min((v for v in values if v > 0), default=p85), p85 / 10**LOG_DECADES_UNDER_P85)
    floor = max((t for t in LOG_TICKS if t <= least), default=LOG_TICKS[0])
    ceiling = next((t for t in LOG_TICKS if t >= top), LOG_TICKS[-1])
    ticks = [t for t in LOG_TICKS if floor <= t <= ceiling]
    if math.log10(ceiling / floor) > 3:
        ticks = [t for t in ticks if math.log10(t).is_integer() or t in (floor, ceiling)]
    return LogScale(floor, tuple(ticks))


def log_floor_note(values: Sequence[float], log: LogScale | None, noun: str) -> str | None:
    """``1,363 items under 0.01 d drawn at 0.01 d``; None when none is under the floor."""
    if log is None:
        return None
    under = sum(1 for v in values if v < log.floor)
    if not under:
        return None
    return f"{count_noun(under, noun)} under {log.floor:g} d drawn at {log.floor:g} d"


def cycle_time_axis(field: str, title: str, log: LogScale | None = None) -> alt.Y:
    """A y axis for cycle times or ages: linear, or ``log`` (its field must hold no value
    under the floor: rows carry :meth:`LogScale.shown` of each value for it)."""
    if log is None:
        return alt.Y(f"{field}:Q", title=title)
    return alt.Y(
        f"{field}:Q",
        title=f"{title}, log scale",
        scale=alt.Scale(type="log", domain=[log.floor, log.ticks[-1]]),
        axis=alt.Axis(values=list(log.ticks), format=",~g"),
    )


def count_axis(field: str, title: str) -> alt.Y:
    """A y axis of item counts: ticks at whole numbers only."""
    return alt.Y(f"{field}:Q", title=title, axis=alt.Axis(tickMinStep=1, format=",d"))


def hover_rule(name: str, x: alt.X, tooltip: list[alt.Tooltip]) -> alt.Chart:
    """A vertical rule that follows the pointer and shows every value of that x in a tooltip.

    Lines and areas have one mark for the whole series, so their own tooltips cannot say
    which day the pointer is on; a nearest-point rule on a one-row-per-x dataset can.
    """
    hover = alt.selection_point(
        name=f"{name}_hover",
        fields=[x.to_dict()["field"]],
        nearest=True,
        on="pointerover",
        clear="pointerout",
        empty=False,
    )
    return (
        alt.Chart(alt.Data(name=name))
        .mark_rule(color=theme.MEAN, strokeWidth=1)
        .encode(
            x=x,
            opacity=alt.when(hover).then(alt.value(0.6)).otherwise(alt.value(0)),
            tooltip=tooltip,
        )
        .add_params(hover)
    )


def day_axis(
    field: str,
    title: str | None = None,
    *,
    padding: int = 0,
    min_step: int = DAY_MS,
    ticks: Sequence[str] | None = None,
    days: Sequence[str] = (),
) -> alt.X:
    """A UTC time axis with ticks no closer than a day (or ``min_step`` milliseconds).

    The report's days are UTC dates: a local-time axis would shift them a day for half the
    world. ``padding`` (pixels) keeps dots at the first and last day off the plot's edges;
    ``ticks`` (ISO dates) puts the ticks exactly there, e.g. on the Mondays weeks start on.
    ``days`` (ISO dates) are the days drawn: they choose the labels (:func:`time_labels`),
    with its year on every label when they fall in more than one calendar year.
    """
    scale = alt.Scale(type="utc", padding=padding) if padding else alt.Scale(type="utc")
    labels = time_labels([*days, *(ticks or ())])
    if ticks is None:
        axis = alt.Axis(labelOverlap=True, grid=False, tickMinStep=min_step, **labels)
    else:
        # Ticks as dates, not epoch milliseconds: vega-embed's expression interpreter (the
        # pages' CSP allows no eval) reads datetime(ms) as a year, and draws no label at all.
        values = [utc_datetime(d) for d in ticks]
        axis = alt.Axis(
            labelOverlap=True, grid=False, values=values, **{"format": "%b %d", **labels}
        )
    return alt.X(f"{field}:T", title=title, scale=scale, axis=axis)


#: Days from which an axis spanning years has month ticks labelled "Apr 2011".
MONTHLY_FROM_DAYS = 120
#: Most month ticks such an axis asks for (1, 2, 3, 6 or 12 months apart).
MOST_MONTH_TICKS = 12
#: Spans of up to a week have a tick on every day (and none between days).
DAILY_TICKS_UP_TO_DAYS = 7


def time_labels(days: Sequence[str]) -> dict[str, Any]:
    """The axis properties that label a time axis over ``days`` (ISO dates) one way; none
    when no days are known.

    Vega's own labels mix forms ("Mon 08", "Jan 14" on the Sunday, "12 PM" between the days
    of a short span, "Mar 25", "April", "Apr 08" over months) and name a year only on its
    January tick, which the label overlap rule may drop. Spans under
    :data:`MONTHLY_FROM_DAYS` get day labels ``Jan 08`` (``Dec 28, 2011`` across years), a
    tick on every day up to a week; longer spans month ticks ``Apr 2011``, 1 to 12 months
    apart.
    """
    if not days:
        return {}
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    years = first.year != last.year
    if (last - first).days >= MONTHLY_FROM_DAYS:
        months = (last.year - first.year) * 12 + last.month - first.month
        step = next((s for s in (1, 2, 3, 6) if months / s <= MOST_MONTH_TICKS), 12)
        return {"format": "%b %Y", "tickCount": {"interval": "month", "step": step}}
    labels: dict[str, Any] = {"format": "%b %d, %Y" if years else "%b %d"}
    if (last - first).days <= DAILY_TICKS_UP_TO_DAYS:
        labels["tickCount"] = {"interval": "day", "step": 1}
    return labels


def utc_datetime(day: str) -> dict[str, Any]:
    """A UTC date as a Vega-Lite DateTime (its months count from 1)."""
    d = date.fromisoformat(day)
    return {"year": d.year, "month": d.month, "date": d.day, "utc": True}


def nice_width(span: float, bins: int = 30) -> float:
    """A bin width of 1, 2 or 5 × 10^k giving at most about ``bins`` bins over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def histogram(values: Sequence[float], bins: int = 30) -> Rows:
    """Counts of ``values`` in bins of a nice width from 0; empty bins are left out.

    A long tail would squeeze every bar into the first few bins, so bins stop at the 99th
    percentile and the values beyond it share one last, flagged, overflow bin. Bins are at
    least a day wide once the range passes ten days: finer bins only add noise there.
    """
    if not values:
        return []
    top = max(values)
    cut = percentile(values, 99)
    overflow = top > cut * 1.5 and len(values) >= 100
    span = cut if overflow else top
    width = max(nice_width(span, bins), 1.0 if span >= 10 else 0.0)
    last = math.floor(round(span / width, 9))
    counts = [0] * (last + 1)
    beyond = 0
    for value in values:
        index = math.floor(round(value / width, 9))
        if index > last:
            beyond += 1
        else:
            counts[index] += 1
    rows: Rows = []
    digits = max(0, -math.floor(math.log10(width)))
    for index, count in enumerate(counts):
        if not count:
            continue
        start, end = round(index * width, digits), round((index + 1) * width, digits)
        rows.append(
            {
                "start": start,
                "end": end,
                "items": count,
                "range": f"{numbers.number(start, digits)}–{numbers.number(end, digits)} days",
                "overflow": False,
            }
        )
    if beyond:
        start = round((last + 1) * width, digits)
        rows.append(
            {
                "start": start,
                "end": round(start + width, digits),
                "items": beyond,
                "range": f"{numbers.number(start, digits)} days or more",
                "overflow": True,
            }
        )
    return rows
