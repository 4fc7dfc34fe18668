"""The store is composed of parts (``store.maps``, ``store.records``, ``store.users`` ...), not
mixed from classes: each part writes through the store's own transactions, so what the store
remembers of its reads (a stream's stamp) ends with a part's write as with its own."""

from __future__ import annotations

from obeya.core.access import Role
from obeya.core.workflow import Workflow
from obeya.store import Store

PARTS = ("maps", "records", "users", "tokens", "sign_ins", "delivery", "connectors")


def test_the_store_is_composed_of_parts_not_mixins() -> None:
    assert Store.__bases__ == (object,)
    assert not any(hasattr(Store, part) for part in PARTS)  # attributes of an instance only


def test_each_write_through_a_part_is_one_write_of_the_store(store: Store) -> None:
    store.create_stream("Pay")
    before = store.writes
    store.records.save("team", "web", {"key": "web", "name": "Web", "streams": []}, author="a")
    store.users.add("ana", None)
    store.users.grant("ana", Role.VIEWER, "Pay")
    # Three calls, each one transaction: the counter a stale read is judged by moved by 3.
    assert store.writes == before + 3


def test_a_part_that_changes_a_stream_ends_the_memory_of_its_stamp(store: Store) -> None:
    """A connector added with a workflow onto an existing stream rewrites that stream's
    workflow; the stamp asked right after must show it, well within STAMP_SECONDS."""
    store.create_stream("Pay")
    stamp = store.stream_stamp("Pay")
    assert store.stream_stamp("Pay") == stamp  # remembered
    workflow = Workflow(backlog=("To Do",), active=("Doing",), done=("Done",))
    store.connectors.add("pay", "jira", "Pay", {}, "PAY_TOKEN", workflow)
    # Milliseconds later, within the second the stamp is remembered: only the write ends it.
    fresh = store.stream_stamp("Pay")
    assert fresh != stamp
    assert store.get_stream("Pay").workflow.to_toml() == workflow.to_toml()  # type: ignore[union-attr]
