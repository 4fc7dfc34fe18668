"""Value streams: create, read, list, change the workflow, delete; and where the store lives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from obeya.core.events import EventLog
from obeya.core.workflow import Workflow
from obeya.errors import InputError, NotFoundError, StoreError
from obeya.store import Store, settings

WORKFLOW = Workflow(
    backlog=("Backlog",),
    active=("Doing", "Réview"),
    waiting=('Blocked "hard"',),
    done=("Done",),
    stages=(("Build", ("Doing", "Réview")),),
)


def test_create_then_get(store: Store) -> None:
    created = store.create_stream("Support", WORKFLOW)
    assert created == store.get_stream("Support")
    assert created.name == "Support"
    assert created.workflow is not None
    assert created.workflow.to_toml() == WORKFLOW.to_toml()
    assert (created.events, created.items) == (0, 0)
    assert abs(created.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert created.created_at.utcoffset() == timedelta(0)


def test_a_stream_without_workflow(store: Store) -> None:
    assert store.create_stream("Plain").workflow is None


def test_names_are_unique(store: Store) -> None:
    store.create_stream("Support")
    with pytest.raises(StoreError, match="'Support' already exists"):
        store.create_stream("Support")


def test_a_blank_name_is_refused(store: Store) -> None:
    with pytest.raises(InputError, match="name"):
        store.create_stream("  ")


def test_list_is_sorted_by_name(store: Store) -> None:
    for name in ("b", "a", "C"):
        store.create_stream(name)
    assert [s.name for s in store.list_streams()] == sorted(["b", "a", "C"])


def test_unknown_stream_names_the_existing_ones(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no value stream named 'Nope'") as missing:
        store.get_stream("Nope")
    assert missing.value.hint() == "there are no streams yet"
    store.create_stream("Support")
    store.create_stream("Delivery")
    with pytest.raises(NotFoundError) as missing:
        store.get_stream("Nope")
    # The names go in the error's fields, for the CLI; the message (and so the API) has none.
    assert str(missing.value) == "no value stream named 'Nope'"
    assert missing.value.known == ("'Delivery'", "'Support'")
    assert missing.value.hint() == "the streams are 'Delivery', 'Support'"
    for call in (store.stream_id, store.delete_stream, store.load_events):
        with pytest.raises(NotFoundError):
            call("Nope")


def test_set_and_clear_the_workflow(store: Store) -> None:
    store.create_stream("Support")
    assert store.set_workflow("Support", WORKFLOW).workflow == store.get_stream("Support").workflow
    assert store.get_stream("Support").workflow is not None
    assert store.set_workflow("Support", None).workflow is None


def test_delete_removes_the_stream_and_its_events(store: Store, small_log: EventLog) -> None:
    store.append_events("Support", small_log, source="small.csv")
    store.append_events("Other", small_log, source="small.csv")
    store.delete_stream("Support")
    assert [s.name for s in store.list_streams()] == ["Other"]
    assert store.get_stream("Other").events == small_log.num_events
    recreated = store.create_stream("Support")
    assert recreated.events == 0


def test_stream_id_lets_other_layers_query_the_events_table(
    store: Store, small_log: EventLog
) -> None:
    import sqlalchemy as sa

    store.append_events("Support", small_log, source="small.csv")
    with store.engine.connect() as connection:
        count = connection.execute(
            sa.text("SELECT count(*) FROM events WHERE stream_id = :id"),
            {"id": store.stream_id("Support")},
        ).scalar_one()
    assert count == small_log.num_events


def test_default_url_is_a_sqlite_file_in_obeya_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBEYA_DATABASE_URL", raising=False)
    monkeypatch.setenv("OBEYA_HOME", str(tmp_path / "home"))
    assert settings.obeya_home() == tmp_path / "home"
    assert settings.default_database_url() == f"sqlite:///{tmp_path / 'home' / 'obeya.db'}"
    with Store() as store:  # the directory does not exist yet: the store makes it
        store.initialise()
        store.create_stream("Support")
    assert (tmp_path / "home" / "obeya.db").is_file()


def test_obeya_home_defaults_under_the_user_data_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OBEYA_HOME", raising=False)
    assert settings.obeya_home() == Path.home() / ".local" / "share" / "obeya"


@pytest.mark.usefixtures("obeya_home")
def test_the_database_url_variable_wins(database_url: str) -> None:
    assert settings.default_database_url() == database_url
    with Store() as store:
        assert store.url == database_url


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(StoreError, match="unsupported app store"):
        Store("mysql://localhost/obeya")
    with pytest.raises(StoreError, match="not a database URL"):
        Store("not a url")
