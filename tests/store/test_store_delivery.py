"""Delivery records and connectors in the app store: merged by id (added, updated, unchanged),
all or nothing, gone with their stream; a sync's events, records, renamed statuses and
checkpoint stored together or not at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from obeya.connectors.base import SyncBatch
from obeya.core.delivery.records import Change, DeliveryHistory, Deployment, Incident
from obeya.core.events import EventLog
from obeya.core.workflow import Workflow
from obeya.errors import InputError, NotFoundError, StoreError
from obeya.store import Store
from obeya.store.models import AuditRow

T0 = datetime(2024, 5, 6, 9, 0, 0, 123456, tzinfo=UTC)


def history() -> DeliveryHistory:
    return DeliveryHistory(
        deployments=(
            Deployment("d1", "production", T0, "success"),
            Deployment("d2", "staging", T0 + timedelta(hours=2), "failure"),
        ),
        changes=(Change("c1", T0 - timedelta(hours=5), "d1"),),
        incidents=(Incident("i1", T0 + timedelta(hours=1)),),
    )


def test_records_are_added_once_and_updated_when_they_change(store: Store) -> None:
    counts = store.delivery.save("Pay", history(), source="deployments.csv")
    # The stream did not exist: it is made. Every record is new.
    assert store.get_stream("Pay").events == 0
    assert [(c.kind, c.given, c.added, c.updated) for c in counts] == [
        ("deployments", 2, 2, 0),
        ("changes", 1, 1, 0),
        ("incidents", 1, 1, 0),
    ]
    again = store.delivery.save("Pay", history(), source="deployments.csv")
    assert [(c.added, c.updated) for c in again] == [(0, 0)] * 3
    # The incident is resolved since; the deployment d2 is the same.
    resolved = DeliveryHistory(
        incidents=(Incident("i1", T0 + timedelta(hours=1), T0 + timedelta(hours=4), "d1"),)
    )
    changed = store.delivery.save("Pay", resolved, source="incidents.csv")
    assert [(c.kind, c.added, c.updated) for c in changed][2] == ("incidents", 0, 1)
    loaded = store.delivery.load("Pay")
    # Read back exactly, to the microsecond, and in UTC.
    assert loaded.deployments == history().deployments
    assert loaded.changes == history().changes
    assert loaded.incidents == resolved.incidents


def test_only_changes_are_audited(store: Store) -> None:
    store.delivery.save("Pay", history(), source="a.csv")
    store.delivery.save("Pay", history(), source="a.csv")
    with store.engine.connect() as connection:
        actions = connection.execute(
            select(AuditRow.action, AuditRow.after).where(AuditRow.action == "stream.delivery")
        ).all()
    assert len(actions) == 1
    assert json.loads(actions[0].after)["deployments"] == {"given": 2, "added": 2, "updated": 0}


def test_deleting_the_stream_deletes_its_records_and_connectors(store: Store) -> None:
    store.delivery.save("Pay", history(), source="a.csv")
    store.connectors.add("pay", "jira", "Pay", {"url": "https://x"}, "PAY_TOKEN")
    store.delete_stream("Pay")
    store.delivery.save("Pay", DeliveryHistory(), source="empty")
    assert store.delivery.load("Pay") == DeliveryHistory()
    assert store.connectors.all() == []


def test_a_connector_is_named_once_and_of_a_known_kind(store: Store) -> None:
    info = store.connectors.add("pay", "jira", "Pay", {"jql": "project = PAY"}, "PAY_TOKEN")
    assert (info.stream, info.kind, info.checkpoint, info.last_result) == (
        "Pay",
        "jira",
        None,
        None,
    )
    assert store.get_stream("Pay").events == 0  # the stream is made
    with pytest.raises(StoreError, match="already exists"):
        store.connectors.add("pay", "github", "Other", {}, "X")
    with pytest.raises(InputError, match="none of jira, github, gitlab"):
        store.connectors.add("x", "trello", "Pay", {}, "X")
    with pytest.raises(NotFoundError) as missing:
        store.connectors.get("nope")
    assert missing.value.known == ("'pay'",)
    # Nothing was half made by the refusals.
    assert [c.name for c in store.connectors.all()] == ["pay"]
    assert [s.name for s in store.list_streams()] == ["Pay"]


def _batch(states: list[tuple[str, str, int]], names: dict[str, str], when: datetime) -> SyncBatch:
    log = EventLog.from_rows((item, state, T0 + timedelta(hours=h)) for item, state, h in states)
    return SyncBatch(
        events=log,
        checkpoint=when,
        items=len({s[0] for s in states}),
        delivery=history(),
        proposed_workflow=Workflow(backlog=("To Do",), active=("Doing",), done=("Done",)),
        state_names=names,
    )


def test_a_sync_stores_events_records_and_checkpoint_together(store: Store) -> None:
    store.connectors.add("pay", "jira", "Pay", {"jql": "project = PAY"}, "PAY_TOKEN")
    first = _batch([("10", "To Do", 0), ("10", "Doing", 1)], {"1": "To Do", "3": "Doing"}, T0)
    stored = store.connectors.save_sync("pay", first, started=T0)
    assert stored.events.events_added == 2 and stored.renamed == {}
    info = store.connectors.get("pay")
    assert info.checkpoint == T0
    assert info.last_result is not None and info.last_result["events_added"] == 2
    # The stream had no workflow: it takes the one the tracker's categories propose.
    workflow = store.stream_workflow("Pay")
    assert workflow is not None and workflow.active == ("Doing",)
    # Status 3 is renamed "In Progress" in the tracker; the second pull holds item 10's whole
    # history again (in the new name) and item 11. The stored history is renamed: one state.
    later = T0 + timedelta(days=1)
    second = _batch(
        [("10", "To Do", 0), ("10", "In Progress", 1), ("11", "To Do", 2)],
        {"1": "To Do", "3": "In Progress"},
        later,
    )
    stored = store.connectors.save_sync("pay", second, started=later)
    assert stored.renamed == {"Doing": "In Progress"}
    assert stored.events.events_added == 1  # only item 11's event is new
    states = store.load_events("Pay").table.column("state").to_pylist()
    assert sorted(states) == ["In Progress", "To Do", "To Do"]
    workflow = store.stream_workflow("Pay")
    assert workflow is not None and workflow.active == ("In Progress",)
    assert store.connectors.get("pay").checkpoint == later


def test_a_failed_sync_changes_nothing_but_its_last_result(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.connectors.add("pay", "jira", "Pay", {}, "PAY_TOKEN")
    store.connectors.save_sync("pay", _batch([("10", "To Do", 0)], {}, T0), started=T0)
    # The records fail to store after the events went in (a connection lost mid-sync): the
    # events roll back with them and the checkpoint stays.
    import obeya.store.connectors as connectors

    def lost(*args: object) -> None:
        raise StoreError("the connection was lost")

    monkeypatch.setattr(connectors, "merge_delivery", lost)
    later = _batch([("10", "To Do", 0), ("11", "To Do", 5)], {}, T0 + timedelta(days=9))
    with pytest.raises(StoreError, match="lost"):
        store.connectors.save_sync("pay", later, started=T0)
    assert store.get_stream("Pay").events == 1
    assert store.connectors.get("pay").checkpoint == T0
    store.connectors.save_failure("pay", "connector 'pay': HTTP 401", started=T0)
    info = store.connectors.get("pay")
    assert info.checkpoint == T0 and info.last_result == {
        "ok": False,
        "error": "connector 'pay': HTTP 401",
    }
