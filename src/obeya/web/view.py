"""What the pages show, taken from the report document the API returns.

The headline tiles read the very dict ``GET /api/streams/{name}/flow`` answers with, and format
it with :mod:`obeya.render.numbers` as everything else (days to one decimal, shares as
percentages, ``23 %``), so a figure on a page is always the API's figure, rounded for reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from obeya.render.numbers import DASH, count, days, rate, share

Doc = Mapping[str, Any]


@dataclass(frozen=True)
class Tile:
    """One headline figure: ``value`` is formatted for reading, ``raw`` is the API's number."""

    key: str
    label: str
    value: str
    unit: str = ""
    hint: str = ""
    raw: float | int | None = None
    alert: bool = False


def beyond_p85(doc: Doc) -> int:
    """Items in progress already older than the 85th percentile of cycle time."""
    bands = (doc.get("aging_wip") or {}).get("bands") or {}
    return int(bands.get("p85_to_p95", 0)) + int(bands.get("above_p95", 0))


def headline(doc: Doc) -> list[Tile]:
    """The dashboard's tiles, in the order a Value Stream Manager reads them."""
    items = doc.get("items") or {}
    ct = doc.get("cycle_time_days") or {}
    framework = doc.get("flow_framework") or {}
    velocity = framework.get("velocity_per_week")
    load = framework.get("load")
    efficiency = doc.get("flow_efficiency")
    late = beyond_p85(doc)
    unit = "calendar days" if (doc.get("filter") or {}).get("calendar_days") else "days"
    tiles = [
        Tile(
            "finished",
            "Items finished",
            count(items.get("finished")),
            hint=f"of {count(items.get('total'))} items",
            raw=items.get("finished"),
        ),
    ]
    for name, meaning in (("p50", "half"), ("p85", "85 %"), ("p95", "95 %")):
        tiles.append(
            Tile(
                f"cycle_time_{name}",
                f"Cycle time {name}",
                days(ct.get(name)),
                unit=unit,
                hint=f"{meaning} of items finish within",
                raw=ct.get(name),
            )
        )
    tiles += [
        Tile(
            "throughput",
            "Throughput",
            rate(velocity),
            unit="per week",
            hint="mean items finished",
            raw=velocity,
        ),
        Tile("wip", "WIP now", count(load), unit="items", hint="started, not finished", raw=load),
        Tile(
            "flow_efficiency",
            "Flow efficiency",
            share(efficiency),
            hint="active ÷ cycle time" if efficiency is not None else "needs a workflow",
            raw=efficiency,
        ),
        Tile(
            "aging",
            "Aging beyond p85",
            count(late),
            unit="items",
            hint=f"of {count(load)} in progress",
            raw=late,
            alert=late > 0,
        ),
    ]
    quality = doc.get("quality") or {}
    if quality.get("reopen_rate") is not None:
        tiles.append(
            Tile(
                "reopen_rate",
                "Reopened",
                share(quality["reopen_rate"]),
                hint=f"{count(quality['reopened_items'])} of {count(quality['finished'])} "
                "finished items came back",
                raw=quality["reopen_rate"],
            )
        )
    if quality.get("defect_share") is not None:
        tiles.append(
            Tile(
                "defect_share",
                "Defects",
                share(quality["defect_share"]),
                hint=f"{count(quality['defect_items'])} of {count(quality['typed_items'])} "
                "finished items are bugs",
                raw=quality["defect_share"],
            )
        )
    return tiles


def stream_row(doc: Doc | None) -> dict[str, str]:
    """The small headline of a stream in the list: cycle time p85, throughput, WIP."""
    if doc is None:
        return {"p85": DASH, "throughput": DASH, "wip": DASH}
    framework = doc.get("flow_framework") or {}
    return {
        "p85": days((doc.get("cycle_time_days") or {}).get("p85")),
        "throughput": rate(framework.get("velocity_per_week")),
        "wip": count(framework.get("load")),
    }


def types_of(doc: Doc) -> list[str]:
    """Item types seen among finished and in-progress items, for the filter form."""
    framework = doc.get("flow_framework") or {}
    seen = set(framework.get("distribution") or {}) | set(framework.get("distribution_wip") or {})
    seen.discard("(none)")
    return sorted(seen)


def blocked_view(doc: Doc) -> dict[str, Any] | None:
    """The dashboard's "Blocked time" section from ``doc["blocked"]`` (None: the stream has
    no blockers): tiles, blocked now, and who waits on whom, rounded for reading."""
    blocked = doc.get("blocked")
    if not blocked:
        return None
    pct = blocked.get("days") or {}
    efficiency = doc.get("flow_efficiency")
    as_waiting = blocked.get("flow_efficiency_blocked_as_waiting")
    tiles = [
        Tile(
            "blocked_share",
            "Blocked share",
            share(blocked.get("share_of_cycle_time"), None),  # 0.19 %, not 0 %
            hint=f"{days(blocked.get('blocked_days'))} of {days(blocked.get('cycle_time_days'))} "
            "days of cycle time",
            raw=blocked.get("share_of_cycle_time"),
        ),
        Tile(
            "items_blocked",
            "Items blocked",
            count(blocked.get("items_blocked")),
            hint=f"of {count(blocked.get('finished_items'))} finished items",
            raw=blocked.get("items_blocked"),
        ),
        Tile(
            "blocked_p50",
            "Blocked p50",
            days(pct.get("p50")),
            unit="days",
            hint="half of the blocked items, at most",
            raw=pct.get("p50"),
        ),
        Tile(
            "blocked_p85",
            "Blocked p85",
            days(pct.get("p85")),
            unit="days",
            hint="85 % of the blocked items, at most",
            raw=pct.get("p85"),
        ),
        Tile(
            "efficiency_blocked",
            "Flow efficiency, blocked as waiting",
            share(as_waiting),
            hint=f"today's {share(efficiency)}" if as_waiting is not None else "needs a workflow",
            raw=as_waiting,
        ),
    ]
    cross = blocked.get("cross_team") or {}
    teams = list(cross.get("teams") or [])
    matrix = cross.get("matrix") or {}
    waiting = [t for t in teams if t in matrix]
    blocking = [t for t in teams if any(t in row for row in matrix.values())]
    return {
        "tiles": tiles,
        "doc": blocked,
        "now": blocked.get("now") or [],
        "by_reason": blocked.get("by_reason") or {},
        "cross": cross,
        "waiting_teams": waiting,
        "blocking_teams": blocking,
        "matrix": matrix,
        "top_pairs": cross.get("top_pairs") or [],
    }
