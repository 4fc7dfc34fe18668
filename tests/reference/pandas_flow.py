"""A second, independent implementation of the flow metrics of ``docs/conventions.md``.

Obeya computes its metrics as SQL (Ibis over DuckDB or PostgreSQL). A test that only compares
Obeya with itself proves little, so this module computes the same figures a different way: it
walks each item's events in plain Python, one item at a time, in the words of the conventions
("start is the first event whose state is active, waiting or done", "a visit ends at the item's
next event", ...), and uses pandas and numpy only to read the input and to take percentiles. It
is written to be read and checked by hand, not to be fast; it still handles the 65k-event BPIC
2013 log in about a second.

Nothing here imports Obeya: a bug shared by both implementations would hide itself.

Input: a DataFrame with ``item_id``, ``state``, ``timestamp`` (tz-aware; naive means UTC) and
optionally ``seq`` (file order, breaks timestamp ties; default: row order), ``type`` and
``created``. Output: see :func:`flow_metrics`.

Choices the conventions leave open, made here (and to be confirmed against the engine):

- An item's type is its last non-empty ``type`` (the type the tracker shows now); its creation
  is its first non-empty ``created``, else its first event.
- With ``since``/``until``, time in state sums *all* completed visits of the counted items (the
  visits are not clipped to the window); WIP and cumulative flow count every item (they are
  running totals) but list only the window's days; weekly throughput runs from the first to the
  last week with a finish in the window, while the daily series span the window.
- Time in state lists only states with at least one completed visit.
- Without a workflow, no state is reported as unmapped.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

MICROS_PER_SECOND = 1_000_000
MICROS_PER_HOUR = 3_600 * MICROS_PER_SECOND
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
EPOCH_DATE = date(1970, 1, 1)

CATEGORIES = ("backlog", "active", "waiting", "done")
#: Categories past the commitment point: the first event in one of them starts the item.
STARTED = frozenset({"active", "waiting", "done"})
PERCENTILES = {"p50": 50, "p70": 70, "p85": 85, "p95": 95}


# -- per item ---------------------------------------------------------------------------------


@dataclass
class Event:
    state: str
    t: int  # microseconds since the epoch, UTC
    seq: int  # position in the source, for error messages


@dataclass
class Item:
    """What one item's history says, in the terms of the conventions (times in microseconds)."""

    item_id: str
    type: str | None
    created: int
    first: int
    last: int
    start: int | None
    finish: int | None
    #: Time in active states between start and finish; only for finished items.
    active: int | None
    #: State → summed length of the item's completed visits to it.
    time_in_state: dict[str, int] = field(default_factory=dict)
    #: Flow rank k → time of the first event at rank k or later (cumulative flow).
    reached: dict[int, int] = field(default_factory=dict)
    event_times: list[int] = field(default_factory=list)


def _item_from_events(
    item_id: str,
    events: list[Event],
    types: list[Any],
    created: list[Any],
    category: Mapping[str, str] | None,
    rank: Mapping[str, int],
    keep_repeats: bool = False,
    finish_at: str = "last",
) -> Item:
    """Apply the definitions of start, finish, visits and furthest state to one item.

    ``events`` are already in order: by timestamp, ties in file order. Repeats of one
    (state, time) are refused unless ``keep_repeats`` (activity logs, e.g. XES).
    """
    seen: dict[tuple[str, int], int] = {}
    for event in events if not keep_repeats else ():
        key = (event.state, event.t)
        if key in seen:
            raise ValueError(
                f"duplicate event: rows {seen[key]} and {event.seq} both put item "
                f"{item_id!r} into {event.state!r} at the same time"
            )
        seen[key] = event.seq

    first, last = events[0].t, events[-1].t
    if category is None:
        # A process-mining log: the case runs from its first event to its last.
        start: int | None = first
        finish: int | None = last
    else:
        start = next((e.t for e in events if category.get(e.state) in STARTED), None)
        finish = None
        if category.get(events[-1].state) == "done":  # finished: still done at its last event
            # "last": its last event; "first": its first event in a done state.
            done_times = [e.t for e in events if category.get(e.state) == "done"]
            finish = last if finish_at == "last" else done_times[0]

    # A visit runs from an event to the item's next event; the last event's visit is open.
    visits = [(a.state, a.t, b.t) for a, b in itertools.pairwise(events)]
    time_in_state: dict[str, int] = {}
    for state, begin, end in visits:
        time_in_state[state] = time_in_state.get(state, 0) + (end - begin)

    active: int | None = None
    if category is not None and start is not None and finish is not None:
        active = 0
        for state, begin, end in visits:
            if category.get(state) == "active":
                active += max(0, min(end, finish) - max(begin, start))

    # Furthest state so far: reopening never lowers it, so record when each rank is first
    # reached (an event at rank r reaches every rank up to r).
    reached: dict[int, int] = {}
    furthest = -1
    for event in events:
        r = rank[event.state]
        if r > furthest:
            for k in range(furthest + 1, r + 1):
                reached[k] = event.t
            furthest = r

    known_types = [t for t in types if not _missing(t)]
    known_created = [c for c in created if not _missing(c)]
    return Item(
        item_id=item_id,
        type=str(known_types[-1]) if known_types else None,
        created=_to_micros(known_created[0]) if known_created else first,
        first=first,
        last=last,
        start=start,
        finish=finish,
        active=active,
        time_in_state=time_in_state,
        reached=reached,
        event_times=[e.t for e in events],
    )


# -- the whole log ----------------------------------------------------------------------------


def flow_metrics(
    events: pd.DataFrame,
    workflow: Mapping[str, Sequence[str]] | None = None,
    *,
    since: date | str | None = None,
    until: date | str | None = None,
    types: Iterable[str] | None = None,
    calendar_days: bool = False,
    keep_repeats: bool = False,
    finish: str = "last",
) -> dict[str, Any]:
    """Every flow metric of the conventions, computed item by item.

    ``finish``: the workflow's finish convention, ``"last"`` or ``"first"`` entry into done.

    ``workflow`` maps ``backlog``, ``active``, ``waiting``, ``done`` (and optionally ``order``)
    to state names; ``None`` means a process-mining log. ``since``/``until`` are inclusive UTC
    dates; ``types`` keeps only items of those types.

    Returns a dict with ``items`` (``total``, ``finished``), ``cycle_time_days`` and
    ``lead_time_days`` (``p50``, ``p70``, ``p85``, ``p95``, ``mean``; ``None`` without finished
    items), ``throughput_weekly`` (Monday → count), ``throughput_daily`` and ``wip_daily``
    (day → count), ``flow_efficiency``, ``time_in_state_hours`` (state → ``median``, ``p85``,
    ``items``), ``cumulative_flow`` (state → day → count), ``unmapped_states`` and
    ``per_item`` (a DataFrame). Days and weeks are ``YYYY-MM-DD`` strings.
    """
    frame = _normalise(events)
    category = _categories(workflow) if workflow is not None else None
    observed = list(dict.fromkeys(frame.sort_values("seq")["state"].tolist()))
    order = _flow_order(workflow, observed)
    rank = {state: k for k, state in enumerate(order)}
    wanted_types = set(types) if types is not None else None
    lo = _to_micros(pd.Timestamp(since)) if since is not None else None
    hi = _to_micros(pd.Timestamp(until)) + MICROS_PER_DAY if until is not None else None

    def in_window(t: int) -> bool:
        return (lo is None or t >= lo) and (hi is None or t < hi)

    # Walk the items one at a time, each one's events in timestamp order, ties in file order.
    ordered = frame.sort_values(["item_id", "t", "seq"])
    rows = zip(
        ordered["item_id"].tolist(),
        ordered["state"].tolist(),
        ordered["t"].tolist(),
        ordered["seq"].tolist(),
        ordered["type"].tolist(),
        ordered["created"].tolist(),
        strict=True,
    )
    items: list[Item] = []
    for item_id, group in itertools.groupby(rows, key=itemgetter(0)):
        rows_of_item = list(group)
        item = _item_from_events(
            item_id,
            [Event(state, t, seq) for _, state, t, seq, _, _ in rows_of_item],
            [row[4] for row in rows_of_item],
            [row[5] for row in rows_of_item],
            category,
            rank,
            keep_repeats,
            finish,
        )
        if wanted_types is None or item.type in wanted_types:
            items.append(item)

    # Counted items: at least one event in the window. Finished items: finish in the window.
    counted = [i for i in items if any(in_window(t) for t in i.event_times)]
    finished = [i for i in items if i.finish is not None and in_window(i.finish)]

    def days_between(a: int, b: int) -> float:
        if calendar_days:
            return float((_day(b) - _day(a)).days + 1)
        return (b - a) / MICROS_PER_DAY

    cycle = [days_between(_some(i.start), _some(i.finish)) for i in finished]
    lead = [days_between(i.created, _some(i.finish)) for i in finished]

    if category is None:
        efficiency = None
    else:
        total_active = sum(_some(i.active) for i in finished)
        total_cycle = sum(_some(i.finish) - _some(i.start) for i in finished)
        efficiency = total_active / total_cycle if total_cycle > 0 else None

    # Throughput: finishes per day and per ISO week, zero periods included.
    finish_days = [_day(_some(i.finish)) for i in finished]
    finish_weeks = [_monday(d) for d in finish_days]
    weekly = _series(finish_weeks, _span(finish_weeks, None, None), step=7)
    daily = _series(finish_days, _span(finish_days, since, until))

    # WIP(D) = items started up to D − items finished up to D, over every item (not only the
    # window's), from the first start to the last event.
    start_days = [_day(i.start) for i in items if i.start is not None]
    end_days = [_day(i.finish) for i in items if i.finish is not None]
    wip: dict[str, int] = {}
    if start_days:
        last_event_day = max(_day(i.last) for i in items)
        span = _span([min(start_days), last_event_day], since, until)
        started = _running_total(start_days, span)
        ended = _running_total(end_days, span)
        wip = {day: started[day] - ended[day] for day in started}

    # Cumulative flow: per state, items whose furthest state is that one or later, by day; a
    # done state counts a finished item only from its finish on, and an unfinished one never.
    cumulative: dict[str, dict[str, int]] = {}
    if items:
        all_days = [_day(i.first) for i in items] + [_day(i.last) for i in items]
        span = _span([min(all_days), max(all_days)], since, until)
        for k, state in enumerate(order):
            if category is not None and category.get(state) == "done":
                reach_days = [
                    _day(max(i.reached[k], i.finish))
                    for i in items
                    if k in i.reached and i.finish is not None
                ]
            else:
                reach_days = [_day(i.reached[k]) for i in items if k in i.reached]
            cumulative[state] = _running_total(reach_days, span)

    # Time in state: per state, the per-item sums of completed visits, in hours.
    time_in_state: dict[str, dict[str, float | int]] = {}
    for state in order:
        hours = [
            i.time_in_state[state] / MICROS_PER_HOUR for i in counted if state in i.time_in_state
        ]
        if hours:
            time_in_state[state] = {
                "median": float(np.percentile(hours, 50)),
                "p85": float(np.percentile(hours, 85)),
                "items": len(hours),
            }

    named = set(category or {})
    return {
        "items": {"total": len(counted), "finished": len(finished)},
        "cycle_time_days": _summary(cycle),
        "lead_time_days": _summary(lead),
        "throughput_weekly": weekly,
        "throughput_daily": daily,
        "wip_daily": wip,
        "flow_efficiency": efficiency,
        "time_in_state_hours": time_in_state,
        "cumulative_flow": cumulative,
        "unmapped_states": (
            [s for s in observed if s not in named] if category is not None else []
        ),
        "per_item": _per_item_table(items, days_between),
    }


# -- helpers ----------------------------------------------------------------------------------


def _normalise(events: pd.DataFrame) -> pd.DataFrame:
    """Keep the columns the metrics need; timestamps become integer microseconds (UTC)."""
    for column in ("item_id", "state", "timestamp"):
        if column not in events.columns:
            raise ValueError(f"the events lack column {column!r}")
    stamps = pd.to_datetime(events["timestamp"], utc=True)  # naive means UTC
    n = len(events)
    return pd.DataFrame(
        {
            "item_id": events["item_id"].astype(str).to_numpy(),
            "state": events["state"].astype(str).to_numpy(),
            "t": ((stamps - EPOCH) // pd.Timedelta(microseconds=1)).to_numpy(dtype="int64"),
            "seq": (events["seq"] if "seq" in events else pd.RangeIndex(n)).to_numpy(),
            "type": events["type"].to_numpy(dtype=object) if "type" in events else [None] * n,
            "created": (
                events["created"].to_numpy(dtype=object) if "created" in events else [None] * n
            ),
        }
    )


def _categories(workflow: Mapping[str, Sequence[str]]) -> dict[str, str]:
    category: dict[str, str] = {}
    for name in CATEGORIES:
        for state in workflow.get(name, ()):
            category[state] = name
    return category


def _flow_order(workflow: Mapping[str, Sequence[str]] | None, observed: list[str]) -> list[str]:
    """Unmapped states (first appearance) first, then ``order`` or the categories as listed."""
    if workflow is None:
        return observed
    named = list(_categories(workflow))
    base = list(workflow.get("order", ())) or [
        s for name in CATEGORIES for s in workflow.get(name, ())
    ]
    unmapped = [s for s in observed if s not in named]
    return [*unmapped, *base, *(s for s in named if s not in base)]


def _to_micros(moment: Any) -> int:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int((stamp - EPOCH) // pd.Timedelta(microseconds=1))


def _from_micros(micros: int | None) -> pd.Timestamp:
    if micros is None:
        return pd.NaT
    return pd.Timestamp(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros))


def _day(micros: int) -> date:
    """The UTC calendar day of a moment (floor division also floors moments before 1970)."""
    return EPOCH_DATE + timedelta(days=micros // MICROS_PER_DAY)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _key(day: date) -> str:
    return day.isoformat()


def _span(days: Sequence[date], since: date | str | None, until: date | str | None) -> list[date]:
    """First and last day of a series: its data's, replaced by the window's where given."""
    first = pd.Timestamp(since).date() if since is not None else (min(days) if days else None)
    last = pd.Timestamp(until).date() if until is not None else (max(days) if days else None)
    return [first, last] if first is not None and last is not None else []


def _dates(span: list[date], step: int = 1) -> list[date]:
    if not span:
        return []
    first, last = span
    return [first + timedelta(days=n) for n in range(0, (last - first).days + 1, step)]


def _series(days: Iterable[date], span: list[date], step: int = 1) -> dict[str, int]:
    """Count per period over the whole span, listing periods with none as 0."""
    counts: dict[date, int] = {}
    for d in days:
        counts[d] = counts.get(d, 0) + 1
    return {_key(d): counts.get(d, 0) for d in _dates(span, step)}


def _running_total(days: Iterable[date], span: list[date]) -> dict[str, int]:
    """For each day of the span, how many of ``days`` fall on or before it."""
    ordered = sorted(days)
    return {_key(d): bisect.bisect_right(ordered, d) for d in _dates(span)}


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {**dict.fromkeys(PERCENTILES), "mean": None}
    summary: dict[str, float | None] = {
        key: float(np.percentile(values, q)) for key, q in PERCENTILES.items()
    }
    summary["mean"] = float(np.mean(values))
    return summary


def _per_item_table(items: list[Item], days_between: Callable[[int, int], float]) -> pd.DataFrame:
    records = []
    for i in sorted(items, key=lambda i: i.item_id):
        finished = i.start is not None and i.finish is not None
        records.append(
            {
                "item_id": i.item_id,
                "type": i.type,
                "created": _from_micros(i.created),
                "start": _from_micros(i.start),
                "finish": _from_micros(i.finish),
                "cycle_time_days": (
                    days_between(_some(i.start), _some(i.finish)) if finished else np.nan
                ),
                "lead_time_days": days_between(i.created, _some(i.finish)) if finished else np.nan,
                "active_days": i.active / MICROS_PER_DAY if i.active is not None else np.nan,
            }
        )
    columns = [
        "item_id",
        "type",
        "created",
        "start",
        "finish",
        "cycle_time_days",
        "lead_time_days",
        "active_days",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _some(value: int | None) -> int:
    assert value is not None
    return value
