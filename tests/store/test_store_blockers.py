"""Blockers in the app store: merged by (item, blocked_at, reason), all or nothing, idempotent,
gone with their stream, and part of the stream's flow (``blocked``) and its stamp. Runs on
SQLite and, with OBEYA_TEST_DATABASE_URL, on PostgreSQL (the flow then on the server)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from obeya.core.blockers import Blocker
from obeya.core.workflow import Workflow
from obeya.errors import NotFoundError, ParseError
from obeya.store import Store
from obeya.store.models import AuditRow, BlockerRow
from obeya.workspace import Workspace

DATA = Path(__file__).parents[1] / "core" / "data" / "blockers"


def test_saving_twice_changes_nothing_and_a_lifted_blocker_updates(store: Store) -> None:
    store.create_stream("Pay")
    first = [Blocker("A", 10, None, "env"), Blocker("A", 10, 30, "vendor", team="Ops")]
    counts = store.blockers.save("Pay", first, source="b.csv")
    assert (counts.given, counts.added, counts.updated) == (2, 2, 0)
    stamp = store.stream_stamp("Pay")
    again = store.blockers.save("Pay", first, source="b.csv")
    assert (again.added, again.updated) == (0, 0)
    assert store.stream_stamp("Pay") == stamp  # nothing written: the reports stay valid
    lifted = [dataclasses.replace(first[0], unblocked_at=20), first[1]]
    counts = store.blockers.save("Pay", lifted, source="b.csv")
    assert (counts.added, counts.updated) == (0, 1)
    assert store.stream_stamp("Pay") != stamp
    assert store.blockers.load("Pay") == tuple(sorted(lifted, key=lambda b: b.key))
    with store.engine.connect() as connection:
        audits = connection.execute(
            select(func.count()).where(AuditRow.action == "stream.blockers")
        ).scalar()
    assert audits == 2  # the save that changed nothing wrote no entry


def test_deleting_the_stream_deletes_its_blockers(store: Store) -> None:
    store.create_stream("Pay")
    store.blockers.save("Pay", [Blocker("A", 10, None, "env")], source="b.csv")
    store.delete_stream("Pay")
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count(BlockerRow.id))).scalar() == 0


def test_import_is_idempotent_all_or_nothing_and_in_the_flow(
    database_url: str, tmp_path: Path
) -> None:
    with Workspace(database_url) as ws:
        ws.initialise()
        ws.import_file(
            DATA / "events.csv", "S", workflow=Workflow.from_toml(DATA / "workflow.toml")
        )
        assert "blocked" not in ws.flow("S").to_dict()  # a stream without blockers
        counts = ws.import_blockers(DATA / "blockers.csv", "S")
        assert (counts.given, counts.added, counts.updated) == (14, 14, 0)
        once = ws.flow("S").to_dict()
        counts = ws.import_blockers(DATA / "blockers.csv", "S")
        assert (counts.added, counts.updated) == (0, 0)
        assert ws.flow("S").to_dict() == once
        # A file with a bad row: refused whole, the stream keeps what it had.
        bad = tmp_path / "bad.csv"
        bad.write_text("item_id,blocked_at,unblocked_at,reason\nA,2024-02-01,,new\nB,never,,env\n")
        with pytest.raises(ParseError):
            ws.import_blockers(bad, "S")
        assert len(ws.blockers("S")) == 14
    blocked = once["blocked"]
    # The hand-worked figures of tests/core/test_blockers.py, through the store.
    assert (blocked["blocked_days"], blocked["cycle_time_days"]) == (12.0, 31.0)
    assert blocked["share_of_cycle_time"] == pytest.approx(12 / 31, abs=1e-9)
    assert blocked["days"] == {"p50": 3.5, "p85": 4.0}
    assert blocked["by_reason"] == {"env": 7.0, "vendor": 7.0, "review": 4.0}
    assert blocked["flow_efficiency_blocked_as_waiting"] == pytest.approx(19 / 31, abs=1e-9)
    assert [(n["item_id"], n["since"], n["age_days"]) for n in blocked["now"]] == [
        ("F", "2024-01-09T00:00:00Z", 5.0)
    ]


def test_blockers_need_an_existing_stream(store: Store) -> None:
    # A misspelt stream is refused, naming the streams there are, and starts no stream.
    store.create_stream("Payments")
    with pytest.raises(NotFoundError) as refused:
        store.blockers.save("Paymnts", [Blocker("A", 10, None, "env")], source="b.csv")
    assert (refused.value.key, refused.value.what) == ("Paymnts", "value stream")
    assert [s.name for s in store.list_streams()] == ["Payments"]
