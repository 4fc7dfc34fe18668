"""A Vega-Lite chart of an experiment: the per-item values of the baseline and the trial
window side by side, each as a box plot (minimum to maximum, the box from p25 to p75, the
median a line) with every item drawn as a dot over it.

The figures in the title (medians, effect, verdict) are read from the experiment document
(``Experiment.to_dict()``: the JSON ``obeya experiment evaluate --json`` prints); the dots are
the values the core compared (:func:`obeya.core.steering.experiments.window_values`), so the
chart never computes a figure of its own. The box plot's quartiles are Vega-Lite's.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from obeya.render import theme
from obeya.render.numbers import metric_value, signed_share, significant
from obeya.render.parts import Doc, Rows, Spec, empty, finish, sample_evenly

#: The windows' colours: the baseline blue, the trial amber (never red or green, which
#: would read as a verdict; the verdict is written in words).
WINDOW_COLOURS = (theme.PRIMARY, theme.SECONDARY)


def experiment_chart(doc: Doc, baseline: Sequence[float], trial: Sequence[float]) -> Spec:
    """Box and strip plot of the two windows' values (``baseline``, ``trial``: one value per
    finished item, in the experiment's unit: days, or a share for flow efficiency)."""
    metric = str(doc.get("metric") or "metric")
    share = doc.get("unit") == "ratio"
    title = f"{metric.replace('_', ' ').capitalize()} per item: baseline and trial"
    if not baseline or not trial:
        return empty(title, "A window without items: nothing to compare.")
    labels = [
        _label("Baseline", doc.get("baseline") or {}),
        _label("Trial", doc.get("trial") or {}),
    ]
    rows: Rows = []
    for label, values in zip(labels, (baseline, trial), strict=True):
        rows += sample_evenly([{"window": label, "value": float(v)} for v in values])
    axis_title = (
        "Flow efficiency (active ÷ cycle time)" if share else f"{metric} ({doc.get('unit')})"
    )
    value_format = ".0%" if share else ",.1f"
    y = alt.Y("window:N", title=None, sort=labels, axis=alt.Axis(labelLimit=320))
    colour = alt.Color(
        "window:N", scale=alt.Scale(domain=labels, range=list(WINDOW_COLOURS)), legend=None
    )
    x = alt.X("value:Q", title=axis_title, axis=alt.Axis(format=value_format))
    base = alt.Chart(alt.Data(name="values"))
    boxes = base.mark_boxplot(
        extent="min-max", size=26, opacity=0.35, median={"color": theme.INK}
    ).encode(x=x, y=y, color=colour)
    dots = base.mark_circle(size=46, opacity=0.8, stroke="#ffffff", strokeWidth=0.5).encode(
        x=x,
        y=y,
        color=colour,
        tooltip=[
            alt.Tooltip("window:N", title="Window"),
            # A share to a decimal, as the experiments page shows it (metric_value: 23.5 %).
            alt.Tooltip("value:Q", title=metric, format=".1%" if share else value_format),
        ],
    )
    chart = alt.layer(boxes, dots).properties(title=alt.Title(title, subtitle=[_subtitle(doc)]))
    return finish(chart, {"values": rows}, height=170)


def _label(name: str, window: Doc) -> str:
    """``Baseline 2024-01-01..2024-01-05``."""
    if window.get("start") and window.get("end"):
        return f"{name} {window['start']}..{window['end']}"
    return name


def _subtitle(doc: Doc) -> str:
    parts = []
    base, trial = doc.get("baseline") or {}, doc.get("trial") or {}
    if base.get("median") is not None and trial.get("median") is not None:
        metric = doc.get("metric")
        parts.append(
            f"median {metric_value(base['median'], metric)} → "
            f"{metric_value(trial['median'], metric)}"
        )
    if doc.get("effect") is not None:
        parts.append(f"effect {signed_share(doc['effect'])}")
    if doc.get("p_value") is not None:
        parts.append(f"p = {significant(doc['p_value'])}")
    if doc.get("verdict"):
        parts.append(f"verdict: {doc['verdict']}")
    return " · ".join(parts)
