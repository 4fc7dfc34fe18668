"""Steering records in the app store: risks, objectives, teams, people, improvements... each a
JSON document identified by its ``kind``, its stream and its ``key``, saved in versions. A key
is unique per kind in its stream (R-1 of one stream and R-1 of another are two risks); records
of no stream (teams, people, stream profiles) are unique by kind and key among themselves.

Like maps, a record is never overwritten: every save adds a version holding the whole document
with who saved it, why and when, so the versions are the audit trail (before and after of
every change). A save may name the version it was based on (``expected_version``, 0 for a new
record): when someone else saved since, it is refused and nothing is written (optimistic
concurrency). The store does not know what a risk is; the core validates documents
(:mod:`obeya.core.steering`) before the workspace saves them.

:class:`Records` is the ``records`` part of :class:`~obeya.store.store.Store`; every write is
one transaction.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from obeya.errors import InputError, NotFoundError, StoreError, VersionConflict
from obeya.store.audit import ACTOR
from obeya.store.models import RecordRow, RecordVersionRow, StreamRow
from obeya.store.versioning import Versioned, utc

if TYPE_CHECKING:
    from obeya.store.store import Store


class AnyStream(enum.Enum):
    ANY = "any"


#: Look a record up in whichever stream holds its key, when exactly one does (the CLI's
#: ``steering show risk R-1``); several: InputError asking for the stream.
ANY_STREAM = AnyStream.ANY
#: Where a record is looked up: a stream's name, None (the records of no stream) or
#: :data:`ANY_STREAM`.
StreamRef = str | None | Literal[AnyStream.ANY]


@dataclass(frozen=True)
class RecordVersion:
    """One saved version: who, when, why, and the fields it changed (empty for version 1)."""

    kind: str
    key: str
    version: int
    author: str
    message: str
    created_at: datetime  # UTC
    changes: tuple[str, ...] = ()
    stream: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "stream": self.stream,
            "version": self.version,
            "author": self.author,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class RecordSave:
    """One record to save: its document, its stream (None: a record of no stream) and,
    optionally, the version the change was made on (see :meth:`Records.save`)."""

    kind: str
    key: str
    document: dict[str, Any]
    stream: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class StoredRecord:
    """A record as saved: its document, the version it is, and its stream."""

    kind: str
    key: str
    document: dict[str, Any]
    version: RecordVersion
    stream: str | None


class Records:
    """The steering records (``store.records``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(
        self,
        kind: str,
        key: str,
        document: dict[str, Any],
        *,
        author: str,
        message: str = "",
        stream: str | None = None,
        expected_version: int | None = None,
    ) -> RecordVersion:
        """Save ``document`` as the next version of record ``kind``/``key`` of ``stream``
        (None: the record of no stream with that key).

        ``expected_version``: the version the change was made on (0 for a new record); at
        another version, VersionConflict says who saved it when, and nothing is saved.
        """
        item = RecordSave(kind, key, document, stream, expected_version)
        return self.save_many([item], author=author, message=message)[0]

    def save_many(
        self, items: Sequence[RecordSave], *, author: str, message: str = ""
    ) -> list[RecordVersion]:
        """Save several records in one transaction: all of them, or none when one fails.
        In a signed-in request the author is the signed-in user."""
        author = ACTOR.get() or author
        if not author.strip():
            raise InputError("saving records: give the author's name")
        for item in items:
            if not item.key.strip():
                raise InputError(f"saving a {item.kind}: give it a key (a short name or id)")
        doing = (
            f"saving {_label(items[0].kind, items[0].key)}"
            if len(items) == 1
            else f"saving {len(items)} records"
        )
        with self._store._errors(doing, writing=True):
            try:
                with self._store._write() as connection:
                    now = datetime.now(UTC)
                    return [self._save(connection, item, author, message, now) for item in items]
            except IntegrityError as error:
                # Another writer added the same key between our check and our insert
                # (PostgreSQL; SQLite serialises writers): an "add" that found it taken.
                if len(items) != 1:
                    raise
                raise _taken(items[0]) from error

    def _save(
        self, connection: Connection, item: RecordSave, author: str, message: str, now: datetime
    ) -> RecordVersion:
        stream_id = self._store._require_id(connection, item.stream) if item.stream else None
        version, changes = _RECORDS.save(
            connection,
            {"kind": item.kind, "key": item.key, "stream_id": stream_id},
            item.document,
            label=_label(item.kind, item.key),
            author=author,
            message=message,
            stream_id=stream_id,
            expected_version=item.expected_version,
            now=now,
        )
        return RecordVersion(
            item.kind, item.key, version, author, message, now, changes, item.stream
        )

    def get(
        self, kind: str, key: str, version: int | None = None, *, stream: StreamRef = ANY_STREAM
    ) -> StoredRecord:
        """The newest version of the record (or ``version``) of ``stream``; NotFoundError if
        there is none."""
        label = _label(kind, key)
        with self._store._errors(f"reading {label}"), self._store.engine.connect() as connection:
            record_id, current, found = _require_record(connection, kind, key, stream)
            wanted = current if version is None else version
            row = _RECORDS.version(connection, record_id, wanted)
            if row is None:
                raise NotFoundError(f"{label} has no version {wanted}; it has 1 to {current}")
        info = RecordVersion(
            kind, key, wanted, row.author, row.message, utc(row.created_at), stream=found
        )
        return StoredRecord(kind, key, json.loads(row.document), info, found)

    def keys(self, kind: str, stream: str | None) -> list[str]:
        """The keys of the records of ``kind`` in ``stream`` (None: of no stream)."""
        with (
            self._store._errors(f"listing {kind} keys"),
            self._store.engine.connect() as connection,
        ):
            query = select(RecordRow.key).where(RecordRow.kind == kind)
            if stream is None:
                query = query.where(RecordRow.stream_id.is_(None))
            else:
                query = query.where(
                    RecordRow.stream_id == self._store._require_id(connection, stream)
                )
            return list(connection.execute(query.order_by(RecordRow.key)).scalars())

    def all(self, kind: str, *, stream: str | None = None) -> list[StoredRecord]:
        """The newest version of every record of ``kind`` (of ``stream`` only, if given), by
        key."""
        with (
            self._store._errors(f"listing {kind} records"),
            self._store.engine.connect() as connection,
        ):
            query = (
                select(
                    RecordRow.key,
                    RecordRow.current_version,
                    StreamRow.name.label("stream"),
                    RecordVersionRow.document,
                    RecordVersionRow.author,
                    RecordVersionRow.message,
                    RecordVersionRow.created_at,
                )
                .join(
                    RecordVersionRow,
                    (RecordVersionRow.record_id == RecordRow.id)
                    & (RecordVersionRow.version == RecordRow.current_version),
                )
                .outerjoin(StreamRow, StreamRow.id == RecordRow.stream_id)
                .where(RecordRow.kind == kind)
                .order_by(RecordRow.key)
            )
            if stream is not None:
                query = query.where(
                    RecordRow.stream_id == self._store._require_id(connection, stream)
                )
            rows = connection.execute(query).all()
        return [
            StoredRecord(
                kind,
                r.key,
                json.loads(r.document),
                RecordVersion(
                    kind, r.key, r.current_version, r.author, r.message, utc(r.created_at)
                ),
                r.stream,
            )
            for r in rows
        ]

    def stream_of(self, kind: str, key: str, stream: StreamRef = ANY_STREAM) -> str | None:
        """The stream the record belongs to (None: no stream), read without its document;
        NotFoundError if there is no such record (InputError: several streams hold the key
        and ``stream`` is :data:`ANY_STREAM`)."""
        with self._store._errors(f"reading {_label(kind, key)}"), self._store.engine.connect() as c:
            return _require_record(c, kind, key, stream)[2]

    def history(
        self, kind: str, key: str, *, stream: StreamRef = ANY_STREAM
    ) -> list[tuple[RecordVersion, dict[str, Any]]]:
        """Every version of the record, oldest first, with the fields each changed and the
        document it saved (the before and after of every change)."""
        label = _label(kind, key)
        with (
            self._store._errors(f"reading the history of {label}"),
            self._store.engine.connect() as c,
        ):
            record_id, _, found = _require_record(c, kind, key, stream)
            rows = _RECORDS.history(c, record_id)
        return [
            (
                RecordVersion(
                    kind, key, r.version, r.author, r.message, utc(r.created_at), changes, found
                ),
                json.loads(r.document),
            )
            for r, changes in zip(rows, _RECORDS.changes(rows), strict=True)
        ]

    def move(self, kind: str, key: str, to: str | None, *, stream: StreamRef = ANY_STREAM) -> None:
        """Move the record of ``stream`` to stream ``to`` (None: to no stream); refused when
        ``to`` has a record of that kind and key already."""
        label = _label(kind, key)
        with self._store._errors(f"moving {label}", writing=True):
            try:
                with self._store._write() as connection:
                    record_id, _, _ = _require_record(connection, kind, key, stream)
                    target = self._store._require_id(connection, to) if to is not None else None
                    _RECORDS.move(connection, [record_id], target, label)
            except IntegrityError:
                where = f"value stream {to!r}" if to is not None else "no value stream"
                raise StoreError(
                    f"moving {label}: {where} has a {kind} {key!r} already; nothing was "
                    "changed (rename one of them first)"
                ) from None

    def delete(self, kind: str, key: str, *, stream: StreamRef = ANY_STREAM) -> None:
        """Delete the record and all its versions."""
        label = _label(kind, key)
        with (
            self._store._errors(f"deleting {label}", writing=True),
            self._store._write() as connection,
        ):
            record_id, _, _ = _require_record(connection, kind, key, stream)
            _RECORDS.delete(connection, record_id, label)


def _require_record(
    connection: Connection, kind: str, key: str, stream: StreamRef
) -> tuple[int, int, str | None]:
    """The record's id, newest version and stream name; NotFoundError naming the keys of
    the same stream (never another stream's)."""
    query = (
        select(RecordRow.id, RecordRow.current_version, StreamRow.name)
        .outerjoin(StreamRow, StreamRow.id == RecordRow.stream_id)
        .where(RecordRow.kind == kind, RecordRow.key == key)
        .order_by(StreamRow.name)
    )
    keys = select(RecordRow.key).where(RecordRow.kind == kind).order_by(RecordRow.key)
    where = ""
    if stream is None:
        query = query.where(RecordRow.stream_id.is_(None))
        keys = keys.where(RecordRow.stream_id.is_(None))
    elif stream is not ANY_STREAM:
        query = query.where(StreamRow.name == stream)
        keys = keys.join(StreamRow, StreamRow.id == RecordRow.stream_id).where(
            StreamRow.name == stream
        )
        where = f" in value stream {stream!r}"
    rows = connection.execute(query).all()
    if len(rows) > 1:
        streams = ", ".join(repr(r[2]) if r[2] is not None else "no stream" for r in rows)
        raise InputError(
            f"{kind} {key!r} is in several value streams ({streams}); name the stream",
            field="stream",
        )
    if not rows:
        known = connection.execute(keys).scalars()
        raise NotFoundError(
            f"no {kind} {key!r}{where}", what=kind, key=key, known=[repr(k) for k in known]
        )
    row = rows[0]
    return int(row[0]), int(row[1]), row[2]


def _label(kind: str, key: str) -> str:
    return f"{kind} {key!r}"


def _taken(item: RecordSave) -> VersionConflict:
    where = f" in value stream {item.stream!r}" if item.stream else ""
    return VersionConflict(
        f"{_label(item.kind, item.key)}{where} was just added by someone else; nothing was "
        "saved: reload, and pick another key or change that one",
        kind=item.kind,
        key=item.key,
        expected=item.expected_version or 0,
        current=1,
    )


_RECORDS = Versioned(RecordRow, RecordVersionRow, "record_id", "record")
