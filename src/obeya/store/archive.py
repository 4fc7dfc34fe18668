"""Export and restore: a whole workspace, or some of its streams, as one versioned archive.

An archive (format version 1) is a zip file, by convention named ``NAME.obeya.zip``::

    manifest.json          what the archive is; read first, refused when unknown
    streams.jsonl          one JSON object a line (UTF-8), fields below
    imports.jsonl
    maps.jsonl
    map_versions.jsonl
    records.jsonl
    record_versions.jsonl
    deployments.jsonl      delivery records (their times integer microseconds, as events')
    changes.jsonl
    incidents.jsonl
    events.parquet         every event (Parquet, zstd), written and read in batches

``manifest.json``::

    {"format": "obeya-archive", "format_version": 1,
     "schema_revision": "0003",              the store's Alembic revision at export
     "created_at": "2026-12-01T09:30:00.123456+00:00", "obeya_version": "0.1.0",
     "scope": "workspace" | "streams",       everything, or only the streams listed
     "streams": ["Support", "VINST incidents"],
     "members": {"events.parquet": {"table": "events", "rows": 65533, "bytes": 1048576,
                                    "sha256": "…"}, …}}

``bytes`` (the member's size uncompressed) is written since it was added to format 1; an
archive without it still restores.

Surrogate ids never leave the store, so an archive restores into a store that holds other
data: a stream is written by name and referred to by name, a map by ``(name, variant)``, a
record by ``(kind, stream, key)`` (keys are unique per stream; an archive written before
``record_versions`` carried the stream matches a version to the one record of its kind and
key). Times are UTC ISO 8601 with microseconds; event times stay integer
microseconds since the epoch, as in the store. The fields of each member:

=================  ======================================================================
streams            name, workflow_toml, created_at
imports            stream, source, sha256, events_in_file, events_added, imported_at, warnings
maps               name, variant, stream, current_version, created_at, updated_at
map_versions       name, variant, version, document, author, message, created_at
records            kind, key, stream, current_version, created_at, updated_at
record_versions    kind, key, stream, version, document, author, message, created_at
deployments        stream, deployment_id, environment, finished_at, result
changes            stream, change_id, committed_at, deployment_id
incidents          stream, incident_id, created_at, resolved_at, deployment_id
events             stream, item_id, state, t, copy, seq, created, type, title, team, assignee
=================  ======================================================================

``document`` is the stored JSON text, byte for byte; ``seq`` and ``copy`` are kept, so a
restored stream is the same history (a later re-import of a file skips the same events).

Scope: an export of some streams holds their events and imports, the maps linked to them and
their records; maps and records linked to no stream (teams, people, unlinked maps) belong to
the workspace and are only in a whole-workspace export.

Restore is all or nothing, in one transaction. It refuses, naming the archive and the reason:
a file that is not an archive, another format or format version, a member whose sha256, row
count or size differs from the manifest, an archive from a schema revision this Obeya does not
know (newer: upgrade Obeya), and streams, maps or records the store has already (by name),
unless ``replace``. An archive is trusted no further than a file being imported: a member larger
than its limit (:class:`~obeya.ingest.limits.IngestLimits`: a JSON Lines table
``max_archive_table_bytes``; the events no more than they occupy in the zip when stored, else
``max_decompressed_bytes``; and never more than the manifest's ``bytes``) is refused from the
zip's directory before extraction and, since that can lie, again while it streams; and every
workflow, map and record document is parsed by the core's checks, as a save would, and every
event time checked against the supported span, before the store is touched (a ParseError names
the member, row and field). With ``replace``, each stream, map or record the store has already
is emptied and filled from the archive (a replaced stream keeps the maps and records of the
store that are linked to it). An archive from an older revision
restores: format 1 fixes each member's fields whatever the revision, tables the older schema
lacked are simply absent, and a field a later revision added may be missing when its column
may be null.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, delete, func, insert, select, update

from obeya.core.events import (
    EARLIEST_MICROS,
    LATEST_MICROS,
    SUPPORTED_SPAN,
    LogWarning,
    unsupported_times,
)
from obeya.core.maps.files import map_from_dict
from obeya.core.steering import kinds
from obeya.core.workflow import Workflow
from obeya.errors import InputError, ParseError, StoreError
from obeya.ingest.arrays import first_true
from obeya.ingest.limits import (
    BoundedReader,
    IngestLimits,
    TooLarge,
    current_limits,
    describe_bytes,
)
from obeya.store import migrate
from obeya.store.audit import write_audit
from obeya.store.models import (
    ChangeRow,
    DeploymentRow,
    EventRow,
    ImportRow,
    IncidentRow,
    MapRow,
    MapVersionRow,
    RecordRow,
    RecordVersionRow,
    StreamRow,
)
from obeya.store.versioning import utc

if TYPE_CHECKING:
    from obeya.store.store import Store

FORMAT = "obeya-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVENTS_MEMBER = "events.parquet"

#: Events per batch read from the store, written to Parquet and inserted on restore.
BATCH_ROWS = 100_000

Progress = Callable[[int, int], None]

#: The events member's columns: the events table's, with the stream by name and no ids.
EVENT_COLUMNS: tuple[str, ...] = (
    "item_id",
    "state",
    "t",
    "copy",
    "seq",
    "created",
    "type",
    "title",
    "team",
    "assignee",
)
ARCHIVE_EVENT_SCHEMA = pa.schema(
    [
        pa.field("stream", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("t", pa.int64(), nullable=False),
        pa.field("copy", pa.int32(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("created", pa.int64()),
        pa.field("type", pa.string()),
        pa.field("title", pa.string()),
        pa.field("team", pa.string()),
        pa.field("assignee", pa.string()),
    ]
)
_STRING_EVENT_COLUMNS = [c for c in EVENT_COLUMNS if c not in ("t", "copy", "seq", "created")]


@dataclass(frozen=True)
class _Table:
    """A small table's JSON Lines member: its fields in order, and which may be null."""

    table: str
    fields: tuple[str, ...]
    nullable: frozenset[str] = frozenset()
    times: frozenset[str] = frozenset({"created_at"})
    #: Fields that are integer microseconds since the epoch (UTC), in the supported span.
    micros: frozenset[str] = frozenset()

    @property
    def member(self) -> str:
        return f"{self.table}.jsonl"


_VERSION_FIELDS = ("version", "document", "author", "message", "created_at")
TABLES: tuple[_Table, ...] = (
    _Table("streams", ("name", "workflow_toml", "created_at"), frozenset({"workflow_toml"})),
    _Table(
        "imports",
        (
            "stream",
            "source",
            "sha256",
            "events_in_file",
            "events_added",
            "imported_at",
            "warnings",  # JSON text, as stored (LogWarning.to_dict); null: none
        ),
        frozenset({"sha256", "warnings"}),
        frozenset({"imported_at"}),
    ),
    _Table(
        "maps",
        ("name", "variant", "stream", "current_version", "created_at", "updated_at"),
        frozenset({"stream"}),
        frozenset({"created_at", "updated_at"}),
    ),
    _Table("map_versions", ("name", "variant", *_VERSION_FIELDS)),
    _Table(
        "records",
        ("kind", "key", "stream", "current_version", "created_at", "updated_at"),
        frozenset({"stream"}),
        frozenset({"created_at", "updated_at"}),
    ),
    _Table("record_versions", ("kind", "key", "stream", *_VERSION_FIELDS), frozenset({"stream"})),
    # Delivery records: their times are integer microseconds, as events'.
    _Table(
        "deployments",
        ("stream", "deployment_id", "environment", "finished_at", "result"),
        times=frozenset(),
        micros=frozenset({"finished_at"}),
    ),
    _Table(
        "changes",
        ("stream", "change_id", "committed_at", "deployment_id"),
        times=frozenset(),
        micros=frozenset({"committed_at"}),
    ),
    _Table(
        "incidents",
        ("stream", "incident_id", "created_at", "resolved_at", "deployment_id"),
        frozenset({"resolved_at", "deployment_id"}),
        times=frozenset(),
        micros=frozenset({"created_at", "resolved_at"}),
    ),
)
#: The delivery tables: (member table, model, its own id column), kept by stream.
_DELIVERY = (
    ("deployments", DeploymentRow, "deployment_id"),
    ("changes", ChangeRow, "change_id"),
    ("incidents", IncidentRow, "incident_id"),
)
_BY_MEMBER = {t.member: t for t in TABLES}


@dataclass(frozen=True)
class ArchiveSummary:
    """What an archive holds: its streams and the rows of each table."""

    path: Path
    streams: tuple[str, ...]
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return self.rows.get("events", 0)

    @property
    def maps(self) -> int:
        return self.rows.get("maps", 0)

    @property
    def records(self) -> int:
        return self.rows.get("records", 0)

    def describe(self) -> str:
        """One line: ``2 streams, 65,540 events, 1 map (2 versions), 24 records (30 versions)``."""
        rows = self.rows

        def count(n: int, word: str) -> str:
            return f"{n:,} {word}{'' if n == 1 else 's'}"

        return (
            f"{count(len(self.streams), 'stream')}, {count(self.events, 'event')}, "
            f"{count(self.maps, 'map')} ({count(rows.get('map_versions', 0), 'version')}), "
            f"{count(self.records, 'record')} ({count(rows.get('record_versions', 0), 'version')})"
        )


@dataclass(frozen=True)
class RestoreSummary(ArchiveSummary):
    """What a restore added; ``replaced`` names what it emptied and filled again."""

    replaced: tuple[str, ...] = ()


# -- export ---------------------------------------------------------------------------------


def export_archive(
    store: Store,
    path: str | Path,
    *,
    streams: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> ArchiveSummary:
    """Write the workspace (or only ``streams``) to the archive ``path``, replacing it.

    Everything is read in one transaction, so the archive is a consistent snapshot even while
    others write. The file appears only once complete. ``progress(events_done, events)``.
    """
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    doing = f"exporting to {target}"
    try:
        with (
            store._errors(doing),
            store.engine.connect() as connection,
            tempfile.TemporaryDirectory(prefix="obeya-export-") as scratch,
        ):
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                revision = migrate.current_revision(connection)
                if revision is None:
                    raise StoreError(f"{doing}: the store is empty (run `obeya init` first)")
                chosen = _chosen_streams(store, connection, streams)
                ids = list(chosen.values()) if streams is not None else None
                tables = _read_tables(connection, ids)
                events_file = Path(scratch) / EVENTS_MEMBER
                events = _write_events(connection, chosen, events_file, progress)
            members: dict[str, dict[str, Any]] = {}
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                for spec in TABLES:
                    data = b"".join(_jsonl(tables[spec.table]))
                    archive.writestr(spec.member, data)
                    members[spec.member] = _entry(spec.table, len(tables[spec.table]), data)
                members[EVENTS_MEMBER] = _add_file(archive, events_file, events)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "schema_revision": revision,
                    "created_at": datetime.now(UTC).isoformat(),
                    "obeya_version": _obeya_version(),
                    "scope": "workspace" if streams is None else "streams",
                    "streams": sorted(chosen),
                    "members": members,
                }
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        os.replace(partial, target)
    except OSError as error:
        raise InputError(f"cannot write the archive {target}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    rows = {entry["table"]: entry["rows"] for entry in members.values()}
    return ArchiveSummary(target, tuple(sorted(chosen)), rows)


def _chosen_streams(
    store: Store, connection: Connection, names: Sequence[str] | None
) -> dict[str, int]:
    """Stream name → id: every stream, or ``names`` (NotFoundError for one not there)."""
    if names is None:
        rows = connection.execute(select(StreamRow.name, StreamRow.id).order_by(StreamRow.name))
        return {name: stream_id for name, stream_id in rows}
    return {name: store._require_id(connection, name) for name in sorted(set(names))}


def _read_tables(connection: Connection, ids: list[int] | None) -> dict[str, list[dict[str, Any]]]:
    """Every small table's rows as archived, in a stable order; ``ids`` limits the scope."""
    stream = StreamRow.name.label("stream")
    streams = select(StreamRow.name, StreamRow.workflow_toml, StreamRow.created_at)
    imports = select(
        stream,
        ImportRow.source,
        ImportRow.sha256,
        ImportRow.events_in_file,
        ImportRow.events_added,
        ImportRow.imported_at,
        ImportRow.warnings,
    ).join(StreamRow, StreamRow.id == ImportRow.stream_id)
    maps = select(
        MapRow.name,
        MapRow.variant,
        stream,
        MapRow.current_version,
        MapRow.created_at,
        MapRow.updated_at,
    ).outerjoin(StreamRow, StreamRow.id == MapRow.stream_id)
    versions = (MapVersionRow.version, MapVersionRow.document, MapVersionRow.author)
    map_versions = select(
        MapRow.name, MapRow.variant, *versions, MapVersionRow.message, MapVersionRow.created_at
    ).join(MapRow, MapRow.id == MapVersionRow.map_id)
    records = select(
        RecordRow.kind,
        RecordRow.key,
        stream,
        RecordRow.current_version,
        RecordRow.created_at,
        RecordRow.updated_at,
    ).outerjoin(StreamRow, StreamRow.id == RecordRow.stream_id)
    record_versions = (
        select(
            RecordRow.kind,
            RecordRow.key,
            stream,
            RecordVersionRow.version,
            RecordVersionRow.document,
            RecordVersionRow.author,
            RecordVersionRow.message,
            RecordVersionRow.created_at,
        )
        .join(RecordRow, RecordRow.id == RecordVersionRow.record_id)
        .outerjoin(StreamRow, StreamRow.id == RecordRow.stream_id)
    )
    delivery = {}
    for table, model, key in _DELIVERY:
        spec = next(t for t in TABLES if t.table == table)
        columns = [getattr(model, f) for f in spec.fields if f != "stream"]
        query = select(stream, *columns).join(StreamRow, StreamRow.id == model.stream_id)
        if ids is not None:
            query = query.where(model.stream_id.in_(ids))
        delivery[table] = query.order_by(StreamRow.name, getattr(model, key))
    if ids is not None:
        streams = streams.where(StreamRow.id.in_(ids))
        imports = imports.where(ImportRow.stream_id.in_(ids))
        maps = maps.where(MapRow.stream_id.in_(ids))
        map_versions = map_versions.where(MapRow.stream_id.in_(ids))
        records = records.where(RecordRow.stream_id.in_(ids))
        record_versions = record_versions.where(RecordRow.stream_id.in_(ids))
    queries = {
        "streams": streams.order_by(StreamRow.name),
        "imports": imports.order_by(StreamRow.name, ImportRow.imported_at, ImportRow.id),
        "maps": maps.order_by(MapRow.name, MapRow.variant),
        "map_versions": map_versions.order_by(MapRow.name, MapRow.variant, MapVersionRow.version),
        "records": records.order_by(RecordRow.kind, StreamRow.name, RecordRow.key),
        "record_versions": record_versions.order_by(
            RecordRow.kind, StreamRow.name, RecordRow.key, RecordVersionRow.version
        ),
        **delivery,
    }
    tables = {}
    for spec in TABLES:
        rows = connection.execute(queries[spec.table]).all()
        tables[spec.table] = [
            {
                name: utc(value).isoformat() if isinstance(value, datetime) else value
                for name, value in zip(spec.fields, row, strict=True)
            }
            for row in rows
        ]
    return tables


def _write_events(
    connection: Connection, chosen: dict[str, int], path: Path, progress: Progress | None
) -> int:
    """Write the chosen streams' events to a Parquet file, a batch at a time; their count."""
    total = count_events(connection, list(chosen.values()))
    done = 0
    with pq.ParquetWriter(path, ARCHIVE_EVENT_SCHEMA, compression="zstd") as writer:
        for name, stream_id in sorted(chosen.items()):
            for batch in event_batches(connection, stream_id):
                names = pa.array([name] * batch.num_rows, pa.string())
                columns = [names, *batch.columns]
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=ARCHIVE_EVENT_SCHEMA))
                done += batch.num_rows
                if progress is not None:
                    progress(done, total)
    return done


def count_events(connection: Connection, ids: list[int]) -> int:
    query = select(func.count()).select_from(EventRow).where(EventRow.stream_id.in_(ids))
    return int(connection.execute(query).scalar_one()) if ids else 0


#: The events member's schema less the stream: what is read from the store.
STORED_EVENT_SCHEMA = pa.schema(list(ARCHIVE_EVENT_SCHEMA)[1:])


def event_batches(connection: Connection, stream_id: int) -> Iterator[pa.RecordBatch]:
    """The stream's events in batches of at most BATCH_ROWS, without ORM objects."""
    driver: Any = connection.connection.driver_connection
    query = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE stream_id = "
    if connection.dialect.name == "postgresql":
        yield from _copy_out_of_postgres(driver, f"{query}{int(stream_id)}")
        return
    cursor = driver.cursor()
    try:
        cursor.execute(query + "?", (stream_id,))
        while rows := cursor.fetchmany(BATCH_ROWS):
            columns = zip(*rows, strict=True)
            arrays = [
                pa.array(v, f.type) for v, f in zip(columns, STORED_EVENT_SCHEMA, strict=True)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=STORED_EVENT_SCHEMA)
    finally:
        cursor.close()


def _copy_out_of_postgres(driver: Any, query: str) -> Iterator[pa.RecordBatch]:
    # COPY is the fastest way out; spooled to a file so that memory stays bounded, then
    # parsed by Arrow in C++ a block at a time. Quoting every string tells NULL from "".
    statement = (
        f"COPY ({query}) TO STDOUT (FORMAT csv, FORCE_QUOTE ({', '.join(_STRING_EVENT_COLUMNS)}))"
    )
    with tempfile.TemporaryFile() as spool:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk in copy:
                spool.write(chunk)
        if spool.tell() == 0:
            return
        spool.seek(0)
        reader = pa_csv.open_csv(
            spool,
            read_options=pa_csv.ReadOptions(column_names=list(EVENT_COLUMNS), block_size=32 << 20),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=STORED_EVENT_SCHEMA,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            yield from (
                pa.Table.from_batches([batch])
                .cast(STORED_EVENT_SCHEMA)
                .to_batches(max_chunksize=BATCH_ROWS)
            )


def _jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


def _entry(table: str, rows: int, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    return {"table": table, "rows": rows, "bytes": len(data), "sha256": digest}


def _add_file(archive: zipfile.ZipFile, path: Path, rows: int) -> dict[str, Any]:
    """Copy a file into the archive (stored: Parquet is compressed already), hashing it."""
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(path.name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    size = 0
    with open(path, "rb") as source, archive.open(info, "w", force_zip64=True) as member:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            member.write(chunk)
            size += len(chunk)
    return {"table": "events", "rows": rows, "bytes": size, "sha256": digest.hexdigest()}


def _obeya_version() -> str:
    try:
        return metadata.version("obeya")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "unknown"


# -- restore --------------------------------------------------------------------------------


def restore_archive(
    store: Store,
    path: str | Path,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    limits: IngestLimits | None = None,
) -> RestoreSummary:
    """Add everything in the archive ``path`` to the store, all or nothing.

    Refused (InputError) for a file that is not an archive of a format and schema revision
    this Obeya reads, whose members do not match the manifest or exceed ``limits`` (default:
    the limits in force), or that holds a document the core refuses (ParseError naming the
    member, row and field); refused (StoreError) when the store has a stream, map or record
    of the archive already, unless ``replace``. ``progress(events_done, events)``.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"no archive at {source}")
    with tempfile.TemporaryDirectory(prefix="obeya-restore-") as scratch:
        contents = _open_archive(source, Path(scratch), limits or current_limits())
        manifest, tables, events_file = contents.manifest, contents.tables, contents.events_file
        doing = f"restoring {source}"
        with store._errors(doing, writing=True), store._write() as connection:
            revision = migrate.current_revision(connection)
            if revision != migrate.head_revision():
                raise StoreError(
                    f"{doing}: the store is at schema revision {revision}, not "
                    f"{migrate.head_revision()}; run `obeya init` first"
                )
            replaced = _clear_conflicts(connection, source, tables, replace=replace)
            where = f"archive {source}"
            stream_ids = _insert_tables(connection, tables, where)
            expected = manifest["members"].get(EVENTS_MEMBER, {}).get("rows", 0)
            events = _insert_events(connection, events_file, stream_ids, expected, progress, where)
            if events != expected:
                raise InputError(
                    f"archive {source}: {EVENTS_MEMBER} holds {events:,} events, the manifest "
                    f"says {expected:,}; the archive is damaged"
                )
            rows = {table: len(rows) for table, rows in tables.items()}
            rows["events"] = events
            streams = tuple(sorted(row["name"] for row in tables["streams"]))
            write_audit(
                connection,
                "archive.restore",
                source.name,
                after={"streams": list(streams), "rows": rows, "replaced": replace},
            )
    return RestoreSummary(source, streams, rows, replaced)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The archive's manifest, checked for a format this Obeya reads (InputError if not)."""
    source = Path(path)
    try:
        with zipfile.ZipFile(source) as archive:
            return _manifest(archive, source)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{source} is not an Obeya archive: {error}") from None


@dataclass
class _Contents:
    """What a restore takes from an archive: checked, and not yet in the store."""

    manifest: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    #: Per table, the line of each row in its member (for messages).
    lines: dict[str, list[int]]
    events_file: Path | None


def _open_archive(source: Path, scratch: Path, limits: IngestLimits) -> _Contents:
    """The manifest, the small tables and the events file extracted to ``scratch``: every
    member checked against the manifest and the limits while it streams, and every document
    against the core's rules, before the store is touched."""
    contents = _Contents({}, {spec.table: [] for spec in TABLES}, {}, None)
    try:
        with zipfile.ZipFile(source) as archive:
            contents.manifest = manifest = _manifest(archive, source, limits)
            for member, entry in manifest["members"].items():
                bound = _bound(archive, source, member, entry, limits)
                if member == EVENTS_MEMBER:
                    contents.events_file = scratch / EVENTS_MEMBER
                    with open(contents.events_file, "wb") as sink:
                        try:
                            digest = _copy(archive, bound, sink)
                        except TooLarge:
                            raise _too_large(source, bound) from None
                    _check(source, member, entry, digest)
                    continue
                spec = _BY_MEMBER[member]
                rows, lines, digest = _read_rows(archive, source, spec, bound, entry)
                _check(source, member, entry, digest)
                if len(rows) != entry.get("rows"):
                    raise InputError(
                        f"archive {source}: {member} has {len(rows)} rows, the manifest says "
                        f"{entry.get('rows')}; the archive is damaged"
                    )
                contents.tables[spec.table] = rows
                contents.lines[spec.table] = lines
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{source} is not an Obeya archive: {error}") from None
    _check_documents(source, contents)
    if contents.events_file is not None:
        _check_event_times(source, contents.events_file)
    return contents


def _manifest(
    archive: zipfile.ZipFile, source: Path, limits: IngestLimits | None = None
) -> dict[str, Any]:
    limits = limits or current_limits()
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise InputError(f"archive {source}: member {MANIFEST} is missing") from None
    bound = _Bound(
        info,
        limits.max_archive_table_bytes,
        f"the limit on an archive's tables ({IngestLimits.variable('max_archive_table_bytes')})",
    )
    _refuse_declared(source, bound)
    data = io.BytesIO()
    try:
        _copy(archive, bound, data)
        manifest = json.loads(data.getvalue())
    except TooLarge:
        raise _too_large(source, bound) from None
    except (ValueError, RecursionError) as error:
        raise InputError(f"archive {source}: {MANIFEST} is not JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(
            f'{source} is not an Obeya archive: {MANIFEST} does not say "format": "{FORMAT}"'
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"archive {source} is in format version {version!r}; this Obeya reads version "
            f"{FORMAT_VERSION} (an archive from a newer Obeya needs that version to restore)"
        )
    revision = manifest.get("schema_revision")
    known = known_revisions()
    if revision not in known:
        raise InputError(
            f"archive {source} was written at schema revision {revision!r}, which this Obeya "
            f"does not know (it knows {', '.join(known)}): it comes from a newer Obeya; "
            "upgrade Obeya to restore it"
        )
    members = manifest.get("members")
    if not isinstance(members, dict):
        raise InputError(f"archive {source}: {MANIFEST} lists no members")
    for member, entry in members.items():
        if member != EVENTS_MEMBER and member not in _BY_MEMBER:
            raise InputError(
                f"archive {source}: unknown member {member!r} in {MANIFEST}; format "
                f"{FORMAT_VERSION} has {', '.join([*_BY_MEMBER, EVENTS_MEMBER])}"
            )
        for name in ("rows", "bytes"):
            value = entry.get(name) if isinstance(entry, dict) else None
            if (value is not None or name == "rows") and not _count(value):
                raise InputError(
                    f"archive {source}: {MANIFEST} gives member {member} {name} {value!r}, "
                    "not a whole number; the archive is damaged"
                )
    return manifest


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def known_revisions() -> list[str]:
    """The schema revisions this Obeya ships, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@dataclass(frozen=True)
class _Bound:
    """A member and the most bytes it may inflate to, with why (for the message)."""

    info: zipfile.ZipInfo
    limit: int
    why: str


def _bound(
    archive: zipfile.ZipFile, source: Path, member: str, entry: dict[str, Any], limits: IngestLimits
) -> _Bound:
    """How many bytes ``member`` may hold: its table's limit, or for the events, what a stored
    (not deflated) member occupies in the archive, else the decompression limit; and no more
    than the manifest says. Refused at once when the zip declares more."""
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise InputError(f"archive {source}: member {member} is missing") from None
    if member != EVENTS_MEMBER:
        variable = IngestLimits.variable("max_archive_table_bytes")
        bound = _Bound(info, limits.max_archive_table_bytes, f"the limit on a table ({variable})")
    elif info.compress_type == zipfile.ZIP_STORED:
        bound = _Bound(info, info.compress_size, "what it occupies in the archive (stored)")
    else:
        variable = IngestLimits.variable("max_decompressed_bytes")
        bound = _Bound(
            info, limits.max_decompressed_bytes, f"the limit on decompressed content ({variable})"
        )
    declared = entry.get("bytes")
    if declared is not None:
        if declared != info.file_size:  # other bytes than the manifest's sha256 was of
            raise InputError(
                f"archive {source}: member {member} does not match its sha256 in {MANIFEST}: "
                f"it is {info.file_size:,} bytes, the manifest says {declared:,}; the archive "
                "is damaged or was changed"
            )
        if declared < bound.limit:
            bound = _Bound(info, declared, f"its size in {MANIFEST}")
    _refuse_declared(source, bound)
    return bound


def _refuse_declared(source: Path, bound: _Bound) -> None:
    if bound.info.file_size > bound.limit:
        raise InputError(
            f"archive {source}: member {bound.info.filename} is {bound.info.file_size:,} bytes "
            f"uncompressed, more than {bound.why}, {describe_bytes(bound.limit)}; nothing was "
            "extracted"
        )


def _too_large(source: Path, bound: _Bound) -> InputError:
    return InputError(
        f"archive {source}: member {bound.info.filename} inflates to more than {bound.why}, "
        f"{describe_bytes(bound.limit)} (more than the zip declares: the archive is damaged or "
        "was made to be); nothing was restored"
    )


class _Meter(io.RawIOBase):
    """A raw reader that hashes what it passes on and stops past ``limit`` bytes: the sizes a
    zip declares are never trusted alone."""

    def __init__(self, inner: IO[bytes], limit: int, digest: Any) -> None:
        super().__init__()
        self._reader = BoundedReader(inner, limit)
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._reader.readinto(buffer)
        self._digest.update(memoryview(buffer)[:count])
        return count


def _copy(archive: zipfile.ZipFile, bound: _Bound, sink: IO[bytes]) -> str:
    """Copy the member into ``sink``, at most its bound (TooLarge past it); its sha256."""
    digest = hashlib.sha256()
    with archive.open(bound.info) as data:
        meter = _Meter(data, bound.limit, digest)
        while chunk := meter.read(1 << 20):
            sink.write(chunk)
    return digest.hexdigest()


def _check(source: Path, member: str, entry: Any, digest: str) -> None:
    if not isinstance(entry, dict) or entry.get("sha256") != digest:
        raise InputError(
            f"archive {source}: member {member} does not match its sha256 in {MANIFEST}; "
            "the archive is damaged or was changed"
        )


def _read_rows(
    archive: zipfile.ZipFile, source: Path, spec: _Table, bound: _Bound, entry: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[int], str]:
    """The member's rows (each checked), their lines and the member's sha256: read a line at
    a time, never more than the bound nor more rows than the manifest says."""
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    digest = hashlib.sha256()
    expected = entry["rows"]
    try:
        with archive.open(bound.info) as data:
            stream = io.BufferedReader(_Meter(data, bound.limit, digest), 1 << 20)
            for number, line in enumerate(stream, start=1):
                row = _parse_row(source, spec, number, line)
                if row is None:
                    continue
                if len(rows) == expected:
                    raise InputError(
                        f"archive {source}: {spec.member} has more rows than the {expected:,} "
                        "the manifest says; the archive is damaged"
                    )
                rows.append(row)
                lines.append(number)
    except TooLarge:
        raise _too_large(source, bound) from None
    return rows, lines, digest.hexdigest()


#: Fields that hold whole numbers; every other field but the times holds text.
_WHOLE_NUMBERS = frozenset({"events_in_file", "events_added", "current_version", "version"})


def _bad_row(source: Path, member: str, row: int, field: str | None, why: str) -> ParseError:
    return ParseError(why, file=f"archive {source}, member {member}", row=row, field=field)


def _parse_row(source: Path, spec: _Table, number: int, line: bytes) -> dict[str, Any] | None:
    """The row of one line (None for a blank line), its fields checked for kind."""
    member = spec.member
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _bad_row(source, member, number, None, f"not UTF-8 ({error})") from None
    if not text.strip():
        return None
    try:
        row = json.loads(text)
    except RecursionError:
        raise _bad_row(source, member, number, None, "not JSON (nested too deeply)") from None
    except ValueError as error:
        raise _bad_row(source, member, number, None, f"not JSON ({error})") from None
    if not isinstance(row, dict):
        raise _bad_row(source, member, number, None, "not a JSON object")
    if unknown := sorted(set(row) - set(spec.fields)):
        raise _bad_row(source, member, number, unknown[0], "unknown field")
    for name in spec.fields:
        value = row.setdefault(name, None)
        if value is None:
            if name not in spec.nullable:
                raise _bad_row(source, member, number, name, "the field is missing")
        elif name in spec.times:
            row[name] = _time(value, _bad_row(source, member, number, name, ""))
        elif name in spec.micros:
            if not (_count(value) and EARLIEST_MICROS <= value <= LATEST_MICROS):
                raise _bad_row(
                    source, member, number, name, f"{value!r} is no time {SUPPORTED_SPAN}"
                )
        elif name in _WHOLE_NUMBERS:
            if not _count(value):
                raise _bad_row(source, member, number, name, f"{value!r} is not a whole number")
        elif not isinstance(value, str):
            raise _bad_row(source, member, number, name, f"{value!r} is not text")
    return row


def _time(value: Any, where: ParseError) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ParseError(
            f"{value!r} is not an ISO 8601 time",
            file=where.file,
            row=where.row,
            field=where.field,
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


#: What a core check may raise on a hostile document besides its own InputError.
_DOCUMENT_ERRORS = (InputError, ValueError, TypeError, KeyError, AttributeError, RecursionError)


def _check_documents(source: Path, contents: _Contents) -> None:
    """Parse every workflow, map and record of the archive as a save would, so that what is
    restored is what the store could have written; the first that fails refuses the whole
    restore, naming its member, row and field."""
    tables, lines = contents.tables, contents.lines

    def each(table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        yield from zip(lines.get(table, []), tables[table], strict=True)

    for line, row in each("streams"):
        if row["workflow_toml"] is not None:
            label = f"workflow of value stream {row['name']!r}"
            try:
                Workflow.from_toml_text(row["workflow_toml"], label)
            except _DOCUMENT_ERRORS as error:
                raise _bad_row(source, "streams.jsonl", line, "workflow_toml", str(error)) from None
    for line, row in each("imports"):
        if row["warnings"] is not None:
            try:
                [LogWarning.from_dict(w) for w in _document(row["warnings"], "import warnings")]
            except _DOCUMENT_ERRORS as error:
                raise _bad_row(source, "imports.jsonl", line, "warnings", str(error)) from None
    for line, row in each("map_versions"):
        label = f"map {row['name']!r}/{row['variant']!r} version {row['version']}"
        try:
            map_from_dict(_document(row["document"], label), label)
        except _DOCUMENT_ERRORS as error:
            raise _bad_row(source, "map_versions.jsonl", line, "document", str(error)) from None
    for line, row in each("records"):
        _record_kind(source, "records.jsonl", line, row)
        if kinds.kind(row["kind"]).per_stream and row["stream"] is None:
            why = f"a {row['kind']} belongs to a value stream; give its stream"
            raise _bad_row(source, "records.jsonl", line, "stream", why)
    for line, row in each("record_versions"):
        spec = _record_kind(source, "record_versions.jsonl", line, row)
        label = f"{row['kind']} {row['key']!r} version {row['version']}"
        try:
            record = spec.parse(_document(row["document"], label), label)
        except _DOCUMENT_ERRORS as error:
            raise _bad_row(source, "record_versions.jsonl", line, "document", str(error)) from None
        if record.key != row["key"]:
            why = f"{label}: the document's key is {record.key!r}"
            raise _bad_row(source, "record_versions.jsonl", line, "document", why)
    _record_streams(tables)
    for what, identity in (("map", ("name", "variant")), ("record", _RECORD_IDENTITY)):
        versions = {(*(r[f] for f in identity), r["version"]) for r in tables[f"{what}_versions"]}
        for line, row in each(f"{what}s"):
            if (*(row[f] for f in identity), row["current_version"]) not in versions:
                why = f"version {row['current_version']} is not in {what}_versions.jsonl"
                raise _bad_row(source, f"{what}s.jsonl", line, "current_version", why)


#: What names a record in an archive: keys are unique per kind in a stream.
_RECORD_IDENTITY = ("kind", "stream", "key")


def _record_streams(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Give each record version without a stream (an archive written before versions carried
    it, when a key was unique by kind alone) the stream of the one record of its kind and
    key."""
    streams: dict[tuple[str, str], set[str | None]] = {}
    for row in tables["records"]:
        streams.setdefault((row["kind"], row["key"]), set()).add(row["stream"])
    for row in tables["record_versions"]:
        found = streams.get((row["kind"], row["key"]), set())
        if row["stream"] is None and None not in found and len(found) == 1:
            row["stream"] = next(iter(found))


def _document(text: str, label: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{label}: the document is nested too deeply to be read") from None
    except ValueError as error:
        raise InputError(f"{label}: the document is not JSON ({error})") from None


def _record_kind(source: Path, member: str, line: int, row: dict[str, Any]) -> kinds.Kind:
    try:
        return kinds.kind(row["kind"])
    except InputError as error:
        raise _bad_row(source, member, line, "kind", str(error)) from None


def _check_event_times(source: Path, path: Path) -> None:
    """Refuse an event time or creation time outside the supported span, as an import would:
    a page laying out years 0001–9999 fails or stalls."""
    where = f"archive {source}"
    try:
        parquet = pq.ParquetFile(path)
    except pa.ArrowException as error:
        raise InputError(f"{where}: {EVENTS_MEMBER} is not Parquet ({error})") from None
    columns = [name for name in ("t", "created") if name in parquet.schema_arrow.names]
    done = 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        for name in columns:
            try:
                values = batch.column(name).cast(pa.int64())
            except pa.ArrowException as error:
                why = f"not whole microseconds ({error})"
                raise _bad_row(source, EVENTS_MEMBER, done + 1, name, why) from None
            index = first_true(unsupported_times(values))
            if index is not None:
                moment = values[index].as_py()
                why = (
                    f"{moment} (microseconds since 1970-01-01) is outside the supported range, "
                    f"{SUPPORTED_SPAN}"
                )
                raise _bad_row(source, EVENTS_MEMBER, done + index + 1, name, why)
        done += batch.num_rows


def _clear_conflicts(
    connection: Connection,
    source: Path,
    tables: dict[str, list[dict[str, Any]]],
    *,
    replace: bool,
) -> tuple[str, ...]:
    """Refuse what the store has already, or (``replace``) delete it; what was replaced."""
    names = [row["name"] for row in tables["streams"]]
    streams = connection.execute(
        select(StreamRow.name, StreamRow.id).where(StreamRow.name.in_(names))
    ).all()
    maps = _existing(
        connection, MapRow, MapRow.name, MapRow.variant, tables["maps"], ("name", "variant")
    )
    records = _existing_records(connection, tables["records"])
    labels = [f"stream {name!r}" for name, _ in sorted(streams)]
    labels += [f"map {n!r}/{v!r}" for n, v, _ in maps]
    labels += [
        f"{k} {key!r}" + (f" of stream {s!r}" if s is not None else "") for k, s, key, _ in records
    ]
    if labels and not replace:
        raise StoreError(
            f"restoring {source}: the store has {', '.join(labels)} already; nothing was "
            "changed. Restore into another store, delete them first, or replace them "
            "({opt:replace})"
        )
    for _, stream_id in streams:
        # The stream row stays, so that what else is linked to it stays linked.
        for table in (EventRow, ImportRow, DeploymentRow, ChangeRow, IncidentRow):
            connection.execute(delete(table).where(table.stream_id == stream_id))
    for _, _, map_id in maps:
        connection.execute(delete(MapVersionRow).where(MapVersionRow.map_id == map_id))
        connection.execute(delete(MapRow).where(MapRow.id == map_id))
    for *_, record_id in records:
        connection.execute(delete(RecordVersionRow).where(RecordVersionRow.record_id == record_id))
        connection.execute(delete(RecordRow).where(RecordRow.id == record_id))
    return tuple(labels)


def _existing(
    connection: Connection,
    model: Any,
    first: Any,
    second: Any,
    rows: list[dict[str, Any]],
    fields: tuple[str, str],
) -> list[tuple[str, str, int]]:
    """Which of ``rows`` (by their two identifying fields) the store has: (both, id), sorted."""
    wanted = {(row[fields[0]], row[fields[1]]) for row in rows}
    if not wanted:
        return []
    found = connection.execute(
        select(first, second, model.id).where(first.in_(sorted({a for a, _ in wanted})))
    ).all()
    return sorted((a, b, int(i)) for a, b, i in found if (a, b) in wanted)


def _existing_records(
    connection: Connection, rows: list[dict[str, Any]]
) -> list[tuple[str, str | None, str, int]]:
    """Which of the archive's records the store has: (kind, stream, key, id), sorted."""
    wanted = {(row["kind"], row["stream"], row["key"]) for row in rows}
    if not wanted:
        return []
    found = connection.execute(
        select(RecordRow.kind, StreamRow.name, RecordRow.key, RecordRow.id)
        .outerjoin(StreamRow, StreamRow.id == RecordRow.stream_id)
        .where(RecordRow.kind.in_(sorted({k for k, _, _ in wanted})))
    ).all()
    return sorted(
        ((k, s, key, int(i)) for k, s, key, i in found if (k, s, key) in wanted),
        key=lambda r: (r[0], r[1] or "", r[2]),
    )


def _insert_tables(
    connection: Connection, tables: dict[str, list[dict[str, Any]]], where: str
) -> dict[str, int]:
    """Insert the small tables; every stream name the archive uses → its id in the store."""
    stream_ids: dict[str, int] = {}
    for row in tables["streams"]:
        existing = connection.execute(
            select(StreamRow.id).where(StreamRow.name == row["name"])
        ).scalar_one_or_none()
        values = {"workflow_toml": row["workflow_toml"], "created_at": row["created_at"]}
        if existing is not None:  # replaced: emptied by _clear_conflicts
            connection.execute(update(StreamRow).where(StreamRow.id == existing).values(values))
            stream_ids[row["name"]] = existing
        else:
            stream_ids[row["name"]] = connection.execute(
                insert(StreamRow).values(name=row["name"], **values).returning(StreamRow.id)
            ).scalar_one()

    def stream_id(name: str | None) -> int | None:
        if name is None:
            return None
        if name not in stream_ids:
            found = connection.execute(
                select(StreamRow.id).where(StreamRow.name == name)
            ).scalar_one_or_none()
            if found is None:
                raise InputError(f"{where}: it refers to value stream {name!r} but lacks it")
            stream_ids[name] = found
        return stream_ids[name]

    imports = [
        {**{k: v for k, v in row.items() if k != "stream"}, "stream_id": stream_id(row["stream"])}
        for row in tables["imports"]
    ]
    if imports:
        connection.execute(insert(ImportRow), imports)
    for table, model, _ in _DELIVERY:
        rows = [
            {
                **{k: v for k, v in row.items() if k != "stream"},
                "stream_id": stream_id(row["stream"]),
            }
            for row in tables[table]
        ]
        if rows:
            connection.execute(insert(model), rows)
    _insert_versioned(connection, MapRow, MapVersionRow, "map", tables, stream_id, where)
    _insert_versioned(connection, RecordRow, RecordVersionRow, "record", tables, stream_id, where)
    return stream_ids


def _insert_versioned(
    connection: Connection,
    model: Any,
    versions_model: Any,
    what: str,
    tables: dict[str, list[dict[str, Any]]],
    stream_id: Callable[[str | None], int | None],
    where: str,
) -> None:
    """Insert the maps or the records (``what``), then their versions, matched to them by
    their two identifying fields."""
    identity = ("name", "variant") if what == "map" else _RECORD_IDENTITY
    ids = {}
    for row in tables[f"{what}s"]:
        values = {k: v for k, v in row.items() if k != "stream"}
        ids[tuple(row[f] for f in identity)] = connection.execute(
            insert(model).values(**values, stream_id=stream_id(row["stream"])).returning(model.id)
        ).scalar_one()
    versions = []
    for row in tables[f"{what}_versions"]:
        key = tuple(row[f] for f in identity)
        if key not in ids:
            raise InputError(f"{where}: it has versions of {what} {key!r} but not the {what}")
        values = {k: v for k, v in row.items() if k not in identity}
        versions.append({**values, f"{what}_id": ids[key]})
    if versions:
        connection.execute(insert(versions_model), versions)


def _insert_events(
    connection: Connection,
    path: Path | None,
    stream_ids: dict[str, int],
    expected: int,
    progress: Progress | None,
    where: str,
) -> int:
    """Bulk-insert the archived events, a batch at a time; how many there were."""
    if path is None:
        return 0
    try:
        parquet = pq.ParquetFile(path)
    except pa.ArrowException as error:
        raise InputError(f"{where}: {EVENTS_MEMBER} is not Parquet ({error})") from None
    missing = set(ARCHIVE_EVENT_SCHEMA.names) - set(parquet.schema_arrow.names)
    if missing:
        raise InputError(f"{where}: its events lack {', '.join(sorted(missing))}")
    names = pa.array(list(stream_ids), pa.string())
    ids = pa.array(list(stream_ids.values()), pa.int64())
    insert_batch = (
        _copy_into_postgres if connection.dialect.name == "postgresql" else _insert_sqlite
    )
    cursor_owner: Any = connection.connection.driver_connection
    done = 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=ARCHIVE_EVENT_SCHEMA.names):
        table = pa.Table.from_batches([batch]).cast(ARCHIVE_EVENT_SCHEMA)
        positions = pc.index_in(table.column("stream"), value_set=names)
        if positions.null_count:
            unknown = pc.filter(table.column("stream"), pc.is_null(positions))[0].as_py()
            raise InputError(f"{where}: it has events of stream {unknown!r} but not the stream")
        columns = [ids.take(positions), *(table.column(c) for c in EVENT_COLUMNS)]
        insert_batch(cursor_owner, pa.Table.from_arrays(columns, names=_INSERTED))
        done += table.num_rows
        if progress is not None:
            progress(done, expected)
    return done


_INSERTED = ["stream_id", *EVENT_COLUMNS]


def _insert_sqlite(driver: Any, table: pa.Table) -> None:
    statement = (
        f"INSERT INTO events ({', '.join(_INSERTED)}) VALUES ({', '.join('?' for _ in _INSERTED)})"
    )
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, zip(*(c.to_pylist() for c in table.columns), strict=True))
    finally:
        cursor.close()


def _copy_into_postgres(driver: Any, table: pa.Table) -> None:
    # As in staging: every non-null value quoted, so an unquoted empty field reads as NULL.
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, options)
    statement = f"COPY events ({', '.join(_INSERTED)}) FROM STDIN (FORMAT csv)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(memoryview(sink.getvalue()))


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ArchiveSummary",
    "RestoreSummary",
    "export_archive",
    "read_manifest",
    "restore_archive",
]
