"""One look for every chart: fonts, colours and axis styling.

The colours carry meaning, and the same meaning everywhere: a state's colour says its
category (grey backlog, blue active, amber waiting, green done, violet unmapped), the percentile
lines are always p50 green, p85 amber and p95 red, and aging dots use the same scale from safe
to late. A person who has learnt one chart can read the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

FONT = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif'
)
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
PRIMARY = "#2563eb"
SECONDARY = "#d97706"
MEAN = "#374151"

PERCENTILES = ("p50", "p85", "p95")
PERCENTILE_COLOURS = ("#059669", "#d97706", "#dc2626")

AGING_BANDS = ("below p50", "p50–p85", "p85–p95", "above p95")
AGING_COLOURS = ("#16a34a", "#ca8a04", "#ea580c", "#dc2626")

#: Per workflow category, the darkest and the lightest shade of its hue.
CATEGORY_SHADES: dict[str, tuple[str, str]] = {
    "unmapped": ("#6d28d9", "#ddd6fe"),
    "backlog": ("#4b5563", "#d1d5db"),
    "active": ("#1e40af", "#93c5fd"),
    "waiting": ("#b45309", "#fde68a"),
    "done": ("#065f46", "#6ee7b7"),
}

#: For a stream without a workflow: distinct hues, none too light to see on white.
CATEGORICAL = (
    "#2563eb",
    "#d97706",
    "#059669",
    "#dc2626",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#9333ea",
    "#ea580c",
    "#0f766e",
    "#4b5563",
)

HEIGHT = 280
TALL = 360


def _mix(dark: str, light: str, t: float) -> str:
    """The colour ``t`` of the way from ``dark`` to ``light`` (both ``#rrggbb``)."""
    a = [int(dark[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(light[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def shades(category: str, n: int) -> list[str]:
    """``n`` distinct shades of a category's hue, ordered so neighbours differ most.

    States of one category usually sit next to each other in flow order (a CFD's bands, the
    rows of time in state); alternating dark and light shades keeps adjacent ones apart.
    """
    dark, light = CATEGORY_SHADES.get(category, CATEGORY_SHADES["unmapped"])
    if n == 1:
        return [dark]
    ramp = [_mix(dark, light, i / (n - 1)) for i in range(n)]
    half = (n + 1) // 2
    order = [i // 2 if i % 2 == 0 else half + i // 2 for i in range(n)]
    return [ramp[i] for i in order]


def state_colours(states: Sequence[str], categories: Mapping[str, str] | None) -> list[str]:
    """A colour per state: a shade of its category's hue, else a categorical palette."""
    if not categories:
        return [CATEGORICAL[i % len(CATEGORICAL)] for i in range(len(states))]
    groups: dict[str, list[str]] = {}
    for state in states:
        groups.setdefault(str(categories.get(state, "unmapped")), []).append(state)
    colour: dict[str, str] = {}
    for category, members in groups.items():
        colour.update(zip(members, shades(category, len(members)), strict=True))
    return [colour[state] for state in states]


def config() -> dict[str, Any]:
    """The Vega-Lite ``config`` block every spec carries."""
    return {
        "font": FONT,
        "background": "#ffffff",
        "padding": {"left": 4, "right": 12, "top": 4, "bottom": 4},
        "view": {"stroke": None, "continuousHeight": HEIGHT},
        "title": {
            "anchor": "start",
            "fontSize": 15,
            "fontWeight": 600,
            "color": INK,
            "subtitleFontSize": 12,
            "subtitleColor": MUTED,
            "subtitlePadding": 4,
            "offset": 12,
        },
        "axis": {
            "labelColor": INK,
            "labelFontSize": 11,
            "titleColor": INK,
            "titleFontSize": 12,
            "titleFontWeight": 600,
            "gridColor": GRID,
            "domainColor": "#9ca3af",
            "tickColor": "#9ca3af",
            "labelLimit": 180,
        },
        "legend": {
            "labelColor": INK,
            "labelFontSize": 11,
            "titleColor": INK,
            "titleFontSize": 12,
            "titleFontWeight": 600,
            "orient": "top",
            "direction": "horizontal",
            "columns": 4,
            "labelLimit": 200,
        },
        "text": {"font": FONT},
        "bar": {"color": PRIMARY},
        "line": {"color": PRIMARY},
        "area": {"color": PRIMARY},
        "point": {"color": PRIMARY},
        "circle": {"color": PRIMARY},
    }
