"""A database made by the previous release (schema 0003) upgrades to this one without loss.

``data/previous_release_0003.db`` was made by the previous release's own code and
``data/previous_release_0003.json`` holds its rows (data/README.md says how). On SQLite the test
upgrades a copy of that file; on PostgreSQL it migrates a private schema to 0003, loads the same
rows, and upgrades that. Either way: every row of the old tables is still there, unchanged; the
stream's events and flow report read back as before; every map and record version keeps its
author, message and document; and the new features (users, grants, tokens, the audit log) work
on the upgraded database.

Migration 0005 is checked from a database at 0004 (the first cut of sign-in, never released but
run by early servers): grants move from stream names to stream ids, a grant naming a stream that
is gone is dropped and logged, API tokens that never expired get an expiry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from obeya.core.access import Grant, Role
from obeya.core.events import EVENT_SCHEMA, EventLog
from obeya.core.maps.files import map_to_dict
from obeya.core.metrics.engine import analyse_log
from obeya.core.workflow import Workflow
from obeya.errors import StoreError
from obeya.store.audit import acting_as
from obeya.store.engine import make_engine
from obeya.store.migrate import alembic_config, head_revision
from obeya.workspace import Workspace

DATA = Path(__file__).resolve().parent / "data"
DATABASE = DATA / "previous_release_0003.db"
FIXTURE = json.loads((DATA / "previous_release_0003.json").read_text(encoding="utf-8"))
ROWS: dict[str, list[dict[str, Any]]] = FIXTURE["tables"]
PREVIOUS = "0003"
#: The revisions after the previous release, oldest first: the upgrade users run goes through
#: all of them. A release moves them into a new database of that release (data/README.md).
UNRELEASED = ["0004", "0005", "0006", "0007", "0008", "0009"]
STREAM = "Small"


# -- the previous release's database, on either backend ------------------------------------------


@pytest.fixture
def previous_release(empty_database_url: str) -> str:
    """``empty_database_url`` holding the previous release's database, not yet upgraded."""
    url = sa.make_url(empty_database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        shutil.copyfile(DATABASE, url.database)
        return empty_database_url
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), PREVIOUS)
            metadata = sa.MetaData()
            metadata.reflect(connection)
            for name, rows in ROWS.items():  # in the order they can be inserted
                table = metadata.tables[name]
                if rows:
                    connection.execute(table.insert(), [_typed(table, row) for row in rows])
                if "id" in table.columns:  # as if the rows had been inserted one by one
                    sequence = f"pg_get_serial_sequence('{name}', 'id')"
                    connection.execute(sa.text(f"SELECT setval({sequence}, max(id)) FROM {name}"))
    finally:
        engine.dispose()
    return empty_database_url


def _typed(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """A JSON row with its times as datetimes again."""
    return {
        k: datetime.fromisoformat(v) if isinstance(table.c[k].type, sa.DateTime) and v else v
        for k, v in row.items()
    }


# -- reading without the store: every row of every table, and the events --------------------------


def snapshot(url: str, tables: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``tables`` (default: all but alembic_version) by primary key, with times as
    UTC ISO text: what the database holds, read with plain SQL."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            names = tables or [
                t.name for t in metadata.sorted_tables if t.name != "alembic_version"
            ]
            found = {}
            for name in names:
                table = metadata.tables[name]
                rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
                found[name] = [{k: _plain(v) for k, v in r._mapping.items()} for r in rows]
            return found
    finally:
        engine.dispose()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        ).isoformat()
    return value


def checksum(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def events_and_workflow(url: str) -> tuple[EventLog, Workflow]:
    """The stream's events (in the store's order) and workflow, read with plain SQL."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            stream_id, toml = connection.execute(
                sa.text("SELECT id, workflow_toml FROM streams WHERE name = :name"),
                {"name": STREAM},
            ).one()
            rows = connection.execute(
                sa.text(
                    f"SELECT {', '.join(EVENT_SCHEMA.names)} FROM events WHERE stream_id = :id"
                ),
                {"id": stream_id},
            ).mappings()
            ordered = sorted(rows, key=lambda r: (r["item_id"], r["t"], r["seq"]))
    finally:
        engine.dispose()
    table = pa.Table.from_pylist([dict(r) for r in ordered], schema=EVENT_SCHEMA)
    return EventLog(table, source=STREAM), Workflow.from_toml_text(toml)


def report(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "source"}


# -- the tests ---------------------------------------------------------------------------------


def test_the_fixture_is_a_database_of_the_previous_release() -> None:
    assert FIXTURE["revision"] == PREVIOUS
    assert DATABASE.stat().st_size < 300_000
    assert {name: len(rows) for name, rows in ROWS.items()} == {
        "streams": 1,
        "events": 39,
        "imports": 3,
        "maps": 2,
        "records": 5,
        "map_versions": 4,
        "record_versions": 8,
    }
    # The committed file and the JSON rows are the same database.
    assert snapshot(f"sqlite:///{DATABASE}") == ROWS
    # Every revision since the previous release is one this release ships: the upgrade from
    # that database is the one users will run.
    scripts = ScriptDirectory.from_config(alembic_config())
    since: list[str] = []
    revision: str | None = head_revision()
    while revision is not None and revision != PREVIOUS:
        since.insert(0, revision)
        down = scripts.get_revision(revision).down_revision
        revision = down if isinstance(down, str) else None
    assert revision == PREVIOUS and since == UNRELEASED, (
        "a new migration: list it in UNRELEASED, or after a release add a database of that "
        "release (tests/store/data/README.md)"
    )


def test_a_previous_release_database_upgrades_without_loss(previous_release: str) -> None:
    url = previous_release
    workspace = Workspace(url)
    store = workspace.store
    try:
        assert store.schema_revision() == PREVIOUS
        # -- before: what the previous release's database holds, read with plain SQL
        before = snapshot(url)
        assert before == ROWS  # the same rows on SQLite (the file) and PostgreSQL (loaded)
        events_before = checksum(before["events"])
        log_before, workflow = events_and_workflow(url)
        flow_before = analyse_log(log_before, workflow, detail=True).to_dict(detail=True)

        workspace.initialise()  # `obeya init`: upgrade to head
        assert store.schema_revision() == head_revision()

        # -- nothing lost: every row of every old table, unchanged
        after = snapshot(url, list(before))
        assert len(after["events"]) == len(before["events"]) == 39
        assert checksum(after["events"]) == events_before
        for name in before:
            # Columns a later revision added (0007: imports.warnings) are new, null in old rows.
            old = set(before[name][0]) if before[name] else set()
            kept = [{k: v for k, v in row.items() if k in old} for row in after[name]]
            assert kept == before[name], name
        assert {row["warnings"] for row in after["imports"]} == {None}
        assert [
            (i["source"], i["events_in_file"], i["events_added"]) for i in after["imports"]
        ] == [
            ("small-week1.csv", 20, 20),
            ("small.csv", 39, 19),
            ("small.csv", 39, 0),
        ]

        # -- the stream reads back as before: its events, workflow and flow report
        [info] = workspace.streams()
        assert (info.name, info.events) == (STREAM, 39)
        assert info.workflow is not None and info.workflow.to_toml() == workflow.to_toml()
        assert workspace.events(STREAM).table.equals(log_before.table)
        flow_after = workspace.flow(STREAM, detail=True).to_dict(detail=True)
        assert report(flow_after) == report(flow_before)
        # The headline figures, by hand: S-1..S-9 finished, S-10 and S-11 in progress.
        assert flow_after["items"]["finished"] == 9 and flow_after["aging_wip"]["items"] == 2

        # -- every map version: author, message, document
        maps = {(m["name"], m["variant"]): m for m in before["maps"]}
        assert {(m.name, m.variant) for m in workspace.maps()} == set(maps)
        for (name, variant), head in maps.items():
            old = [v for v in before["map_versions"] if v["map_id"] == head["id"]]
            history = workspace.map_history(name, variant)
            assert [(v.version, v.author, v.message) for v in history] == [
                (v["version"], v["author"], v["message"]) for v in old
            ]
            assert [_plain(v.created_at) for v in history] == [v["created_at"] for v in old]
            for v in old:
                stored = workspace.get_map(name, variant, v["version"])
                assert map_to_dict(stored.map) == json.loads(v["document"])
                assert (stored.map.name, stored.map.variant) == (name, variant)
        assert workspace.get_map("Delivery").version.version == 2

        # -- every record version: author, message, document
        for head in before["records"]:
            old = [v for v in before["record_versions"] if v["record_id"] == head["id"]]
            history = workspace.steering.record_history(head["kind"], head["key"])
            assert [(v.version, v.author, v.message, doc) for v, doc in history] == [
                (v["version"], v["author"], v["message"], json.loads(v["document"])) for v in old
            ]
        assert [r.key for r in workspace.steering.records("risk", STREAM)] == ["R-1", "R-2"]

        # -- the new features work on the upgraded database
        workspace.access.add_user("ana", Role.ADMIN, password="correct horse battery")
        workspace.access.add_user("bo", Role.EDITOR, stream=STREAM)
        secret, _ = workspace.access.create_token("bo", label="ci")
        principal = workspace.access.token_principal(secret)
        assert principal.user == "bo" and principal.role_on(STREAM) == Role.EDITOR
        assert workspace.access.check_password("ana", "correct horse battery").name == "ana"
        with acting_as("ana"):
            current = workspace.get_map("Delivery")
            saved = workspace.save_map(
                dataclasses.replace(current.map, notes="after the upgrade"),
                author="someone",
                message="first save after the upgrade",
                expected_version=2,
            )
            workspace.steering.save_record(
                "risk",
                {"key": "R-2", "title": "Risk R-2", "probability": 0.1, "impact": 3},
                author="someone",
                stream=STREAM,
                expected_version=1,
            )
        assert saved.version == 3 and saved.author == "ana"  # the signed-in user is the author
        entries = store.audit_log(stream=STREAM)
        assert [(e.action, e.actor) for e in entries[:2]] == [
            ("record.save", "ana"),
            ("map.save", "ana"),
        ]
        map_entry = entries[1]
        assert map_entry.before == json.loads(before["map_versions"][1]["document"])
        assert map_entry.after["notes"] == "after the upgrade"
        assert {e.action for e in store.audit_log()} >= {"user.add", "user.grant", "token.create"}
        # New rows take new ids (on PostgreSQL the sequences continue after the loaded rows).
        assert workspace.map_history("Delivery")[-1].version == 3
        with pytest.raises(StoreError):  # the stale-edit check still reads the old versions
            workspace.steering.save_record(
                "risk",
                {"key": "R-1", "title": "Risk R-1", "probability": 0.1, "impact": 3},
                author="ana",
                stream=STREAM,
                expected_version=1,
            )
    finally:
        store.close()


# -- 0004 → 0005: grants by stream id, tokens that expire ---------------------------------------


def _at_0004(url: str) -> dict[str, int]:
    """A database at 0004 holding what the first cut of sign-in wrote: streams, users, grants
    by stream name (one naming a deleted stream), tokens with and without an expiry. The ids
    of what it made, by name."""
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "0004")
            metadata = sa.MetaData()
            metadata.reflect(connection)
            t = metadata.tables
            for name in ("Payments", "Support"):
                connection.execute(t["streams"].insert().values(name=name, created_at=now))
            for name in ("ana", "bo"):
                connection.execute(t["users"].insert().values(name=name, created_at=now))
            ids = dict(
                connection.execute(sa.select(t["streams"].c.name, t["streams"].c.id)).tuples().all()
            )
            ids |= dict(
                connection.execute(sa.select(t["users"].c.name, t["users"].c.id)).tuples().all()
            )
            connection.execute(
                t["grants"].insert(),
                [
                    {"user_id": ids["ana"], "stream": "Payments", "role": "admin"},
                    {"user_id": ids["ana"], "stream": None, "role": "viewer"},
                    {"user_id": ids["bo"], "stream": "Gone", "role": "editor"},
                    {"user_id": ids["bo"], "stream": "Support", "role": "viewer"},
                ],
            )
            token = {"user_id": ids["ana"], "kind": "api", "created_at": now, "revoked_at": None}
            connection.execute(
                t["tokens"].insert(),
                [
                    {**token, "label": "forever", "secret_sha256": "a" * 64, "expires_at": None},
                    {**token, "label": "dated", "secret_sha256": "b" * 64, "expires_at": now},
                    {
                        **token,
                        "label": "revoked",
                        "secret_sha256": "c" * 64,
                        "expires_at": None,
                        "revoked_at": now,
                    },
                ],
            )
    finally:
        engine.dispose()
    return ids


def test_0005_moves_grants_to_stream_ids_and_gives_tokens_an_expiry(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _at_0004(empty_database_url)
    with (
        caplog.at_level(logging.WARNING, logger="obeya.store.migrations"),
        Workspace(empty_database_url) as workspace,
    ):
        workspace.initialise()
        assert workspace.store.schema_revision() == head_revision() == UNRELEASED[-1]
        grants = {u.name: u.grants for u in workspace.store.users.all()}
        tokens = {t.label: t for t in workspace.store.tokens.all("ana")}
    dropped = [r.args for r in caplog.records if r.name == "obeya.store.migrations"]
    assert ("bo", "editor", "Gone") in dropped
    assert grants == {
        "ana": (Grant(None, Role.VIEWER), Grant("Payments", Role.ADMIN)),
        "bo": (Grant("Support", Role.VIEWER),),
    }
    rows = snapshot(empty_database_url, ["grants"])["grants"]
    assert sorted((r["user_id"], r["stream_id"] or 0, r["role"]) for r in rows) == sorted(
        [
            (ids["ana"], ids["Payments"], "admin"),
            (ids["ana"], 0, "viewer"),  # the workspace (NULL)
            (ids["bo"], ids["Support"], "viewer"),
        ]
    )
    assert "stream" not in rows[0]
    forever = tokens["forever"].expires_at
    assert forever is not None
    assert abs(forever - (datetime.now(UTC) + timedelta(days=365))) < timedelta(minutes=5)
    assert tokens["dated"].expires_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert tokens["revoked"].expires_at is None  # revoked already: left as it was
    assert snapshot(empty_database_url, ["sign_in_failures"]) == {"sign_in_failures": []}


def test_0005_downgrades_to_stream_names(empty_database_url: str) -> None:
    _at_0004(empty_database_url)
    with Workspace(empty_database_url) as workspace:
        workspace.initialise()
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection=connection), "0004")
    finally:
        engine.dispose()
    rows = snapshot(empty_database_url, ["grants"])["grants"]
    assert sorted((r["stream"] or "", r["role"]) for r in rows) == [
        ("", "viewer"),
        ("Payments", "admin"),
        ("Support", "viewer"),
    ]
