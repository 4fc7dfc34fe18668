"""The schema: migrations build it, re-running them is harmless and they match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from obeya.store import Store
from obeya.store.migrate import head_revision
from obeya.store.models import Base

TABLES = {
    "alembic_version",
    "streams",
    "events",
    "imports",
    "maps",
    "map_versions",
    "records",
    "record_versions",
    "users",
    "grants",
    "tokens",
    "audit",
    "sign_in_failures",
    "settings",
    "deployments",
    "changes",
    "incidents",
    "connectors",
    "blockers",
}


def test_a_new_database_has_no_schema_until_initialised(empty_database_url: str) -> None:
    with Store(empty_database_url) as store:
        assert store.schema_revision() is None
        store.initialise()
        assert store.schema_revision() == head_revision()
        assert set(sa.inspect(store.engine).get_table_names()) >= TABLES


def test_migrations_need_no_alembic_ini_in_the_working_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Store(database_url) as store:
        store.initialise()
        assert store.schema_revision() == head_revision()


def test_initialise_is_idempotent_and_keeps_data(store: Store) -> None:
    store.create_stream("Support")
    store.initialise()
    with Store(store.url) as again:
        again.initialise()
        assert [s.name for s in again.list_streams()] == ["Support"]
        assert again.schema_revision() == head_revision()


def test_migrations_and_models_agree(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        # ... and the comparison does see a difference when there is one.
        altered = sa.MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(altered)
        altered.tables["events"].append_column(sa.Column("extra", sa.Text()))
        diff = compare_metadata(context, altered)
        assert [(d[0], d[3].name) for d in diff] == [("add_column", "extra")]


def test_events_have_their_unique_key_and_lookup_index(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    uniques = [u["column_names"] for u in inspector.get_unique_constraints("events")]
    assert ["stream_id", "item_id", "t", "state", "copy"] in uniques
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("events")}
    assert indexes["ix_events_stream_id_item_id_t_seq"] == ["stream_id", "item_id", "t", "seq"]


def test_everything_lives_in_the_urls_schema(store: Store) -> None:
    """On PostgreSQL the URL's search_path schema holds the tables and Alembic's version table;
    on SQLite there is just the one database."""
    with store.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            return
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        assert schema.startswith("t_")  # the test fixture's private schema
        found = connection.execute(
            sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
            {"s": schema},
        ).scalars()
        assert set(found) == TABLES
