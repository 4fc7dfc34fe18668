"""Importing and loading events: round trip, idempotent re-import, appends, all or nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from obeya.core.events import EVENT_SCHEMA, EventLog, from_micros
from obeya.core.workflow import Workflow
from obeya.errors import NotFoundError, StoreError
from obeya.store import Store, staging


def rows(log: EventLog) -> list[dict[str, Any]]:
    return list(log.table.to_pylist())


def by_event_order(log: EventLog) -> list[dict[str, Any]]:
    return rows(EventLog(log.table.sort_by([("item_id", "ascending"), ("t", "ascending")])))


def _triples(log: EventLog) -> list[tuple[str, str, datetime]]:
    return [(r["item_id"], r["state"], from_micros(r["t"])) for r in log.table.to_pylist()]


def table_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            name: connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in ("streams", "events", "imports")
        }


def test_round_trip_keeps_every_column(store: Store, small_log: EventLog) -> None:
    result = store.append_events("Support", small_log, source="small.csv", sha256="ab" * 32)
    assert (result.events_in_file, result.events_added) == (4, 4)
    assert (result.stream.events, result.stream.items) == (4, 2)
    loaded = store.load_events("Support")
    assert loaded.table.schema == EVENT_SCHEMA
    assert rows(loaded) == by_event_order(small_log)
    first = rows(loaded)[0]
    assert first["title"] == "Ünïcode title — ✓" and first["assignee"] == "Zoë"
    assert rows(loaded)[-1]["type"] == ""  # the empty string is not turned into a null


def test_loading_keeps_seq_order_for_ties(store: Store) -> None:
    tied = EventLog.from_rows(
        [("X", "b", "2024-01-01T00:00:00"), ("X", "a", "2024-01-01T00:00:00")]
    )
    store.append_events("S", tied, source="tied")
    assert [r["state"] for r in rows(store.load_events("S"))] == ["b", "a"]


def test_load_filters_by_type(store: Store, small_log: EventLog) -> None:
    store.append_events("Support", small_log, source="small.csv")
    assert [r["type"] for r in rows(store.load_events("Support", types=["Story"]))] == ["Story"]
    assert store.load_events("Support", types=["Story", ""]).num_events == 2
    assert store.load_events("Support", types=[]).num_events == 0
    assert store.load_events("Support", types=["Epic"]).table.schema == EVENT_SCHEMA


def test_an_empty_stream_loads_as_an_empty_log(store: Store) -> None:
    store.create_stream("Empty")
    loaded = store.load_events("Empty")
    assert loaded.num_events == 0 and loaded.table.schema == EVENT_SCHEMA


def test_reimporting_the_same_log_adds_nothing(store: Store, small_log: EventLog) -> None:
    store.append_events("Support", small_log, source="small.csv")
    before = (table_counts(store), rows(store.load_events("Support")))
    again = store.append_events("Support", small_log, source="small.csv")
    assert (again.events_in_file, again.events_added) == (4, 0)
    after_counts = table_counts(store)
    assert after_counts["events"] == before[0]["events"]
    # Each import is kept in the audit trail, the repeated one too (adding 0).
    assert after_counts["imports"] == before[0]["imports"] + 1
    assert rows(store.load_events("Support")) == before[1]


def test_an_overlapping_log_appends_only_new_events(store: Store, small_log: EventLog) -> None:
    store.append_events("Support", small_log, source="small.csv")
    newer = EventLog.from_rows(
        [
            ("C-3", "Backlog", "2024-03-06T09:00:00"),
            ("A-1", "Doing", "2024-03-02T10:00:00"),  # already stored
            ("B-2", "Doing", "2024-03-06T10:00:00"),
        ]
    )
    result = store.append_events("Support", newer, source="newer.csv")
    assert (result.events_in_file, result.events_added) == (3, 2)
    assert (result.stream.events, result.stream.items) == (6, 3)
    seqs = {(r["item_id"], r["state"]): r["seq"] for r in rows(store.load_events("Support"))}
    # The new events continue after the highest seq (3), in file order.
    assert seqs[("C-3", "Backlog")] == 4
    assert seqs[("B-2", "Doing")] == 5
    assert seqs[("A-1", "Doing")] == 1


def test_repeats_within_one_file_are_kept_and_reimport_adds_nothing(store: Store) -> None:
    # An XES log may record one activity twice at the same instant: both are stored.
    log = EventLog.from_rows(
        [
            {"item_id": "A", "state": "s", "timestamp": "2024-01-01", "title": "first"},
            {"item_id": "A", "state": "t", "timestamp": "2024-01-02"},
            {"item_id": "A", "state": "s", "timestamp": "2024-01-01", "title": "repeat"},
        ]
    )
    result = store.append_events("S", log, source="dup.xes")
    assert (result.events_in_file, result.events_added) == (3, 3)
    assert [(r["state"], r["seq"], r["title"]) for r in rows(store.load_events("S"))] == [
        ("s", 0, "first"),
        ("s", 2, "repeat"),
        ("t", 1, None),
    ]
    assert store.append_events("S", log, source="dup.xes").events_added == 0
    # A later file with one more repeat adds just that one.
    more = log.concat(
        EventLog.from_rows([{"item_id": "A", "state": "s", "timestamp": "2024-01-01"}])
    )
    assert store.append_events("S", more, source="more.xes").events_added == 1


def test_file_order_follows_seq_not_row_position(store: Store, small_log: EventLog) -> None:
    reversed_rows = small_log.table.take(pa.array([3, 2, 1, 0]))
    store.append_events("S", EventLog(reversed_rows), source="reversed")
    assert rows(store.load_events("S")) == by_event_order(small_log)


def test_the_same_events_may_live_in_two_streams(store: Store, small_log: EventLog) -> None:
    store.append_events("One", small_log, source="small.csv")
    result = store.append_events("Two", small_log, source="small.csv")
    assert result.events_added == small_log.num_events


def test_importing_without_create_needs_the_stream(store: Store, small_log: EventLog) -> None:
    with pytest.raises(NotFoundError, match="'Missing'"):
        store.append_events("Missing", small_log, source="small.csv", create=False)
    assert store.list_streams() == []
    store.create_stream("Present")
    result = store.append_events("Present", small_log, source="small.csv", create=False)
    assert result.events_added == small_log.num_events


def test_an_import_can_set_the_workflow(store: Store, small_log: EventLog) -> None:
    workflow = Workflow(backlog=("Backlog",), active=("Doing",), done=("Done",))
    created = store.append_events("S", small_log, source="small.csv", workflow=workflow)
    assert created.stream.workflow == store.get_stream("S").workflow
    assert created.stream.workflow is not None
    assert created.stream.workflow.done == ("Done",)
    changed = Workflow(active=("Doing",), done=("Done", "Backlog"))
    result = store.append_events("S", small_log, source="small.csv", workflow=changed)
    assert result.stream.workflow is not None
    assert result.stream.workflow.done == ("Done", "Backlog")


def test_imports_are_recorded(store: Store, small_log: EventLog) -> None:
    store.append_events("S", small_log, source="small.csv", sha256="0" * 64)
    store.append_events("S", small_log, source="again.csv")
    with store.engine.connect() as connection:
        recorded = connection.execute(
            sa.text("SELECT source, sha256, events_in_file, events_added FROM imports ORDER BY id")
        ).all()
    assert [tuple(r) for r in recorded] == [
        ("small.csv", "0" * 64, 4, 4),
        ("again.csv", None, 4, 0),
    ]


def test_a_failing_import_into_a_new_stream_leaves_nothing(store: Store) -> None:
    """A null item_id passes the staging load and fails the final INSERT, after the stream
    row was written: the transaction must take the stream back too."""
    good = EventLog.from_rows([("A", "s", "2024-01-01"), ("B", "s", "2024-01-02")])
    broken = good.table.set_column(0, "item_id", pa.array(["A", None], pa.string()))
    with pytest.raises(StoreError, match="nothing was changed"):
        store.append_events("New", EventLog(broken), source="broken.csv")
    assert table_counts(store) == {"streams": 0, "events": 0, "imports": 0}
    # The store still works, and the staging table left no trace in the session.
    assert store.append_events("New", good, source="good.csv").events_added == 2


def test_a_failure_after_the_merge_rolls_the_merge_back(
    store: Store, small_log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append_events("S", small_log, source="small.csv")
    before = (table_counts(store), rows(store.load_events("S")))
    real_merge = staging.merge

    def merge_then_fail(connection: sa.Connection, stream_id: int) -> int:
        assert real_merge(connection, stream_id) == 1
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(staging, "merge", merge_then_fail)
    newer = EventLog.from_rows([("Z-9", "Backlog", "2024-04-01"), *_triples(small_log)])
    with pytest.raises(RuntimeError, match="caught fire"):
        store.append_events("S", newer, source="newer.csv")
    monkeypatch.undo()
    assert (table_counts(store), rows(store.load_events("S"))) == before
    assert store.append_events("S", newer, source="newer.csv").events_added == 1


def test_concurrent_imports_into_one_stream_queue(store: Store) -> None:
    """Two writers on separate connections: neither fails, and their seqs do not collide."""
    store.create_stream("S")
    logs = [
        EventLog.from_rows((f"{prefix}{i}", "s", "2024-01-01") for i in range(300))
        for prefix in ("a", "b")
    ]

    def import_on_own_connection(log: EventLog) -> int:
        with Store(store.url) as writer:
            return writer.append_events("S", log, source="concurrent").events_added

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(import_on_own_connection, logs)) == [300, 300]
    seqs = sorted(r["seq"] for r in rows(store.load_events("S")))
    assert seqs == list(range(600))
