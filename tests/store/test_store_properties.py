"""Property: any event log survives the store, with the documented rules applied.

The rules (see ``obeya.store.staging``): events are stored in file order (the log's ``seq``),
repeats of one ``(item_id, t, state)`` included, ``seq`` renumbered 0, 1, …; they load sorted
by item_id (by code point), t and seq; importing them again adds nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obeya.core.events import EVENT_SCHEMA, EventLog
from obeya.store import Store

# PostgreSQL text cannot hold NUL; Arrow strings cannot hold lone surrogates.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
INT64 = st.integers(-(2**63), 2**63 - 1)

EVENT = st.fixed_dictionaries(
    {
        # Few distinct ids, states and times, so that repeats of one event occur.
        "item_id": st.one_of(st.sampled_from(["A", "b", "Ä", "10", "9"]), TEXT),
        "state": st.sampled_from(["Backlog", "In Progress", "Done", ""]),
        "t": st.one_of(st.sampled_from([0, 1, -1]), INT64),
        "created": st.none() | INT64,
        "type": st.none() | TEXT,
        "title": st.none() | TEXT,
        "team": st.none() | TEXT,
        "assignee": st.none() | TEXT,
    }
)


@st.composite
def event_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    events = draw(st.lists(EVENT, max_size=30))
    order = draw(st.permutations(range(len(events))))
    return [{**event, "seq": seq} for event, seq in zip(events, order, strict=True)]


def expected(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = sorted(events, key=lambda e: e["seq"])
    renumbered = [{**event, "seq": seq} for seq, event in enumerate(kept)]
    ordered = sorted(renumbered, key=lambda e: (e["item_id"], e["t"], e["seq"]))
    return [{name: event[name] for name in EVENT_SCHEMA.names} for event in ordered]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(events=event_logs())
def test_any_log_round_trips(store: Store, events: list[dict[str, Any]]) -> None:
    name = f"stream {next(_NAMES)}"  # the store outlives the examples: one stream each
    log = EventLog(pa.Table.from_pylist(events, schema=EVENT_SCHEMA))
    first = store.append_events(name, log, source="generated")
    assert first.events_added == len(expected(events))
    assert store.load_events(name).table.to_pylist() == expected(events)
    again = store.append_events(name, log, source="generated")
    assert again.events_added == 0
    assert again.stream.events == first.stream.events


_NAMES = itertools.count()
