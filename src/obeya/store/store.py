"""The app store: value streams, their event histories, the imports that wrote them, the
audit log and the workspace's settings; the rest in its parts, one attribute each:
``store.maps`` (:mod:`.maps`), ``store.records`` (:mod:`.records`), ``store.users``,
``store.tokens`` and ``store.sign_ins`` (:mod:`.users`), ``store.delivery`` (:mod:`.delivery`)
and ``store.connectors`` (:mod:`.connectors`).

:class:`Store` is the one object the :class:`~obeya.workspace.Workspace` uses to persist data.
It is a thin layer: the schema lives in :mod:`.models` and :mod:`.migrations`, bulk loading in
:mod:`.staging` and bulk reading in :mod:`.reading`. Every write runs in one transaction, so a
failed import leaves the store as it was, and database errors surface as
:class:`~obeya.errors.StoreError` with a message saying what was being done.

A part holds the store and uses its plumbing: :meth:`Store._errors`, :meth:`Store._write`,
:meth:`Store._glance` and the stream lookups (:meth:`Store._require_id`,
:meth:`Store._lock_id`), which only the store's modules call.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from obeya.core.events import EventLog, LogWarning
from obeya.core.workflow import Workflow
from obeya.errors import InputError, NotFoundError, StoreError, named_missing
from obeya.store import migrate, reading, staging
from obeya.store.audit import AuditEntry, read_audit, write_audit
from obeya.store.blockers import Blockers, stamp_columns
from obeya.store.connectors import Connectors
from obeya.store.delivery import Delivery
from obeya.store.engine import WRITE_OPTION, make_engine, parse_url
from obeya.store.maps import Maps
from obeya.store.models import (
    AuditRow,
    BlockerRow,
    ChangeRow,
    ConnectorRow,
    DeploymentRow,
    EventRow,
    GrantRow,
    ImportRow,
    IncidentRow,
    MapRow,
    SettingRow,
    StreamRow,
)
from obeya.store.records import Records
from obeya.store.settings import default_database_url, obeya_home
from obeya.store.users import SignIns, Tokens, Users

#: How long a stream's stamp is remembered (see Store.stream_stamp).
STAMP_SECONDS = 1.0
#: A SQLite store's directory and files are its owner's alone: the database holds password
#: hashes, token digests and (without OBEYA_SECRET_KEY) the key that signs session cookies.
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
#: What SQLite keeps beside the database (it gives them the database file's permissions).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

log = logging.getLogger("obeya.store")


@dataclass(frozen=True)
class StreamInfo:
    """A value stream as stored: its workflow (if set) and the size of its event history."""

    name: str
    workflow: Workflow | None
    events: int
    items: int
    created_at: datetime  # UTC
    #: What its imports kept but flagged (backwards events), newest first, each once.
    warnings: tuple[LogWarning, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ``events_added`` ≤ ``events_in_file``; 0 for a repeated import."""

    events_in_file: int
    events_added: int
    stream: StreamInfo
    warnings: tuple[LogWarning, ...] = ()  # what the file's reader kept but flagged


class Store:
    """The app store at ``url`` (default: :func:`~obeya.store.settings.default_database_url`).

    Opening a store does not touch the schema; call :meth:`initialise` once (it is cheap and
    idempotent) before using a new database.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url if url is not None else default_database_url()
        _private_sqlite_files(self.url)
        self.engine: Engine = make_engine(self.url)
        self._dbapi_error: type[Exception] = self.engine.dialect.loaded_dbapi.Error
        #: Write transactions this store object has run (or tried): what a memory of this
        #: store's reads (stream stamps here, tokens in the workspace) compares to know it
        #: may be stale.
        self.writes = 0
        self._stamps: dict[str, tuple[tuple[Any, ...], float, int]] = {}
        #: Saved value stream maps, their variants and versions.
        self.maps = Maps(self)
        #: Steering records (risks, objectives, teams...), their versions.
        self.records = Records(self)
        #: Users and their grants (roles per stream).
        self.users = Users(self)
        #: API tokens and sign-in links.
        self.tokens = Tokens(self)
        #: The wrong-password counts of sign-ins (:mod:`obeya.auth.ratelimit`).
        self.sign_ins = SignIns(self)
        #: Deployments, changes and incidents per stream.
        self.delivery = Delivery(self)
        #: When items were blocked, and why.
        self.blockers = Blockers(self)
        #: Live connectors to trackers, and their syncs stored all or nothing.
        self.connectors = Connectors(self)

    # -- lifecycle --------------------------------------------------------------------------

    def initialise(self) -> None:
        """Create or migrate the schema to the newest revision."""
        with self._errors("migrating the app store", writing=True):
            migrate.upgrade(self.engine)

    def schema_revision(self) -> str | None:
        """The schema revision of the database; None if :meth:`initialise` never ran."""
        with self._errors("reading the schema revision"), self.engine.connect() as connection:
            return migrate.current_revision(connection)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- streams ----------------------------------------------------------------------------

    def create_stream(self, name: str, workflow: Workflow | None = None) -> StreamInfo:
        """Create an empty stream; StoreError if one of that name exists."""
        with (
            self._errors(f"creating value stream {name!r}", writing=True),
            self._write() as connection,
        ):
            self._insert_stream(connection, name, workflow)
            write_audit(
                connection, "stream.create", name, stream=name, after={"workflow": _toml(workflow)}
            )
            return self._info(connection, name)

    def get_stream(self, name: str) -> StreamInfo:
        """The stream ``name``; NotFoundError (listing the streams there are) if none."""
        with self._errors(f"reading value stream {name!r}"), self.engine.connect() as connection:
            return self._info(connection, name)

    def list_streams(self) -> list[StreamInfo]:
        """Every stream, by name."""
        with self._errors("listing value streams"), self.engine.connect() as connection:
            counts = (
                select(
                    EventRow.stream_id,
                    func.count().label("event_count"),
                    func.count(EventRow.item_id.distinct()).label("item_count"),
                )
                .group_by(EventRow.stream_id)
                .subquery()
            )
            rows = connection.execute(
                select(*_STREAM_COLUMNS, counts.c.event_count, counts.c.item_count)
                .outerjoin(counts, counts.c.stream_id == StreamRow.id)
                .order_by(StreamRow.name)
            )
            return [_stream_info(*row) for row in rows]

    def stream_stamp(self, name: str) -> tuple[Any, ...]:
        """What changes whenever the stream's events or workflow change, read without
        touching the events: the stream's row (id, creation time, workflow) and its imports
        (how many, the events they added, the newest, its id). Every write of events records
        an import, so equal stamps mean equal events; a report cache keys on this rather than
        on counting millions of events.

        Every request of a dashboard asks this, so it is remembered for
        :data:`STAMP_SECONDS`: a write through this store is seen at once (any write ends the
        memory), one by another process (an import from the CLI, another server worker)
        within those seconds.
        """
        now = time.monotonic()
        hit = self._stamps.get(name)
        if hit is not None and now < hit[1] and hit[2] == self.writes:
            return hit[0]
        writes = self.writes
        stamp = self._read_stamp(name)
        if len(self._stamps) >= 10_000:
            self._stamps.clear()
        self._stamps[name] = (stamp, now + STAMP_SECONDS, writes)
        return stamp

    def _read_stamp(self, name: str) -> tuple[Any, ...]:
        with self._errors(f"reading value stream {name!r}"), self._glance() as connection:
            # One round trip: every request of a dashboard asks this first.
            found = connection.execute(
                select(
                    StreamRow.id,
                    *_STREAM_COLUMNS,
                    func.count(ImportRow.id),
                    func.sum(ImportRow.events_added),
                    func.max(ImportRow.imported_at),
                    func.max(ImportRow.id),
                    # Blockers change the flow report (its ``blocked`` block) too.
                    *stamp_columns(StreamRow.id),
                )
                .outerjoin(ImportRow, ImportRow.stream_id == StreamRow.id)
                .where(StreamRow.name == name)
                .group_by(StreamRow.id, *_STREAM_COLUMNS)
            ).one_or_none()
            if found is None:
                self._require_id(connection, name)  # NotFoundError naming the streams
                raise NotFoundError(f"no value stream named {name!r}")  # pragma: no cover
        return tuple(found)

    def stream_workflow(self, name: str) -> Workflow | None:
        """The stream's workflow, read without counting its events."""
        with self._errors(f"reading value stream {name!r}"), self.engine.connect() as connection:
            stream_id = self._require_id(connection, name)
            text = connection.execute(
                select(StreamRow.workflow_toml).where(StreamRow.id == stream_id)
            ).scalar_one()
        return None if text is None else Workflow.from_toml_text(text, source=f"stream {name!r}")

    def stream_id(self, name: str) -> int:
        """The database id of stream ``name``, for code that queries the events table directly
        (table ``events``, column ``stream_id``) through :attr:`engine`."""
        with self._errors(f"reading value stream {name!r}"), self.engine.connect() as connection:
            return self._require_id(connection, name)

    def set_workflow(self, name: str, workflow: Workflow | None) -> StreamInfo:
        """Replace the stream's workflow (None removes it)."""
        with (
            self._errors(f"setting the workflow of {name!r}", writing=True),
            self._write() as connection,
        ):
            stream_id = self._require_id(connection, name)
            before = connection.execute(
                select(StreamRow.workflow_toml).where(StreamRow.id == stream_id)
            ).scalar_one()
            connection.execute(
                update(StreamRow)
                .where(StreamRow.id == stream_id)
                .values(workflow_toml=_toml(workflow))
            )
            write_audit(
                connection,
                "stream.workflow",
                name,
                stream=name,
                before={"workflow": before},
                after={"workflow": _toml(workflow)},
            )
            return self._info(connection, name)

    def delete_stream(self, name: str) -> None:
        """Delete the stream with its events and import history."""
        with (
            self._errors(f"deleting value stream {name!r}", writing=True),
            self._write() as connection,
        ):
            # Locked first, as an import locks it (:meth:`_lock_id`): a delete waits for an
            # import in progress, then counts and deletes what it stored.
            stream_id = self._lock_id(connection, name)
            info = self._info(connection, name)  # NotFoundError, naming the streams
            assert stream_id is not None
            write_audit(
                connection,
                "stream.delete",
                name,
                stream=name,
                before={
                    "events": info.events,
                    "items": info.items,
                    "workflow": _toml(info.workflow),
                },
            )
            # Explicit deletes rather than ON DELETE CASCADE: correct even on a SQLite
            # connection opened elsewhere with foreign keys off.
            # Its grants go with it: a new stream of the same name starts with none.
            # Its delivery records, blockers and connectors go with it too.
            for table in (
                EventRow,
                BlockerRow,
                ImportRow,
                GrantRow,
                DeploymentRow,
                ChangeRow,
                IncidentRow,
                ConnectorRow,
            ):
                connection.execute(delete(table).where(table.stream_id == stream_id))
            # Its maps stay, no longer linked to a stream (ON DELETE SET NULL, made explicit).
            connection.execute(
                update(MapRow).where(MapRow.stream_id == stream_id).values(stream_id=None)
            )
            connection.execute(delete(StreamRow).where(StreamRow.id == stream_id))

    def rename_stream(self, name: str, new_name: str) -> StreamInfo:
        """Rename a stream. Everything it holds (events, grants, maps, records, delivery
        records, connectors) is linked by id and follows; its audit entries, kept by name,
        are moved to the new name too, so its history stays with it and a new stream of the
        old name starts with none."""
        new_name = new_name.strip()
        with (
            self._errors(f"renaming value stream {name!r}", writing=True),
            self._write() as connection,
        ):
            stream_id = self._require_id(connection, name)
            if not new_name:
                raise InputError("a value stream needs a name that is not blank", field="name")
            if new_name == name:
                return self._info(connection, name)
            if self._lock_id(connection, new_name) is not None:
                raise StoreError(f"value stream {new_name!r} already exists")
            connection.execute(
                update(StreamRow).where(StreamRow.id == stream_id).values(name=new_name)
            )
            connection.execute(
                update(AuditRow).where(AuditRow.stream == name).values(stream=new_name)
            )
            write_audit(
                connection,
                "stream.rename",
                new_name,
                stream=new_name,
                before={"name": name},
                after={"name": new_name},
            )
            return self._info(connection, new_name)

    # -- events -----------------------------------------------------------------------------

    def append_events(
        self,
        name: str,
        log: EventLog,
        *,
        source: str,
        sha256: str | None = None,
        create: bool = True,
        workflow: Workflow | None = None,
    ) -> ImportResult:
        """Add the events of ``log`` that the stream lacks, all or nothing.

        An event already stored (same ``item_id``, ``t`` and ``state``) is skipped, so importing
        the same file twice adds nothing the second time; see :mod:`.staging` for how ``seq``
        continues. Every import, even one adding nothing, is recorded in the ``imports`` table
        with ``source`` and ``sha256`` (of the file, if the caller knows it).

        A stream that does not exist is created if ``create`` (NotFoundError otherwise).
        ``workflow``, if given, becomes the stream's workflow in the same transaction.
        """
        doing = f"importing {source} into value stream {name!r}"
        with self._errors(doing, writing=True), self._write() as connection:
            return self._append(connection, name, log, source, sha256, create, workflow)

    def _append(
        self,
        connection: Connection,
        name: str,
        log: EventLog,
        source: str,
        sha256: str | None = None,
        create: bool = True,
        workflow: Workflow | None = None,
    ) -> ImportResult:
        """:meth:`append_events` in ``connection``'s transaction (a sync stores more beside)."""
        stream_id = self._lock_id(connection, name)
        if stream_id is None:
            if not create:
                self._require_id(connection, name)  # raises NotFoundError
            stream_id = self._insert_stream(connection, name, workflow)
        elif workflow is not None:
            connection.execute(
                update(StreamRow)
                .where(StreamRow.id == stream_id)
                .values(workflow_toml=_toml(workflow))
            )
        staging.stage(connection, log.table)
        added = staging.merge(connection, stream_id)
        connection.execute(
            insert(ImportRow).values(
                stream_id=stream_id,
                source=source,
                sha256=sha256,
                events_in_file=log.num_events,
                events_added=added,
                imported_at=datetime.now(UTC),
                warnings=(
                    json.dumps([w.to_dict() for w in log.warnings]) if log.warnings else None
                ),
            )
        )
        info = self._info(connection, name)
        write_audit(
            connection,
            "stream.import",
            name,
            stream=name,
            before={"events": info.events - added},
            after={
                "events": info.events,
                "source": source,
                "sha256": sha256,
                "events_in_file": log.num_events,
                "events_added": added,
            },
        )
        return ImportResult(
            events_in_file=log.num_events, events_added=added, stream=info, warnings=log.warnings
        )

    def load_events(self, name: str, *, types: Sequence[str] | None = None) -> EventLog:
        """The stream's events ordered by (item_id, t, seq), strings by code point.

        ``types`` keeps only events whose ``type`` is one of them (events without a type are
        then left out).
        """
        with self._errors(f"loading value stream {name!r}"), self.engine.connect() as connection:
            stream_id = self._require_id(connection, name)
            table = reading.fetch_events(connection, stream_id, types)
        return EventLog(table, source=f"value stream {name!r}")

    # -- audit ------------------------------------------------------------------------------

    def audit_log(
        self, *, stream: str | None = None, actor: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The newest ``limit`` changes (of ``stream``, by ``actor``), newest first."""
        with self._errors("reading the audit log"), self.engine.connect() as connection:
            return read_audit(connection, stream=stream, actor=actor, limit=limit)

    # -- settings ---------------------------------------------------------------------------

    def setting(self, key: str, make: Callable[[], str]) -> str:
        """The setting ``key``; made with ``make()`` and kept the first time it is asked for
        (two processes asking at once agree on one value)."""
        with self._errors(f"reading setting {key!r}"), self.engine.connect() as c:
            found = c.execute(select(SettingRow.value).where(SettingRow.key == key)).scalar()
        if found is not None:
            return found
        try:
            with self._errors(f"saving setting {key!r}", writing=True), self._write() as c:
                c.execute(insert(SettingRow).values(key=key, value=make()))
        except StoreError as error:
            if not isinstance(error.__cause__, IntegrityError):
                raise  # pragma: no cover - a real failure, not a lost race
        with self.engine.connect() as c:
            return c.execute(select(SettingRow.value).where(SettingRow.key == key)).scalar_one()

    # -- internals --------------------------------------------------------------------------

    @contextmanager
    def _glance(self) -> Iterator[Connection]:
        """A connection for the few one-statement reads every request makes (the stream's
        stamp, a token): on PostgreSQL outside a transaction, which saves the BEGIN and
        ROLLBACK round trips around each."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that will write (on SQLite, it takes the write lock at BEGIN)."""
        try:
            with self.engine.connect() as connection:
                connection = connection.execution_options(**{WRITE_OPTION: True})
                with connection.begin():
                    yield connection
        finally:
            self.writes += 1  # what was read before may be stale

    @contextmanager
    def _errors(self, doing: str, *, writing: bool = False) -> Iterator[None]:
        """Turn database failures into StoreError; a write has been rolled back by then."""
        try:
            yield
        except (SQLAlchemyError, self._dbapi_error) as exc:
            detail = getattr(exc, "orig", None) or exc
            outcome = "; nothing was changed" if writing else ""
            raise StoreError(f"failed {doing}{outcome}: {detail}") from exc

    def _insert_stream(self, connection: Connection, name: str, workflow: Workflow | None) -> int:
        if not name.strip():
            raise InputError("a value stream needs a name that is not blank")
        if self._lock_id(connection, name) is not None:
            raise StoreError(f"value stream {name!r} already exists")
        return connection.execute(
            insert(StreamRow)
            .values(name=name, workflow_toml=_toml(workflow), created_at=datetime.now(UTC))
            .returning(StreamRow.id)
        ).scalar_one()

    def _lock_id(self, connection: Connection, name: str) -> int | None:
        """The stream's id, row-locked on PostgreSQL so concurrent imports queue (SQLite
        serialises writers at BEGIN IMMEDIATE instead)."""
        query = select(StreamRow.id).where(StreamRow.name == name).with_for_update()
        return connection.execute(query).scalar_one_or_none()

    def _require_id(self, connection: Connection, name: str) -> int:
        stream_id = connection.execute(
            select(StreamRow.id).where(StreamRow.name == name)
        ).scalar_one_or_none()
        if stream_id is None:
            names = connection.execute(select(StreamRow.name).order_by(StreamRow.name)).scalars()
            raise named_missing("value stream", name, list(names), "streams")
        return stream_id

    def _info(self, connection: Connection, name: str) -> StreamInfo:
        stream_id = self._require_id(connection, name)
        name, workflow_toml, created_at = connection.execute(
            select(*_STREAM_COLUMNS).where(StreamRow.id == stream_id)
        ).one()
        events, items = connection.execute(
            select(func.count(), func.count(EventRow.item_id.distinct())).where(
                EventRow.stream_id == stream_id
            )
        ).one()
        stored = connection.execute(
            select(ImportRow.warnings)
            .where(ImportRow.stream_id == stream_id, ImportRow.warnings.is_not(None))
            .order_by(ImportRow.id.desc())
            .limit(MAX_WARNINGS)
        ).scalars()
        warnings = {
            w.message: w
            for text in stored
            for w in map(LogWarning.from_dict, json.loads(text or "[]"))
        }
        info = _stream_info(name, workflow_toml, created_at, events, items)
        return dataclasses.replace(info, warnings=tuple(warnings.values()))


#: Most imports whose warnings a stream's info reads (the newest).
MAX_WARNINGS = 20
#: The stored columns of a stream that StreamInfo shows, in _stream_info's argument order.
_STREAM_COLUMNS = (StreamRow.name, StreamRow.workflow_toml, StreamRow.created_at)


def _private_sqlite_files(url: str) -> None:
    """Make a SQLite store's files private to their owner, whatever the umask: a new
    directory 0700 (and the ``OBEYA_HOME`` directory, if it was more open), the database file
    created 0600 before SQLite opens it (SQLite then gives its -wal, -shm and -journal files
    the same mode), and any of them found more open tightened, with a log line."""
    parsed = parse_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    path = Path(database).expanduser()
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
        os.chmod(directory, PRIVATE_DIRECTORY)  # exactly, whatever the umask took off
    elif directory.resolve() == obeya_home().resolve():
        _tighten(directory, PRIVATE_DIRECTORY)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
        os.chmod(path, PRIVATE_FILE)  # the umask may have taken bits off, never added
    except FileExistsError:
        pass
    for file in (path, *(path.with_name(path.name + side) for side in SQLITE_SIDE_FILES)):
        if file.exists():
            _tighten(file, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    current = path.stat().st_mode & 0o777
    if current & ~mode:
        try:
            os.chmod(path, mode)
        except OSError as error:  # not ours: say so, the owner must fix it
            log.warning(
                "%s is %04o, readable by others; could not change it: %s", path, current, error
            )
            return
        log.warning("%s was %04o, readable by other local users; made it %04o", path, current, mode)


def _toml(workflow: Workflow | None) -> str | None:
    return workflow.to_toml() if workflow is not None else None


def _stream_info(
    name: str,
    workflow_toml: str | None,
    created_at: datetime,
    events: int | None,
    items: int | None,
) -> StreamInfo:
    workflow = (
        Workflow.from_toml_text(workflow_toml, f"workflow of value stream {name!r}")
        if workflow_toml is not None
        else None
    )
    # SQLite keeps no offset and PostgreSQL answers in the session's zone; the store writes UTC.
    created_at = (
        created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at.astimezone(UTC)
    )
    return StreamInfo(
        name=name,
        workflow=workflow,
        events=int(events or 0),
        items=int(items or 0),
        created_at=created_at,
    )
